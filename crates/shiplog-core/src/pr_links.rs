//! Pull requests linked to the changes they shipped: where a change's lead time starts, the four
//! stages of a pull request's way to production, and reverts and hotfixes told by pull-request data.
//!
//! Git alone loses the start of a change when a pull request is squashed or rebased: the commit on
//! the main branch is new, and a squash commit's author time is the time of the merge. Pull-request
//! records (imported from GitHub or GitLab) keep what git lost, so when they are present:
//!
//! - **Links.** A merged pull request owns its merge commit (`merge_commit_sha`: the merge commit,
//!   the squash commit, or the last rebased commit), every commit of its commit list that the
//!   history contains (the branch commits of a merge-commit merge), and the rebased copies of its
//!   commits that the git reader matched (same author, author time and message, in order along the
//!   first-parent chain ending at the merge commit). A commit claimed by two pull requests (stacked
//!   branches) belongs to the one merged first.
//! - **Lead time start.** With `--lead-time-start author` (the default), every change a pull request
//!   owns starts at the pull request's first commit: the earliest of its recorded first-commit time
//!   and the author times of its commits the history holds. So the same work has the same lead time
//!   whether it was merged with a merge commit, squashed or rebased. Changes without a pull request
//!   start at their author time as before; `--lead-time-start committer` ignores pull requests.
//! - **Stages.** For a pull request first shipped by a deployment finishing at `D`:
//!   *coding* = first commit → ready for review (its opening, or the end of its draft), *pickup* =
//!   ready for review → first review by someone other than its author, *review* = first review →
//!   merge, *deploy* = merge → `D`. Without a review, pickup and review do not exist. Stages that
//!   come out negative (inconsistent records) are left out and counted.
//! - **Reverts.** A merged pull request whose title is `Revert "..."` (GitHub's revert button writes
//!   `Revert "<title>"` with the body `Reverts owner/repo#N`), or whose head branch matches a revert
//!   pattern (the button's branch is `revert-N-<branch>`), reverts pull request `N` of the same
//!   repository: the number comes from the branch name, else the pull request merged earlier whose
//!   title is the one inside the quotes (records do not keep bodies).
//! - **Squashes without pull-request data.** When no record owns a squash commit but the git reader
//!   matched it to a branch the repository still has (same patch; see `shiplog_git::squash`), its
//!   lead time starts at that branch's first commit (rule `squashed-branch-first-commit`).
//! - **Hotfixes.** A pull request with a hotfix label or head branch (decided by the configuration)
//!   makes the deployment that shipped it unplanned.
//!
//! Worked example (the `merge-styles` fixture): pull request #2's commits were authored Feb 2 09:00
//! and 11:00, it was opened at 12:00, first reviewed at 14:00, squash-merged Feb 3 10:00 and
//! deployed at 12:00. Its squash commit's author time is the merge time, so git alone gives a lead
//! time of 2 h; with the pull request linked it starts at Feb 2 09:00: 27 h, made of coding 3 h,
//! pickup 2 h, review 20 h and deploy 2 h.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::graph::{CommitGraph, CommitIdx};
use crate::metrics::LeadTimeStart;
use crate::names::Sha;
use crate::pull_request::PullRequest;

/// What shiplog needs of one pull request, built at the edge from the stored record and the
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrFacts {
    /// Its id, e.g. `github:acme/api#12`; unique among the pull requests given.
    pub key: String,
    /// The repository it belongs to (pull-request numbers are per repository).
    pub repository: String,
    /// Its number.
    pub number: Option<u64>,
    /// Its title.
    pub title: Option<String>,
    /// Its head (source) branch.
    pub head_branch: Option<String>,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// When it was marked ready for review, if it was opened as a draft.
    pub ready_at: Option<Timestamp>,
    /// The first review by someone other than its author.
    pub first_review_at: Option<Timestamp>,
    /// When it was merged; `None` while open or when closed unmerged.
    pub merged_at: Option<Timestamp>,
    /// The commit its merge put on the base branch (merge, squash or last rebased commit).
    pub merge_commit: Option<Sha>,
    /// Its commits, oldest first.
    pub commits: Vec<Sha>,
    /// The author time of its first commit, as recorded.
    pub first_commit_at: Option<Timestamp>,
    /// It carries a hotfix label or comes from a hotfix branch.
    pub hotfix: bool,
    /// Its head branch matches a revert-branch pattern.
    pub revert_branch: bool,
}

