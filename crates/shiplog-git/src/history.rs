//! Reading commit history into the [`CommitGraph`], incrementally.
//!
//! [`sync`] takes the graph as cached so far and the commits that must be in it (deployment tips),
//! finds the commits reachable from those tips that the graph lacks, and appends them in topological
//! order. It works in two phases:
//!
//! 1. **Discovery** walks from the unknown tips down to known commits. Where the repository has a
//!    commit-graph file, parents and committer times come from it without inflating any object; other
//!    commits are decoded on the spot.
//! 2. **Decoding** inflates the commits discovered through the commit-graph to read their author time
//!    and message (for `This reverts commit <sha>`), split across all cores.
//!
//! Commits at a shallow clone's boundary are kept with no parents and flagged, so the boundary is
//! reported rather than guessed across. Commit messages are bytes: non-UTF-8 messages are fine.

use gix::ObjectId;
use gix::hashtable::HashMap;
use gix::prelude::Find;
use memchr::memmem;
use shiplog_core::{CommitGraph, CommitIdx, NewCommit, Sha, ShaAbbrev};

use crate::{GitRepo, RepoError, to_sha};

/// Receives progress while history is read. Called from several threads.
pub trait Progress: Sync {
    /// The number of commits that will be decoded.
    fn start_decoding(&self, total: u64);
    /// `n` more commits were decoded.
    fn advance(&self, n: u64);
}

/// A [`Progress`] that reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start_decoding(&self, _total: u64) {}
    fn advance(&self, _n: u64) {}
}

/// What a history read did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Commits already in the graph before the read.
    pub cached: usize,
    /// Commits read from the repository and appended.
    pub new: usize,
    /// Whether a commit-graph file served the walk.
    pub used_commit_graph: bool,
    /// Tips the repository does not have (they stay missing from the graph).
    pub unknown_tips: Vec<Sha>,
    /// New commits at a shallow boundary.
    pub new_shallow: usize,
}

/// Why history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A commit's parent is missing from the object database, and the repository is not shallow there.
    #[error(
        "commit {commit} names parent {parent}, which the repository does not have (a partial clone or a damaged repository?)"
    )]
    MissingParent {
        /// The child.
        commit: Sha,
        /// The missing parent.
        parent: Sha,
    },
    /// An object could not be read or decoded.
    #[error("cannot read commit {commit}: {detail}")]
    Read {
        /// The commit.
        commit: Sha,
        /// What went wrong.
        detail: String,
    },
    /// The repository could not be queried.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The cached graph says a commit is a shallow boundary, but the repository now has its parents
    /// (it was deepened). The cache must be rebuilt.
    #[error("the repository was deepened since history was cached")]
    Deepened,
    /// Appending to the graph failed.
    #[error(transparent)]
    Graph(#[from] shiplog_core::graph::GraphError),
    /// A worker thread panicked.
    #[error("a history-reading thread failed")]
    Thread,
}

/// One parent of a newly discovered commit.
#[derive(Clone, Copy)]
enum ParentRef {
    /// Already in the graph.
    Known(CommitIdx),
    /// Another new commit (index into the discovery list).
    New(u32),
    /// Not yet discovered when its child was: a commit-graph position.
    PendingPosition(u32),
    /// Not yet discovered when its child was: a commit outside the commit-graph (an index into
    /// the list of such ids, keeping this type 8 bytes).
    PendingId(u32),
}

/// A commit to visit: by commit-graph position when the graph file has it (no hashing, no object
/// lookup), else by id.
#[derive(Clone, Copy)]
enum Node {
    Position(u32),
    Id(ObjectId),
}

const UNSEEN: u32 = u32::MAX;

/// Discovery index by commit-graph position. The table (4 bytes per commit of the repository) is
/// made on the first write: a warm run that reads a handful of new commits, none through the
/// commit-graph, never pays for it.
struct PositionMap {
    slots: Vec<u32>,
    len: usize,
}

impl PositionMap {
    fn new(len: usize) -> Self {
        Self {
            slots: Vec::new(),
            len,
        }
    }

