//! The commit graph the attribution engine walks.
//!
//! An arena of commits in topological order: every parent has a smaller index than its children.
//! That order is what makes attribution a single linear pass and ancestry checks cheap (a search for
//! an ancestor of index `a` never needs to look at commits with indices below `a`).
//!
//! Commits are stored column by column (ids, times, parent lists), about 60 bytes a commit, so a
//! repository with a million commits fits in memory comfortably. Lookups by sha use sorted runs: each
//! batch of commits appended together (one history read) carries its indices sorted by sha, so finding
//! a sha is one binary search per run and loading a cached graph needs no hashing at all.

use crate::names::{Sha, ShaPrefix};

/// The position of a commit in a [`CommitGraph`].
pub type CommitIdx = u32;

/// Why a commit could not be added to the graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// A parent index does not name an earlier commit.
    #[error("commit {sha}: parent index {parent} is not an earlier commit (graph holds {len})")]
    ParentNotEarlier {
        /// The commit being added.
        sha: Sha,
        /// The bad parent index.
        parent: u32,
        /// The number of commits in the graph.
        len: usize,
    },
    /// The sorted lookup run given does not match the commits appended.
    #[error("the sorted lookup for commits {start}..{end} is not a sorted permutation of them")]
    BadLookupRun {
        /// First index of the run.
        start: usize,
        /// One past the last index of the run.
        end: usize,
    },
    /// The graph would exceed `u32::MAX` commits.
    #[error("the commit graph is limited to {} commits", u32::MAX)]
    TooLarge,
}

/// A prefix matched more than one commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sha prefix {prefix} is ambiguous: it matches {first} and {second}")]
pub struct AmbiguousPrefix {
    /// The prefix given.
    pub prefix: ShaPrefix,
    /// One match.
    pub first: Sha,
    /// Another match.
    pub second: Sha,
}

/// What is known about one commit.
#[derive(Debug, Clone, Copy)]
pub struct NewCommit<'a> {
    /// Its id.
    pub sha: Sha,
    /// Its parents, as indices of commits already in the graph, in order (first parent first).
    pub parents: &'a [CommitIdx],
    /// Author time, seconds since the Unix epoch, as recorded in the commit.
    pub author_time: i64,
    /// Committer time, seconds since the Unix epoch.
    pub committer_time: i64,
    /// Commits this one reverts, from `This reverts commit <sha>` lines in its message.
    pub reverts: &'a [Sha],
    /// The history was cut here (a shallow clone's boundary): the real parents are unknown.
    pub shallow: bool,
}

/// A run of commits column by column; see [`CommitGraph::append_run`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// Ids, in index order.
    pub shas: Vec<Sha>,
    /// Author times.
    pub author_time: Vec<i64>,
    /// Committer times.
    pub committer_time: Vec<i64>,
    /// `shas.len() + 1` offsets into `parents`, from 0.
    pub parent_offsets: Vec<u32>,
    /// Parent indices (global), commit after commit.
    pub parents: Vec<CommitIdx>,
    /// (commit, reverted sha), ordered by commit.
    pub reverts: Vec<(CommitIdx, Sha)>,
    /// Shallow boundary commits, ascending.
    pub shallow: Vec<CommitIdx>,
    /// The run's indices sorted by sha.
    pub sorted: Vec<CommitIdx>,
    /// [`Sha::prefix32`] of each sha in `sorted` order.
    pub sorted_prefix: Vec<u32>,
}

/// An arena of commits in topological order. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct CommitGraph {
    shas: Vec<Sha>,
    parent_start: Vec<u32>,
    parents: Vec<CommitIdx>,
    author_time: Vec<i64>,
    committer_time: Vec<i64>,
    /// (commit, reverted sha), sorted by commit.
    reverts: Vec<(CommitIdx, Sha)>,
    /// Shallow boundary commits, ascending.
    shallow: Vec<CommitIdx>,
    /// Commit indices, sorted by sha within each run.
    sorted: Vec<CommitIdx>,
    /// The first four bytes of each sha in `sorted`, as a big-endian number: lookups binary-search
    /// this compact array and compare full shas only on a prefix match.
    sorted_prefix: Vec<u32>,
    /// Ends of the runs in `sorted` (each run starts where the previous ended).
    run_ends: Vec<usize>,
}