impl PrFacts {
    /// The facts of a stored record. `hotfix` and `revert_branch` are the configuration's verdicts
    /// on its labels and head branch.
    pub fn from_record(pr: &PullRequest, hotfix: bool, revert_branch: bool) -> Self {
        Self {
            key: pr.id.to_string(),
            repository: pr.repository.to_string(),
            number: pr.number,
            title: pr.title.clone(),
            head_branch: pr.head_branch.clone(),
            opened_at: pr.opened_at,
            ready_at: pr.ready_for_review_at,
            first_review_at: pr.first_review_at,
            merged_at: pr.merged_at,
            merge_commit: pr.merge_commit,
            commits: pr.commits.clone(),
            first_commit_at: pr.first_commit_at,
            hotfix,
            revert_branch,
        }
    }
}

/// A pull request with what linking found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedPr {
    /// The record.
    pub facts: PrFacts,
    /// Its merge commit in the history.
    pub merge_commit: Option<CommitIdx>,
    /// Its first commit's author time: the earliest of the record's and its commits' in the history.
    pub first_commit_seconds: Option<i64>,
    /// The pull request it reverts (an index into [`PrLinks::get`]).
    pub reverts: Option<usize>,
}

/// A history commit that is the squash of a branch the repository still has, found without
/// pull-request data by comparing patches (the git reader's `squash` module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquashedBranch {
    /// The squash commit.
    pub commit: CommitIdx,
    /// The branch's short name (`feature-x`, `origin/feature-x`, `refs/pull/12/head`).
    pub branch: String,
    /// The earliest author time among the branch's commits, in seconds.
    pub first_commit_seconds: i64,
}

/// Pull requests and the commits each owns, and squash commits matched to their branches. Empty
/// when neither was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrLinks {
    prs: Vec<LinkedPr>,
    by_commit: HashMap<CommitIdx, u32>,
    squashed: HashMap<CommitIdx, SquashedBranch>,
}

/// Where a change's lead time started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartRule {
    /// The commit's author time.
    Author,
    /// The commit's committer time.
    Committer,
    /// The first commit of its pull request.
    PullRequestFirstCommit,
    /// The first commit of the branch it squashes (matched by patch, without pull-request data).
    SquashedBranchFirstCommit,
}

/// The number of the pull request a revert pull request names: `revert-N-...` in a revert branch's
/// name.
pub fn reverted_number(head_branch: Option<&str>, revert_branch: bool) -> Option<u64> {
    let branch = head_branch.filter(|_| revert_branch)?;
    let after = branch.strip_prefix("revert-")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    after[digits.len()..]
        .starts_with('-')
        .then(|| digits.parse().ok())
        .flatten()
}

/// The title inside `Revert "..."`.
fn reverted_title(title: &str) -> Option<&str> {
    title.strip_prefix("Revert \"")?.strip_suffix('"')
}

