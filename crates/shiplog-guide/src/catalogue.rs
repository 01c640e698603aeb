//! The capability catalogue: every capability of DORA's core model, plus trunk-based development
//! (one of DORA's capabilities, not in the core model file), each with our own one-line
//! description, its dora.dev article, the metrics shiplog's signals for it bear on, its Quick Check
//! self-assessment statements when DORA published some, and published evidence worded as what it
//! is.
//!
//! The core model links capability groups to software delivery performance as a whole; it does not
//! say which of the five metrics each capability moves. The `drives` lists here are shiplog's
//! reading (which metrics the capability's own signals are part of), shown as such.

use serde::Serialize;
use shiplog_core::Capability;

use crate::data::{StatementSet, quickcheck, slug_of};
use crate::scoring::QuickCheckMetric;

use QuickCheckMetric::{
    ChangeFailRate as Cfr, ChangeLeadTime as Lead, DeploymentFrequency as Freq,
    FailedDeploymentRecoveryTime as Recovery, ReworkRate as Rework,
};

/// DORA's warning that a change can make things worse first.
pub const J_CURVE: &str = "A change in how a team works often makes the numbers worse before it makes them better — DORA calls this the J-curve of transformation. Judge an experiment at its planned end, not in its first weeks.";

/// A published finding about a capability, worded as what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The finding (a survey correlation is said to be one).
    pub finding: &'static str,
    /// Where it was published.
    pub source: &'static str,
}

/// One capability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueEntry {
    /// Its slug, as in the dora.dev path.
    pub slug: Capability,
    /// Its name.
    pub name: String,
    /// The core model's group (`None`: not in the core model file).
    pub group: Option<String>,
    /// Our own short description.
    pub about: &'static str,
    /// Its article.
    pub article: String,
    /// The metrics its signals bear on (shiplog's reading; empty when nothing is measured).
    pub drives: Vec<QuickCheckMetric>,
    /// Whether shiplog measures signals for it.
    pub measured: bool,
    /// What an experiment in it would change, when shiplog proposes one.
    pub experiment: Option<&'static str>,
    /// The Quick Check's self-assessment statements, when published.
    pub statements: Option<StatementSet>,
    /// Published evidence.
    pub evidence: Vec<Evidence>,
}

struct Ours {
    slug: &'static str,
    about: &'static str,
    drives: &'static [QuickCheckMetric],
    measured: bool,
    experiment: Option<&'static str>,
    evidence: &'static [Evidence],
}

const ACCELERATE: &str =
    "Forsgren, Humble & Kim, Accelerate (2018), from DORA's State of DevOps surveys";

const OURS: &[Ours] = &[
    Ours {
        slug: "code-maintainability",
        about: "Code that people other than its authors can read, change, reuse and upgrade safely.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "documentation-quality",
        about: "Documentation that is accurate, findable and kept up to date as part of the work.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "teams-empowered-to-choose-tools",
        about: "The people doing the work choose the tools they do it with.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "generative-organizational-culture",
        about: "Information flows to where it is needed, failures lead to inquiry rather than blame, and teams cooperate across boundaries.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[Evidence {
            finding: "In DORA's surveys, a generative (Westrum) culture predicted higher software delivery and organisational performance — a correlation across respondents, not proof of cause.",
            source: ACCELERATE,
        }],
    },
    Ours {
        slug: "continuous-delivery",
        about: "The software is kept releasable at all times, so any version can go to production on demand.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "database-change-management",
        about: "Schema and data changes are versioned, reviewed and deployed like code.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "deployment-automation",
        about: "Getting a build to production is one automated, repeatable step rather than a manual procedure.",
        drives: &[Freq, Lead, Cfr],
        measured: true,
        experiment: Some(
            "Make the deployment one automated step that runs on every merge to the default branch (or on one command), and record it from CI",
        ),
        evidence: &[],
    },
    Ours {
        slug: "flexible-infrastructure",
        about: "Environments are provisioned on demand, by the team, through code.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "loosely-coupled-teams",
        about: "Teams can change, test and deploy their part of the system without coordinating with other teams.",
        drives: &[Freq, Lead],
        measured: true,
        experiment: Some(
            "Ship each service on its own: split changes that touch several services, and deploy each service when its own changes are ready",
        ),
        evidence: &[Evidence {
            finding: "In DORA's 2017 survey, being able to test and deploy without coordinating with other teams was among the strongest predictors of continuous delivery — a correlation across respondents.",
            source: "DORA / Puppet, 2017 State of DevOps Report",
        }],
    },
    Ours {
        slug: "streamlining-change-approval",
        about: "Changes are approved by peer review close to the work, not by a distant board or a queue.",
        drives: &[Lead, Freq],
        measured: true,
        experiment: Some(
            "Agree that every pull request gets its first review within one working day, and that an approving peer review is the only approval needed",
        ),
        evidence: &[Evidence {
            finding: "In DORA's surveys, approval of changes by an external body (such as a change advisory board) went with longer lead times, lower deployment frequency and slower recovery, and not with fewer failed changes — a correlation, not proof of cause.",
            source: ACCELERATE,
        }],
    },
    Ours {
        slug: "version-control",
        about: "Everything needed to build, configure and deploy the system is in version control.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "working-in-small-batches",
        about: "Work is cut into changes small enough to review, ship and, if needed, undo within a day.",
        drives: &[Lead, Freq, Cfr],
        measured: true,
        experiment: Some(
            "Cap pull requests at about 200 changed lines and deploy after every merge instead of collecting changes into releases",
        ),
        evidence: &[],
    },
    Ours {
        slug: "continuous-integration",
        about: "Everyone merges into the shared branch at least daily, and each merge is built and tested automatically.",
        drives: &[Lead, Cfr],
        measured: true,
        experiment: Some(
            "Merge work into the default branch at least once a day, behind a feature flag when it is unfinished, with the build and tests run on every merge",
        ),
        evidence: &[],
    },
    Ours {
        slug: "monitoring-and-observability",
        about: "The team sees how its service behaves in production and learns of trouble before users report it.",
        drives: &[Recovery],
        measured: true,
        experiment: Some(
            "Alert on the service's user-facing symptoms and record every incident with its open and resolve times",
        ),
        evidence: &[],
    },
    Ours {
        slug: "reliability-engineering",
        about: "Reliability is a goal with numbers (service level objectives) that the team plans its work against.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "pervasive-security",
        about: "Security is built into everyday development work instead of being checked at the end.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "test-automation",
        about: "A fast, reliable automated test suite tells developers within minutes whether a change broke something.",
        drives: &[Cfr, Rework],
        measured: true,
        experiment: Some(
            "Run the automated test suite on every change before merge, and add a test with every fix of a failed deployment",
        ),
        evidence: &[],
    },
    Ours {
        slug: "test-data-management",
        about: "Tests get the data they need on demand, without waiting on people or production copies.",
        drives: &[],
        measured: false,
        experiment: None,
        evidence: &[],
    },
    Ours {
        slug: "trunk-based-development",
        about: "Developers work in short-lived branches (or directly on trunk) that are merged within a day.",
        drives: &[Lead, Freq],
        measured: true,
        experiment: Some(
            "Keep branches to less than a day: merge into the default branch daily, hiding unfinished work behind flags",
        ),
        evidence: &[Evidence {
            finding: "In DORA's surveys, teams with fewer than three active branches, each merged within a day, and no code freezes reported higher delivery performance — a correlation across respondents.",
            source: ACCELERATE,
        }],
    },
];

