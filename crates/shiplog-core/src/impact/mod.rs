//! Impact analysis: did a change in practice change delivery, and by how much?
//!
//! Trend lines invite people to credit a practice with whatever happened after it. This module
//! exists to answer the question the way a careful analyst would, and to say plainly when the data
//! cannot tell. For each of the five metrics it compares a before window with an after window (a
//! transition period right after the change is left out), then asks two more questions before
//! crediting the practice:
//!
//! - **Was it already improving?** A segmented regression on weekly values (an interrupted time
//!   series) projects the before trend into the after window. When that projection accounts for the
//!   change, the practice is not credited.
//! - **Did services that changed nothing move too?** With a comparison group, a
//!   difference-in-differences estimate, with a check that the groups' before trends were parallel.
//!
//! Per metric (methods in [`stats`], assumptions in `docs/impact.md`):
//!
//! | metric | estimate | interval | test |
//! |---|---|---|---|
//! | deployment frequency | rate ratio of deployments per week | quasi-Poisson (over-dispersion) | t on the log ratio |
//! | change lead time | ratio of medians | bootstrap resampling whole deployments | clustered Mann–Whitney |
//! | change fail rate | difference of proportions | Newcombe (Wilson) | Fisher's exact |
//! | recovery time | ratio of medians | bootstrap | Mann–Whitney |
//! | rework rate | difference of proportions | Newcombe (Wilson) | Fisher's exact |
//!
//! p-values are Holm-adjusted across the metrics tested together. Each metric ends in one
//! [`Verdict`]. Worked example: median lead time 74.4 h before and 21.6 h after is a ratio of 0.29,
//! "−71%"; with a bootstrap interval of 0.20 to 0.42 and an adjusted p of 0.001, no pre-existing
//! trend that explains it and a comparison group that did not move, the verdict is
//! [`Verdict::Improved`].
//!
//! The analysis reads plain samples ([`GroupHistory`]); [`extract`] builds them from an attributed
//! model, and the simulation tests build them from known truths.

pub mod extract;
pub mod power;
pub mod stats;

use std::fmt::Write as _;

use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;

use jiff::Timestamp;

use crate::names::{Environment, ServiceName};
use crate::practice::PracticeChange;
use stats::Estimate;

pub use extract::{AfterLimit, DataEnd};
pub use power::PowerOptions;

/// Why an impact analysis could not be laid out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImpactError {
    /// The windows reach outside the supported range of times.
    #[error("the analysis windows reach outside the supported range of dates")]
    OutOfRange,
}

/// One deployment as the impact statistics see it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeploymentSample {
    /// When it finished, in days after the change (negative before it).
    pub at_days: f64,
    /// The lead times of the changes it newly shipped, in seconds (none for a baseline deployment).
    pub lead_times: Vec<f64>,
    /// Whether it failed.
    pub failed: bool,
    /// Its recovery time in seconds, when it failed and recovered.
    pub recovery: Option<f64>,
    /// Whether it was unplanned (rework).
    pub unplanned: bool,
}

/// The deployments of one group of services, in any order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupHistory {
    /// The deployments.
    pub deployments: Vec<DeploymentSample>,
}

/// The before and after windows, in whole weeks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Design {
    /// When the practice started.
    pub change_at: Timestamp,
    /// Start of the before window (it ends at `change_at`).
    pub before_since: Timestamp,
    /// Start of the after window (`change_at` plus the transition).
    pub after_since: Timestamp,
    /// End of the after window.
    pub after_until: Timestamp,
    /// Whole weeks before.
    pub before_weeks: u32,
    /// Whole weeks after.
    pub after_weeks: u32,
    /// Days left out after the change.
    pub transition_days: f64,
    /// Weeks asked for before.
    pub requested_before_weeks: u32,
    /// Weeks asked for after.
    pub requested_after_weeks: u32,
    /// The records start later than the before window would: it was shortened.
    pub before_limited_by_records: bool,
    /// What shortened the after window, if anything.
    pub after_limited_by: Option<AfterLimit>,
    /// Where the data were taken to end: at the last record (the default) or at `--until`.
    pub data_end: DataEnd,
    /// The last record of the services (or the last commit, for deployments derived from git).
    pub records_end: Option<Timestamp>,
}

impl Design {
    /// A design from week counts alone, for synthetic data (times are relative to the change).
    pub fn weeks(before_weeks: u32, transition_days: f64, after_weeks: u32) -> Self {
        let at = Timestamp::UNIX_EPOCH;
        Self {
            change_at: at,
            before_since: at,
            after_since: at,
            after_until: at,
            before_weeks,
            after_weeks,
            transition_days,
            requested_before_weeks: before_weeks,
            requested_after_weeks: after_weeks,
            before_limited_by_records: false,
            after_limited_by: None,
            data_end: DataEnd::Until,
            records_end: None,
        }
    }
}

/// Options of the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImpactOptions {
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    /// Seed of the bootstrap: the same records, options and seed give the same report.
    pub seed: u64,
    /// Metrics named in advance as primary (a pre-registered experiment): they are tested at the
    /// full alpha, Holm-adjusted among themselves only, and the other metrics form a second family
    /// (secondary, Holm-adjusted among themselves). Empty (the default): every metric tested is in
    /// one Holm family.
    #[serde(skip_serializing_if = "MetricSet::is_empty")]
    pub primary: MetricSet,
}

impl Default for ImpactOptions {
    fn default() -> Self {
        Self {
            resamples: 2000,
            seed: 20_260_303,
            primary: MetricSet::EMPTY,
        }
    }
}

/// A set of metrics (the primary metrics of an experiment), small and `Copy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MetricSet(u8);

impl MetricSet {
    /// No metric.
    pub const EMPTY: MetricSet = MetricSet(0);

    fn bit(metric: MetricKind) -> u8 {
        let k = MetricKind::ALL
            .iter()
            .position(|m| *m == metric)
            .unwrap_or(0);
        1 << k
    }

    /// The set of `metrics`.
    pub fn of(metrics: &[MetricKind]) -> Self {
        Self(metrics.iter().fold(0, |acc, m| acc | Self::bit(*m)))
    }

    /// Whether `metric` is in the set.
    pub fn contains(self, metric: MetricKind) -> bool {
        self.0 & Self::bit(metric) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The metrics in the set, in report order.
    pub fn metrics(self) -> Vec<MetricKind> {
        MetricKind::ALL
            .into_iter()
            .filter(|m| self.contains(*m))
            .collect()
    }
}

impl Serialize for MetricSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.metrics().serialize(serializer)
    }
}

/// Which family of tests a metric's p-value was adjusted in, when the analysis has primary
/// metrics ([`ImpactOptions::primary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestFamily {
    /// Named in advance: tested at the full alpha, Holm only among the primary metrics.
    Primary,
    /// Not named in advance: Holm among the secondary metrics.
    Secondary,
}

/// The five metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Deployments per week.
    DeploymentFrequency,
    /// Median change lead time.
    ChangeLeadTime,
    /// Share of deployments that failed.
    ChangeFailRate,
    /// Median failed deployment recovery time.
    FailedDeploymentRecoveryTime,
    /// Share of deployments that were unplanned.
    ReworkRate,
}

impl MetricKind {
    /// The five, in report order.
    pub const ALL: [MetricKind; 5] = [
        Self::DeploymentFrequency,
        Self::ChangeLeadTime,
        Self::ChangeFailRate,
        Self::FailedDeploymentRecoveryTime,
        Self::ReworkRate,
    ];

    /// The name in prose.
    pub fn label(self) -> &'static str {
        match self {
            Self::DeploymentFrequency => "deployment frequency",
            Self::ChangeLeadTime => "median change lead time",
            Self::ChangeFailRate => "change fail rate",
            Self::FailedDeploymentRecoveryTime => "median recovery time",
            Self::ReworkRate => "rework rate",
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        self == Self::DeploymentFrequency
    }

    /// How effects are expressed.
    pub fn scale(self) -> Scale {
        match self {
            Self::ChangeFailRate | Self::ReworkRate => Scale::Difference,
            _ => Scale::Ratio,
        }
    }
}

/// How a metric's effect is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// after ÷ before (1 = no change); analysed on the log scale.
    Ratio,
    /// after − before, in proportion (0 = no change).
    Difference,
}

impl Scale {
    /// From the analysis scale (log ratio or difference) to the reported one.
    pub fn natural(self, value: f64) -> f64 {
        match self {
            Self::Ratio => value.exp(),
            Self::Difference => value,
        }
    }
}

/// The conclusion for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A significant change in the good direction that the trend and comparison checks do not
    /// explain away.
    Improved,
    /// The same, in the bad direction.
    Worse,
    /// The data show no change that can be told from noise, a pre-existing trend, or what the
    /// comparison group did.
    NoDetectableChange,
    /// Below the minimum sample size.
    NotEnoughData,
}

