//! `shiplog sync github OWNER/REPO`: the command line around `shiplog_sync`.
//!
//! The library fetches; this module does what belongs to the command: finding the token
//! (`GITHUB_TOKEN`, else `gh auth token`), progress bars and rate-limit countdowns on stderr, and
//! storing what was fetched exactly as `shiplog import` stores vendor records — parsed by the same
//! GitHub parser, merged over the stored incidents and pull requests by the same rules
//! ([`crate::ingest::merge_updates`]) — with the sync's cursors in the same transaction, so a
//! failed sync stores nothing and the next one fetches the same again.

use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::ProgressBar;
use jiff::Timestamp;
use shiplog_core::ShaPrefix;
use shiplog_core::window::{parse_bound, parse_duration};
use shiplog_ingest::formats::{self, Source};
use shiplog_store::{EventBatch, Store};
use shiplog_sync::github::{self, ReadFrom, Repository, SyncOptions, Synced};
use shiplog_sync::{BaseUrl, Client, ClientOptions, Observer, SyncError, Token, Wait};

use crate::cli::{Cli, SyncGithubArgs};
use crate::commands::{load_config, optional_repo, store_for_writing};
use shiplog_ingest::capped;

use crate::ingest::{mapping_options, merge_updates, summary_line, with_release_deployments};
use crate::ui::Ui;

pub async fn run(cli: &Cli, args: &SyncGithubArgs, ui: &Ui) -> Result<()> {
    let repository: Repository = args.repository.parse()?;
    let base = BaseUrl::parse(&args.base_url).context("--base-url")?;
    let max_wait = parse_duration(&args.max_wait)
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| {
            anyhow!(
                "--max-wait: expected a duration like 90s, 15m or 1h, got {:?}",
                args.max_wait
            )
        })?;
    let from = match (&args.since, args.full) {
        (_, true) => ReadFrom::Beginning,
        (Some(text), false) => {
            ReadFrom::Since(parse_bound(text, Timestamp::now()).context("--since")?)
        }
        (None, false) => ReadFrom::LastSync,
    };
    let repo = optional_repo(cli);
    let options = mapping_options(
        &args.services,
        &args.environments,
        &args.incident_labels,
        &args.deploy_workflows,
        args.deploy_releases,
        &load_config(cli, repo.as_ref())?,
    )?;
    let token = token(&base)?;
    let client = Client::new(
        base.clone(),
        token,
        &ClientOptions {
            user_agent: format!("shiplog/{}", env!("CARGO_PKG_VERSION")),
            max_wait,
        },
    );
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let scope = github::scope(&base, &repository);
    let saved = store.sync_state(&scope).await?;
    let sync_options = SyncOptions {
        incident_labels: options.incident_labels.clone(),
        workflow_runs: !options.deploy_workflows.is_empty(),
        from,
    };

    // Blocking HTTP, off the async runtime's thread.
    let progress = Progress {
        ui: *ui,
        bar: Mutex::new(None),
    };
    let target = repository.clone();
    let synced = tokio::task::spawn_blocking(move || {
        github::sync(&client, &target, &sync_options, &saved, &progress)
    })
    .await
    .context("the sync stopped unexpectedly")?
    .map_err(|e| explained(e, &repository, &base))?;

    for note in &synced.notes {
        ui.note(note);
    }
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for delivery in &synced.deliveries {
        match formats::parse(delivery, Source::GitHub, &options) {
            Ok(p) => parsed.push(p),
            Err(list) => errors.extend(list.iter().map(ToString::to_string)),
        }
    }
    if !errors.is_empty() {
        bail!(
            "sync failed; nothing was stored: GitHub's answers did not read as records\n{}",
            capped(&errors)
        );
    }
    let ingested = formats::combine(parsed);
    show_notes(ui, &ingested.notes);
    let ingested = with_release_deployments(repo.as_ref(), ingested, "sync")?;
    let mut batch = EventBatch::default();
    merge_updates(&store, &mut batch, ingested, "sync").await?;
    // A deployment GitHub reports as finished before its commit (a clock off, a bad timestamp)
    // would absorb history: left out, each named, as `import` refuses it.
    batch.deployments.retain(
        |d| match crate::ingest::before_commit(repo.as_ref(), d, false) {
            Some(problem) => {
                ui.warn(&format!("left out GitHub deployment {}: {problem}", d.id));
                false
            }
            None => true,
        },
    );
    if let Some(repo) = &repo {
        let unknown = batch
            .deployments
            .iter()
            .filter(|d| {
                ShaPrefix::new(&d.sha.to_string()).is_ok_and(|p| {
                    matches!(
                        repo.resolve(&p),
                        Err(shiplog_git::ResolveError::NotFound(_))
                    )
                })
            })
            .count();
        if unknown > 0 {
            ui.note(&format!(
                "{unknown} of the deployments fetched name commits this repository does not have (yet): `git fetch` them, or --skip-unknown leaves them out of the metrics"
            ));
        }
    }
    let summary = store.apply_synced(&batch, &scope, &synced.state).await?;
    ui.note(&fetched_line(&synced));
    ui.note(&format!("synced {}", summary_line(&summary)));
    Ok(())
}

