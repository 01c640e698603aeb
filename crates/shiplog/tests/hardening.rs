//! Hardening (issue 13), end to end with the real binary, real repositories and a real SQLite
//! store: deployments that finish before their commit, unknown scope names, look-alike names,
//! store and environment errors in the user's terms, and a seeded fuzz of `shiplog import` over
//! the recorded payloads (no panic or abort, every error names its file and a line or JSON path,
//! a failed import leaves the store byte for byte unchanged).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use common::Fixture;

const PAYLOADS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/payloads");

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file of the store (the database and its WAL, not the shared-memory index), by name.
fn store_bytes(db: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for suffix in ["", "-wal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(bytes) = std::fs::read(&path) {
            files.push((suffix.to_owned(), bytes));
        }
    }
    files
}

fn deployment_line(id: &str, sha: &str, finished_at: &str) -> String {
    format!(
        r#"{{"type":"deployment","id":"{id}","service":"api","environment":"production","sha":"{sha}","finished_at":"{finished_at}"}}"#
    )
}

/// The basic fixture with four recorded deployments (c2, c3, c5, c7) in a store of its own.
fn recorded_fixture() -> (Fixture, String) {
    let fx = Fixture::build("basic");
    let db = fx.dir.path().join("store.db").display().to_string();
    let lines: Vec<String> = [
        ("d1", "v1.0.0", "2026-01-05T12:00:00Z"),
        ("d2", "v1.1.0", "2026-01-07T12:00:00Z"),
        ("d3", "v1.3.0", "2026-01-09T12:00:00Z"),
        ("d4", "v1.4.0", "2026-01-11T12:00:00Z"),
    ]
    .iter()
    .map(|(id, tag, at)| deployment_line(id, &fx.rev(&format!("{tag}^{{commit}}")), at))
    .collect();
    std::fs::write(fx.repo().join("deploys.jsonl"), lines.join("\n") + "\n").expect("write");
    fx.ok(&["--db", &db, "import", "deploys.jsonl"]);
    (fx, db)
}

#[test]
fn a_deployment_before_its_commit_is_refused_and_never_erases_history() {
    let (fx, db) = recorded_fixture();
    let metrics = |fx: &Fixture| {
        fx.json(&[
            "--db",
            &db,
            "metrics",
            "--service",
            "api",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--format",
            "json",
        ])
    };
    let before = metrics(&fx);
    let changes = before["change_lead_time"]["changes"].clone();
    assert!(changes.as_u64().is_some_and(|n| n > 0), "{before}");
    assert_eq!(before["deployment_frequency"]["excluded_before_commit"], 0);

    // The latest commit, deployed "in 1970" (a CI job that sent an empty timestamp).
    let c7 = fx.rev("v1.4.0^{commit}");
    let bad = deployment_line("d-1970", &c7, "1970-01-01T00:00:00Z");
    std::fs::write(fx.repo().join("bad.jsonl"), format!("{bad}\n")).expect("write");
    let stored = store_bytes(Path::new(&db));
    let out = fx.fails(&["--db", &db, "import", "bad.jsonl"]);
    let text = stderr(&out);
    assert!(
        text.contains(&format!(
            "bad.jsonl:1: field \"finished_at\": the deployment finished at 1970-01-01T00:00:00Z, before its commit's committer time 2026-01-11T09:00:00Z ({})",
            &c7[..12]
        )),
        "{text}"
    );
    assert!(text.contains("--allow-before-commit"), "{text}");
    assert_eq!(
        store_bytes(Path::new(&db)),
        stored,
        "a failed import changes nothing"
    );

    // `record` refuses it too, with both times.
    let out = fx.fails(&[
        "--db",
        &db,
        "record",
        "deployment",
        "--service",
        "api",
        "--env",
        "production",
        "--sha",
        &c7,
        "--at",
        "1970-01-01T00:00:00Z",
    ]);
    let text = stderr(&out);
    assert!(
        text.contains("--at: the deployment finished at 1970-01-01T00:00:00Z, before its commit's committer time 2026-01-11T09:00:00Z"),
        "{text}"
    );

    // Accepted on request: stored, listed, counted, and no change is lost.
    fx.ok(&["--db", &db, "import", "--allow-before-commit", "bad.jsonl"]);
    let after = metrics(&fx);
    assert_eq!(after["change_lead_time"]["changes"], changes, "{after}");
    assert_eq!(
        after["change_lead_time"]["baseline_excluded"],
        before["change_lead_time"]["baseline_excluded"]
    );
    assert_eq!(after["deployment_frequency"]["deployments"], 4);
    // It finished in 1970: outside this window, so not counted in it...
    assert_eq!(after["deployment_frequency"]["excluded_before_commit"], 0);
    // ...but counted in a window that holds it, and named on standard error.
    let out = fx
        .shiplog()
        .args([
            "--db",
            &db,
            "metrics",
            "--service",
            "api",
            "--since",
            "1970-01-01",
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(all["deployment_frequency"]["excluded_before_commit"], 1);
    assert_eq!(all["change_lead_time"]["changes"], changes);
    let warning = stderr(&out);
    assert!(
        warning.contains("1 deployment left out of every metric: finished before its commit's committer time: d-1970 (finished 1970-01-01T00:00:00Z"),
        "{warning}"
    );
    let listed = fx.json(&[
        "--db",
        &db,
        "explain",
        "deployments",
        "--service",
        "api",
        "--since",
        "1970-01-01",
        "--format",
        "json",
    ]);
    let row = listed
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == "d-1970"))
        .expect("the deployment is listed");
    assert_eq!(row["before_commit"], "2026-01-11T09:00:00Z");
    let table = fx.ok(&[
        "--db",
        &db,
        "explain",
        "deployments",
        "--service",
        "api",
        "--since",
        "1970-01-01",
    ]);
    assert!(
        table.contains("excluded: finished before its commit"),
        "{table}"
    );
}

