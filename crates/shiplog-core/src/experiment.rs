//! Experiments: practice changes with a hypothesis written down before the results are in.
//!
//! An impact analysis run after the fact invites a search for whichever metric moved. An experiment
//! fixes the question first: which metric should move, which way and by how much, for how long.
//! Its practice change is an ordinary [`PracticeChange`] (so `impact` and the report see it); this
//! module holds what is added to it:
//!
//! - an [`Expectation`] per metric (`change_lead_time -30%`, `change_fail_rate -5pp`), parsed and
//!   validated here so every edge (CLI, import, store) shares one rule;
//! - [`Hypothesis`] versions: a hypothesis is never changed in place; an edit is a new version
//!   with the time it was written, and one written after the experiment started says so
//!   ([`Experiment::edits_after_start`]);
//! - [`Review`]s, and [`judge`]: the rule that turns a metric's impact analysis into *reached*,
//!   *not reached* or *cannot tell yet* (documented in `docs/experiments.md`).

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Serialize, Serializer};

use crate::impact::{MetricImpact, MetricKind, Scale, Verdict};
use crate::names::ServiceName;
use crate::practice::PracticeName;

/// The largest expected change of a ratio metric, in percent (×11).
const MAX_PERCENT: f64 = 1000.0;
/// The longest planned duration, in days (five years).
pub const MAX_PLANNED_DAYS: u32 = 5 * 366;
/// The power below which a missed effect says "cannot tell yet" rather than "not reached".
pub const ADEQUATE_POWER: f64 = 0.8;

/// Why an expectation, a hypothesis or an experiment is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExperimentError {
    /// Not `METRIC CHANGE`.
    #[error(
        "expected METRIC CHANGE, e.g. \"change_lead_time -30%\" or \"change_fail_rate -5pp\", got {0:?}"
    )]
    Shape(String),
    /// An unknown metric name.
    #[error(
        "unknown metric {0:?}; expected one of deployment_frequency, change_lead_time, change_fail_rate, failed_deployment_recovery_time (or recovery_time), rework_rate"
    )]
    Metric(String),
    /// A change that is not a signed number with a unit.
    #[error(
        "expected a signed change with its unit, e.g. -30% or +50% (or -5pp for a rate), got {0:?}"
    )]
    Change(String),
    /// A ratio metric given in percentage points, or a rate given in percent.
    #[error("{metric} {hint}")]
    Unit {
        /// The metric's name.
        metric: &'static str,
        /// What to write instead.
        hint: &'static str,
    },
    /// A change out of range (zero, −100% or less, beyond ±1000% or ±100 points).
    #[error("{metric}: {change} is out of range ({range})")]
    Range {
        /// The metric's name.
        metric: &'static str,
        /// The change as given.
        change: String,
        /// The allowed range.
        range: &'static str,
    },
    /// Two expectations for one metric.
    #[error("{0} is expected twice; give one expectation per metric")]
    Duplicate(&'static str),
    /// No expectation at all.
    #[error("an experiment needs at least one expected effect")]
    NoExpectation,
    /// A duration of zero or beyond five years.
    #[error("the planned duration must be 1 to {MAX_PLANNED_DAYS} days, got {0}")]
    Duration(u32),
    /// The experiment would end before its transition does.
    #[error(
        "the planned duration ({planned} days) must be longer than the transition ({transition} days) left out after the change"
    )]
    ShorterThanTransition {
        /// Planned days.
        planned: u32,
        /// Transition days.
        transition: u32,
    },
    /// A date out of range.
    #[error("the review date is outside the supported range of dates")]
    OutOfRange,
}

/// One expected effect: a metric, the direction and the size of its change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    /// Which metric.
    pub metric: MetricKind,
    /// The change on the metric's reported scale: a ratio (0.7 for −30%) for deployment
    /// frequency, lead time and recovery time; a difference of proportions (−0.05 for −5pp) for
    /// the fail and rework rates.
    pub effect: f64,
}

