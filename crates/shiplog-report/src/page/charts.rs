//! The report's charts, as inline SVG written with maud.
//!
//! Written by hand, on purpose: the charts must carry a `<title>` on every point (the counts
//! behind it, shown on hover with no script), `<title>`/`<desc>` and ARIA roles on each chart, and
//! colours from CSS custom properties so that one SVG follows the page's light or dark theme.
//! plotters' SVG backend (the kept plotting crate) writes fixed colours and no per-element titles,
//! so it cannot do either; the geometry here is a few linear scales and nice ticks.
//!
//! Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies), and every
//! distinction drawn in colour is also drawn in shape or dash (failed deployments are triangles,
//! unrecovered spans dashed, missing periods hatched).

use jiff::Timestamp;
use maud::{Markup, html};

use super::model::{Marker, Metric, StagePoint, Timeline, Trend, Unit, format_value};

const WIDTH: f64 = 720.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 22.0;

/// A number with at most one decimal, without a trailing `.0`: short SVG.
fn n(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Tick step for an axis from 0 to `max` in `unit`: 1-2-5 steps, or whole durations.
fn tick_step(unit: Unit, max: f64) -> f64 {
    let target = max / 4.0;
    if unit == Unit::Seconds {
        const STEPS: [f64; 16] = [
            60.0,
            300.0,
            600.0,
            1800.0,
            3600.0,
            7200.0,
            14_400.0,
            21_600.0,
            43_200.0,
            86_400.0,
            172_800.0,
            259_200.0,
            604_800.0,
            1_209_600.0,
            2_592_000.0,
            7_776_000.0,
        ];
        return STEPS
            .iter()
            .copied()
            .find(|&s| s >= target)
            .unwrap_or(31_536_000.0);
    }
    let target = target.max(1e-9);
    let magnitude = 10f64.powf(target.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= target)
        .unwrap_or(10.0 * magnitude)
}

/// A tick label: `6 h`, `2 d`, `25 %`, `3.5`.
fn tick_label(unit: Unit, value: f64, step: f64) -> String {
    match unit {
        Unit::Seconds => {
            if step >= 86_400.0 {
                format!("{} d", n(value / 86_400.0))
            } else if step >= 3600.0 {
                format!("{} h", n(value / 3600.0))
            } else {
                format!("{} min", n(value / 60.0))
            }
        }
        Unit::Proportion => format!("{} %", n(value * 100.0)),
        Unit::PerWeek => n(value),
    }
}

/// The y axis's title.
fn axis_title(unit: Unit) -> &'static str {
    match unit {
        Unit::PerWeek => "deployments per week",
        Unit::Seconds => "median duration",
        Unit::Proportion => "share of deployments",
    }
}

/// A y scale from 0 to a nice maximum.
struct YScale {
    unit: Unit,
    max: f64,
    step: f64,
    top: f64,
    bottom: f64,
}

impl YScale {
    fn new(unit: Unit, data_max: f64, top: f64, bottom: f64) -> Self {
        let data_max = if data_max > 0.0 {
            data_max
        } else {
            match unit {
                Unit::Seconds => 3600.0,
                Unit::Proportion => 0.1,
                Unit::PerWeek => 1.0,
            }
        };
        let step = tick_step(unit, data_max);
        let max = (data_max / step).ceil().max(1.0) * step;
        Self {
            unit,
            max,
            step,
            top,
            bottom,
        }
    }

    fn y(&self, v: f64) -> f64 {
        self.bottom - (v / self.max) * (self.bottom - self.top)
    }

    fn axis(&self, left: f64, right: f64) -> Markup {
        let ticks = (self.max / self.step).round() as usize;
        html! {
            g class="axis y" {
                @for k in 0..=ticks {
                    @let v = k as f64 * self.step;
                    @let y = self.y(v);
                    line class="grid" x1=(n(left)) x2=(n(right)) y1=(n(y)) y2=(n(y)) {}
                    text x=(n(left - 6.0)) y=(n(y + 4.0)) text-anchor="end" { (tick_label(self.unit, v, self.step)) }
                }
                text class="axis-title" x=(n(left)) y=(n(self.top - 8.0)) text-anchor="start" { (axis_title(self.unit)) }
            }
        }
    }
}

