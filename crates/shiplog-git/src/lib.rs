//! Reads git repositories for shiplog: deployments derived from tags or from a branch's first-parent
//! history, commit lookups, and the commit history itself (incrementally, see [`history`]).
//!
//! Built on gitoxide (`gix`) with narrow features: no network, no worktree, no blob diffs. Decoding
//! and path classification (tree comparisons, [`paths`]) are spread across cores.

pub mod cache;
pub mod history;
pub mod paths;
pub mod rebased;
pub mod squash;

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::prelude::Find;
use shiplog_core::{CommitGraph, CommitIdx, Sha, ShaPrefix};

pub use history::{NoProgress, Progress, SyncError, SyncReport, sync};

/// A repository could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{} is not inside a git repository: {source}", path.display())]
pub struct OpenError {
    /// The path given.
    pub path: PathBuf,
    /// gix's explanation.
    #[source]
    pub source: gix::Error,
}

/// A query against an open repository failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A lower-level read failed.
    #[error("cannot {operation}: {source}")]
    Query {
        /// What was being done.
        operation: &'static str,
        /// gix's explanation.
        #[source]
        source: gix::Error,
    },
    /// The branch named does not exist.
    #[error("no branch named {0:?} (looked for refs/heads/{0} and refs/remotes/{0})")]
    NoSuchBranch(String),
    /// HEAD is detached and there is no `origin/HEAD`, so there is no default branch.
    #[error(
        "cannot tell the default branch: HEAD is detached and there is no origin/HEAD; name the branch with --deploys merges=BRANCH"
    )]
    NoDefaultBranch,
    /// The tag named does not exist.
    #[error("no tag named {0:?} in the repository")]
    NoSuchTag(String),
    /// A reference points to something that is not a commit.
    #[error("{name} does not point to a commit")]
    NotACommit {
        /// The reference.
        name: String,
    },
}

impl RepoError {
    pub(crate) fn query(operation: &'static str, source: gix::Error) -> Self {
        Self::Query { operation, source }
    }
}

/// A commit named by a sha prefix could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No object starts with the prefix.
    #[error("no commit {0} in the repository")]
    NotFound(ShaPrefix),
    /// Several objects start with the prefix.
    #[error("the sha prefix {0} is ambiguous in the repository; give more characters")]
    Ambiguous(ShaPrefix),
    /// The object is not a commit.
    #[error("{0} names a {1}, not a commit")]
    NotACommit(ShaPrefix, &'static str),
    /// The lookup failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// A tag that names a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// The tag's short name, e.g. `v1.2.0`.
    pub name: String,
    /// The commit it names (annotated tags peeled).
    pub commit: Sha,
    /// The tagger time of an annotated tag, seconds since the epoch; `None` for lightweight tags
    /// and annotated tags without a tagger (then the commit's committer time applies).
    pub tagger_time: Option<i64>,
}

/// The tags matching a pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagScan {
    /// Tags naming a commit.
    pub tags: Vec<TagTarget>,
    /// Matching tags skipped, with the reason (they name a tree or a blob, or a missing object).
    pub skipped: Vec<(String, String)>,
    /// Annotated tag objects read during the scan, to add to the cache.
    pub newly_read: Vec<CachedTag>,
}

/// What an annotated tag object says, cached because tag objects never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedTag {
    /// The tag object's id.
    pub tag: Sha,
    /// The commit it finally names.
    pub commit: Sha,
    /// Its tagger time, if it has a tagger.
    pub tagger_time: Option<i64>,
}

/// Annotated tags already read, by tag object id.
pub type TagCache = std::collections::HashMap<Sha, CachedTag, ShaHashBuilder>;

/// Hashing for maps keyed by [`Sha`]: a sha is uniformly distributed already, so its first eight
/// bytes, multiplied once, make the hash. SipHash cost more than the rest of a lookup in the tens
/// of thousands of tag lookups a run makes. (Shas come from git objects; the HashDoS resistance
/// SipHash buys is not needed for them. Keys compare whole, so a shared hash costs a probe, not a
/// wrong answer.)
#[derive(Debug, Clone, Copy, Default)]
pub struct ShaHashBuilder;

impl std::hash::BuildHasher for ShaHashBuilder {
    type Hasher = ShaHasher;

    fn build_hasher(&self) -> ShaHasher {
        ShaHasher(0)
    }
}

/// The hasher of [`ShaHashBuilder`]: each write adds its first eight bytes (all of a shorter one),
/// with FxHash's round.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShaHasher(u64);