/// The metric's key, as in the impact analysis's JSON.
pub fn metric_key(metric: MetricKind) -> &'static str {
    match metric {
        MetricKind::DeploymentFrequency => "deployment_frequency",
        MetricKind::ChangeLeadTime => "change_lead_time",
        MetricKind::ChangeFailRate => "change_fail_rate",
        MetricKind::FailedDeploymentRecoveryTime => "failed_deployment_recovery_time",
        MetricKind::ReworkRate => "rework_rate",
    }
}

/// A metric from its key (hyphens or underscores, any case), or one of the documented aliases
/// (`lead_time`, `recovery_time`, `fail_rate`, `deployment_rework_rate`).
pub fn parse_metric(text: &str) -> Result<MetricKind, ExperimentError> {
    let key = text.trim().to_ascii_lowercase().replace('-', "_");
    Ok(match key.as_str() {
        "deployment_frequency" => MetricKind::DeploymentFrequency,
        "change_lead_time" | "lead_time" => MetricKind::ChangeLeadTime,
        "change_fail_rate" | "fail_rate" => MetricKind::ChangeFailRate,
        "failed_deployment_recovery_time" | "recovery_time" => {
            MetricKind::FailedDeploymentRecoveryTime
        }
        "rework_rate" | "deployment_rework_rate" => MetricKind::ReworkRate,
        _ => return Err(ExperimentError::Metric(text.trim().to_owned())),
    })
}

impl Expectation {
    /// Parses `METRIC CHANGE`: `change_lead_time -30%`, `deployment_frequency +50%`,
    /// `change_fail_rate -5pp`. Ratio metrics take percent (more than −100%, at most +1000%),
    /// the two rates percentage points (`pp`, up to ±100); the sign is required, zero is not a
    /// hypothesis.
    pub fn parse(text: &str) -> Result<Self, ExperimentError> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [metric, change] = parts.as_slice() else {
            return Err(ExperimentError::Shape(text.to_owned()));
        };
        let metric = parse_metric(metric)?;
        let key = metric_key(metric);
        let change_text = change.replace('−', "-");
        let (number, unit) = if let Some(n) = change_text.strip_suffix("pp") {
            (n, "pp")
        } else if let Some(n) = change_text.strip_suffix('%') {
            (n, "%")
        } else {
            return Err(ExperimentError::Change((*change).to_owned()));
        };
        if !(number.starts_with('-') || number.starts_with('+')) {
            return Err(ExperimentError::Change((*change).to_owned()));
        }
        // Kept to two decimals, as the canonical text is: what is stored reads back the same.
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .map(|v: f64| (v * 100.0).round() / 100.0)
            .ok_or_else(|| ExperimentError::Change((*change).to_owned()))?;
        let range = |range| ExperimentError::Range {
            metric: key,
            change: (*change).to_owned(),
            range,
        };
        let effect = match (metric.scale(), unit) {
            (Scale::Ratio, "%") => {
                if value <= -100.0 || value > MAX_PERCENT || value == 0.0 {
                    return Err(range("more than -100%, at most +1000%, not 0"));
                }
                1.0 + value / 100.0
            }
            (Scale::Difference, "pp") => {
                if value.abs() > 100.0 || value == 0.0 {
                    return Err(range("-100pp to +100pp, not 0"));
                }
                value / 100.0
            }
            (Scale::Ratio, _) => {
                return Err(ExperimentError::Unit {
                    metric: key,
                    hint: "is a ratio: give its expected change in percent, e.g. -30%",
                });
            }
            (Scale::Difference, _) => {
                return Err(ExperimentError::Unit {
                    metric: key,
                    hint: "is a proportion of deployments: give its expected change in percentage points, e.g. -5pp",
                });
            }
        };
        Ok(Self { metric, effect })
    }

    /// The effect on the analysis scale (a log ratio, or a difference).
    pub fn analysis_effect(&self) -> f64 {
        match self.metric.scale() {
            Scale::Ratio => self.effect.ln(),
            Scale::Difference => self.effect,
        }
    }

    /// Whether the expected change is an improvement (e.g. a shorter lead time).
    pub fn is_improvement(&self) -> bool {
        let up = self.analysis_effect() > 0.0;
        up == self.metric.higher_is_better()
    }

    /// The change in words: `-30%`, `+50%`, `-5pp`.
    pub fn change_text(&self) -> String {
        let (value, unit) = match self.metric.scale() {
            Scale::Ratio => ((self.effect - 1.0) * 100.0, "%"),
            Scale::Difference => (self.effect * 100.0, "pp"),
        };
        let rounded = (value * 100.0).round() / 100.0;
        let sign = if rounded < 0.0 { "-" } else { "+" };
        format!("{sign}{}{unit}", trim_number(rounded.abs()))
    }
}