impl PrLinks {
    /// Links `prs` to the commits of `graph`. `rebased` holds (index into `prs`, commit) pairs: the
    /// rebased copies of a pull request's commits that the git reader matched.
    pub fn build(graph: &CommitGraph, prs: Vec<PrFacts>, rebased: &[(usize, CommitIdx)]) -> Self {
        let mut linked: Vec<LinkedPr> = prs
            .into_iter()
            .map(|facts| LinkedPr {
                merge_commit: facts
                    .merged_at
                    .and(facts.merge_commit)
                    .and_then(|sha| graph.find(&sha)),
                first_commit_seconds: facts.first_commit_at.map(Timestamp::as_second),
                reverts: None,
                facts,
            })
            .collect();
        // Merged first wins a commit claimed twice.
        let mut order: Vec<usize> = (0..linked.len())
            .filter(|&i| linked[i].merge_commit.is_some())
            .collect();
        order.sort_by_key(|&i| (linked[i].facts.merged_at, i));
        let mut by_commit: HashMap<CommitIdx, u32> = HashMap::new();
        let mut rebased_of: HashMap<usize, Vec<CommitIdx>> = HashMap::new();
        for &(pr, commit) in rebased {
            rebased_of.entry(pr).or_default().push(commit);
        }
        for &i in &order {
            let mut owned: Vec<CommitIdx> = linked[i].merge_commit.into_iter().collect();
            owned.extend(linked[i].facts.commits.iter().filter_map(|s| graph.find(s)));
            owned.extend(rebased_of.get(&i).into_iter().flatten().copied());
            let mut first = linked[i].first_commit_seconds;
            for &c in &owned {
                let claimed = *by_commit.entry(c).or_insert(i as u32);
                // The merge commit's own author time is the merge: it does not start the work.
                if claimed == i as u32 && Some(c) != linked[i].merge_commit {
                    let t = graph.author_time(c);
                    if t != i64::MIN {
                        first = Some(first.map_or(t, |f| f.min(t)));
                    }
                }
            }
            linked[i].first_commit_seconds = first;
        }
        // Reverts, among merged pull requests of the same repository.
        let mut by_number: HashMap<(&str, u64), usize> = HashMap::new();
        let mut by_title: HashMap<(&str, &str), usize> = HashMap::new();
        for &i in &order {
            let f = &linked[i].facts;
            if let Some(n) = f.number {
                by_number.insert((f.repository.as_str(), n), i);
            }
            if let Some(title) = &f.title {
                by_title
                    .entry((f.repository.as_str(), title.as_str()))
                    .or_insert(i);
            }
        }
        let mut reverts = vec![None; linked.len()];
        for &i in &order {
            let f = &linked[i].facts;
            let title = f.title.as_deref().and_then(reverted_title);
            if !(f.revert_branch || title.is_some()) {
                continue;
            }
            let repo = f.repository.as_str();
            let target = reverted_number(f.head_branch.as_deref(), f.revert_branch)
                .and_then(|n| by_number.get(&(repo, n)).copied())
                .or_else(|| title.and_then(|t| by_title.get(&(repo, t)).copied()));
            // Only an earlier merge can be reverted.
            reverts[i] = target.filter(|&t| t != i && linked[t].facts.merged_at <= f.merged_at);
        }
        for (pr, target) in linked.iter_mut().zip(reverts) {
            pr.reverts = target;
        }
        Self {
            prs: linked,
            by_commit,
            squashed: HashMap::new(),
        }
    }

    /// Adds squash commits matched to their branches. A commit a pull request owns keeps its pull
    /// request (the record knows more than the match).
    pub fn with_squashed_branches(mut self, squashed: Vec<SquashedBranch>) -> Self {
        for s in squashed {
            if !self.by_commit.contains_key(&s.commit) {
                self.squashed.insert(s.commit, s);
            }
        }
        self
    }

    /// The branch `commit` squashes, when one was matched.
    pub fn squashed_branch(&self, commit: CommitIdx) -> Option<&SquashedBranch> {
        self.squashed.get(&commit)
    }

    /// How many squash commits were matched to their branches.
    pub fn squashed_count(&self) -> usize {
        self.squashed.len()
    }

    /// Whether no pull request was given.
    pub fn is_empty(&self) -> bool {
        self.prs.is_empty()
    }

    /// Every pull request, in the order given.
    pub fn all(&self) -> &[LinkedPr] {
        &self.prs
    }

    /// Pull request `index`.
    pub fn get(&self, index: usize) -> &LinkedPr {
        &self.prs[index]
    }

    /// The pull request that owns `commit`.
    pub fn of_commit(&self, commit: CommitIdx) -> Option<usize> {
        self.by_commit.get(&commit).map(|&i| i as usize)
    }

