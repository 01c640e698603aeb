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
//!
//! ## Reading a cache in place
//! A warm run loads a cached history of hundreds of thousands of commits and appends a handful.
//! Copying the cached columns into fresh vectors cost more than all the run's other work with them
//! (mostly page faults on the fresh memory), so the first run of an empty graph can be handed over as
//! little-endian column bytes ([`CommitGraph::append_run_bytes`], e.g. a memory-mapped cache
//! segment) and is then read where it lies. The graph is a read-only *head* (that run, shared with
//! the bytes) followed by an owned *tail* (every commit appended later); each accessor picks the
//! part by index. Bytes that cannot be read in place (misaligned, or a big-endian machine) are
//! decoded into the tail instead. Both ways are checked alike, in linear time.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use bytemuck::Pod;
use bytes::Bytes;

use crate::names::{Sha, ShaAbbrev};

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
    /// A column given as bytes does not hold a whole number of values.
    #[error("the {column} column is {len} bytes, not a whole number of values")]
    BadColumnBytes {
        /// The column.
        column: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The graph would exceed `u32::MAX` commits.
    #[error("the commit graph is limited to {} commits", u32::MAX)]
    TooLarge,
}

/// What an abbreviated sha names in a history; see [`CommitGraph::find_abbrev`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbbrevMatch {
    /// Exactly one commit.
    Unique(CommitIdx),
    /// This many commits share the abbreviation: it names none of them.
    Ambiguous(usize),
    /// No commit.
    Unknown,
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
    /// Commits this one reverts, from `This reverts commit <sha>` lines in its message (full or
    /// abbreviated; resolved with [`CommitGraph::find_abbrev`]).
    pub reverts: &'a [ShaAbbrev],
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
    pub reverts: Vec<(CommitIdx, ShaAbbrev)>,
    /// Shallow boundary commits, ascending.
    pub shallow: Vec<CommitIdx>,
    /// The run's indices sorted by sha.
    pub sorted: Vec<CommitIdx>,
    /// [`Sha::prefix32`] of each sha in `sorted` order.
    pub sorted_prefix: Vec<u32>,
}

/// A run of commits as little-endian column bytes, as a cache stores them; see
/// [`CommitGraph::append_run_bytes`]. The columns are those of [`Columns`]; integers are
/// little-endian, shas 20 raw bytes each. The few reverts and shallow commits come decoded.
#[derive(Debug, Clone, Default)]
pub struct ColumnBytes {
    /// Ids, 20 bytes each.
    pub shas: Bytes,
    /// Author times, `i64` each.
    pub author_time: Bytes,
    /// Committer times, `i64` each.
    pub committer_time: Bytes,
    /// `n + 1` parent-list offsets, `u32` each, from 0.
    pub parent_offsets: Bytes,
    /// Parent indices (global), `u32` each.
    pub parents: Bytes,
    /// (commit, reverted sha), ordered by commit.
    pub reverts: Vec<(CommitIdx, ShaAbbrev)>,
    /// Shallow boundary commits, ascending.
    pub shallow: Vec<CommitIdx>,
    /// The run's indices sorted by sha, `u32` each.
    pub sorted: Bytes,
    /// [`Sha::prefix32`] of each sha in `sorted` order, `u32` each.
    pub sorted_prefix: Bytes,
}

/// Values of type `T` read where they lie, in bytes shared with their owner (a memory-mapped file).
#[derive(Clone)]
struct Shared<T> {
    bytes: Bytes,
    values: PhantomData<T>,
}

impl<T> Default for Shared<T> {
    fn default() -> Self {
        Self {
            bytes: Bytes::new(),
            values: PhantomData,
        }
    }
}

impl<T: Pod> Shared<T> {
    /// `None` when `bytes` are not a whole number of `T`s aligned for `T` (or the machine is not
    /// little-endian, so the values would need converting).
    fn new(bytes: Bytes) -> Option<Self> {
        if !cfg!(target_endian = "little") {
            return None;
        }
        if !bytes.is_empty() {
            bytemuck::try_cast_slice::<u8, T>(&bytes).ok()?;
        }
        Some(Self {
            bytes,
            values: PhantomData,
        })
    }

    /// The values.
    #[inline]
    fn get(&self) -> &[T] {
        // `new` checked the cast, and the bytes never change; only an empty column can fail it.
        bytemuck::try_cast_slice(&self.bytes).unwrap_or(&[])
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.get()).finish()
    }
}

/// The first run of the graph, read in place from its bytes. `len` commits; empty when the graph
/// was built otherwise.
#[derive(Debug, Clone, Default)]
struct Head {
    len: usize,
    shas: Shared<Sha>,
    author_time: Shared<i64>,
    committer_time: Shared<i64>,
    /// `len + 1` offsets into `parents`, from 0.
    parent_start: Shared<u32>,
    parents: Shared<CommitIdx>,
    sorted: Shared<CommitIdx>,
    sorted_prefix: Shared<u32>,
}