impl Verdict {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Improved => "improved",
            Self::Worse => "worse",
            Self::NoDetectableChange => "no detectable change",
            Self::NotEnoughData => "not enough data yet",
        }
    }
}

/// Why a metric's verdict is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Significant, in the interval and the test, and every check supports it.
    Credited,
    /// Significant, but a check withheld the credit ([`MetricImpact::withheld_by`] says which).
    Withheld,
    /// The adjusted p-value is below 0.05 but the interval still includes no change.
    IntervalIncludesNoChange,
    /// Significant alone (p < 0.05) but not once adjusted for the metrics tested together.
    LostToMultipleTesting,
    /// Not significant: chance alone could produce a difference like this.
    Chance,
    /// A rate with no events in either window: nothing to test.
    NoEvents,
    /// Below the minimum sample.
    NotEnoughData,
}

/// A caveat: something the reader must know to weigh a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Caveat {
    /// A stable code, e.g. `already-trending`.
    pub code: &'static str,
    /// The caveat in a sentence.
    pub message: String,
}

fn caveat(code: &'static str, message: String) -> Caveat {
    Caveat { code, message }
}

/// One window's value of a metric and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Deployments per week, a median in seconds, or a proportion; `None` when there is nothing to
    /// measure.
    pub value: Option<f64>,
    /// The sample size of the test: weeks (frequency), changes (lead time), deployments (rates) or
    /// recoveries.
    pub n: u64,
    /// Deployments in the window.
    pub deployments: u64,
    /// Whole weeks in the window.
    pub weeks: u32,
    /// Failed or unplanned deployments, for the rates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// An estimate on the reported scale (a ratio or a difference) with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The estimate.
    pub estimate: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Two-sided p-value of "no change".
    pub p_value: f64,
}

impl Interval {
    fn from(scale: Scale, e: &Estimate) -> Self {
        Self {
            estimate: scale.natural(e.estimate),
            low: scale.natural(e.low),
            high: scale.natural(e.high),
            p_value: e.p_value,
        }
    }
}

/// The before/after effect of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// after ÷ before for ratios, after − before for rates.
    pub estimate: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Standard error on the analysis scale (log ratio or difference).
    pub se: f64,
    /// The test's two-sided p-value.
    pub p_value: f64,
    /// Holm-adjusted across the metrics tested together.
    pub p_adjusted: f64,
    /// How many metrics were tested together (the Holm family).
    pub tested_together: usize,
    /// With primary metrics: whether this one is primary or secondary (its Holm family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<TestFamily>,
    /// Whether this metric is one of them: a rate with no events in either window is not tested.
    pub in_holm_family: bool,
    /// The test used.
    pub test: &'static str,
    /// How the interval was built.
    pub interval: &'static str,
}

/// What the interrupted time series says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrendFinding {
    /// The after window differs from the projected before trend, in the direction of the effect.
    Supports,
    /// Neither confirms nor explains the effect: the after window is not significantly away from
    /// the continued before trend, so the change is not credited.
    Inconclusive,
    /// The before trend, projected, accounts for at least half of the change: it was already
    /// under way.
    AlreadyTrending,
    /// The after window differs from the projected trend in the opposite direction.
    Contradicts,
    /// Too few weekly values: a pre-existing trend cannot be ruled out, so nothing is credited.
    NotEstimable,
}

/// The interrupted time series (segmented regression) of one metric's weekly values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendCheck {
    /// Weekly values before and after.
    pub weeks_before: u32,
    /// Weekly values after.
    pub weeks_after: u32,
    /// The before trend per week (a factor per week for ratio metrics, a difference for rates), from
    /// separate lines before and after.
    pub pre_slope: Option<Interval>,
    /// The jump at the change date, from the same separate lines.
    pub level_change: Option<Interval>,
    /// The change of slope at the change date, per week, from the same separate lines.
    pub slope_change: Option<Interval>,
    /// How far the after window sits from the before trend continued: the shift in a model with one
    /// trend through both windows. This is what the finding tests.
    pub effect_beyond_trend: Option<Interval>,
    /// Its standard error on the analysis scale (log ratio or difference).
    pub effect_beyond_trend_se: Option<f64>,
    /// The share of the observed before/after change that the projected before trend accounts for.
    pub trend_share: Option<f64>,
    /// Lag-1 autocorrelation of the residuals, as measured (biased towards 0 in short series).
    pub residual_autocorrelation: Option<f64>,
    /// The AR(1) coefficient of consecutive weeks, bias-corrected; the intervals of the trend
    /// check allow for it when positive.
    pub autocorrelation: Option<f64>,
    /// The conclusion.
    pub finding: TrendFinding,
}

/// What the comparison group says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComparisonFinding {
    /// The difference-in-differences is significant in the direction of the effect.
    Supports,
    /// The difference-in-differences is not significant: the change is not credited.
    Inconclusive,
    /// The comparison group moved the same way by at least half as much: something other than the
    /// practice may be at work.
    MovedToo,
    /// The difference-in-differences is significant in the opposite direction.
    Contradicts,
    /// The groups' before trends were not parallel (p < 0.10): the comparison cannot show what
    /// would have happened, so the change is not credited.
    TrendsNotParallel,
    /// The comparison group has too little data for this metric: stated, and the verdict rests on
    /// the other checks.
    NotEnoughData,
}

/// The difference-in-differences of one metric against the comparison group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonCheck {
    /// The comparison group before.
    pub before: Side,
    /// The comparison group after.
    pub after: Side,
    /// The comparison group's own before/after change.
    pub change: Option<Interval>,
    /// The subject's change beyond the comparison group's (a ratio of ratios, or a difference of
    /// differences).
    pub difference_in_differences: Option<Interval>,
    /// Its standard error on the analysis scale.
    pub difference_in_differences_se: Option<f64>,
    /// p-value of a difference between the groups' before trends (weekly values).
    pub parallel_trends_p: Option<f64>,
    /// The conclusion.
    pub finding: ComparisonFinding,
}

/// Sample sizes and power.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerNote {
    /// What is counted (`weeks`, `changes`, `deployments`, `recoveries`).
    pub unit: &'static str,
    /// The minimum per window before any verdict is given.
    pub minimum: u64,
    /// Whether both windows reach it.
    pub meets_minimum: bool,
    /// The effect the note is about (a ratio or a difference).
    pub reference_effect: f64,
    /// The test that limits what can be detected: `before/after`, `trend` or `comparison` (the
    /// verdict needs all of them, and this one has the largest standard error).
    pub limiting_test: Option<&'static str>,
    /// Its standard error on the analysis scale.
    pub limiting_se: Option<f64>,
    /// The power to detect the reference effect with the data at hand: the share of simulated
    /// verdicts (see [`power`]) that say "improved".
    pub power: Option<f64>,
    /// Per window, how many `unit`s 80% power for the reference effect needs.
    pub needed_per_window: Option<f64>,
    /// How many more `unit`s the after window needs: to reach the minimum, or, above it, for 80%
    /// power for the reference effect.
    pub more_needed: Option<f64>,
    /// The same in weeks: below the minimum at the after window's pace; above it, the fewest more
    /// weeks at which the simulated power reaches 80%.
    pub more_weeks: Option<f64>,
    /// A lower bound on the smallest effect detectable with 80% power now (a ratio in the good
    /// direction, or a difference), from the limiting test alone by the normal formula; the whole
    /// verdict needs more.
    pub minimum_detectable: Option<f64>,
    /// How many verdicts were simulated for `power`.
    pub simulations: Option<usize>,
    /// Five more years of data would still not give 80% power.
    pub beyond_search: bool,
    /// Why no verdict can be reached whatever the effect, and what data would make it reachable.
    pub unreachable: Option<String>,
}

impl PowerNote {
    fn empty(unit: &'static str, minimum: u64) -> Self {
        Self {
            unit,
            minimum,
            meets_minimum: false,
            reference_effect: 0.0,
            limiting_test: None,
            limiting_se: None,
            power: None,
            needed_per_window: None,
            more_needed: None,
            more_weeks: None,
            minimum_detectable: None,
            simulations: None,
            beyond_search: false,
            unreachable: None,
        }
    }
}

/// The caveat codes of the checks that can keep a significant before/after change from being
/// credited to the practice; a verdict of "no detectable change" after a significant change carries
/// exactly one or more of them.
pub const WITHHOLDING_CODES: [&str; 8] = [
    "already-trending",
    "trend-inconclusive",
    "trend-contradicts",
    "trend-not-checked",
    "comparison-moved-too",
    "comparison-inconclusive",
    "comparison-contradicts",
    "trends-not-parallel",
];

/// One metric's impact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricImpact {
    /// Which metric.
    pub metric: MetricKind,
    /// How its effect is expressed.
    pub scale: Scale,
    /// The before window.
    pub before: Side,
    /// The after window.
    pub after: Side,
    /// The before/after effect; `None` without enough data.
    pub effect: Option<Effect>,
    /// The interrupted time series.
    pub trend: TrendCheck,
    /// The comparison group, when there is one.
    pub comparison: Option<ComparisonCheck>,
    /// Sample sizes and power.
    pub power: PowerNote,
    /// The conclusion.
    pub verdict: Verdict,
    /// Why the verdict is what it is, and what to keep in mind.
    pub caveats: Vec<Caveat>,
}

