//! Squash merges found without pull-request data, by comparing patches.
//!
//! A squash merge puts one new commit on the main branch whose author time is the time of the
//! squash, so git alone starts the lead time of that work at the merge and loses the days spent on
//! the branch. Pull-request records say which branch a squash commit came from (see
//! [`crate::rebased`] and `shiplog_core::pr_links`); without them, the branch itself still tells,
//! when the repository has it (a local branch, a remote-tracking branch, or a fetched
//! `refs/pull/N/head`):
//!
//! 1. **Candidates.** Every branch tip that the deployed history does not contain (a merged branch
//!    is in the history and needs no matching). From the tip, the branch's own commits are read back
//!    to where it forked from the history (at most [`SquashLimits::max_branch_commits`]; a longer
//!    branch is a long-lived one, not a squashed feature, and is skipped). Its **fork point** is the
//!    newest history commit it reaches.
//! 2. **The branch's patch**: the change from the fork point's tree to the tip's tree.
//! 3. **Matching.** A squash commit is a single-parent history commit, committed no earlier than the
//!    branch's last commit and within [`SquashLimits::window_seconds`] after it, whose own change
//!    (against its parent) touches exactly the same files with the same patch. Two patches are the
//!    same when, file by file, the new contents are identical, or the removed and added lines are
//!    the same, in order, ignoring whitespace (the idea of `git patch-id`: a squash applied on a
//!    main branch that moved on has other line numbers and other context, but the same lines
//!    changed). The earliest matching commit is the squash; a commit matched by several branches
//!    goes to the branch with the latest tip.
//! 4. The squash commit's lead time then starts at the earliest author time among the branch's
//!    commits, like a pull request's first commit.
//!
//! Re-runs are incremental: [`find_squashed_branches`] returns what it learned per branch tip
//! ([`TipState`]: matched, or checked against the first N history commits), and given it back it
//! searches only new tips and new commits.
//!
//! Worked example (the `merge-styles` fixture without pull-request records): the branch kept as
//! `refs/pull/2/head` forks from main, has commits authored Feb 2 09:00 and 11:00, and is squashed
//! onto main as one commit at Feb 3 10:00 that changes the same file the same way. The squash
//! commit's lead time to a deployment at Feb 3 12:00 is 27 h (from Feb 2 09:00), not 2 h.
//!
//! Limits: matching needs the branch (a deleted and pruned branch cannot be found; with GitHub,
//! `git fetch origin '+refs/pull/*/head:refs/pull/*/head'` keeps every pull request's head); a
//! squash whose conflicts were resolved by hand, or that was amended, no longer has the same patch
//! and keeps its own time. Rebased commits need no matching: a rebase keeps author times.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::prelude::Find;
use shiplog_core::{CommitGraph, CommitIdx, Sha};

use crate::GitRepo;
use crate::paths::{Entry, TreeReader, changed_entries};

/// How far the search goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquashLimits {
    /// Branch tips considered, the most recently committed first.
    pub max_branches: usize,
    /// Commits read per branch; a longer branch is skipped.
    pub max_branch_commits: usize,
    /// How long after a branch's last commit its squash may land.
    pub window_seconds: i64,
}

impl Default for SquashLimits {
    fn default() -> Self {
        Self {
            max_branches: 1000,
            max_branch_commits: 250,
            window_seconds: 60 * 86_400,
        }
    }
}

/// A history commit found to be the squash of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquashMatch {
    /// The squash commit.
    pub commit: CommitIdx,
    /// The branch, shortened (`feature-x`, `origin/feature-x`, `refs/pull/12/head`).
    pub branch: String,
    /// The branch's tip.
    pub tip: Sha,
    /// How many commits the branch had.
    pub commits: usize,
    /// The earliest author time among them, in seconds.
    pub first_author_time: i64,
}

/// One changed file: its path and its blob (or submodule commit) before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileChange {
    path: Vec<u8>,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
}

/// A branch not in the history, read back to its fork point.
struct Branch {
    name: String,
    tip: Sha,
    tip_time: i64,
    tip_tree: ObjectId,
    fork_point: CommitIdx,
    commits: usize,
    first_author_time: i64,
}