    /// Where the lead time of `commit` starts, in seconds, and by which rule.
    pub fn start(
        &self,
        graph: &CommitGraph,
        commit: CommitIdx,
        start: LeadTimeStart,
    ) -> (i64, StartRule) {
        match start {
            LeadTimeStart::Committer => (graph.committer_time(commit), StartRule::Committer),
            // Without pull-request or squash data (the common case, on the path of every change),
            // no lookup is needed.
            LeadTimeStart::Author if self.prs.is_empty() && self.squashed.is_empty() => {
                (graph.author_time(commit), StartRule::Author)
            }
            LeadTimeStart::Author => {
                if let Some(first) = self
                    .of_commit(commit)
                    .and_then(|p| self.prs[p].first_commit_seconds)
                {
                    (first, StartRule::PullRequestFirstCommit)
                } else if let Some(squashed) = self.squashed.get(&commit) {
                    // Never later than the squash commit's own author time.
                    let own = graph.author_time(commit);
                    let first = if own == i64::MIN {
                        squashed.first_commit_seconds
                    } else {
                        squashed.first_commit_seconds.min(own)
                    };
                    (first, StartRule::SquashedBranchFirstCommit)
                } else {
                    (graph.author_time(commit), StartRule::Author)
                }
            }
        }
    }
}

/// The four stages of one pull request, in seconds; `None` where a stage does not exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimes {
    /// First commit → ready for review.
    pub coding_seconds: Option<f64>,
    /// Ready for review → first review.
    pub pickup_seconds: Option<f64>,
    /// First review → merged.
    pub review_seconds: Option<f64>,
    /// Merged → deployed.
    pub deploy_seconds: Option<f64>,
}

fn between(from: Option<i64>, to: Option<i64>) -> Option<f64> {
    Some((to? - from?) as f64)
}