/// The x position of time `at` in a row of equal period bands.
fn period_x(points: &[(Timestamp, Timestamp)], at: Timestamp, left: f64, band: f64) -> Option<f64> {
    let k = points.iter().position(|(s, u)| *s <= at && at < *u)?;
    let (s, u) = points[k];
    let span = (u.as_second() - s.as_second()).max(1) as f64;
    let frac = (at.as_second() - s.as_second()) as f64 / span;
    Some(left + band * (k as f64 + frac))
}

fn markers_layer(
    markers: &[Marker],
    x: impl Fn(Timestamp) -> Option<f64>,
    top: f64,
    bottom: f64,
) -> Markup {
    html! {
        @for (k, m) in markers.iter().enumerate() {
            @if let Some(px) = x(m.at) {
                g class="marker" data-marker=(m.name) {
                    title { (m.name) " — from " (m.at.strftime("%Y-%m-%d")) " (" (m.services) ")" }
                    line x1=(n(px)) x2=(n(px)) y1=(n(top)) y2=(n(bottom)) {}
                    text x=(n(px + 3.0)) y=(n(top + 10.0 + 11.0 * (k % 3) as f64)) { (m.name) }
                }
            }
        }
    }
}

/// A metric's trend: a line through the periods with data, a hatched band where data is missing,
/// and the practice-change markers.
pub fn trend_chart(trend: &Trend, markers: &[Marker], id: &str) -> Markup {
    let height = 230.0;
    let bottom = height - 36.0;
    let right = WIDTH - RIGHT;
    let count = trend.points.len().max(1);
    let band = (right - LEFT) / count as f64;
    let data_max = trend
        .points
        .iter()
        .filter_map(|p| p.value)
        .fold(0.0_f64, f64::max);
    let y = YScale::new(trend.unit, data_max, TOP + 8.0, bottom);
    let xs: Vec<f64> = (0..trend.points.len())
        .map(|k| LEFT + band * (k as f64 + 0.5))
        .collect();
    // Line segments through consecutive points with data.
    let mut path = String::new();
    let mut pen_down = false;
    for (p, &px) in trend.points.iter().zip(&xs) {
        match p.value {
            Some(v) => {
                path.push_str(if pen_down { " L" } else { " M" });
                path.push_str(&format!("{} {}", n(px), n(y.y(v))));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let label_every = count.div_ceil(12);
    let with_data = trend.points.iter().filter(|p| p.value.is_some()).count();
    let missing = trend.points.len() - with_data;
    let spans: Vec<(Timestamp, Timestamp)> =
        trend.points.iter().map(|p| (p.since, p.until)).collect();
    let metric = trend.metric;
    html! {
        svg class="chart trend" id=(id) viewBox=(format!("0 0 {} {}", n(WIDTH), n(height))) role="img"
            aria-labelledby=(format!("{id}-t {id}-d")) data-metric=(metric.anchor()) data-points=(with_data) data-missing=(missing) {
            title id=(format!("{id}-t")) { (trend.title) " by period" }
            desc id=(format!("{id}-d")) {
                (with_data) " periods with data, " (missing) " without. "
                @if let (Some(first), Some(last)) = (trend.points.first(), trend.points.last()) {
                    "From " (first.period) " (" (metric.format(first.value)) ") to " (last.period) " (" (metric.format(last.value)) ")."
                }
            }
            (y.axis(LEFT, right))
            g class="axis x" {
                line class="baseline" x1=(n(LEFT)) x2=(n(right)) y1=(n(bottom)) y2=(n(bottom)) {}
                @for (k, (p, &px)) in trend.points.iter().zip(&xs).enumerate() {
                    @if k % label_every == 0 {
                        text x=(n(px)) y=(n(bottom + 16.0)) text-anchor="middle" { (p.period) }
                    }
                }
            }
            g class="missing" {
                @for (p, &px) in trend.points.iter().zip(&xs) {
                    @if p.value.is_none() {
                        rect class="gap" data-missing-period=(p.period) x=(n(px - band / 2.0)) y=(n(y.top)) width=(n(band)) height=(n(bottom - y.top)) {
                            title { (p.period) ": no data (" (p.missing.unwrap_or("missing")) ")" }
                        }
                    }
                }
            }
            (markers_layer(markers, |t| period_x(&spans, t, LEFT, band), y.top, bottom))
            path class="line" d=(path.trim()) {}
            g class="points" {
                @for (p, &px) in trend.points.iter().zip(&xs) {
                    @if let Some(v) = p.value {
                        circle class="point" data-point=(p.period) cx=(n(px)) cy=(n(y.y(v))) r="4" tabindex="0" {
                            title { (p.period) ": " (format_value(trend.unit, v)) " — " (p.basis) }
                        }
                    }
                }
            }
        }
    }
}

/// A time axis over the window: ticks at month starts (or week starts for short windows).
fn time_ticks(since: Timestamp, until: Timestamp) -> Vec<(Timestamp, String)> {
    use jiff::ToSpan;
    let days = (until.as_second() - since.as_second()) / 86_400;
    let tz = jiff::tz::TimeZone::UTC;
    let start = since.to_zoned(tz.clone()).date();
    let mut ticks = Vec::new();
    let (mut date, step_months, step_days) = if days > 120 {
        (start.first_of_month(), if days > 400 { 3 } else { 1 }, 0)
    } else {
        let back = i64::from(start.weekday().to_monday_zero_offset());
        (
            start.checked_sub(back.days()).unwrap_or(start),
            0,
            if days > 35 { 14 } else { 7 },
        )
    };
    for _ in 0..200 {
        let Some(t) = date.to_zoned(tz.clone()).ok().map(|z| z.timestamp()) else {
            break;
        };
        if t >= until {
            break;
        }
        if t >= since {
            ticks.push((
                t,
                date.strftime(if step_months > 0 { "%b %Y" } else { "%b %d" })
                    .to_string(),
            ));
        }
        let next = if step_months > 0 {
            date.checked_add(step_months.months())
        } else {
            date.checked_add(step_days.days())
        };
        match next {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    ticks
}

/// The deployments timeline: a lane per service, a dot per deployment, failed ones as triangles,
/// and a bar from each failure to its recovery (dashed to the window's end when not recovered).
pub fn timeline_chart(
    timeline: &Timeline,
    markers: &[Marker],
    since: Timestamp,
    until: Timestamp,
) -> Markup {
    let lane = 34.0;
    let top = TOP + 6.0;
    let bottom = top + lane * timeline.services.len().max(1) as f64;
    let height = bottom + 30.0;
    let left = 110.0;
    let right = WIDTH - RIGHT;
    let span = (until.as_second() - since.as_second()).max(1) as f64;
    let x = |t: Timestamp| {
        let frac = ((t.as_second() - since.as_second()) as f64 / span).clamp(0.0, 1.0);
        left + frac * (right - left)
    };
    let lane_y = |service: &str| {
        let k = timeline
            .services
            .iter()
            .position(|s| s == service)
            .unwrap_or(0);
        top + lane * (k as f64 + 0.5)
    };
    let failed = timeline.deployments.iter().filter(|d| d.failed).count();
    let recovered = timeline
        .deployments
        .iter()
        .filter(|d| d.failed && d.recovered_at.is_some())
        .count();
    let stamp = |t: Timestamp| t.strftime("%Y-%m-%d %H:%M").to_string();
    html! {
        svg class="chart timeline" id="timeline" viewBox=(format!("0 0 {} {}", n(WIDTH), n(height))) role="img"
            aria-labelledby="timeline-t timeline-d" data-deployments=(timeline.deployments.len()) data-failed=(failed) data-recovered=(recovered) {
            title id="timeline-t" { "Deployments over time" }
            desc id="timeline-d" {
                (timeline.deployments.len()) " deployments of " (timeline.services.len()) " services; "
                (failed) " failed, " (recovered) " of them recovered. Each failed deployment's bar runs to its recovery."
            }
            g class="axis x" {
                @for (t, label) in time_ticks(since, until) {
                    line class="grid" x1=(n(x(t))) x2=(n(x(t))) y1=(n(top)) y2=(n(bottom)) {}
                    text x=(n(x(t))) y=(n(bottom + 16.0)) text-anchor="middle" { (label) }
                }
            }
            g class="lanes" {
                @for service in &timeline.services {
                    @let y = lane_y(service);
                    line class="lane" x1=(n(left)) x2=(n(right)) y1=(n(y)) y2=(n(y)) {}
                    text x=(n(left - 8.0)) y=(n(y + 4.0)) text-anchor="end" { (service) }
                }
            }
            (markers_layer(markers, |t| Some(x(t)), top - 14.0, bottom))
            g class="recoveries" {
                @for d in timeline.deployments.iter().filter(|d| d.failed) {
                    @let y = lane_y(&d.service);
                    @let end = d.recovered_at.unwrap_or(until);
                    rect class=(if d.recovered_at.is_some() { "recovery" } else { "recovery open" }) data-recovery=(d.id)
                        x=(n(x(d.at))) y=(n(y - 5.0)) width=(n((x(end) - x(d.at)).max(1.5))) height="10" {
                        title {
                            (d.id) " failed " (stamp(d.at)) "; "
                            @match d.recovered_at {
                                Some(r) => { "recovered " (stamp(r)) " (" (crate::human_duration((r.as_second() - d.at.as_second()) as f64)) ")" }
                                None => { "not recovered" }
                            }
                        }
                    }
                }
            }
            g class="deploys" {
                @for d in &timeline.deployments {
                    @let y = lane_y(&d.service);
                    @let px = x(d.at);
                    @if d.failed {
                        path class="deploy failed" data-deploy=(d.id) d=(format!("M{} {}l5 9h-10z", n(px), n(y - 6.0))) {
                            title { (d.id) " · " (stamp(d.at)) " · failed" }
                        }
                    } @else {
                        circle class=(if d.counts { "deploy" } else { "deploy status-failed" }) data-deploy=(d.id) cx=(n(px)) cy=(n(y)) r="3" {
                            title { (d.id) " · " (stamp(d.at)) @if !d.counts { " · deployment failed (not counted)" } }
                        }
                    }
                }
            }
        }
    }
}

/// The lead-time stages per period, stacked: coding, pickup, review, deploy (medians).
pub fn stages_chart(stages: &[StagePoint]) -> Markup {
    let height = 240.0;
    let bottom = height - 36.0;
    let right = WIDTH - RIGHT;
    let band = (right - LEFT) / stages.len().max(1) as f64;
    let total = |s: &StagePoint| {
        [s.coding, s.pickup, s.review, s.deploy]
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .sum::<f64>()
    };
    let y = YScale::new(
        Unit::Seconds,
        stages.iter().map(total).fold(0.0, f64::max),
        TOP + 8.0,
        bottom,
    );
    let label_every = stages.len().div_ceil(12).max(1);
    let names = ["coding", "pickup", "review", "deploy"];
    html! {
        svg class="chart stages" id="stages" viewBox=(format!("0 0 {} {}", n(WIDTH), n(height))) role="img"
            aria-labelledby="stages-t stages-d" data-periods=(stages.len()) {
            title id="stages-t" { "Lead-time stages by period (medians, stacked)" }
            desc id="stages-d" { "Coding, pickup, review and deploy medians of the pull requests deployed in each period." }
            (y.axis(LEFT, right))
            @for (k, s) in stages.iter().enumerate() {
                @let x0 = LEFT + band * k as f64 + band * 0.15;
                @let values = [s.coding, s.pickup, s.review, s.deploy];
                g class="stack" data-stack=(s.period) {
                    @for (j, name) in names.iter().enumerate() {
                        @if let Some(v) = values[j] {
                            @let below: f64 = values[..j].iter().map(|v| v.unwrap_or(0.0)).sum();
                            rect class=(format!("stage {name}")) x=(n(x0)) y=(n(y.y(below + v))) width=(n(band * 0.7)) height=(n((y.y(below) - y.y(below + v)).max(0.0))) {
                                title { (s.period) " " (name) ": " (crate::human_duration(v)) " (median of " (s.pull_requests) " pull requests)" }
                            }
                        }
                    }
                    @if k % label_every == 0 {
                        text x=(n(x0 + band * 0.35)) y=(n(bottom + 16.0)) text-anchor="middle" { (s.period) }
                    }
                }
            }
            line class="baseline" x1=(n(LEFT)) x2=(n(right)) y1=(n(bottom)) y2=(n(bottom)) {}
        }
    }
}

/// A value before and after a practice change.
type BeforeAfter = (Option<f64>, Option<f64>);

/// One metric of an impact report: before and after for the services that changed and, when
/// there is one, the comparison group.
pub struct ImpactBars {
    /// The metric.
    pub metric: Metric,
    /// Changed services: before, after.
    pub subject: (Option<f64>, Option<f64>),
    /// Comparison group: before, after.
    pub comparison: Option<(Option<f64>, Option<f64>)>,
}

/// A small chart per metric: bars before and after, changed services and comparison group.
pub fn impact_chart(bars: &ImpactBars, id: &str) -> Markup {
    let width = 220.0;
    let height = 170.0;
    let left = 52.0;
    let bottom = height - 30.0;
    let unit = bars.metric.unit();
    let values = [
        bars.subject.0,
        bars.subject.1,
        bars.comparison.and_then(|c| c.0),
        bars.comparison.and_then(|c| c.1),
    ];
    let y = YScale::new(
        unit,
        values.iter().flatten().copied().fold(0.0, f64::max),
        30.0,
        bottom,
    );
    let groups: Vec<(&str, &str, BeforeAfter)> =
        std::iter::once(("changed", "subject", bars.subject))
            .chain(bars.comparison.map(|c| ("comparison", "comparison", c)))
            .collect();
    let group_width = (width - left - 8.0) / groups.len() as f64;
    html! {
        svg class="chart impact" id=(id) viewBox=(format!("0 0 {} {}", n(width), n(height))) role="img" aria-labelledby=(format!("{id}-t {id}-d")) data-bars=(values.iter().flatten().count()) {
            title id=(format!("{id}-t")) { (bars.metric.title()) ": before and after" }
            desc id=(format!("{id}-d")) {
                "Changed services: " (bars.metric.format(bars.subject.0)) " before, " (bars.metric.format(bars.subject.1)) " after."
                @if let Some((b, a)) = bars.comparison { " Comparison group: " (bars.metric.format(b)) " before, " (bars.metric.format(a)) " after." }
            }
            text class="chart-title" x="4" y="14" { (bars.metric.title()) }
            (y.axis(left, width - 8.0))
            @for (g, (label, class, (before, after))) in groups.iter().enumerate() {
                @let gx = left + group_width * g as f64;
                @for (j, (when, v)) in [("before", before), ("after", after)].iter().enumerate() {
                    @let bx = gx + group_width * (0.12 + 0.4 * j as f64);
                    @match v {
                        Some(v) => {
                            rect class=(format!("bar {class} {when}")) data-bar=(format!("{label}-{when}")) x=(n(bx)) y=(n(y.y(*v))) width=(n(group_width * 0.34)) height=(n((bottom - y.y(*v)).max(0.5))) {
                                title { (label) " services, " (when) ": " (format_value(unit, *v)) }
                            }
                        }
                        None => {
                            text class="none" x=(n(bx + group_width * 0.17)) y=(n(bottom - 4.0)) text-anchor="middle" { "–" title { (label) ", " (when) ": no data" } }
                        }
                    }
                    text class="tick" x=(n(bx + group_width * 0.17)) y=(n(bottom + 12.0)) text-anchor="middle" { (when) }
                }
                text class="group" x=(n(gx + group_width * 0.46)) y=(n(bottom + 25.0)) text-anchor="middle" { (label) }
            }
            line class="baseline" x1=(n(left)) x2=(n(width - 8.0)) y1=(n(bottom)) y2=(n(bottom)) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_and_durations() {
        assert_eq!(tick_step(Unit::PerWeek, 7.3), 2.0);
        assert_eq!(tick_step(Unit::Proportion, 0.33), 0.1);
        assert_eq!(tick_step(Unit::Seconds, 5.0 * 86_400.0), 172_800.0);
        assert_eq!(tick_label(Unit::Seconds, 172_800.0, 86_400.0), "2 d");
        assert_eq!(tick_label(Unit::Seconds, 7200.0, 3600.0), "2 h");
        assert_eq!(tick_label(Unit::Proportion, 0.25, 0.05), "25 %");
        assert_eq!(n(2.04), "2");
        assert_eq!(n(2.06), "2.1");
    }
}
