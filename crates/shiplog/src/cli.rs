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
    after_help = "Start here:\n  shiplog demo                                  build a demo repository and show its metrics\n  shiplog metrics --repo . --deploys tags       your repository, deployments from v* tags\n  shiplog explain lead-time --repo . --deploys tags   the changes behind the lead time\n  shiplog impact \"Trunk-based development\"      what a practice change did, with honest statistics\n  shiplog guide --repo . --deploys tags         where you stand, which capability to work on, an experiment\n  shiplog experiment review \"Review within a day\"   judge a pre-registered experiment\n\nThe store defaults to .shiplog/shiplog.db under the repository root (override with --db or SHIPLOG_DB).\nSet NO_COLOR to disable colours."
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

    /// The configuration file (services, teams, monorepo paths, definition options). Default:
    /// shiplog.toml at the repository root, when present. See docs/config.md.
    #[arg(long, global = true, env = "SHIPLOG_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
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
    /// Import deployments, incidents and pull requests from JSON Lines or CSV files, GitHub, GitLab,
    /// PagerDuty or CDEvents payloads (all or nothing).
    #[command(
        after_help = "Vendor payloads (webhook deliveries, saved REST lists, CDEvents) are detected by content:\n  shiplog import deployment_status.json pulls.json pagerduty-event.json\n  shiplog import --from cdevents --env prod1=production --service myApp=api events/*.json\n  shiplog import --incident-label sev1 issues.json       GitHub issues labelled sev1 are incidents\nSee docs/ingestion.md.\n\nEach line of a JSON Lines file is one record:\n  {\"type\":\"deployment\",\"id\":\"d-17\",\"service\":\"api\",\"environment\":\"production\",\"sha\":\"3f2a9c1\",\"finished_at\":\"2026-03-03T14:00:00Z\",\"status\":\"success\"}\n  {\"type\":\"incident\",\"id\":\"inc-4\",\"service\":\"api\",\"opened_at\":\"2026-03-03T15:10:00Z\",\"resolved_at\":\"2026-03-03T16:00:00Z\"}\nCSV files use the same names as header columns, with a `type` column. See docs/import.md."
    )]
    Import(ImportArgs),
    /// Fetch pull requests, reviews, comments, deployments, releases and incident issues from
    /// GitHub's API:
    /// only what changed since the last sync.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Record a change in practice (e.g. "Trunk-based development" from 2026-03-03), end one, or
    /// list them.
    #[command(subcommand)]
    Practice(PracticeCommand),
    /// Analyse what a recorded practice change did to the five metrics, with honest statistics:
    /// before/after with intervals, a check for pre-existing trends, and a comparison group.
    #[command(
        after_help = "Examples:\n  shiplog impact \"Trunk-based development\"                       all five metrics, 90 days each side\n  shiplog impact \"Trunk-based development\" --compare-auto        services that changed nothing as the comparison\n  shiplog impact \"Trunk-based development\" --compare-with billing --format markdown > retro.md\n  shiplog impact \"Small daily deployments\" --before 12w --after 12w --transition 0d --format json\n\nEach metric ends in a verdict: improved, worse, no detectable change, or not enough data yet.\nMethods and assumptions: docs/impact.md."
    )]
    Impact(ImpactArgs),
    /// The guide: where the team stands on DORA's Quick Check, what its own data says about each
    /// capability (small batches, trunk-based development, CI, code review, deployment and test
    /// automation, monitoring, loosely coupled teams), where to start, and an experiment sized to
    /// show whether the change helped.
    #[command(
        after_help = "Examples:\n  shiplog guide --deploys tags                          where you stand, signals, where to start\n  shiplog guide --service api --industry technology --org-size fewer_than_500\n  shiplog guide --team payments --since 180d --format markdown > guide.md\n  shiplog guide --format json                           every number, for scripts\n  shiplog guide assess                                  answer the self-assessment statements (on a terminal)\n  shiplog guide assess --answers answers.toml           the same from a file (TOML or JSON)\n\nIndustry and organisation size can also be set in shiplog.toml ([guide] industry, org_size).\nScores and benchmarks: DORA's Quick Check (dora.dev, CC BY 4.0); the benchmarks are survey answers.\nSee docs/guide.md."
    )]
    Guide(GuideArgs),
    /// Run a practice change as an experiment: its expected effect written down before it starts,
    /// judged when its time is up (reached, not reached, or cannot tell yet).
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// Write the delivery report: one self-contained HTML page (or Markdown, or the JSON of its
    /// model) with the headline metrics, trends, deployments, practice changes and the records
    /// behind every number.
    #[command(
        after_help = "Examples:\n  shiplog report --html report.html                       every service, the last 90 days\n  shiplog report --service api --since 180d --html api.html\n  shiplog report --team payments --format markdown > payments.md\n  shiplog report --format json                            the model the page is rendered from"
    )]
    Report(ReportArgs),
    /// Build a realistic demo repository with deployments and incidents, then show its metrics.
    Demo(DemoArgs),
    /// Run the team server: webhooks from GitHub, GitLab, PagerDuty and CDEvents stored before
    /// they are acknowledged, an HTTP API answering what the CLI prints, Prometheus metrics.
    #[command(
        after_help = "Examples:\n  shiplog serve                                     127.0.0.1:8080, SQLite under ./shiplog-data, this repository\n  shiplog serve --config shiplog-server.toml         repositories and webhook secrets from a file\n  shiplog serve token create --name ci --scope events:write\n  shiplog serve reprocess --failed                  process the dead-letter deliveries again\n  SHIPLOG_TOKEN=... shiplog record deployment --server http://shiplog:8080 ...\n\nIn `shiplog serve`, --config names the server's file (default ./shiplog-server.toml when present).\nSee docs/server.md."
    )]
    Serve(ServeArgs),
    /// Write or check shiplog.toml: services, teams, monorepo paths, definition options.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuideFormatArg {
    /// Sections of text and tables, for a terminal.
    Table,
    /// Every number, signal, reason and proposed command.
    Json,
    /// The same as the table, in Markdown (for a retro or a wiki).
    Markdown,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GuideArgs {
    #[command(subcommand)]
    pub action: Option<GuideCommand>,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// The team's industry, to compare with DORA's 2025 benchmarks (e.g. technology, consumer,
    /// financial_services; an unknown one lists them). Default: `guide.industry` in shiplog.toml.
    #[arg(long, value_name = "KEY")]
    pub industry: Option<String>,

    /// The organisation's size, to compare with DORA's 2025 benchmarks (e.g. fewer_than_100,
    /// fewer_than_500, more_than_9999). Default: `guide.org_size` in shiplog.toml.
    #[arg(long = "org-size", value_name = "KEY")]
    pub org_size: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: GuideFormatArg,

    /// Simulated verdicts per experiment length when sizing the proposed experiments (0: not
    /// sized).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=20_000))]
    pub power_simulations: u32,

    /// Seed of the sizing simulation: the same records and seed give the same proposal.
    #[arg(long, default_value_t = 20_260_303)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum GuideCommand {
    /// Answer DORA's self-assessment statements (1 strongly disagree … 5 strongly agree) for the
    /// capabilities no data can show; the answers are stored with their date and shown by
    /// `shiplog guide`.
    #[command(
        after_help = "Examples:\n  shiplog guide assess                                      asks each statement on a terminal\n  shiplog guide assess --capability continuous-integration\n  shiplog guide assess --answers answers.toml\n\nanswers.toml (one answer per statement, in the order `shiplog guide` lists them):\n  answered_on = \"2026-03-03\"      # optional; default today\n  [answers]\n  continuous-integration = [4, 5, 3, 4, 2]\nA .json file holds the same: {\"answers\": {\"continuous-integration\": [4, 5, 3, 4, 2]}}"
    )]
    Assess(GuideAssessArgs),
}

