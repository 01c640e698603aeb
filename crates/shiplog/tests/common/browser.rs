//! Headless Chromium for the tests that check pages in a real browser: the report's file and the
//! live dashboard. Chromium comes from Debian's `chromium` package (`.ci/run` installs it); without
//! it these tests fail, never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `file://` address of a page on disk.
pub fn file_url(page: &Path) -> String {
    format!("file://{}", page.display())
}

pub fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output()
            && out.status.success()
        {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !path.is_empty() {
                return PathBuf::from(path);
            }
        }
    }
    panic!(
        "Chromium is not installed, and this test needs a real browser: `apt-get install chromium` (.ci/run does it)"
    );
}

/// Runs headless Chromium on `url` with `extra` arguments; returns (stdout, stderr).
pub fn run_chromium(url: &str, profile: &Path, extra: &[String]) -> (String, String) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// The text of the element that starts with `start` (an opening tag's beginning), to its `end`.
pub fn element<'a>(dom: &'a str, start: &str, end: &str) -> &'a str {
    let from = dom
        .find(start)
        .unwrap_or_else(|| panic!("the browser's page has no {start}"));
    let len = dom[from..].find(end).unwrap_or(dom.len() - from);
    &dom[from..from + len]
}

/// Screenshots of `url` at desktop and phone widths, as `target/tmp/report-screenshots/
/// {prefix}-desktop.png` and `-phone.png` (CI artefacts for a person to look at, not committed);
/// each must have been written.
pub fn screenshots(url: &str, profile: &Path, prefix: &str) {
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    for (name, size) in [("desktop", "1280,4000"), ("phone", "390,6000")] {
        let file = shots.join(format!("{prefix}-{name}.png"));
        let _ = std::fs::remove_file(&file);
        run_chromium(
            url,
            profile,
            &[
                format!("--screenshot={}", file.display()),
                format!("--window-size={size}"),
            ],
        );
        let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(bytes > 10_000, "no {name} screenshot at {}", file.display());
    }
}
