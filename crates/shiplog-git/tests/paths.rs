//! Path classification, branch commits and rebased copies on the `monorepo` and `merge-styles`
//! fixture repositories.

use std::path::{Path, PathBuf};
use std::process::Command;

use shiplog_core::{CommitGraph, ServiceName, Sha};
use shiplog_git::paths::{ServicePaths, classify};
use shiplog_git::rebased::{RebaseCandidate, branch_commits, match_rebased};
use shiplog_git::{GitRepo, NoProgress, sync};

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

fn sha(dir: &Path, spec: &str) -> Sha {
    let out = Command::new("git")
        .args(["rev-parse", spec])
        .current_dir(dir)
        .output()
        .expect("git");
    Sha::from_hex(String::from_utf8_lossy(&out.stdout).trim()).expect("sha")
}

fn glob(text: &str) -> globset::Glob {
    globset::GlobBuilder::new(text)
        .literal_separator(true)
        .build()
        .expect("glob")
}

#[test]
fn commits_belong_to_the_services_whose_paths_they_change() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("monorepo", tmp.path());
    let repo = GitRepo::discover(&dir).expect("open");
    let mut graph = CommitGraph::new();
    sync(&repo, &mut graph, &[sha(&dir, "m7")], &NoProgress).expect("sync");
    let paths = ServicePaths::new(vec![
        (
            ServiceName::new("api").expect("name"),
            vec![glob("services/api/**"), glob("libs/common/**")],
        ),
        (
            ServiceName::new("web").expect("name"),
            vec![glob("services/web/**"), glob("libs/common/**")],
        ),
        (
            ServiceName::new("billing").expect("name"),
            vec![glob("services/billing"), glob("services/billing/**")],
        ),
    ])
    .expect("paths");
    let names = ["m1", "m2", "m3", "m4", "m5", "f1", "M6", "m7"];
    let commits: Vec<u32> = names
        .iter()
        .map(|n| graph.find(&sha(&dir, n)).expect("in graph"))
        .collect();
    let masks = classify(&repo, &graph, &commits, &paths, &NoProgress).expect("classify");
    // api = 1, web = 2, billing = 4.
    assert_eq!(
        masks,
        [0b111, 0b001, 0b010, 0b011, 0b000, 0b100, 0b100, 0b011]
    );

    // The same with a commit-graph file.
    let status = Command::new("git")
        .args(["commit-graph", "write", "--reachable"])
        .current_dir(&dir)
        .status()
        .expect("git");
    assert!(status.success());
    let repo = GitRepo::discover(&dir).expect("open");
    assert!(repo.has_commit_graph());
    let again = classify(&repo, &graph, &commits, &paths, &NoProgress).expect("classify");
    assert_eq!(again, masks);
}

#[test]
fn branches_and_rebased_copies_are_found_for_each_merge_style() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = build("merge-styles", tmp.path());
    let repo = GitRepo::discover(&dir).expect("open");
    let mut graph = CommitGraph::new();
    sync(
        &repo,
        &mut graph,
        &[sha(&dir, "v1.4.0^{commit}")],
        &NoProgress,
    )
    .expect("sync");
    let head = |n: u32| sha(&dir, &format!("refs/pull/{n}/head"));
    let merged = |tag: &str| sha(&dir, &format!("{tag}^{{commit}}"));
    let shas = |found: Vec<(Sha, i64)>| found.into_iter().map(|(s, _)| s).collect::<Vec<_>>();

    // #1, a merge commit: its branch is in the history.
    let one = branch_commits(&repo, &graph, &head(1), Some(&merged("v1.1.0")), 100);
    assert_eq!(shas(one), [sha(&dir, "refs/pull/1/head~1"), head(1)]);
    // #2, squashed: its branch is read from the objects, back to the base branch.
    let two = branch_commits(&repo, &graph, &head(2), Some(&merged("v1.2.0")), 100);
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].1, 1_770_022_800, "b1: 2026-02-02T09:00:00Z");
    // An unknown head gives nothing.
    assert!(branch_commits(&repo, &graph, &Sha::from_bytes([7; 20]), None, 100).is_empty());

    // #3, rebased: both copies pair with their originals; #2's squash pairs with nothing.
    let three = shas(branch_commits(
        &repo,
        &graph,
        &head(3),
        Some(&merged("v1.3.0")),
        100,
    ));
    let two = shas(branch_commits(
        &repo,
        &graph,
        &head(2),
        Some(&merged("v1.2.0")),
        100,
    ));
    let found = match_rebased(
        &repo,
        &graph,
        &[
            RebaseCandidate {
                merge_commit: merged("v1.3.0"),
                commits: &three,
            },
            RebaseCandidate {
                merge_commit: merged("v1.2.0"),
                commits: &two,
            },
        ],
    );
    let copies: Vec<(usize, Sha)> = found.iter().map(|&(i, c)| (i, graph.sha(c))).collect();
    assert_eq!(copies, [(0, merged("v1.3.0")), (0, sha(&dir, "v1.3.0~1"))]);
}