    fn get(&self, position: u32) -> u32 {
        self.slots.get(position as usize).copied().unwrap_or(UNSEEN)
    }

    fn set(&mut self, position: u32, index: u32) {
        let position = position as usize;
        if position >= self.slots.len() {
            self.slots.resize(self.len.max(position + 1), UNSEEN);
        }
        self.slots[position] = index;
    }
}

/// A commit found by discovery. Kept small (48 bytes): a million of them live at once.
struct Discovered {
    id: ObjectId,
    parents_start: u32,
    committer_time: i64,
    author_time: i64,
    /// Whether the object was decoded (author time and reverts known).
    decoded: bool,
    shallow: bool,
}

/// Reads the commits reachable from `tips` that `graph` lacks, appends them and closes the run.
pub fn sync(
    repo: &GitRepo,
    graph: &mut CommitGraph,
    tips: &[Sha],
    progress: &dyn Progress,
) -> Result<SyncReport, SyncError> {
    let gix_repo = &repo.repo;
    let mut report = SyncReport {
        cached: graph.len(),
        ..SyncReport::default()
    };
    let shallow: Vec<ObjectId> = gix_repo
        .shallow_commits()
        .map_err(|e| RepoError::query("read the shallow boundary", e))?
        .map(|commits| commits.iter().copied().collect())
        .unwrap_or_default();
    // A cached boundary commit that is no longer a boundary means the clone was deepened.
    for &c in graph.shallow_commits() {
        let id = crate::to_oid(&graph.sha(c));
        if !shallow.contains(&id) {
            return Err(SyncError::Deepened);
        }
    }

    let mut stack: Vec<Node> = Vec::new();
    for tip in tips {
        if graph.find(tip).is_some() {
            continue;
        }
        let id = crate::to_oid(tip);
        match gix_repo.find_header(id) {
            Ok(header) if header.kind() == gix::objs::Kind::Commit => stack.push(Node::Id(id)),
            _ => report.unknown_tips.push(*tip),
        }
    }
    report.unknown_tips.sort_unstable();
    report.unknown_tips.dedup();
    if stack.is_empty() {
        return Ok(report);
    }

    let commit_graph = gix_repo.commit_graph_if_enabled().ok().flatten();
    report.used_commit_graph = commit_graph.is_some();
    let cg = commit_graph.as_ref();
    let shallow: gix::hashtable::HashSet<ObjectId> = shallow.into_iter().collect();

    // Phase 1: discovery. Discovered commits are indexed by commit-graph position where possible.
    let mut found: Vec<Discovered> = Vec::new();
    let mut parents: Vec<ParentRef> = Vec::new();
    let mut by_position = PositionMap::new(cg.map_or(0, |cg| cg.num_commits() as usize));
    let mut by_id: HashMap<ObjectId, u32> = HashMap::default();
    let in_graph = |id: &ObjectId| cg.and_then(|cg| cg.lookup(id)).map(|p| p.0);
    let mut buf = Vec::new();
    let mut parent_nodes: Vec<Node> = Vec::with_capacity(4);
    let mut parent_ids: Vec<ObjectId> = Vec::with_capacity(4);
    let mut pending_ids: Vec<ObjectId> = Vec::new();
    // (discovery index, reverted sha), for commits decoded so far.
    let mut reverts: Vec<(u32, ShaAbbrev)> = Vec::new();
    // Tips by commit-graph position where it has them, as parents are pushed below.
    for node in &mut stack {
        if let Node::Id(id) = *node {
            *node = in_graph(&id).map_or(Node::Id(id), Node::Position);
        }
    }
    while let Some(node) = stack.pop() {
        let seen = match node {
            Node::Position(p) => by_position.get(p) != UNSEEN,
            Node::Id(id) => by_id.contains_key(&id),
        };
        if seen {
            continue;
        }
        let id = match (node, cg) {
            (Node::Position(p), Some(cg)) => cg.id_at(gix::commitgraph::Position(p)).to_owned(),
            (Node::Id(id), _) => id,
            // Positions only exist with a commit-graph.
            (Node::Position(_), None) => continue,
        };
        let is_shallow = shallow.contains(&id);
        parent_nodes.clear();
        let me = found.len() as u32;
        let (committer_time, author_time, decoded) = match (node, cg) {
            (Node::Position(p), Some(cg)) if !is_shallow => {
                let commit = cg.commit_at(gix::commitgraph::Position(p));
                for parent in commit.iter_parents() {
                    let parent = parent.map_err(|e| SyncError::Read {
                        commit: to_sha(&id),
                        detail: format!("commit-graph: {e}"),
                    })?;
                    parent_nodes.push(Node::Position(parent.0));
                }
                (commit.committer_timestamp() as i64, i64::MIN, false)
            }
            _ => {
                let data = gix_repo
                    .objects
                    .try_find(&id, &mut buf)
                    .map_err(|e| SyncError::Read {
                        commit: to_sha(&id),
                        detail: e.to_string(),
                    })?
                    .ok_or_else(|| SyncError::Read {
                        commit: to_sha(&id),
                        detail: "object not found".to_owned(),
                    })?;
                parent_ids.clear();
                let fields = parse_commit(data.data, Some(&mut parent_ids)).map_err(|detail| {
                    SyncError::Read {
                        commit: to_sha(&id),
                        detail,
                    }
                })?;
                if !is_shallow {
                    parent_nodes.extend(parent_ids.iter().map(|&p| Node::Id(p)));
                }
                reverts.extend(fields.reverts.into_iter().map(|sha| (me, sha)));
                (fields.committer_time, fields.author_time, true)
            }
        };
        match node {
            Node::Position(p) => by_position.set(p, me),
            Node::Id(id) => {
                by_id.insert(id, me);
            }
        }
        found.push(Discovered {
            id,
            parents_start: parents.len() as u32,
            committer_time,
            author_time,
            decoded,
            shallow: is_shallow,
        });
        for &parent in &parent_nodes {
            let parent = match parent {
                Node::Id(pid) => in_graph(&pid).map_or(Node::Id(pid), Node::Position),
                position => position,
            };
            if !graph.is_empty() {
                let parent_sha = match (parent, cg) {
                    (Node::Position(p), Some(cg)) => {
                        to_sha(cg.id_at(gix::commitgraph::Position(p)))
                    }
                    (Node::Id(pid), _) => to_sha(&pid),
                    (Node::Position(_), None) => continue,
                };
                if let Some(known) = graph.find(&parent_sha) {
                    parents.push(ParentRef::Known(known));
                    continue;
                }
            }
            match parent {
                Node::Position(p) if by_position.get(p) != UNSEEN => {
                    parents.push(ParentRef::New(by_position.get(p)));
                }
                Node::Position(p) => {
                    parents.push(ParentRef::PendingPosition(p));
                    stack.push(parent);
                }
                Node::Id(pid) => match by_id.get(&pid) {
                    Some(&new) => parents.push(ParentRef::New(new)),
                    None => {
                        parents.push(ParentRef::PendingId(pending_ids.len() as u32));
                        pending_ids.push(pid);
                        stack.push(parent);
                    }
                },
            }
        }
    }
    // Resolve parents that were discovered after their children.
    for k in 0..found.len() {
        for slot in parent_range(&found, &parents, k) {
            let resolved = match parents[slot] {
                ParentRef::PendingPosition(p) => Some(by_position.get(p)).filter(|&n| n != UNSEEN),
                ParentRef::PendingId(i) => by_id.get(&pending_ids[i as usize]).copied(),
                _ => continue,
            };
            let missing = || match (parents[slot], cg) {
                (ParentRef::PendingPosition(p), Some(cg)) => {
                    to_sha(cg.id_at(gix::commitgraph::Position(p)))
                }
                (ParentRef::PendingId(i), _) => to_sha(&pending_ids[i as usize]),
                _ => Sha::from_bytes([0; 20]),
            };
            let new = resolved.ok_or_else(|| SyncError::MissingParent {
                commit: to_sha(&found[k].id),
                parent: missing(),
            })?;
            parents[slot] = ParentRef::New(new);
        }
    }
    drop(by_id);
    drop(by_position);
    drop(pending_ids);

    // Phase 2: decode what discovery did not.
    reverts.extend(decode_pending(repo, &mut found, progress)?);
    reverts.sort_unstable_by_key(|&(k, _)| k);

    // Topological order of the new commits: parents first.
    let order = topological_order(&found, &parents);
    let base = graph.len() as u32;
    let mut final_index = vec![0u32; found.len()];
    for (pos, &k) in order.iter().enumerate() {
        final_index[k as usize] = base + pos as u32;
    }
    graph.reserve(found.len(), parents.len());
    let mut parent_buf: Vec<CommitIdx> = Vec::with_capacity(4);
    let mut revert_buf: Vec<ShaAbbrev> = Vec::new();
    for &k in &order {
        let d = &found[k as usize];
        parent_buf.clear();
        for p in &parents[parent_range(&found, &parents, k as usize)] {
            parent_buf.push(match *p {
                ParentRef::Known(i) => i,
                ParentRef::New(n) => final_index[n as usize],
                ParentRef::PendingPosition(_) | ParentRef::PendingId(_) => {
                    return Err(SyncError::Read {
                        commit: to_sha(&d.id),
                        detail: "a parent was never resolved".to_owned(),
                    });
                }
            });
        }
        let from = reverts.partition_point(|&(r, _)| r < k);
        revert_buf.clear();
        revert_buf.extend(
            reverts[from..]
                .iter()
                .take_while(|&&(r, _)| r == k)
                .map(|&(_, sha)| sha),
        );
        graph.push(NewCommit {
            sha: to_sha(&d.id),
            parents: &parent_buf,
            author_time: d.author_time,
            committer_time: d.committer_time,
            reverts: &revert_buf,
            shallow: d.shallow,
        })?;
        report.new_shallow += usize::from(d.shallow);
    }
    graph.close_run();
    report.new = found.len();
    Ok(report)
}

