//! Helpers for the end-to-end tests: fixture repositories built by the scripts in
//! `tests/fixtures/`, and the real `shiplog` binary run against them.

#![allow(dead_code)]

pub mod browser;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

/// The environment variables by which `shiplog record deployment` detects CI.
pub const CI_VARIABLES: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "JENKINS_URL",
    "TF_BUILD",
    "TRAVIS",
    "TEAMCITY_VERSION",
    "BITBUCKET_BUILD_NUMBER",
    "DRONE",
    "CODEBUILD_BUILD_ID",
    "CI",
];

/// A fixture repository in a temporary directory.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Runs `tests/fixtures/<name>.sh` into a fresh temporary directory.
    pub fn build(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(format!("{name}.sh"));
        let status = Command::new("bash")
            .arg(&script)
            .arg(dir.path().join("repo"))
            .status()
            .expect("run fixture script");
        assert!(status.success(), "fixture script {name} failed");
        Self { dir }
    }

    /// The repository's path.
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A `shiplog` command run inside the repository, isolated from the environment (including
    /// the CI variables `shiplog record deployment` detects, so a test run in CI records as one
    /// run by hand).
    pub fn shiplog(&self) -> Command {
        let mut cmd = Command::cargo_bin("shiplog").expect("binary");
        for name in CI_VARIABLES {
            cmd.env_remove(name);
        }
        cmd.current_dir(self.repo())
            .env_remove("SHIPLOG_DB")
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        cmd
    }

    /// Runs shiplog with `args`, asserting success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.shiplog().args(args).output().expect("run shiplog");
        assert!(
            out.status.success(),
            "shiplog {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs shiplog with `args`, asserting success; returns stderr.
    pub fn ok_stderr(&self, args: &[&str]) -> String {
        let out = self.shiplog().args(args).output().expect("run shiplog");
        assert!(
            out.status.success(),
            "shiplog {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }

    /// Runs shiplog with `args`, asserting failure; returns the output.
    pub fn fails(&self, args: &[&str]) -> Output {
        let out = self.shiplog().args(args).output().expect("run shiplog");
        assert!(
            !out.status.success(),
            "shiplog {args:?} should have failed; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        out
    }

    /// Runs shiplog with `args` and parses its JSON output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// `git rev-parse` in the repository.
    pub fn rev(&self, spec: &str) -> String {
        let out = Command::new("git")
            .args(["rev-parse", spec])
            .current_dir(self.repo())
            .output()
            .expect("git rev-parse");
        assert!(out.status.success(), "git rev-parse {spec}");
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }

    /// Runs a git command in the repository with pinned identity and dates.
    pub fn git(&self, args: &[&str], date: &str) {
        let status = Command::new("git")
            .args(args)
            .current_dir(self.repo())
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    }
}

/// Asserts a JSON number equals `expected` exactly (the values are hand-computed).
pub fn num(value: &serde_json::Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {value}"))
}

/// Asserts a JSON number is within 1e-6 of `expected` (interpolated percentiles are not exact in
/// binary floating point).
pub fn approx(value: &serde_json::Value, expected: f64) {
    let got = num(value);
    assert!(
        (got - expected).abs() < 1e-6,
        "expected {expected}, got {got}"
    );
}
