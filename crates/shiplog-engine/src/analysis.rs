//! From a repository and a store to an attributed delivery model: load the cached history, read the
//! commits the cache lacks, classify commits by service when the configuration maps paths (monorepos),
//! derive or load deployments, link pull requests, and run attribution.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;
use shiplog_config::Config;
use shiplog_core::{
    AttributionInputs, AttributionOptions, CommitGraph, CommitIdx, DeliveryModel, Deployment,
    DeploymentId, DeploymentSource, DeploymentStatus, Environment, PrFacts, PrLinks,
    ServiceMembership, ServiceName, Sha, SquashedBranch, attribute_with,
};
use shiplog_git::cache::PathMasks;
use shiplog_git::paths::ServicePaths;
use shiplog_git::rebased::{RebaseCandidate, branch_commits, match_rebased};
use shiplog_git::squash::{SquashLimits, TipState, find_squashed_branches};
use shiplog_git::{CachedTag, GitRepo, SyncError, TagCache, cache};
use shiplog_store::{EventBatch, HistorySegment, Store};
use shiplog_store_sqlite::SqliteStore;

use crate::error::AnalysisError;
use crate::store::AnyStore;

type Result<T, E = AnalysisError> = std::result::Result<T, E>;

/// Where an analysis reports what it does: the CLI draws it on stderr, the server logs it.
pub trait Reporter: Sync {
    /// A phase ended (for `SHIPLOG_TIMINGS`).
    fn phase(&self, name: &str);
    /// Something the user may want to know.
    fn note(&self, text: &str);
    /// Something that may make a number wrong or incomplete.
    fn warn(&self, text: &str);
    /// Progress of a long read of history; [`HistoryProgress::finish`] ends it.
    fn history_progress(&self) -> Box<dyn HistoryProgress + '_>;
}

/// A progress display for reading history.
pub trait HistoryProgress: shiplog_git::Progress {
    /// Removes the display.
    fn finish(&self);
}

/// Where deployments come from (`--deploys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploySource {
    /// Tags matching a glob are production deployments.
    Tags(String),
    /// First-parent commits of a branch are production deployments (`None`: the default branch).
    Merges(Option<String>),
    /// Deployments recorded or imported into the store.
    Recorded,
}

/// Segments beyond this many are compacted into one.
const MAX_SEGMENTS: usize = 16;

/// The store location: `--db`/`SHIPLOG_DB`, else `.shiplog/shiplog.db` under the repository root.
pub fn db_path(explicit: Option<&Path>, repo: Option<&GitRepo>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    match repo {
        Some(repo) => {
            let dir = repo.root().join(".shiplog");
            // Keep the store out of `git status`, as a virtualenv does.
            let ignore = dir.join(".gitignore");
            if !ignore.exists() {
                std::fs::create_dir_all(&dir)
                    .and_then(|()| std::fs::write(&ignore, "# shiplog's local store\n*\n"))
                    .map_err(|source| AnalysisError::StoreDir {
                        path: dir.clone(),
                        source,
                    })?;
            }
            Ok(dir.join("shiplog.db"))
        }
        None => Err(AnalysisError::NoStore),
    }
}

/// Opens the store at `path`: a SQLite file, or the PostgreSQL database a `postgres://` URL
/// names (`--db postgres://...`: the team server's shared store).
pub async fn open_store(path: &Path) -> Result<AnyStore> {
    let text = path.to_string_lossy();
    if crate::store::is_postgres_url(&text) {
        return Ok(AnyStore::Postgres(
            shiplog_store_postgres::PostgresStore::connect(&text).await?,
        ));
    }
    Ok(AnyStore::Sqlite(SqliteStore::open(path).await.map_err(
        |source| AnalysisError::OpenStore {
            path: path.to_owned(),
            source,
        },
    )?))
}

/// Opens the repository containing `path`.
pub fn open_repo(path: &Path) -> Result<GitRepo> {
    GitRepo::discover(path).map_err(AnalysisError::OpenRepo)
}

/// A repository's cached history: the commit graph, the annotated tags already read, and the
/// service masks cached with each segment (its commit range and masks, when it has them).
struct CachedHistory {
    graph: CommitGraph,
    tags: TagCache,
    /// One entry per cached segment.
    masks: Vec<(std::ops::Range<usize>, Option<PathMasks>)>,
}