impl ShaHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for ShaHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        match bytes.first_chunk::<8>() {
            Some(head) => self.add(u64::from_le_bytes(*head)),
            None => {
                let mut word = [0u8; 8];
                word[..bytes.len()].copy_from_slice(bytes);
                self.add(u64::from_le_bytes(word));
            }
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// An open repository.
pub struct GitRepo {
    pub(crate) repo: gix::Repository,
    root: PathBuf,
}

pub(crate) fn to_sha(id: &gix::oid) -> Sha {
    let mut bytes = [0u8; 20];
    let src = id.as_bytes();
    let len = src.len().min(20);
    bytes[..len].copy_from_slice(&src[..len]);
    Sha::from_bytes(bytes)
}

pub(crate) fn to_oid(sha: &Sha) -> ObjectId {
    ObjectId::from_bytes_or_panic(sha.as_bytes())
}

/// The prefix of tag references.
const TAGS: &str = "refs/tags/";

/// A line of the packed-refs file that is not `<hex id> <name>` (or a peeled `^<hex id>`).
#[derive(Debug, thiserror::Error)]
#[error("malformed packed-refs line {line:?}")]
struct PackedRefsError {
    line: String,
}

/// The tag references of a packed-refs file's records (after its header): (full name, target id)
/// for each `<hex id> refs/tags/...` line. Peeled lines (`^<hex id>`) are skipped; the reader
/// starts at the first tag (the file is sorted by name) but checks every later line's prefix.
fn packed_tags(records: &[u8]) -> Result<Vec<(&[u8], ObjectId)>, RepoError> {
    let error = |line: &[u8]| {
        let line = line.to_str_lossy().chars().take(120).collect();
        RepoError::query(
            "read packed references",
            gix::Error::from_error(PackedRefsError { line }),
        )
    };
    let from = memchr::memmem::find(records, b" refs/tags/").map_or(records.len(), |at| {
        memchr::memrchr(b'\n', &records[..at]).map_or(0, |newline| newline + 1)
    });
    let mut tags = Vec::with_capacity((records.len() - from) / 64);
    for line in records[from..].split(|&b| b == b'\n') {
        if line.is_empty() || line[0] == b'^' {
            continue;
        }
        let space = memchr::memchr(b' ', line).ok_or_else(|| error(line))?;
        let (hex, name) = (&line[..space], &line[space + 1..]);
        if !name.starts_with(TAGS.as_bytes()) {
            continue;
        }
        let id = ObjectId::from_hex(hex).map_err(|_| error(line))?;
        tags.push((name, id));
    }
    Ok(tags)
}

fn kind_name(kind: gix::objs::Kind) -> &'static str {
    match kind {
        gix::objs::Kind::Tree => "tree",
        gix::objs::Kind::Blob => "blob",
        gix::objs::Kind::Commit => "commit",
        gix::objs::Kind::Tag => "tag",
    }
}

impl GitRepo {
    /// Opens the repository that contains `path`.
    pub fn discover(path: &Path) -> Result<Self, OpenError> {
        let mut repo = gix::discover(path).map_err(|source| OpenError {
            path: path.to_owned(),
            source,
        })?;
        repo.object_cache_size_if_unset(0);
        let root = repo
            .workdir()
            .map(Path::to_owned)
            .unwrap_or_else(|| repo.git_dir().to_owned());
        let root = root.canonicalize().unwrap_or(root);
        Ok(Self { repo, root })
    }

    /// The working tree's root, or the git directory of a bare repository.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A stable key for this repository's cached history: its common git directory, canonical.
    pub fn cache_key(&self) -> String {
        let dir = self.repo.common_dir();
        dir.canonicalize()
            .unwrap_or_else(|_| dir.to_owned())
            .to_string_lossy()
            .into_owned()
    }

    /// A default service name: the root directory's name without a `.git` suffix.
    pub fn name(&self) -> String {
        let name = self
            .root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repository".to_owned());
        name.strip_suffix(".git").unwrap_or(&name).to_owned()
    }

    /// Whether a commit-graph file is present (walks are about ten times faster with one).
    pub fn has_commit_graph(&self) -> bool {
        self.repo.commit_graph_if_enabled().ok().flatten().is_some()
    }

    /// Whether this is a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }

    /// The tags whose short name matches the glob `pattern` (`*`, `?`, `[...]`; `*` matches `/`).
    ///
    /// Objects are read only for tags neither `cache` nor `graph` explains: a tag object in `cache`
    /// is known, and a lightweight tag naming a commit of `graph` is a commit.
    ///
    /// Most tags of a large repository are packed (`git pack-refs`, or a clone), so the packed-refs
    /// file (as gix holds it) is read line by line, borrowing each name and id from it, and the few
    /// loose tags are listed separately; a loose tag overrides a packed one of the same name, as in
    /// git. Going through gix's merged reference iterator instead allocated and validated a
    /// reference per tag, which cost more than everything else a run does per tag. (Refs in a
    /// namespace take that general way.)
    pub fn tags(
        &self,
        pattern: &str,
        cache: &TagCache,
        graph: &CommitGraph,
    ) -> Result<TagScan, RepoError> {
        if self.repo.refs.namespace.is_some() {
            return self.tags_merged(pattern, cache, graph);
        }
        let mut scan = TagScan::default();
        let mut buf = Vec::new();
        let matches = |short: &[u8]| {
            gix::glob::wildmatch(
                pattern.as_bytes().as_bstr(),
                short.as_bstr(),
                gix::glob::wildmatch::Mode::empty(),
            )
        };
        let mut loose: Vec<gix::refs::Reference> = Vec::new();
        let dir: &gix::path::RelativePath = "refs/tags/"
            .try_into()
            .map_err(|e| RepoError::query("list tags", gix::Error::from_error(e)))?;
        let iter = self
            .repo
            .refs
            .loose_iter_prefixed(dir)
            .map_err(|e| RepoError::query("list tags", gix::Error::from_error(e)))?;
        for reference in iter {
            loose.push(reference.map_err(|e| RepoError::query("read a tag reference", e))?);
        }
        // By name, bytewise (directory order can differ: `a/b` before `a-b`).
        loose.sort_by(|a, b| a.name.cmp(&b.name));
        let packed = self
            .repo
            .refs
            .cached_packed_buffer()
            .map_err(|e| RepoError::query("read packed references", e))?;
        if let Some(packed) = &packed {
            for (full, id) in packed_tags(packed.as_ref().as_ref())? {
                let Some(short) = full.strip_prefix(TAGS.as_bytes()) else {
                    continue;
                };
                if !matches(short)
                    || loose
                        .binary_search_by(|l| l.name.as_bstr().as_bytes().cmp(full))
                        .is_ok()
                {
                    continue;
                }
                let name = short.to_str_lossy().into_owned();
                self.resolve_tag(name, id, cache, graph, &mut scan, &mut buf);
            }
        }
        for reference in loose {
            let Some(short) = reference.name.as_bstr().strip_prefix(TAGS.as_bytes()) else {
                continue;
            };
            if !matches(short) {
                continue;
            }
            let name = short.to_str_lossy().into_owned();
            let id = match reference.target {
                gix::refs::Target::Object(id) => id,
                gix::refs::Target::Symbolic(_) => {
                    let followed = self
                        .repo
                        .find_reference(reference.name.as_ref())
                        .and_then(|mut r| r.peel_to_id().map(gix::Id::detach));
                    match followed {
                        Ok(id) => id,
                        Err(e) => {
                            scan.skipped.push((name, format!("cannot follow it: {e}")));
                            continue;
                        }
                    }
                }
            };
            self.resolve_tag(name, id, cache, graph, &mut scan, &mut buf);
        }
        scan.tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(scan)
    }

    /// [`GitRepo::tags`] through gix's merged (loose then packed) reference iterator, which honours
    /// a reference namespace.
    fn tags_merged(
        &self,
        pattern: &str,
        cache: &TagCache,
        graph: &CommitGraph,
    ) -> Result<TagScan, RepoError> {
        let mut scan = TagScan::default();
        let platform = self
            .repo
            .references()
            .map_err(|e| RepoError::query("list references", e))?;
        let iter = platform
            .tags()
            .map_err(|e| RepoError::query("list tags", e))?;
        let mut buf = Vec::new();
        for reference in iter {
            let mut reference = match reference {
                Ok(r) => r,
                Err(e) => return Err(RepoError::query("read a tag reference", e)),
            };
            let name = reference.name().shorten().to_str_lossy().into_owned();
            if !gix::glob::wildmatch(
                pattern.as_bytes().as_bstr(),
                name.as_bytes().as_bstr(),
                gix::glob::wildmatch::Mode::empty(),
            ) {
                continue;
            }
            let id = match reference.target().try_id() {
                Some(id) => id.to_owned(),
                None => match reference.peel_to_id() {
                    Ok(id) => id.detach(),
                    Err(e) => {
                        scan.skipped.push((name, format!("cannot follow it: {e}")));
                        continue;
                    }
                },
            };
            self.resolve_tag(name, id, cache, graph, &mut scan, &mut buf);
        }
        scan.tags.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(scan)
    }