impl MetricImpact {
    /// The first check that kept a significant change from being credited, if any.
    pub fn withheld_by(&self) -> Option<&Caveat> {
        self.caveats
            .iter()
            .find(|c| WITHHOLDING_CODES.contains(&c.code))
    }

    /// Why the verdict is what it is, in one of a fixed set of reasons (each is tested).
    pub fn reason(&self) -> Reason {
        let Some(effect) = self
            .effect
            .as_ref()
            .filter(|_| self.verdict != Verdict::NotEnoughData)
        else {
            return Reason::NotEnoughData;
        };
        if !effect.in_holm_family {
            return Reason::NoEvents;
        }
        match self.verdict {
            Verdict::Improved | Verdict::Worse => return Reason::Credited,
            Verdict::NotEnoughData => return Reason::NotEnoughData,
            Verdict::NoDetectableChange => {}
        }
        if self.withheld_by().is_some() {
            return Reason::Withheld;
        }
        let neutral = match self.scale {
            Scale::Ratio => 1.0,
            Scale::Difference => 0.0,
        };
        let excludes = effect.low > neutral || effect.high < neutral;
        if effect.p_adjusted < 0.05 && !excludes {
            Reason::IntervalIncludesNoChange
        } else if effect.p_value < 0.05 && effect.p_adjusted >= 0.05 {
            Reason::LostToMultipleTesting
        } else {
            Reason::Chance
        }
    }

    /// The standard errors (analysis scale) of the tests its verdict needs: before/after, the trend
    /// check when estimable, the comparison when it has data.
    pub fn standard_errors(&self) -> Vec<f64> {
        self.effect
            .as_ref()
            .map(|e| {
                verdict_tests(e.se, &self.trend, self.comparison.as_ref())
                    .into_iter()
                    .map(|(_, se)| se)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The tests a verdict needs, named, with their standard errors (analysis scale): the before/after
/// test (`effect_se`), the trend check when estimable, the comparison when it has data.
fn verdict_tests(
    effect_se: f64,
    trend: &TrendCheck,
    comparison: Option<&ComparisonCheck>,
) -> Vec<(&'static str, f64)> {
    let mut tests = vec![("before/after", effect_se)];
    if let Some(se) = trend.effect_beyond_trend_se {
        tests.push(("trend", se));
    }
    if let Some(se) = comparison
        .filter(|cmp| cmp.finding != ComparisonFinding::NotEnoughData)
        .and_then(|cmp| cmp.difference_in_differences_se)
    {
        tests.push(("comparison", se));
    }
    tests
}

/// The result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpactAnalysis {
    /// The windows.
    pub design: Design,
    /// The options (seed and resamples).
    pub options: ImpactOptions,
    /// One entry per metric, in [`MetricKind::ALL`] order.
    pub metrics: Vec<MetricImpact>,
    /// Caveats about the whole analysis.
    pub caveats: Vec<Caveat>,
}

/// How the comparison group was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComparisonChoice {
    /// Named with `--compare-with`.
    Given,
    /// Every other service without a practice change in the windows (`--compare-auto`).
    Auto,
}

/// A complete impact report: the practice, who it concerns, and the analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpactReport {
    /// The practice change.
    pub practice: PracticeChange,
    /// The environment analysed.
    pub environment: Environment,
    /// The services that changed practice.
    pub services: Vec<ServiceName>,
    /// The comparison services, if any.
    pub comparison_services: Vec<ServiceName>,
    /// How they were chosen.
    pub comparison_choice: Option<ComparisonChoice>,
    /// The analysis.
    #[serde(flatten)]
    pub analysis: ImpactAnalysis,
}

// ---------------------------------------------------------------------------------------------
// Preparing the samples.
// ---------------------------------------------------------------------------------------------

/// The deployments of one window, with their weekly bins.
struct Window<'a> {
    deployments: Vec<&'a DeploymentSample>,
    /// Per whole week: the week's midpoint in weeks after the change, and its deployments.
    weeks: Vec<(f64, Vec<&'a DeploymentSample>)>,
}

impl<'a> Window<'a> {
    fn new(history: &'a GroupHistory, start_days: f64, weeks: u32) -> Self {
        let mut bins: Vec<(f64, Vec<&DeploymentSample>)> = (0..weeks)
            .map(|k| ((start_days + 7.0 * f64::from(k) + 3.5) / 7.0, Vec::new()))
            .collect();
        let mut deployments = Vec::new();
        let end = start_days + 7.0 * f64::from(weeks);
        for d in &history.deployments {
            if d.at_days >= start_days && d.at_days < end {
                let k = ((d.at_days - start_days) / 7.0).floor() as usize;
                if let Some(bin) = bins.get_mut(k.min((weeks as usize).saturating_sub(1))) {
                    bin.1.push(d);
                }
                deployments.push(d);
            }
        }
        Self {
            deployments,
            weeks: bins,
        }
    }

    fn lead_clusters(&self) -> Vec<&'a [f64]> {
        self.deployments
            .iter()
            .filter(|d| !d.lead_times.is_empty())
            .map(|d| d.lead_times.as_slice())
            .collect()
    }

    fn recoveries(&self) -> Vec<f64> {
        self.deployments.iter().filter_map(|d| d.recovery).collect()
    }

    fn count(&self, event: fn(&DeploymentSample) -> bool) -> u64 {
        self.deployments.iter().filter(|d| event(d)).count() as u64
    }

    /// Weekly values of a metric on its analysis scale, for weeks where it exists.
    fn weekly(&self, metric: MetricKind) -> Vec<(f64, f64, f64)> {
        self.weeks
            .iter()
            .filter_map(|(t, ds)| weekly_value(metric, ds).map(|y| (*t, y, weight(metric, ds))))
            .collect()
    }
}

/// How much a week's value counts in the trend fits: a week's proportion rests on its deployments,
/// so the rates weigh weeks by them; the other series weigh weeks equally.
fn weight(metric: MetricKind, ds: &[&DeploymentSample]) -> f64 {
    match metric {
        MetricKind::ChangeFailRate | MetricKind::ReworkRate => ds.len() as f64,
        _ => 1.0,
    }
}

fn weekly_value(metric: MetricKind, ds: &[&DeploymentSample]) -> Option<f64> {
    let n = ds.len() as f64;
    match metric {
        MetricKind::DeploymentFrequency => Some((n + 0.5).ln()),
        MetricKind::ChangeLeadTime => {
            let mut all: Vec<f64> = ds
                .iter()
                .flat_map(|d| d.lead_times.iter().copied())
                .collect();
            stats::median(&mut all).map(|m| m.max(stats::MIN_DURATION).ln())
        }
        MetricKind::FailedDeploymentRecoveryTime => {
            let mut all: Vec<f64> = ds.iter().filter_map(|d| d.recovery).collect();
            stats::median(&mut all).map(|m| m.max(stats::MIN_DURATION).ln())
        }
        MetricKind::ChangeFailRate => {
            (n > 0.0).then(|| ds.iter().filter(|d| d.failed).count() as f64 / n)
        }
        MetricKind::ReworkRate => {
            (n > 0.0).then(|| ds.iter().filter(|d| d.unplanned).count() as f64 / n)
        }
    }
}

/// A group's two windows.
struct Group<'a> {
    before: Window<'a>,
    after: Window<'a>,
}

