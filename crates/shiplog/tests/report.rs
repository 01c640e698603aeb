//! End-to-end: `shiplog report` through the real binary on the `basic` fixture (docs/metrics.md's
//! worked example), in HTML, Markdown and the JSON of its model; the HTML's structure is pinned
//! by an insta snapshot.

mod common;
mod report_fixture;

use common::Fixture;
use serde_json::Value;

const WINDOW: [&str; 8] = [
    "--deploys",
    "tags",
    "--service",
    "app",
    "--since",
    "2026-01-01",
    "--until",
    "2026-02-01",
];

fn report(fx: &Fixture, extra: &[&str]) -> String {
    let mut args = vec!["report"];
    args.extend(WINDOW);
    args.extend(extra);
    fx.ok(&args)
}

/// The page's element structure: each tag with its id, class and data-* attributes, text and
/// other attributes dropped (they hold times and coordinates), one line per element, indented.
fn skeleton(html: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut rest = html;
    let void = ["meta", "br", "hr", "img", "input", "link", "!doctype"];
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            if name == "style" {
                continue;
            }
            continue;
        }
        let name = tag
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut attrs = Vec::new();
        for key in ["id", "class", "data-"] {
            let mut from = 0;
            while let Some(at) = tag[from..].find(&format!(" {key}")) {
                let start = from + at + 1;
                let Some(eq) = tag[start..].find("=\"") else {
                    break;
                };
                let value_start = start + eq + 2;
                let Some(end) = tag[value_start..].find('"') else {
                    break;
                };
                let attr = &tag[start..value_start + end + 1];
                // Coordinates and counts of data-* stay out, except the names of things.
                let key_name = &tag[start..start + eq];
                if key != "data-" || !matches!(key_name, "data-deploy" | "data-recovery") {
                    attrs.push(attr.to_owned());
                }
                from = value_start + end;
            }
        }
        out.push_str(&"  ".repeat(depth));
        out.push_str(&name);
        for a in attrs {
            out.push(' ');
            out.push_str(&a);
        }
        out.push('\n');
        if name == "style" {
            // Skip the stylesheet's text (it has no tags).
        }
        if !void.contains(&name.as_str()) && !tag.ends_with('/') {
            depth += 1;
        }
    }
    out
}

#[test]
fn html_report_has_every_section_and_is_self_contained() {
    let fx = report_fixture::basic_with_records();
    let file = fx.dir.path().join("report.html");
    let file_arg = file.to_str().expect("utf-8 path");
    let stderr = {
        let mut args = vec!["report"];
        args.extend(WINDOW);
        args.extend(["--html", file_arg]);
        fx.ok_stderr(&args)
    };
    assert!(stderr.contains("report written to"), "{stderr}");
    let html = std::fs::read_to_string(&file).expect("report written");
    for section in [
        "id=\"headline\"",
        "id=\"trends\"",
        "id=\"deployments\"",
        "id=\"explain\"",
        "id=\"definitions\"",
        "id=\"change-lead-time\"",
    ] {
        assert!(html.contains(section), "missing {section}");
    }
    // Nothing is fetched: no script, no external stylesheet, font or image.
    for fetched in ["<script", "<link", "src=", "@import", "url(http"] {
        assert!(
            !html.contains(fetched),
            "the page fetches something: {fetched}"
        );
    }
    // The worked example: 6 counted deployments after the baseline... every tile has a value.
    assert_eq!(html.matches("data-tile=").count(), 5);
    assert_eq!(html.matches("<svg class=\"chart trend\"").count(), 5);
    insta::assert_snapshot!("basic_report_skeleton", skeleton(&html));
}

