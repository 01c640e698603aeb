//! `shiplog demo`: builds a realistic demo in seconds so a newcomer sees every part working.
//!
//! The demo is a monorepo with three services (`api`, `web`, `billing`) and six months of history:
//! short feature branches merged into `main`, deployments recorded for each service, incidents,
//! rollbacks, reverts and hotfixes. Half-way, `api` and `web` change practice — from large weekly
//! deployments to small daily ones — while `billing` carries on as before and serves as the
//! comparison. The repository is written with `git fast-import` (one process, one pack) and the
//! records go through the same store as `shiplog record` would write them. Everything is generated
//! from a seed, so the same seed and end date always give the same demo.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use shiplog_core::experiment::{ComparisonPlan, Expectation, Hypothesis};
use shiplog_core::metrics::Scope;
use shiplog_core::{
    AttributionOptions, Capability, Deployment, DeploymentId, DeploymentSource, DeploymentStatus,
    Environment, Incident, IncidentId, LeadTimeStart, PracticeChange, PracticeName, PracticeScope,
    ServiceName, Sha, TimeWindow,
};
use shiplog_store::{EventBatch, Store};

use crate::analysis::{AnalysisOptions, analyze_with, db_path, open_repo, open_store};
use crate::cli::{ByPeriod, DemoArgs, DeploySource};
use crate::commands::{metric_rows, output_format, print};
use crate::ui::Ui;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const MINUTE: i64 = 60;

const AUTHORS: [(&str, &str, &str); 6] = [
    ("Ada Okafor", "ada@example.com", "+0100"),
    ("Bruno Silva", "bruno@example.com", "-0300"),
    ("Chen Wei", "chen@example.com", "+0800"),
    ("Dana Levi", "dana@example.com", "+0200"),
    ("Emil Novak", "emil@example.com", "+0100"),
    ("Farah Haddad", "farah@example.com", "+0000"),
];

const TOPICS: [&str; 12] = [
    "checkout flow",
    "invoice export",
    "search filters",
    "session handling",
    "rate limiter",
    "email templates",
    "audit log",
    "feature flags",
    "retry policy",
    "pagination",
    "cache warmup",
    "metrics endpoint",
];

const VERBS: [&str; 6] = ["Add", "Fix", "Refactor", "Improve", "Tidy", "Speed up"];

/// How one service works before and after the half-way practice change.
struct ServicePlan {
    name: &'static str,
    /// Feature branches started per working day.
    branches_per_day: f64,
    /// Production deployments: days between them before and after the change.
    deploy_every_days: (f64, f64),
    /// Probability that a deployment fails, before and after.
    fail_probability: (f64, f64),
}

const PLANS: [ServicePlan; 3] = [
    ServicePlan {
        name: "api",
        branches_per_day: 3.0,
        deploy_every_days: (7.0, 1.0),
        fail_probability: (0.30, 0.10),
    },
    ServicePlan {
        name: "web",
        branches_per_day: 2.0,
        deploy_every_days: (7.0, 1.0),
        fail_probability: (0.25, 0.10),
    },
    ServicePlan {
        name: "billing",
        branches_per_day: 1.5,
        deploy_every_days: (3.5, 3.5),
        fail_probability: (0.15, 0.15),
    },
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Commit number `k` of feature branch `branch`.
    BranchCommit { branch: usize, k: usize },
    /// Merge feature branch `branch` into main.
    Merge { branch: usize },
    /// Revert the merge with mark `mark` on main.
    Revert { mark: u64, subject: String },
    /// A direct fix on main.
    Hotfix { service: usize },
    /// A deployment of `service`; `pinned` deploys a given commit (a rollback).
    Deploy {
        service: usize,
        environment: &'static str,
        pinned: Option<u64>,
        unplanned: bool,
    },
}

struct Branch {
    service: usize,
    author: usize,
    subject: String,
    head: Option<u64>,
    files: BTreeMap<String, String>,
}

struct DeployRecord {
    id: String,
    service: usize,
    environment: &'static str,
    mark: u64,
    at: i64,
    unplanned: bool,
}

struct IncidentRecord {
    id: String,
    service: usize,
    opened: i64,
    resolved: Option<i64>,
    title: String,
    sha_mark: Option<u64>,
}

/// A running `git fast-import`, fed commit by commit.
struct FastImport {
    child: Child,
    input: BufWriter<std::process::ChildStdin>,
    output: BufReader<ChildStdout>,
    next_mark: u64,
}

