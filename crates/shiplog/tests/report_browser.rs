//! The report in a real browser: headless Chromium opens the page `shiplog report` wrote for the
//! `basic` fixture, and the test checks what the browser built — no console message at all (the
//! page has no script, so any message is an error or a warning), every chart and table with the
//! number of points and rows the fixture's known values give — and takes screenshots at desktop
//! and phone widths under `target/tmp/report-screenshots/` (CI artefacts, not committed).
//!
//! Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Without it this test
//! fails: it never skips.

mod common;
mod report_fixture;

use common::browser::{console_lines, element, run_chromium};

#[test]
fn chromium_renders_the_report_with_every_chart_and_table() {
    let fx = report_fixture::basic_with_records();
    let page = fx.dir.path().join("report.html");
    fx.ok(&[
        "report",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--html",
        page.to_str().expect("utf-8 path"),
    ]);
    let profile = tempfile::tempdir().expect("profile dir");

    // The detector sees console errors: a page with one must show it.
    let canary = fx.dir.path().join("canary.html");
    std::fs::write(
        &canary,
        "<!DOCTYPE html><p>x</p><script>console.error('canary')</script>",
    )
    .expect("write canary");
    let (_, stderr) = run_chromium(
        &common::browser::file_url(&canary),
        profile.path(),
        &["--dump-dom".to_owned()],
    );
    assert_eq!(
        console_lines(&stderr).len(),
        1,
        "the console detector is blind:\n{stderr}"
    );

    let (dom, stderr) = run_chromium(
        &common::browser::file_url(&page),
        profile.path(),
        &["--dump-dom".to_owned()],
    );
    assert!(
        console_lines(&stderr).is_empty(),
        "the report logged to the console:\n{}",
        console_lines(&stderr).join("\n")
    );
    assert!(
        dom.contains("<h1>Delivery report: app · production</h1>"),
        "{dom}"
    );

    // Trends: 5 weeks (2026-W01 to W05); W01 lies before the first deployment (missing).
    // Deployment frequency has data in the 4 other weeks (0 deployments is a value), lead time
    // only in W02 (the only week that shipped changes).
    for (metric, points, missing) in [("deployment-frequency", 4, 1), ("change-lead-time", 1, 4)] {
        let figure = element(
            &dom,
            &format!("<figure data-trend=\"{metric}\""),
            "</figure>",
        );
        assert_eq!(
            figure.matches("<circle class=\"point\"").count(),
            points,
            "{metric} points"
        );
        assert_eq!(
            figure.matches("data-missing-period=").count(),
            missing,
            "{metric} gaps"
        );
        // The table fallback has a row per week, missing ones said so.
        let table = element(figure, "<table", "</table>");
        assert_eq!(table.matches("<tr>").count(), 1 + 5, "{metric} table rows");
        assert_eq!(
            table.matches("no data").count(),
            missing,
            "{metric} table gaps"
        );
    }
    assert_eq!(dom.matches("<svg class=\"chart trend\"").count(), 5);

    // The timeline: the 7 deployments of the worked example, 3 of them failed.
    let timeline = element(&dom, "<svg class=\"chart timeline\"", "</svg>");
    let deploys = timeline.matches("data-deploy=").count();
    assert_eq!(deploys, 7, "timeline deployments");
    assert_eq!(
        timeline.matches("class=\"deploy failed\"").count(),
        3,
        "failed deployments"
    );
    assert_eq!(
        timeline.matches("data-recovery=").count(),
        3,
        "recovery spans"
    );

    // The drill-down tables: one row per deployment, change, failure and incident.
    let rows = |name: &str| {
        element(&dom, &format!("<table data-table=\"{name}\""), "</table>")
            .matches("<tr>")
            .count()
            - 1
    };
    assert_eq!(rows("deployments"), 7);
    assert_eq!(rows("failures"), 3);
    assert_eq!(rows("incidents"), 3);
    assert_eq!(rows("timeline"), 1);

    // The Guide section: reachable from the nav, its standing table one row per metric, every
    // measured signal a row.
    let nav = element(&dom, "<nav class=\"toc\"", "</nav>");
    assert!(nav.contains("<a href=\"#guide\">Guide</a>"), "{nav}");
    let guide = element(&dom, "<section id=\"guide\"", "</section>");
    assert!(guide.contains("<h2>Guide</h2>"), "{guide}");
    assert_eq!(rows("guide-standing"), 5);
    assert!(guide.contains("data-signal="), "no signal rows");
    assert!(guide.contains("Where to start"), "{guide}");

    // Screenshots at desktop and phone widths, kept under target/ for a person to look at.
    common::browser::screenshots(&common::browser::file_url(&page), profile.path(), "report");
}
