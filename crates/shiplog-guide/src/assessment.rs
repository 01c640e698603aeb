//! Self-assessment answers from a file (TOML or JSON), checked against the catalogue's statements.
//!
//! The file names capabilities by slug and gives one answer (1–5) per statement, in the order the
//! guide lists them:
//!
//! ```toml
//! answered_on = "2026-03-03"        # optional; default: today
//! [answers]
//! continuous-integration = [4, 5, 3, 4, 2]
//! generative-organizational-culture = [3, 4, 4, 3, 5, 4]
//! ```
//!
//! Every problem names the file, the line and the key (`answers.continuous-integration[2]`).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use shiplog_core::{Capability, CapabilityAnswer};

use crate::catalogue::{CatalogueEntry, catalogue};
use crate::scoring::statement_score;

/// A problem in an answers file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {key}{}{message}", line.map(|l| format!(":{l}")).unwrap_or_default(), if key.is_empty() { "" } else { ": " })]
pub struct AnswersError {
    /// The file, as given.
    pub file: String,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// The key (empty for a syntax error of the whole file).
    pub key: String,
    /// What was wrong.
    pub message: String,
}

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswersFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl AnswersFormat {
    /// From the file name: `.json` is JSON, anything else TOML.
    pub fn of(file: &str) -> Self {
        if file.to_ascii_lowercase().ends_with(".json") {
            Self::Json
        } else {
            Self::Toml
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    answered_on: Option<String>,
    answers: BTreeMap<String, Vec<i64>>,
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `needle` first appears in `text`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|at| line_at(text, at))
}

/// Parses and checks an answers file; `today` is the date when the file gives none.
pub fn parse_answers(
    file: &str,
    text: &str,
    format: AnswersFormat,
    today: Date,
) -> Result<Vec<CapabilityAnswer>, AnswersError> {
    let error = |line: Option<usize>, key: String, message: String| AnswersError {
        file: file.to_owned(),
        line,
        key,
        message,
    };
    let raw: RawFile = match format {
        AnswersFormat::Toml => toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_at(text, s.start));
            error(line, String::new(), e.message().to_owned())
        })?,
        AnswersFormat::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                error(
                    Some(inner.line()),
                    if path == "." { String::new() } else { path },
                    inner.to_string(),
                )
            })?
        }
    };
    let quoted = |key: &str| match format {
        AnswersFormat::Toml => key.to_owned(),
        AnswersFormat::Json => format!("\"{key}\""),
    };
    let answered_on = match &raw.answered_on {
        Some(day) => day.parse::<Date>().map_err(|_| {
            error(
                line_of(text, &quoted("answered_on")),
                "answered_on".to_owned(),
                format!("expected a date (YYYY-MM-DD), got {day:?}"),
            )
        })?,
        None => today,
    };
    let entries = catalogue();
    let mut out = Vec::new();
    for (slug, ratings) in &raw.answers {
        let line = line_of(text, &quoted(slug));
        let key = format!("answers.{slug}");
        let entry = entries.iter().find(|e| e.slug.as_str() == slug);
        let Some((entry, statements)) = entry.and_then(|e| Some((e, e.statements.as_ref()?)))
        else {
            let known: Vec<String> = assessable().iter().map(|e| e.slug.to_string()).collect();
            return Err(error(
                line,
                key,
                format!(
                    "not a capability with self-assessment statements; known: {}",
                    known.join(", ")
                ),
            ));
        };
        if ratings.len() != statements.statements.len() {
            return Err(error(
                line,
                key,
                format!(
                    "expected {} answers (one per statement, in order; `shiplog guide` lists them), got {}",
                    statements.statements.len(),
                    ratings.len()
                ),
            ));
        }
        for (i, &rating) in ratings.iter().enumerate() {
            let rating = u8::try_from(rating).ok().filter(|r| (1..=5).contains(r)).ok_or_else(|| {
                error(
                    line,
                    format!("{key}[{i}]"),
                    format!("expected an answer from 1 (strongly disagree) to 5 (strongly agree), got {rating}"),
                )
            })?;
            out.push(CapabilityAnswer {
                capability: entry.slug.clone(),
                statement: i as u32 + 1,
                rating,
                answered_on,
            });
        }
    }
    Ok(out)
}

/// The capabilities that have self-assessment statements.
pub fn assessable() -> Vec<CatalogueEntry> {
    catalogue()
        .into_iter()
        .filter(|e| e.statements.is_some())
        .collect()
}