/// Capabilities DORA describes that the core model file does not list: (slug, name).
const NOT_IN_MODEL: &[(&str, &str)] = &[("trunk-based-development", "Trunk-based development")];

/// The whole catalogue: the core model's capabilities in its order, then those it lacks.
pub fn catalogue() -> Vec<CatalogueEntry> {
    let data = quickcheck();
    let mut entries = Vec::new();
    let mut push = |slug: &str, name: &str, group: Option<&str>| {
        let ours = OURS.iter().find(|o| o.slug == slug);
        let Ok(capability) = Capability::new(slug) else {
            return;
        };
        entries.push(CatalogueEntry {
            slug: capability,
            name: name.to_owned(),
            group: group.map(str::to_owned),
            about: ours.map_or("", |o| o.about),
            article: format!("https://dora.dev/capabilities/{slug}/"),
            drives: ours.map(|o| o.drives.to_vec()).unwrap_or_default(),
            measured: ours.is_some_and(|o| o.measured),
            experiment: ours.and_then(|o| o.experiment),
            statements: data.statements.iter().find(|s| s.slug() == slug).cloned(),
            evidence: ours.map(|o| o.evidence.to_vec()).unwrap_or_default(),
        });
    };
    for group in &data.groups {
        for c in &group.capabilities {
            let slug = c.link.as_deref().map_or(c.slug.as_str(), slug_of);
            push(slug, &c.name, Some(&group.name));
        }
    }
    for (slug, name) in NOT_IN_MODEL {
        push(slug, name, None);
    }
    entries
}

/// The entry of `slug`.
pub fn entry(slug: &str) -> Option<CatalogueEntry> {
    catalogue().into_iter().find(|e| e.slug.as_str() == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_capability_and_trunk_based_development_is_listed_once() {
        let all = catalogue();
        let slugs: Vec<&str> = all.iter().map(|e| e.slug.as_str()).collect();
        let model: usize = quickcheck()
            .groups
            .iter()
            .map(|g| g.capabilities.len())
            .sum();
        assert_eq!(all.len(), model + 1);
        let mut unique = slugs.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), slugs.len());
        for slug in [
            "trunk-based-development",
            "continuous-integration",
            "streamlining-change-approval",
            "deployment-automation",
            "test-automation",
            "monitoring-and-observability",
            "loosely-coupled-teams",
            "working-in-small-batches",
        ] {
            let e = entry(slug).unwrap_or_else(|| panic!("{slug}"));
            assert!(e.measured, "{slug}");
            assert!(!e.about.is_empty() && e.experiment.is_some(), "{slug}");
            assert_eq!(e.article, format!("https://dora.dev/capabilities/{slug}/"));
        }
        assert_eq!(entry("trunk-based-development").unwrap().group, None);
        // Every entry has our own prose.
        for e in &all {
            assert!(!e.about.is_empty(), "{}", e.slug);
        }
    }

    #[test]
    fn statements_are_matched_by_article_path() {
        let with: Vec<String> = catalogue()
            .into_iter()
            .filter(|e| e.statements.is_some())
            .map(|e| e.slug.to_string())
            .collect();
        assert_eq!(
            with,
            [
                "generative-organizational-culture",
                "loosely-coupled-teams",
                "continuous-integration"
            ]
        );
        let ci = entry("continuous-integration").unwrap().statements.unwrap();
        assert_eq!(ci.statements.len(), 5);
        assert_eq!(
            ci.statements[0],
            "Code commits result in an automated build of the software."
        );
    }

    #[test]
    fn evidence_never_claims_a_cause() {
        for e in catalogue() {
            for ev in &e.evidence {
                assert!(!ev.finding.contains("causes"), "{}", e.slug);
                assert!(!ev.source.is_empty());
            }
        }
    }
}