fn trim_number(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl fmt::Display for Expectation {
    /// The canonical text, which parses back to the same expectation: `change_lead_time -30%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", metric_key(self.metric), self.change_text())
    }
}

impl Serialize for Expectation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            metric: MetricKind,
            change: &'a str,
            effect: f64,
            scale: Scale,
        }
        Shown {
            metric: self.metric,
            change: &self.change_text(),
            effect: self.effect,
            scale: self.metric.scale(),
        }
        .serialize(serializer)
    }
}

/// Which services an experiment is compared with, as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "services", rename_all = "kebab-case")]
pub enum ComparisonPlan {
    /// No comparison group.
    None,
    /// Every service with no practice change in the windows.
    Auto,
    /// These services.
    With(Vec<ServiceName>),
}

impl ComparisonPlan {
    /// `none`, `auto` or `with:a b`: the stored text.
    pub fn encode(&self) -> String {
        match self {
            Self::None => "none".to_owned(),
            Self::Auto => "auto".to_owned(),
            Self::With(list) => format!(
                "with:{}",
                list.iter()
                    .map(ServiceName::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    /// The inverse of [`ComparisonPlan::encode`].
    pub fn decode(text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(Self::None),
            "auto" => Ok(Self::Auto),
            other => {
                let list = other.strip_prefix("with:").ok_or_else(|| {
                    format!("expected none, auto or with:SERVICES, got {other:?}")
                })?;
                let services = list
                    .split(' ')
                    .map(|s| ServiceName::new(s).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Self::With(services))
            }
        }
    }
}

/// One version of an experiment's hypothesis and analysis plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hypothesis {
    /// 1 for the hypothesis recorded at the start, then 2, 3, ... for each edit.
    pub version: u32,
    /// When this version was written.
    pub written_at: Timestamp,
    /// The start date registered with it (the practice change's, when written): a later change
    /// of the practice change's date is shown ([`Experiment::start_moved`]).
    pub started_on: Date,
    /// The expected effects (at least one, one per metric).
    pub expectations: Vec<Expectation>,
    /// How long the experiment runs from its start: the review date is the start plus this.
    pub planned_days: u32,
    /// The before window of the review's analysis, in days.
    pub before_days: u32,
    /// The transition left out after the change, in days; the after window runs from its end
    /// to the review date.
    pub transition_days: u32,
    /// The comparison group of the review's analysis.
    pub comparison: ComparisonPlan,
}

impl Hypothesis {
    /// Checks the expectations (at least one, one per metric) and the durations.
    pub fn validate(&self) -> Result<(), ExperimentError> {
        if self.expectations.is_empty() {
            return Err(ExperimentError::NoExpectation);
        }
        for (i, e) in self.expectations.iter().enumerate() {
            if self.expectations[..i].iter().any(|o| o.metric == e.metric) {
                return Err(ExperimentError::Duplicate(metric_key(e.metric)));
            }
        }
        if self.planned_days == 0 || self.planned_days > MAX_PLANNED_DAYS {
            return Err(ExperimentError::Duration(self.planned_days));
        }
        if self.planned_days <= self.transition_days {
            return Err(ExperimentError::ShorterThanTransition {
                planned: self.planned_days,
                transition: self.transition_days,
            });
        }
        Ok(())
    }

    /// The primary metrics: those with an expectation.
    pub fn primary(&self) -> Vec<MetricKind> {
        self.expectations.iter().map(|e| e.metric).collect()
    }

    /// The expectations as stored: their canonical texts, one a line.
    pub fn expectations_text(&self) -> String {
        self.expectations
            .iter()
            .map(Expectation::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether this version says the same as `other` (expectations and plan; not the version or
    /// the time written).
    pub fn same_plan(&self, other: &Hypothesis) -> bool {
        self.expectations == other.expectations
            && self.started_on == other.started_on
            && self.planned_days == other.planned_days
            && self.before_days == other.before_days
            && self.transition_days == other.transition_days
            && self.comparison == other.comparison
    }
}

/// The outcome of an expectation, or of an experiment's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The expected effect was found.
    Reached,
    /// It was not: the data rule it out, or show no effect where one of that size would have
    /// been detected.
    NotReached,
    /// The data cannot tell yet (too little, too early, or too little power).
    CannotTellYet,
}

impl Outcome {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Reached => "reached",
            Self::NotReached => "not reached",
            Self::CannotTellYet => "cannot tell yet",
        }
    }

    /// The stored text.
    pub fn code(self) -> &'static str {
        match self {
            Self::Reached => "reached",
            Self::NotReached => "not-reached",
            Self::CannotTellYet => "cannot-tell-yet",
        }
    }

    /// The inverse of [`Outcome::code`].
    pub fn from_code(text: &str) -> Option<Self> {
        match text {
            "reached" => Some(Self::Reached),
            "not-reached" => Some(Self::NotReached),
            "cannot-tell-yet" => Some(Self::CannotTellYet),
            _ => None,
        }
    }

    /// The outcome of a hypothesis from those of its expectations: reached when every one is,
    /// cannot tell yet when any cannot be told, not reached otherwise.
    pub fn overall(outcomes: &[Outcome]) -> Outcome {
        if outcomes.is_empty() {
            Self::CannotTellYet
        } else if outcomes.iter().all(|o| *o == Self::Reached) {
            Self::Reached
        } else if outcomes.contains(&Self::CannotTellYet) {
            Self::CannotTellYet
        } else {
            Self::NotReached
        }
    }
}

/// A recorded review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    /// When it was run.
    pub reviewed_at: Timestamp,
    /// The hypothesis version it judged.
    pub hypothesis_version: u32,
    /// Its outcome.
    pub outcome: Outcome,
    /// Run before the review date: the outcome is provisional.
    pub provisional: bool,
}