#[test]
fn unknown_services_and_environments_are_errors_listing_the_known_ones() {
    let (fx, db) = recorded_fixture();
    let out = fx.fails(&[
        "--db",
        &db,
        "metrics",
        "--service",
        "API",
        "--since",
        "2026-01-01",
    ]);
    let text = stderr(&out);
    assert!(
        text.contains("--service API: no deployment, incident or configured service has this name (did you mean \"api\"?); known services: api"),
        "{text}"
    );
    assert!(text.contains("--allow-unknown"), "{text}");
    let out = fx.fails(&["--db", &db, "explain", "deployments", "--env", "../x"]);
    assert!(
        stderr(&out).contains("--env ../x: no deployment or incident is in this environment; known environments: production"),
        "{}",
        stderr(&out)
    );
    let out = fx.fails(&["--db", &db, "metrics", "--team", "nosuch"]);
    assert!(stderr(&out).contains("--allow-unknown"), "{}", stderr(&out));

    // Scripts that expect empty results say so.
    let empty = fx.json(&[
        "--db",
        &db,
        "metrics",
        "--service",
        "nosuch",
        "--allow-unknown",
        "--format",
        "json",
    ]);
    assert_eq!(empty["deployment_frequency"]["deployments"], 0);
    let empty = fx.json(&[
        "--db",
        &db,
        "metrics",
        "--team",
        "nosuch",
        "--allow-unknown",
        "--format",
        "json",
    ]);
    assert_eq!(empty["deployment_frequency"]["deployments"], 0);
}