/// Object access for one search: a repository handle with an object cache (consecutive commits
/// share most trees) and the commit-graph file for tree ids.
struct Reader {
    trees: TreeReader,
    buf: Vec<u8>,
}

/// Which paths a diff may touch: a change anywhere else ends it early.
struct Allowed<'a>(&'a std::collections::BTreeSet<Vec<u8>>);

impl Allowed<'_> {
    fn file(&self, path: &[u8]) -> bool {
        self.0.contains(path)
    }

    fn directory(&self, path: &[u8]) -> bool {
        let mut prefix = path.to_vec();
        prefix.push(b'/');
        self.0
            .range(prefix.clone()..)
            .next()
            .is_some_and(|p| p.starts_with(&prefix))
    }
}

/// What a commit object says that the search needs.
struct CommitFacts {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    author_time: i64,
    committer_time: i64,
}

impl Reader {
    fn new(repo: &GitRepo) -> Self {
        Self {
            trees: TreeReader::new(repo.repo.clone()),
            buf: Vec::new(),
        }
    }

    fn commit(&mut self, id: &ObjectId) -> Option<CommitFacts> {
        let data = self.trees.repo.objects.try_find(id, &mut self.buf).ok()??;
        if data.kind != gix::objs::Kind::Commit {
            return None;
        }
        let mut parents = Vec::new();
        let fields = crate::history::parse_commit(data.data, Some(&mut parents)).ok()?;
        Some(CommitFacts {
            tree: ObjectId::from_hex(fields.tree).ok()?,
            parents,
            author_time: fields.author_time,
            committer_time: fields.committer_time,
        })
    }

    fn tree_of(&mut self, sha: &Sha) -> Option<ObjectId> {
        self.trees.tree_of(sha).ok()
    }

    /// The entries of tree `id` (none: empty), with the bytes their names point into.
    fn tree(&mut self, id: Option<ObjectId>) -> Option<(Vec<u8>, Vec<Entry>)> {
        let (mut bytes, mut out) = (Vec::new(), Vec::new());
        self.trees.read_tree(id, &mut bytes, &mut out).ok()?;
        Some((bytes, out))
    }

