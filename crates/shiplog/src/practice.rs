//! `shiplog practice start|end|list`: recording the practice changes `shiplog impact` analyses.

use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use shiplog_core::{PracticeChange, PracticeName, PracticeScope, TeamName};
use shiplog_store::{EventBatch, Store};

use crate::cli::{Cli, ListFormat, PracticeEndArgs, PracticeListArgs, PracticeStartArgs};
use crate::commands::{optional_repo, print, service_arg, store_for_writing, written};
use crate::ui::Ui;

/// A `--on` date.
fn date_arg(text: &str) -> Result<Date> {
    let trimmed = text.trim();
    match trimmed.parse::<Date>() {
        Ok(date) if trimmed.len() == 10 => Ok(date),
        _ => bail!("--on: expected a date like 2026-03-03, got {text:?}"),
    }
}

/// Finds a recorded practice change by name: exactly (after normalising), else ignoring case when
/// that matches one. Unknown names are an error listing the recorded ones.
pub fn find<'a>(changes: &'a [PracticeChange], name: &str) -> Result<&'a PracticeChange> {
    let wanted = PracticeName::new(name).with_context(|| format!("practice name {name:?}"))?;
    if let Some(found) = changes.iter().find(|c| c.name == wanted) {
        return Ok(found);
    }
    let folded: Vec<&PracticeChange> = changes
        .iter()
        .filter(|c| c.name.as_str().to_lowercase() == wanted.as_str().to_lowercase())
        .collect();
    if let [only] = folded.as_slice() {
        return Ok(only);
    }
    let known = if changes.is_empty() {
        "none is recorded yet; record one with `shiplog practice start NAME --on DATE`".to_owned()
    } else {
        format!(
            "the recorded ones are: {}",
            changes
                .iter()
                .map(|c| format!("{:?}", c.name.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    bail!(
        "no practice change is named {:?}\nhint: {known}",
        wanted.as_str()
    )
}

async fn write(store: &impl Store, change: PracticeChange) -> Result<shiplog_store::WriteCounts> {
    let summary = store
        .apply(&EventBatch {
            practice_changes: vec![change],
            ..EventBatch::default()
        })
        .await?;
    Ok(summary.practice_changes)
}

pub async fn start(cli: &Cli, args: &PracticeStartArgs, ui: &Ui) -> Result<()> {
    let name = PracticeName::new(&args.name).with_context(|| format!("NAME {:?}", args.name))?;
    let started_on = date_arg(&args.on)?;
    let scope = match &args.team {
        Some(team) => PracticeScope::Team {
            team: TeamName::new(team).with_context(|| format!("--team {team:?}"))?,
        },
        None => PracticeScope::services(
            args.services
                .iter()
                .map(|s| service_arg(s))
                .collect::<Result<_>>()?,
        ),
    };
    let capability = args
        .capability
        .as_deref()
        .map(crate::guide::capability_arg)
        .transpose()?;
    let note = args
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    // Recording a start again keeps the end date recorded with `practice end`.
    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let existing = store.practice_changes().await?;
    let ended_on = existing
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.ended_on);
    let change = PracticeChange {
        name: name.clone(),
        started_on,
        ended_on,
        scope,
        capability,
        note,
    };
    change.validate().context(
        "the practice's recorded end is before this start\nhint: record the end again with `shiplog practice end`",
    )?;
    let scope = change.scope.describe();
    let verb = written(write(&store, change).await?);
    ui.note(&format!(
        "practice change {:?} {verb}: from {started_on}, {scope}",
        name.as_str()
    ));
    ui.note(&format!(
        "hint: see what it did with `shiplog impact {:?}`",
        name.as_str()
    ));
    Ok(())
}

pub async fn end(cli: &Cli, args: &PracticeEndArgs, ui: &Ui) -> Result<()> {
    let ended_on = date_arg(&args.on)?;
    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let existing = store.practice_changes().await?;
    let mut change = find(&existing, &args.name)?.clone();
    change.ended_on = Some(ended_on);
    change.validate()?;
    let name = change.name.clone();
    let counts = write(&store, change).await?;
    let verb = if counts.updated > 0 {
        "ended"
    } else {
        "unchanged (already ended then)"
    };
    ui.note(&format!(
        "practice change {:?} {verb} on {ended_on}",
        name.as_str()
    ));
    Ok(())
}

pub async fn list(cli: &Cli, args: &PracticeListArgs) -> Result<()> {
    print(&list_text(cli, args).await?)
}

/// What `shiplog practice list` prints (and `/api/v1/practices` answers).
pub async fn list_text(cli: &Cli, args: &PracticeListArgs) -> Result<String> {
    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let changes = store.practice_changes().await?;
    let text = match args.format {
        ListFormat::Json => shiplog_report::impact::practice_list_json(&changes)?,
        ListFormat::Table => shiplog_report::impact::practice_list_table(&changes),
    };
    Ok(text)
}
