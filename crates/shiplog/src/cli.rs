//! Command-line arguments. The help texts here are the first documentation most people read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// shiplog measures how a team delivers software — DORA's five metrics — from git history,
/// deployment records and incidents, and shows the records behind every number.
#[derive(Debug, Parser)]
#[command(
    name = "shiplog",
    version,
    about,
    after_help = "Start here:\n  shiplog demo                                  build a demo repository and show its metrics\n  shiplog metrics --repo . --deploys tags       your repository, deployments from v* tags\n  shiplog explain lead-time --repo . --deploys tags   the changes behind the lead time\n\nThe store defaults to .shiplog/shiplog.db under the repository root (override with --db or SHIPLOG_DB).\nSet NO_COLOR to disable colours."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// The SQLite store. Default: .shiplog/shiplog.db under the repository root.
    #[arg(long, global = true, env = "SHIPLOG_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The git repository (any directory inside it).
    #[arg(long, global = true, default_value = ".", value_name = "PATH")]
    pub repo: PathBuf,

    /// Hide progress bars and informational notes on stderr (errors and warnings still show).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the five DORA metrics for a service and environment over a time window.
    #[command(
        after_help = "Examples:\n  shiplog metrics --deploys tags                    deployments are v* tags\n  shiplog metrics --deploys 'tags=release-*' --since 180d --by month\n  shiplog metrics --deploys merges=main --format json\n  shiplog metrics --service api --env production    recorded or imported deployments"
    )]
    Metrics(MetricsArgs),
    /// List the items behind the numbers: changes, deployments, failures or incidents.
    #[command(
        after_help = "Examples:\n  shiplog explain lead-time --deploys tags --since 30d\n  shiplog explain failures --service api\n  shiplog explain incidents --format csv > incidents.csv"
    )]
    Explain(ExplainArgs),
    /// Record a deployment or an incident (from a CI pipeline, an on-call tool or by hand).
    #[command(subcommand)]
    Record(RecordCommand),
    /// Import deployments and incidents from JSON Lines or CSV files (all or nothing).
    #[command(
        after_help = "Each line of a JSON Lines file is one record:\n  {\"type\":\"deployment\",\"id\":\"d-17\",\"service\":\"api\",\"environment\":\"production\",\"sha\":\"3f2a9c1\",\"finished_at\":\"2026-03-03T14:00:00Z\",\"status\":\"success\"}\n  {\"type\":\"incident\",\"id\":\"inc-4\",\"service\":\"api\",\"opened_at\":\"2026-03-03T15:10:00Z\",\"resolved_at\":\"2026-03-03T16:00:00Z\"}\nCSV files use the same names as header columns, with a `type` column. See docs/import.md."
    )]
    Import(ImportArgs),
    /// Build a realistic demo repository with deployments and incidents, then show its metrics.
    Demo(DemoArgs),
}

/// How deployments are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploySource {
    /// Tags matching a glob are production deployments.
    Tags(String),
    /// First-parent commits of a branch are production deployments (`None`: the default branch).
    Merges(Option<String>),
    /// Deployments recorded or imported into the store.
    Recorded,
}