#[test]
fn look_alike_names_and_out_of_range_times_are_refused_in_plain_words() {
    let fx = Fixture::build("basic");
    let db = fx.dir.path().join("store.db").display().to_string();
    let c7 = fx.rev("v1.4.0^{commit}");
    for (service, code) in [
        ("\u{430}pi", "U+0430"),
        ("\u{ff41}\u{ff50}\u{ff49}", "U+FF41"),
    ] {
        let out = fx.fails(&[
            "--db",
            &db,
            "record",
            "deployment",
            "--service",
            service,
            "--env",
            "production",
            "--sha",
            &c7,
        ]);
        let text = stderr(&out);
        assert!(
            text.contains(&format!("({code}, not ASCII) in \"{service}\"")),
            "{text}"
        );
    }
    let out = fx.fails(&[
        "--db",
        &db,
        "record",
        "deployment",
        "--service",
        "api",
        "--env",
        "production",
        "--sha",
        &c7,
        "--at",
        "9999-12-31T23:59:59Z",
    ]);
    assert!(
        stderr(&out).contains("--at: expected a time from -009999-01-02T01:59:59Z to 9999-12-30T22:00:00Z (shiplog's supported range), got \"9999-12-31T23:59:59Z\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn store_and_environment_errors_speak_the_users_terms() {
    let fx = Fixture::build("basic");
    let c7 = fx.rev("v1.4.0^{commit}");
    let record = |db: &str| {
        let mut cmd = fx.shiplog();
        cmd.env("SHIPLOG_DB", db).args([
            "record",
            "deployment",
            "--service",
            "api",
            "--env",
            "production",
            "--sha",
            &c7,
        ]);
        cmd.output().expect("run")
    };
    // A directory.
    let dir = fx.dir.path().join("stores");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let out = record(&dir.display().to_string());
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains("it is a directory, not a store file"),
        "{text}"
    );
    assert!(!text.contains("code: 14"), "{text}");
    // Empty.
    let out = record("");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SHIPLOG_DB is set but empty"),
        "{}",
        stderr(&out)
    );
    // Read-only.
    let file = fx.dir.path().join("ro.db");
    assert!(record(&file.display().to_string()).status.success());
    let mut perms = std::fs::metadata(&file).expect("stat").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&file, perms).expect("chmod");
    let out = record(&file.display().to_string());
    let text = stderr(&out);
    assert!(text.contains("the file is read-only"), "{text}");
    assert!(!text.contains("code: "), "{text}");
}

// ---- The fuzz: a seeded mutator over real payloads and shiplog's own records. ----

/// A small deterministic generator (xorshift64*), so every case can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// The seeds: every recorded payload (GitHub, GitLab, PagerDuty, CDEvents, `.http` captures) and
/// shiplog's own records in JSON Lines and CSV.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut stack = vec![PathBuf::from(PAYLOADS)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("dora-quickcheck") {
                    stack.push(path);
                }
                continue;
            }
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_owned();
            if matches!(ext.as_str(), "json" | "http")
                && let Ok(bytes) = std::fs::read(&path)
            {
                seeds.push((ext, bytes));
            }
        }
    }
    seeds.sort();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let own = [
        deployment_line("d-1", sha, "2026-03-03T14:00:00Z"),
        r#"{"type":"incident","id":"inc-1","service":"api","opened_at":"2026-03-03T15:00:00Z","resolved_at":"2026-03-03T16:00:00Z","sha":"0123456789abcdef0123456789abcdef01234567"}"#.to_owned(),
        r#"{"type":"deployment","id":"d-2","service":"web","environment":"staging","sha":"0123456789abcdef0123456789abcdef01234567","finished_at":"2026-03-04T09:00:00+01:00","started_at":"2026-03-04T08:50:00+01:00","status":"failure","unplanned":true}"#.to_owned(),
    ]
    .join("\n");
    seeds.push(("jsonl".to_owned(), format!("{own}\n").into_bytes()));
    seeds.push((
        "csv".to_owned(),
        format!(
            "type,id,service,environment,sha,finished_at,opened_at,status\n\
             deployment,d-3,api,production,{sha},2026-03-05T10:00:00Z,,success\n\
             incident,inc-2,api,production,,,2026-03-05T11:00:00Z,\n"
        )
        .into_bytes(),
    ));
    seeds
}

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"\\u0000",
    b"\"state\":\"success\",",
    b"\n",
    b"\r\n",
    b"\xff",
    b"\"1970-01-01T00:00:00Z\"",
    b"\"9999-12-31T23:59:59Z\"",
    b"\"\xd0\xb0pi\"",
    b"POST / HTTP/1.1\r\n",
];

/// One mutation of `input`: flip, delete, duplicate or insert bytes, or truncate.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                let span = out[at.min(end)..end].to_vec();
                out.splice(at..at, span);
            }
            3 => out.truncate(at),
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

/// Whether an error line names a file and a line or a JSON path.
fn names_its_place(line: &str, file: &str) -> bool {
    let Some(rest) = line.strip_prefix(file) else {
        return false;
    };
    let digits_then = |s: &str, end: &str| {
        let n = s.chars().take_while(char::is_ascii_digit).count();
        n > 0 && s[n..].starts_with(end)
    };
    if let Some(r) = rest.strip_prefix(':')
        && digits_then(r, ": ")
    {
        return true;
    }
    if rest.starts_with(": $") {
        return true;
    }
    if let Some(r) = rest.strip_prefix(": line ")
        && digits_then(r, ": ")
    {
        return true;
    }
    rest.starts_with(": not valid JSON: ")
        && rest
            .rsplit_once(" at line ")
            .is_some_and(|(_, pos)| digits_then(pos, " column "))
}