    /// The files that differ between two trees, in path order. `None` when an object is missing,
    /// or when `allowed` is given and a change falls outside it.
    fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        allowed: Option<&Allowed<'_>>,
    ) -> Option<Vec<FileChange>> {
        let mut out = Vec::new();
        if old != new {
            self.diff_into(&mut Vec::new(), old, new, allowed, &mut out)?;
        }
        out.sort_by(|x, y| x.path.cmp(&y.path));
        Some(out)
    }

    fn diff_into(
        &mut self,
        path: &mut Vec<u8>,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        allowed: Option<&Allowed<'_>>,
        out: &mut Vec<FileChange>,
    ) -> Option<()> {
        let (old_buf, old_entries) = self.tree(old)?;
        let (new_buf, new_entries) = self.tree(new)?;
        for (a, b, name) in changed_entries((&old_buf, &old_entries), (&new_buf, &new_entries)) {
            let base = path.len();
            if base > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(name);
            let old_tree = a.filter(|e| e.tree).map(|e| e.id);
            let new_tree = b.filter(|e| e.tree).map(|e| e.id);
            if old_tree.is_some() || new_tree.is_some() {
                if allowed.is_some_and(|allowed| !allowed.directory(path)) {
                    return None;
                }
                self.diff_into(path, old_tree, new_tree, allowed, out)?;
            }
            let old_file = a.filter(|e| !e.tree).map(|e| e.id);
            let new_file = b.filter(|e| !e.tree).map(|e| e.id);
            if old_file.is_some() || new_file.is_some() {
                if allowed.is_some_and(|allowed| !allowed.file(path)) {
                    return None;
                }
                out.push(FileChange {
                    path: path.clone(),
                    old: old_file,
                    new: new_file,
                });
            }
            path.truncate(base);
        }
        Some(())
    }

    fn blob(&mut self, id: Option<ObjectId>) -> Option<Vec<u8>> {
        let Some(id) = id else {
            return Some(Vec::new());
        };
        let data = self
            .trees
            .repo
            .objects
            .try_find(&id, &mut self.buf)
            .ok()??;
        // A submodule entry names a commit the repository does not hold: compare ids only.
        (data.kind == gix::objs::Kind::Blob).then(|| data.data.to_vec())
    }

    /// A hash of the lines `old → new` removes and adds, in order, whitespace ignored. `None` for
    /// binary content or unreadable objects (then only identical results match).
    fn patch_hash(&mut self, change: &FileChange) -> Option<u64> {
        let old = self.blob(change.old)?;
        let new = self.blob(change.new)?;
        let binary = |b: &[u8]| memchr::memchr(0, &b[..b.len().min(8000)]).is_some();
        if binary(&old) || binary(&new) {
            return None;
        }
        let input = imara_diff::InternedInput::new(old.as_slice(), new.as_slice());
        let diff = imara_diff::Diff::compute(imara_diff::Algorithm::Histogram, &input);
        let mut hasher = DefaultHasher::new();
        let mut line_hash = |sign: u8, line: &[u8]| {
            sign.hash(&mut hasher);
            for &b in line.iter().filter(|b| !b.is_ascii_whitespace()) {
                b.hash(&mut hasher);
            }
            b'\n'.hash(&mut hasher);
        };
        for hunk in diff.hunks() {
            for &token in &input.before[hunk.before.start as usize..hunk.before.end as usize] {
                line_hash(b'-', input.interner[token]);
            }
            for &token in &input.after[hunk.after.start as usize..hunk.after.end as usize] {
                line_hash(b'+', input.interner[token]);
            }
        }
        Some(hasher.finish())
    }

    /// Whether two changes of the same files are the same patch. `a_hashes` caches
    /// [`Reader::patch_hash`] of `a`'s files (one slot per file), as `a` (a branch's patch) is
    /// compared with many commits.
    fn same_patch(
        &mut self,
        a: &[FileChange],
        a_hashes: &mut [Option<Option<u64>>],
        b: &[FileChange],
    ) -> bool {
        if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.path != y.path) {
            return false;
        }
        for ((x, y), x_hash) in a.iter().zip(b).zip(a_hashes.iter_mut()) {
            if x.new == y.new && (x.old.is_none() == y.old.is_none()) {
                continue;
            }
            let p = *x_hash.get_or_insert_with(|| self.patch_hash(x));
            match (p, self.patch_hash(y)) {
                (Some(p), Some(q)) if p == q => {}
                _ => return false,
            }
        }
        true
    }
}

/// The tips of local branches, remote-tracking branches and fetched pull-request heads that are
/// commits `graph` does not contain, newest first (ties by name), with their short names.
fn foreign_tips(repo: &GitRepo, graph: &CommitGraph) -> Vec<(String, ObjectId)> {
    let mut tips: Vec<(String, ObjectId)> = Vec::new();
    let Ok(platform) = repo.repo.references() else {
        return tips;
    };
    for prefix in ["refs/heads/", "refs/remotes/", "refs/pull/"] {
        let Ok(iter) = platform.prefixed(prefix) else {
            continue;
        };
        for mut reference in iter.flatten() {
            if matches!(reference.target(), gix::refs::TargetRef::Symbolic(_)) {
                continue; // origin/HEAD
            }
            let name = reference.name().shorten().to_str_lossy().into_owned();
            if prefix == "refs/pull/" && !name.ends_with("/head") {
                continue;
            }
            // A branch names a commit directly; only an annotated tag would need peeling.
            let id = match reference.target().try_id() {
                Some(id) => id.to_owned(),
                None => match reference.peel_to_id() {
                    Ok(id) => id.detach(),
                    Err(_) => continue,
                },
            };
            if graph.find(&crate::to_sha(&id)).is_none() {
                tips.push((name, id));
            }
        }
    }
    // One entry per tip (a branch and its remote-tracking copy): the first name in order.
    tips.sort();
    let mut seen = HashSet::new();
    tips.retain(|(_, id)| seen.insert(*id));
    tips
}

/// Reads `name`'s commits back from `tip` to the history; `None` when the branch is too long, has
/// no fork point in the history, or an object is missing.
/// A branch read back from its tip to the history (see [`walk_branch`]).
pub(crate) struct BranchWalk {
    /// Its commits, in discovery order, with their author times.
    pub(crate) commits: Vec<(Sha, i64)>,
    /// The newest history commit it reaches.
    pub(crate) fork_point: Option<CommitIdx>,
    /// It has more than the limit of commits (the rest were not read).
    pub(crate) truncated: bool,
    /// Some of its commits could not be read.
    pub(crate) unreadable: bool,
}

