//! Pull requests (GitHub) and merge requests (GitLab): how a change travelled from a branch to the
//! default branch.
//!
//! Change lead time measured from git alone starts at a commit and ends at a deployment. The review
//! process in between — a draft waiting to be ready, a pull request waiting for its first review,
//! an approved one waiting to be merged — is where most of that time usually goes, and only the
//! forge knows it. This module holds the one record shiplog keeps per pull request so that lead
//! time can be split into those stages. It stores what the team's process did, never who did it:
//! the first review is "the first review or comment by someone other than the author", decided when
//! the record is built, and no login or name is kept.
//!
//! Stages a consumer can compute (each only when both ends are known):
//!
//! | stage | from | to |
//! |---|---|---|
//! | coding | `first_commit_at` | `opened_at` |
//! | draft | `opened_at` | `ready_for_review_at` |
//! | waiting for review | `ready_for_review_at` (else `opened_at`) | `first_review_at` |
//! | review to merge | `first_review_at` | `merged_at` |
//!
//! The merge commit (`merge_commit`) links the pull request to the commit graph, and through it to
//! the deployment that first shipped it.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::names::{Charset, NameError, Sha, name_type};

const ID_CHARS: Charset = Charset {
    allowed: "letters, digits, '-', '_', '.', '/', ':', '#' and '!'",
    ok: |c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '#' | '!'),
};
const REPOSITORY_CHARS: Charset = Charset {
    allowed: "letters, digits, '-', '_', '.' and '/'",
    ok: |c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'),
};

name_type!(
    /// The identifier of a pull or merge request, unique in a store: the forge, the repository and
    /// the number, e.g. `github:octo-org/octo-repo#123` or `gitlab:group/project!45`.
    PullRequestId,
    "pull request id",
    255,
    String,
    ID_CHARS
);

name_type!(
    /// A repository as its forge names it: `owner/repo` on GitHub, `group/subgroup/project` on
    /// GitLab.
    RepositoryName,
    "repository name",
    255,
    String,
    REPOSITORY_CHARS
);

/// A pull request whose times contradict each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullRequestError {
    /// A time that must not precede the opening does.
    #[error("{what} ({at}) is before the pull request was opened ({opened_at})")]
    BeforeOpened {
        /// Which time, e.g. "merged_at".
        what: &'static str,
        /// Its value.
        at: Timestamp,
        /// The opening time.
        opened_at: Timestamp,
    },
    /// A merge commit without a merge.
    #[error("a merge commit ({sha}) is given but the pull request was not merged")]
    MergeCommitWithoutMerge {
        /// The merge commit.
        sha: Sha,
    },
}

/// One pull or merge request, as the forge last described it.
///
/// Build it, then call [`PullRequest::validate`]; parsers and stores do. Times are optional where a
/// source may not know them; a consumer leaves a stage out when one of its ends is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// Unique in a store; storing the same id again updates the record.
    pub id: PullRequestId,
    /// The repository the pull request merges into.
    pub repository: RepositoryName,
    /// Its number in the repository (GitHub `#number`, GitLab `!iid`); `None` when the source
    /// has none (a CDEvents change is named by a free-form id).
    pub number: Option<u64>,
    /// Its title (trimmed; `None` when empty).
    pub title: Option<String>,
    /// When it was opened (created, possibly as a draft).
    pub opened_at: Timestamp,
    /// When it was marked ready for review after being opened as a draft; `None` when it was
    /// never seen as a draft. Draft time is `ready_for_review_at - opened_at`.
    pub ready_for_review_at: Option<Timestamp>,
    /// Whether it was still a draft when last seen.
    pub draft: bool,
    /// The first review or comment by someone other than its author; `None` when none is known.
    pub first_review_at: Option<Timestamp>,
    /// When it was merged; `None` when it was not (yet).
    pub merged_at: Option<Timestamp>,
    /// When it was closed (merged or not); `None` while open.
    pub closed_at: Option<Timestamp>,
    /// The commit its merge created on the base branch (a merge, squash or rebase commit).
    pub merge_commit: Option<Sha>,
    /// The last commit of its branch when last seen.
    pub head_sha: Option<Sha>,
    /// The branch it came from, as the forge names it.
    pub head_branch: Option<String>,
    /// The branch it merges into.
    pub base_branch: Option<String>,
    /// The commits of its branch, oldest first, when the source lists them (empty otherwise).
    pub commits: Vec<Sha>,
    /// The author time of its first commit, when known: the start of the coding stage.
    pub first_commit_at: Option<Timestamp>,
    /// Lines added, when the source says.
    pub additions: Option<u64>,
    /// Lines deleted, when the source says.
    pub deletions: Option<u64>,
    /// Files changed, when the source says (GitHub's `changed_files`, GitLab's `changes_count`
    /// when it is exact, import files' `changed_files`); `None` when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_files: Option<u64>,
    /// Its labels, sorted, each once.
    pub labels: Vec<String>,
}