#[test]
fn json_is_the_model_the_page_shows() {
    let fx = report_fixture::basic_with_records();
    let model: Value = serde_json::from_str(&report(&fx, &["--format", "json"])).expect("json");
    assert_eq!(model["period"], "week");
    assert_eq!(model["current"]["deployment_frequency"]["deployments"], 7);
    let tiles = model["tiles"].as_array().expect("tiles");
    assert_eq!(tiles.len(), 5);
    let trend = model["trends"][0]["points"].as_array().expect("points");
    let labels: Vec<&str> = trend
        .iter()
        .map(|p| p["period"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        labels,
        ["2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    );
    // Before the first deployment: missing, not zero. After it, a week without deployments is 0.
    assert_eq!(trend[0]["value"], Value::Null);
    assert_eq!(trend[0]["missing"], "before the first recorded deployment");
    assert_eq!(trend[2]["value"], 0.0);
    // Lead time of a week without changes is missing.
    assert_eq!(model["trends"][1]["points"][2]["value"], Value::Null);
    assert_eq!(
        model["timeline"]["deployments"].as_array().map(Vec::len),
        Some(7)
    );
    assert_eq!(
        model["drill_down"]["failures"]["total"],
        model["current"]["change_fail_rate"]["failed"]
    );
}

#[test]
fn markdown_report_has_the_headline_and_trend_tables() {
    let fx = report_fixture::basic_with_records();
    let md = report(&fx, &["--format", "markdown"]);
    assert!(
        md.starts_with("# Delivery report: app · production\n"),
        "{md}"
    );
    assert!(md.contains("| Deployment frequency |"), "{md}");
    assert!(md.contains("| 2026-W01 | no data |"), "{md}");
    assert!(
        md.contains("## Deployments\n\n7 deployments of 1 services"),
        "{md}"
    );
}

#[test]
fn commit_links_use_the_web_url() {
    let fx = report_fixture::basic_with_records();
    let html = report(&fx, &["--web-url", "https://github.com/acme/app/"]);
    assert!(
        html.contains("href=\"https://github.com/acme/app/commit/"),
        "no commit links"
    );
    let out = fx.fails(&{
        let mut args = vec!["report"];
        args.extend(WINDOW);
        args.extend(["--web-url", "github.com/acme/app"]);
        args
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--web-url \"github.com/acme/app\": expected an http(s) address"),
        "{stderr}"
    );
}

#[test]
fn report_takes_every_scope_flag_of_metrics() {
    let fx = Fixture::build("basic");
    // An unknown environment is an error listing the known ones, as in `shiplog metrics`...
    let out = fx.fails(&[
        "report",
        "--deploys",
        "tags",
        "--env",
        "prod",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("known environments: production"), "{err}");
    // ...and --allow-unknown reports it empty.
    let model: Value = serde_json::from_str(&fx.ok(&[
        "report",
        "--deploys",
        "tags",
        "--env",
        "prod",
        "--allow-unknown",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]))
    .expect("JSON");
    assert!(model.is_object());
    // --definitions is accepted and shown.
    let model = report(&fx, &["--definitions", "devlake", "--format", "json"]);
    assert!(model.contains("devlake"), "{model}");
}

/// The report's Guide section is `shiplog guide` for the same scope: the model's `guide` equals
/// `shiplog guide --format json`, and the page and the Markdown show it.
#[test]
fn guide_section_is_shiplog_guide_for_the_same_scope() {
    let fx = report_fixture::basic_with_records();
    let bench = ["--industry", "technology", "--org-size", "fewer_than_100"];
    let model: Value = serde_json::from_str(&report(
        &fx,
        &[&["--format", "json"][..], &bench[..]].concat(),
    ))
    .expect("json");
    let guide: Value = {
        let mut args = vec!["guide"];
        args.extend(WINDOW);
        args.extend(bench);
        args.extend(["--format", "json"]);
        serde_json::from_str(&fx.ok(&args)).expect("guide json")
    };
    assert!(guide["standing"]["metrics"].is_array(), "{guide}");
    assert_eq!(model["guide"], guide);
    // The benchmark comparison appears when asked for.
    assert!(
        guide["standing"]["metrics"][0]["benchmarks"]
            .as_array()
            .is_some_and(|b| !b.is_empty()),
        "{guide}"
    );

    let html = report(&fx, &bench);
    assert!(html.contains("id=\"guide\""), "no Guide section");
    assert!(html.contains("href=\"#guide\""), "no nav entry");
    for signal in guide["measured"]
        .as_array()
        .expect("measured")
        .iter()
        .flat_map(|c| c["signals"].as_array().cloned().unwrap_or_default())
    {
        let id = signal["id"].as_str().expect("signal id");
        assert!(
            html.contains(&format!("data-signal=\"{id}\"")),
            "signal {id} not in the page"
        );
    }
    assert!(html.contains("teams in "), "no benchmark comparison");
    let j_curve = guide["j_curve"].as_str().expect("j-curve");
    let escaped = j_curve.replace('&', "&amp;").replace('"', "&quot;");
    assert!(
        html.contains(&escaped) || html.contains(j_curve),
        "no J-curve warning"
    );

    let markdown = report(&fx, &[&["--format", "markdown"][..], &bench[..]].concat());
    assert!(markdown.contains("\n## Guide\n"), "{markdown}");
    assert!(markdown.contains("### Where you stand"), "{markdown}");
}