/// Reads a branch back from `tip` until commits of `graph`, at most `limit` commits. `read` reads
/// one commit: it fills in the parents and returns the author time, or `None` when the commit
/// cannot be read.
pub(crate) fn walk_branch(
    graph: &CommitGraph,
    tip: ObjectId,
    limit: usize,
    read: &mut dyn FnMut(&ObjectId, &mut Vec<ObjectId>) -> Option<i64>,
) -> BranchWalk {
    let mut walk = BranchWalk {
        commits: Vec::new(),
        fork_point: None,
        truncated: false,
        unreadable: false,
    };
    let mut stack = vec![tip];
    let mut seen = HashSet::new();
    let mut parents = Vec::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let sha = crate::to_sha(&id);
        if let Some(idx) = graph.find(&sha) {
            walk.fork_point = Some(walk.fork_point.map_or(idx, |f| f.max(idx)));
            continue;
        }
        if walk.commits.len() >= limit {
            walk.truncated = true;
            break;
        }
        parents.clear();
        match read(&id, &mut parents) {
            Some(author_time) => {
                walk.commits.push((sha, author_time));
                stack.extend_from_slice(&parents);
            }
            None => walk.unreadable = true,
        }
    }
    walk
}

fn read_branch(
    reader: &mut Reader,
    graph: &CommitGraph,
    name: String,
    tip: ObjectId,
    limit: usize,
) -> Option<Branch> {
    let tip_facts = reader.commit(&tip)?;
    let (tip_time, tip_tree) = (tip_facts.committer_time, tip_facts.tree);
    let walk = walk_branch(graph, tip, limit, &mut |id, parents| {
        let facts = reader.commit(id)?;
        parents.extend(facts.parents);
        Some(facts.author_time)
    });
    if walk.truncated || walk.unreadable {
        return None;
    }
    Some(Branch {
        name,
        tip: crate::to_sha(&tip),
        tip_time,
        tip_tree,
        fork_point: walk.fork_point?,
        commits: walk.commits.len(),
        first_author_time: walk
            .commits
            .iter()
            .map(|&(_, t)| t)
            .filter(|&t| t != i64::MIN)
            .min()?,
    })
}

/// What an earlier search learned about one branch tip, so that a re-run checks only new commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipState {
    /// Its squash is `commit`; the branch had `commits` commits, the first authored at
    /// `first_author_time` (kept so that a re-run need not read the branch again).
    Matched {
        /// The squash commit.
        commit: Sha,
        /// How many commits the branch had.
        commits: usize,
        /// The earliest author time among them, in seconds.
        first_author_time: i64,
    },
    /// No squash among the first `checked` commits of the history; `last` is the sha of commit
    /// `checked - 1`, which tells whether the history was rebuilt since (its indices then changed).
    Unmatched {
        /// How many history commits were checked.
        checked: usize,
        /// The sha of the last of them.
        last: Sha,
    },
}

impl TipState {
    /// The state as one line of text, for a store's opaque key-value state.
    pub fn encode(&self) -> String {
        match self {
            TipState::Matched {
                commit,
                commits,
                first_author_time,
            } => format!("matched {commit} {commits} {first_author_time}"),
            TipState::Unmatched { checked, last } => format!("unmatched {checked} {last}"),
        }
    }

    /// Reads [`TipState::encode`]'s text; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let mut words = text.split(' ');
        let state = match words.next()? {
            "matched" => TipState::Matched {
                commit: Sha::from_hex(words.next()?).ok()?,
                commits: words.next()?.parse().ok()?,
                first_author_time: words.next()?.parse().ok()?,
            },
            "unmatched" => TipState::Unmatched {
                checked: words.next()?.parse().ok()?,
                last: Sha::from_hex(words.next()?).ok()?,
            },
            _ => return None,
        };
        words.next().is_none().then_some(state)
    }
}

