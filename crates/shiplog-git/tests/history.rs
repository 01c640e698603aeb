//! Reading real repositories built by the fixture scripts: messy histories, commit-graph files,
//! incremental reads, the cache format and shallow clones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use shiplog_core::{CommitGraph, Sha, ShaAbbrev, ShaPrefix};
use shiplog_git::{GitRepo, NoProgress, ResolveError, SyncError, TagCache, cache, sync};

fn build(name: &str, into: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(format!("{name}.sh"));
    let repo = into.join("repo");
    let status = Command::new("bash")
        .arg(script)
        .arg(&repo)
        .status()
        .expect("run fixture");
    assert!(status.success());
    repo
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn sha(dir: &Path, spec: &str) -> Sha {
    Sha::from_hex(&git(dir, &["rev-parse", spec])).expect("sha")
}

fn all_tips(repo: &GitRepo) -> Vec<Sha> {
    repo.tags("*", &TagCache::default(), &CommitGraph::new())
        .expect("tags")
        .tags
        .iter()
        .map(|t| t.commit)
        .collect()
}

/// Every commit as (sha, parent shas, author time, committer time, reverts, shallow): comparable
/// across graphs whose index order differs.
type CommitFacts = (Sha, Vec<Sha>, i64, i64, Vec<ShaAbbrev>, bool);

fn facts(graph: &CommitGraph) -> BTreeSet<CommitFacts> {
    (0..graph.len() as u32)
        .map(|i| {
            (
                graph.sha(i),
                graph.parents(i).iter().map(|&p| graph.sha(p)).collect(),
                graph.author_time(i),
                graph.committer_time(i),
                graph.reverts_of(i).collect(),
                graph.is_shallow(i),
            )
        })
        .collect()
}

#[test]
fn packed_tags_read_like_loose_ones_and_loose_ones_win() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("messy", tmp.path());
    let repo = GitRepo::discover(&dir).expect("open");
    let loose = repo
        .tags("v*", &TagCache::default(), &CommitGraph::new())
        .expect("tags");
    git(&dir, &["pack-refs", "--all"]);
    let repo = GitRepo::discover(&dir).expect("open");
    let packed = repo
        .tags("v*", &TagCache::default(), &CommitGraph::new())
        .expect("tags");
    assert_eq!(packed, loose, "the same tags, packed or loose");
    // A loose tag overrides the packed one of the same name; a symbolic tag is followed.
    let older = sha(&dir, "v2.4.0~1");
    git(
        &dir,
        &["update-ref", "refs/tags/v2.4.0", &older.to_string()],
    );
    git(
        &dir,
        &["symbolic-ref", "refs/tags/v9-sym", "refs/tags/v2.3.0-a"],
    );
    git(&dir, &["tag", "w-not-matched"]);
    let repo = GitRepo::discover(&dir).expect("open");
    let mixed = repo
        .tags("v*", &TagCache::default(), &CommitGraph::new())
        .expect("tags");
    let commit_of = |name: &str| mixed.tags.iter().find(|t| t.name == name).map(|t| t.commit);
    assert_eq!(commit_of("v2.4.0"), Some(older));
    assert_eq!(commit_of("v9-sym"), Some(sha(&dir, "v2.3.0-a")));
    assert_eq!(commit_of("w-not-matched"), None);
    assert_eq!(mixed.tags.len(), loose.tags.len() + 1);
    assert!(mixed.tags.is_sorted_by(|a, b| a.name <= b.name));
}