#[test]
fn fuzzed_imports_never_panic_name_their_place_and_leave_the_store_unchanged() {
    let cases: usize = std::env::var("SHIPLOG_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(150);
    let seed: u64 = std::env::var("SHIPLOG_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_260_303);
    let seeds = seeds();
    assert!(
        seeds.len() > 40,
        "the recorded payloads are missing: {PAYLOADS}"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("store.db");
    let run = |file: &str| -> Output {
        Command::cargo_bin("shiplog")
            .expect("binary")
            .current_dir(dir.path())
            .env_remove("SHIPLOG_DB")
            .env("NO_COLOR", "1")
            .args(["--db", "store.db", "--repo", ".", "import", file])
            .output()
            .expect("run shiplog")
    };
    // A store with records in it, so an unchanged file means something.
    std::fs::write(dir.path().join("own.jsonl"), &seeds[seeds.len() - 2].1).expect("write");
    let out = run("own.jsonl");
    assert!(out.status.success(), "{}", stderr(&out));

    let mut rng = Rng(seed | 1);
    let (mut failed, mut succeeded) = (0usize, 0usize);
    for case in 0..cases {
        let (ext, input) = &seeds[rng.below(seeds.len())];
        let bytes = mutate(&mut rng, input);
        let file = format!("case.{ext}");
        std::fs::write(dir.path().join(&file), &bytes).expect("write case");
        let before = store_bytes(&db);
        let out = run(&file);
        let text = stderr(&out);
        let replay = || {
            format!(
                "case {case} (SHIPLOG_FUZZ_SEED={seed}), input {:?}:\n{text}",
                String::from_utf8_lossy(&bytes)
            )
        };
        match out.status.code() {
            Some(0) => succeeded += 1,
            Some(1) => {
                failed += 1;
                assert!(
                    text.starts_with("error: import failed; nothing was stored\n"),
                    "{}",
                    replay()
                );
                for line in text.lines().skip(1) {
                    let line = line.trim_start();
                    if line.starts_with("... and ") || line.starts_with("hint:") {
                        continue;
                    }
                    assert!(names_its_place(line, &file), "{line:?} in {}", replay());
                }
                assert!(store_bytes(&db) == before, "store changed: {}", replay());
            }
            other => panic!("exit {other:?}: {}", replay()),
        }
    }
    eprintln!(
        "fuzz: {cases} cases from seed {seed}: {failed} failed imports, {succeeded} imported"
    );
    assert!(failed > cases / 4, "the mutator should break most inputs");
}

/// An import killed with SIGKILL at any moment leaves the store with all of it or none of it, and
/// the store still opens.
#[test]
fn an_import_killed_with_sigkill_is_all_or_nothing() {
    let (fx, db) = recorded_fixture();
    let count = |fx: &Fixture| {
        let rows = fx.json(&[
            "--db",
            &db,
            "explain",
            "deployments",
            "--service",
            "api",
            "--since",
            "2000-01-01",
            "--limit",
            "0",
            "--format",
            "json",
        ]);
        rows.as_array().map_or(0, Vec::len)
    };
    let c7 = fx.rev("v1.4.0^{commit}");
    let n = 20_000;
    let lines: Vec<String> = (0..n)
        .map(|i| deployment_line(&format!("k-{i}"), &c7, "2026-01-12T12:00:00Z"))
        .collect();
    std::fs::write(fx.repo().join("many.jsonl"), lines.join("\n") + "\n").expect("write");
    let before = count(&fx);
    let mut seen_all = false;
    for delay_ms in [5u64, 40, 120, 300, 800] {
        let mut child = fx
            .shiplog()
            .args(["--db", &db, "--quiet", "import", "many.jsonl"])
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let now = count(&fx);
        assert!(
            now == before || now == before + n,
            "after a kill at {delay_ms} ms the store holds {now} deployments: neither {before} nor {}",
            before + n
        );
        seen_all |= now == before + n;
        if seen_all {
            break;
        }
    }
    // Whatever the kills did, a full run completes it.
    fx.ok(&["--db", &db, "--quiet", "import", "many.jsonl"]);
    assert_eq!(count(&fx), before + n);
}