/// What a search found, and what to remember for the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SquashSearch {
    /// The squash commits found, by commit.
    pub matches: Vec<SquashMatch>,
    /// The state of every branch tip considered, by tip (including those taken from `previous`).
    pub tips: Vec<(Sha, TipState)>,
    /// How many branch tips had commits checked in this run.
    pub searched: usize,
}

/// The history commits that are squashes of branches the repository has, skipping commits for
/// which `known` is true (already linked to a pull request). `previous` holds what earlier runs
/// learned per branch tip: a tip matched before keeps its match while the commit is in the
/// history, and a tip checked before is checked only against commits added since. Best effort: a
/// branch whose objects cannot be read is left out. See the module docs for the rules.
pub fn find_squashed_branches(
    repo: &GitRepo,
    graph: &CommitGraph,
    known: &dyn Fn(CommitIdx) -> bool,
    limits: SquashLimits,
    previous: &HashMap<Sha, TipState>,
) -> SquashSearch {
    let mut search = SquashSearch::default();
    let tips = foreign_tips(repo, graph);
    if tips.is_empty() {
        return search;
    }
    // Which history commits a previous run's check still covers: none when the history was
    // rebuilt since (its indices changed).
    let still_checked = |state: Option<&TipState>| match state {
        Some(&TipState::Unmatched { checked, last })
            if checked > 0
                && checked <= graph.len()
                && graph.sha(checked as CommitIdx - 1) == last =>
        {
            checked
        }
        _ => 0,
    };
    // Tips matched before (the commit still in the history and no pull request's), and tips
    // checked against every commit already, are not read again.
    let mut claimed: HashSet<CommitIdx> = HashSet::new();
    let mut reader = Reader::new(repo);
    let mut branches: Vec<Branch> = Vec::new();
    for (name, tip) in tips {
        let sha = crate::to_sha(&tip);
        if let Some(&TipState::Matched {
            commit,
            commits,
            first_author_time,
        }) = previous.get(&sha)
            && let Some(idx) = graph.find(&commit).filter(|&c| !known(c))
            && claimed.insert(idx)
        {
            search.matches.push(SquashMatch {
                commit: idx,
                branch: name,
                tip: sha,
                commits,
                first_author_time,
            });
            search.tips.push((sha, previous[&sha]));
        } else if let Some(&state) = previous
            .get(&sha)
            .filter(|&s| !graph.is_empty() && still_checked(Some(s)) == graph.len())
        {
            search.tips.push((sha, state));
        } else if let Some(branch) =
            read_branch(&mut reader, graph, name, tip, limits.max_branch_commits)
        {
            branches.push(branch);
        }
    }
    branches.sort_by(|a, b| b.tip_time.cmp(&a.tip_time).then(a.name.cmp(&b.name)));
    branches.truncate(limits.max_branches);
    let checked_before: Vec<usize> = branches
        .iter()
        .map(|b| still_checked(previous.get(&b.tip)))
        .collect();
    let last = graph
        .len()
        .checked_sub(1)
        .map(|i| graph.sha(i as CommitIdx));
    if branches.is_empty() {
        search.matches.sort_by_key(|m| m.commit);
        return search;
    }
    search.searched = branches.len();
    // Single-parent history commits by committer time, for the windows.
    let oldest_unchecked = checked_before.iter().copied().min().unwrap_or(0);
    let mut by_time: Vec<(i64, CommitIdx)> = (oldest_unchecked..graph.len())
        .map(|c| c as CommitIdx)
        .filter(|&c| graph.parents(c).len() == 1 && !graph.is_shallow(c) && !known(c))
        .map(|c| (graph.committer_time(c), c))
        .collect();
    by_time.sort_unstable();
    let mut tops = TopChanges::default();
    for (k, branch) in branches.iter().enumerate() {
        let found = search_one(
            &mut reader,
            graph,
            branch,
            &by_time,
            checked_before[k],
            &claimed,
            limits,
            &mut tops,
        );
        match found {
            Some(commit) => {
                claimed.insert(commit);
                search.matches.push(branch.matched(commit));
                search.tips.push((
                    branch.tip,
                    TipState::Matched {
                        commit: graph.sha(commit),
                        commits: branch.commits,
                        first_author_time: branch.first_author_time,
                    },
                ));
            }
            None => {
                if let Some(last) = last {
                    search.tips.push((
                        branch.tip,
                        TipState::Unmatched {
                            checked: graph.len(),
                            last,
                        },
                    ));
                }
            }
        }
    }
    search.matches.sort_by_key(|m| m.commit);
    search
}