/// The token: `GITHUB_TOKEN`, else what `gh auth token` prints for the API's host (when the GitHub
/// CLI is installed and logged in).
fn token(base: &BaseUrl) -> Result<Token> {
    if let Ok(value) = std::env::var("GITHUB_TOKEN")
        && !value.trim().is_empty()
    {
        return Token::new(&value).context("GITHUB_TOKEN");
    }
    let gh = Command::new("gh")
        .args(["auth", "token", "--hostname", &base.host()])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    if let Ok(out) = gh
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        if !text.trim().is_empty() {
            return Token::new(&text).context("the token from `gh auth token`");
        }
    }
    bail!(
        "no GitHub token: GITHUB_TOKEN is not set, and `gh auth token` gave none for {}\nhint: set GITHUB_TOKEN to a token that can read the repository (fine-grained: read access to metadata, pull requests, deployments, issues and, with --deploy-workflow, actions), or log in with `gh auth login`",
        base.host()
    )
}

/// A sync error with what to do about it.
fn explained(error: SyncError, repository: &Repository, base: &BaseUrl) -> anyhow::Error {
    let hint = match &error {
        SyncError::TokenRejected { .. } => Some(
            "the token (GITHUB_TOKEN, else `gh auth token`) is wrong, expired or revoked: set GITHUB_TOKEN to a valid one, or run `gh auth login`"
                .to_owned(),
        ),
        SyncError::NotFound { .. } => Some(format!(
            "is {repository} the repository's name at {base}? GitHub also answers 404 when the token cannot see a private repository; for GitHub Enterprise Server use --base-url https://HOST/api/v3"
        )),
        SyncError::Forbidden { .. } => Some(
            "the token lacks a permission: fine-grained tokens need read access to metadata, pull requests, deployments, issues (and actions with --deploy-workflow); classic tokens need `repo` for private repositories"
                .to_owned(),
        ),
        SyncError::RateLimitTooLong { .. } | SyncError::StillRateLimited { .. } => Some(
            "run the same command again later (nothing was stored, so nothing is lost), or allow a longer wait with --max-wait"
                .to_owned(),
        ),
        SyncError::Transport { .. } => Some(
            "check the network and --base-url; a proxy is taken from HTTPS_PROXY (and NO_PROXY)"
                .to_owned(),
        ),
        _ => None,
    };
    match hint {
        Some(hint) => anyhow!("{error}\nhint: {hint}"),
        None => anyhow!("{error}"),
    }
}

/// Each skipped item once per reason: a first sync of a repository with hundreds of releases says
/// so in one line, not hundreds.
fn show_notes(ui: &Ui, notes: &[formats::Note]) {
    let mut groups: Vec<(&formats::Note, usize)> = Vec::new();
    for note in notes {
        match groups.iter_mut().find(|(n, _)| n.message == note.message) {
            Some((_, count)) => *count += 1,
            None => groups.push((note, 1)),
        }
    }
    for (note, count) in groups {
        if count == 1 {
            ui.note(&format!("skipped {note}"));
        } else {
            ui.note(&format!("skipped {note} (and {} more like it)", count - 1));
        }
    }
}

/// `fetched pull requests: 3, reviews: 4, ... (9 requests, 2 answered 304 Not Modified)`, or that
/// nothing changed.
fn fetched_line(synced: &Synced) -> String {
    let requests = synced.requests();
    let not_modified = synced.not_modified();
    let calls = match not_modified {
        0 => format!("{requests} requests"),
        n => format!("{requests} requests, {n} answered 304 Not Modified"),
    };
    if synced.items() == 0 {
        return match synced.previous {
            Some(_) => format!("nothing changed on GitHub since the last sync: {calls}"),
            None => format!("nothing to fetch: GitHub listed nothing ({calls})"),
        };
    }
    let counts: Vec<String> = synced
        .fetched
        .iter()
        .filter(|f| f.items > 0)
        .map(|f| format!("{}: {}", f.what, f.items))
        .collect();
    format!("fetched {} ({calls})", counts.join(", "))
}

/// Progress bars for the pages of each list, and a countdown while waiting for a rate limit.
struct Progress {
    ui: Ui,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    fn bar(&self) -> MutexGuard<'_, Option<ProgressBar>> {
        self.bar.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn countdown(&self, wait: &Wait) {
        self.ui.note(&wait.to_string());
        let bar = self.ui.progress_bar(
            "{spinner:.yellow} waiting for GitHub {bar:30.yellow/blue} {msg} left",
            "waiting for GitHub {bar:30} {msg} left",
        );
        bar.set_length(wait.duration.as_millis() as u64);
        let start = Instant::now();
        loop {
            let elapsed = start.elapsed();
            let Some(left) = wait.duration.checked_sub(elapsed).filter(|l| !l.is_zero()) else {
                break;
            };
            bar.set_position(elapsed.as_millis() as u64);
            bar.set_message(shiplog_sync::human_duration(left));
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
        bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn begin(&self, what: &str) {
        let bar = self.ui.progress_bar(
            "{spinner:.cyan} {prefix} {bar:30.cyan/blue} {pos}/{len}",
            "{prefix} {bar:30} {pos}/{len}",
        );
        bar.set_prefix(format!("fetching {what}"));
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Some(old) = self.bar().replace(bar) {
            old.finish_and_clear();
        }
    }

    fn progress(&self, done: u64, total: Option<u64>) {
        if let Some(bar) = self.bar().as_ref() {
            // No `Link: rel="last"` means this page is the only one.
            bar.set_length(total.unwrap_or(done));
            bar.set_position(done);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar().take() {
            bar.finish_and_clear();
        }
    }

    fn wait(&self, wait: &Wait) {
        let current = self.bar().clone();
        match current {
            Some(bar) => bar.suspend(|| self.countdown(wait)),
            None => self.countdown(wait),
        }
    }
}