/// A capability's latest self-assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssessedCapability {
    /// The capability.
    pub capability: Capability,
    /// The day of the latest answers.
    pub answered_on: Date,
    /// Each statement's answer (1–5) and score ((r − 1) × 2.5), by statement number.
    pub answers: Vec<(u32, u8, f64)>,
    /// The mean score of the answered statements.
    pub score: f64,
}

/// The latest answers of each capability (all answers of its latest day), with their scores.
pub fn latest(answers: &[CapabilityAnswer]) -> Vec<AssessedCapability> {
    let mut by: BTreeMap<&Capability, (Date, Vec<&CapabilityAnswer>)> = BTreeMap::new();
    for a in answers {
        let slot = by
            .entry(&a.capability)
            .or_insert((a.answered_on, Vec::new()));
        if a.answered_on > slot.0 {
            *slot = (a.answered_on, Vec::new());
        }
        if a.answered_on == slot.0 {
            slot.1.push(a);
        }
    }
    by.into_iter()
        .filter_map(|(capability, (day, list))| {
            let mut answers: Vec<(u32, u8, f64)> = list
                .iter()
                .filter_map(|a| Some((a.statement, a.rating, statement_score(a.rating)?)))
                .collect();
            answers.sort_by_key(|a| a.0);
            if answers.is_empty() {
                return None;
            }
            let score = answers.iter().map(|a| a.2).sum::<f64>() / answers.len() as f64;
            Some(AssessedCapability {
                capability: capability.clone(),
                answered_on: day,
                answers,
                score,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        "2026-03-03".parse().unwrap()
    }

    #[test]
    fn a_toml_file_gives_dated_answers() {
        let text =
            "answered_on = \"2026-02-27\"\n[answers]\ncontinuous-integration = [4, 5, 3, 4, 2]\n";
        let answers = parse_answers("a.toml", text, AnswersFormat::Toml, today()).unwrap();
        assert_eq!(answers.len(), 5);
        assert_eq!(answers[2].statement, 3);
        assert_eq!(answers[2].rating, 3);
        assert_eq!(answers[0].answered_on.to_string(), "2026-02-27");
        let latest = latest(&answers);
        assert_eq!(latest.len(), 1);
        // (3 + 4 + 2 + 3 + 1) × 2.5 / 5
        assert_eq!(latest[0].score, 6.5);
    }

    #[test]
    fn json_files_work_and_default_to_today() {
        let text = r#"{"answers": {"loosely-coupled-teams": [1, 2, 3, 4, 5, 5]}}"#;
        let answers = parse_answers("a.json", text, AnswersFormat::Json, today()).unwrap();
        assert_eq!(answers.len(), 6);
        assert_eq!(answers[0].answered_on, today());
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let text = "[answers]\ncontinuous-integration = [4, 5, 9, 4, 2]\n";
        let e = parse_answers("a.toml", text, AnswersFormat::Toml, today()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.toml:2: answers.continuous-integration[2]: expected an answer from 1 (strongly disagree) to 5 (strongly agree), got 9"
        );
        let text = "[answers]\n\ncontinuous-integration = [4]\n";
        let e = parse_answers("a.toml", text, AnswersFormat::Toml, today()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a.toml:3: answers.continuous-integration: expected 5 answers"),
            "{e}"
        );
        let text = "[answers]\ndeployment-automation = [4]\n";
        let e = parse_answers("a.toml", text, AnswersFormat::Toml, today()).unwrap_err();
        assert!(e.to_string().contains("not a capability with self-assessment statements; known: generative-organizational-culture, loosely-coupled-teams, continuous-integration"), "{e}");
        let text = "{\n \"answers\": {\n  \"continuous-integration\": \"x\"}}";
        let e = parse_answers("a.json", text, AnswersFormat::Json, today()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a.json:3: answers.continuous-integration: invalid type"),
            "{e}"
        );
        let e = parse_answers(
            "a.toml",
            "answered_on = \"soon\"\n[answers]\n",
            AnswersFormat::Toml,
            today(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.toml:1: answered_on: expected a date (YYYY-MM-DD), got \"soon\""
        );
    }

    #[test]
    fn the_latest_day_wins() {
        let ci = Capability::new("continuous-integration").unwrap();
        let a = |day: &str, rating| CapabilityAnswer {
            capability: ci.clone(),
            statement: 1,
            rating,
            answered_on: day.parse().unwrap(),
        };
        let l = latest(&[a("2026-01-01", 1), a("2026-02-01", 5)]);
        assert_eq!(l[0].answers, [(1, 5, 10.0)]);
    }
}
