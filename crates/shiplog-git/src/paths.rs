//! Which services of a monorepo each commit belongs to, from the paths it changes.
//!
//! A monorepo holds many services; a deployment of one ships only that service's changes. The
//! configuration maps services to path globs, and this module decides, per commit, the services
//! whose globs match a path the commit changed, as a 64-bit mask (bit `i` for service `i`):
//!
//! - a commit's changes are its tree against its **first parent's** tree; for a merge commit that is
//!   everything the merged branch brings, so a merge belongs to every service its branch touched;
//!   a root commit (or a shallow boundary, whose parents are unknown) is compared with an empty tree;
//! - a commit that changes no configured path (only `README.md`, or nothing: an empty commit) has
//!   mask 0 and is a change of no service with globs.
//!
//! This needs a tree diff per commit, which costs more than reading the commit itself, so it runs
//! only when the configuration has path globs, spreads over all cores like the history decode, and
//! its result is cached with the history (see [`crate::cache`]) under a fingerprint of the path
//! configuration: later runs classify only new commits, and changing the globs reclassifies all.
//! The diff is pruned: a directory is read only when some glob could match below it and its
//! services are not known yet, and a glob `dir/**` matches any change under `dir` without reading
//! it. Example: with `api = ["services/api/**"]` and `web = ["services/web/**"]`, a commit changing
//! `services/api/main.go` reads the root and `services` trees of the commit and its parent (four
//! objects), sees that `services/api` differs, and gets mask `0b01` without reading `services/api`.

use std::cmp::Ordering;

use gix::ObjectId;
use gix::prelude::Find;
use globset::{Glob, GlobSet, GlobSetBuilder};
use shiplog_core::{CommitGraph, CommitIdx, ServiceName, Sha};

use crate::GitRepo;
use crate::history::Progress;

/// Why commits could not be classified.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// More services with globs than bits in a mask.
    #[error("at most 64 services can have path globs in one repository, got {0}")]
    TooManyServices(usize),
    /// The globs could not be combined.
    #[error("cannot combine the path globs: {0}")]
    Globs(String),
    /// An object could not be read.
    #[error("cannot read {what} of commit {commit}: {detail}")]
    Read {
        /// The commit being classified.
        commit: Sha,
        /// What was being read.
        what: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// A worker thread panicked.
    #[error("a path-classification thread failed")]
    Thread,
}

/// A glob whose matches are exactly the paths under a directory (`dir/**`).
struct WholeDir {
    dir: Vec<u8>,
    bit: u32,
}

/// The path globs of the services of one repository, compiled.
pub struct ServicePaths {
    services: Vec<ServiceName>,
    set: GlobSet,
    owner: Vec<u32>,
    /// Each glob's literal prefix (up to its first wildcard) and owner bit, for pruning.
    prefixes: Vec<(Vec<u8>, u32)>,
    whole_dirs: Vec<WholeDir>,
    fingerprint: Vec<u8>,
    all: u64,
}

const META: &[u8] = b"*?[]{}\\";

impl ServicePaths {
    /// Compiles `rules`: services in bit order, each with its globs (at most 64 services).
    pub fn new(rules: Vec<(ServiceName, Vec<Glob>)>) -> Result<Self, PathsError> {
        if rules.len() > shiplog_core::MAX_SERVICES {
            return Err(PathsError::TooManyServices(rules.len()));
        }
        let mut builder = GlobSetBuilder::new();
        let mut owner = Vec::new();
        let mut prefixes = Vec::new();
        let mut whole_dirs = Vec::new();
        let mut fingerprint = b"shiplog-paths-v1\n".to_vec();
        let mut services = Vec::new();
        for (bit, (service, globs)) in rules.into_iter().enumerate() {
            let bit = bit as u32;
            fingerprint.extend_from_slice(service.as_str().as_bytes());
            fingerprint.push(b'\n');
            for glob in globs {
                let text = glob.glob().as_bytes().to_vec();
                fingerprint.push(b'\t');
                fingerprint.extend_from_slice(&text);
                fingerprint.push(b'\n');
                let literal_end = text
                    .iter()
                    .position(|b| META.contains(b))
                    .unwrap_or(text.len());
                if let Some(dir) = text.strip_suffix(b"/**")
                    && !dir.iter().any(|b| META.contains(b))
                {
                    whole_dirs.push(WholeDir {
                        dir: dir.to_vec(),
                        bit,
                    });
                }
                prefixes.push((text[..literal_end].to_vec(), bit));
                builder.add(glob);
                owner.push(bit);
            }
            services.push(service);
        }
        let set = builder
            .build()
            .map_err(|e| PathsError::Globs(e.to_string()))?;
        let all = if services.len() == 64 {
            u64::MAX
        } else {
            (1u64 << services.len()) - 1
        };
        Ok(Self {
            services,
            set,
            owner,
            prefixes,
            whole_dirs,
            fingerprint,
            all,
        })
    }