impl PullRequest {
    /// Checks that the times agree: nothing but the first commit and the first review may precede
    /// the opening, and a merge commit needs a merge.
    ///
    /// A review dated before the opening is what the forge reported (GitHub lists reviews of a
    /// pull request re-opened from another branch, or a clock that was off): the record keeps it,
    /// and the pickup stage, which comes out negative, is left out and counted
    /// (`excluded_negative`, docs/metrics.md), as every stage that contradicts another is.
    pub fn validate(&self) -> Result<(), PullRequestError> {
        for (what, at) in [
            ("ready_for_review_at", self.ready_for_review_at),
            ("merged_at", self.merged_at),
            ("closed_at", self.closed_at),
        ] {
            if let Some(at) = at
                && at < self.opened_at
            {
                return Err(PullRequestError::BeforeOpened {
                    what,
                    at,
                    opened_at: self.opened_at,
                });
            }
        }
        if let (Some(sha), None) = (self.merge_commit, self.merged_at) {
            return Err(PullRequestError::MergeCommitWithoutMerge { sha });
        }
        Ok(())
    }

    /// Sorts the labels and removes repeats, as stored.
    pub fn normalize_labels(&mut self) {
        self.labels.sort();
        self.labels.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn sample() -> PullRequest {
        PullRequest {
            id: PullRequestId::new("github:octo-org/octo-repo#2").unwrap(),
            repository: RepositoryName::new("octo-org/octo-repo").unwrap(),
            number: Some(2),
            title: Some("Update the README".to_owned()),
            opened_at: ts("2019-05-15T15:20:33Z"),
            ready_for_review_at: None,
            draft: false,
            first_review_at: Some(ts("2019-05-15T15:20:50Z")),
            merged_at: Some(ts("2019-05-15T15:21:18Z")),
            closed_at: Some(ts("2019-05-15T15:21:18Z")),
            merge_commit: Some(Sha::from_bytes([0xc4; 20])),
            head_sha: None,
            head_branch: Some("changes".to_owned()),
            base_branch: Some("master".to_owned()),
            commits: vec![],
            first_commit_at: None,
            additions: Some(1),
            deletions: Some(1),
            changed_files: Some(1),
            labels: vec!["bug".to_owned()],
        }
    }

    #[test]
    fn ids_allow_the_forges_separators() {
        assert_eq!(
            PullRequestId::new(" gitlab:group/sub/project!45 ")
                .unwrap()
                .as_str(),
            "gitlab:group/sub/project!45"
        );
        assert_eq!(
            PullRequestId::new("github:o/r #1").unwrap_err().to_string(),
            "expected a pull request id made of letters, digits, '-', '_', '.', '/', ':', '#' and '!', got ' ' in \"github:o/r #1\""
        );
        assert!(RepositoryName::new("owner/repo.js").is_ok());
        assert!(RepositoryName::new("owner/repo#1").is_err());
        assert!(matches!(
            RepositoryName::new("  "),
            Err(NameError::Empty { .. })
        ));
    }

    #[test]
    fn consistent_times_validate() {
        assert_eq!(sample().validate(), Ok(()));
    }

    #[test]
    fn times_before_the_opening_are_refused() {
        let mut pr = sample();
        pr.merged_at = Some(ts("2019-05-15T15:00:00Z"));
        assert_eq!(
            pr.validate().unwrap_err().to_string(),
            "merged_at (2019-05-15T15:00:00Z) is before the pull request was opened (2019-05-15T15:20:33Z)"
        );
        let mut pr = sample();
        pr.first_review_at = Some(ts("2019-05-15T15:00:00Z"));
        assert_eq!(
            pr.validate(),
            Ok(()),
            "a review before the opening is kept: its negative pickup is excluded and counted"
        );
        let mut pr = sample();
        pr.first_commit_at = Some(ts("2019-05-01T00:00:00Z"));
        assert_eq!(
            pr.validate(),
            Ok(()),
            "commits may precede the pull request"
        );
    }

    #[test]
    fn a_merge_commit_needs_a_merge() {
        let mut pr = sample();
        pr.merged_at = None;
        assert!(matches!(
            pr.validate(),
            Err(PullRequestError::MergeCommitWithoutMerge { .. })
        ));
    }

    #[test]
    fn labels_are_sorted_once() {
        let mut pr = sample();
        pr.labels = vec!["b".into(), "a".into(), "b".into()];
        pr.normalize_labels();
        assert_eq!(pr.labels, ["a", "b"]);
    }
}