#[derive(Debug, Args)]
pub struct GuideAssessArgs {
    /// Read the answers from FILE (TOML, or JSON for a .json file) instead of asking.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Ask only about this capability (repeat for several). Default: every capability with
    /// statements.
    #[arg(long = "capability", value_name = "SLUG", conflicts_with = "answers")]
    pub capabilities: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a fully commented default shiplog.toml (every setting with its default).
    #[command(after_help = "Example:\n  shiplog config init > shiplog.toml")]
    Init,
    /// Validate the configuration and print it with every default filled in.
    #[command(
        after_help = "Reads --config PATH (or SHIPLOG_CONFIG), else shiplog.toml at the repository root."
    )]
    Check,
}

#[derive(Debug, Subcommand)]
pub enum PracticeCommand {
    /// Record that a practice started. Recording the same name again updates it (its end date, if
    /// any, is kept).
    #[command(
        after_help = "Examples:\n  shiplog practice start \"Trunk-based development\" --on 2026-03-03 --service api --service web\n  shiplog practice start \"Pair programming\" --on 2026-01-05 --team payments --capability code-maintainability\n  shiplog practice start \"Small batches\" --on 2026-04-01 --note \"PRs under 200 lines\"   (every service)"
    )]
    Start(PracticeStartArgs),
    /// Record that a practice ended (the impact analysis stops there).
    #[command(after_help = "Example:\n  shiplog practice end \"Pair programming\" --on 2026-02-27")]
    End(PracticeEndArgs),
    /// List the recorded practice changes.
    List(PracticeListArgs),
}