fn parent_range(found: &[Discovered], parents: &[ParentRef], k: usize) -> std::ops::Range<usize> {
    let start = found[k].parents_start as usize;
    let end = found
        .get(k + 1)
        .map_or(parents.len(), |d| d.parents_start as usize);
    start..end
}

fn topological_order(found: &[Discovered], parents: &[ParentRef]) -> Vec<u32> {
    let n = found.len();
    // 0 = unvisited, 1 = on stack, 2 = emitted.
    let mut state = vec![0u8; n];
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        stack.push((root as u32, 0));
        state[root] = 1;
        while let Some(&mut (k, ref mut next)) = stack.last_mut() {
            let range = parent_range(found, parents, k as usize);
            let mut pushed = false;
            while range.start + *next < range.end {
                let p = parents[range.start + *next];
                *next += 1;
                if let ParentRef::New(p) = p
                    && state[p as usize] == 0
                {
                    state[p as usize] = 1;
                    stack.push((p, 0));
                    pushed = true;
                    break;
                }
            }
            if !pushed {
                state[k as usize] = 2;
                order.push(k);
                stack.pop();
            }
        }
    }
    order
}

/// Decodes the commits discovery did not, on all cores, writing their author times in place.
/// Returns the (discovery index, reverted sha) pairs found in their messages.
fn decode_pending(
    repo: &GitRepo,
    found: &mut [Discovered],
    progress: &dyn Progress,
) -> Result<Vec<(u32, ShaAbbrev)>, SyncError> {
    let pending = found.iter().filter(|d| !d.decoded).count();
    if pending == 0 {
        return Ok(Vec::new());
    }
    progress.start_decoding(pending as u64);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(found.len().div_ceil(1000).max(1));
    let chunk = found.len().div_ceil(threads);
    let shared = repo.repo.clone().into_sync();
    let results: Vec<Result<Vec<(u32, ShaAbbrev)>, SyncError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = found
            .chunks_mut(chunk)
            .enumerate()
            .map(|(part_index, part)| {
                let shared = &shared;
                scope.spawn(move || {
                    let local = shared.to_thread_local();
                    let mut buf = Vec::with_capacity(1024);
                    let mut reverts = Vec::new();
                    let mut unreported = 0u64;
                    for (offset, d) in part.iter_mut().enumerate() {
                        if d.decoded {
                            continue;
                        }
                        let data = local
                            .objects
                            .try_find(&d.id, &mut buf)
                            .map_err(|e| SyncError::Read {
                                commit: to_sha(&d.id),
                                detail: e.to_string(),
                            })?
                            .ok_or_else(|| SyncError::Read {
                                commit: to_sha(&d.id),
                                detail: "object not found".to_owned(),
                            })?;
                        let fields =
                            parse_commit(data.data, None).map_err(|detail| SyncError::Read {
                                commit: to_sha(&d.id),
                                detail,
                            })?;
                        d.author_time = fields.author_time;
                        d.decoded = true;
                        let k = (part_index * chunk + offset) as u32;
                        reverts.extend(fields.reverts.into_iter().map(|sha| (k, sha)));
                        unreported += 1;
                        if unreported == 4096 {
                            progress.advance(unreported);
                            unreported = 0;
                        }
                    }
                    progress.advance(unreported);
                    Ok(reverts)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(SyncError::Thread)))
            .collect()
    });
    let mut reverts = Vec::new();
    for part in results {
        reverts.extend(part?);
    }
    Ok(reverts)
}