/// Where an experiment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Before its review date, not judged.
    Running,
    /// Its review date has come and no final review is recorded.
    DueForReview,
    /// A review on or after the review date is recorded.
    Judged,
}

impl Status {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::DueForReview => "due for review",
            Self::Judged => "judged",
        }
    }
}

/// An experiment: its name (that of its practice change), its start, hypothesis versions and
/// reviews.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    /// The practice change's name.
    pub name: PracticeName,
    /// The practice change's start date.
    pub started_on: Date,
    /// Every version, oldest first (never empty for a stored experiment).
    pub hypotheses: Vec<Hypothesis>,
    /// Every review, oldest first.
    pub reviews: Vec<Review>,
}

/// 00:00 UTC of `date`.
pub fn midnight(date: Date) -> Result<Timestamp, ExperimentError> {
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|_| ExperimentError::OutOfRange)
}

/// `date` plus `days` days, checked.
pub fn add_days(date: Date, days: u32) -> Result<Date, ExperimentError> {
    date.checked_add(Span::new().days(i64::from(days)))
        .map_err(|_| ExperimentError::OutOfRange)
}

impl Experiment {
    /// The latest hypothesis version.
    pub fn latest(&self) -> Option<&Hypothesis> {
        self.hypotheses.last()
    }

    /// The review date of the latest version: the start plus its planned duration.
    pub fn review_on(&self) -> Result<Option<Date>, ExperimentError> {
        self.latest()
            .map(|h| add_days(self.started_on, h.planned_days))
            .transpose()
    }

    /// Versions written on or after the start (00:00 UTC of the start date): not
    /// pre-registered. Version 1 is among them when the experiment was recorded after it began.
    pub fn edits_after_start(&self) -> Vec<&Hypothesis> {
        let Ok(start) = midnight(self.started_on) else {
            return Vec::new();
        };
        self.hypotheses
            .iter()
            .filter(|h| h.written_at >= start)
            .collect()
    }

