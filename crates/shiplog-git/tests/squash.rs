//! Squash commits matched to their branches by patch, on repositories built here with pinned dates:
//! a squash applied after the main branch moved on in the same file, a squash whose content was
//! changed while squashing, a branch merged normally, and a branch that is too long.

use std::path::Path;
use std::process::Command;

use shiplog_core::{CommitGraph, Sha};
use std::collections::HashMap;

use shiplog_git::squash::{SquashLimits, TipState, find_squashed_branches};
use shiplog_git::{GitRepo, NoProgress, sync};

/// Runs git in `dir` with pinned identities and `date` as author and committer date.
fn git(dir: &Path, date: &str, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write");
}

fn commit(dir: &Path, date: &str, message: &str) -> String {
    git(dir, date, &["add", "-A"]);
    git(dir, date, &["commit", "-q", "-m", message]);
    git(dir, date, &["rev-parse", "HEAD"])
}

/// A repository whose `main` has one commit (Mar 1 09:00).
fn init(dir: &Path) {
    git(
        dir,
        "2026-03-01T09:00:00Z",
        &["init", "-q", "-b", "main", "."],
    );
    write(dir, "a.txt", "a\n");
    commit(dir, "2026-03-01T09:00:00Z", "init");
}

fn seconds(date: &str) -> i64 {
    date.parse::<jiff::Timestamp>().expect("date").as_second()
}

/// What one search of `main`'s history finds: the matches as (squash commit, branch, commits,
/// first author time), the state per tip, and how many tips were searched.
struct Found {
    matches: Vec<(String, String, usize, i64)>,
    tips: HashMap<Sha, TipState>,
    searched: usize,
}

fn search(dir: &Path, limits: SquashLimits, previous: &HashMap<Sha, TipState>) -> Found {
    let repo = GitRepo::discover(dir).expect("open");
    let mut graph = CommitGraph::new();
    let main =
        Sha::from_hex(&git(dir, "2026-01-01T00:00:00Z", &["rev-parse", "main"])).expect("sha");
    sync(&repo, &mut graph, &[main], &NoProgress).expect("sync");
    let found = find_squashed_branches(&repo, &graph, &|_| false, limits, previous);
    Found {
        matches: found
            .matches
            .into_iter()
            .map(|m| {
                (
                    graph.sha(m.commit).to_string(),
                    m.branch,
                    m.commits,
                    m.first_author_time,
                )
            })
            .collect(),
        tips: found.tips.into_iter().collect(),
        searched: found.searched,
    }
}

/// The matches of a first search.
fn squashes(dir: &Path, limits: SquashLimits) -> Vec<(String, String, usize, i64)> {
    search(dir, limits, &HashMap::new()).matches
}

/// main: a 10-line file. Branch `feature` changes line 8 (Mar 2 09:00) and adds a file (Mar 2
/// 11:00); meanwhile main changes line 2 (Mar 2 12:00). The squash (Mar 3 10:00) applies the
/// branch's patch to the moved-on main: other blob ids, the same changed lines.
fn moved_on_main(dir: &Path) -> (String, String) {
    git(
        dir,
        "2026-03-01T09:00:00Z",
        &["init", "-q", "-b", "main", "."],
    );
    let lines: Vec<String> = (1..=10).map(|i| format!("line {i}")).collect();
    write(dir, "app.txt", &(lines.join("\n") + "\n"));
    commit(dir, "2026-03-01T09:00:00Z", "init");
    git(
        dir,
        "2026-03-02T09:00:00Z",
        &["checkout", "-q", "-b", "feature"],
    );
    let mut branch = lines.clone();
    branch[7] = "line 8, fixed".to_owned();
    write(dir, "app.txt", &(branch.join("\n") + "\n"));
    commit(dir, "2026-03-02T09:00:00Z", "fix line 8");
    write(dir, "notes.txt", "why\n");
    commit(dir, "2026-03-02T11:00:00Z", "notes");
    git(dir, "2026-03-02T12:00:00Z", &["checkout", "-q", "main"]);
    let mut main = lines.clone();
    main[1] = "line 2, elsewhere".to_owned();
    write(dir, "app.txt", &(main.join("\n") + "\n"));
    commit(dir, "2026-03-02T12:00:00Z", "change line 2");
    let date = "2026-03-03T10:00:00Z";
    git(dir, date, &["merge", "-q", "--squash", "feature"]);
    let squash = commit(dir, date, "Feature (squashed)");
    // A later unrelated commit.
    write(dir, "other.txt", "x\n");
    commit(dir, "2026-03-04T10:00:00Z", "other");
    (squash, main.join("\n"))
}

#[test]
fn a_squash_onto_a_moved_on_main_matches_its_branch_by_changed_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let (squash, _) = moved_on_main(dir);
    let found = squashes(dir, SquashLimits::default());
    assert_eq!(
        found,
        vec![(
            squash,
            "feature".to_owned(),
            2,
            seconds("2026-03-02T09:00:00Z")
        )]
    );
}