#[derive(Debug, Args)]
pub struct PracticeStartArgs {
    /// The practice's name, e.g. "Trunk-based development"; it identifies the change.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The first day of the new practice (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub on: String,
    /// A service that changed practice (repeat for several). Default: every service.
    #[arg(long = "service", value_name = "NAME", conflicts_with = "team")]
    pub services: Vec<String>,
    /// The team that changed practice (its services come from configuration).
    #[arg(long, value_name = "NAME")]
    pub team: Option<String>,
    /// The DORA capability it relates to, as a slug (e.g. trunk-based-development).
    #[arg(long, value_name = "SLUG")]
    pub capability: Option<String>,
    /// What exactly changed.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExperimentCommand {
    /// Record a practice change with its hypothesis: which metric should move, which way, by how
    /// much, and for how long (so its review date).
    #[command(
        after_help = "Examples:\n  shiplog experiment start \"Review within a day\" --capability streamlining-change-approval \\\n      --on 2026-03-02 --expect \"change_lead_time -30%\" --for 8w --service api\n  shiplog experiment start \"Small batches\" --on 2026-04-06 --for 12w --team payments \\\n      --expect \"deployment_frequency +50%\" --expect \"change_fail_rate -5pp\" --compare-auto\n\n--expect is METRIC CHANGE. METRIC: deployment_frequency, change_lead_time, change_fail_rate,\nfailed_deployment_recovery_time (or recovery_time), rework_rate. CHANGE: a signed percentage for\nthe frequency, lead time and recovery time (-30%, +50%); signed percentage points for the\nfail and rework rates (-5pp).\nThe metrics expected are the review's primary metrics. See docs/experiments.md."
    )]
    Start(ExperimentStartArgs),
    /// List the experiments with their status (running, due for review, judged), dates and
    /// hypotheses.
    List(ExperimentListArgs),
    /// Judge an experiment: the impact analysis with the expected metrics as primary, and per
    /// expected effect whether it was reached, not reached, or cannot be told yet.
    #[command(
        after_help = "Examples:\n  shiplog experiment review \"Review within a day\"\n  shiplog experiment review \"Review within a day\" --format markdown > review.md\n\nBefore the review date the outcome is \"cannot tell yet\" and the numbers are provisional.\nThe review is recorded, so `experiment list` shows the experiment as judged."
    )]
    Review(ExperimentReviewArgs),
    /// Change an experiment's hypothesis: recorded as a new version with its date, and shown as an
    /// edit (after the start, prominently) by `list` and `review`.
    #[command(
        after_help = "Example:\n  shiplog experiment edit \"Review within a day\" --expect \"change_lead_time -20%\""
    )]
    Edit(ExperimentEditArgs),
}