/// The commits after the head, owned. Indices into these columns are commit indices minus the
/// head's length; parent indices stay global.
#[derive(Debug, Clone)]
struct Tail {
    shas: Vec<Sha>,
    /// One more than `shas`: offsets into `parents`, from 0.
    parent_start: Vec<u32>,
    parents: Vec<CommitIdx>,
    author_time: Vec<i64>,
    committer_time: Vec<i64>,
    /// Commit indices (global), sorted by sha within each run.
    sorted: Vec<CommitIdx>,
    /// The first four bytes of each sha in `sorted`, as a big-endian number: lookups binary-search
    /// this compact array and compare full shas only on a prefix match.
    sorted_prefix: Vec<u32>,
}

impl Default for Tail {
    fn default() -> Self {
        Self {
            shas: Vec::new(),
            parent_start: vec![0],
            parents: Vec::new(),
            author_time: Vec::new(),
            committer_time: Vec::new(),
            sorted: Vec::new(),
            sorted_prefix: Vec::new(),
        }
    }
}

/// A run's columns, borrowed, for checking.
struct RunSlices<'a> {
    shas: &'a [Sha],
    author_time: &'a [i64],
    committer_time: &'a [i64],
    parent_offsets: &'a [u32],
    parents: &'a [CommitIdx],
    reverts: &'a [(CommitIdx, ShaAbbrev)],
    shallow: &'a [CommitIdx],
    sorted: &'a [CommitIdx],
    sorted_prefix: &'a [u32],
}

impl<'a> RunSlices<'a> {
    fn of(run: &'a Columns) -> Self {
        Self {
            shas: &run.shas,
            author_time: &run.author_time,
            committer_time: &run.committer_time,
            parent_offsets: &run.parent_offsets,
            parents: &run.parents,
            reverts: &run.reverts,
            shallow: &run.shallow,
            sorted: &run.sorted,
            sorted_prefix: &run.sorted_prefix,
        }
    }

    /// Checks that the run can follow `start` commits, in linear time: lengths agree, parents are
    /// earlier commits, `parent_offsets` are `n + 1` non-decreasing offsets from 0 to the end of
    /// `parents`, `reverts` and `shallow` are ordered and name commits of the run, and the lookup
    /// order names each commit of the run with non-decreasing prefixes. (Lookups compare full shas,
    /// so a damaged order can only make a commit unfindable, never return a wrong one; caches carry
    /// a checksum against damage.)
    ///
    /// Returns the run's lookup table (built in the pass that checks the prefixes).
    fn check(&self, start: usize) -> Result<Fanout, GraphError> {
        let n = self.shas.len();
        let end = start + n;
        let bad = || GraphError::BadLookupRun { start, end };
        u32::try_from(end).map_err(|_| GraphError::TooLarge)?;
        if self.author_time.len() != n
            || self.committer_time.len() != n
            || self.parent_offsets.len() != n + 1
            || self.parent_offsets.first() != Some(&0)
            || self.parent_offsets.last().map(|&l| l as usize) != Some(self.parents.len())
        {
            return Err(bad());
        }
        for (i, pair) in self.parent_offsets.windows(2).enumerate() {
            let idx = (start + i) as u32;
            let parents = self
                .parents
                .get(pair[0] as usize..pair[1] as usize)
                .ok_or_else(bad)?;
            if let Some(&parent) = parents.iter().find(|&&p| p >= idx) {
                return Err(GraphError::ParentNotEarlier {
                    sha: self.shas[i],
                    parent,
                    len: start + i,
                });
            }
        }
        let in_run = |c: u32| (start..end).contains(&(c as usize));
        if !self.reverts.windows(2).all(|w| w[0].0 <= w[1].0)
            || !self.reverts.iter().all(|&(c, _)| in_run(c))
            || !self.shallow.windows(2).all(|w| w[0] < w[1])
            || !self.shallow.iter().all(|&c| in_run(c))
            || self.sorted.len() != n
            || self.sorted_prefix.len() != n
            || !self.sorted.iter().all(|&i| in_run(i))
        {
            return Err(bad());
        }
        Fanout::build_checked(self.sorted_prefix).ok_or_else(bad)
    }
}

/// Decodes a little-endian column of `W`-byte values.
fn decode_column<T, const W: usize>(
    bytes: &[u8],
    column: &'static str,
    value: impl Fn([u8; W]) -> T,
) -> Result<Vec<T>, GraphError> {
    let (chunks, rest) = bytes.as_chunks::<W>();
    if !rest.is_empty() {
        return Err(GraphError::BadColumnBytes {
            column,
            len: bytes.len(),
        });
    }
    Ok(chunks.iter().map(|&chunk| value(chunk)).collect())
}