/// Loads `repo`'s cached history from the store. A damaged cache is reported and rebuilt.
async fn load_history(store: &dyn Store, key: &str, ui: &dyn Reporter) -> Result<CachedHistory> {
    let segments = match store.history(key).await {
        Ok(segments) => segments,
        Err(e @ shiplog_store::StoreError::Corrupt { .. }) => {
            ui.warn(&format!("{e}; the history cache will be rebuilt"));
            store.replace_history(key, &[]).await?;
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    ui.phase("history cache read");
    let mut history = CachedHistory {
        graph: CommitGraph::new(),
        tags: TagCache::default(),
        masks: Vec::with_capacity(segments.len()),
    };
    for segment in &segments {
        let start = history.graph.len();
        match cache::decode_segment(&mut history.graph, segment.seq, &segment.data) {
            Ok(decoded) => {
                history
                    .tags
                    .extend(decoded.tags.into_iter().map(|t| (t.tag, t)));
                history
                    .masks
                    .push((start..history.graph.len(), decoded.paths));
            }
            Err(e) => {
                ui.warn(&format!("{e}; the history cache will be rebuilt"));
                store.replace_history(key, &[]).await?;
                return Ok(CachedHistory {
                    graph: CommitGraph::new(),
                    tags: TagCache::default(),
                    masks: Vec::new(),
                });
            }
        }
    }
    Ok(history)
}

/// Everything the commands need: the commit graph and the attributed model.
pub struct Analysis {
    /// The repository.
    pub repo: GitRepo,
    /// The commit history.
    pub graph: CommitGraph,
    /// Attribution over every deployment and incident.
    pub model: DeliveryModel,
    /// Which services each commit belongs to, when the configuration maps paths (monorepos).
    pub membership: Option<ServiceMembership>,
}

/// Options of an analysis.
pub struct AnalysisOptions<'a> {
    pub deploys: Option<&'a DeploySource>,
    pub service: Option<&'a ServiceName>,
    pub attribution: AttributionOptions,
}

/// Loads, syncs and attributes under `config`: its path globs classify commits by service, and its
/// pull-request rules (hotfix labels and branches, revert branches) apply to stored pull requests.
pub async fn analyze_with(
    repo: GitRepo,
    store: &dyn Store,
    options: &AnalysisOptions<'_>,
    config: &Config,
    ui: &dyn Reporter,
) -> Result<Analysis> {
    let key = repo.cache_key();
    let CachedHistory {
        mut graph,
        tags: mut tag_cache,
        masks: mut cached_masks,
    } = load_history(store, &key, ui).await?;
    let mut cached_commits = graph.len();
    ui.phase("history cache loaded");

    // Recorded deployments, unless git provides them.
    let stored = match options.deploys {
        Some(DeploySource::Tags(_) | DeploySource::Merges(_)) => Vec::new(),
        _ => store.deployments().await?,
    };
    ui.phase("deployments loaded");
    let source = match options.deploys {
        Some(source) => source.clone(),
        None if !stored.is_empty() => DeploySource::Recorded,
        None => return Err(AnalysisError::NoDeployments),
    };

    // The commits that must be in the graph.
    let dir_service = || -> Result<ServiceName> {
        let name = repo.name();
        let service =
            ServiceName::made_valid(&name).map_err(|source| AnalysisError::DirectoryName {
                name: name.clone(),
                source,
            })?;
        if service.as_str() != name {
            ui.note(&format!(
                "service: \"{service}\", the directory name {name:?} made valid (choose it with --service NAME)"
            ));
        }
        Ok(service)
    };
    let git_service = || -> Result<ServiceName> {
        match options.service {
            Some(s) => Ok(s.clone()),
            None => dir_service(),
        }
    };
    let first_run = graph.is_empty();
    let mut release_notes = Vec::new();
    let mut tag_scan = None;
    let tips: Vec<Sha> = match &source {
        DeploySource::Tags(spec) => {
            let (glob, prereleases) = shiplog_core::release::tag_spec(spec);
            let mut scan = repo.tags(glob, &tag_cache, &graph)?;
            for (name, why) in &scan.skipped {
                ui.warn(&format!("tag {name} skipped: {why}"));
            }
            let matched = scan.tags.len();
            release_notes = shiplog_core::release::keep_releases(
                &mut scan.tags,
                |t| &t.name,
                glob,
                prereleases,
            );
            if scan.tags.is_empty() {
                for note in &release_notes {
                    ui.note(note);
                }
                if matched == 0 {
                    return Err(AnalysisError::NoReleaseTags(format!(
                        "no tag matches {glob:?} in {}",
                        repo.root().display()
                    )));
                }
                return Err(AnalysisError::NoReleaseTags(format!(
                    "no release tag matches {glob:?} in {}: all {matched} matching tags hold no version or are pre-releases",
                    repo.root().display()
                )));
            }
            let tips = scan.tags.iter().map(|t| t.commit).collect();
            tag_scan = Some(scan);
            tips
        }
        DeploySource::Merges(branch) => {
            let branch = match branch {
                Some(b) => b.clone(),
                None => repo.default_branch()?,
            };
            vec![repo.branch_tip(&branch)?]
        }
        DeploySource::Recorded => stored.iter().map(|d| d.sha).collect(),
    };

    ui.phase("deployment tips found");
    let started = Instant::now();
    let progress = ui.history_progress();
    // Each tip's commit, looked up once here and handed on (a warm run has thousands of tips and
    // nearly all of them cached): only the tips the graph lacks are read from the repository.
    let mut tip_commits: Vec<Option<CommitIdx>> = tips.iter().map(|t| graph.find(t)).collect();
    let missing: Vec<Sha> = tips
        .iter()
        .zip(&tip_commits)
        .filter(|(_, c)| c.is_none())
        .map(|(&t, _)| t)
        .collect();
    let report = match shiplog_git::sync(&repo, &mut graph, &missing, &*progress) {
        Err(SyncError::Deepened) => {
            ui.note(
                "the repository was deepened since its history was cached; rebuilding the cache",
            );
            graph = CommitGraph::new();
            tag_cache.clear();
            cached_commits = 0;
            cached_masks.clear();
            tip_commits.fill(None);
            store.replace_history(&key, &[]).await?;
            shiplog_git::sync(&repo, &mut graph, &tips, &*progress)?
        }
        other => other?,
    };
    progress.finish();
    if report.new > 0 {
        for (tip, commit) in tips.iter().zip(&mut tip_commits) {
            if commit.is_none() {
                *commit = graph.find(tip);
            }
        }
    }
    ui.phase("history read");
    if report.new > 0 {
        let seconds = started.elapsed().as_secs_f64();
        ui.note(&format!(
            "history: read {} new commits in {seconds:.2} s ({} cached)",
            report.new, report.cached
        ));
        if !report.used_commit_graph && report.new > 50_000 {
            ui.note("hint: this repository has no commit-graph file; `git commit-graph write --reachable` makes reading history about ten times faster");
        }
    } else {
        ui.note(&format!("history: {} commits, all cached", report.cached));
    }
    let new_tags: Vec<CachedTag> = tag_scan
        .as_ref()
        .map(|scan| {
            let mut fresh: Vec<CachedTag> = scan
                .newly_read
                .iter()
                .filter(|t| !tag_cache.contains_key(&t.tag))
                .copied()
                .collect();
            fresh.sort_by_key(|t| t.tag);
            fresh.dedup_by_key(|t| t.tag);
            fresh
        })
        .unwrap_or_default();
    let new_commits = cached_commits..graph.len();
    // Monorepo paths: classify what the cache does not hold for this configuration.
    let rules = config.path_rules(repo.root());
    let classified = if rules.is_empty() {
        None
    } else {
        let paths = ServicePaths::new(rules)?;
        let started = Instant::now();
        let (masks, reclassified) = classify_commits(&repo, &graph, &paths, &cached_masks, ui)?;
        if reclassified > 0 {
            ui.note(&format!(
                "paths: classified {reclassified} commits by service in {:.2} s",
                started.elapsed().as_secs_f64()
            ));
        }
        ui.phase("paths classified");
        Some((paths, masks, reclassified))
    };
    // Cached commits that had to be (re)classified: rewrite the whole cache with their masks.
    let rewrite = classified
        .as_ref()
        .is_some_and(|(_, _, n)| *n > new_commits.len());
    if !new_commits.is_empty() || !new_tags.is_empty() || rewrite {
        tag_cache.extend(new_tags.iter().map(|t| (t.tag, *t)));
        persist_history(
            store,
            &key,
            &graph,
            if rewrite { 0 } else { cached_masks.len() },
            new_commits,
            &new_tags,
            &tag_cache,
            classified
                .as_ref()
                .map(|(p, masks, _)| (p.fingerprint(), masks.as_slice())),
        )
        .await?;
    }
    ui.phase("history cache written");
    let membership = match classified {
        Some((paths, masks, _)) => Some(ServiceMembership::new(
            paths.services().to_vec(),
            masks,
            graph.len(),
        )?),
        None => None,
    };
    let shallow = graph.shallow_commits().len();
    if shallow > 0 {
        ui.warn(&format!(
            "this is a shallow clone: history stops at {shallow} boundary commit(s); changes beyond the boundary are not seen and lead times near it may be short"
        ));
    }

    // Deployments, and the commit of each.
    let (deployments, commits): (Vec<Deployment>, Vec<Option<CommitIdx>>) = match &source {
        DeploySource::Recorded => (stored, tip_commits),
        DeploySource::Tags(_) => {
            for note in &release_notes {
                ui.note(note);
            }
            let tags = tag_scan.map(|s| s.tags).unwrap_or_default();
            // `--service` names the main train, unless it names another train (`--service tool`
            // for `tool-1.2.0`): the main train then keeps the directory's name.
            let names_a_train = options.service.is_some_and(|given| {
                shiplog_core::release::names_other_train(
                    tags.iter().map(|t| t.name.as_str()),
                    &config.tag_trains,
                    given,
                )
            });
            let main = if names_a_train {
                dir_service()?
            } else {
                git_service()?
            };
            let mut trains = shiplog_core::release::TrainServices::new(main, &config.tag_trains);
            let mut out = Vec::with_capacity(tags.len());
            let mut commits = Vec::with_capacity(tags.len());
            for (tag, commit) in tags.into_iter().zip(tip_commits) {
                let Some(idx) = commit else {
                    continue;
                };
                let service = trains.service_of(&tag.name)?;
                let seconds = tag.tagger_time.unwrap_or_else(|| graph.committer_time(idx));
                let Ok(finished_at) = Timestamp::from_second(seconds) else {
                    ui.warn(&format!(
                        "tag {} skipped: its time is out of range",
                        tag.name
                    ));
                    continue;
                };
                let Ok(id) = DeploymentId::try_from(format!("tag:{}", tag.name)) else {
                    ui.warn(&format!(
                        "tag {} skipped: its name is not a valid deployment id",
                        tag.name
                    ));
                    continue;
                };
                out.push(git_deployment(
                    id,
                    &service,
                    tag.commit,
                    finished_at,
                    DeploymentSource::GitTag,
                ));
                commits.push(Some(idx));
            }
            if first_run && let Some(note) = trains.summary() {
                ui.note(&note);
            }
            (out, commits)
        }
        DeploySource::Merges(_) => {
            let service = git_service()?;
            let mut out = Vec::new();
            let mut commits = Vec::new();
            // The branch tip is the one tip.
            if let Some(Some(tip)) = tip_commits.first().copied() {
                for idx in shiplog_git::first_parent_chain(&graph, tip) {
                    let sha = graph.sha(idx);
                    let Ok(finished_at) = Timestamp::from_second(graph.committer_time(idx)) else {
                        continue;
                    };
                    let id = DeploymentId::new(&format!("merge:{}", sha.short(12)))?;
                    out.push(git_deployment(
                        id,
                        &service,
                        sha,
                        finished_at,
                        DeploymentSource::GitMerge,
                    ));
                    commits.push(Some(idx));
                }
            }
            (out, commits)
        }
    };

    let incidents = store.incidents().await?;
    let mut pull_requests = link_pull_requests(store, &repo, &graph, config).await?;
    if config.definitions.match_squashed_branches {
        let found = squashed_branches(store, &key, &repo, &graph, &pull_requests).await?;
        if !found.is_empty() {
            ui.note(&format!(
                "{} squash commit{} matched to {} branch{} by patch: their lead time starts at the branch's first commit",
                found.len(),
                if found.len() == 1 { "" } else { "s" },
                if found.len() == 1 { "its" } else { "their" },
                if found.len() == 1 { "" } else { "es" },
            ));
        }
        pull_requests = pull_requests.with_squashed_branches(found);
    }
    ui.phase("pull requests linked");
    let inputs = AttributionInputs {
        membership: membership.as_ref(),
        pull_requests,
        commits,
    };
    let model = match attribute_with(&graph, deployments, incidents, options.attribution, inputs) {
        Ok(model) => model,
        Err(unknown) => return Err(AnalysisError::UnknownCommits(unknown)),
    };
    ui.phase("attributed");
    if !model.before_commit.is_empty() {
        ui.warn(&before_commit_warning(&model));
    }
    for (id, sha) in &model.skipped_unknown {
        ui.warn(&format!(
            "deployment {id} skipped: commit {sha} is not in the repository"
        ));
    }
    Ok(Analysis {
        repo,
        graph,
        model,
        membership,
    })
}

/// Which deployments finished before their commit's committer time, and that they count nowhere.
fn before_commit_warning(model: &DeliveryModel) -> String {
    let listed: Vec<String> = model
        .before_commit
        .iter()
        .filter_map(|&(i, committed)| Some((model.deployments.get(i)?, committed)))
        .take(5)
        .map(|(d, committed)| {
            format!(
                "{} (finished {}, commit {} committed {committed})",
                d.deployment.id,
                d.deployment.finished_at,
                d.deployment.sha.short(12)
            )
        })
        .collect();
    let n = model.before_commit.len();
    let more = if n > 5 {
        format!(" and {} more", n - 5)
    } else {
        String::new()
    };
    format!(
        "{n} deployment{} left out of every metric: finished before {} commit's committer time: {}{more}\nhint: correct their finish times (record or import them again with the same id); `shiplog explain deployments` lists them",
        if n == 1 { "" } else { "s" },
        if n == 1 { "its" } else { "their" },
        listed.join(", ")
    )
}

fn git_deployment(
    id: DeploymentId,
    service: &ServiceName,
    sha: Sha,
    finished_at: Timestamp,
    source: DeploymentSource,
) -> Deployment {
    Deployment {
        id,
        service: service.clone(),
        environment: Environment::production(),
        sha,
        finished_at,
        started_at: None,
        status: DeploymentStatus::Success,
        unplanned: false,
        source,
        recorded_by: None,
    }
}

/// The service mask of every commit of `graph`: from the cached segments classified under the same
/// path configuration, else classified now. Returns the masks and how many commits were classified.
fn classify_commits(
    repo: &GitRepo,
    graph: &CommitGraph,
    paths: &ServicePaths,
    cached: &[(std::ops::Range<usize>, Option<PathMasks>)],
    ui: &dyn Reporter,
) -> Result<(Vec<u64>, usize)> {
    let mut masks = vec![0u64; graph.len()];
    let mut known = vec![false; graph.len()];
    for (range, segment) in cached {
        if let Some(segment) = segment
            && segment.fingerprint == paths.fingerprint()
            && segment.masks.len() == range.len()
            && range.end <= graph.len()
        {
            masks[range.clone()].copy_from_slice(&segment.masks);
            known[range.clone()].fill(true);
        }
    }
    let todo: Vec<u32> = (0..graph.len() as u32)
        .filter(|&i| !known[i as usize])
        .collect();
    if !todo.is_empty() {
        let progress = ui.history_progress();
        let found = shiplog_git::paths::classify(repo, graph, &todo, paths, &*progress)?;
        progress.finish();
        for (&i, mask) in todo.iter().zip(found) {
            masks[i as usize] = mask;
        }
    }
    Ok((masks, todo.len()))
}

/// The stored pull requests, as facts under the configuration's rules, linked to the history.
async fn link_pull_requests(
    store: &dyn Store,
    repo: &GitRepo,
    graph: &CommitGraph,
    config: &Config,
) -> Result<PrLinks> {
    let records = store.pull_requests().await?;
    if records.is_empty() {
        return Ok(PrLinks::default());
    }
    let d = &config.definitions;
    let facts: Vec<PrFacts> = records
        .iter()
        .map(|pr| {
            let hotfix = d.is_hotfix(
                pr.labels.iter().map(String::as_str),
                pr.head_branch.as_deref(),
            );
            let revert_branch = pr
                .head_branch
                .as_deref()
                .is_some_and(|b| d.is_revert_branch(b));
            let mut facts = PrFacts::from_record(pr, hotfix, revert_branch);
            // Records without a commit list: the branch's commits from its head, when the
            // repository has it.
            if facts.commits.is_empty()
                && let Some(head) = pr.head_sha
            {
                let commits = branch_commits(repo, graph, &head, pr.merge_commit.as_ref(), 250);
                let first = commits
                    .iter()
                    .map(|&(_, t)| t)
                    .filter(|&t| t != i64::MIN)
                    .min()
                    .and_then(|t| Timestamp::from_second(t).ok());
                facts.first_commit_at = match (facts.first_commit_at, first) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                facts.commits = commits.into_iter().map(|(sha, _)| sha).collect();
            }
            facts
        })
        .collect();
    // The merged ones, with their indices in `facts`.
    let (index, candidates): (Vec<usize>, Vec<RebaseCandidate<'_>>) = facts
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let candidate = RebaseCandidate {
                merge_commit: f.merged_at.and(f.merge_commit)?,
                commits: &f.commits,
            };
            Some((i, candidate))
        })
        .unzip();
    let rebased: Vec<(usize, u32)> = match_rebased(repo, graph, &candidates)
        .into_iter()
        .map(|(c, commit)| (index[c], commit))
        .collect();
    Ok(PrLinks::build(graph, facts, &rebased))
}