#[derive(Debug, Args)]
pub struct ExperimentStartArgs {
    /// The experiment's name; it is also the name of its practice change.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The first day of the new practice (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub on: String,
    /// An expected effect, METRIC CHANGE, e.g. "change_lead_time -30%" or "change_fail_rate -5pp"
    /// (repeat for several; one per metric).
    #[arg(long = "expect", value_name = "EXPECTATION", required = true)]
    pub expect: Vec<String>,
    /// How long the experiment runs (whole days or weeks: 8w, 60d); its review date is the start
    /// plus this.
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: String,
    /// A service that changed practice (repeat for several). Default: every service.
    #[arg(long = "service", value_name = "NAME", conflicts_with = "team")]
    pub services: Vec<String>,
    /// The team that changed practice (its services come from configuration).
    #[arg(long, value_name = "NAME")]
    pub team: Option<String>,
    /// The DORA capability it relates to, as a slug (e.g. streamlining-change-approval).
    #[arg(long, value_name = "SLUG")]
    pub capability: Option<String>,
    /// What exactly changed.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The review's before window (whole days or weeks).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    pub before: String,
    /// Left out right after the change, while the team adapts; the after window runs from its end
    /// to the review date.
    #[arg(long, default_value = "14d", value_name = "DURATION")]
    pub transition: String,
    /// Services that do not change practice, for the review to compare with (repeat for several).
    #[arg(
        long = "compare-with",
        value_name = "SERVICE",
        conflicts_with = "compare_auto"
    )]
    pub compare_with: Vec<String>,
    /// Compare with every other service that has no practice change in the windows.
    #[arg(long)]
    pub compare_auto: bool,
}

#[derive(Debug, Args)]
pub struct ExperimentEditArgs {
    /// The experiment's name, as recorded.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The new expected effects (all of them: they replace the previous version's).
    #[arg(long = "expect", value_name = "EXPECTATION")]
    pub expect: Vec<String>,
    /// A new planned duration (8w, 60d).
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExperimentListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExperimentReviewArgs {
    /// The experiment's name, as recorded.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Review as of this time (a date, a timestamp or a duration back from now). Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Where deployments come from: `tags[=GLOB][,prereleases]`, `merges[=BRANCH]` or
    /// `recorded`. Default: recorded.
    #[arg(long, value_name = "SOURCE", value_parser = parse_deploys)]
    pub deploys: Option<DeploySource>,
    /// With --deploys tags|merges: the service those deployments belong to.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// The environment.
    #[arg(long = "env", default_value = "production", value_name = "NAME")]
    pub environment: String,
    /// The records are complete up to the review time (see `shiplog impact --help`).
    #[arg(long)]
    pub data_complete: bool,
    /// When a change's lead time starts. Default: from shiplog.toml, else author.
    #[arg(long, value_enum)]
    pub lead_time_start: Option<LeadTimeStartArg>,
    /// The attribution window of incidents (see `shiplog impact --help`).
    #[arg(long, value_name = "DURATION|none")]
    pub attribution_window: Option<String>,
    /// Leave out deployments whose commit the repository does not have instead of failing.
    #[arg(long)]
    pub skip_unknown: bool,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 20_260_303)]
    pub seed: u64,
    /// Bootstrap resamples per interval.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(200..=100_000))]
    pub resamples: u32,
    /// Simulated verdicts behind each power figure (0: none).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=20_000))]
    pub power_simulations: u32,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ImpactFormatArg,
}

#[derive(Debug, Args)]
pub struct PracticeEndArgs {
    /// The practice's name, as recorded.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The day the practice stopped (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub on: String,
}

#[derive(Debug, Args)]
pub struct PracticeListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormatArg {
    /// The story and a table of the numbers.
    Table,
    /// Every estimate, interval, p-value, sample size and verdict.
    Json,
    /// The story and the table in Markdown, to paste into a retro or a proposal.
    Markdown,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// The practice change to analyse, as recorded with `shiplog practice start`.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// How far back the before window reaches from the change (whole weeks are used).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    pub before: String,

    /// How long the after window lasts, after the transition (whole weeks; cut at --until and at
    /// the practice's end).
    #[arg(long, default_value = "90d", value_name = "DURATION")]
    pub after: String,

    /// Time right after the change left out of both windows, while the team adapts.
    #[arg(long, default_value = "14d", value_name = "DURATION")]
    pub transition: String,

