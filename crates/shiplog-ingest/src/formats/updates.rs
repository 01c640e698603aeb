//! What one delivery says about an incident or a pull request, and how it merges into what is
//! already stored.
//!
//! Webhooks describe changes, not records: PagerDuty's `incident.resolved` says when an incident
//! was resolved but not when it opened; a GitHub review says a pull request was reviewed, nothing
//! else. Storing such a delivery as a whole record would clobber what earlier deliveries said. So
//! parsers return updates, and [`IncidentUpdate::apply`] and [`PullRequestUpdate::apply`] merge an
//! update into the stored record (or start one). The merge is pure, so the command line (which
//! reads the stored records first) and a server (inside its transaction) share it.
//!
//! Deliveries arrive late, twice, or out of order. The rules are chosen so that applying the same
//! updates again, or in another order, ends in the same record wherever that can be decided:
//! the earliest known opening wins, a later resolution wins over an earlier one, a merge is final,
//! and a "still open" that was observed before the stored resolution is ignored.

use jiff::Timestamp;
use shiplog_core::{
    Environment, Incident, IncidentId, PullRequest, PullRequestId, RepositoryName, ServiceName, Sha,
};

/// What a delivery says about an incident's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentState {
    /// Open (triggered, reopened, detected) as of the update's `observed_at`.
    Open,
    /// Resolved at this time.
    Resolved(Timestamp),
    /// The delivery does not say (e.g. PagerDuty `incident.acknowledged`).
    Unknown,
}

/// What one delivery says about one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentUpdate {
    /// The incident, from the source's own id (e.g. `pagerduty:PCPZE64`).
    pub id: IncidentId,
    /// The service affected (after mapping).
    pub service: ServiceName,
    /// The environment affected (after mapping).
    pub environment: Environment,
    /// When the delivery's event happened.
    pub observed_at: Timestamp,
    /// When the incident opened, if the delivery says.
    pub opened_at: Option<Timestamp>,
    /// Open, resolved, or not said.
    pub state: IncidentState,
    /// Its title, if the delivery gives one.
    pub title: Option<String>,
    /// The commit known to have caused it, if the delivery names one.
    pub sha: Option<Sha>,
    /// The incident of another source this one duplicates: `Some(Some(id))` a link,
    /// `Some(None)` no link (a delivery that carries the whole text, e.g. an issue, removes an old
    /// link), `None` not said.
    pub duplicate_of: Option<Option<IncidentId>>,
}

impl IncidentUpdate {
    /// The incident after this update: merged into `stored` (the same id) or, when there is none,
    /// a new one.
    ///
    /// - `opened_at`: the earliest of the stored opening and the update's (`opened_at`, else
    ///   `observed_at`). So an incident first seen resolved opens when it was resolved, and moves
    ///   back when its trigger arrives.
    /// - resolved: a resolution wins over an earlier one; "open" clears the stored resolution only
    ///   when observed after it (a reopened incident), so a late `triggered` does not reopen.
    /// - service, environment: the update's. Title, sha, link: the update's when it says.
    /// - `deployment_id`: kept (no vendor source sets it).
    pub fn apply(&self, stored: Option<&Incident>) -> Incident {
        let said_open = self.opened_at.unwrap_or(self.observed_at);
        let opened_at = match stored {
            Some(s) => s.opened_at.min(said_open),
            None => said_open,
        };
        let before = stored.and_then(|s| s.resolved_at);
        let resolved_at = match self.state {
            IncidentState::Resolved(at) => Some(before.map_or(at, |b| b.max(at))),
            IncidentState::Open => match before {
                Some(r) if self.observed_at > r => None,
                other => other,
            },
            IncidentState::Unknown => before,
        };
        Incident {
            id: self.id.clone(),
            service: self.service.clone(),
            environment: self.environment.clone(),
            opened_at,
            resolved_at,
            deployment_id: stored.and_then(|s| s.deployment_id.clone()),
            sha: self.sha.or(stored.and_then(|s| s.sha)),
            title: self
                .title
                .clone()
                .or_else(|| stored.and_then(|s| s.title.clone())),
            duplicate_of: match &self.duplicate_of {
                Some(link) => link.clone(),
                None => stored.and_then(|s| s.duplicate_of.clone()),
            },
        }
    }
}