#[test]
fn messy_histories_read_without_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("messy", tmp.path());
    let repo = GitRepo::discover(&dir).expect("open");

    let scan = repo
        .tags("v*", &TagCache::default(), &CommitGraph::new())
        .expect("tags");
    let names: Vec<&str> = scan.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "v2.0.0",
            "v2.1.0",
            "v2.2.0",
            "v2.2.0-inner",
            "v2.3.0-a",
            "v2.3.0-b",
            "v2.4.0"
        ]
    );
    let skipped: Vec<&str> = scan.skipped.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(skipped, ["v-blob", "v-tree"]);
    assert!(scan.skipped[0].1.contains("names a blob"));
    let time = |name: &str| {
        scan.tags
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.tagger_time)
    };
    assert_eq!(time("v2.0.0"), Some(1_769_947_200)); // 2026-02-01T12:00:00Z
    assert_eq!(time("v2.1.0"), None, "annotated without a tagger");
    assert_eq!(
        time("v2.2.0"),
        Some(1_770_202_800),
        "the outer tag's tagger"
    ); // 2026-02-04T11:00Z
    assert_eq!(time("v2.3.0-a"), None, "lightweight");
    let nested = scan
        .tags
        .iter()
        .find(|t| t.name == "v2.2.0")
        .expect("v2.2.0");
    assert_eq!(nested.commit, sha(&dir, "v2.2.0^{commit}"));
    // Annotated tags were read and can be cached; a second scan with the cache and the graph reads
    // no object and finds the same tags.
    assert_eq!(scan.newly_read.len(), 4);
    let cache: TagCache = scan.newly_read.iter().map(|t| (t.tag, *t)).collect();

    let mut graph = CommitGraph::new();
    let report = sync(&repo, &mut graph, &all_tips(&repo), &NoProgress).expect("sync");
    assert_eq!(report.new, 8);
    let again = repo.tags("v*", &cache, &graph).expect("tags");
    assert!(again.newly_read.is_empty());
    assert_eq!(again.tags, scan.tags);
    assert!(report.unknown_tips.is_empty());
    let octopus = graph.find(&sha(&dir, "v2.1.0^{commit}")).expect("octopus");
    assert_eq!(graph.parents(octopus).len(), 3);
    let revert = graph.find(&sha(&dir, "v2.4.0")).expect("revert");
    assert_eq!(
        graph.reverts_of(revert).collect::<Vec<_>>(),
        [ShaAbbrev::full(sha(&dir, "v2.4.0~1~1~1~1"))]
    );
    // Author times come from the objects, whatever their message encoding.
    let latin1 = graph.find(&sha(&dir, "v2.2.0^{commit}")).expect("latin1");
    assert_eq!(graph.author_time(latin1), 1_770_195_600); // 2026-02-04T09:00:00Z
    assert_eq!(
        repo.summary(&sha(&dir, "v2.2.0^{commit}")).as_deref(),
        Some("Café crème")
    );
    let broken = repo.summary(&sha(&dir, "v2.3.0-a")).expect("summary");
    assert!(
        broken.starts_with("broken") && broken.ends_with("bytes"),
        "{broken}"
    );
    // Topological order: every parent before its child.
    for i in 0..graph.len() as u32 {
        assert!(graph.parents(i).iter().all(|&p| p < i));
    }
}

#[test]
fn a_commit_graph_file_gives_the_same_history() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("basic", tmp.path());
    let plain = GitRepo::discover(&dir).expect("open");
    assert!(!plain.has_commit_graph());
    let mut without = CommitGraph::new();
    let report = sync(&plain, &mut without, &all_tips(&plain), &NoProgress).expect("sync");
    assert!(!report.used_commit_graph);

    git(&dir, &["commit-graph", "write", "--reachable"]);
    let with_file = GitRepo::discover(&dir).expect("open");
    assert!(with_file.has_commit_graph());
    let mut with = CommitGraph::new();
    let report = sync(&with_file, &mut with, &all_tips(&with_file), &NoProgress).expect("sync");
    assert!(report.used_commit_graph);
    assert_eq!(facts(&with), facts(&without));
    assert_eq!(with.len(), 10);
}