#[test]
fn a_squash_changed_while_squashing_does_not_match() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    moved_on_main(dir);
    // Amend the squash so that it changes line 8 differently from the branch.
    git(dir, "2026-03-04T11:00:00Z", &["checkout", "-q", "main~1"]);
    let text = std::fs::read_to_string(dir.join("app.txt")).expect("read");
    write(
        dir,
        "app.txt",
        &text.replace("line 8, fixed", "line 8, fixed twice"),
    );
    git(dir, "2026-03-04T11:00:00Z", &["add", "-A"]);
    git(
        dir,
        "2026-03-04T11:00:00Z",
        &["commit", "-q", "--amend", "-m", "Feature (edited)"],
    );
    git(
        dir,
        "2026-03-04T11:00:00Z",
        &["branch", "-f", "main", "HEAD"],
    );
    git(dir, "2026-03-04T11:00:00Z", &["checkout", "-q", "main"]);
    assert_eq!(squashes(dir, SquashLimits::default()), vec![]);
}

#[test]
fn squashes_outside_the_window_or_of_long_branches_are_not_matched() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    moved_on_main(dir);
    // The squash landed 23 hours after the branch's last commit.
    let narrow = SquashLimits {
        window_seconds: 22 * 3600,
        ..SquashLimits::default()
    };
    assert_eq!(squashes(dir, narrow), vec![]);
    let short = SquashLimits {
        max_branch_commits: 1,
        ..SquashLimits::default()
    };
    assert_eq!(squashes(dir, short), vec![]);
    let none = SquashLimits {
        max_branches: 0,
        ..SquashLimits::default()
    };
    assert_eq!(squashes(dir, none), vec![]);
}

#[test]
fn merged_branches_and_deleted_branches_give_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    init(dir);
    git(
        dir,
        "2026-03-01T10:00:00Z",
        &["checkout", "-q", "-b", "merged"],
    );
    write(dir, "b.txt", "b\n");
    commit(dir, "2026-03-01T10:00:00Z", "b");
    git(dir, "2026-03-01T11:00:00Z", &["checkout", "-q", "main"]);
    git(
        dir,
        "2026-03-01T11:00:00Z",
        &["merge", "-q", "--no-ff", "merged", "-m", "merge"],
    );
    // The merged branch's tip is in the history: nothing to match.
    assert_eq!(squashes(dir, SquashLimits::default()), vec![]);
    // A squashed branch that was deleted leaves nothing to match either.
    git(
        dir,
        "2026-03-01T12:00:00Z",
        &["checkout", "-q", "-b", "gone"],
    );
    write(dir, "c.txt", "c\n");
    commit(dir, "2026-03-01T12:00:00Z", "c");
    git(dir, "2026-03-01T13:00:00Z", &["checkout", "-q", "main"]);
    git(
        dir,
        "2026-03-01T13:00:00Z",
        &["merge", "-q", "--squash", "gone"],
    );
    commit(dir, "2026-03-01T13:00:00Z", "c (squashed)");
    assert_eq!(squashes(dir, SquashLimits::default()).len(), 1);
    git(dir, "2026-03-01T13:00:00Z", &["branch", "-q", "-D", "gone"]);
    assert_eq!(squashes(dir, SquashLimits::default()), vec![]);
}

#[test]
fn a_rerun_checks_only_new_commits_and_keeps_earlier_matches() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    init(dir);
    for (name, file, date) in [
        ("one", "one.txt", "2026-03-02T09:00:00Z"),
        ("two", "two.txt", "2026-03-02T10:00:00Z"),
    ] {
        git(dir, date, &["checkout", "-q", "-b", name, "main"]);
        write(dir, file, "work\n");
        commit(dir, date, name);
    }
    git(dir, "2026-03-03T09:00:00Z", &["checkout", "-q", "main"]);
    git(
        dir,
        "2026-03-03T09:00:00Z",
        &["merge", "-q", "--squash", "one"],
    );
    let one = commit(dir, "2026-03-03T09:00:00Z", "one (squashed)");

    let search = |previous: &HashMap<Sha, TipState>| {
        let found = search(dir, SquashLimits::default(), previous);
        let matched: Vec<(String, String)> = found
            .matches
            .into_iter()
            .map(|(sha, branch, _, _)| (sha, branch))
            .collect();
        (matched, found.tips, found.searched)
    };
    let (matched, state, searched) = search(&HashMap::new());
    assert_eq!(matched, vec![(one.clone(), "one".to_owned())]);
    assert_eq!(searched, 2);
    // The state survives its text form.
    for s in state.values() {
        assert_eq!(TipState::decode(&s.encode()), Some(*s));
    }
    assert_eq!(TipState::decode("unmatched 3"), None);

    // Nothing new: nothing searched, the same match.
    let (again, state, searched) = search(&state);
    assert_eq!(again, matched);
    assert_eq!(searched, 0);

    // Branch two is squashed later: only it is searched, against the new commit.
    git(
        dir,
        "2026-03-04T09:00:00Z",
        &["merge", "-q", "--squash", "two"],
    );
    let two = commit(dir, "2026-03-04T09:00:00Z", "two (squashed)");
    let (both, state, searched) = search(&state);
    assert_eq!(
        both,
        vec![(one.clone(), "one".to_owned()), (two, "two".to_owned())]
    );
    assert_eq!(searched, 1);

    // A state made against another history (its last commit is not ours) is not trusted.
    let stale: HashMap<Sha, TipState> = state
        .keys()
        .map(|&tip| {
            let last = Sha::from_hex(&"ab".repeat(20)).expect("sha");
            (tip, TipState::Unmatched { checked: 3, last })
        })
        .collect();
    let (rechecked, _, searched) = search(&stale);
    assert_eq!(rechecked, both);
    assert_eq!(searched, 2);
}
