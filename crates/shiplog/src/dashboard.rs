//! The dashboard's pages and CSV exports, computed for the team server by the CLI's own code.
//!
//! A service's, a team's or a practice change's page is `shiplog report` for that scope
//! (`report::model`), rendered inside the dashboard's navigation; a CSV export is
//! `shiplog metrics` or `shiplog explain` with `--format csv`; the home page computes each team's
//! and each service's headline metrics from one analysis, with the functions `shiplog metrics`
//! uses. So every number on the dashboard is one the CLI prints for the same question.

use anyhow::{Result, bail};
use shiplog_core::definitions::compute_with;
use shiplog_core::metrics::Scope;
use shiplog_core::{PracticeName, PracticeScope, ServiceName, TeamScope};
use shiplog_report::page::dashboard::{Chrome, HomeModel, HomePractice, HomeRow, render_home};
use shiplog_server::{EngineError, Page};
use shiplog_store::Store;

use crate::cli::{Command, ExplainWhat};
use crate::commands;
use crate::serve::{CliEngine, SCOPE_PARAMS, bad, blocking};
use crate::ui::Ui;

/// The environment a page shows when none is chosen (the CLI's default).
const DEFAULT_ENVIRONMENT: &str = "production";

/// The filters a page takes (besides its scope, which its path names).
const PAGE_PARAMS: &[&str] = &[
    "env",
    "since",
    "until",
    "by",
    "definitions",
    "attribution-window",
    "lead-time-start",
];

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl CliEngine {
    /// The environments with records, for the filter's choice.
    async fn environments(&self) -> Result<Vec<String>> {
        let mut envs: std::collections::BTreeSet<String> = self
            .store
            .deployments()
            .await?
            .iter()
            .map(|d| d.environment.as_str().to_owned())
            .collect();
        envs.extend(
            self.store
                .incidents()
                .await?
                .iter()
                .map(|i| i.environment.as_str().to_owned()),
        );
        envs.insert(DEFAULT_ENVIRONMENT.to_owned());
        Ok(envs.into_iter().collect())
    }

    fn chrome(
        &self,
        path: String,
        params: &[(String, String)],
        environments: Vec<String>,
    ) -> Chrome {
        Chrome {
            path,
            since: param(params, "since").unwrap_or_default().to_owned(),
            until: param(params, "until").unwrap_or_default().to_owned(),
            environment: param(params, "env")
                .unwrap_or(DEFAULT_ENVIRONMENT)
                .to_owned(),
            environments,
        }
    }

    /// A dashboard page as HTML.
    pub(crate) async fn page(
        &self,
        page: &Page,
        params: &[(String, String)],
    ) -> Result<String, EngineError> {
        let environments = self
            .environments()
            .await
            .map_err(|e| crate::serve::engine_error(&e))?;
        // The scope a report page adds to the filters' flags, and its path.
        let (scope, path) = match page {
            Page::Guide => return self.guide(params, environments).await,
            Page::Home => {
                let mut flags = Self::flags(params, PAGE_PARAMS)?;
                flags.extend(self.deploys_flag());
                return self.home(params, flags, environments).await;
            }
            Page::Service(name) => {
                ServiceName::new(name).map_err(|e| bad(format!("service {name:?}: {e}")))?;
                (
                    vec!["--service".to_owned(), name.clone()],
                    format!("/services/{name}"),
                )
            }
            Page::Team(name) => (
                vec!["--team".to_owned(), name.clone()],
                format!("/teams/{name}"),
            ),
            Page::Practice(name) => (
                self.practice_scope(name, params).await?,
                format!("/practices/{name}"),
            ),
        };
        let mut flags = Self::flags(params, PAGE_PARAMS)?;
        flags.extend(self.deploys_flag());
        flags.extend(scope);
        let chrome = self.chrome(path, params, environments);
        // The guide has its own page (/guide, linked from the bar): not computed per page view.
        flags.extend([
            "--format".to_owned(),
            "html".to_owned(),
            "--no-guide".to_owned(),
        ]);
        let cli = self.cli(&["report"], flags)?;
        blocking(move || {
            Box::pin(async move {
                let Command::Report(args) = &cli.command else {
                    bail!("not a report command");
                };
                let model = crate::report::model(&cli, args, &Ui::new(true)).await?;
                Ok(shiplog_report::page::render_dashboard(&model, &chrome))
            })
        })
        .await
    }

    /// The guide page: `shiplog guide --format markdown` for the query's scope, rendered inside
    /// the dashboard's bar.
    async fn guide(
        &self,
        params: &[(String, String)],
        environments: Vec<String>,
    ) -> Result<String, EngineError> {
        let mut allowed = PAGE_PARAMS.to_vec();
        allowed.extend([
            "service",
            "team",
            "industry",
            "org-size",
            "power-simulations",
        ]);
        let mut flags = Self::flags(params, &allowed)?;
        flags.extend(self.deploys_flag());
        flags.extend(["--format".to_owned(), "markdown".to_owned()]);
        let chrome = self.chrome("/guide".to_owned(), params, environments);
        let title = match (param(params, "service"), param(params, "team")) {
            (Some(s), _) => format!("guide · {s}"),
            (None, Some(t)) => format!("guide · team {t}"),
            (None, None) => "guide".to_owned(),
        };
        let cli = self.cli(&["guide"], flags)?;
        blocking(move || {
            Box::pin(async move {
                let Command::Guide(args) = &cli.command else {
                    bail!("not a guide command");
                };
                let markdown = crate::guide::markdown_text(&cli, args, &Ui::new(true)).await?;
                Ok(shiplog_report::page::dashboard::render_markdown_page(
                    &title, &markdown, &chrome,
                ))
            })
        })
        .await
    }

    /// The scope flags of a practice change's page: its service or team, and a window from 90
    /// days before it started (unless the reader chose one), so its impact story is on the page.
    async fn practice_scope(
        &self,
        name: &str,
        params: &[(String, String)],
    ) -> Result<Vec<String>, EngineError> {
        let wanted = PracticeName::new(name).map_err(|e| bad(format!("practice {name:?}: {e}")))?;
        let practices = self
            .store
            .practice_changes()
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let Some(practice) = practices.into_iter().find(|p| p.name == wanted) else {
            return Err(bad(format!(
                "no practice change named {name:?}; record one with `shiplog practice start`"
            )));
        };
        let mut flags = Vec::new();
        match &practice.scope {
            PracticeScope::Services { services } if services.len() == 1 => {
                flags.extend(["--service".to_owned(), services[0].as_str().to_owned()]);
            }
            PracticeScope::Team { team } => {
                flags.extend(["--team".to_owned(), team.as_str().to_owned()]);
            }
            // Several services, or every one: the page covers every service, and the impact
            // story is about the practice's own.
            _ => {}
        }
        if param(params, "since").is_none() {
            let since = practice
                .started_on
                .checked_sub(jiff::Span::new().days(90))
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            flags.extend(["--since".to_owned(), since.to_string()]);
        }
        Ok(flags)
    }

    /// The home page: every team's and every service's headline metrics over the window.
    async fn home(
        &self,
        params: &[(String, String)],
        flags: Vec<String>,
        environments: Vec<String>,
    ) -> Result<String, EngineError> {
        let chrome = self.chrome("/".to_owned(), params, environments);
        let model = self.home_model(params, flags).await?;
        Ok(render_home(&model, &chrome))
    }

    /// Every team's and every service's headline metrics over the window, and the practice
    /// changes: what the home page shows (and `/export/home.csv` exports).
    async fn home_model(
        &self,
        params: &[(String, String)],
        mut flags: Vec<String>,
    ) -> Result<HomeModel, EngineError> {
        if param(params, "by").is_some() {
            return Err(bad("the home page takes no \"by\"; a service's page does"));
        }
        let mut practices: Vec<HomePractice> = self
            .store
            .practice_changes()
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?
            .into_iter()
            .map(|p| HomePractice {
                name: p.name.as_str().to_owned(),
                started_on: p.started_on.to_string(),
                ended_on: p.ended_on.map(|d| d.to_string()),
                applies_to: match &p.scope {
                    PracticeScope::AllServices => "every service".to_owned(),
                    PracticeScope::Services { services } => services
                        .iter()
                        .map(ServiceName::as_str)
                        .collect::<Vec<_>>()
                        .join(", "),
                    PracticeScope::Team { team } => format!("team {team}"),
                },
            })
            .collect();
        practices.sort_by(|a, b| b.started_on.cmp(&a.started_on));
        // A deployment of a commit not fetched yet must not hide every other number.
        flags.extend(["--allow-unknown".to_owned(), "--skip-unknown".to_owned()]);
        let cli = self.cli(&["metrics"], flags)?;
        blocking(move || {
            Box::pin(async move {
                let Command::Metrics(args) = &cli.command else {
                    bail!("not a metrics command");
                };
                let ui = Ui::new(true);
                let (resolved, analysis) =
                    commands::analyze_scope(&cli, &args.scope, None, &ui).await?;
                let config = commands::load_config(&cli, Some(&analysis.repo))?;
                let teams = config.teams();
                let mut services: std::collections::BTreeSet<ServiceName> = analysis
                    .model
                    .deployments
                    .iter()
                    .filter(|d| d.deployment.environment == resolved.scope.environment)
                    .map(|d| d.deployment.service.clone())
                    .collect();
                services.extend(config.services.iter().map(|s| s.name.clone()));
                let metrics_of = |scope: &Scope| {
                    compute_with(
                        &analysis.model,
                        &analysis.graph,
                        scope,
                        resolved.start,
                        resolved.definitions,
                    )
                };
                let mut rows = Vec::new();
                for (team, members) in &teams {
                    let scope = Scope {
                        service: None,
                        team: Some(TeamScope {
                            team: team.clone(),
                            services: members.clone(),
                        }),
                        ..resolved.scope.clone()
                    };
                    rows.push(HomeRow {
                        kind: "team",
                        name: team.as_str().to_owned(),
                        related: members.iter().map(|s| s.as_str().to_owned()).collect(),
                        metrics: metrics_of(&scope),
                    });
                }
                for service in services {
                    let scope = Scope {
                        service: Some(service.clone()),
                        team: None,
                        ..resolved.scope.clone()
                    };
                    rows.push(HomeRow {
                        kind: "service",
                        name: service.as_str().to_owned(),
                        related: teams
                            .iter()
                            .filter(|(_, members)| members.contains(&service))
                            .map(|(t, _)| t.as_str().to_owned())
                            .collect(),
                        metrics: metrics_of(&scope),
                    });
                }
                Ok(HomeModel {
                    since: resolved.scope.window.since,
                    until: resolved.scope.window.until,
                    rows,
                    practices,
                })
            })
        })
        .await
    }

    /// A table of a page as CSV: `shiplog metrics` or `shiplog explain` with `--format csv`.
    pub(crate) async fn export(
        &self,
        table: &str,
        params: &[(String, String)],
    ) -> Result<String, EngineError> {
        let explain = |what: ExplainWhat| -> Vec<String> {
            vec![
                "explain".to_owned(),
                clap::ValueEnum::to_possible_value(&what)
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default(),
            ]
        };
        if table == "home" {
            // The home page's table: one row per team and per service, in the columns of
            // `shiplog metrics --format csv`.
            let mut flags = Self::flags(params, PAGE_PARAMS)?;
            flags.extend(self.deploys_flag());
            let model = self.home_model(params, flags).await?;
            let rows: Vec<_> = model.rows.into_iter().map(|r| r.metrics).collect();
            return shiplog_report::metrics(&rows, true, shiplog_report::Format::Csv)
                .map_err(|e| EngineError::Internal(e.to_string()));
        }
        let (command, extra): (Vec<String>, Vec<String>) = match table {
            "metrics" => (vec!["metrics".to_owned()], vec![]),
            "trend" => (
                vec!["metrics".to_owned()],
                vec!["--by".to_owned(), "week".to_owned()],
            ),
            "changes" => (explain(ExplainWhat::LeadTime), vec![]),
            "deployments" => (explain(ExplainWhat::Deployments), vec![]),
            "failures" => (explain(ExplainWhat::Failures), vec![]),
            "incidents" => (explain(ExplainWhat::Incidents), vec![]),
            other => {
                return Err(bad(format!(
                    "no table {other:?}; the exports are home.csv, {}",
                    shiplog_report::page::dashboard::EXPORTS
                        .iter()
                        .map(|(t, _)| format!("{t}.csv"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let mut args = Self::flags(params, SCOPE_PARAMS)?;
        args.extend(extra);
        args.extend(self.deploys_flag());
        args.extend(["--format".to_owned(), "csv".to_owned()]);
        let words: Vec<&str> = command.iter().map(String::as_str).collect();
        let cli = self.cli(&words, args)?;
        blocking(move || {
            Box::pin(async move {
                let ui = Ui::new(true);
                match &cli.command {
                    Command::Metrics(args) => commands::metrics_text(&cli, args, &ui).await,
                    Command::Explain(args) => commands::explain_text(&cli, args, &ui).await,
                    _ => bail!("not an export command"),
                }
            })
        })
        .await
    }
}