#[test]
fn incremental_reads_add_only_what_is_new_and_survive_the_cache() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("basic", tmp.path());
    let repo = GitRepo::discover(&dir).expect("open");

    let mut graph = CommitGraph::new();
    let first = sync(&repo, &mut graph, &[sha(&dir, "v1.1.0")], &NoProgress).expect("sync");
    assert_eq!((first.cached, first.new), (0, 6));
    // Through the cache format, as the next run would see it.
    let run0 = graph.sorted_run(0).expect("run").to_vec();
    let segment = cache::encode(&graph, 0..graph.len(), &run0, &[]);
    let mut reloaded = CommitGraph::new();
    cache::decode_into(&mut reloaded, 0, &segment).expect("decode");

    let second = sync(&repo, &mut reloaded, &all_tips(&repo), &NoProgress).expect("sync");
    assert_eq!((second.cached, second.new), (6, 4));
    let third = sync(&repo, &mut reloaded, &all_tips(&repo), &NoProgress).expect("sync");
    assert_eq!(third.new, 0);

    let mut once = CommitGraph::new();
    sync(&repo, &mut once, &all_tips(&repo), &NoProgress).expect("sync");
    assert_eq!(facts(&reloaded), facts(&once));

    // Both runs encode and decode to the same graph.
    let run1 = reloaded.sorted_run(1).expect("run").to_vec();
    let segment1 = cache::encode(&reloaded, 6..10, &run1, &[]);
    let mut again = CommitGraph::new();
    cache::decode_into(&mut again, 0, &segment).expect("decode 0");
    cache::decode_into(&mut again, 1, &segment1).expect("decode 1");
    assert_eq!(facts(&again), facts(&once));
}

#[test]
fn unknown_tips_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("basic", tmp.path());
    let repo = GitRepo::discover(&dir).expect("open");
    let missing = Sha::from_bytes([0xab; 20]);
    let tree = sha(&dir, "HEAD^{tree}");
    let mut graph = CommitGraph::new();
    let report = sync(
        &repo,
        &mut graph,
        &[missing, sha(&dir, "v1.0.0^{commit}"), tree],
        &NoProgress,
    )
    .expect("sync");
    let mut expected = vec![missing, tree];
    expected.sort();
    assert_eq!(report.unknown_tips, expected);
    assert_eq!(report.new, 2);
}

#[test]
fn shallow_boundaries_are_kept_and_deepening_is_detected() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("basic", tmp.path());
    let shallow_dir = tmp.path().join("shallow");
    let url = format!("file://{}", dir.display());
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "2",
            "--no-tags",
            &url,
            shallow_dir.to_str().unwrap_or_default(),
        ],
    );
    let repo = GitRepo::discover(&shallow_dir).expect("open");
    assert!(repo.is_shallow());
    let tip = sha(&shallow_dir, "HEAD");
    let mut graph = CommitGraph::new();
    let report = sync(&repo, &mut graph, &[tip], &NoProgress).expect("sync");
    assert_eq!(report.new, 2);
    assert_eq!(report.new_shallow, 1);
    let boundary = graph.shallow_commits()[0];
    assert!(graph.parents(boundary).is_empty());

    git(&shallow_dir, &["fetch", "-q", "--unshallow"]);
    let deepened = GitRepo::discover(&shallow_dir).expect("open");
    assert!(matches!(
        sync(&deepened, &mut graph, &[tip], &NoProgress),
        Err(SyncError::Deepened)
    ));
    let mut fresh = CommitGraph::new();
    let report = sync(&deepened, &mut fresh, &[tip], &NoProgress).expect("sync");
    assert_eq!(report.new, 10);
    assert!(fresh.shallow_commits().is_empty());
}

#[test]
fn prefixes_and_branches_resolve() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("basic", tmp.path());
    let repo = GitRepo::discover(&dir.join(".git")).expect("open from the git dir");
    let head = sha(&dir, "HEAD");
    let prefix = ShaPrefix::new(&head.short(12)).expect("prefix");
    assert_eq!(repo.resolve(&prefix).expect("resolve"), head);
    assert!(matches!(
        repo.resolve(&ShaPrefix::new("0000000").expect("prefix")),
        Err(ResolveError::NotFound(_))
    ));
    let tree = ShaPrefix::new(&git(&dir, &["rev-parse", "HEAD^{tree}"])).expect("tree");
    assert!(matches!(
        repo.resolve(&tree),
        Err(ResolveError::NotACommit(_, "tree"))
    ));
    assert_eq!(repo.default_branch().expect("default"), "main");
    assert_eq!(repo.branch_tip("main").expect("tip"), head);
    assert_eq!(
        repo.branch_tip("refs/heads/feature").expect("tip"),
        sha(&dir, "feature")
    );
    assert_eq!(repo.name(), "repo");
}