    /// The registered start and the practice change's start, when they differ: the practice
    /// change's date was changed after the hypothesis was written.
    pub fn start_moved(&self) -> Option<(Date, Date)> {
        self.latest()
            .map(|h| h.started_on)
            .filter(|registered| *registered != self.started_on)
            .map(|registered| (registered, self.started_on))
    }

    /// Whether the hypothesis was edited (more than one version).
    pub fn edited(&self) -> bool {
        self.hypotheses.len() > 1
    }

    /// The status at `now`.
    pub fn status(&self, now: Timestamp) -> Status {
        if self.reviews.iter().any(|r| !r.provisional) {
            return Status::Judged;
        }
        match self.review_on().ok().flatten().map(midnight) {
            Some(Ok(due)) if now >= due => Status::DueForReview,
            _ => Status::Running,
        }
    }
}

/// Why an expectation's outcome is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JudgementReason {
    /// Credited in the expected direction, and the interval reaches the expected size.
    Confirmed,
    /// Credited in the expected direction, but the interval rules out the expected size.
    SmallerThanExpected,
    /// Credited in the other direction.
    OppositeDirection,
    /// Not credited, and the interval rules out the expected size.
    RuledOut,
    /// Not credited, with at least 80% power for the expected size.
    NotDetectedWithAdequatePower,
    /// Not credited, with less than 80% power (or none known) for the expected size.
    Underpowered,
    /// Below the impact analysis's minimum sample.
    NotEnoughData,
    /// A rate with no events in either window: nothing to test.
    NoEvents,
}

/// The judgement of one expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// The expectation.
    pub expectation: Expectation,
    /// The outcome: when the review date has not come, always cannot tell yet.
    pub outcome: Outcome,
    /// What the outcome would be on the data so far (differs from `outcome` only early).
    pub provisional_outcome: Outcome,
    /// Why.
    pub reason: JudgementReason,
    /// The simulated power of the verdict procedure for the expected size (only for expected
    /// improvements), and how many verdicts it rests on.
    pub power_for_expected: Option<f64>,
    /// The reason in a sentence.
    pub explanation: String,
}