    /// Services that did not change practice, to compare with (repeat for several).
    #[arg(
        long = "compare-with",
        value_name = "SERVICE",
        conflicts_with = "compare_auto"
    )]
    pub compare_with: Vec<String>,

    /// Compare with every other service that has no practice change in the windows.
    #[arg(long)]
    pub compare_auto: bool,

    /// Where deployments come from: `tags[=GLOB][,prereleases]`, `merges[=BRANCH]` or
    /// `recorded`. Default: recorded. Tags are read as release trains and versions (`v1.2.3`,
    /// `tool-1.2.0`, `@acme/web@2.0.1`: each train its own service); pre-release tags (`-rc1`)
    /// count only with `,prereleases`, and tags with no version only when GLOB names one exactly.
    #[arg(long, value_name = "SOURCE", value_parser = parse_deploys)]
    pub deploys: Option<DeploySource>,

    /// With --deploys tags|merges: the service those deployments belong to (default: the
    /// repository's directory name).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// The environment.
    #[arg(long = "env", default_value = "production", value_name = "NAME")]
    pub environment: String,

    /// Analyse as of this time (a date, a timestamp or a duration back from now). Default: now.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,

    /// The records are complete up to --until (or now): weeks after the last record are real
    /// weeks without deployments. Without it the after window ends at the last record of the
    /// services (the last commit, with --deploys tags|merges), so missing weeks are not read as
    /// weeks without deployments.
    #[arg(long)]
    pub data_complete: bool,

    /// When a change's lead time starts. Default: `definitions.lead_time_start` in shiplog.toml,
    /// else author.
    #[arg(long, value_enum)]
    pub lead_time_start: Option<LeadTimeStartArg>,

    /// Incidents without a deployment or sha are blamed on the latest deployment that finished at
    /// most this long before they opened (none: however long before). Default:
    /// `definitions.attribution_window` in shiplog.toml, else 24h.
    #[arg(long, value_name = "DURATION|none")]
    pub attribution_window: Option<String>,

    /// Leave out deployments whose commit the repository does not have instead of failing.
    #[arg(long)]
    pub skip_unknown: bool,

    /// Seed of the bootstrap: the same records and seed give the same report.
    #[arg(long, default_value_t = 20_260_303)]
    pub seed: u64,

    /// Bootstrap resamples per interval.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(200..=100_000))]
    pub resamples: u32,

    /// Simulated verdicts per metric behind the power note (0: no power figure).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=20_000))]
    pub power_simulations: u32,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ImpactFormatArg,
}

/// How deployments are found (the engine's, parsed from `--deploys`).
pub use shiplog_engine::DeploySource;