impl CommitGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self {
            parent_start: vec![0],
            ..Self::default()
        }
    }

    /// An empty graph with room for `commits` commits.
    pub fn with_capacity(commits: usize) -> Self {
        let mut graph = Self::new();
        graph.shas.reserve(commits);
        graph.parent_start.reserve(commits);
        graph.parents.reserve(commits + commits / 8);
        graph.author_time.reserve(commits);
        graph.committer_time.reserve(commits);
        graph.sorted.reserve(commits);
        graph.sorted_prefix.reserve(commits);
        graph
    }

    /// Makes room for `commits` more commits with about `parents` parent links in all.
    pub fn reserve(&mut self, commits: usize, parents: usize) {
        self.shas.reserve_exact(commits);
        self.parent_start.reserve_exact(commits);
        self.parents.reserve_exact(parents);
        self.author_time.reserve_exact(commits);
        self.committer_time.reserve_exact(commits);
        self.sorted.reserve_exact(commits);
        self.sorted_prefix.reserve_exact(commits);
    }

    /// The number of commits.
    pub fn len(&self) -> usize {
        self.shas.len()
    }

    /// Whether the graph holds no commit.
    pub fn is_empty(&self) -> bool {
        self.shas.is_empty()
    }

    /// Appends a commit whose parents are all in the graph already; returns its index.
    ///
    /// The commit cannot be found by sha until the run it belongs to is closed with
    /// [`CommitGraph::close_run`] or [`CommitGraph::close_run_with`].
    pub fn push(&mut self, commit: NewCommit<'_>) -> Result<CommitIdx, GraphError> {
        let idx = u32::try_from(self.shas.len()).map_err(|_| GraphError::TooLarge)?;
        if let Some(&parent) = commit.parents.iter().find(|&&p| p >= idx) {
            return Err(GraphError::ParentNotEarlier {
                sha: commit.sha,
                parent,
                len: self.shas.len(),
            });
        }
        self.shas.push(commit.sha);
        self.parents.extend_from_slice(commit.parents);
        let end = u32::try_from(self.parents.len()).map_err(|_| GraphError::TooLarge)?;
        self.parent_start.push(end);
        self.author_time.push(commit.author_time);
        self.committer_time.push(commit.committer_time);
        self.reverts
            .extend(commit.reverts.iter().map(|&sha| (idx, sha)));
        if commit.shallow {
            self.shallow.push(idx);
        }
        Ok(idx)
    }

    fn open_run_start(&self) -> usize {
        self.run_ends.last().copied().unwrap_or(0)
    }

    /// Makes the commits appended since the last run findable by sha, sorting them.
    pub fn close_run(&mut self) {
        let start = self.open_run_start();
        let end = self.shas.len();
        if start == end {
            return;
        }
        let mut run: Vec<CommitIdx> = (start as u32..end as u32).collect();
        run.sort_unstable_by_key(|&i| self.shas[i as usize]);
        self.sorted_prefix
            .extend(run.iter().map(|&i| self.shas[i as usize].prefix32()));
        self.sorted.extend_from_slice(&run);
        self.run_ends.push(end);
    }

    /// Like [`CommitGraph::close_run`], with the sorted order already known (e.g. read from a cache).
    /// The order is checked, in linear time.
    pub fn close_run_with(&mut self, sorted: &[CommitIdx]) -> Result<(), GraphError> {
        let start = self.open_run_start();
        let end = self.shas.len();
        let bad = GraphError::BadLookupRun { start, end };
        if sorted.len() != end - start {
            return Err(bad);
        }
        // Strictly increasing shas at in-range indices: distinct indices, so a permutation.
        let mut previous: Option<&Sha> = None;
        for &i in sorted {
            let i = i as usize;
            if i < start || i >= end {
                return Err(bad);
            }
            let sha = &self.shas[i];
            if previous.is_some_and(|p| p >= sha) {
                return Err(bad);
            }
            previous = Some(sha);
        }
        if start != end {
            self.sorted_prefix
                .extend(sorted.iter().map(|&i| self.shas[i as usize].prefix32()));
            self.sorted.extend_from_slice(sorted);
            self.run_ends.push(end);
        }
        Ok(())
    }

    /// Closes the open run with a sorted order and its prefixes read from a cache. Checked in
    /// linear time without touching the shas: indices in range, prefixes non-decreasing. (Lookups
    /// compare full shas, so a damaged order can only make a commit unfindable, never return a
    /// wrong one; caches carry a checksum against damage.)
    fn close_run_trusting(
        &mut self,
        sorted: Vec<CommitIdx>,
        prefix: Vec<u32>,
    ) -> Result<(), GraphError> {
        let start = self.open_run_start();
        let end = self.shas.len();
        let bad = GraphError::BadLookupRun { start, end };
        if sorted.len() != end - start
            || prefix.len() != sorted.len()
            || !sorted.iter().all(|&i| (start..end).contains(&(i as usize)))
            || !prefix.windows(2).all(|w| w[0] <= w[1])
        {
            return Err(bad);
        }
        if start == end {
            return Ok(());
        }
        if self.sorted.is_empty() {
            self.sorted = sorted;
            self.sorted_prefix = prefix;
        } else {
            self.sorted.extend_from_slice(&sorted);
            self.sorted_prefix.extend_from_slice(&prefix);
        }
        self.run_ends.push(end);
        Ok(())
    }

    /// Appends a whole run of commits given column by column (as a cache stores them) and closes
    /// it. Equivalent to [`CommitGraph::push`] for each commit and [`CommitGraph::close_run_with`],
    /// at memory speed. Everything is checked: parents must be earlier commits, `parent_offsets`
    /// must be `shas.len() + 1` non-decreasing offsets into `parents` starting at 0, `reverts` and
    /// `shallow` must be ordered and name commits of the run.
    pub fn append_run(&mut self, run: Columns) -> Result<(), GraphError> {
        let start = self.shas.len();
        let n = run.shas.len();
        let end = start + n;
        let bad = || GraphError::BadLookupRun { start, end };
        u32::try_from(end).map_err(|_| GraphError::TooLarge)?;
        if self.open_run_start() != start
            || run.author_time.len() != n
            || run.committer_time.len() != n
            || run.parent_offsets.len() != n + 1
            || run.parent_offsets.first() != Some(&0)
            || run.parent_offsets.last().map(|&l| l as usize) != Some(run.parents.len())
        {
            return Err(bad());
        }
        for (i, pair) in run.parent_offsets.windows(2).enumerate() {
            let idx = (start + i) as u32;
            let range = pair[0] as usize..pair[1] as usize;
            let parents = run.parents.get(range).ok_or_else(bad)?;
            if let Some(&parent) = parents.iter().find(|&&p| p >= idx) {
                return Err(GraphError::ParentNotEarlier {
                    sha: run.shas[i],
                    parent,
                    len: start + i,
                });
            }
        }
        let in_run = |c: u32| (start..end).contains(&(c as usize));
        if !run.reverts.windows(2).all(|w| w[0].0 <= w[1].0)
            || !run.reverts.iter().all(|&(c, _)| in_run(c))
            || !run.shallow.windows(2).all(|w| w[0] < w[1])
            || !run.shallow.iter().all(|&c| in_run(c))
        {
            return Err(bad());
        }
        if start == 0 {
            // The first run: take the columns as they are.
            self.shas = run.shas;
            self.author_time = run.author_time;
            self.committer_time = run.committer_time;
            self.parents = run.parents;
            self.parent_start = run.parent_offsets;
            self.reverts = run.reverts;
            self.shallow = run.shallow;
            let checked = self.close_run_trusting(run.sorted, run.sorted_prefix);
            if checked.is_err() {
                *self = Self::new();
            }
            return checked;
        }
        let base = self.parents.len() as u32;
        self.shas.extend_from_slice(&run.shas);
        self.author_time.extend_from_slice(&run.author_time);
        self.committer_time.extend_from_slice(&run.committer_time);
        self.parents.extend_from_slice(&run.parents);
        self.parent_start
            .extend(run.parent_offsets[1..].iter().map(|&o| base + o));
        self.reverts.extend_from_slice(&run.reverts);
        self.shallow.extend_from_slice(&run.shallow);
        let checked = self.close_run_trusting(run.sorted, run.sorted_prefix);
        if checked.is_err() {
            // Leave the graph as it was.
            self.shas.truncate(start);
            self.author_time.truncate(start);
            self.committer_time.truncate(start);
            self.parents.truncate(base as usize);
            self.parent_start.truncate(start + 1);
            self.reverts.retain(|&(c, _)| (c as usize) < start);
            self.shallow.retain(|&c| (c as usize) < start);
        }
        checked
    }

    /// The sorted lookup order of run number `run` (for writing caches).
    pub fn sorted_run(&self, run: usize) -> Option<&[CommitIdx]> {
        self.sorted.get(self.run_range(run)?)
    }

    /// The sha prefixes of run number `run`, in its sorted order (for writing caches).
    pub fn sorted_run_prefix(&self, run: usize) -> Option<&[u32]> {
        self.sorted_prefix.get(self.run_range(run)?)
    }

    fn run_range(&self, run: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.run_ends.get(run)?;
        let start = if run == 0 { 0 } else { self.run_ends[run - 1] };
        Some(start..end)
    }

    /// The commit-index range of each closed run, in order.
    pub fn runs(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        self.run_ends.iter().scan(0usize, |start, &end| {
            let range = *start..end;
            *start = end;
            Some(range)
        })
    }

    /// Each run's (sorted indices, their prefixes).
    fn lookup_runs(&self) -> impl Iterator<Item = (&[CommitIdx], &[u32])> + '_ {
        (0..self.run_ends.len()).filter_map(|r| {
            let range = self.run_range(r)?;
            Some((&self.sorted[range.clone()], &self.sorted_prefix[range]))
        })
    }

    /// Finds a commit by its full sha.
    pub fn find(&self, sha: &Sha) -> Option<CommitIdx> {
        let key = sha.prefix32();
        self.lookup_runs().find_map(|(run, prefix)| {
            let from = prefix.partition_point(|&p| p < key);
            prefix[from..]
                .iter()
                .take_while(|&&p| p == key)
                .zip(&run[from..])
                .find(|&(_, &i)| &self.shas[i as usize] == sha)
                .map(|(_, &i)| i)
        })
    }

    /// Finds the one commit whose sha starts with `prefix`.
    pub fn find_prefix(&self, prefix: &ShaPrefix) -> Result<Option<CommitIdx>, AmbiguousPrefix> {
        if let Some(full) = prefix.as_full() {
            return Ok(self.find(&full));
        }
        // The smallest sha with this prefix is the prefix padded with zeros.
        let mut low = [0u8; 20];
        let hex = prefix.as_str().as_bytes();
        for (i, b) in hex.iter().enumerate() {
            let nibble = match b {
                b'0'..=b'9' => b - b'0',
                _ => b - b'a' + 10,
            };
            low[i / 2] |= if i % 2 == 0 { nibble << 4 } else { nibble };
        }
        let low = Sha::from_bytes(low);
        let mut found: Option<CommitIdx> = None;
        for (run, prefixes) in self.lookup_runs() {
            let from = prefixes.partition_point(|&p| p < low.prefix32());
            for &i in &run[from..] {
                let sha = self.shas[i as usize];
                if sha < low {
                    continue;
                }
                if !sha.has_prefix(prefix) {
                    break;
                }
                if let Some(first) = found {
                    if first != i {
                        return Err(AmbiguousPrefix {
                            prefix: prefix.clone(),
                            first: self.shas[first as usize],
                            second: sha,
                        });
                    }
                } else {
                    found = Some(i);
                }
            }
        }
        Ok(found)
    }

    /// The sha of commit `idx`.
    pub fn sha(&self, idx: CommitIdx) -> Sha {
        self.shas[idx as usize]
    }

    /// All shas in index order.
    pub fn shas(&self) -> &[Sha] {
        &self.shas
    }

    /// The parents of commit `idx`, first parent first.
    pub fn parents(&self, idx: CommitIdx) -> &[CommitIdx] {
        let i = idx as usize;
        &self.parents[self.parent_start[i] as usize..self.parent_start[i + 1] as usize]
    }

    /// Author time of commit `idx`, seconds since the Unix epoch.
    pub fn author_time(&self, idx: CommitIdx) -> i64 {
        self.author_time[idx as usize]
    }

    /// Committer time of commit `idx`, seconds since the Unix epoch.
    pub fn committer_time(&self, idx: CommitIdx) -> i64 {
        self.committer_time[idx as usize]
    }

    /// The commits that `idx` reverts, from its message.
    pub fn reverts_of(&self, idx: CommitIdx) -> impl Iterator<Item = Sha> + '_ {
        let from = self.reverts.partition_point(|&(c, _)| c < idx);
        self.reverts[from..]
            .iter()
            .take_while(move |&&(c, _)| c == idx)
            .map(|&(_, sha)| sha)
    }

    /// Every (commit, reverted sha) pair, ordered by commit.
    pub fn all_reverts(&self) -> &[(CommitIdx, Sha)] {
        &self.reverts
    }

    /// Whether the history was cut at `idx` (shallow clone boundary).
    pub fn is_shallow(&self, idx: CommitIdx) -> bool {
        self.shallow.binary_search(&idx).is_ok()
    }

    /// The shallow boundary commits.
    pub fn shallow_commits(&self) -> &[CommitIdx] {
        &self.shallow
    }

    /// Whether `ancestor` is reachable from `descendant` through parents, and differs from it.
    ///
    /// Uses the topological order to prune: commits with a smaller index than `ancestor` cannot lead
    /// to it.
    pub fn is_strict_ancestor(&self, ancestor: CommitIdx, descendant: CommitIdx) -> bool {
        if ancestor >= descendant {
            return false;
        }
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![descendant];
        while let Some(c) = stack.pop() {
            for &p in self.parents(c) {
                if p == ancestor {
                    return true;
                }
                if p > ancestor && seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(n: u8) -> Sha {
        let mut b = [0u8; 20];
        b[0] = n;
        b[19] = n;
        Sha::from_bytes(b)
    }

    fn add(graph: &mut CommitGraph, n: u8, parents: &[u32]) -> u32 {
        graph
            .push(NewCommit {
                sha: sha(n),
                parents,
                author_time: i64::from(n),
                committer_time: i64::from(n) + 1,
                reverts: &[],
                shallow: false,
            })
            .unwrap()
    }

    #[test]
    fn commits_are_found_in_every_run() {
        let mut g = CommitGraph::new();
        let a = add(&mut g, 9, &[]);
        let b = add(&mut g, 3, &[a]);
        g.close_run();
        let c = add(&mut g, 7, &[b]);
        assert_eq!(g.find(&sha(7)), None, "open runs are not searchable");
        g.close_run();
        assert_eq!(g.find(&sha(9)), Some(a));
        assert_eq!(g.find(&sha(3)), Some(b));
        assert_eq!(g.find(&sha(7)), Some(c));
        assert_eq!(g.find(&sha(1)), None);
        assert_eq!(g.parents(c), &[b]);
        assert_eq!(g.author_time(c), 7);
        assert_eq!(g.committer_time(c), 8);
        assert_eq!(g.runs().collect::<Vec<_>>(), vec![0..2, 2..3]);
        assert_eq!(g.sorted_run(0).unwrap(), &[b, a]);
    }

    #[test]
    fn parents_must_come_first() {
        let mut g = CommitGraph::new();
        let err = g
            .push(NewCommit {
                sha: sha(1),
                parents: &[0],
                author_time: 0,
                committer_time: 0,
                reverts: &[],
                shallow: false,
            })
            .unwrap_err();
        assert!(matches!(
            err,
            GraphError::ParentNotEarlier { parent: 0, .. }
        ));
    }

    #[test]
    fn prefixes_resolve_or_report_ambiguity() {
        let mut g = CommitGraph::new();
        let mut a = [0u8; 20];
        a[0] = 0xab;
        a[1] = 0xc1;
        let mut b = a;
        b[1] = 0xc2;
        for s in [a, b] {
            g.push(NewCommit {
                sha: Sha::from_bytes(s),
                parents: &[],
                author_time: 0,
                committer_time: 0,
                reverts: &[],
                shallow: false,
            })
            .unwrap();
        }
        g.close_run();
        assert_eq!(g.find_prefix(&ShaPrefix::new("abc1").unwrap()), Ok(Some(0)));
        assert_eq!(g.find_prefix(&ShaPrefix::new("abc2").unwrap()), Ok(Some(1)));
        assert_eq!(g.find_prefix(&ShaPrefix::new("abc3").unwrap()), Ok(None));
        assert_eq!(g.find_prefix(&ShaPrefix::new("abcd").unwrap()), Ok(None));
        assert_eq!(
            g.find_prefix(&ShaPrefix::new("abc2000000").unwrap()),
            Ok(Some(1))
        );
        assert_eq!(
            g.find_prefix(&ShaPrefix::new("abc2000001").unwrap()),
            Ok(None)
        );
        assert_eq!(g.find_prefix(&ShaPrefix::new("ab00").unwrap()), Ok(None));
        assert!(
            g.find_prefix(&ShaPrefix::new("abc0").unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn ambiguous_prefixes_name_two_matches() {
        let mut g = CommitGraph::new();
        for last in [1u8, 2] {
            let mut s = [0xabu8; 20];
            s[19] = last;
            g.push(NewCommit {
                sha: Sha::from_bytes(s),
                parents: &[],
                author_time: 0,
                committer_time: 0,
                reverts: &[],
                shallow: false,
            })
            .unwrap();
        }
        g.close_run();
        let err = g
            .find_prefix(&ShaPrefix::new("abababab").unwrap())
            .unwrap_err();
        assert_ne!(err.first, err.second);
        assert!(
            err.to_string()
                .starts_with("the sha prefix abababab is ambiguous")
        );
    }

    #[test]
    fn ancestry_follows_every_parent() {
        //   a - b - d
        //    \     /
        //     c --
        let mut g = CommitGraph::new();
        let a = add(&mut g, 1, &[]);
        let b = add(&mut g, 2, &[a]);
        let c = add(&mut g, 3, &[a]);
        let d = add(&mut g, 4, &[b, c]);
        let e = add(&mut g, 5, &[]);
        assert!(g.is_strict_ancestor(a, d));
        assert!(g.is_strict_ancestor(c, d));
        assert!(!g.is_strict_ancestor(d, d));
        assert!(!g.is_strict_ancestor(b, c));
        assert!(!g.is_strict_ancestor(a, e));
    }

    #[test]
    fn runs_append_column_by_column() {
        let mut g = CommitGraph::new();
        add(&mut g, 5, &[]);
        g.close_run();
        let run = Columns {
            shas: vec![sha(9), sha(3)],
            author_time: vec![1, 2],
            committer_time: vec![3, 4],
            parent_offsets: vec![0, 1, 3],
            parents: vec![0, 0, 1],
            reverts: vec![(2, sha(5))],
            shallow: vec![],
            sorted: vec![2, 1],
            sorted_prefix: vec![sha(3).prefix32(), sha(9).prefix32()],
        };
        let mut bad = run.clone();
        bad.parents = vec![0, 0, 2];
        assert!(matches!(
            g.append_run(bad),
            Err(GraphError::ParentNotEarlier { parent: 2, .. })
        ));
        let mut unsorted = run.clone();
        unsorted.sorted_prefix.reverse();
        assert!(g.append_run(unsorted).is_err());
        let mut out_of_range = run.clone();
        out_of_range.sorted = vec![2, 0];
        assert!(g.append_run(out_of_range).is_err());
        assert_eq!(g.len(), 1, "a rejected run leaves the graph as it was");
        g.append_run(run).unwrap();
        assert_eq!(g.find(&sha(3)), Some(2));
        assert_eq!(g.parents(2), &[0, 1]);
        assert_eq!(g.parents(1), &[0]);
        assert_eq!(g.committer_time(2), 4);
        assert_eq!(g.reverts_of(2).collect::<Vec<_>>(), [sha(5)]);
    }

    #[test]
    fn close_run_with_checks_the_order() {
        let mut g = CommitGraph::new();
        add(&mut g, 5, &[]);
        add(&mut g, 2, &[]);
        assert!(g.close_run_with(&[0, 1]).is_err());
        assert!(g.close_run_with(&[1, 1]).is_err());
        g.close_run_with(&[1, 0]).unwrap();
        assert_eq!(g.find(&sha(5)), Some(0));
    }
}