impl ColumnBytes {
    /// The columns decoded into vectors, for when they cannot be read in place.
    fn decode(self) -> Result<Columns, GraphError> {
        Ok(Columns {
            shas: decode_column(&self.shas, "sha", Sha::from_bytes)?,
            author_time: decode_column(&self.author_time, "author time", i64::from_le_bytes)?,
            committer_time: decode_column(
                &self.committer_time,
                "committer time",
                i64::from_le_bytes,
            )?,
            parent_offsets: decode_column(
                &self.parent_offsets,
                "parent offset",
                u32::from_le_bytes,
            )?,
            parents: decode_column(&self.parents, "parent", u32::from_le_bytes)?,
            reverts: self.reverts,
            shallow: self.shallow,
            sorted: decode_column(&self.sorted, "lookup order", u32::from_le_bytes)?,
            sorted_prefix: decode_column(&self.sorted_prefix, "lookup prefix", u32::from_le_bytes)?,
        })
    }

    /// The columns as a head read in place, when every column is aligned (and the machine
    /// little-endian).
    fn head(&self) -> Option<Head> {
        let shas = Shared::<Sha>::new(self.shas.clone())?;
        Some(Head {
            len: shas.get().len(),
            shas,
            author_time: Shared::new(self.author_time.clone())?,
            committer_time: Shared::new(self.committer_time.clone())?,
            parent_start: Shared::new(self.parent_offsets.clone())?,
            parents: Shared::new(self.parents.clone())?,
            sorted: Shared::new(self.sorted.clone())?,
            sorted_prefix: Shared::new(self.sorted_prefix.clone())?,
        })
    }
}

/// A fan-out table over one run's sorted prefixes: where each value of the prefixes' top bits
/// starts, so that a lookup binary-searches one bucket (about a cache line of prefixes; shas are
/// uniformly distributed) instead of the whole run. The table is small (a sixteenth of the run), so
/// it stays in cache across lookups and costs little to build. Small runs have none.
#[derive(Debug, Clone, Default)]
struct Fanout {
    shift: u32,
    /// `2^bits + 1` positions; empty for no table.
    starts: Vec<u32>,
}

impl Fanout {
    /// Runs shorter than this are binary-searched whole.
    const MIN_RUN: usize = 4096;

    /// The table of sorted `prefix`es.
    fn build(prefix: &[u32]) -> Self {
        Self::build_checked(prefix).unwrap_or_default()
    }

    /// The table of `prefix`es, or `None` when they are not in non-decreasing order: checking the
    /// order and building the table is one pass.
    fn build_checked(prefix: &[u32]) -> Option<Self> {
        let n = prefix.len();
        if n < Self::MIN_RUN {
            return prefix.is_sorted().then(Self::default);
        }
        // About 8 to 16 prefixes a bucket.
        let bits = (n.ilog2() - 3).clamp(8, 24);
        let shift = 32 - bits;
        let buckets = 1usize << bits;
        let mut starts = Vec::with_capacity(buckets + 1);
        let mut previous = 0u32;
        for (i, &p) in prefix.iter().enumerate() {
            if p < previous {
                return None;
            }
            previous = p;
            // Every bucket up to this prefix's starts at or before `i`.
            let bucket = (p >> shift) as usize;
            if starts.len() <= bucket {
                starts.resize(bucket + 1, i as u32);
            }
        }
        starts.resize(buckets + 1, n as u32);
        Some(Self { shift, starts })
    }

    /// The positions of a run of `len` whose prefix can be `key`.
    #[inline]
    fn range(&self, key: u32, len: usize) -> Range<usize> {
        let bucket = (key >> self.shift) as usize;
        match (self.starts.get(bucket), self.starts.get(bucket + 1)) {
            (Some(&from), Some(&to)) => {
                let to = (to as usize).min(len);
                (from as usize).min(to)..to
            }
            _ => 0..len,
        }
    }
}

/// Every commit's parents, ready for a walk over many commits: what [`CommitGraph::parents`]
/// looks up on each call is looked up once. See [`CommitGraph::parent_lists`].
#[derive(Debug, Clone, Copy)]
pub struct ParentLists<'a> {
    head_len: usize,
    head_start: &'a [u32],
    head_parents: &'a [CommitIdx],
    tail_start: &'a [u32],
    tail_parents: &'a [CommitIdx],
}

impl<'a> ParentLists<'a> {
    /// The parents of commit `idx`, first parent first, as [`CommitGraph::parents`].
    #[inline]
    pub fn of(&self, idx: CommitIdx) -> &'a [CommitIdx] {
        let i = idx as usize;
        let (start, parents, j) = match i.checked_sub(self.head_len) {
            None => (self.head_start, self.head_parents, i),
            Some(j) => (self.tail_start, self.tail_parents, j),
        };
        &parents[start[j] as usize..start[j + 1] as usize]
    }
}