/// Judges `expectation` against its metric's impact analysis.
///
/// The rule (`docs/experiments.md`), on the reported scale with the 95% interval [low, high]:
///
/// 1. below the minimum sample: **cannot tell yet**;
/// 2. verdict *improved*/*worse* in the expected direction: **reached** when the interval reaches
///    the expected size (low ≤ expected for an expected decrease, high ≥ expected for an
///    increase), else **not reached** (smaller than expected);
/// 3. verdict in the other direction: **not reached**;
/// 4. no credited change, and the interval rules out the expected size (it lies wholly on the
///    no-change side of it): **not reached**;
/// 5. no credited change, with at least 80% simulated power for the expected size: **not
///    reached**;
/// 6. otherwise: **cannot tell yet**.
///
/// Before the review date (`due` false) the outcome is **cannot tell yet** whatever the data
/// say; what they say so far is the `provisional_outcome`.
pub fn judge(
    expectation: &Expectation,
    impact: &MetricImpact,
    power_for_expected: Option<f64>,
    due: bool,
) -> Judgement {
    let name = impact.metric.label();
    let expected = expectation.effect;
    let decrease = expectation.analysis_effect() < 0.0;
    let expected_text = expectation.change_text();
    let (reason, outcome, explanation) = match (&impact.effect, impact.verdict) {
        (None, _) | (_, Verdict::NotEnoughData) => (
            JudgementReason::NotEnoughData,
            Outcome::CannotTellYet,
            format!("{name}: not enough data yet for a verdict"),
        ),
        (Some(effect), _) if !effect.in_holm_family => (
            JudgementReason::NoEvents,
            Outcome::CannotTellYet,
            format!("{name}: no events in either window, so there is nothing to test yet"),
        ),
        (Some(effect), verdict) => {
            let interval = match impact.scale {
                Scale::Ratio => format!(
                    "×{:.2} (×{:.2} to ×{:.2})",
                    effect.estimate, effect.low, effect.high
                ),
                Scale::Difference => format!(
                    "{:+.1} points ({:+.1} to {:+.1})",
                    effect.estimate * 100.0,
                    effect.low * 100.0,
                    effect.high * 100.0
                ),
            };
            let reaches = if decrease {
                effect.low <= expected
            } else {
                effect.high >= expected
            };
            let credited_up = match verdict {
                Verdict::Improved => Some(impact.metric.higher_is_better()),
                Verdict::Worse => Some(!impact.metric.higher_is_better()),
                _ => None,
            };
            match credited_up {
                Some(up) if up != decrease => {
                    if reaches {
                        (
                            JudgementReason::Confirmed,
                            Outcome::Reached,
                            format!(
                                "{name}: {} as expected, {interval}, compatible with the expected {expected_text}",
                                verdict.describe()
                            ),
                        )
                    } else {
                        (
                            JudgementReason::SmallerThanExpected,
                            Outcome::NotReached,
                            format!(
                                "{name}: {} in the expected direction, but {interval} rules out the expected {expected_text}",
                                verdict.describe()
                            ),
                        )
                    }
                }
                Some(_) => (
                    JudgementReason::OppositeDirection,
                    Outcome::NotReached,
                    format!(
                        "{name}: {}, the opposite of the expected {expected_text}: {interval}",
                        verdict.describe()
                    ),
                ),
                None if !reaches => (
                    JudgementReason::RuledOut,
                    Outcome::NotReached,
                    format!(
                        "{name}: no credited change, and {interval} rules out the expected {expected_text}"
                    ),
                ),
                None => match power_for_expected {
                    Some(p) if p >= ADEQUATE_POWER => (
                        JudgementReason::NotDetectedWithAdequatePower,
                        Outcome::NotReached,
                        format!(
                            "{name}: no credited change ({interval}), although an effect of {expected_text} would have been detected {:.0}% of the time",
                            p * 100.0
                        ),
                    ),
                    Some(p) => (
                        JudgementReason::Underpowered,
                        Outcome::CannotTellYet,
                        format!(
                            "{name}: no credited change yet ({interval}); with this much data an effect of {expected_text} would be detected only {:.0}% of the time",
                            p * 100.0
                        ),
                    ),
                    None => (
                        JudgementReason::Underpowered,
                        Outcome::CannotTellYet,
                        format!(
                            "{name}: no credited change yet ({interval}), and the interval still includes the expected {expected_text}"
                        ),
                    ),
                },
            }
        }
    };
    Judgement {
        expectation: *expectation,
        outcome: if due { outcome } else { Outcome::CannotTellYet },
        provisional_outcome: outcome,
        reason,
        power_for_expected,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_parse_and_print_back() {
        let e = Expectation::parse("change_lead_time -30%").unwrap();
        assert_eq!(e.metric, MetricKind::ChangeLeadTime);
        assert!((e.effect - 0.7).abs() < 1e-12);
        assert!(e.is_improvement());
        assert_eq!(e.to_string(), "change_lead_time -30%");
        assert_eq!(Expectation::parse(&e.to_string()).unwrap(), e);
        let f = Expectation::parse(" deployment-frequency   +50% ").unwrap();
        assert_eq!(f.to_string(), "deployment_frequency +50%");
        assert!(f.is_improvement());
        let r = Expectation::parse("change_fail_rate -5pp").unwrap();
        assert!((r.effect + 0.05).abs() < 1e-12);
        assert_eq!(r.to_string(), "change_fail_rate -5pp");
        assert!(r.is_improvement());
        let t = Expectation::parse("recovery_time +12.5%").unwrap();
        assert_eq!(t.to_string(), "failed_deployment_recovery_time +12.5%");
        assert!(!t.is_improvement());
        assert_eq!(
            Expectation::parse("rework_rate −2pp").unwrap().to_string(),
            "rework_rate -2pp"
        );
        let odd = Expectation::parse("change_lead_time -33.3333%").unwrap();
        assert_eq!(odd.to_string(), "change_lead_time -33.33%");
        assert_eq!(Expectation::parse(&odd.to_string()).unwrap(), odd);
    }

    #[test]
    fn bad_expectations_say_what_is_expected() {
        let err = |t: &str| Expectation::parse(t).unwrap_err().to_string();
        assert!(err("change_lead_time").contains("expected METRIC CHANGE"));
        assert!(err("speed -30%").contains("unknown metric \"speed\""));
        assert!(err("change_lead_time 30%").contains("expected a signed change"));
        assert!(err("change_lead_time -30").contains("expected a signed change"));
        assert!(err("change_lead_time -5pp").contains("is a ratio"));
        assert!(err("change_fail_rate -50%").contains("percentage points"));
        assert!(err("change_lead_time -100%").contains("out of range"));
        assert!(err("change_lead_time +0%").contains("out of range"));
        assert!(err("change_fail_rate -101pp").contains("out of range"));
    }

    fn hypothesis(expect: &[&str], planned_days: u32) -> Hypothesis {
        Hypothesis {
            version: 1,
            written_at: Timestamp::UNIX_EPOCH,
            started_on: "2026-03-02".parse().unwrap(),
            expectations: expect
                .iter()
                .map(|e| Expectation::parse(e).unwrap())
                .collect(),
            planned_days,
            before_days: 90,
            transition_days: 14,
            comparison: ComparisonPlan::None,
        }
    }

    #[test]
    fn hypotheses_are_validated() {
        assert!(
            hypothesis(&["change_lead_time -30%"], 56)
                .validate()
                .is_ok()
        );
        assert_eq!(
            hypothesis(&[], 56).validate(),
            Err(ExperimentError::NoExpectation)
        );
        assert_eq!(
            hypothesis(&["lead_time -30%", "change_lead_time -20%"], 56).validate(),
            Err(ExperimentError::Duplicate("change_lead_time"))
        );
        assert!(matches!(
            hypothesis(&["lead_time -30%"], 14).validate(),
            Err(ExperimentError::ShorterThanTransition { .. })
        ));
        for text in ["none", "auto", "with:billing web"] {
            assert_eq!(ComparisonPlan::decode(text).unwrap().encode(), text);
        }
    }

    #[test]
    fn status_and_edits_follow_the_dates() {
        let day = |d: &str| midnight(d.parse().unwrap()).unwrap();
        let mut first = hypothesis(&["change_lead_time -30%"], 56);
        first.written_at = day("2026-02-27");
        let mut exp = Experiment {
            name: PracticeName::new("Review within a day").unwrap(),
            started_on: "2026-03-02".parse().unwrap(),
            hypotheses: vec![first.clone()],
            reviews: vec![],
        };
        assert_eq!(
            exp.review_on().unwrap(),
            Some("2026-04-27".parse().unwrap())
        );
        assert!(exp.edits_after_start().is_empty());
        assert_eq!(exp.start_moved(), None);
        assert_eq!(exp.status(day("2026-04-26")), Status::Running);
        assert_eq!(exp.status(day("2026-04-27")), Status::DueForReview);
        exp.hypotheses.push(Hypothesis {
            version: 2,
            written_at: day("2026-03-10"),
            ..first
        });
        assert_eq!(exp.edits_after_start().len(), 1);
        exp.reviews.push(Review {
            reviewed_at: day("2026-04-01"),
            hypothesis_version: 2,
            outcome: Outcome::CannotTellYet,
            provisional: true,
        });
        assert_eq!(exp.status(day("2026-04-02")), Status::Running);
        exp.reviews.push(Review {
            reviewed_at: day("2026-04-28"),
            hypothesis_version: 2,
            outcome: Outcome::Reached,
            provisional: false,
        });
        assert_eq!(exp.status(day("2026-04-29")), Status::Judged);
    }

    /// `per_week` deployments a week, evenly spread, 12 weeks before and after a 14-day
    /// transition, each shipping three changes of 24 hours.
    fn steps(per_week: (u32, u32)) -> crate::impact::ImpactAnalysis {
        use crate::impact::{
            DeploymentSample, Design, GroupHistory, ImpactOptions, PowerOptions, analyze_with_power,
        };
        let mut deployments = Vec::new();
        for week in -12..14 {
            if (0..2).contains(&week) {
                continue;
            }
            let n = if week < 0 { per_week.0 } else { per_week.1 };
            for i in 0..n {
                deployments.push(DeploymentSample {
                    at_days: 7.0 * f64::from(week) + 7.0 * (f64::from(i) + 0.5) / f64::from(n),
                    lead_times: vec![86_400.0; 3],
                    ..DeploymentSample::default()
                });
            }
        }
        let options = ImpactOptions {
            resamples: 300,
            primary: crate::impact::MetricSet::of(&[MetricKind::DeploymentFrequency]),
            ..ImpactOptions::default()
        };
        let power = PowerOptions {
            simulations: 0,
            ..PowerOptions::default()
        };
        analyze_with_power(
            &GroupHistory { deployments },
            None,
            &Design::weeks(12, 14.0, 12),
            &options,
            &power,
        )
    }

    #[test]
    fn judgements_follow_the_rule() {
        let analysis = steps((4, 8));
        let freq = &analysis.metrics[0];
        assert_eq!(freq.verdict, Verdict::Improved);
        let e = freq.effect.as_ref().unwrap();
        assert!(e.low > 1.0 && e.high < 4.0, "{e:?}");
        let j = |text: &str, power: Option<f64>, due: bool| {
            judge(&Expectation::parse(text).unwrap(), freq, power, due)
        };
        let reached = j("deployment_frequency +50%", None, true);
        assert_eq!(reached.outcome, Outcome::Reached);
        assert_eq!(reached.reason, JudgementReason::Confirmed);
        let big = j("deployment_frequency +300%", None, true);
        assert_eq!(big.outcome, Outcome::NotReached);
        assert_eq!(big.reason, JudgementReason::SmallerThanExpected);
        let opposite = j("deployment_frequency -30%", None, true);
        assert_eq!(opposite.reason, JudgementReason::OppositeDirection);
        let early = j("deployment_frequency +50%", None, false);
        assert_eq!(early.outcome, Outcome::CannotTellYet);
        assert_eq!(early.provisional_outcome, Outcome::Reached);

        // No change at all: the interval rules out a quadrupling; a +20% is within it, and the
        // power decides between not reached and cannot tell.
        let flat = steps((6, 6));
        let freq = &flat.metrics[0];
        assert_eq!(freq.verdict, Verdict::NoDetectableChange);
        let j = |text: &str, power: Option<f64>| {
            judge(&Expectation::parse(text).unwrap(), freq, power, true)
        };
        assert_eq!(
            j("deployment_frequency +300%", None).reason,
            JudgementReason::RuledOut
        );
        let weak = j("deployment_frequency +20%", Some(0.3));
        assert_eq!(weak.outcome, Outcome::CannotTellYet);
        assert_eq!(weak.reason, JudgementReason::Underpowered);
        let strong = j("deployment_frequency +20%", Some(0.9));
        assert_eq!(strong.outcome, Outcome::NotReached);
        assert_eq!(strong.reason, JudgementReason::NotDetectedWithAdequatePower);
        // The fail rate has no events: not enough to judge is not claimed either way.
        let none = judge(
            &Expectation::parse("change_fail_rate -5pp").unwrap(),
            &flat.metrics[2],
            None,
            true,
        );
        assert_eq!(none.reason, JudgementReason::NoEvents);
        assert_eq!(none.outcome, Outcome::CannotTellYet);
    }

    #[test]
    fn overall_outcomes() {
        use Outcome::*;
        assert_eq!(Outcome::overall(&[Reached, Reached]), Reached);
        assert_eq!(Outcome::overall(&[Reached, CannotTellYet]), CannotTellYet);
        assert_eq!(Outcome::overall(&[Reached, NotReached]), NotReached);
        assert_eq!(Outcome::overall(&[]), CannotTellYet);
    }
}