/// What one delivery says about one pull or merge request.
///
/// A *full* update comes from the forge's own description of the pull request (a webhook's
/// `pull_request`, a REST list item): every field it has replaces the stored one, and a field it
/// leaves `None` (a title, a close time) is none. A partial update (a review, a CDEvents change
/// event) only sets what it says. In both, fields a source may not carry at all (`additions`,
/// `deletions`, `changed_files`, `ready_for_review_at`) keep their stored value when the update has none; no
/// source lists a pull request's commits, so the stored ones (and their first commit time) stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestUpdate {
    /// The pull request, e.g. `github:octo-org/octo-repo#2`.
    pub id: PullRequestId,
    /// The repository it merges into.
    pub repository: RepositoryName,
    /// Its number, when the source has one.
    pub number: Option<u64>,
    /// Whether this is the forge's full description (see above).
    pub full: bool,
    /// When the delivery's event happened (a new record without `opened_at` opens then).
    pub observed_at: Timestamp,
    /// Its title.
    pub title: Option<String>,
    /// When it was opened.
    pub opened_at: Option<Timestamp>,
    /// When it left draft.
    pub ready_for_review_at: Option<Timestamp>,
    /// Whether it is a draft now.
    pub draft: Option<bool>,
    /// A review or comment by someone other than its author (the earliest known wins).
    pub first_review_at: Option<Timestamp>,
    /// When it was merged (a merge is final: never cleared; the earliest known wins).
    pub merged_at: Option<Timestamp>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// The commit its merge created.
    pub merge_commit: Option<Sha>,
    /// The head of its branch.
    pub head_sha: Option<Sha>,
    /// Its branch.
    pub head_branch: Option<String>,
    /// The branch it merges into.
    pub base_branch: Option<String>,
    /// Lines added.
    pub additions: Option<u64>,
    /// Lines deleted.
    pub deletions: Option<u64>,
    /// Files changed.
    pub changed_files: Option<u64>,
    /// Its labels.
    pub labels: Option<Vec<String>>,
}

impl PullRequestUpdate {
    /// An update that says nothing yet beyond the pull request's identity.
    pub fn new(
        id: PullRequestId,
        repository: RepositoryName,
        number: Option<u64>,
        observed_at: Timestamp,
    ) -> Self {
        Self {
            id,
            repository,
            number,
            full: false,
            observed_at,
            title: None,
            opened_at: None,
            ready_for_review_at: None,
            draft: None,
            first_review_at: None,
            merged_at: None,
            closed_at: None,
            merge_commit: None,
            head_sha: None,
            head_branch: None,
            base_branch: None,
            additions: None,
            deletions: None,
            changed_files: None,
            labels: None,
        }
    }