/// One time column of every commit, ready for reading many commits: see
/// [`CommitGraph::author_times`] and [`CommitGraph::committer_times`].
#[derive(Debug, Clone, Copy)]
pub struct TimeColumn<'a> {
    head: &'a [i64],
    tail: &'a [i64],
}

impl TimeColumn<'_> {
    /// The time of commit `idx`, seconds since the Unix epoch.
    #[inline]
    pub fn get(&self, idx: CommitIdx) -> i64 {
        let i = idx as usize;
        match i.checked_sub(self.head.len()) {
            None => self.head[i],
            Some(j) => self.tail[j],
        }
    }
}

/// An arena of commits in topological order. See the module docs.
#[derive(Debug, Clone)]
pub struct CommitGraph {
    head: Head,
    tail: Tail,
    /// (commit, reverted sha), sorted by commit.
    reverts: Vec<(CommitIdx, ShaAbbrev)>,
    /// Shallow boundary commits, ascending.
    shallow: Vec<CommitIdx>,
    /// Ends of the runs (each run starts where the previous ended). A run's lookup order occupies
    /// the same positions of the concatenated lookup orders (the head's, then the tail's) as its
    /// commits do of the graph.
    run_ends: Vec<usize>,
    /// One per run.
    fanouts: Vec<Fanout>,
}

impl Default for CommitGraph {
    fn default() -> Self {
        Self::new()
    }
}

