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
use shiplog_core::{CommitGraph, CommitIdx, NewCommit, Sha};

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
    /// Not yet in the discovery list when its child was found.
    Pending(ObjectId),
}

/// Author time and reverted shas of one commit.
type Decoded = (i64, Vec<Sha>);

struct Discovered {
    id: ObjectId,
    parents_start: u32,
    committer_time: i64,
    /// Author time and reverts, when already decoded during discovery.
    decoded: Option<Decoded>,
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
        let id = ObjectId::from_bytes_or_panic(graph.sha(c).as_bytes());
        if !shallow.contains(&id) {
            return Err(SyncError::Deepened);
        }
    }

    let mut stack: Vec<ObjectId> = Vec::new();
    for tip in tips {
        if graph.find(tip).is_some() {
            continue;
        }
        let id = ObjectId::from_bytes_or_panic(tip.as_bytes());
        match gix_repo.find_header(id) {
            Ok(header) if header.kind() == gix::objs::Kind::Commit => stack.push(id),
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

    // Phase 1: discovery.
    let mut found: Vec<Discovered> = Vec::new();
    let mut parents: Vec<ParentRef> = Vec::new();
    let mut index: HashMap<ObjectId, u32> = HashMap::default();
    let mut buf = Vec::new();
    let mut parent_ids: Vec<ObjectId> = Vec::with_capacity(4);
    while let Some(id) = stack.pop() {
        if index.contains_key(&id) {
            continue;
        }
        let is_shallow = shallow.contains(&id);
        parent_ids.clear();
        let (committer_time, decoded) = match commit_graph
            .as_ref()
            .and_then(|cg| cg.lookup(id).map(|pos| cg.commit_at(pos)))
        {
            Some(commit) if !is_shallow => {
                for pos in commit.iter_parents() {
                    let pos = pos.map_err(|e| SyncError::Read {
                        commit: to_sha(&id),
                        detail: format!("commit-graph: {e}"),
                    })?;
                    if let Some(cg) = commit_graph.as_ref() {
                        parent_ids.push(cg.id_at(pos).to_owned());
                    }
                }
                (commit.committer_timestamp() as i64, None)
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
                let fields = parse_commit(data.data, Some(&mut parent_ids)).map_err(|detail| {
                    SyncError::Read {
                        commit: to_sha(&id),
                        detail,
                    }
                })?;
                (
                    fields.committer_time,
                    Some((fields.author_time, fields.reverts)),
                )
            }
        };
        if is_shallow {
            parent_ids.clear();
        }
        let me = found.len() as u32;
        index.insert(id, me);
        found.push(Discovered {
            id,
            parents_start: parents.len() as u32,
            committer_time,
            decoded,
            shallow: is_shallow,
        });
        for parent in &parent_ids {
            let parent_sha = to_sha(parent);
            if let Some(known) = graph.find(&parent_sha) {
                parents.push(ParentRef::Known(known));
            } else if let Some(&new) = index.get(parent) {
                parents.push(ParentRef::New(new));
            } else {
                parents.push(ParentRef::Pending(*parent));
                stack.push(*parent);
            }
        }
    }
    // Resolve parents that were discovered after their children.
    for k in 0..found.len() {
        let range = parent_range(&found, &parents, k);
        for slot in range {
            if let ParentRef::Pending(pid) = parents[slot] {
                let new = index
                    .get(&pid)
                    .copied()
                    .ok_or_else(|| SyncError::MissingParent {
                        commit: to_sha(&found[k].id),
                        parent: to_sha(&pid),
                    })?;
                parents[slot] = ParentRef::New(new);
            }
        }
    }
    drop(index);

    // Phase 2: decode what discovery did not.
    decode_pending(repo, &mut found, progress)?;

    // Topological order of the new commits: parents first.
    let order = topological_order(&found, &parents);
    let base = graph.len() as u32;
    let mut final_index = vec![0u32; found.len()];
    for (pos, &k) in order.iter().enumerate() {
        final_index[k as usize] = base + pos as u32;
    }
    let mut parent_buf: Vec<CommitIdx> = Vec::with_capacity(4);
    for &k in &order {
        let d = &found[k as usize];
        parent_buf.clear();
        for p in &parents[parent_range(&found, &parents, k as usize)] {
            parent_buf.push(match *p {
                ParentRef::Known(i) => i,
                ParentRef::New(n) => final_index[n as usize],
                ParentRef::Pending(pid) => {
                    return Err(SyncError::MissingParent {
                        commit: to_sha(&d.id),
                        parent: to_sha(&pid),
                    });
                }
            });
        }
        let (author_time, reverts) = d
            .decoded
            .as_ref()
            .map_or((i64::MIN, &[][..]), |(a, r)| (*a, r.as_slice()));
        graph.push(NewCommit {
            sha: to_sha(&d.id),
            parents: &parent_buf,
            author_time,
            committer_time: d.committer_time,
            reverts,
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

fn decode_pending(
    repo: &GitRepo,
    found: &mut [Discovered],
    progress: &dyn Progress,
) -> Result<(), SyncError> {
    let pending: Vec<usize> = (0..found.len())
        .filter(|&k| found[k].decoded.is_none())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    progress.start_decoding(pending.len() as u64);
    let ids: Vec<ObjectId> = pending.iter().map(|&k| found[k].id).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(ids.len().div_ceil(1000).max(1));
    let chunk = ids.len().div_ceil(threads);
    let shared = repo.repo.clone().into_sync();
    let results: Vec<Result<Vec<Decoded>, SyncError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|part| {
                let shared = &shared;
                scope.spawn(move || {
                    let local = shared.to_thread_local();
                    let mut buf = Vec::with_capacity(1024);
                    let mut out = Vec::with_capacity(part.len());
                    let mut unreported = 0u64;
                    for id in part {
                        let data = local
                            .objects
                            .try_find(id, &mut buf)
                            .map_err(|e| SyncError::Read {
                                commit: to_sha(id),
                                detail: e.to_string(),
                            })?
                            .ok_or_else(|| SyncError::Read {
                                commit: to_sha(id),
                                detail: "object not found".to_owned(),
                            })?;
                        let fields =
                            parse_commit(data.data, None).map_err(|detail| SyncError::Read {
                                commit: to_sha(id),
                                detail,
                            })?;
                        out.push((fields.author_time, fields.reverts));
                        unreported += 1;
                        if unreported == 4096 {
                            progress.advance(unreported);
                            unreported = 0;
                        }
                    }
                    progress.advance(unreported);
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(SyncError::Thread)))
            .collect()
    });
    let mut cursor = 0usize;
    for part in results {
        for decoded in part? {
            found[pending[cursor]].decoded = Some(decoded);
            cursor += 1;
        }
    }
    Ok(())
}

/// The fields shiplog needs from a commit object.
struct CommitFields {
    author_time: i64,
    committer_time: i64,
    reverts: Vec<Sha>,
}

/// Parses a raw commit object. Times that cannot be read are `i64::MIN` (the metrics exclude them).
/// Parent ids are collected into `parents` when given.
fn parse_commit(
    data: &[u8],
    mut parents: Option<&mut Vec<ObjectId>>,
) -> Result<CommitFields, String> {
    use gix::objs::commit::ref_iter::Token;
    let mut fields = CommitFields {
        author_time: i64::MIN,
        committer_time: i64::MIN,
        reverts: Vec::new(),
    };
    let iter = gix::objs::CommitRefIter::from_bytes(data, gix::hash::Kind::Sha1);
    for token in iter {
        match token.map_err(|e| format!("malformed commit object: {e}"))? {
            Token::Parent { id } => {
                if let Some(p) = parents.as_deref_mut() {
                    p.push(id);
                }
            }
            Token::Author { signature } => fields.author_time = seconds(signature.time),
            Token::Committer { signature } => fields.committer_time = seconds(signature.time),
            Token::Message(message) => {
                fields.reverts = reverted_shas(message);
                break;
            }
            _ => {}
        }
    }
    Ok(fields)
}

fn seconds(time: &str) -> i64 {
    time.split_ascii_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(i64::MIN)
}

/// The shas named by `This reverts commit <40 hex>` lines of a message.
pub fn reverted_shas(message: &[u8]) -> Vec<Sha> {
    const NEEDLE: &[u8] = b"This reverts commit ";
    let mut out = Vec::new();
    for at in memmem::find_iter(message, NEEDLE) {
        let rest = &message[at + NEEDLE.len()..];
        if rest.len() >= 40
            && let Ok(text) = std::str::from_utf8(&rest[..40])
            && let Ok(sha) = Sha::from_hex(text)
            && rest.get(40).is_none_or(|b| !b.is_ascii_hexdigit())
            && !out.contains(&sha)
        {
            out.push(sha);
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
            "Revert \"x\"\n\nThis reverts commit {a}.\nAlso: This reverts commit {b}\nThis reverts commit {a}.\nThis reverts commit abc123.\nThis reverts commit {a}f\n"
        );
        assert_eq!(
            reverted_shas(msg.as_bytes()),
            vec![Sha::from_hex(&a).unwrap(), Sha::from_hex(&b).unwrap()]
        );
        assert!(reverted_shas(b"\xff\xfe not utf8").is_empty());
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
    }
}