/// Squash commits matched to the branches the repository still has, by patch. What each search
/// learned per branch tip is kept in the store (as sync state of the repository), so a re-run
/// searches only new branch tips and new commits.
async fn squashed_branches(
    store: &dyn Store,
    key: &str,
    repo: &GitRepo,
    graph: &CommitGraph,
    pull_requests: &PrLinks,
) -> Result<Vec<SquashedBranch>> {
    let scope = format!("squash-match:{key}");
    let saved = store.sync_state(&scope).await?;
    let previous: HashMap<Sha, TipState> = saved
        .iter()
        .filter_map(|(tip, state)| Some((Sha::from_hex(tip).ok()?, TipState::decode(state)?)))
        .collect();
    let search = find_squashed_branches(
        repo,
        graph,
        &|c| pull_requests.of_commit(c).is_some(),
        SquashLimits::default(),
        &previous,
    );
    let changed: BTreeMap<String, String> = search
        .tips
        .iter()
        .filter(|(tip, state)| previous.get(tip) != Some(state))
        .map(|(tip, state)| (tip.to_string(), state.encode()))
        .collect();
    if !changed.is_empty() {
        store
            .apply_synced(&EventBatch::default(), &scope, &changed)
            .await?;
    }
    Ok(search
        .matches
        .into_iter()
        .map(|m| SquashedBranch {
            commit: m.commit,
            branch: m.branch,
            first_commit_seconds: m.first_author_time,
        })
        .collect())
}