/// The fields shiplog needs from a commit object.
pub(crate) struct CommitFields<'a> {
    /// The root tree's id as hex (empty when the object has no tree line).
    pub(crate) tree: &'a [u8],
    pub(crate) author_time: i64,
    pub(crate) committer_time: i64,
    pub(crate) reverts: Vec<ShaAbbrev>,
}

/// Parses a raw commit object: its tree, parent ids (collected into `parents` when given), author
/// and committer times, and the commits its message says it reverts. Times that cannot be read are
/// `i64::MIN` (the metrics exclude them).
///
/// A focused parser rather than gix's general one: reading history decodes every commit, and only
/// these fields are needed. Header lines are `name value`; continuation lines (a signature) start
/// with a space; the first empty line ends the headers.
pub(crate) fn parse_commit<'a>(
    data: &'a [u8],
    mut parents: Option<&mut Vec<ObjectId>>,
) -> Result<CommitFields<'a>, String> {
    let mut fields = CommitFields {
        tree: &[],
        author_time: i64::MIN,
        committer_time: i64::MIN,
        reverts: Vec::new(),
    };
    let mut rest = data;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if line.is_empty() {
            fields.reverts = reverted_commits(rest);
            break;
        }
        if let Some(hex) = line.strip_prefix(b"tree ") {
            fields.tree = hex;
        } else if let Some(hex) = line.strip_prefix(b"parent ") {
            if let Some(parents) = parents.as_deref_mut() {
                let id = ObjectId::from_hex(hex).map_err(|_| {
                    "malformed commit object: a parent line is not a sha".to_owned()
                })?;
                parents.push(id);
            }
        } else if let Some(signature) = line.strip_prefix(b"author ") {
            fields.author_time = signature_seconds(signature);
        } else if let Some(signature) = line.strip_prefix(b"committer ") {
            fields.committer_time = signature_seconds(signature);
        }
    }
    Ok(fields)
}

