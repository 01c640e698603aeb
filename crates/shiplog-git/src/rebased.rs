//! Finding the rebased copies of a pull request's commits on the base branch.
//!
//! A "rebase and merge" puts new commits on the base branch: same changes, same author, author time
//! and message, new committer and sha. The pull-request record names the last of them
//! (`merge_commit_sha`) and lists the original commits, which a clone has when it fetched the pull
//! request's head (`refs/pull/N/head`) or the branch still exists. This module pairs them up so that
//! every rebased commit is linked to its pull request, not only the last.
//!
//! The rule: walk the first-parent chain back from the merge commit, pairing the `k`-th commit from
//! the end with the `k`-th original from the end, while the two have byte-identical author lines
//! (name, email, time and zone) and messages. The walk stops at the first pair that differs or at
//! an original the repository does not have. A squash commit never pairs (its author time is the
//! merge), so a squashed pull request keeps only its merge commit. Limits: a rebase that rewords a
//! message or resets author dates (`--reset-author`, `--ignore-date`) ends the pairing there, and
//! without the original commits nothing pairs; those changes then start at their own author time.
//! Patch-ids are not computed: author line and message identify a rebased commit in practice and
//! cost one object read each.

use gix::prelude::Find;
use shiplog_core::{CommitGraph, CommitIdx, Sha};

use crate::GitRepo;

/// A pull request to pair: its merge commit and its original commits, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct RebaseCandidate<'a> {
    /// `merge_commit_sha`.
    pub merge_commit: Sha,
    /// The original commits.
    pub commits: &'a [Sha],
}

/// The author line and message of a commit object.
fn identity(repo: &GitRepo, sha: &Sha, buf: &mut Vec<u8>) -> Option<(Vec<u8>, Vec<u8>)> {
    let id = crate::to_oid(sha);
    let data = repo.repo.objects.try_find(&id, buf).ok()??;
    if data.kind != gix::objs::Kind::Commit {
        return None;
    }
    let bytes = data.data;
    let split = memchr::memmem::find(bytes, b"\n\n")?;
    let (headers, message) = (&bytes[..split], &bytes[split + 2..]);
    let author = headers
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"author "))?;
    Some((author.to_vec(), message.to_vec()))
}

/// For each candidate (by position in `prs`), the commits of `graph` that are rebased copies of its
/// originals: `(candidate index, commit)` pairs. Candidates whose merge commit is a merge (two or
/// more parents) or is not in the graph are skipped, as are originals the graph already holds (they
/// are linked directly).
pub fn match_rebased(
    repo: &GitRepo,
    graph: &CommitGraph,
    prs: &[RebaseCandidate<'_>],
) -> Vec<(usize, CommitIdx)> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for (i, pr) in prs.iter().enumerate() {
        let Some(mut at) = graph.find(&pr.merge_commit) else {
            continue;
        };
        if graph.parents(at).len() > 1 || pr.commits.iter().all(|c| graph.find(c).is_some()) {
            continue;
        }
        for original in pr.commits.iter().rev() {
            let (Some(a), Some(b)) = (
                identity(repo, original, &mut buf),
                identity(repo, &graph.sha(at), &mut buf),
            ) else {
                break;
            };
            if a != b {
                break;
            }
            out.push((i, at));
            match graph.parents(at) {
                [parent] if !graph.is_shallow(at) => at = *parent,
                _ => break,
            }
        }
    }
    out
}

/// The commits of a pull request's branch, oldest first, with their author times, found from its
/// head commit when the record does not list them (GitHub's pull-request list does not).
///
/// - When the head is in `graph` (merged with a merge commit, or fast-forwarded), they are the
///   commits reachable from the head and not from the merge commit's first parent.
/// - Otherwise (squashed or rebased: the branch is not part of the deployed history), they are read
///   from the repository's objects, walking back from the head until commits of `graph` (the base
///   branch), at most `limit` commits. The repository has them when the branch still exists or the
///   pull requests' heads were fetched (`git fetch origin '+refs/pull/*/head:refs/pull/*/head'`).
///
/// Returns nothing when the head is unknown to the repository.
pub fn branch_commits(
    repo: &GitRepo,
    graph: &CommitGraph,
    head: &Sha,
    merge_commit: Option<&Sha>,
    limit: usize,
) -> Vec<(Sha, i64)> {
    if let Some(head_idx) = graph.find(head) {
        let base = merge_commit
            .and_then(|m| graph.find(m))
            .and_then(|m| graph.parents(m).first().copied())
            .filter(|&p| p != head_idx);
        return only_from(graph, head_idx, base, limit)
            .into_iter()
            .map(|c| (graph.sha(c), graph.author_time(c)))
            .collect();
    }
    let mut buf = Vec::new();
    let walk = crate::squash::walk_branch(graph, crate::to_oid(head), limit, &mut |id, parents| {
        let data = repo.repo.objects.try_find(id, &mut buf).ok()??;
        if data.kind != gix::objs::Kind::Commit {
            return None;
        }
        crate::history::parse_commit(data.data, Some(parents))
            .ok()
            .map(|fields| fields.author_time)
    });
    let mut out = walk.commits;
    // Oldest first: by author time, ties by discovery order reversed (parents were found later).
    out.reverse();
    out.sort_by_key(|&(_, t)| t);
    out
}

/// Commits reachable from `head` and not from `base`, oldest (lowest index) first. Walks in
/// decreasing index order (parents always have lower indices), painting each commit with the sides
/// that reach it, and stops when only `base`'s side is left.
fn only_from(
    graph: &CommitGraph,
    head: CommitIdx,
    base: Option<CommitIdx>,
    limit: usize,
) -> Vec<CommitIdx> {
    use std::collections::{BTreeMap, btree_map::Entry};
    const HEAD: u8 = 1;
    const BASE: u8 = 2;
    let mut queue: BTreeMap<CommitIdx, u8> = BTreeMap::new();
    // Entries only the head reaches: the walk goes on while there are any.
    queue.insert(head, HEAD);
    if let Some(b) = base {
        *queue.entry(b).or_default() |= BASE;
    }
    let mut live = queue.values().filter(|&&p| p == HEAD).count();
    let mut out = Vec::new();
    while live > 0 {
        let Some((c, paint)) = queue.pop_last() else {
            break;
        };
        if paint == HEAD {
            live -= 1;
            out.push(c);
            if out.len() >= limit {
                break;
            }
        }
        for &p in graph.parents(c) {
            match queue.entry(p) {
                Entry::Occupied(mut e) => {
                    let before = *e.get();
                    let after = before | paint;
                    *e.get_mut() = after;
                    live = live + usize::from(after == HEAD) - usize::from(before == HEAD);
                }
                Entry::Vacant(e) => {
                    e.insert(paint);
                    live += usize::from(paint == HEAD);
                }
            }
        }
    }
    out.reverse();
    out
}