impl<'a> Group<'a> {
    fn new(history: &'a GroupHistory, design: &Design) -> Self {
        Self {
            before: Window::new(
                history,
                -7.0 * f64::from(design.before_weeks),
                design.before_weeks,
            ),
            after: Window::new(history, design.transition_days, design.after_weeks),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Minimums and reference effects.
// ---------------------------------------------------------------------------------------------

/// Minimum weeks per window for deployment frequency.
pub const MIN_WEEKS: u64 = 4;
/// Minimum changes per window for lead time (and at least [`MIN_LEAD_DEPLOYMENTS`] deployments).
pub const MIN_CHANGES: u64 = 20;
/// Minimum deployments shipping changes per window for lead time.
pub const MIN_LEAD_DEPLOYMENTS: u64 = 5;
/// Minimum deployments per window for the two rates.
pub const MIN_DEPLOYMENTS: u64 = 20;
/// Minimum recoveries per window for recovery time.
pub const MIN_RECOVERIES: u64 = 5;
/// Above this bias-corrected lag-1 autocorrelation of the weekly values, a caveat says so.
pub const AUTOCORRELATION_CAVEAT: f64 = 0.4;
/// Minimum weekly values per window for the interrupted time series.
pub const MIN_TREND_WEEKS: u32 = 4;

/// Reference effects for the power note: deployments ×1.5, lead and recovery times ×0.7, rates
/// halved.
fn reference_effect(metric: MetricKind, before_rate: Option<f64>) -> f64 {
    match metric {
        MetricKind::DeploymentFrequency => 1.5,
        MetricKind::ChangeLeadTime | MetricKind::FailedDeploymentRecoveryTime => 0.7,
        MetricKind::ChangeFailRate | MetricKind::ReworkRate => -before_rate.unwrap_or(0.0) / 2.0,
    }
}

// ---------------------------------------------------------------------------------------------
// The per-metric before/after comparison.
// ---------------------------------------------------------------------------------------------

/// A metric's sides and primary estimate, before verdicts.
struct Compared {
    before: Side,
    after: Side,
    /// The estimate (analysis scale) and, for the bootstrap ones, the draws.
    estimate: Option<(Estimate, Vec<f64>)>,
    meets_minimum: bool,
    /// A rate with no events in either window: nothing to test, so it stays out of the Holm
    /// family.
    no_events: bool,
    /// Sample units per window for the power note (the unit the SE scales with).
    units: (f64, f64),
    test: &'static str,
    interval: &'static str,
}

fn side(value: Option<f64>, n: u64, w: &Window<'_>, events: Option<u64>) -> Side {
    Side {
        value,
        n,
        deployments: w.deployments.len() as u64,
        weeks: w.weeks.len() as u32,
        events,
    }
}

fn compare(
    metric: MetricKind,
    g: &Group<'_>,
    options: &ImpactOptions,
    rng: &mut Pcg64,
) -> Compared {
    let (b, a) = (&g.before, &g.after);
    match metric {
        MetricKind::DeploymentFrequency => {
            let counts = |w: &Window<'_>| -> Vec<f64> {
                w.weeks.iter().map(|(_, ds)| ds.len() as f64).collect()
            };
            let (cb, ca) = (counts(b), counts(a));
            let per_week =
                |c: &[f64]| (!c.is_empty()).then(|| c.iter().sum::<f64>() / c.len() as f64);
            let meets = cb.len() as u64 >= MIN_WEEKS
                && ca.len() as u64 >= MIN_WEEKS
                && !b.deployments.is_empty();
            Compared {
                before: side(per_week(&cb), cb.len() as u64, b, None),
                after: side(per_week(&ca), ca.len() as u64, a, None),
                estimate: if meets {
                    stats::rate_ratio(&cb, &ca).map(|r| (r.estimate, Vec::new()))
                } else {
                    None
                },
                meets_minimum: meets,
                no_events: false,
                units: (cb.len() as f64, ca.len() as f64),
                test: "quasi-Poisson rate ratio (t test on the log ratio)",
                interval: "quasi-Poisson, dispersion from weekly counts",
            }
        }
        MetricKind::ChangeLeadTime => {
            let (lb, la) = (b.lead_clusters(), a.lead_clusters());
            let changes = |c: &[&[f64]]| c.iter().map(|x| x.len() as u64).sum::<u64>();
            let med = |c: &[&[f64]]| {
                let mut all: Vec<f64> = c.iter().flat_map(|x| x.iter().copied()).collect();
                stats::median(&mut all)
            };
            let meets = changes(&lb) >= MIN_CHANGES
                && changes(&la) >= MIN_CHANGES
                && lb.len() as u64 >= MIN_LEAD_DEPLOYMENTS
                && la.len() as u64 >= MIN_LEAD_DEPLOYMENTS;
            let estimate = if meets {
                stats::bootstrap_median_ratio(&lb, &la, options.resamples, rng).map(|boot| {
                    let rank = stats::clustered_rank_test(&lb, &la);
                    let estimate = Estimate {
                        p_value: rank.map_or(1.0, |t| t.p_value),
                        ..boot.estimate
                    };
                    weekly_floor(estimate, boot.draws, rank.map(|t| t.z), g)
                })
            } else {
                None
            };
            Compared {
                before: side(med(&lb), changes(&lb), b, None),
                after: side(med(&la), changes(&la), a, None),
                estimate,
                meets_minimum: meets,
                no_events: false,
                units: (lb.len() as f64, la.len() as f64),
                test: "Mann-Whitney, clustered by deployment (Obuchowski)",
                interval: "bootstrap percentile, resampling whole deployments",
            }
        }
        MetricKind::FailedDeploymentRecoveryTime => {
            let (rb, ra) = (b.recoveries(), a.recoveries());
            let meets = rb.len() as u64 >= MIN_RECOVERIES && ra.len() as u64 >= MIN_RECOVERIES;
            let estimate = if meets {
                let cb: Vec<&[f64]> = rb.chunks(1).collect();
                let ca: Vec<&[f64]> = ra.chunks(1).collect();
                stats::bootstrap_median_ratio(&cb, &ca, options.resamples, rng).map(|boot| {
                    let p = stats::mann_whitney(&rb, &ra).map_or(1.0, |t| t.p_value);
                    (
                        Estimate {
                            p_value: p,
                            ..boot.estimate
                        },
                        boot.draws,
                    )
                })
            } else {
                None
            };
            Compared {
                before: side(stats::median(&mut rb.clone()), rb.len() as u64, b, None),
                after: side(stats::median(&mut ra.clone()), ra.len() as u64, a, None),
                estimate,
                meets_minimum: meets,
                no_events: false,
                units: (rb.len() as f64, ra.len() as f64),
                test: "Mann-Whitney",
                interval: "bootstrap percentile, resampling failed deployments",
            }
        }
        MetricKind::ChangeFailRate | MetricKind::ReworkRate => {
            let event: fn(&DeploymentSample) -> bool = if metric == MetricKind::ChangeFailRate {
                |d| d.failed
            } else {
                |d| d.unplanned
            };
            let (nb, na) = (b.deployments.len() as u64, a.deployments.len() as u64);
            let (eb, ea) = (b.count(event), a.count(event));
            let rate = |e: u64, n: u64| (n > 0).then(|| e as f64 / n as f64);
            let meets = nb >= MIN_DEPLOYMENTS && na >= MIN_DEPLOYMENTS;
            let estimate = if meets {
                stats::newcombe(ea, na, eb, nb).map(|e| {
                    (
                        Estimate {
                            p_value: stats::fisher_exact(ea, na - ea, eb, nb - eb),
                            ..e
                        },
                        Vec::new(),
                    )
                })
            } else {
                None
            };
            Compared {
                before: side(rate(eb, nb), nb, b, Some(eb)),
                after: side(rate(ea, na), na, a, Some(ea)),
                estimate,
                meets_minimum: meets,
                no_events: eb + ea == 0,
                units: (nb as f64, na as f64),
                test: "Fisher's exact test",
                interval: "Newcombe hybrid score (Wilson)",
            }
        }
    }
}

/// The lead-time interval allows for weeks that are alike (a busy week ships slowly, and so does
/// the next): the bootstrap resamples deployments as if weeks were independent, so its standard
/// error is floored at that of the difference of the windows' mean weekly log-medians. A week's
/// log-median is a latent AR(1) level plus the sampling noise of a median
/// ([`stats::LatentAr1`]; the noise variance from the bootstrap, the latent coefficient from the
/// bias-corrected lag-1 autocorrelation), and the floor carries the t quantile of Satterthwaite
/// degrees of freedom for the uncertain autocorrelation ([`stats::autocorrelation_df`]). When the
/// floor binds, the interval, the draws (for the difference in differences) and the rank test's z
/// are widened by the same factor.
fn weekly_floor(
    estimate: Estimate,
    draws: Vec<f64>,
    rank_z: Option<f64>,
    g: &Group<'_>,
) -> (Estimate, Vec<f64>) {
    let pre = g.before.weekly(MetricKind::ChangeLeadTime);
    let post = g.after.weekly(MetricKind::ChangeLeadTime);
    if (pre.len() as u32) < MIN_TREND_WEEKS || (post.len() as u32) < MIN_TREND_WEEKS {
        return (estimate, draws);
    }
    let (n0, n1) = (pre.len(), post.len());
    let mean = |w: &[(f64, f64, f64)]| w.iter().map(|p| p.1).sum::<f64>() / w.len() as f64;
    let (mean0, mean1) = (mean(&pre), mean(&post));
    let residuals: Vec<f64> = pre
        .iter()
        .map(|p| p.1 - mean0)
        .chain(post.iter().map(|p| p.1 - mean1))
        .collect();
    let series = TwoWindows::new(&pre, &post, (0, 1));
    let Some(observed) = stats::window_lag1(&residuals, &series.layout()) else {
        return (estimate, draws);
    };
    // A week's log-median is the week's level plus the sampling noise of a median, whose
    // variance the deployment bootstrap measures: per week about se² / (1/n₀ + 1/n₁). The rest
    // of the weekly variance is the level's, which carries the correlation.
    let noise = estimate.se.powi(2) / (1.0 / n0 as f64 + 1.0 / n1 as f64);
    let rss: f64 = residuals.iter().map(|v| v * v).sum();
    let n = (n0 + n1) as f64;
    // The residual variance allowing for the correlation the window means absorb (tr(M R) =
    // n − F₀ − F₁), solved by a few fixed-point steps (share and variance depend on each other).
    let variance_at = |latent: &stats::LatentAr1| {
        rss / (n - latent.sum_factor(n0) - latent.sum_factor(n1)).max(1.0)
    };
    let mut latent = stats::LatentAr1::new(observed, 1.0);
    for _ in 0..3 {
        let variance = variance_at(&latent);
        let share = if variance > 0.0 {
            1.0 - noise / variance
        } else {
            0.0
        };
        latent = stats::LatentAr1::new(observed, share);
    }
    let share = latent.share;
    let mean_variance = |observed: f64| {
        let latent = stats::LatentAr1::new(observed, share);
        variance_at(&latent)
            * (latent.sum_factor(n0) / n0 as f64 + latent.sum_factor(n1) / n1 as f64)
    };
    // The weekly estimate rests on few weeks and an uncertain autocorrelation: it carries the t
    // quantile of its Satterthwaite degrees of freedom ([`stats::autocorrelation_df`]).
    let df = stats::autocorrelation_df(mean_variance, latent.observed, n0 + n1 - 2, n - 2.0);
    let weekly_se =
        mean_variance(latent.observed).sqrt() * stats::t_quantile(0.975, df) / stats::Z95;
    if !(estimate.se > 0.0 && weekly_se > estimate.se) {
        return (estimate, draws);
    }
    let factor = weekly_se / estimate.se;
    let centre = estimate.estimate;
    let widened = Estimate {
        estimate: centre,
        low: centre - (centre - estimate.low) * factor,
        high: centre + (estimate.high - centre) * factor,
        se: weekly_se,
        p_value: rank_z.map_or(estimate.p_value, |z| stats::normal_p(z / factor)),
    };
    let draws = draws
        .into_iter()
        .map(|d| centre + (d - centre) * factor)
        .collect();
    (widened, draws)
}

// ---------------------------------------------------------------------------------------------
// Trend and comparison checks.
// ---------------------------------------------------------------------------------------------

/// Two weekly series laid end to end for the AR(1) fits ([`stats::wls_ar1`],
/// [`stats::window_lag1`]): their values, weights, weeks and window ids (correlation is allowed
/// within a window, not across).
struct TwoWindows {
    y: Vec<f64>,
    w: Vec<f64>,
    weeks: Vec<f64>,
    windows: Vec<u8>,
}

impl TwoWindows {
    fn new(first: &[(f64, f64, f64)], second: &[(f64, f64, f64)], ids: (u8, u8)) -> Self {
        let both = || first.iter().chain(second);
        Self {
            y: both().map(|p| p.1).collect(),
            w: both().map(|p| p.2).collect(),
            weeks: both().map(|p| p.0).collect(),
            windows: std::iter::repeat_n(ids.0, first.len())
                .chain(std::iter::repeat_n(ids.1, second.len()))
                .collect(),
        }
    }

    fn layout(&self) -> stats::WeeklyLayout<'_> {
        stats::WeeklyLayout {
            weeks: &self.weeks,
            windows: &self.windows,
        }
    }
}

/// Sign of an effect on the analysis scale that counts as "in the direction of `direction`".
fn same_direction(value: f64, direction: f64) -> bool {
    value * direction > 0.0
}

fn trend_check(metric: MetricKind, g: &Group<'_>, direction: f64) -> TrendCheck {
    let scale = metric.scale();
    let pre = g.before.weekly(metric);
    let post = g.after.weekly(metric);
    let mut check = TrendCheck {
        weeks_before: pre.len() as u32,
        weeks_after: post.len() as u32,
        pre_slope: None,
        level_change: None,
        slope_change: None,
        effect_beyond_trend: None,
        effect_beyond_trend_se: None,
        trend_share: None,
        residual_autocorrelation: None,
        autocorrelation: None,
        finding: TrendFinding::NotEstimable,
    };
    if (pre.len() as u32) < MIN_TREND_WEEKS || (post.len() as u32) < MIN_TREND_WEEKS {
        return check;
    }
    let weighted_mean = |points: &[(f64, f64, f64)], value: fn(&(f64, f64, f64)) -> f64| {
        let total: f64 = points.iter().map(|p| p.2).sum();
        (total > 0.0).then(|| points.iter().map(|p| p.2 * value(p)).sum::<f64>() / total)
    };
    let (Some(t_pre), Some(t_post), Some(y_pre), Some(y_post)) = (
        weighted_mean(&pre, |p| p.0),
        weighted_mean(&post, |p| p.0),
        weighted_mean(&pre, |p| p.1),
        weighted_mean(&post, |p| p.1),
    ) else {
        return check;
    };
    let series = TwoWindows::new(&pre, &post, (0, 1));
    let (y, w, layout) = (&series.y, &series.w, series.layout());
    // Descriptive: y = b0 + b1 t + b2 post + b3 post t, separate lines before and after; the level
    // change at the date is b2 and the slope change b3.
    let rows: Vec<Vec<f64>> = pre
        .iter()
        .map(|&(t, _, _)| vec![1.0, t, 0.0, 0.0])
        .chain(post.iter().map(|&(t, _, _)| vec![1.0, t, 1.0, t]))
        .collect();
    if let Some(fit) = stats::wls_ar1(&rows, y, w, &layout) {
        check.pre_slope = Some(Interval::from(scale, &fit.estimate(1)));
        check.level_change = Some(Interval::from(scale, &fit.estimate(2)));
        check.slope_change = Some(Interval::from(scale, &fit.estimate(3)));
    }
    // The test: y = c0 + c1 t + c2 post, one trend through both windows and a shift. c2 is how far
    // the after window sits from where the before trend, continued, would have taken it; it equals
    // the observed change minus the projected trend, c1 (t̄post − t̄pre), with weighted means.
    let rows: Vec<Vec<f64>> = pre
        .iter()
        .map(|&(t, _, _)| vec![1.0, t, 0.0])
        .chain(post.iter().map(|&(t, _, _)| vec![1.0, t, 1.0]))
        .collect();
    let Some(fit) = stats::wls_ar1(&rows, y, w, &layout) else {
        return check;
    };
    let slope = fit.estimate(1);
    let beyond = fit.estimate(2);
    check.effect_beyond_trend = Some(Interval::from(scale, &beyond));
    check.effect_beyond_trend_se = Some(beyond.se);
    check.residual_autocorrelation = Some(fit.residual_autocorrelation);
    check.autocorrelation = Some(fit.corrected_autocorrelation);
    let observed = y_post - y_pre;
    let projected = slope.estimate * (t_post - t_pre);
    check.trend_share = (observed.abs() > 1e-12).then(|| projected / observed);
    let significant = beyond.p_value < 0.05 && beyond.excludes_zero();
    check.finding = if significant && same_direction(beyond.estimate, direction) {
        TrendFinding::Supports
    } else if significant {
        TrendFinding::Contradicts
    } else if same_direction(observed, direction)
        && same_direction(projected, direction)
        && projected.abs() >= 0.5 * observed.abs()
    {
        TrendFinding::AlreadyTrending
    } else {
        TrendFinding::Inconclusive
    };
    check
}

/// Parallel before trends: the p-value of the group × time interaction on weekly values.
fn parallel_trends(metric: MetricKind, subject: &Group<'_>, comparison: &Group<'_>) -> Option<f64> {
    let s = subject.before.weekly(metric);
    let c = comparison.before.weekly(metric);
    if (s.len() as u32) < MIN_TREND_WEEKS || (c.len() as u32) < MIN_TREND_WEEKS {
        return None;
    }
    let rows: Vec<Vec<f64>> = s
        .iter()
        .map(|&(t, _, _)| vec![1.0, t, 1.0, t])
        .chain(c.iter().map(|&(t, _, _)| vec![1.0, t, 0.0, 0.0]))
        .collect();
    let series = TwoWindows::new(&s, &c, (0, 2));
    let (y, w, layout) = (&series.y, &series.w, series.layout());
    stats::wls_ar1(&rows, y, w, &layout).map(|fit| fit.estimate(3).p_value)
}

fn comparison_check(
    metric: MetricKind,
    subject: &Group<'_>,
    subject_cmp: &Compared,
    comparison: &Group<'_>,
    options: &ImpactOptions,
    rng: &mut Pcg64,
    direction: f64,
) -> ComparisonCheck {
    let scale = metric.scale();
    let other = compare(metric, comparison, options, rng);
    let mut check = ComparisonCheck {
        before: other.before.clone(),
        after: other.after.clone(),
        change: other
            .estimate
            .as_ref()
            .map(|(e, _)| Interval::from(scale, e)),
        difference_in_differences: None,
        difference_in_differences_se: None,
        parallel_trends_p: parallel_trends(metric, subject, comparison),
        finding: ComparisonFinding::NotEnoughData,
    };
    let (Some((s, s_draws)), Some((c, c_draws))) = (&subject_cmp.estimate, &other.estimate) else {
        return check;
    };
    let did = s.estimate - c.estimate;
    let did_estimate = if !s_draws.is_empty() && !c_draws.is_empty() {
        let draws: Vec<f64> = s_draws.iter().zip(c_draws).map(|(a, b)| a - b).collect();
        match stats::percentile_interval(&draws) {
            Some((low, high, se)) => Estimate {
                estimate: did,
                low,
                high,
                se,
                p_value: if se > 0.0 {
                    stats::normal_p(did / se)
                } else {
                    1.0
                },
            },
            None => Estimate::normal(did, (s.se.powi(2) + c.se.powi(2)).sqrt()),
        }
    } else {
        Estimate::normal(did, (s.se.powi(2) + c.se.powi(2)).sqrt())
    };
    check.difference_in_differences = Some(Interval::from(scale, &did_estimate));
    check.difference_in_differences_se = Some(did_estimate.se);
    let significant = did_estimate.p_value < 0.05 && did_estimate.excludes_zero();
    check.finding = if check.parallel_trends_p.is_some_and(|p| p < 0.10) {
        ComparisonFinding::TrendsNotParallel
    } else if significant && same_direction(did, direction) {
        ComparisonFinding::Supports
    } else if significant {
        ComparisonFinding::Contradicts
    } else if same_direction(c.estimate, direction) && c.estimate.abs() >= 0.5 * s.estimate.abs() {
        ComparisonFinding::MovedToo
    } else {
        ComparisonFinding::Inconclusive
    };
    check
}

// ---------------------------------------------------------------------------------------------
// Power.
// ---------------------------------------------------------------------------------------------

/// The units, minimum and reference effect of a metric's power note.
fn power_unit(metric: MetricKind) -> (&'static str, u64) {
    match metric {
        MetricKind::DeploymentFrequency => ("weeks", MIN_WEEKS),
        MetricKind::ChangeLeadTime => ("changes", MIN_CHANGES),
        MetricKind::FailedDeploymentRecoveryTime => ("recoveries", MIN_RECOVERIES),
        _ => ("deployments", MIN_DEPLOYMENTS),
    }
}

/// Everything a power note is computed from.
struct PowerInputs<'x, 'a> {
    metric: MetricKind,
    family: usize,
    c: &'x Compared,
    g: &'x Group<'a>,
    cg: Option<(&'x Group<'a>, &'x ComparisonCheck)>,
    trend: &'x TrendCheck,
    comparison: Option<&'x ComparisonCheck>,
    design: &'x Design,
    power: &'x PowerOptions,
    seed: u64,
}

impl PowerInputs<'_, '_> {
    fn sources(&self) -> (power::Source<'_, '_>, Option<power::Source<'_, '_>>) {
        let subject = power::Source {
            group: self.g,
            before_value: self.c.before.value,
            after_value: self.c.after.value,
        };
        let comparison = self
            .cg
            .filter(|(_, check)| check.finding != ComparisonFinding::NotEnoughData)
            .map(|(group, check)| power::Source {
                group,
                before_value: check.before.value,
                after_value: check.after.value,
            });
        (subject, comparison)
    }