/// The stages of `pr` shipped by a deployment that finished at `deployed_at`. Negative values are
/// kept here (callers exclude and count them).
pub fn stage_times(pr: &LinkedPr, deployed_at: Timestamp) -> StageTimes {
    let f = &pr.facts;
    let ready = Some(f.ready_at.unwrap_or(f.opened_at).as_second());
    let review = f.first_review_at.map(Timestamp::as_second);
    let merged = f.merged_at.map(Timestamp::as_second);
    StageTimes {
        coding_seconds: between(pr.first_commit_seconds, ready),
        pickup_seconds: between(ready, review),
        review_seconds: between(review, merged),
        deploy_seconds: between(merged, Some(deployed_at.as_second())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NewCommit;

    const H: i64 = 3600;
    const T0: i64 = 1_769_990_400; // 2026-02-02T00:00:00Z

    fn sha(n: u8) -> Sha {
        Sha::from_bytes([n; 20])
    }

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_second(T0 + hours * H).unwrap()
    }

    pub(crate) fn pr(number: u64, merge: u8, merged_hours: i64) -> PrFacts {
        PrFacts {
            key: format!("github:acme/app#{number}"),
            repository: "acme/app".to_owned(),
            number: Some(number),
            title: Some(format!("pr {number}")),
            head_branch: Some(format!("feature-{number}")),
            opened_at: at(12),
            ready_at: None,
            first_review_at: Some(at(14)),
            merged_at: Some(at(merged_hours)),
            merge_commit: Some(sha(merge)),
            commits: vec![],
            first_commit_at: Some(at(9)),
            hotfix: false,
            revert_branch: false,
        }
    }

    /// 0 ← 1 ← 2 (merge of 1 and 3) ← 4 ; 3 on a branch from 0.
    fn graph() -> CommitGraph {
        let mut g = CommitGraph::new();
        for (n, parents, author) in [
            (0u8, vec![], 0i64),
            (1, vec![0], 5),
            (3, vec![0], 10),
            (2, vec![1, 2], 30),
            (4, vec![3], 31),
        ] {
            g.push(NewCommit {
                sha: sha(n),
                parents: &parents,
                author_time: T0 + author * H,
                committer_time: T0 + author * H,
                reverts: &[],
                shallow: false,
            })
            .unwrap();
        }
        g.close_run();
        g
    }

    #[test]
    fn module_doc_squash_example() {
        let g = graph();
        // #2 squash-merged as commit 4 (author time = merge time, Feb 3 07:00 here).
        let links = PrLinks::build(&g, vec![pr(2, 4, 34)], &[]);
        let c = g.find(&sha(4)).unwrap();
        assert_eq!(links.of_commit(c), Some(0));
        assert_eq!(
            links.start(&g, c, LeadTimeStart::Author),
            (T0 + 9 * H, StartRule::PullRequestFirstCommit)
        );
        assert_eq!(
            links.start(&g, c, LeadTimeStart::Committer).1,
            StartRule::Committer
        );
        let s = stage_times(links.get(0), at(36));
        assert_eq!(s.coding_seconds, Some(3.0 * H as f64));
        assert_eq!(s.pickup_seconds, Some(2.0 * H as f64));
        assert_eq!(s.review_seconds, Some(20.0 * H as f64));
        assert_eq!(s.deploy_seconds, Some(2.0 * H as f64));
    }

    #[test]
    fn merge_commits_own_their_branch_and_the_first_commit_is_the_earliest() {
        let g = graph();
        let mut p = pr(1, 2, 30);
        p.commits = vec![sha(3)];
        p.first_commit_at = Some(at(11));
        p.ready_at = Some(at(13));
        let links = PrLinks::build(&g, vec![p], &[]);
        let branch = g.find(&sha(3)).unwrap();
        assert_eq!(links.of_commit(branch), Some(0));
        // The branch commit's author time (10h) is earlier than the record says (11h).
        assert_eq!(links.get(0).first_commit_seconds, Some(T0 + 10 * H));
        let s = stage_times(links.get(0), at(31));
        assert_eq!(
            s.coding_seconds,
            Some(3.0 * H as f64),
            "to the end of the draft"
        );
        assert_eq!(s.pickup_seconds, Some(H as f64));
    }

    #[test]
    fn rebased_copies_and_unreviewed_pull_requests() {
        let g = graph();
        let mut p = pr(3, 4, 32);
        p.first_review_at = None;
        p.first_commit_at = None;
        let links = PrLinks::build(&g, vec![p], &[(0, 2)]);
        assert_eq!(links.of_commit(2), Some(0));
        assert_eq!(links.get(0).first_commit_seconds, Some(T0 + 10 * H));
        let s = stage_times(links.get(0), at(33));
        assert_eq!((s.pickup_seconds, s.review_seconds), (None, None));
        // Unmerged pull requests own nothing.
        let mut open = pr(4, 4, 0);
        open.merged_at = None;
        assert_eq!(PrLinks::build(&g, vec![open], &[]).of_commit(4), None);
    }

    #[test]
    fn revert_pull_requests_name_their_target() {
        assert_eq!(reverted_number(Some("revert-7-feature-x"), true), Some(7));
        assert_eq!(reverted_number(Some("revert-7-feature-x"), false), None);
        assert_eq!(reverted_number(Some("revert-feature"), true), None);
        let g = graph();
        let target = pr(1, 2, 30);
        let mut other = pr(9, 1, 29);
        other.title = Some("pr 1".to_owned());
        other.repository = "acme/other".to_owned();
        let mut by_title = pr(5, 4, 33);
        by_title.title = Some("Revert \"pr 1\"".to_owned());
        let links = PrLinks::build(&g, vec![target.clone(), by_title.clone(), other], &[]);
        assert_eq!(links.get(1).reverts, Some(0));
        // A revert branch names the number; without one, the quoted title decides.
        let mut by_branch = pr(6, 4, 33);
        by_branch.head_branch = Some("revert-1-feature-1".to_owned());
        by_branch.revert_branch = true;
        let links = PrLinks::build(&g, vec![target.clone(), by_branch], &[]);
        assert_eq!(links.get(1).reverts, Some(0));
        // A plain pull request reverts nothing, and nothing merged later can be reverted.
        let links = PrLinks::build(&g, vec![target.clone(), pr(7, 4, 33)], &[]);
        assert_eq!(links.get(1).reverts, None);
        by_title.merged_at = Some(at(20));
        let links = PrLinks::build(&g, vec![target, by_title], &[]);
        assert_eq!(links.get(1).reverts, None);
    }
}