fn parse_deploys(text: &str) -> Result<DeploySource, String> {
    let (kind, arg) = match text.split_once('=') {
        Some((kind, arg)) => (kind, Some(arg)),
        None => (text, None),
    };
    match (kind, arg) {
        ("tags", None) => Ok(DeploySource::Tags("v*".to_owned())),
        ("tags", Some(glob)) if !glob.is_empty() => Ok(DeploySource::Tags(glob.to_owned())),
        ("merges", None) => Ok(DeploySource::Merges(None)),
        ("merges", Some(branch)) if !branch.is_empty() => {
            Ok(DeploySource::Merges(Some(branch.to_owned())))
        }
        ("recorded", None) => Ok(DeploySource::Recorded),
        _ => Err(format!(
            "expected tags[=GLOB], merges[=BRANCH] or recorded, got {text:?}"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ByPeriod {
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeadTimeStartArg {
    Author,
    Committer,
}

/// Which records, over which window, with which definition options.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Where deployments come from: `tags[=GLOB]` (default glob v*), `merges[=BRANCH]` (default: the
    /// default branch) or `recorded`. Default: recorded, when the store holds deployments.
    #[arg(long, value_name = "SOURCE", value_parser = parse_deploys)]
    pub deploys: Option<DeploySource>,

    /// Only this service. With --deploys tags|merges it also names the service (default: the
    /// repository's directory name).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// The environment.
    #[arg(long = "env", default_value = "production", value_name = "NAME")]
    pub environment: String,

    /// Start of the window: a duration back from now (90d, 12w, 36h), a date (2026-03-03, UTC) or an
    /// RFC 3339 timestamp.
    #[arg(long, default_value = "90d", value_name = "WHEN")]
    pub since: String,

    /// End of the window (exclusive), in the same forms. Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// When a change's lead time starts.
    #[arg(long, value_enum, default_value = "author")]
    pub lead_time_start: LeadTimeStartArg,

    /// Incidents without a deployment or sha are blamed on the latest deployment that finished at
    /// most this long before they opened (e.g. 24h, 2d, 90m).
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub attribution_window: String,

    /// Leave out deployments whose commit the repository does not have (listed as warnings)
    /// instead of failing.
    #[arg(long)]
    pub skip_unknown: bool,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// One row per period (ISO weeks or calendar months, UTC).
    #[arg(long, value_enum)]
    pub by: Option<ByPeriod>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainWhat {
    /// Each change with its deployment and lead time.
    LeadTime,
    /// Each deployment with its shipped-change count, failures and rework.
    Deployments,
    /// Each failed deployment with its reasons and recovery.
    Failures,
    /// Each incident with the deployment it is attributed to, and why.
    Incidents,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// What to list.
    #[arg(value_enum)]
    pub what: ExplainWhat,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Rows shown in a table (0 = all). JSON and CSV always hold every row.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Record a deployment. Recording the same --id again updates it.
    #[command(
        after_help = "In CI, after the deploy step:\n  shiplog record deployment --service api --env production --sha \"$GITHUB_SHA\" --id \"gh-$GITHUB_RUN_ID\""
    )]
    Deployment(RecordDeploymentArgs),
    /// Record an incident. Recording the same --id again updates it (e.g. to resolve it).
    #[command(
        after_help = "Open, then resolve:\n  shiplog record incident --service api --id inc-4 --opened-at 2026-03-03T15:10:00Z\n  shiplog record incident --service api --id inc-4 --opened-at 2026-03-03T15:10:00Z --resolved-at 2026-03-03T16:00:00Z"
    )]
    Incident(RecordIncidentArgs),
}

#[derive(Debug, Args)]
pub struct RecordDeploymentArgs {
    /// The service deployed.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// The environment deployed to.
    #[arg(long = "env", value_name = "NAME")]
    pub environment: String,
    /// The commit deployed (full or abbreviated; abbreviations are resolved in --repo).
    #[arg(long, value_name = "SHA")]
    pub sha: String,
    /// Whether the deployment succeeded.
    #[arg(long, default_value = "success", value_parser = ["success", "failure"])]
    pub status: String,
    /// When it finished (RFC 3339 with an offset). Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// When it started (RFC 3339 with an offset).
    #[arg(long, value_name = "TIME")]
    pub started_at: Option<String>,
    /// A unique id, e.g. the CI run id; makes retries idempotent. Default:
    /// SERVICE:ENV:SHA12:FINISHED_AT.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// An unplanned deployment (hotfix, emergency change): counts as rework.
    #[arg(long)]
    pub unplanned: bool,
}

#[derive(Debug, Args)]
pub struct RecordIncidentArgs {
    /// The service affected.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// The environment affected.
    #[arg(long = "env", default_value = "production", value_name = "NAME")]
    pub environment: String,
    /// A unique id, e.g. the pager's incident id.
    #[arg(long, value_name = "ID")]
    pub id: String,
    /// When it was opened (RFC 3339 with an offset).
    #[arg(long, value_name = "TIME")]
    pub opened_at: String,
    /// When it was resolved (RFC 3339 with an offset).
    #[arg(long, value_name = "TIME")]
    pub resolved_at: Option<String>,
    /// The deployment that caused it.
    #[arg(long, value_name = "ID", conflicts_with = "sha")]
    pub deployment_id: Option<String>,
    /// The commit that caused it (blames the first deployment that shipped it).
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,
    /// A short description.
    #[arg(long)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Choose from the file extension (.jsonl/.ndjson/.json or .csv), else from the content.
    Auto,
    Jsonl,
    Csv,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The files' format.
    #[arg(long = "input-format", value_enum, default_value = "auto")]
    pub input_format: InputFormat,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to build the demo repository.
    #[arg(default_value = "shiplog-demo", value_name = "DIR")]
    pub dir: PathBuf,
    /// Replace DIR if it exists.
    #[arg(long)]
    pub force: bool,
    /// The demo's last day (its history covers the six months before). Default: today (UTC).
    #[arg(long, value_name = "DATE")]
    pub end: Option<String>,
    /// Seed of the generator: the same seed and end give the same demo.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output format of the metrics printed at the end.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}