    /// The pull request after this update: merged into `stored` (the same id) or, when there is
    /// none, a new one. See the type's docs for which fields replace and which keep.
    pub fn apply(&self, stored: Option<&PullRequest>) -> PullRequest {
        fn pick<T: Clone>(full: bool, new: &Option<T>, old: Option<&Option<T>>) -> Option<T> {
            match (new, old) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(old)) if !full => old.clone(),
                (None, _) => None,
            }
        }
        fn keep<T: Clone>(new: &Option<T>, old: Option<&Option<T>>) -> Option<T> {
            new.clone().or_else(|| old.cloned().flatten())
        }
        fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        let full = self.full;
        // Only an update that says when the pull request opened moves the opening; a partial
        // one (a review, a comment) starts a new record at its own time but never moves a stored
        // opening: a review dated before the opening is a negative pickup, not an earlier one.
        let opened_at = match (self.opened_at, stored) {
            (Some(said), Some(s)) => s.opened_at.min(said),
            (Some(said), None) => said,
            (None, Some(s)) => s.opened_at,
            (None, None) => self.observed_at,
        };
        let merged_at = earliest(self.merged_at, stored.and_then(|s| s.merged_at));
        let merge_commit = if merged_at.is_some() {
            keep(&self.merge_commit, stored.map(|s| &s.merge_commit))
        } else {
            None
        };
        let closed_at = match (merged_at, self.closed_at) {
            (_, Some(at)) => Some(at),
            // Merged means closed, whatever a stale delivery says.
            (Some(merged), None) => Some(stored.and_then(|s| s.closed_at).unwrap_or(merged)),
            (None, None) => pick(full, &None, stored.map(|s| &s.closed_at)),
        };
        let mut labels = match (&self.labels, stored) {
            (Some(labels), _) => labels.clone(),
            (None, Some(s)) => s.labels.clone(),
            (None, None) => Vec::new(),
        };
        labels.sort();
        labels.dedup();
        PullRequest {
            id: self.id.clone(),
            repository: self.repository.clone(),
            number: self.number.or(stored.and_then(|s| s.number)),
            title: pick(full, &self.title, stored.map(|s| &s.title)),
            opened_at,
            ready_for_review_at: keep(
                &self.ready_for_review_at,
                stored.map(|s| &s.ready_for_review_at),
            ),
            draft: self
                .draft
                .unwrap_or_else(|| stored.is_some_and(|s| s.draft)),
            first_review_at: earliest(self.first_review_at, stored.and_then(|s| s.first_review_at)),
            merged_at,
            closed_at,
            merge_commit,
            head_sha: keep(&self.head_sha, stored.map(|s| &s.head_sha)),
            head_branch: keep(&self.head_branch, stored.map(|s| &s.head_branch)),
            base_branch: keep(&self.base_branch, stored.map(|s| &s.base_branch)),
            commits: stored.map(|s| s.commits.clone()).unwrap_or_default(),
            first_commit_at: stored.and_then(|s| s.first_commit_at),
            additions: keep(&self.additions, stored.map(|s| &s.additions)),
            deletions: keep(&self.deletions, stored.map(|s| &s.deletions)),
            changed_files: keep(&self.changed_files, stored.map(|s| &s.changed_files)),
            labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn update(state: IncidentState, observed: &str, opened: Option<&str>) -> IncidentUpdate {
        IncidentUpdate {
            id: IncidentId::new("pagerduty:P1").unwrap(),
            service: ServiceName::new("api").unwrap(),
            environment: Environment::production(),
            observed_at: ts(observed),
            opened_at: opened.map(ts),
            state,
            title: None,
            sha: None,
            duplicate_of: None,
        }
    }

    #[test]
    fn a_resolution_only_sets_resolved_at() {
        let triggered = update(IncidentState::Open, "2026-01-01T10:00:00Z", None);
        let mut stored = triggered.apply(None);
        stored.title = Some("Checkout down".to_owned());
        stored.sha = Some(Sha::from_bytes([1; 20]));
        let at = ts("2026-01-01T11:00:00Z");
        let resolved = update(IncidentState::Resolved(at), "2026-01-01T11:00:00Z", None);
        let after = resolved.apply(Some(&stored));
        assert_eq!(
            after,
            Incident {
                resolved_at: Some(at),
                ..stored.clone()
            }
        );
        assert_eq!(resolved.apply(Some(&after)), after, "applying it again");
    }

    #[test]
    fn a_resolution_seen_first_opens_then_and_moves_back_with_the_trigger() {
        let at = ts("2026-01-01T11:00:00Z");
        let resolved = update(IncidentState::Resolved(at), "2026-01-01T11:00:00Z", None);
        let first = resolved.apply(None);
        assert_eq!((first.opened_at, first.resolved_at), (at, Some(at)));
        let late_trigger = update(IncidentState::Open, "2026-01-01T10:00:00Z", None);
        let after = late_trigger.apply(Some(&first));
        assert_eq!(
            (after.opened_at, after.resolved_at),
            (ts("2026-01-01T10:00:00Z"), Some(at)),
            "a late trigger moves the opening back and does not reopen"
        );
        let reopened = update(IncidentState::Open, "2026-01-01T12:00:00Z", None);
        assert_eq!(reopened.apply(Some(&after)).resolved_at, None);
    }

    #[test]
    fn links_are_kept_unless_the_update_says() {
        let mut linked = update(IncidentState::Unknown, "2026-01-01T10:00:00Z", None);
        linked.duplicate_of = Some(Some(IncidentId::new("pagerduty:P0").unwrap()));
        let stored = linked.apply(None);
        let silent = update(IncidentState::Unknown, "2026-01-01T10:05:00Z", None);
        assert_eq!(
            silent.apply(Some(&stored)).duplicate_of,
            stored.duplicate_of
        );
        let mut unlinked = silent.clone();
        unlinked.duplicate_of = Some(None);
        assert_eq!(unlinked.apply(Some(&stored)).duplicate_of, None);
    }

    fn pr_update(full: bool) -> PullRequestUpdate {
        PullRequestUpdate {
            full,
            ..PullRequestUpdate::new(
                PullRequestId::new("github:o/r#2").unwrap(),
                RepositoryName::new("o/r").unwrap(),
                Some(2),
                ts("2026-01-02T00:00:00Z"),
            )
        }
    }

    #[test]
    fn a_review_keeps_everything_else() {
        let full = PullRequestUpdate {
            title: Some("t".to_owned()),
            opened_at: Some(ts("2026-01-01T00:00:00Z")),
            merged_at: Some(ts("2026-01-03T00:00:00Z")),
            merge_commit: Some(Sha::from_bytes([2; 20])),
            additions: Some(3),
            changed_files: Some(2),
            labels: Some(vec!["b".into(), "a".into()]),
            ..pr_update(true)
        };
        let stored = full.apply(None);
        assert_eq!(stored.closed_at, stored.merged_at, "merged means closed");
        assert_eq!(stored.labels, ["a", "b"]);
        let review = PullRequestUpdate {
            first_review_at: Some(ts("2026-01-02T00:00:00Z")),
            ..pr_update(false)
        };
        let after = review.apply(Some(&stored));
        assert_eq!(
            after,
            PullRequest {
                first_review_at: review.first_review_at,
                ..stored.clone()
            }
        );
        let later_review = PullRequestUpdate {
            first_review_at: Some(ts("2026-01-02T05:00:00Z")),
            ..pr_update(false)
        };
        assert_eq!(
            later_review.apply(Some(&after)),
            after,
            "the earliest review wins"
        );
        // A stale full description (the PR before it merged, without sizes) does not unmerge it,
        // nor forget what only other deliveries carried.
        let stale = PullRequestUpdate {
            title: Some("t".to_owned()),
            opened_at: Some(ts("2026-01-01T00:00:00Z")),
            ..pr_update(true)
        };
        let again = stale.apply(Some(&after));
        assert_eq!(again.merged_at, after.merged_at);
        assert_eq!(again.merge_commit, after.merge_commit);
        assert_eq!(again.closed_at, after.closed_at);
        assert_eq!(again.additions, Some(3));
        assert_eq!(again.changed_files, Some(2));
        assert_eq!(again.first_review_at, after.first_review_at);
    }

    #[test]
    fn an_unmerged_pull_request_has_no_merge_commit() {
        let open = PullRequestUpdate {
            merge_commit: Some(Sha::from_bytes([2; 20])),
            ..pr_update(true)
        };
        let pr = open.apply(None);
        assert_eq!(pr.merge_commit, None, "GitHub's test merge is not a merge");
        assert_eq!(pr.opened_at, ts("2026-01-02T00:00:00Z"));
    }
}