impl FastImport {
    fn start(dir: &Path) -> Result<Self> {
        let mut child = Command::new("git")
            .args(["fast-import", "--quiet", "--done"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot run `git fast-import` (is git installed?)")?;
        let input = BufWriter::new(child.stdin.take().context("fast-import stdin")?);
        let output = BufReader::new(child.stdout.take().context("fast-import stdout")?);
        let mut this = Self {
            child,
            input,
            output,
            next_mark: 1,
        };
        writeln!(this.input, "feature done")?;
        writeln!(this.input, "feature get-mark")?;
        Ok(this)
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        reference: &str,
        author: usize,
        time: i64,
        message: &str,
        parents: &[u64],
        files: &BTreeMap<String, String>,
    ) -> Result<u64> {
        let mark = self.next_mark;
        self.next_mark += 1;
        let (name, email, offset) = AUTHORS[author];
        let w = &mut self.input;
        writeln!(w, "commit {reference}")?;
        writeln!(w, "mark :{mark}")?;
        writeln!(w, "author {name} <{email}> {time} {offset}")?;
        writeln!(w, "committer {name} <{email}> {time} {offset}")?;
        writeln!(w, "data {}", message.len())?;
        w.write_all(message.as_bytes())?;
        writeln!(w)?;
        if let Some(first) = parents.first() {
            writeln!(w, "from :{first}")?;
        }
        for other in parents.iter().skip(1) {
            writeln!(w, "merge :{other}")?;
        }
        for (path, content) in files {
            writeln!(w, "M 644 inline {path}")?;
            writeln!(w, "data {}", content.len())?;
            w.write_all(content.as_bytes())?;
            writeln!(w)?;
        }
        writeln!(w)?;
        Ok(mark)
    }

    fn sha_of(&mut self, mark: u64) -> Result<Sha> {
        writeln!(self.input, "get-mark :{mark}")?;
        self.input.flush()?;
        let mut line = String::new();
        self.output.read_line(&mut line)?;
        Sha::from_hex(line.trim()).with_context(|| format!("fast-import answered {line:?}"))
    }

    fn finish(mut self, main: u64) -> Result<()> {
        writeln!(self.input, "reset refs/heads/main")?;
        writeln!(self.input, "from :{main}")?;
        writeln!(self.input)?;
        writeln!(self.input, "done")?;
        self.input.flush()?;
        drop(self.input);
        let status = self.child.wait()?;
        if !status.success() {
            bail!("git fast-import failed ({status})");
        }
        Ok(())
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("cannot run git {}", args.join(" ")))?;
    if !status.success() {
        bail!("git {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn working_time(rng: &mut Pcg64, day_start: i64) -> i64 {
    day_start + 9 * HOUR + rng.random_range(0..8 * HOUR)
}

fn is_weekend(day_start: i64) -> bool {
    // 1970-01-01 was a Thursday: day 0 → Thursday, so (days + 3) % 7 gives Monday = 0.
    let weekday = (day_start.div_euclid(DAY) + 3).rem_euclid(7);
    weekday >= 5
}

/// What the demo generated, for the summary.
struct Generated {
    commits: u64,
    deployments: Vec<Deployment>,
    incidents: Vec<Incident>,
}

fn generate(dir: &Path, start: i64, end: i64, seed: u64) -> Result<Generated> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mid = start + (end - start) / 2;
    let mut fi = FastImport::start(dir)?;

    // Initial commit: the services' skeletons.
    let mut skeleton = BTreeMap::new();
    for plan in &PLANS {
        skeleton.insert(
            format!("services/{}/README.md", plan.name),
            format!("# {}\n", plan.name),
        );
    }
    let mut main = fi.commit(
        "refs/heads/main",
        0,
        start - 30 * DAY,
        "Initial import\n",
        &[],
        &skeleton,
    )?;

    let mut events: BinaryHeap<Reverse<(i64, u64, Event)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |events: &mut BinaryHeap<Reverse<(i64, u64, Event)>>, at: i64, event: Event| {
        seq += 1;
        events.push(Reverse((at, seq, event)));
    };

    // Feature branches, the same way of working all along.
    let mut branches: Vec<Branch> = Vec::new();
    let mut day = start;
    while day < end {
        if !is_weekend(day) {
            for (s, plan) in PLANS.iter().enumerate() {
                let whole = plan.branches_per_day.floor() as usize;
                let extra = usize::from(rng.random_bool(plan.branches_per_day.fract()));
                for _ in 0..whole + extra {
                    let b = branches.len();
                    let commits = rng.random_range(1..=4);
                    let subject = format!(
                        "{} {} in {}",
                        VERBS[rng.random_range(0..VERBS.len())],
                        TOPICS[rng.random_range(0..TOPICS.len())],
                        plan.name
                    );
                    branches.push(Branch {
                        service: s,
                        author: rng.random_range(0..AUTHORS.len()),
                        subject,
                        head: None,
                        files: BTreeMap::new(),
                    });
                    let mut t = working_time(&mut rng, day);
                    for k in 0..commits {
                        push(&mut events, t, Event::BranchCommit { branch: b, k });
                        t += rng.random_range(20 * MINUTE..5 * HOUR);
                    }
                    // Review and merge: from an hour to two days later.
                    t += rng.random_range(HOUR..2 * DAY);
                    if t < end {
                        push(&mut events, t, Event::Merge { branch: b });
                    }
                }
            }
        }
        day += DAY;
    }

    // Deployment schedules.
    for (s, plan) in PLANS.iter().enumerate() {
        let mut t = start + rng.random_range(0..DAY);
        while t < end {
            let every = if t < mid {
                plan.deploy_every_days.0
            } else {
                plan.deploy_every_days.1
            };
            // A release train that falls on a weekend leaves on Monday; daily deployments skip
            // weekends.
            let mut day = t - t.rem_euclid(DAY);
            if every >= 2.0 {
                while is_weekend(day) {
                    day += DAY;
                }
            }
            if !is_weekend(day) && day < end {
                let at = day + 10 * HOUR + rng.random_range(0..7 * HOUR);
                push(
                    &mut events,
                    at,
                    Event::Deploy {
                        service: s,
                        environment: "production",
                        pinned: None,
                        unplanned: false,
                    },
                );
                if s == 0 {
                    push(
                        &mut events,
                        at - rng.random_range(20 * MINUTE..90 * MINUTE),
                        Event::Deploy {
                            service: s,
                            environment: "staging",
                            pinned: None,
                            unplanned: false,
                        },
                    );
                }
            }
            let jitter = rng.random_range(0.7..1.3);
            t += ((every * jitter) * DAY as f64) as i64;
        }
    }

    let mut deploys: Vec<DeployRecord> = Vec::new();
    let mut incidents: Vec<IncidentRecord> = Vec::new();
    let mut last_production: Vec<Option<u64>> = vec![None; PLANS.len()];
    let mut merges_since_deploy: Vec<Vec<(u64, String)>> = vec![Vec::new(); PLANS.len()];
    let mut recent_merges: Vec<(u64, String)> = Vec::new();
    let mut deploy_counts = vec![0usize; PLANS.len()];
    let mut incident_number = 1000;
    let mut hotfix_number = 0;

    while let Some(Reverse((at, _, event))) = events.pop() {
        if at >= end {
            continue;
        }
        match event {
            Event::BranchCommit { branch, k } => {
                let b = &mut branches[branch];
                let service = PLANS[b.service].name;
                let path = format!("services/{service}/src/change_{branch}.txt");
                b.files
                    .insert(path.clone(), format!("{}\nstep {k}\n", b.subject));
                let message = if k == 0 {
                    format!("{}\n\nFirst cut.\n", b.subject)
                } else {
                    format!("{} (part {})\n", b.subject, k + 1)
                };
                let parent = b.head.unwrap_or(main);
                let files: BTreeMap<String, String> =
                    [(path, format!("{}\nstep {k}\n", b.subject))].into();
                let mark = fi.commit(
                    "refs/shiplog-demo/work",
                    b.author,
                    at,
                    &message,
                    &[parent],
                    &files,
                )?;
                branches[branch].head = Some(mark);
            }
            Event::Merge { branch } => {
                let b = &branches[branch];
                let Some(head) = b.head else { continue };
                let message = format!("Merge branch 'feature-{branch}'\n\n{}\n", b.subject);
                main = fi.commit(
                    "refs/heads/main",
                    b.author,
                    at,
                    &message,
                    &[main, head],
                    &b.files,
                )?;
                merges_since_deploy[b.service].push((main, b.subject.clone()));
                recent_merges.push((main, b.subject.clone()));
            }
            Event::Revert { mark, subject } => {
                let sha = fi.sha_of(mark)?;
                let message = format!(
                    "Revert \"{subject}\"\n\nThis reverts commit {sha}, reversing\nchanges made by that merge.\n"
                );
                let files: BTreeMap<String, String> = [(
                    format!("services/reverts/{sha}.txt"),
                    "reverted\n".to_owned(),
                )]
                .into();
                main = fi.commit("refs/heads/main", 3, at, &message, &[main], &files)?;
            }
            Event::Hotfix { service } => {
                hotfix_number += 1;
                let message = format!(
                    "Hotfix: guard against empty payloads in {}\n",
                    PLANS[service].name
                );
                let files: BTreeMap<String, String> = [(
                    format!(
                        "services/{}/src/hotfix_{hotfix_number}.txt",
                        PLANS[service].name
                    ),
                    "guard\n".to_owned(),
                )]
                .into();
                main = fi.commit("refs/heads/main", 5, at, &message, &[main], &files)?;
                push(
                    &mut events,
                    at + rng.random_range(15 * MINUTE..45 * MINUTE),
                    Event::Deploy {
                        service,
                        environment: "production",
                        pinned: None,
                        unplanned: true,
                    },
                );
            }
            Event::Deploy {
                service,
                environment,
                pinned,
                unplanned,
            } => {
                let plan = &PLANS[service];
                let mark = pinned.unwrap_or(main);
                deploy_counts[service] += 1;
                let id = format!(
                    "{}-{}{:04}",
                    plan.name,
                    if environment == "staging" { "stg-" } else { "" },
                    deploy_counts[service]
                );
                deploys.push(DeployRecord {
                    id,
                    service,
                    environment,
                    mark,
                    at,
                    unplanned,
                });
                if environment != "production" {
                    continue;
                }
                let previous = last_production[service].replace(mark);
                let shipped = std::mem::take(&mut merges_since_deploy[service]);
                if pinned.is_some() || shipped.is_empty() {
                    continue;
                }
                let p = if at < mid {
                    plan.fail_probability.0
                } else {
                    plan.fail_probability.1
                };
                if !rng.random_bool(p) {
                    continue;
                }
                // How this deployment fails: rollback, revert or incident (with a hotfix).
                match rng.random_range(0..10) {
                    0..=2 if previous.is_some() => {
                        push(
                            &mut events,
                            at + rng.random_range(15 * MINUTE..2 * HOUR),
                            Event::Deploy {
                                service,
                                environment: "production",
                                pinned: previous,
                                unplanned: false,
                            },
                        );
                    }
                    3..=4 => {
                        let (mark, subject) = shipped[rng.random_range(0..shipped.len())].clone();
                        push(
                            &mut events,
                            at + rng.random_range(2 * HOUR..20 * HOUR),
                            Event::Revert { mark, subject },
                        );
                    }
                    _ => {
                        incident_number += 1;
                        let opened = at + rng.random_range(10 * MINUTE..6 * HOUR);
                        let resolved = opened + rng.random_range(30 * MINUTE..10 * HOUR);
                        let recent = end - opened < 2 * DAY;
                        incidents.push(IncidentRecord {
                            id: format!("INC-{incident_number}"),
                            service,
                            opened,
                            resolved: (!recent).then_some(resolved),
                            title: format!("Elevated error rate in {}", plan.name),
                            sha_mark: None,
                        });
                        if rng.random_bool(0.5) {
                            push(
                                &mut events,
                                opened + rng.random_range(30 * MINUTE..2 * HOUR),
                                Event::Hotfix { service },
                            );
                        }
                    }
                }
            }
        }
    }
    // Two incidents no deployment explains (weekend alerts), and one blamed on a commit.
    for (k, service) in [(0usize, 2usize), (1, 1)] {
        let mut opened = start + (40 + 60 * k as i64) * DAY;
        while !is_weekend(opened - opened.rem_euclid(DAY)) {
            opened += DAY;
        }
        opened += 3 * HOUR;
        incident_number += 1;
        incidents.push(IncidentRecord {
            id: format!("INC-{incident_number}"),
            service,
            opened: opened + DAY,
            resolved: Some(opened + DAY + 2 * HOUR),
            title: format!("Upstream provider outage affecting {}", PLANS[service].name),
            sha_mark: None,
        });
    }
    if let Some((mark, subject)) = recent_merges.get(recent_merges.len() / 3).cloned() {
        incident_number += 1;
        let at = deploys
            .iter()
            .find(|d| d.service == 0 && d.environment == "production" && d.mark >= mark)
            .map_or(start, |d| d.at);
        incidents.push(IncidentRecord {
            id: format!("INC-{incident_number}"),
            service: 0,
            opened: at + 3 * DAY,
            resolved: Some(at + 3 * DAY + 4 * HOUR),
            title: format!("Data inconsistency traced to \"{subject}\""),
            sha_mark: Some(mark),
        });
    }

    // Resolve marks to shas.
    let mut shas: BTreeMap<u64, Sha> = BTreeMap::new();
    for mark in deploys
        .iter()
        .map(|d| d.mark)
        .chain(incidents.iter().filter_map(|i| i.sha_mark))
    {
        if let std::collections::btree_map::Entry::Vacant(e) = shas.entry(mark) {
            e.insert(fi.sha_of(mark)?);
        }
    }
    let commits = fi.next_mark - 1;
    fi.finish(main)?;
    git(dir, &["update-ref", "-d", "refs/shiplog-demo/work"])?;
    git(dir, &["reset", "--hard", "-q", "main"])?;

    let ts = |secs: i64| Timestamp::from_second(secs).context("demo time out of range");
    let mut out = Generated {
        commits,
        deployments: Vec::new(),
        incidents: Vec::new(),
    };
    for d in deploys {
        out.deployments.push(Deployment {
            id: DeploymentId::new(&d.id)?,
            service: ServiceName::new(PLANS[d.service].name)?,
            environment: Environment::new(d.environment)?,
            sha: shas[&d.mark],
            finished_at: ts(d.at)?,
            started_at: Some(ts(d.at - 8 * MINUTE)?),
            status: DeploymentStatus::Success,
            unplanned: d.unplanned,
            source: DeploymentSource::Recorded,
            recorded_by: None,
        });
    }
    for i in incidents {
        out.incidents.push(Incident {
            id: IncidentId::new(&i.id)?,
            service: ServiceName::new(PLANS[i.service].name)?,
            environment: Environment::production(),
            opened_at: ts(i.opened)?,
            resolved_at: i.resolved.map(ts).transpose()?,
            deployment_id: None,
            sha: i.sha_mark.map(|m| shas[&m]),
            title: Some(i.title),
            duplicate_of: None,
        });
    }
    Ok(out)
}

/// The demo's name for its half-way practice change.
pub const PRACTICE: &str = "Small daily deployments";

/// The practice change api and web make half-way, as `shiplog practice start` would record it.
fn demo_practice(start: i64, end: i64) -> Result<PracticeChange> {
    let mid = Timestamp::from_second(start + (end - start) / 2)?;
    Ok(PracticeChange {
        name: PracticeName::new(PRACTICE)?,
        started_on: mid.to_zoned(jiff::tz::TimeZone::UTC).date(),
        ended_on: None,
        scope: PracticeScope::services(vec![ServiceName::new("api")?, ServiceName::new("web")?]),
        capability: Some(Capability::new("working-in-small-batches")?),
        note: Some("from large weekly deployments to small daily ones".to_owned()),
    })
}

/// The hypothesis the demo's teams wrote a week before the change, as `shiplog experiment start
/// "Small daily deployments" --for 12w --expect "deployment_frequency +100%" --expect
/// "change_lead_time -30%" --before 12w --compare-with billing` would record it: deployments at
/// least twice as often, lead times at least 30% shorter, judged against billing after 12 weeks.
fn demo_hypothesis(change: &PracticeChange) -> Result<Hypothesis> {
    let start = shiplog_core::experiment::midnight(change.started_on)?;
    Ok(Hypothesis {
        version: 1,
        started_on: change.started_on,
        written_at: start
            .checked_sub(jiff::SignedDuration::from_hours(7 * 24))
            .context("the demo's dates are out of range")?,
        expectations: vec![
            Expectation::parse("deployment_frequency +100%")?,
            Expectation::parse("change_lead_time -30%")?,
        ],
        planned_days: 12 * 7,
        before_days: 12 * 7,
        transition_days: 14,
        comparison: ComparisonPlan::With(vec![ServiceName::new("billing")?]),
    })
}

/// Runs `shiplog demo`.
pub async fn run(args: &DemoArgs, ui: &Ui) -> Result<()> {
    let end_date = match &args.end {
        Some(text) => shiplog_core::window::parse_bound(text, Timestamp::now()).context("--end")?,
        None => {
            let now = Timestamp::now().as_second();
            Timestamp::from_second(now - now.rem_euclid(DAY))?
        }
    };
    let end = end_date.as_second() + DAY;
    let start = end - 26 * 7 * DAY;
    // With a given end, `impact` must analyse as of that end, not as of now.
    let until = match &args.end {
        Some(_) => format!(
            " --until {}",
            Timestamp::from_second(end)?.strftime("%Y-%m-%d")
        ),
        None => String::new(),
    };
    let dir = &args.dir;
    if dir.exists() {
        if !args.force {
            bail!(
                "{} already exists\nhint: choose another directory, or pass --force to replace it",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    git(dir, &["init", "-q", "-b", "main"])?;
    let started = std::time::Instant::now();
    let generated = generate(dir, start, end, args.seed)?;

    let repo = open_repo(dir)?;
    let db = db_path(None, Some(&repo))?;
    let store = open_store(&db).await?;
    let (deployments, incidents) = (generated.deployments.len(), generated.incidents.len());
    let practice = demo_practice(start, end)?;
    store
        .apply(&EventBatch {
            deployments: generated.deployments,
            incidents: generated.incidents,
            practice_changes: vec![practice.clone()],
            ..EventBatch::default()
        })
        .await?;
    store
        .add_hypothesis(&practice.name, &demo_hypothesis(&practice)?, None)
        .await?;
    ui.note(&format!(
        "demo built in {:.1} s at {}: {} commits, {deployments} deployments, {incidents} incidents (store {})",
        started.elapsed().as_secs_f64(),
        repo.root().display(),
        generated.commits,
        db.display()
    ));

    let config = shiplog_config::discover(None, Some(repo.root()))?;
    let analysis = analyze_with(
        repo,
        &store,
        &AnalysisOptions {
            deploys: Some(&DeploySource::Recorded),
            service: None,
            attribution: AttributionOptions::default(),
        },
        &config,
        ui,
    )
    .await?;
    let window = TimeWindow::new(Timestamp::from_second(start)?, Timestamp::from_second(end)?)?;
    let format = output_format(args.format);
    let mut all_rows = Vec::new();
    for plan in &PLANS {
        let scope = Scope {
            service: Some(ServiceName::new(plan.name)?),
            team: None,
            environment: Environment::production(),
            window,
        };
        let rows = metric_rows(
            &analysis,
            &scope,
            LeadTimeStart::Author,
            shiplog_core::Definitions::Dora,
            Some(ByPeriod::Month),
        )?;
        if format == shiplog_report::Format::Table {
            print(&shiplog_report::metrics(&rows, true, format)?)?;
            print("\n")?;
        } else {
            all_rows.extend(rows);
        }
    }
    // The report of all three services over the demo's half year.
    let report_file = dir.join("report.html");
    let model = crate::report::report_model(
        &analysis,
        &store.practice_changes().await?,
        &config,
        &Scope {
            service: None,
            team: None,
            environment: Environment::production(),
            window,
        },
        LeadTimeStart::Author,
        &crate::report::ReportPlan {
            period: shiplog_report::page::TrendPeriod::Week,
            compare_with: Vec::new(),
            resamples: 2000,
            seed: 20_260_303,
            rows: 200,
            web: None,
            git_derived: false,
            definitions: shiplog_core::Definitions::default(),
        },
        ui,
    )?;
    std::fs::write(&report_file, shiplog_report::page::render_html(&model))
        .with_context(|| format!("cannot write {}", report_file.display()))?;
    if format != shiplog_report::Format::Table {
        print(&shiplog_report::metrics(&all_rows, true, format)?)?;
        ui.note(&format!("report written to {}", report_file.display()));
    } else {
        let mid = Timestamp::from_second(start + (end - start) / 2)?;
        print(&format!(
            "Half-way ({}), api and web moved from large weekly deployments to small daily ones\n(recorded as the practice change \"{PRACTICE}\"); billing kept its pace and is the comparison.\nSee what the change did, with honest statistics:\n  cd {}\n  shiplog impact \"{PRACTICE}\" --compare-with billing{until}\nIt was run as an experiment, its hypothesis written a week before (deployments ×2, lead time -30%):\n  shiplog experiment review \"{PRACTICE}\"{until}\nExplore:\n  shiplog metrics --service api --since {} --by month\n  shiplog explain failures --service api --since 180d\n  shiplog explain incidents --since 180d\nThe report (open it in a browser; `shiplog report --html FILE` writes your own):\n  {}\n",
            mid.strftime("%Y-%m-%d"),
            dir.display(),
            Timestamp::from_second(start)?.strftime("%Y-%m-%d"),
            report_file.display(),
        ))?;
    }
    Ok(())
}