    /// The services, in bit order.
    pub fn services(&self) -> &[ServiceName] {
        &self.services
    }

    /// A canonical description of the configuration: cached masks are valid only under the same.
    pub fn fingerprint(&self) -> &[u8] {
        &self.fingerprint
    }

    /// The services whose globs match the file `path`.
    pub fn file_mask(&self, path: &[u8]) -> u64 {
        let Ok(text) = std::str::from_utf8(path) else {
            // Globs are text; a path that is not UTF-8 is matched lossily.
            return self.file_mask(String::from_utf8_lossy(path).as_bytes());
        };
        self.set
            .matches(text)
            .into_iter()
            .fold(0, |m, i| m | 1u64 << self.owner[i])
    }

    /// For a changed directory `dir` (no trailing `/`), given the services already `known`: the
    /// services it certainly touches (a `dir/**` glob at or above it), and whether some other
    /// service's glob could match below it (so it must be read).
    fn directory(&self, dir: &[u8], known: u64) -> (u64, bool) {
        let mut bits = 0u64;
        for w in &self.whole_dirs {
            if dir.starts_with(&w.dir) && (dir.len() == w.dir.len() || dir[w.dir.len()] == b'/') {
                bits |= 1 << w.bit;
            }
        }
        let known = known | bits;
        let descend = self.prefixes.iter().any(|(prefix, bit)| {
            if known & (1 << bit) != 0 {
                return false;
            }
            // The glob's literal part continues below `dir`, or ends inside it.
            if prefix.len() > dir.len() {
                prefix.starts_with(dir) && prefix[dir.len()] == b'/'
            } else {
                dir.starts_with(prefix)
            }
        });
        (bits, descend)
    }
}

/// Git's tree order: by name, a tree's name compared as if it ended in `/`.
pub(crate) fn tree_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let common = a.len().min(b.len());
    match a[..common].cmp(&b[..common]) {
        Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], tree: bool| {
        name.get(common)
            .copied()
            .or(if tree { Some(b'/') } else { None })
    };
    next(a, a_tree).cmp(&next(b, b_tree))
}

/// The entries that differ between two trees (each a list of entries and the bytes their names
/// point into), in tree order: `(old, new, name)`, one side `None` for an added or removed name.
pub(crate) fn changed_entries<'e>(
    (old_buf, old): (&'e [u8], &'e [Entry]),
    (new_buf, new): (&'e [u8], &'e [Entry]),
) -> impl Iterator<Item = (Option<&'e Entry>, Option<&'e Entry>, &'e [u8])> {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        loop {
            let order = match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) => tree_order(
                    &old_buf[a.name.clone()],
                    a.tree,
                    &new_buf[b.name.clone()],
                    b.tree,
                ),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => return None,
            };
            match order {
                Ordering::Less => {
                    i += 1;
                    let a = &old[i - 1];
                    return Some((Some(a), None, &old_buf[a.name.clone()]));
                }
                Ordering::Greater => {
                    j += 1;
                    let b = &new[j - 1];
                    return Some((None, Some(b), &new_buf[b.name.clone()]));
                }
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    let (a, b) = (&old[i - 1], &new[j - 1]);
                    if a.id != b.id || a.mode != b.mode {
                        return Some((Some(a), Some(b), &old_buf[a.name.clone()]));
                    }
                }
            }
        }
    })
}

/// Reads commits' root trees and trees: a repository handle with an object cache (consecutive
/// commits share most trees) and the commit-graph file (root tree ids without reading commits).
/// Shared by the path classification and the squash search.
pub(crate) struct TreeReader {
    pub(crate) repo: gix::Repository,
    commit_graph: Option<gix::commitgraph::Graph>,
    commit_buf: Vec<u8>,
    scratch: Vec<u8>,
}