fn parse_deploys(text: &str) -> Result<DeploySource, String> {
    let (kind, arg) = match text.split_once('=') {
        Some((kind, arg)) => (kind, Some(arg)),
        None => (text, None),
    };
    match (kind, arg) {
        ("tags", None) => Ok(DeploySource::Tags("v*".to_owned())),
        ("tags,prereleases", None) => Ok(DeploySource::Tags("v*,prereleases".to_owned())),
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

fn parse_definitions(text: &str) -> Result<shiplog_core::Definitions, String> {
    text.parse()
        .map_err(|e: shiplog_core::definitions::UnknownDefinitions| e.to_string())
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

    /// Only the services of this team (teams are mapped to services in shiplog.toml).
    #[arg(long, value_name = "NAME", conflicts_with = "service")]
    pub team: Option<String>,

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

    /// When a change's lead time starts. Default: `definitions.lead_time_start` in shiplog.toml,
    /// else author. With pull-request data, author time starts each change at its pull request's
    /// first commit.
    #[arg(long, value_enum)]
    pub lead_time_start: Option<LeadTimeStartArg>,

    /// Incidents without a deployment or sha are blamed on the latest deployment that finished at
    /// most this long before they opened (e.g. 24h, 2d, 90m; none: however long before).
    /// Default: `definitions.attribution_window` in shiplog.toml, else 24h.
    #[arg(long, value_name = "DURATION|none")]
    pub attribution_window: Option<String>,

    /// Whose definitions the numbers follow: dora (shiplog's, dora.dev's), devlake, four-keys or
    /// gitlab (each peer tool's own, docs/metrics.md "Definition presets"). Default:
    /// `definitions.preset` in shiplog.toml, else dora.
    #[arg(long, value_name = "PRESET", value_parser = parse_definitions)]
    pub definitions: Option<shiplog_core::Definitions>,

    /// Leave out deployments whose commit the repository does not have (listed as warnings)
    /// instead of failing.
    #[arg(long)]
    pub skip_unknown: bool,

    /// Accept a --service, --env or --team that no record or configuration names, and report
    /// empty results for it (for scripts). Without it, such a name is an error that lists the
    /// known ones: a typo never reads as a quiet week.
    #[arg(long)]
    pub allow_unknown: bool,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,

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

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,

    /// Rows shown in a table (0 = all). JSON and CSV always hold every row.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,

    /// Instead of the items, list those whose numbers differ between the definitions in use
    /// (--definitions, default dora) and PRESET (devlake, four-keys, gitlab, dora), item by item.
    #[arg(long, value_name = "PRESET", value_parser = parse_definitions)]
    pub compare_definitions: Option<shiplog_core::Definitions>,
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
    /// Post to a team server (`shiplog serve`) instead of the local store; the token comes from
    /// SHIPLOG_TOKEN. Retried with backoff on connection errors and 5xx answers.
    #[arg(long, value_name = "URL", env = "SHIPLOG_SERVER")]
    pub server: Option<String>,
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
    /// Store it even if it finished before its commit's committer time (a clock off, a missing
    /// timestamp): it is then listed but counted in no metric. Without this, such a deployment is
    /// refused.
    #[arg(long)]
    pub allow_before_commit: bool,
    /// Who recorded it: `ci`, `ci:<system>` or `manual`. Without it, CI is detected from the
    /// environment: GITHUB_ACTIONS=true gives ci:github-actions, GITLAB_CI gitlab, BUILDKITE
    /// buildkite, CIRCLECI circleci, JENKINS_URL jenkins, TF_BUILD azure-pipelines, TRAVIS travis,
    /// TEAMCITY_VERSION teamcity, BITBUCKET_BUILD_NUMBER bitbucket-pipelines, DRONE drone,
    /// CODEBUILD_BUILD_ID aws-codebuild, and CI=true (or 1) alone gives ci; none of them set gives
    /// manual. Feeds the guide's deployments_recorded_by_ci signal.
    #[arg(long, value_name = "WHO")]
    pub recorded_by: Option<String>,
}

#[derive(Debug, Args)]
pub struct RecordIncidentArgs {
    /// Post to a team server (`shiplog serve`) instead of the local store; the token comes from
    /// SHIPLOG_TOKEN. Retried with backoff on connection errors and 5xx answers.
    #[arg(long, value_name = "URL", env = "SHIPLOG_SERVER")]
    pub server: Option<String>,
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
    /// Choose from the headers (.http files), the extension (.csv, .jsonl/.ndjson) and the
    /// content.
    Auto,
    /// shiplog's JSON Lines.
    Jsonl,
    /// shiplog's CSV.
    Csv,
    /// GitHub webhook payloads and REST API list responses.
    Github,
    /// GitLab webhook payloads and REST API list responses.
    Gitlab,
    /// PagerDuty v3 webhook events and the REST incidents list.
    Pagerduty,
    /// CDEvents v0.4/v0.5, plain or as CloudEvents.
    Cdevents,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Post to a team server (`shiplog serve`) instead of the local store; the token comes from
    /// SHIPLOG_TOKEN. Retried with backoff on connection errors and 5xx answers.
    #[arg(long, value_name = "URL", env = "SHIPLOG_SERVER")]
    pub server: Option<String>,
    /// Files to import; `-` reads standard input. A `.http` file is a saved HTTP request (request
    /// line, headers, blank line, body), e.g. a webhook delivery or a CloudEvents binary-mode event.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The files' format.
    #[arg(
        long = "from",
        alias = "input-format",
        value_name = "FORMAT",
        value_enum,
        default_value = "auto"
    )]
    pub input_format: InputFormat,
    /// For GitHub, GitLab, PagerDuty and CDEvents: the service of every record whose source service
    /// (repository, project, PagerDuty service, CDEvents service) is not mapped; or SOURCE=NAME to
    /// map one (repeat for several). Without it a source's own name is used when valid.
    #[arg(long = "service", value_name = "NAME|SOURCE=NAME")]
    pub services: Vec<String>,
    /// For GitHub, GitLab, PagerDuty and CDEvents: SOURCE=NAME maps a source environment (repeat
    /// for several); NAME is the environment of records whose source names none (PagerDuty
    /// incidents, issues, workflow runs). Default: production.
    #[arg(long = "env", value_name = "NAME|SOURCE=NAME")]
    pub environments: Vec<String>,
    /// A GitHub or GitLab issue label that makes an issue an incident (repeat for several).
    /// Default: incident.
    #[arg(long = "incident-label", value_name = "LABEL")]
    pub incident_labels: Vec<String>,
    /// A GitHub workflow (name, file name or path) whose completed runs are deployments (repeat for
    /// several).
    #[arg(long = "deploy-workflow", value_name = "WORKFLOW")]
    pub deploy_workflows: Vec<String>,
    /// Published GitHub releases are successful deployments of their tag's commit (to the --env
    /// NAME environment, default production) at their publication time; drafts and pre-releases
    /// are not. The tags are looked up in the repository (--repo).
    #[arg(long)]
    pub deploy_releases: bool,
    /// Import deployments that finished before their commit's committer time (a clock off, an
    /// empty timestamp read as 1970): they are stored, listed by `shiplog explain deployments` and
    /// counted in no metric. Without this, the import fails naming each one.
    #[arg(long)]
    pub allow_before_commit: bool,
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Sync one GitHub repository through the REST API: pull requests with their reviews and
    /// comments, deployments and their statuses, releases (deployments with --deploy-releases),
    /// incident issues (and workflow runs with --deploy-workflow). The token comes from GITHUB_TOKEN, else `gh auth token`.
    #[command(
        after_help = "Examples:\n  shiplog sync github acme/shop                 first run: everything; later: what changed\n  shiplog sync github acme/shop --since 180d    what changed in the last 180 days\n  shiplog sync github acme/shop --base-url https://ghe.example.com/api/v3\n  shiplog sync github acme/shop --deploy-workflow deploy.yml --incident-label sev1\nIn GitHub Actions, GITHUB_REPOSITORY and GITHUB_API_URL name the repository and the API.\nSee docs/ingestion.md (\"Live sync from GitHub\")."
    )]
    Github(SyncGithubArgs),
}