impl Branch {
    fn matched(&self, commit: CommitIdx) -> SquashMatch {
        SquashMatch {
            commit,
            branch: self.name.clone(),
            tip: self.tip,
            commits: self.commits,
            first_author_time: self.first_author_time,
        }
    }
}

/// The names a commit changes at the top of its tree against its first parent (with whether each
/// is a directory), cached: with many branches, the same commits are looked at many times.
#[derive(Default)]
struct TopChanges(HashMap<CommitIdx, Option<CommitChange>>);

/// A name changed at the top of a commit's tree, and whether it is a directory.
type TopChange = (Vec<u8>, bool);

/// A commit's root trees (its first parent's and its own) and the names changed between them.
struct CommitChange {
    old: ObjectId,
    new: ObjectId,
    top: Box<[TopChange]>,
}

impl TopChanges {
    fn of(
        &mut self,
        reader: &mut Reader,
        graph: &CommitGraph,
        commit: CommitIdx,
    ) -> Option<&CommitChange> {
        self.0
            .entry(commit)
            .or_insert_with(|| {
                let parent = graph.sha(*graph.parents(commit).first()?);
                let new = reader.tree_of(&graph.sha(commit))?;
                let old = reader.tree_of(&parent)?;
                let (old_buf, old_entries) = reader.tree(Some(old))?;
                let (new_buf, new_entries) = reader.tree(Some(new))?;
                let top = changed_entries((&old_buf, &old_entries), (&new_buf, &new_entries))
                    .map(|(a, b, name)| {
                        (
                            name.to_vec(),
                            a.is_some_and(|e| e.tree) || b.is_some_and(|e| e.tree),
                        )
                    })
                    .collect();
                Some(CommitChange { old, new, top })
            })
            .as_ref()
    }
}

/// The earliest commit of `by_time` (with an index of at least `from_index`) that squashes
/// `branch`, not already `claimed`.
#[allow(clippy::too_many_arguments)]
fn search_one(
    reader: &mut Reader,
    graph: &CommitGraph,
    branch: &Branch,
    by_time: &[(i64, CommitIdx)],
    from_index: usize,
    claimed: &HashSet<CommitIdx>,
    limits: SquashLimits,
    tops: &mut TopChanges,
) -> Option<CommitIdx> {
    let end = branch.tip_time.saturating_add(limits.window_seconds);
    let from = by_time.partition_point(|&(t, _)| t < branch.tip_time);
    let mut candidates = by_time[from..]
        .iter()
        .take_while(|&&(t, _)| t <= end)
        .map(|&(_, commit)| commit)
        .filter(|&commit| {
            commit > branch.fork_point
                && commit as usize >= from_index
                && !claimed.contains(&commit)
        })
        .peekable();
    // The branch's patch, only when some commit could be its squash (an old branch has none new).
    candidates.peek()?;
    let base_tree = reader.tree_of(&graph.sha(branch.fork_point))?;
    let patch = reader.diff(Some(base_tree), Some(branch.tip_tree), None)?;
    if patch.is_empty() {
        return None;
    }
    let paths: std::collections::BTreeSet<Vec<u8>> = patch.iter().map(|c| c.path.clone()).collect();
    let allowed = Allowed(&paths);
    let mut patch_hashes = vec![None; patch.len()];
    for commit in candidates {
        // Only changes inside the branch's files can match: first the commit's changed top-level
        // names (read once per commit, however many branches look at it), then a diff that stops
        // at the first change elsewhere.
        let Some(&CommitChange { old, new, ref top }) = tops.of(reader, graph, commit) else {
            continue;
        };
        if top.iter().any(|(name, tree)| {
            if *tree {
                !allowed.directory(name)
            } else {
                !allowed.file(name)
            }
        }) {
            continue;
        }
        if let Some(changes) = reader.diff(Some(old), Some(new), Some(&allowed))
            && reader.same_patch(&patch, &mut patch_hashes, &changes)
        {
            return Some(commit);
        }
    }
    None
}