impl TreeReader {
    pub(crate) fn new(mut repo: gix::Repository) -> Self {
        repo.object_cache_size(Some(4 << 20));
        let commit_graph = repo.commit_graph_if_enabled().ok().flatten();
        Self {
            repo,
            commit_graph,
            commit_buf: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The root tree of `commit`; on failure, what could not be read and why.
    pub(crate) fn tree_of(&mut self, commit: &Sha) -> Result<ObjectId, (&'static str, String)> {
        let id = crate::to_oid(commit);
        if let Some(cg) = &self.commit_graph
            && let Some(position) = cg.lookup(id)
        {
            return Ok(cg.commit_at(position).root_tree_id().to_owned());
        }
        let data = self
            .repo
            .objects
            .try_find(&id, &mut self.commit_buf)
            .map_err(|e| ("the commit", e.to_string()))?
            .ok_or_else(|| ("the commit", "object not found".to_owned()))?;
        let hex = data
            .data
            .strip_prefix(b"tree ")
            .and_then(|rest| rest.get(..40))
            .ok_or_else(|| ("the commit", "no tree line".to_owned()))?;
        ObjectId::from_hex(hex).map_err(|e| ("the commit's tree id", e.to_string()))
    }

    /// Reads tree `id` (none: an empty tree) into `buf` and its entries into `out`.
    pub(crate) fn read_tree(
        &mut self,
        id: Option<ObjectId>,
        buf: &mut Vec<u8>,
        out: &mut Vec<Entry>,
    ) -> Result<(), String> {
        out.clear();
        buf.clear();
        let Some(id) = id else {
            return Ok(());
        };
        let data = self
            .repo
            .objects
            .try_find(&id, &mut self.scratch)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{id} not found"))?;
        if data.kind != gix::objs::Kind::Tree {
            let kind = data.kind;
            return Err(format!("{id} is a {kind:?}"));
        }
        buf.extend_from_slice(data.data);
        entries(buf, out)
    }
}

/// One thread's reader: object access with a small cache and a buffer per tree depth.
struct Classifier<'a> {
    trees: TreeReader,
    paths: &'a ServicePaths,
    buffers: Vec<(Vec<u8>, Vec<u8>)>,
    path: Vec<u8>,
    commit: Sha,
}

pub(crate) struct Entry {
    pub(crate) name: std::ops::Range<usize>,
    pub(crate) tree: bool,
    pub(crate) mode: u16,
    pub(crate) id: ObjectId,
}

pub(crate) fn entries(data: &[u8], out: &mut Vec<Entry>) -> Result<(), String> {
    out.clear();
    let base = data.as_ptr() as usize;
    for entry in gix::objs::TreeRefIter::from_bytes(data, gix::hash::Kind::Sha1) {
        let entry = entry.map_err(|e| format!("malformed tree: {e}"))?;
        let start = entry.filename.as_ptr() as usize - base;
        out.push(Entry {
            name: start..start + entry.filename.len(),
            tree: entry.mode.is_tree(),
            mode: entry.mode.value(),
            id: entry.oid.to_owned(),
        });
    }
    Ok(())
}

fn read_error(commit: Sha, what: &'static str, detail: impl ToString) -> PathsError {
    PathsError::Read {
        commit,
        what,
        detail: detail.to_string(),
    }
}

impl Classifier<'_> {
    /// The root tree of `commit`.
    fn tree_of(&mut self, commit: &Sha) -> Result<ObjectId, PathsError> {
        let at = self.commit;
        self.trees
            .tree_of(commit)
            .map_err(|(what, detail)| read_error(at, what, detail))
    }

    /// The services commit `idx` touches against its first parent.
    fn classify(&mut self, graph: &CommitGraph, idx: CommitIdx) -> Result<u64, PathsError> {
        self.commit = graph.sha(idx);
        let new = self.tree_of(&graph.sha(idx))?;
        let old = match graph.parents(idx).first() {
            Some(&p) if !graph.is_shallow(idx) => Some(self.tree_of(&graph.sha(p))?),
            _ => None,
        };
        let mut mask = 0u64;
        if Some(new) != old {
            self.path.clear();
            self.compare(0, old, Some(new), &mut mask)?;
        }
        Ok(mask)
    }

    /// Reads tree `id` (none: an empty tree) into `buf` and its entries into `out`.
    fn read_tree(
        &mut self,
        id: Option<ObjectId>,
        buf: &mut Vec<u8>,
        out: &mut Vec<Entry>,
    ) -> Result<(), PathsError> {
        let at = self.commit;
        self.trees
            .read_tree(id, buf, out)
            .map_err(|detail| read_error(at, "a tree", detail))
    }

    /// Compares two trees at `self.path` (either may be absent: an added or removed directory).
    fn compare(
        &mut self,
        depth: usize,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        mask: &mut u64,
    ) -> Result<(), PathsError> {
        if self.buffers.len() <= depth {
            self.buffers.resize_with(depth + 1, Default::default);
        }
        let (mut old_buf, mut new_buf) = std::mem::take(&mut self.buffers[depth]);
        let (mut old_entries, mut new_entries) = (Vec::new(), Vec::new());
        let result = self
            .read_tree(old, &mut old_buf, &mut old_entries)
            .and_then(|()| self.read_tree(new, &mut new_buf, &mut new_entries))
            .and_then(|()| {
                self.walk(
                    depth,
                    (&old_buf, &old_entries),
                    (&new_buf, &new_entries),
                    mask,
                )
            });
        self.buffers[depth] = (old_buf, new_buf);
        result
    }

