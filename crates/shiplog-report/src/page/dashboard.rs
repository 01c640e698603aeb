//! The live dashboard of `shiplog serve`: the report's pages with a navigation bar, the window and
//! environment filters as a plain GET form, and CSV links for every table — plus the home page,
//! which lists teams and services with their headline metrics.
//!
//! The server computes nothing here: the page of a service, a team or a practice change is the
//! report's [`ReportModel`] rendered by [`super::html`] with a [`Chrome`] around it, so a page on
//! the dashboard and the file `shiplog report --html` writes show the same numbers. The filters
//! are links and a form, so the dashboard works without JavaScript (the page has none).

use maud::{DOCTYPE, Markup, html};
use serde::Serialize;
use shiplog_core::metrics::DoraMetrics;

use super::model::{Metric, ReportModel};

/// What the dashboard adds around a page: where it is, its filters, its CSV exports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Chrome {
    /// The page's path, e.g. `/services/api` (the filter form submits to it).
    pub path: String,
    /// The window's start as the reader gave it (`90d`, `2026-03-03`), or empty for the default.
    pub since: String,
    /// The window's end as given, or empty for now.
    pub until: String,
    /// The environment shown.
    pub environment: String,
    /// The environments the store knows, for the filter's choice.
    pub environments: Vec<String>,
}

