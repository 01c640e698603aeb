//! `shiplog import`: every file of the command line read, checked and turned into records before
//! anything is stored, then one transaction (or one request to `--server`).
//!
//! The reading itself (formats, sha resolution, vendor updates merged over the store) is the
//! engine's [`shiplog_engine::ingest`], which `shiplog sync` and the team server call too; this
//! module adds what only the command line has: files and standard input, `--from` detection, the
//! summary line.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use shiplog_ingest::capped;
use shiplog_ingest::formats::{self, Delivery, Detected, Source};
use shiplog_store::{ApplySummary, Store, WriteCounts};

use crate::cli::{Cli, ImportArgs, InputFormat};
use crate::commands::{optional_repo, store_for_writing};
use crate::ui::Ui;
pub(crate) use shiplog_engine::ingest::{
    before_commit, mapping_options, merge_updates, read_deliveries, with_release_deployments,
};

fn describe(counts: WriteCounts, what: &str) -> String {
    format!(
        "{what}: {} new, {} updated, {} unchanged",
        counts.inserted, counts.updated, counts.unchanged
    )
}

/// `deployments: 1 new, ...; incidents: ...`, then practice changes and pull requests when any.
pub(crate) fn summary_line(summary: &ApplySummary) -> String {
    let mut line = format!(
        "{}; {}",
        describe(summary.deployments, "deployments"),
        describe(summary.incidents, "incidents")
    );
    for (counts, what) in [
        (summary.practice_changes, "practice changes"),
        (summary.pull_requests, "pull requests"),
    ] {
        if counts.inserted + counts.updated + counts.unchanged > 0 {
            line.push_str("; ");
            line.push_str(&describe(counts, what));
        }
    }
    line
}

/// How a file is read: as given by `--from`, else from its headers, extension and content.
fn detected(args: &ImportArgs, path: &Path, delivery: &Delivery) -> Result<Detected, String> {
    Ok(match args.input_format {
        InputFormat::Jsonl => Detected::JsonLines,
        InputFormat::Csv => Detected::Csv,
        InputFormat::Github => Detected::Source(Source::GitHub),
        InputFormat::Gitlab => Detected::Source(Source::GitLab),
        InputFormat::Pagerduty => Detected::Source(Source::PagerDuty),
        InputFormat::Cdevents => Detected::Source(Source::CdEvents),
        InputFormat::Auto => {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some("csv") => Detected::Csv,
                Some("jsonl" | "ndjson") => Detected::JsonLines,
                _ => formats::detect(delivery).map_err(|e| e.to_string())?,
            }
        }
    })
}

pub async fn import(cli: &Cli, args: &ImportArgs, ui: &Ui) -> Result<()> {
    let repo = optional_repo(cli);
    let options = mapping_options(
        &args.services,
        &args.environments,
        &args.incident_labels,
        &args.deploy_workflows,
        args.deploy_releases,
        &crate::commands::load_config(cli, repo.as_ref())?,
    )?;
    let mut errors: Vec<String> = Vec::new();
    let mut deliveries = Vec::new();
    for path in &args.files {
        let (label, bytes) = if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            ("<stdin>".to_owned(), bytes::Bytes::from(bytes))
        } else {
            let bytes = Delivery::read_file(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            (path.display().to_string(), bytes)
        };
        let is_http = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("http"));
        let delivery = if is_http {
            match Delivery::from_http(&label, &bytes) {
                Ok(d) => d,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            }
        } else {
            Delivery::file(&label, bytes)
        };
        match detected(args, path, &delivery) {
            Ok(format) => deliveries.push((delivery, format)),
            Err(e) => errors.push(e),
        }
    }
    if let Some(server) = &args.server {
        return import_remote(server, args, errors, deliveries, ui);
    }
    let read = read_deliveries(
        repo.as_ref(),
        &options,
        &deliveries,
        args.allow_before_commit,
        errors,
        "import",
    )?;
    for note in &read.ingested.notes {
        ui.note(&format!("skipped {note}"));
    }
    let skipped = skipped_summary(&read.ingested.notes);
    // Opened only now: an import that fails creates no store.
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let mut batch = read.batch;
    merge_updates(&store, &mut batch, read.ingested, "import").await?;
    let summary = store.apply(&batch).await?;
    // The result of the command: shown with --quiet too, which hides the notes it counts.
    ui.result(&format!("imported {}{skipped}", summary_line(&summary)));
    Ok(())
}

/// `import --server`: each file of shiplog's own formats posted to the server, which reads it
/// with the same parser (each file all or nothing there). Vendor payloads go to the server's
/// webhooks instead.
fn import_remote(
    server: &str,
    args: &ImportArgs,
    mut errors: Vec<String>,
    deliveries: Vec<(Delivery, Detected)>,
    ui: &Ui,
) -> Result<()> {
    let mut files = Vec::new();
    for (delivery, format) in deliveries {
        let format = match format {
            Detected::JsonLines => "jsonl",
            Detected::Csv => "csv",
            Detected::Source(source) => {
                errors.push(format!(
                    "{}: a {source} payload; with --server, send {source} events to the server's webhook (/hooks/{}) or import the file locally",
                    delivery.label,
                    source.as_str()
                ));
                continue;
            }
        };
        files.push((delivery, format));
    }
    if !errors.is_empty() {
        bail!("import failed; nothing was sent\n{}", capped(&errors));
    }
    for (delivery, format) in files {
        let mut query = format!("format={format}&name={}", url_encoded(&delivery.label));
        if args.allow_before_commit {
            query.push_str("&allow-before-commit=true");
        }
        let answer = crate::client::post_events(server, &delivery.body, &query)
            .with_context(|| format!("{}: not imported", delivery.label))?;
        let counts = |kind: &str| WriteCounts {
            inserted: answer[kind]["new"].as_u64().unwrap_or(0),
            updated: answer[kind]["updated"].as_u64().unwrap_or(0),
            unchanged: answer[kind]["unchanged"].as_u64().unwrap_or(0),
        };
        let summary = ApplySummary {
            deployments: counts("deployments"),
            incidents: counts("incidents"),
            practice_changes: counts("practice_changes"),
            pull_requests: counts("pull_requests"),
        };
        ui.result(&format!(
            "{}: imported on {server}: {}",
            delivery.label,
            summary_line(&summary)
        ));
    }
    Ok(())
}

/// `text` as a URL query value.
fn url_encoded(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `; skipped 3 (2 written by a bot, 1 GitHub push)`: the notes of an import counted by reason,
/// most frequent first; empty when nothing was skipped.
pub(crate) fn skipped_summary(notes: &[formats::Note]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for note in notes {
        let reason = note.reason();
        match counts.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => counts.push((reason, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let reasons: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    format!("; skipped {} ({})", notes.len(), reasons.join(", "))
}