    fn simulate(&self, effect: f64, extra_weeks: u32, simulations: usize) -> Option<f64> {
        let (subject, comparison) = self.sources();
        power::simulated_power(
            self.metric,
            self.family,
            &subject,
            comparison.as_ref(),
            self.design,
            effect,
            extra_weeks,
            simulations,
            self.power.resamples,
            self.seed,
        )
    }
}

/// What would make a verdict reachable when a check it needs cannot run, or `None`.
fn unreachable_because(metric: MetricKind, trend: &TrendCheck, g: &Group<'_>) -> Option<String> {
    if trend.finding != TrendFinding::NotEstimable {
        return None;
    }
    let name = metric.label();
    let mut needs = Vec::new();
    if trend.weeks_before < MIN_TREND_WEEKS {
        needs.push(format!(
            "a longer --before, if the records reach back ({} with a value before the change)",
            counted_unit(trend.weeks_before.into(), "weeks")
        ));
    }
    if trend.weeks_after < MIN_TREND_WEEKS {
        let short = MIN_TREND_WEEKS - trend.weeks_after;
        // Weeks with a value come at the after window's pace.
        let weeks = g.after.weeks.len().max(1) as f64;
        let share = f64::from(trend.weeks_after.max(1)) / weeks;
        let more = (f64::from(short) / share.min(1.0)).ceil() as u64;
        needs.push(format!(
            "about {} more after the change ({} with a value so far)",
            counted_unit(more, "weeks"),
            counted_unit(trend.weeks_after.into(), "weeks")
        ));
    }
    Some(format!(
        "{name}: the verdict cannot be reached yet, whatever the effect: the trend check needs {MIN_TREND_WEEKS} weeks with values in each window; {} would make it reachable",
        needs.join(" and ")
    ))
}

fn power_note(x: &PowerInputs<'_, '_>) -> PowerNote {
    let (metric, c, g) = (x.metric, x.c, x.g);
    let (unit, minimum) = power_unit(metric);
    let reference = reference_effect(metric, c.before.value);
    let scale = metric.scale();
    let reference_analysis = match scale {
        Scale::Ratio => reference.ln(),
        Scale::Difference => reference,
    };
    let weeks_after = g.after.weeks.len() as f64;
    let mut note = PowerNote {
        reference_effect: reference,
        meets_minimum: c.meets_minimum,
        ..PowerNote::empty(unit, minimum)
    };
    if !c.meets_minimum {
        // Only the after window grows with time; a short before window needs a longer --before.
        let more = minimum.saturating_sub(c.after.n) as f64;
        note.more_needed = Some(more);
        let pace = c.after.n as f64 / weeks_after.max(1.0);
        note.more_weeks = if metric == MetricKind::DeploymentFrequency {
            Some(more)
        } else if more == 0.0 {
            Some(0.0)
        } else if pace > 0.0 {
            Some((more / pace).ceil())
        } else {
            None
        };
        return note;
    }
    let Some((e, _)) = &c.estimate else {
        return note;
    };
    // The largest standard error among the tests the verdict needs: a lower bound on what can be
    // detected (the simulated power below is what the whole procedure achieves).
    let tests = verdict_tests(e.se, x.trend, x.comparison);
    let limiting = tests
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(("before/after", e.se));
    note.limiting_test = Some(limiting.0);
    note.limiting_se = Some(limiting.1);
    let direction = if metric.higher_is_better() { 1.0 } else { -1.0 };
    note.minimum_detectable =
        Some(scale.natural(direction * stats::minimum_detectable(limiting.1)));
    if c.no_events || reference_analysis == 0.0 || !reference_analysis.is_finite() {
        // A before rate of zero: nothing to halve.
        note.reference_effect = 0.0;
        return note;
    }
    note.unreachable = unreachable_because(metric, x.trend, g);
    if note.unreachable.is_some() {
        note.power = Some(0.0);
        note.simulations = Some(0);
        return note;
    }
    let sims = x.power.simulations;
    note.power = x.simulate(reference_analysis, 0, sims);
    note.simulations = note.power.map(|_| sims);
    if x.power.search_more_weeks && note.power.is_some_and(|p| p < 0.8) {
        let (subject, comparison) = x.sources();
        let weeks = power::weeks_for_power(
            metric,
            x.family,
            &subject,
            comparison.as_ref(),
            x.design,
            reference_analysis,
            note.power.unwrap_or(0.0),
            (sims / 2).max(50),
            x.power.resamples,
            x.seed,
        );
        let (_, units_after) = c.units;
        match weeks {
            Some(w) => {
                let factor = (weeks_after + f64::from(w)) / weeks_after.max(1.0);
                let needed = (units_after * factor).ceil();
                note.needed_per_window = Some(needed);
                note.more_needed = Some((needed - units_after).max(0.0));
                note.more_weeks = Some(f64::from(w));
            }
            None => note.beyond_search = true,
        }
    } else if note.power.is_some() {
        let (_, units_after) = c.units;
        note.needed_per_window = Some(units_after);
        note.more_needed = Some(0.0);
        note.more_weeks = Some(0.0);
    }
    note
}

// ---------------------------------------------------------------------------------------------
// The analysis.
// ---------------------------------------------------------------------------------------------

/// Analyses the `subject` group (the services that changed practice) against its own past and,
/// when given, against a `comparison` group, over the windows of `design`.
///
/// Deterministic: the bootstrap is seeded from `options.seed`, one stream per metric.
pub fn analyze(
    subject: &GroupHistory,
    comparison: Option<&GroupHistory>,
    design: &Design,
    options: &ImpactOptions,
) -> ImpactAnalysis {
    analyze_with_power(
        subject,
        comparison,
        design,
        options,
        &PowerOptions::default(),
    )
}

/// The power of the whole verdict procedure for `metric` against a true `effect` (on the analysis
/// scale: a log ratio or a difference, in the good direction), simulated as the power note does
/// from these histories (see [`power`]). `None` when the metric has no estimate.
pub fn simulate_power(
    subject: &GroupHistory,
    comparison: Option<&GroupHistory>,
    design: &Design,
    options: &ImpactOptions,
    metric: MetricKind,
    effect: f64,
    power: &PowerOptions,
) -> Option<f64> {
    let no_search = PowerOptions {
        simulations: 0,
        ..*power
    };
    let analysis = analyze_with_power(subject, comparison, design, options, &no_search);
    let m = analysis.metrics.iter().find(|m| m.metric == metric)?;
    // The metric's own Holm family: every metric tested, or its primary or secondary family.
    let family = m
        .effect
        .as_ref()
        .filter(|e| e.in_holm_family)?
        .tested_together;
    if unreachable_because(metric, &m.trend, &Group::new(subject, design)).is_some() {
        return Some(0.0);
    }
    let g = Group::new(subject, design);
    let cg = comparison.map(|c| Group::new(c, design));
    let k = MetricKind::ALL
        .iter()
        .position(|x| *x == metric)
        .unwrap_or(0);
    let subject_source = power::Source {
        group: &g,
        before_value: m.before.value,
        after_value: m.after.value,
    };
    let comparison_source = cg
        .as_ref()
        .zip(m.comparison.as_ref())
        .and_then(|(group, c)| {
            (c.finding != ComparisonFinding::NotEnoughData).then_some(power::Source {
                group,
                before_value: c.before.value,
                after_value: c.after.value,
            })
        });
    power::simulated_power(
        metric,
        family,
        &subject_source,
        comparison_source.as_ref(),
        design,
        effect,
        0,
        power.simulations,
        power.resamples,
        power_seed(options.seed, k),
    )
}

fn power_seed(seed: u64, k: usize) -> u64 {
    seed ^ ((k as u64 + 1) << 48) ^ 0x5eed
}

/// [`analyze`] with the power note simulated as `power` says.
pub fn analyze_with_power(
    subject: &GroupHistory,
    comparison: Option<&GroupHistory>,
    design: &Design,
    options: &ImpactOptions,
    power: &PowerOptions,
) -> ImpactAnalysis {
    let g = Group::new(subject, design);
    let cg = comparison.map(|c| Group::new(c, design));
    let mut compared = Vec::new();
    for (k, metric) in MetricKind::ALL.into_iter().enumerate() {
        let mut rng = Pcg64::seed_from_u64(options.seed ^ ((k as u64 + 1) << 56));
        let c = compare(metric, &g, options, &mut rng);
        compared.push((metric, c, rng));
    }
    // Holm across the metrics that were tested: one family, or, with primary metrics, the
    // primary ones and the secondary ones each on their own.
    let tested: Vec<(usize, f64)> = compared
        .iter()
        .enumerate()
        .filter(|(_, (_, c, _))| !c.no_events)
        .filter_map(|(i, (_, c, _))| c.estimate.as_ref().map(|(e, _)| (i, e.p_value)))
        .collect();
    let primary = options.primary;
    let kinds: Vec<MetricKind> = compared.iter().map(|c| c.0).collect();
    let family_of = |i: usize| {
        (!primary.is_empty()).then(|| {
            if primary.contains(kinds[i]) {
                TestFamily::Primary
            } else {
                TestFamily::Secondary
            }
        })
    };
    let mut p_adjusted = vec![None; compared.len()];
    let mut family_size = vec![0usize; compared.len()];
    let families: Vec<Option<TestFamily>> = if primary.is_empty() {
        vec![None]
    } else {
        vec![Some(TestFamily::Primary), Some(TestFamily::Secondary)]
    };
    for family in families {
        let members: Vec<(usize, f64)> = tested
            .iter()
            .copied()
            .filter(|(i, _)| family_of(*i) == family)
            .collect();
        let adjusted = stats::holm(&members.iter().map(|t| t.1).collect::<Vec<_>>());
        for ((i, _), adj) in members.iter().zip(adjusted) {
            p_adjusted[*i] = Some(adj);
        }
        for (i, _) in compared.iter().enumerate() {
            if family_of(i) == family {
                family_size[i] = members.len();
            }
        }
    }

    let mut metrics = Vec::new();
    for (i, (metric, c, mut rng)) in compared.into_iter().enumerate() {
        let scale = metric.scale();
        let good = if metric.higher_is_better() { 1.0 } else { -1.0 };
        // The direction the checks look in: the effect's, or "improvement" when there is none.
        let direction = c
            .estimate
            .as_ref()
            .map(|(e, _)| e.estimate.signum())
            .filter(|s| *s != 0.0)
            .unwrap_or(good);
        let trend = trend_check(metric, &g, direction);
        let comparison = cg
            .as_ref()
            .map(|cg| comparison_check(metric, &g, &c, cg, options, &mut rng, direction));
        let power = power_note(&PowerInputs {
            metric,
            family: family_size[i],
            c: &c,
            g: &g,
            cg: cg.as_ref().zip(comparison.as_ref()),
            trend: &trend,
            comparison: comparison.as_ref(),
            design,
            power,
            seed: power_seed(options.seed, i),
        });
        let effect = c.estimate.as_ref().map(|(e, _)| Effect {
            estimate: scale.natural(e.estimate),
            low: scale.natural(e.low),
            high: scale.natural(e.high),
            se: e.se,
            p_value: e.p_value,
            p_adjusted: p_adjusted[i].unwrap_or(1.0),
            tested_together: family_size[i],
            family: family_of(i),
            in_holm_family: !c.no_events,
            test: c.test,
            interval: c.interval,
        });
        let (verdict, caveats) = verdict(
            metric,
            &c,
            p_adjusted[i],
            &trend,
            comparison.as_ref(),
            &power,
        );
        metrics.push(MetricImpact {
            metric,
            scale,
            before: c.before,
            after: c.after,
            effect,
            trend,
            comparison,
            power,
            verdict,
            caveats,
        });
    }
    ImpactAnalysis {
        design: *design,
        options: *options,
        metrics,
        caveats: design_caveats(design, comparison.is_some()),
    }
}

fn design_caveats(design: &Design, has_comparison: bool) -> Vec<Caveat> {
    let mut out = Vec::new();
    if design.transition_days > 0.0 {
        out.push(caveat(
            "transition-excluded",
            format!(
                "the {} days right after the change are left out as a transition period",
                fmt_days(design.transition_days)
            ),
        ));
    }
    if design.before_limited_by_records {
        out.push(caveat(
            "before-window-shortened",
            format!(
                "the records start later than the before window would, so it covers {} instead of {}",
                counted_unit(design.before_weeks.into(), "weeks"),
                counted_unit(design.requested_before_weeks.into(), "weeks")
            ),
        ));
    }
    match design.after_limited_by {
        Some(AfterLimit::Now) if design.after_weeks < design.requested_after_weeks => {
            out.push(caveat(
                "after-window-shortened",
                format!(
                    "the after window covers the {} observed so far, not the {} asked for",
                    counted_unit(design.after_weeks.into(), "whole weeks"),
                    counted_unit(design.requested_after_weeks.into(), "weeks")
                ),
            ))
        }
        Some(AfterLimit::LastRecord) => out.push(caveat(
            "after-window-at-last-record",
            format!(
                "the records end on {}, so the after window stops at the last record ({}, not the {} asked for): later weeks would count as weeks without deployments; if the records are complete to --until, pass --data-complete",
                design
                    .records_end
                    .map_or_else(String::new, |t| t.strftime("%-d %B %Y").to_string()),
                counted_unit(design.after_weeks.into(), "whole weeks"),
                counted_unit(design.requested_after_weeks.into(), "weeks")
            ),
        )),
        Some(AfterLimit::PracticeEnded) => out.push(caveat(
            "practice-ended",
            format!(
                "the practice ended, so the after window stops there ({})",
                counted_unit(design.after_weeks.into(), "weeks")
            ),
        )),
        _ => {}
    }
    if !has_comparison {
        out.push(caveat(
            "no-comparison-group",
            "there is no comparison group, so changes that hit every service at the same time (a new CI system, a holiday season) cannot be told apart from the practice's effect".to_owned(),
        ));
    }
    out
}

/// `n` of a plural `unit` (`weeks`, `changes`, `deployments`, `recoveries`, `metrics`), singular
/// when `n` is 1: `1 week`, `3 weeks`, `1 recovery`.
pub fn counted_unit(n: u64, unit: &str) -> String {
    if n != 1 {
        return format!("{n} {unit}");
    }
    let one = if let Some(stem) = unit.strip_suffix("ies") {
        format!("{stem}y")
    } else {
        unit.strip_suffix('s').unwrap_or(unit).to_owned()
    };
    format!("1 {one}")
}

fn fmt_days(days: f64) -> String {
    if days.fract() == 0.0 {
        format!("{days:.0}")
    } else {
        format!("{days:.1}")
    }
}

fn verdict(
    metric: MetricKind,
    c: &Compared,
    p_adjusted: Option<f64>,
    trend: &TrendCheck,
    comparison: Option<&ComparisonCheck>,
    power: &PowerNote,
) -> (Verdict, Vec<Caveat>) {
    let mut caveats = Vec::new();
    let name = metric.label();
    let Some((estimate, _)) = c.estimate.as_ref().filter(|_| c.meets_minimum) else {
        let mut text = format!(
            "{name}: {} before and {} after, fewer than the {} needed in each window",
            counted_unit(c.before.n, power.unit),
            counted_unit(c.after.n, power.unit),
            power.minimum
        );
        if c.before.n < power.minimum {
            text.push_str(
                "; the before window is short (a longer --before helps if the records reach back)",
            );
        }
        if c.after.n < power.minimum
            && let Some(weeks) = power.more_weeks
        {
            let more = power.more_needed.unwrap_or(0.0).max(0.0) as u64;
            let _ = write!(
                text,
                "; about {} more {} needed after the change, roughly {} more",
                counted_unit(more, power.unit),
                if more == 1 { "is" } else { "are" },
                counted_unit(weeks.max(0.0) as u64, "weeks")
            );
        }
        caveats.push(caveat("not-enough-data", text));
        return (Verdict::NotEnoughData, caveats);
    };
    if c.no_events {
        let what = match metric {
            MetricKind::ChangeFailRate => "failed deployments",
            _ => "unplanned deployments (hotfixes, rollbacks)",
        };
        caveats.push(caveat(
            "no-events",
            format!(
                "{name}: no {what} in either window, so there is nothing to compare; it is left out of the metrics tested together"
            ),
        ));
        return (Verdict::NoDetectableChange, caveats);
    }
    let p = p_adjusted.unwrap_or(1.0);
    let significant = p < 0.05 && estimate.excludes_zero();
    let improving = same_direction(
        estimate.estimate,
        if metric.higher_is_better() { 1.0 } else { -1.0 },
    );
    let beyond = trend
        .effect_beyond_trend
        .map(|b| {
            format!(
                "; measured against that trend, the after window is {}",
                describe_interval(metric.scale(), &b)
            )
        })
        .unwrap_or_default();
    // Whether the checks let the practice take the credit for a significant change. Their caveats
    // are only stated for a significant change: they say why it is or is not credited.
    let mut credited = true;
    let mut checks = Vec::new();
    match trend.finding {
        TrendFinding::Supports => {}
        TrendFinding::AlreadyTrending => {
            credited = false;
            checks.push(caveat(
                "already-trending",
                format!(
                    "{name} was already moving this way before the change: the before trend, projected forward, accounts for {:.0}% of the difference{beyond}",
                    trend.trend_share.unwrap_or(0.0) * 100.0
                ),
            ));
        }
        TrendFinding::Inconclusive => {
            credited = false;
            checks.push(caveat(
                "trend-inconclusive",
                format!(
                    "{name}: the weekly values cannot tell the change apart from a continuing before trend{beyond}"
                ),
            ));
        }
        TrendFinding::Contradicts => {
            credited = false;
            checks.push(caveat(
                "trend-contradicts",
                format!(
                    "{name}: allowing for the before trend, the weekly values moved the other way{beyond}"
                ),
            ));
        }
        TrendFinding::NotEstimable => {
            // Less data must not mean fewer checks: an unchecked trend is not ruled out.
            credited = false;
            checks.push(caveat(
                "trend-not-checked",
                format!(
                    "{name}: too few weekly values to check for a pre-existing trend (needs {MIN_TREND_WEEKS} weeks with values in each window), so one cannot be ruled out"
                ),
            ));
        }
    }
    let autocorrelated = trend
        .autocorrelation
        .filter(|r| *r > AUTOCORRELATION_CAVEAT)
        .map(|r| {
            caveat(
                "autocorrelated-weeks",
                format!(
                    "{name}: consecutive weeks are alike (lag-1 autocorrelation {r:.2}, corrected for the bias of a short series), so the intervals are widened to allow for it; with this few weeks that allowance is itself uncertain"
                ),
            )
        });
    if let Some(cmp) = comparison {
        let did = cmp
            .difference_in_differences
            .map(|d| {
                format!(
                    "; the difference in differences is {}",
                    describe_interval(metric.scale(), &d)
                )
            })
            .unwrap_or_default();
        match cmp.finding {
            ComparisonFinding::Supports => {}
            ComparisonFinding::MovedToo => {
                credited = false;
                checks.push(caveat(
                    "comparison-moved-too",
                    format!(
                        "{name}: the comparison group, which did not change practice, moved the same way by at least half as much{did}"
                    ),
                ));
            }
            ComparisonFinding::Inconclusive => {
                credited = false;
                checks.push(caveat(
                    "comparison-inconclusive",
                    format!(
                        "{name}: the change cannot be told apart from what the comparison group did{did}"
                    ),
                ));
            }
            ComparisonFinding::Contradicts => {
                credited = false;
                checks.push(caveat(
                    "comparison-contradicts",
                    format!("{name}: relative to the comparison group the change went the other way{did}"),
                ));
            }
            ComparisonFinding::TrendsNotParallel => {
                credited = false;
                checks.push(caveat(
                    "trends-not-parallel",
                    format!(
                        "{name}: the two groups' before trends differ (p = {:.2}), so the comparison group cannot show what would have happened without the practice",
                        cmp.parallel_trends_p.unwrap_or(0.0)
                    ),
                ));
            }
            ComparisonFinding::NotEnoughData => checks.push(caveat(
                "comparison-not-enough-data",
                format!("{name}: the comparison group has too little data for this metric"),
            )),
        }
    }
    if significant {
        caveats.append(&mut checks);
    }
    caveats.extend(autocorrelated);
    if c.before.n < 2 * power.minimum || c.after.n < 2 * power.minimum {
        caveats.push(caveat(
            "small-sample",
            format!(
                "{name}: small samples ({} before, {} after), so the interval is wide and its approximations rough",
                counted_unit(c.before.n, power.unit),
                counted_unit(c.after.n, power.unit)
            ),
        ));
    }
    if let Some(text) = &power.unreachable {
        caveats.push(caveat("verdict-unreachable", text.clone()));
    } else if !(significant && credited)
        && let Some(power_now) = power.power.filter(|p| *p < 0.8)
    {
        caveats.push(caveat(
            "low-power",
            format!(
                "{name}: with this much data a change of {} would be detected {} of the time (in {} simulated verdicts)",
                describe_reference(metric, power.reference_effect),
                power_words(power_now, power.simulations.unwrap_or(0)),
                power.simulations.unwrap_or(0)
            ),
        ));
    }
    let verdict = match (significant && credited, improving) {
        (false, _) => Verdict::NoDetectableChange,
        (true, true) => Verdict::Improved,
        (true, false) => Verdict::Worse,
    };
    (verdict, caveats)
}

/// A simulated power in words: "only 62%", or, when no simulated verdict detected it, "less than
/// 1.5%" (the rule of three: with none in 200, the true share is below 3/200 with 95% confidence).
pub fn power_words(power: f64, simulations: usize) -> String {
    if power == 0.0 && simulations > 0 {
        let bound = 300.0 / simulations as f64;
        format!("less than {}%", fmt_days((bound * 10.0).ceil() / 10.0))
    } else if power < 0.01 {
        format!("only about {:.1}%", power * 100.0)
    } else {
        format!("only {:.0}%", power * 100.0)
    }
}

/// An interval in words: `×0.52 (95% CI ×0.41 to ×0.66)` or `−8.1 points (95% CI −12.0 to −4.2)`.
pub fn describe_interval(scale: Scale, i: &Interval) -> String {
    match scale {
        Scale::Ratio => format!(
            "×{:.2} (95% CI ×{:.2} to ×{:.2})",
            i.estimate, i.low, i.high
        ),
        Scale::Difference => format!(
            "{} points (95% CI {} to {})",
            signed(i.estimate * 100.0),
            signed(i.low * 100.0),
            signed(i.high * 100.0)
        ),
    }
}

/// A number with one decimal and a sign, the minus sign typographic: `+6.1`, `−4.0`.
fn signed(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    let sign = if rounded < 0.0 { "−" } else { "+" };
    format!("{sign}{:.1}", rounded.abs())
}

/// The reference effect in words, e.g. "×1.5" or "−30%".
fn describe_reference(metric: MetricKind, reference: f64) -> String {
    match metric.scale() {
        Scale::Ratio => {
            let p = ((reference - 1.0) * 100.0).round();
            format!("{}{:.0}%", if p < 0.0 { "−" } else { "+" }, p.abs())
        }
        Scale::Difference => format!("{} percentage points", signed(reference * 100.0)),
    }
}

#[cfg(test)]
mod tests;