    fn walk(
        &mut self,
        depth: usize,
        (old_buf, old): (&[u8], &[Entry]),
        (new_buf, new): (&[u8], &[Entry]),
        mask: &mut u64,
    ) -> Result<(), PathsError> {
        for (a, b, name) in changed_entries((old_buf, old), (new_buf, new)) {
            if *mask == self.paths.all {
                break;
            }
            let base = self.path.len();
            if base > 0 {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(name);
            let is_tree = a.is_some_and(|e| e.tree) || b.is_some_and(|e| e.tree);
            if is_tree {
                let (bits, descend) = self.paths.directory(&self.path, *mask);
                *mask |= bits;
                if descend && *mask != self.paths.all {
                    let old_tree = a.filter(|e| e.tree).map(|e| e.id);
                    let new_tree = b.filter(|e| e.tree).map(|e| e.id);
                    self.compare(depth + 1, old_tree, new_tree, mask)?;
                }
            }
            // A file (on either side) changed at this path.
            if a.is_some_and(|e| !e.tree) || b.is_some_and(|e| !e.tree) {
                *mask |= self.paths.file_mask(&self.path);
            }
            self.path.truncate(base);
        }
        Ok(())
    }
}

/// Classifies `commits` of `graph` (which must all be in the repository): one mask per commit, in
/// the order given. Runs on all cores.
pub fn classify(
    repo: &GitRepo,
    graph: &CommitGraph,
    commits: &[CommitIdx],
    paths: &ServicePaths,
    progress: &dyn Progress,
) -> Result<Vec<u64>, PathsError> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    progress.start_decoding(commits.len() as u64);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(commits.len().div_ceil(500).max(1));
    let chunk = commits.len().div_ceil(threads);
    let shared = repo.repo.clone().into_sync();
    let results: Vec<Result<Vec<u64>, PathsError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = commits
            .chunks(chunk)
            .map(|part| {
                let shared = &shared;
                scope.spawn(move || {
                    let mut c = Classifier {
                        trees: TreeReader::new(shared.to_thread_local()),
                        paths,
                        buffers: Vec::new(),
                        path: Vec::new(),
                        commit: Sha::from_bytes([0; 20]),
                    };
                    let mut out = Vec::with_capacity(part.len());
                    let mut unreported = 0u64;
                    for &idx in part {
                        out.push(c.classify(graph, idx)?);
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
            .map(|h| h.join().unwrap_or(Err(PathsError::Thread)))
            .collect()
    });
    let mut masks = Vec::with_capacity(commits.len());
    for part in results {
        masks.extend(part?);
    }
    Ok(masks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(rules: &[(&str, &[&str])]) -> ServicePaths {
        ServicePaths::new(
            rules
                .iter()
                .map(|(s, globs)| {
                    (
                        ServiceName::new(s).unwrap(),
                        globs
                            .iter()
                            .map(|g| {
                                globset::GlobBuilder::new(g)
                                    .literal_separator(true)
                                    .build()
                                    .unwrap()
                            })
                            .collect(),
                    )
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn files_match_their_services_globs() {
        let p = paths(&[
            ("api", &["services/api/**", "libs/**"]),
            ("web", &["services/web/**", "libs/ui/*.ts"]),
        ]);
        assert_eq!(p.file_mask(b"services/api/main.go"), 0b01);
        assert_eq!(p.file_mask(b"libs/ui/button.ts"), 0b11);
        assert_eq!(p.file_mask(b"libs/ui/deep/button.ts"), 0b01);
        assert_eq!(p.file_mask(b"README.md"), 0);
    }

    #[test]
    fn directories_are_pruned_or_decided_without_reading() {
        let p = paths(&[
            ("api", &["services/api/**"]),
            ("web", &["services/*/web.txt"]),
        ]);
        // `services/api` decides api; web's glob could still match below it.
        assert_eq!(p.directory(b"services/api", 0), (0b01, true));
        assert_eq!(p.directory(b"services/api/v2", 0b10), (0b01, false));
        assert_eq!(p.directory(b"docs", 0), (0, false));
        assert_eq!(p.directory(b"services", 0), (0, true));
        assert_eq!(p.directory(b"servicesx", 0), (0, false));
        // Different configurations have different fingerprints.
        assert_ne!(
            p.fingerprint(),
            paths(&[("api", &["services/api/**"])]).fingerprint()
        );
    }

    #[test]
    fn tree_order_puts_directories_after_their_prefix_files() {
        assert_eq!(tree_order(b"a", false, b"a", true), Ordering::Less);
        assert_eq!(
            tree_order(b"a-b", false, b"a", true),
            Ordering::Less,
            "'-' < '/'"
        );
        assert_eq!(
            tree_order(b"a0", false, b"a", true),
            Ordering::Greater,
            "'0' > '/'"
        );
        assert_eq!(tree_order(b"a", true, b"a", true), Ordering::Equal);
    }
}
