//! shiplog's pure core: validated domain types, the commit graph, attribution of changes, failures
//! and incidents to deployments, and DORA's five delivery metrics.
//!
//! This crate does no I/O and depends on no other shiplog crate. Readers (git, import files, webhooks)
//! turn raw input into the validated types of [`names`] and [`event`]; storage persists them; this
//! crate computes. Keeping the computation pure is what lets every number be tested against a hand
//! computation and traced back to the records that produced it (see [`explain`]), and what lets
//! [`impact`] run its statistics on synthetic histories with known truths.

pub mod assessment;
pub mod attribution;
pub mod definitions;
pub mod duplicates;
pub mod event;
pub mod experiment;
pub mod explain;
pub mod graph;
pub mod impact;
pub mod metrics;
pub mod names;
pub mod pr_links;
pub mod practice;
pub mod pull_request;
pub mod release;
pub mod services;
pub mod stats;
pub mod window;

pub use assessment::CapabilityAnswer;
pub use attribution::{
    AttributionInputs, AttributionOptions, DeliveryModel, attribute, attribute_with,
};
pub use definitions::Definitions;
pub use event::{Deployment, DeploymentSource, DeploymentStatus, Incident, Recorder};
pub use graph::{AbbrevMatch, ColumnBytes, Columns, CommitGraph, CommitIdx, NewCommit};
pub use metrics::{DoraMetrics, LeadTimeStart, Scope, compute};
pub use names::{
    DeploymentId, Environment, IncidentId, NameError, ServiceName, Sha, ShaAbbrev, ShaPrefix,
};
pub use pr_links::{PrFacts, PrLinks, SquashedBranch};
pub use practice::{Capability, PracticeChange, PracticeName, PracticeScope, TeamName};
pub use pull_request::{PullRequest, PullRequestError, PullRequestId, RepositoryName};
pub use services::{MAX_SERVICES, ServiceMembership, TeamScope};
pub use window::{Period, TimeWindow};