/// The tables a page can export as CSV, with the label the page shows.
pub const EXPORTS: [(&str, &str); 6] = [
    ("metrics", "headline metrics"),
    ("trend", "metrics by week"),
    ("changes", "changes and their lead time"),
    ("deployments", "deployments"),
    ("failures", "failed deployments"),
    ("incidents", "incidents"),
];

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Chrome {
    /// The query string of the page's filters (`since=..&env=..`), empty values left out.
    pub fn filter_query(&self) -> String {
        [
            ("since", &self.since),
            ("until", &self.until),
            ("env", &self.environment),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// A link to `path` that keeps the page's filters.
    pub fn link(&self, path: &str) -> String {
        let q = self.filter_query();
        if q.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{q}")
        }
    }

    /// The CSV export link of `table` for the scope `scope_query` (`service=api`, `team=payments`
    /// or empty).
    pub fn export_link(&self, table: &str, scope_query: &str) -> String {
        let q: Vec<String> = [scope_query.to_owned(), self.filter_query()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if q.is_empty() {
            format!("/export/{table}.csv")
        } else {
            format!("/export/{table}.csv?{}", q.join("&"))
        }
    }
}

/// The query selecting a service or a team, for export links.
pub fn scope_query(service: Option<&str>, team: Option<&str>) -> String {
    match (service, team) {
        (Some(s), _) => format!("service={}", encode(s)),
        (None, Some(t)) => format!("team={}", encode(t)),
        (None, None) => String::new(),
    }
}

/// The bar at the top of every dashboard page: navigation, filters, sign-out.
pub(crate) fn bar(chrome: &Chrome) -> Markup {
    html! {
        nav class="dash" aria-label="Dashboard" {
            a href=(chrome.link("/")) { "All teams and services" }
            a href=(chrome.link("/guide")) { "Guide" }
            a href="/ingest" { "Ingest log" }
            a href="/api/v1/openapi.json" { "API" }
            form method="post" action="/logout" class="inline" { button type="submit" { "Sign out" } }
        }
        form method="get" action=(chrome.path) class="filters" aria-label="Window and environment" {
            label { "Since " input type="text" name="since" value=(chrome.since) placeholder="90d" size="12"; }
            label { "Until " input type="text" name="until" value=(chrome.until) placeholder="now" size="12"; }
            label { "Environment "
                select name="env" {
                    @for env in &chrome.environments {
                        @if *env == chrome.environment { option value=(env) selected { (env) } } @else { option value=(env) { (env) } }
                    }
                    @if !chrome.environments.contains(&chrome.environment) { option value=(chrome.environment) selected { (chrome.environment) } }
                }
            }
            button type="submit" { "Show" }
            span class="note" { " Durations back from now (90d, 12w), dates (2026-03-03) or RFC 3339 times." }
        }
    }
}

/// The CSV links of a report page.
pub(crate) fn exports(chrome: &Chrome, model: &ReportModel) -> Markup {
    let scope = scope_query(model.service.as_deref(), model.team.as_deref());
    html! {
        section id="export" {
            h2 { "Export" }
            p { "Every table of this page as CSV (the columns of " code { "shiplog metrics" } " and " code { "shiplog explain" } " with " code { "--format csv" } "): " }
            ul class="exports" {
                @for (table, label) in EXPORTS {
                    li { a href=(chrome.export_link(table, &scope)) data-export=(table) download { (label) } }
                }
            }
        }
    }
}

/// One row of the home page: a team or a service and its headline metrics.
#[derive(Debug, Clone, Serialize)]
pub struct HomeRow {
    /// `team` or `service`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// For a team, its services; for a service, its team(s).
    pub related: Vec<String>,
    /// Its metrics over the window.
    pub metrics: DoraMetrics,
}

/// The home page's model.
#[derive(Debug, Clone, Serialize)]
pub struct HomeModel {
    /// The window's start.
    pub since: jiff::Timestamp,
    /// Its end (exclusive).
    pub until: jiff::Timestamp,
    /// Teams first, then services, each by name.
    pub rows: Vec<HomeRow>,
    /// The recorded practice changes, newest first.
    pub practices: Vec<HomePractice>,
}

/// A practice change listed on the home page, linking its page.
#[derive(Debug, Clone, Serialize)]
pub struct HomePractice {
    /// Its name.
    pub name: String,
    /// The day it started.
    pub started_on: String,
    /// The day it ended, if it did.
    pub ended_on: Option<String>,
    /// Whom it concerns, in words ("api, web", "team payments", "every service").
    pub applies_to: String,
}

fn headline_table(rows: &[&HomeRow], kind: &str, chrome: &Chrome) -> Markup {
    let path = |name: &str| chrome.link(&format!("/{kind}s/{}", encode(name)));
    html! {
        div class="scroll" {
            table data-table=(format!("home-{kind}s")) {
                thead { tr {
                    th { (kind) }
                    @for m in Metric::ALL { th class="num" { (m.title()) } }
                    th { @if kind == "team" { "services" } @else { "team" } }
                } }
                tbody {
                    @for row in rows {
                        tr {
                            td { a href=(path(&row.name)) { (row.name) } }
                            @for m in Metric::ALL {
                                td class="num" title=(m.basis(&row.metrics)) { (m.format(m.value(&row.metrics))) }
                            }
                            td { (row.related.join(", ")) }
                        }
                    }
                }
            }
        }
    }
}

/// The home page: every team and service with its headline metrics over the window.
pub fn render_home(model: &HomeModel, chrome: &Chrome) -> String {
    let teams: Vec<&HomeRow> = model.rows.iter().filter(|r| r.kind == "team").collect();
    let services: Vec<&HomeRow> = model.rows.iter().filter(|r| r.kind == "service").collect();
    let window = format!(
        "{} → {} ({} days)",
        model.since.strftime("%Y-%m-%d"),
        model.until.strftime("%Y-%m-%d"),
        super::model::days(model.since, model.until)
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (super::html::head(&format!("shiplog · teams and services · {window}")))
            body {
                header {
                    (bar(chrome))
                    h1 { "Delivery: teams and services" }
                    p class="sub" { (window) " · " (chrome.environment) " · hover a value for the counts behind it" }
                }
                main {
                    section id="teams" {
                        h2 { "Teams" }
                        @if teams.is_empty() {
                            p class="note" { "No teams: map teams to services in shiplog.toml's [teams] (docs/config.md)." }
                        } @else { (headline_table(&teams, "team", chrome)) }
                    }
                    section id="services" {
                        h2 { "Services" }
                        @if services.is_empty() {
                            p class="note" { "No deployments or incidents recorded yet: send webhooks or " code { "shiplog record deployment --server" } " (docs/server.md)." }
                        } @else { (headline_table(&services, "service", chrome)) }
                    }
                    section id="practices" {
                        h2 { "Practice changes" }
                        @if model.practices.is_empty() {
                            p class="note" { "None recorded: " code { "shiplog practice start \"NAME\" --on DATE" } " records one, and its page then shows what it did." }
                        } @else {
                            ul data-list="practices" {
                                @for p in &model.practices {
                                    li {
                                        a href=(chrome.link(&format!("/practices/{}", encode(&p.name)))) { (p.name) }
                                        " — from " (p.started_on)
                                        @if let Some(end) = &p.ended_on { " to " (end) }
                                        ", " (p.applies_to)
                                    }
                                }
                            }
                        }
                    }
                    section id="export" {
                        h2 { "Export" }
                        p { a href=(chrome.export_link("home", "")) data-export="home" download { "This page's table: every team and service, one row each (CSV)" } }
                    }
                }
                footer class="note" { p { "Made by shiplog. Teams and services only: shiplog has no per-person views." } }
            }
        }
    };
    page.into_string()
}

/// A page of Markdown inside the dashboard's bar: the guide, as `shiplog guide --format markdown`
/// writes it (raw HTML in it is escaped).
pub fn render_markdown_page(title: &str, markdown: &str, chrome: &Chrome) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (super::html::head(&format!("shiplog · {title}")))
            body {
                header { (bar(chrome)) }
                main class="prose" { (super::html::markdown_html(markdown)) }
                footer class="note" { p { "Made by shiplog. Teams and services only: shiplog has no per-person views." } }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_links_keep_the_filters_and_encode_them() {
        let chrome = Chrome {
            path: "/services/api".into(),
            since: "2026-03-03T00:00:00+01:00".into(),
            until: String::new(),
            environment: "production".into(),
            environments: vec!["production".into()],
        };
        assert_eq!(
            chrome.filter_query(),
            "since=2026-03-03T00%3A00%3A00%2B01%3A00&env=production"
        );
        assert_eq!(
            chrome.export_link("changes", &scope_query(Some("api web"), None)),
            "/export/changes.csv?service=api%20web&since=2026-03-03T00%3A00%3A00%2B01%3A00&env=production"
        );
        assert_eq!(Chrome::default().link("/"), "/");
    }
}