#[derive(Debug, Args)]
pub struct SyncGithubArgs {
    /// The repository, OWNER/REPO.
    #[arg(value_name = "OWNER/REPO", env = "GITHUB_REPOSITORY")]
    pub repository: String,
    /// The API's base URL; for GitHub Enterprise Server https://HOST/api/v3.
    #[arg(
        long,
        env = "GITHUB_API_URL",
        default_value = "https://api.github.com",
        value_name = "URL"
    )]
    pub base_url: String,
    /// Fetch what changed since WHEN (90d, a date or a timestamp) instead of since the last sync.
    #[arg(long, value_name = "WHEN", conflicts_with = "full")]
    pub since: Option<String>,
    /// Fetch everything again, as on a first sync.
    #[arg(long)]
    pub full: bool,
    /// The longest wait for a rate limit to reset (e.g. 15m, 1h; 0s never waits); a longer one
    /// stops the sync, storing nothing, with the time it resets.
    #[arg(long, default_value = "15m", value_name = "DURATION")]
    pub max_wait: String,
    /// The service of every record whose repository is not mapped; or SOURCE=NAME to map one
    /// (repeat for several). Default: the repository's name.
    #[arg(long = "service", value_name = "NAME|SOURCE=NAME")]
    pub services: Vec<String>,
    /// SOURCE=NAME maps a GitHub environment (repeat for several); NAME is the environment of
    /// incident issues and workflow runs. Default: production.
    #[arg(long = "env", value_name = "NAME|SOURCE=NAME")]
    pub environments: Vec<String>,
    /// An issue label that makes an issue an incident (repeat for several). Default: incident.
    #[arg(long = "incident-label", value_name = "LABEL")]
    pub incident_labels: Vec<String>,
    /// A workflow (name, file name or path) whose completed runs are deployments (repeat for
    /// several); workflow runs are only fetched with it.
    #[arg(long = "deploy-workflow", value_name = "WORKFLOW")]
    pub deploy_workflows: Vec<String>,
    /// Published releases are successful deployments of their tag's commit (to the --env NAME
    /// environment, default production) at their publication time; drafts and pre-releases are
    /// not. The tags are looked up in the repository (--repo).
    #[arg(long)]
    pub deploy_releases: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    /// One self-contained HTML page.
    Html,
    /// Markdown, for a wiki or a retro document.
    Markdown,
    /// The report's model: every number the page shows.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Trend periods. Default: weeks for windows up to 183 days, months beyond.
    #[arg(long, value_enum)]
    pub by: Option<ByPeriod>,

    /// Write the HTML page to FILE (the same as --format html --output FILE).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["format", "output"])]
    pub html: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormatArg,

    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rows of each drill-down list in the page (the newest are kept).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub rows: usize,

    /// The repository's web address for commit and pull-request links (e.g.
    /// https://github.com/acme/app). Default: from the origin remote's URL.
    #[arg(long, value_name = "URL")]
    pub web_url: Option<String>,

    /// Services to compare each practice change with. Default: every service that changed
    /// nothing in the windows (as `shiplog impact --compare-auto`).
    #[arg(long = "compare-with", value_name = "SERVICE")]
    pub compare_with: Vec<String>,

    /// Bootstrap resamples per interval of the impact analyses.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(200..=100_000))]
    pub resamples: u32,

    /// Seed of the bootstrap: the same records and seed give the same report.
    #[arg(long, default_value_t = 20_260_303)]
    pub seed: u64,

    /// The team's industry, for the Guide section's comparison with DORA's 2025 benchmarks (as
    /// `shiplog guide --industry`). Default: `guide.industry` in shiplog.toml.
    #[arg(long, value_name = "KEY")]
    pub industry: Option<String>,

    /// The organisation's size, for the Guide section's benchmarks (as `shiplog guide
    /// --org-size`). Default: `guide.org_size` in shiplog.toml.
    #[arg(long = "org-size", value_name = "KEY")]
    pub org_size: Option<String>,

    /// Leave the Guide section out (the dashboard links to its own guide page instead).
    #[arg(long)]
    pub no_guide: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub action: Option<ServeCommand>,
    /// The address to listen on. Default: `listen` in shiplog-server.toml, else 127.0.0.1:8080.
    /// A non-loopback address needs an API token and every webhook source's secret first.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Where the store (SQLite), the repository mirrors and caches live. Default: `data_dir` in
    /// shiplog-server.toml, else ./shiplog-data.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store in PostgreSQL instead of SQLite (postgres://user:password@host/db).
    #[arg(long, global = true, env = "SHIPLOG_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Log lines as text or JSON (one object per line). RUST_LOG filters (default info).
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Create, list or revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Process stored deliveries again (after fixing what made them fail); a running server picks
    /// them up.
    Reprocess(ReprocessArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    #[command(
        after_help = "Scopes: read (metrics, explanations, the ingest log) < events:write (also post records) < admin (also reprocess, read delivery bodies).\nExample:\n  shiplog serve token create --name ci --scope events:write"
    )]
    Create(TokenCreateArgs),
    /// List the tokens (names, scopes, dates; never the tokens).
    List,
    /// Revoke a token: requests with it are refused from now on.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// A name saying who uses it (`ci`, `grafana`).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// What it may do: read, events:write or admin.
    #[arg(long, value_name = "SCOPE", default_value = "read")]
    pub scope: String,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's name.
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["delivery", "failed"])))]
pub struct ReprocessArgs {
    /// One delivery, by its number in the ingest log.
    #[arg(long, value_name = "N")]
    pub delivery: Option<i64>,
    /// Every failed delivery (the dead-letter list).
    #[arg(long)]
    pub failed: bool,
}