    /// Adds tag `name`, whose reference names object `id`, to `scan`: a cached annotated tag, a
    /// commit of `graph`, or else whatever reading the objects finds (peeling nested tags).
    fn resolve_tag(
        &self,
        name: String,
        mut id: ObjectId,
        cache: &TagCache,
        graph: &CommitGraph,
        scan: &mut TagScan,
        buf: &mut Vec<u8>,
    ) {
        let target = to_sha(&id);
        if let Some(known) = cache.get(&target) {
            scan.tags.push(TagTarget {
                name,
                commit: known.commit,
                tagger_time: known.tagger_time,
            });
            return;
        }
        if graph.find(&target).is_some() {
            scan.tags.push(TagTarget {
                name,
                commit: target,
                tagger_time: None,
            });
            return;
        }
        let mut tagger_time = None;
        let mut first_tag = true;
        let outcome = loop {
            let data = match self.repo.objects.try_find(&id, buf) {
                Ok(Some(data)) => data,
                Ok(None) => break Err(format!("its object {id} is missing")),
                Err(e) => break Err(format!("cannot read {id}: {e}")),
            };
            match data.kind {
                gix::objs::Kind::Commit => break Ok(id),
                gix::objs::Kind::Tag => {
                    let tag = gix::objs::TagRefIter::from_bytes(data.data, gix::hash::Kind::Sha1);
                    let mut target = None;
                    for token in tag {
                        match token {
                            Ok(gix::objs::tag::ref_iter::Token::Target { id }) => target = Some(id),
                            Ok(gix::objs::tag::ref_iter::Token::Tagger(Some(sig))) if first_tag => {
                                tagger_time = sig
                                    .time
                                    .split_ascii_whitespace()
                                    .next()
                                    .and_then(|s| s.parse().ok());
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                    first_tag = false;
                    match target {
                        Some(next) => id = next,
                        None => break Err("its tag object is malformed".to_owned()),
                    }
                }
                other => break Err(format!("it names a {}, not a commit", kind_name(other))),
            }
        };
        match outcome {
            Ok(commit) => {
                if !first_tag {
                    scan.newly_read.push(CachedTag {
                        tag: target,
                        commit: to_sha(&commit),
                        tagger_time,
                    });
                }
                scan.tags.push(TagTarget {
                    name,
                    commit: to_sha(&commit),
                    tagger_time,
                });
            }
            Err(reason) => scan.skipped.push((name, reason)),
        }
    }

    /// The default branch: HEAD's branch, else what `origin/HEAD` points to.
    pub fn default_branch(&self) -> Result<String, RepoError> {
        if let Ok(Some(name)) = self.repo.head_name() {
            return Ok(name.shorten().to_str_lossy().into_owned());
        }
        if let Ok(reference) = self.repo.find_reference("refs/remotes/origin/HEAD")
            && let gix::refs::TargetRef::Symbolic(target) = reference.target()
        {
            return Ok(target.shorten().to_str_lossy().into_owned());
        }
        Err(RepoError::NoDefaultBranch)
    }

    /// The commit at the tip of `branch` (`main`, `origin/main`, or a full ref name).
    pub fn branch_tip(&self, branch: &str) -> Result<Sha, RepoError> {
        let candidates = [
            branch.to_owned(),
            format!("refs/heads/{branch}"),
            format!("refs/remotes/{branch}"),
        ];
        for name in candidates.iter().filter(|n| n.starts_with("refs/")) {
            if let Ok(mut reference) = self.repo.find_reference(name.as_str()) {
                return self.peeled_commit(&mut reference, name);
            }
        }
        Err(RepoError::NoSuchBranch(branch.to_owned()))
    }

    /// The commit tag `name` names (through annotated tags).
    pub fn tag_commit(&self, name: &str) -> Result<Sha, RepoError> {
        let full = format!("refs/tags/{name}");
        let mut reference = match self.repo.try_find_reference(full.as_str()) {
            Ok(Some(reference)) => reference,
            Ok(None) => return Err(RepoError::NoSuchTag(name.to_owned())),
            Err(e) => return Err(RepoError::query("look up the tag", e)),
        };
        self.peeled_commit(&mut reference, &full)
    }

    /// The commit `reference` (named `name`) leads to, through symbolic references and annotated
    /// tags; an error when it leads to something else.
    fn peeled_commit(
        &self,
        reference: &mut gix::Reference<'_>,
        name: &str,
    ) -> Result<Sha, RepoError> {
        let id = reference
            .peel_to_id()
            .map_err(|e| RepoError::query("follow the reference", e))?;
        let header = self
            .repo
            .find_header(id.detach())
            .map_err(|e| RepoError::query("read the object it names", e))?;
        if header.kind() != gix::objs::Kind::Commit {
            return Err(RepoError::NotACommit {
                name: name.to_owned(),
            });
        }
        Ok(to_sha(&id))
    }

    /// Resolves a full or abbreviated sha to the one commit it names.
    pub fn resolve(&self, prefix: &ShaPrefix) -> Result<Sha, ResolveError> {
        let id = if let Some(full) = prefix.as_full() {
            to_oid(&full)
        } else {
            let gix_prefix = gix::hash::Prefix::from_hex(prefix.as_str())
                .map_err(|_| ResolveError::NotFound(prefix.clone()))?;
            match self.repo.objects.lookup_prefix(gix_prefix, None) {
                Ok(Some(Ok(id))) => id,
                Ok(Some(Err(()))) => return Err(ResolveError::Ambiguous(prefix.clone())),
                Ok(None) => return Err(ResolveError::NotFound(prefix.clone())),
                Err(e) => return Err(RepoError::query("look up a sha prefix", e).into()),
            }
        };
        match self.repo.find_header(id) {
            Ok(header) if header.kind() == gix::objs::Kind::Commit => Ok(to_sha(&id)),
            Ok(header) => Err(ResolveError::NotACommit(
                prefix.clone(),
                kind_name(header.kind()),
            )),
            Err(_) => Err(ResolveError::NotFound(prefix.clone())),
        }
    }

    /// The `origin` remote's URL, when the repository has one (for links to its web pages).
    pub fn remote_url(&self) -> Option<String> {
        let config = self.repo.config_snapshot();
        let url = config.string("remote.origin.url")?;
        Some(url.to_str_lossy().into_owned())
    }

    /// A commit's committer time (seconds since the epoch), `None` when the repository does not
    /// have the commit. Import and `record` compare deployment times with it.
    pub fn committer_time(&self, sha: &Sha) -> Option<i64> {
        let mut buf = Vec::new();
        let data = self.repo.objects.try_find(&to_oid(sha), &mut buf).ok()??;
        if data.kind != gix::objs::Kind::Commit {
            return None;
        }
        let fields = history::parse_commit(data.data, None).ok()?;
        (fields.committer_time != i64::MIN).then_some(fields.committer_time)
    }

    /// The first line of a commit's message, for listings. Latin-1 messages (declared with an
    /// `encoding` header) are decoded; anything else that is not UTF-8 is decoded lossily.
    pub fn summary(&self, sha: &Sha) -> Option<String> {
        use gix::objs::commit::ref_iter::Token;
        let mut buf = Vec::new();
        let data = self.repo.objects.try_find(&to_oid(sha), &mut buf).ok()??;
        let mut latin1 = false;
        let mut message = None;
        for token in gix::objs::CommitRefIter::from_bytes(data.data, gix::hash::Kind::Sha1) {
            match token.ok()? {
                Token::Encoding(name) => {
                    let name = name.to_ascii_lowercase();
                    latin1 = matches!(
                        name.as_slice(),
                        b"iso-8859-1" | b"iso8859-1" | b"latin1" | b"latin-1"
                    );
                }
                Token::Message(text) => {
                    message = Some(text);
                    break;
                }
                _ => {}
            }
        }
        let line = message?.lines().next().unwrap_or_default();
        let text = if latin1 && std::str::from_utf8(line).is_err() {
            line.iter().map(|&b| char::from(b)).collect()
        } else {
            line.to_str_lossy().into_owned()
        };
        Some(text.trim().to_owned())
    }
}

/// The first-parent chain ending at `tip`, oldest first.
pub fn first_parent_chain(graph: &CommitGraph, tip: CommitIdx) -> Vec<CommitIdx> {
    let mut chain = vec![tip];
    let mut at = tip;
    while let Some(&parent) = graph.parents(at).first() {
        chain.push(parent);
        at = parent;
    }
    chain.reverse();
    chain
}