/// The seconds of a signature `Name <email> 1700000000 +0200`: the first number after the last `>`.
fn signature_seconds(signature: &[u8]) -> i64 {
    let after = memchr::memrchr(b'>', signature).map_or(signature, |i| &signature[i + 1..]);
    after
        .split(|&b| b == b' ')
        .find(|token| !token.is_empty())
        .and_then(|token| std::str::from_utf8(token).ok())
        .and_then(|token| token.parse().ok())
        .unwrap_or(i64::MIN)
}

/// The commits named by `This reverts commit <sha>` in a message: a full sha, or an abbreviation
/// of 7 to 39 hex characters as in the reference form (`This reverts commit 9c539d1027 (subject,
/// 2022-04-15).`) and the kernel's (`This reverts commit 0123456789ab ("subject").`). The hex run
/// must end the word: `abc123` (too short) and a run of 41 hex characters name nothing.
pub fn reverted_commits(message: &[u8]) -> Vec<ShaAbbrev> {
    const NEEDLE: &[u8] = b"This reverts commit ";
    static FINDER: std::sync::LazyLock<memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memmem::Finder::new(NEEDLE));
    let mut out = Vec::new();
    for at in FINDER.find_iter(message) {
        let rest = &message[at + NEEDLE.len()..];
        let hex_len = rest
            .iter()
            .take(41)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if hex_len > 40 || rest.get(hex_len).is_some_and(|b| b.is_ascii_alphanumeric()) {
            continue;
        }
        if let Ok(text) = std::str::from_utf8(&rest[..hex_len])
            && let Some(abbrev) = ShaAbbrev::from_hex(text)
            && !out.contains(&abbrev)
        {
            out.push(abbrev);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverts_are_found_in_messages() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let msg = format!(
            "Revert \"x\"\n\nThis reverts commit {a}.\nAlso: This reverts commit {b}\nThis reverts commit {a}.\nThis reverts commit abc123.\nThis reverts commit {a}f\nThis reverts commit 1234567x\n"
        );
        let full = |hex: &str| ShaAbbrev::full(Sha::from_hex(hex).unwrap());
        assert_eq!(reverted_commits(msg.as_bytes()), vec![full(&a), full(&b)]);
        assert!(reverted_commits(b"\xff\xfe not utf8").is_empty());
    }

    #[test]
    fn abbreviated_reverts_in_the_reference_and_kernel_forms() {
        let abbrev = |hex: &str| ShaAbbrev::from_hex(hex).unwrap();
        let reference = b"Revert \"x\"\n\nThis reverts commit 9c539d1027 (x, 2022-04-15).\n";
        assert_eq!(reverted_commits(reference), vec![abbrev("9c539d1027")]);
        let kernel = b"Revert \"x\"\n\nThis reverts commit 0123456789ab (\"x\").\n";
        assert_eq!(reverted_commits(kernel), vec![abbrev("0123456789ab")]);
        let seven = b"This reverts commit 0123456\n";
        assert_eq!(reverted_commits(seven), vec![abbrev("0123456")]);
        assert!(reverted_commits(b"This reverts commit 012345.").is_empty());
        assert!(reverted_commits(b"This reverts commit 0123456abcdefg").is_empty());
    }

    #[test]
    fn commit_objects_parse_with_odd_headers() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nparent 2222222222222222222222222222222222222222\nauthor A U Thor <a@example.com> 1700000000 +0200\ncommitter C <c@example.com> 1700000600 -0500\nencoding ISO-8859-1\ngpgsig -----BEGIN PGP SIGNATURE-----\n abc\n -----END PGP SIGNATURE-----\n\nCaf\xe9\n";
        let mut parents = Vec::new();
        let fields = parse_commit(raw, Some(&mut parents)).unwrap();
        assert_eq!(parents.len(), 2);
        assert_eq!(fields.author_time, 1_700_000_000);
        assert_eq!(fields.committer_time, 1_700_000_600);
        assert!(fields.reverts.is_empty());

        let odd = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor No Time <x>\ncommitter A <a> 5 +0000\n\nThis reverts commit 1111111111111111111111111111111111111111.";
        let fields = parse_commit(odd, None).unwrap();
        assert_eq!((fields.author_time, fields.committer_time), (i64::MIN, 5));
        assert_eq!(fields.reverts.len(), 1);
        assert!(parse_commit(b"parent zz\n", Some(&mut Vec::new())).is_err());
        let no_message = parse_commit(b"committer A <a> 7 +0000", None).unwrap();
        assert_eq!(no_message.committer_time, 7);
    }
}