impl CommitGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self {
            head: Head::default(),
            tail: Tail::default(),
            reverts: Vec::new(),
            shallow: Vec::new(),
            run_ends: Vec::new(),
            fanouts: Vec::new(),
        }
    }

    /// Makes room for `commits` more commits with about `parents` parent links in all.
    pub fn reserve(&mut self, commits: usize, parents: usize) {
        let tail = &mut self.tail;
        tail.shas.reserve_exact(commits);
        tail.parent_start.reserve_exact(commits);
        tail.parents.reserve_exact(parents);
        tail.author_time.reserve_exact(commits);
        tail.committer_time.reserve_exact(commits);
        tail.sorted.reserve_exact(commits);
        tail.sorted_prefix.reserve_exact(commits);
    }

    /// How many of the commits are read in place from shared bytes (see the module docs).
    pub fn len_in_place(&self) -> usize {
        self.head.len
    }

    /// The number of commits.
    pub fn len(&self) -> usize {
        self.head.len + self.tail.shas.len()
    }

    /// Whether the graph holds no commit.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a commit whose parents are all in the graph already; returns its index.
    ///
    /// The commit cannot be found by sha until the run it belongs to is closed with
    /// [`CommitGraph::close_run`] (or appended as a whole run with [`CommitGraph::append_run`]).
    pub fn push(&mut self, commit: NewCommit<'_>) -> Result<CommitIdx, GraphError> {
        let idx = u32::try_from(self.len()).map_err(|_| GraphError::TooLarge)?;
        if let Some(&parent) = commit.parents.iter().find(|&&p| p >= idx) {
            return Err(GraphError::ParentNotEarlier {
                sha: commit.sha,
                parent,
                len: self.len(),
            });
        }
        let tail = &mut self.tail;
        tail.parents.extend_from_slice(commit.parents);
        let end = u32::try_from(tail.parents.len()).map_err(|_| GraphError::TooLarge)?;
        tail.shas.push(commit.sha);
        tail.parent_start.push(end);
        tail.author_time.push(commit.author_time);
        tail.committer_time.push(commit.committer_time);
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

    /// Records that the run ending at `end` is closed (its lookup order in place), with its table.
    fn run_closed(&mut self, end: usize, fanout: Fanout) {
        self.run_ends.push(end);
        self.fanouts.push(fanout);
    }

    /// The lookup table of the open run, whose sorted order ends the tail's.
    fn tail_fanout(&self, start: usize) -> Fanout {
        let from = (start - self.head.len).min(self.tail.sorted_prefix.len());
        Fanout::build(&self.tail.sorted_prefix[from..])
    }

    /// Makes the commits appended since the last run findable by sha, sorting them.
    pub fn close_run(&mut self) {
        let start = self.open_run_start();
        let end = self.len();
        if start == end {
            return;
        }
        // The open run is in the tail: the head is a closed run.
        let base = self.head.len;
        let shas = &self.tail.shas;
        let mut run: Vec<CommitIdx> = (start as u32..end as u32).collect();
        run.sort_unstable_by_key(|&i| shas[i as usize - base]);
        self.tail
            .sorted_prefix
            .extend(run.iter().map(|&i| shas[i as usize - base].prefix32()));
        self.tail.sorted.extend_from_slice(&run);
        let fanout = self.tail_fanout(start);
        self.run_closed(end, fanout);
    }

    /// Appends a whole run of commits given column by column (as a cache stores them) and closes
    /// it. Equivalent to [`CommitGraph::push`] for each commit and [`CommitGraph::close_run`],
    /// at memory speed. Everything is checked: parents must be earlier commits, `parent_offsets`
    /// must be `shas.len() + 1` non-decreasing offsets into `parents` starting at 0, `reverts` and
    /// `shallow` must be ordered and name commits of the run, `sorted` must name each commit of the
    /// run once with non-decreasing `sorted_prefix`. A rejected run leaves the graph as it was.
    pub fn append_run(&mut self, run: Columns) -> Result<(), GraphError> {
        let start = self.len();
        if self.open_run_start() != start {
            return Err(GraphError::BadLookupRun {
                start,
                end: start + run.shas.len(),
            });
        }
        let fanout = RunSlices::of(&run).check(start)?;
        if run.shas.is_empty() {
            return Ok(());
        }
        let end = start + run.shas.len();
        if start == 0 {
            // The first run: take the columns as they are.
            self.tail = Tail {
                shas: run.shas,
                parent_start: run.parent_offsets,
                parents: run.parents,
                author_time: run.author_time,
                committer_time: run.committer_time,
                sorted: run.sorted,
                sorted_prefix: run.sorted_prefix,
            };
            self.reverts = run.reverts;
            self.shallow = run.shallow;
        } else {
            let tail = &mut self.tail;
            let base = tail.parents.len() as u32;
            tail.shas.extend_from_slice(&run.shas);
            tail.author_time.extend_from_slice(&run.author_time);
            tail.committer_time.extend_from_slice(&run.committer_time);
            tail.parents.extend_from_slice(&run.parents);
            tail.parent_start
                .extend(run.parent_offsets[1..].iter().map(|&o| base + o));
            tail.sorted.extend_from_slice(&run.sorted);
            tail.sorted_prefix.extend_from_slice(&run.sorted_prefix);
            self.reverts.extend_from_slice(&run.reverts);
            self.shallow.extend_from_slice(&run.shallow);
        }
        self.run_closed(end, fanout);
        Ok(())
    }

    /// Like [`CommitGraph::append_run`], with the columns as little-endian bytes. The first run of
    /// an empty graph is read in place when its columns are aligned (see the module docs); any
    /// other run is decoded and appended. Checked exactly as [`CommitGraph::append_run`].
    pub fn append_run_bytes(&mut self, run: ColumnBytes) -> Result<(), GraphError> {
        if self.is_empty()
            && let Some(head) = run.head()
        {
            let fanout = RunSlices {
                shas: head.shas.get(),
                author_time: head.author_time.get(),
                committer_time: head.committer_time.get(),
                parent_offsets: head.parent_start.get(),
                parents: head.parents.get(),
                reverts: &run.reverts,
                shallow: &run.shallow,
                sorted: head.sorted.get(),
                sorted_prefix: head.sorted_prefix.get(),
            }
            .check(0)?;
            if head.len > 0 {
                let end = head.len;
                self.head = head;
                self.run_closed(end, fanout);
                self.reverts = run.reverts;
                self.shallow = run.shallow;
            }
            return Ok(());
        }
        self.append_run(run.decode()?)
    }

    /// The sorted lookup order of run number `run` (for writing caches).
    pub fn sorted_run(&self, run: usize) -> Option<&[CommitIdx]> {
        self.lookup_slices(self.run_range(run)?)
            .map(|(sorted, _)| sorted)
    }

    /// The sha prefixes of run number `run`, in its sorted order (for writing caches).
    pub fn sorted_run_prefix(&self, run: usize) -> Option<&[u32]> {
        self.lookup_slices(self.run_range(run)?)
            .map(|(_, prefix)| prefix)
    }

    fn run_range(&self, run: usize) -> Option<Range<usize>> {
        let end = *self.run_ends.get(run)?;
        let start = if run == 0 { 0 } else { self.run_ends[run - 1] };
        Some(start..end)
    }

    /// The lookup order and prefixes at positions `range` (one run: wholly in the head or wholly in
    /// the tail).
    fn lookup_slices(&self, range: Range<usize>) -> Option<(&[CommitIdx], &[u32])> {
        let base = self.head.len;
        if range.end <= base {
            Some((
                self.head.sorted.get().get(range.clone())?,
                self.head.sorted_prefix.get().get(range)?,
            ))
        } else {
            let range = range.start.checked_sub(base)?..range.end - base;
            Some((
                self.tail.sorted.get(range.clone())?,
                self.tail.sorted_prefix.get(range)?,
            ))
        }
    }

    /// The commit-index range of each closed run, in order.
    pub fn runs(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.run_ends.iter().scan(0usize, |start, &end| {
            let range = *start..end;
            *start = end;
            Some(range)
        })
    }

    /// Each run's (sorted indices, their prefixes).
    fn lookup_runs(&self) -> impl Iterator<Item = (&[CommitIdx], &[u32])> + '_ {
        self.runs().filter_map(|range| self.lookup_slices(range))
    }

    /// Finds a commit by its full sha.
    pub fn find(&self, sha: &Sha) -> Option<CommitIdx> {
        let key = sha.prefix32();
        let empty = Fanout::default();
        self.lookup_runs()
            .enumerate()
            .find_map(|(r, (run, prefix))| {
                let bucket = self
                    .fanouts
                    .get(r)
                    .unwrap_or(&empty)
                    .range(key, prefix.len());
                let from = bucket.start + prefix[bucket].partition_point(|&p| p < key);
                prefix[from..]
                    .iter()
                    .take_while(|&&p| p == key)
                    .zip(&run[from..])
                    .find(|&(_, &i)| &self.sha(i) == sha)
                    .map(|(_, &i)| i)
            })
    }

    /// The commits whose sha starts with `abbrev`: [`AbbrevMatch::Unique`] when exactly one does.
    pub fn find_abbrev(&self, abbrev: &ShaAbbrev) -> AbbrevMatch {
        if let Some(sha) = abbrev.as_full() {
            return self
                .find(&sha)
                .map_or(AbbrevMatch::Unknown, AbbrevMatch::Unique);
        }
        let (low, high) = abbrev.prefix32_range();
        let empty = Fanout::default();
        let mut found: Option<CommitIdx> = None;
        let mut count = 0usize;
        for (r, (run, prefix)) in self.lookup_runs().enumerate() {
            let fanout = self.fanouts.get(r).unwrap_or(&empty);
            let start = fanout.range(low, prefix.len()).start;
            let end = fanout.range(high, prefix.len()).end.max(start);
            let from = start + prefix[start..end].partition_point(|&p| p < low);
            for (_, &i) in prefix[from..]
                .iter()
                .take_while(|&&p| p <= high)
                .zip(&run[from..])
                .filter(|&(_, &i)| abbrev.names(&self.sha(i)))
            {
                count += 1;
                found = Some(i);
            }
        }
        match (count, found) {
            (1, Some(i)) => AbbrevMatch::Unique(i),
            (0, _) | (_, None) => AbbrevMatch::Unknown,
            (n, _) => AbbrevMatch::Ambiguous(n),
        }
    }

    /// The sha of commit `idx`.
    #[inline]
    pub fn sha(&self, idx: CommitIdx) -> Sha {
        let i = idx as usize;
        match i.checked_sub(self.head.len) {
            None => self.head.shas.get()[i],
            Some(j) => self.tail.shas[j],
        }
    }

    /// All shas in index order.
    pub fn shas(&self) -> impl Iterator<Item = Sha> + '_ {
        self.head.shas.get().iter().chain(&self.tail.shas).copied()
    }

    /// The parents of every commit, for walks over many commits.
    #[inline]
    pub fn parent_lists(&self) -> ParentLists<'_> {
        ParentLists {
            head_len: self.head.len,
            head_start: self.head.parent_start.get(),
            head_parents: self.head.parents.get(),
            tail_start: &self.tail.parent_start,
            tail_parents: &self.tail.parents,
        }
    }

    /// Every commit's author time, for reading many commits.
    #[inline]
    pub fn author_times(&self) -> TimeColumn<'_> {
        TimeColumn {
            head: self.head.author_time.get(),
            tail: &self.tail.author_time,
        }
    }

    /// Every commit's committer time, for reading many commits.
    #[inline]
    pub fn committer_times(&self) -> TimeColumn<'_> {
        TimeColumn {
            head: self.head.committer_time.get(),
            tail: &self.tail.committer_time,
        }
    }

    /// The parents of commit `idx`, first parent first.
    #[inline]
    pub fn parents(&self, idx: CommitIdx) -> &[CommitIdx] {
        self.parent_lists().of(idx)
    }

    /// Author time of commit `idx`, seconds since the Unix epoch.
    #[inline]
    pub fn author_time(&self, idx: CommitIdx) -> i64 {
        self.author_times().get(idx)
    }

    /// Committer time of commit `idx`, seconds since the Unix epoch.
    #[inline]
    pub fn committer_time(&self, idx: CommitIdx) -> i64 {
        self.committer_times().get(idx)
    }

    /// The commits that `idx` reverts, from its message.
    pub fn reverts_of(&self, idx: CommitIdx) -> impl Iterator<Item = ShaAbbrev> + '_ {
        let from = self.reverts.partition_point(|&(c, _)| c < idx);
        self.reverts[from..]
            .iter()
            .take_while(move |&&(c, _)| c == idx)
            .map(|&(_, sha)| sha)
    }

    /// Every (commit, reverted sha) pair, ordered by commit.
    pub fn all_reverts(&self) -> &[(CommitIdx, ShaAbbrev)] {
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
    /// to it. The commits seen are a bitmap over the indices between the two (a walk can cover most
    /// of a large history, as when the newer deployment of a rollback check is far older).
    pub fn is_strict_ancestor(&self, ancestor: CommitIdx, descendant: CommitIdx) -> bool {
        if ancestor >= descendant {
            return false;
        }
        let parents = self.parent_lists();
        // Bit `c - ancestor` for each commit `c` above `ancestor` already queued.
        let mut seen = vec![0u64; ((descendant - ancestor) as usize >> 6) + 1];
        let mut stack = vec![descendant];
        while let Some(c) = stack.pop() {
            for &p in parents.of(c) {
                if p == ancestor {
                    return true;
                }
                if p > ancestor {
                    let bit = (p - ancestor) as usize;
                    let (word, mask) = (bit >> 6, 1u64 << (bit & 63));
                    if seen[word] & mask == 0 {
                        seen[word] |= mask;
                        stack.push(p);
                    }
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
            reverts: vec![(2, sha(5).into())],
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
        assert_eq!(
            g.reverts_of(2).collect::<Vec<_>>(),
            [ShaAbbrev::from(sha(5))]
        );
    }

    /// A sha from a counter, spread over the whole range like real ones.
    fn spread_sha(n: u32) -> Sha {
        let mut b = [0u8; 20];
        let mut x = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555;
        for chunk in b.chunks_mut(8) {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let bytes = x.to_be_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Sha::from_bytes(b)
    }

    fn linear_run(g: &mut CommitGraph, from: u32, to: u32) {
        for n in from..to {
            let parents: Vec<u32> = n.checked_sub(1).into_iter().collect();
            g.push(NewCommit {
                sha: spread_sha(n),
                parents: &parents,
                author_time: i64::from(n),
                committer_time: i64::from(n) * 2,
                reverts: &[],
                shallow: false,
            })
            .unwrap();
        }
        g.close_run();
    }

    #[test]
    fn large_runs_are_searched_through_their_fanout() {
        let mut g = CommitGraph::new();
        linear_run(&mut g, 0, 5000);
        linear_run(&mut g, 5000, 5010);
        for n in 0..5010 {
            assert_eq!(g.find(&spread_sha(n)), Some(n), "commit {n}");
        }
        for n in 5010..6000 {
            assert_eq!(g.find(&spread_sha(n)), None);
        }
        // Extreme prefixes land in the first and last buckets.
        assert_eq!(g.find(&Sha::from_bytes([0; 20])), None);
        assert_eq!(g.find(&Sha::from_bytes([0xff; 20])), None);
        // Abbreviations: every commit by its first 7 and 12 hex characters, in both runs.
        let abbrev = |sha: Sha, len: usize| ShaAbbrev::from_hex(&sha.short(len)).unwrap();
        for n in (0..5010).step_by(7) {
            let sha = spread_sha(n);
            assert_eq!(g.find_abbrev(&abbrev(sha, 12)), AbbrevMatch::Unique(n));
            assert_eq!(g.find_abbrev(&abbrev(sha, 40)), AbbrevMatch::Unique(n));
            assert!(matches!(
                g.find_abbrev(&abbrev(sha, 7)),
                AbbrevMatch::Unique(m) if m == n
            ));
        }
        assert_eq!(
            g.find_abbrev(&abbrev(spread_sha(5500), 12)),
            AbbrevMatch::Unknown
        );
    }

    #[test]
    fn an_abbreviation_two_commits_share_names_neither() {
        let mut g = CommitGraph::new();
        let twin = |last: u8| {
            let mut b = [0x9c; 20];
            b[3] = 0x10 | (last & 0x0f);
            b[19] = last;
            Sha::from_bytes(b)
        };
        for (n, sha) in [twin(1), twin(2), sha(7)].into_iter().enumerate() {
            let parents: Vec<u32> = (n as u32).checked_sub(1).into_iter().collect();
            g.push(NewCommit {
                sha,
                parents: &parents,
                author_time: 0,
                committer_time: 0,
                reverts: &[],
                shallow: false,
            })
            .unwrap();
        }
        g.close_run();
        // twin(1) = 9c9c9c11..., twin(2) = 9c9c9c12...: 7 hex characters name both.
        let shared = ShaAbbrev::from_hex("9c9c9c1").unwrap();
        assert_eq!(g.find_abbrev(&shared), AbbrevMatch::Ambiguous(2));
        let one = ShaAbbrev::from_hex("9c9c9c11").unwrap();
        assert_eq!(g.find_abbrev(&one), AbbrevMatch::Unique(0));
        let none = ShaAbbrev::from_hex("9c9c9c3").unwrap();
        assert_eq!(g.find_abbrev(&none), AbbrevMatch::Unknown);
    }

    fn le_bytes<T: Copy, const W: usize>(values: &[T], f: impl Fn(T) -> [u8; W]) -> Vec<u8> {
        values.iter().flat_map(|&v| f(v)).collect()
    }

    /// `run` as column bytes, each column starting `offset` bytes into an aligned buffer.
    fn column_bytes(run: &Columns, offset: usize) -> ColumnBytes {
        let shifted = |data: Vec<u8>| {
            let mut buffer = vec![0u8; offset];
            buffer.extend(data);
            Bytes::from(buffer).slice(offset..)
        };
        ColumnBytes {
            shas: shifted(run.shas.iter().flat_map(|s| *s.as_bytes()).collect()),
            author_time: shifted(le_bytes(&run.author_time, i64::to_le_bytes)),
            committer_time: shifted(le_bytes(&run.committer_time, i64::to_le_bytes)),
            parent_offsets: shifted(le_bytes(&run.parent_offsets, u32::to_le_bytes)),
            parents: shifted(le_bytes(&run.parents, u32::to_le_bytes)),
            reverts: run.reverts.clone(),
            shallow: run.shallow.clone(),
            sorted: shifted(le_bytes(&run.sorted, u32::to_le_bytes)),
            sorted_prefix: shifted(le_bytes(&run.sorted_prefix, u32::to_le_bytes)),
        }
    }

    fn columns_of(g: &CommitGraph) -> Columns {
        let n = g.len() as u32;
        let mut offsets = vec![0u32];
        let mut parents = Vec::new();
        for i in 0..n {
            parents.extend_from_slice(g.parents(i));
            offsets.push(parents.len() as u32);
        }
        Columns {
            shas: g.shas().collect(),
            author_time: (0..n).map(|i| g.author_time(i)).collect(),
            committer_time: (0..n).map(|i| g.committer_time(i)).collect(),
            parent_offsets: offsets,
            parents,
            reverts: g.all_reverts().to_vec(),
            shallow: g.shallow_commits().to_vec(),
            sorted: g.sorted_run(0).unwrap().to_vec(),
            sorted_prefix: g.sorted_run_prefix(0).unwrap().to_vec(),
        }
    }

    #[test]
    fn runs_from_bytes_are_read_in_place_or_decoded_alike() {
        let mut original = CommitGraph::new();
        linear_run(&mut original, 0, 3000);
        let run = columns_of(&original);
        for offset in [0, 1, 4] {
            let mut g = CommitGraph::new();
            g.append_run_bytes(column_bytes(&run, offset)).unwrap();
            let in_place = offset == 0 && cfg!(target_endian = "little");
            assert_eq!(g.len_in_place(), if in_place { 3000 } else { 0 });
            // A later run goes to the owned tail.
            let next = g.push(NewCommit {
                sha: spread_sha(3000),
                parents: &[2999, 5],
                author_time: 7,
                committer_time: 8,
                reverts: &[spread_sha(5).into()],
                shallow: false,
            });
            assert_eq!(next, Ok(3000));
            g.close_run();
            assert_eq!(g.len(), 3001);
            for n in [0u32, 1, 1500, 2999] {
                assert_eq!(g.find(&spread_sha(n)), Some(n));
                assert_eq!(g.parents(n), original.parents(n));
                assert_eq!(g.author_time(n), original.author_time(n));
                assert_eq!(g.committer_time(n), original.committer_time(n));
            }
            assert_eq!(g.find(&spread_sha(3000)), Some(3000));
            assert_eq!(g.parents(3000), &[2999, 5]);
            assert_eq!(
                g.reverts_of(3000).collect::<Vec<_>>(),
                [ShaAbbrev::from(spread_sha(5))]
            );
            assert_eq!(g.sorted_run(0), original.sorted_run(0));
            assert_eq!(g.sorted_run(1), Some(&[3000][..]));
            assert!(g.shas().take(3000).eq(original.shas()));
        }
        // Damaged runs are rejected either way, leaving the graph empty.
        for offset in [0, 1] {
            let mut bad = run.clone();
            bad.parents[10] = 4000;
            let mut g = CommitGraph::new();
            assert!(matches!(
                g.append_run_bytes(column_bytes(&bad, offset)),
                Err(GraphError::ParentNotEarlier { parent: 4000, .. })
            ));
            assert!(g.is_empty());
            let mut unsorted = run.clone();
            unsorted.sorted_prefix.swap(0, 2999);
            assert!(g.append_run_bytes(column_bytes(&unsorted, offset)).is_err());
            assert!(g.is_empty() && g.runs().count() == 0);
        }
        let mut torn = column_bytes(&run, 0);
        torn.author_time = torn.author_time.slice(1..);
        let mut g = CommitGraph::new();
        assert!(matches!(
            g.append_run_bytes(torn),
            Err(GraphError::BadColumnBytes {
                column: "author time",
                ..
            })
        ));
    }
}