/// Appends what this run read as a segment, or compacts all segments into one when there are many
/// (or when `segments` is 0: a rewrite). `paths` holds every commit's service mask, when classified.
#[allow(clippy::too_many_arguments)]
async fn persist_history(
    store: &dyn Store,
    key: &str,
    graph: &CommitGraph,
    segments: usize,
    new_commits: std::ops::Range<usize>,
    new_tags: &[CachedTag],
    all_tags: &TagCache,
    paths: Option<(&[u8], &[u64])>,
) -> Result<()> {
    if segments == 0 || segments + 1 > MAX_SEGMENTS {
        let sorted: Vec<u32> = match (graph.runs().count(), graph.sorted_run(0)) {
            (1, Some(run)) => run.to_vec(),
            _ => {
                let mut all: Vec<u32> = (0..graph.len() as u32).collect();
                all.sort_unstable_by_key(|&i| graph.sha(i));
                all
            }
        };
        let mut tags: Vec<CachedTag> = all_tags.values().copied().collect();
        tags.sort_by_key(|t| t.tag);
        let segment = HistorySegment {
            seq: 0,
            commits: graph.len() as i64,
            data: cache::encode_with_paths(graph, 0..graph.len(), &sorted, &tags, paths).into(),
        };
        store.replace_history(key, &[segment]).await?;
        return Ok(());
    }
    let sorted: Vec<u32> = if new_commits.is_empty() {
        Vec::new()
    } else {
        let runs = graph.runs().count();
        graph
            .sorted_run(runs.saturating_sub(1))
            .map(<[u32]>::to_vec)
            .unwrap_or_default()
    };
    let paths = paths.and_then(|(fingerprint, masks)| {
        masks
            .get(new_commits.clone())
            .map(|masks| (fingerprint, masks))
    });
    let segment = HistorySegment {
        seq: segments as i64,
        commits: new_commits.len() as i64,
        data: cache::encode_with_paths(graph, new_commits, &sorted, new_tags, paths).into(),
    };
    store.append_history(key, &segment).await?;
    Ok(())
}
