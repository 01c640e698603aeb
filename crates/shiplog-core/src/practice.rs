//! Practice changes: "on 3 March we started doing trunk-based development".
//!
//! A practice change is the event an impact analysis is about. It is recorded like a deployment or
//! an incident (`shiplog practice start`, or a `practice_change` line in an import file) and kept in
//! the store, so the analysis can be rerun later with more data and gives the same answer for the
//! same records. Its name identifies it: recording the same name again updates it.
//!
//! A change applies to some services, to a team (whose services a later configuration names), or,
//! with neither, to every service.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::names::{NameError, ServiceName, name_type};

/// The longest practice name, in characters.
const MAX_PRACTICE_NAME: usize = 100;
/// The longest capability slug, in characters.
const MAX_CAPABILITY: usize = 60;

/// The name of a practice change, e.g. `Trunk-based development`.
///
/// Free text for people: letters, digits, spaces and punctuation, at most 100 characters, no control
/// characters. Surrounding whitespace is removed and runs of whitespace inside become one space, so
/// `"Trunk-based  development "` and `"Trunk-based development"` are the same name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PracticeName(String);

impl PracticeName {
    /// Validates and normalises `text`.
    pub fn new(text: &str) -> Result<Self, NameError> {
        const WHAT: &str = "practice name";
        let normal = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if normal.is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        let len = normal.chars().count();
        if len > MAX_PRACTICE_NAME {
            return Err(NameError::TooLong {
                what: WHAT,
                max: MAX_PRACTICE_NAME,
                len,
            });
        }
        if let Some(found) = normal.chars().find(|c| c.is_control()) {
            return Err(NameError::BadCharacter {
                what: WHAT,
                allowed: "printable characters",
                found,
                text: normal,
            });
        }
        Ok(Self(normal))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PracticeName {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Self, NameError> {
        Self::new(text)
    }
}

impl TryFrom<String> for PracticeName {
    type Error = NameError;
    fn try_from(text: String) -> Result<Self, NameError> {
        Self::new(&text)
    }
}

impl From<PracticeName> for String {
    fn from(value: PracticeName) -> String {
        value.0
    }
}

impl fmt::Display for PracticeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

name_type!(
    /// A team, named like a service (`payments`, `platform/infra`).
    TeamName,
    "team name",
    100,
    String,
    crate::names::SCOPE_CHARS
);

/// A capability slug, e.g. `trunk-based-development` (as in the paths of dora.dev's capability
/// pages): lowercase letters, digits and single hyphens, at most 60 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Capability(String);

impl Capability {
    /// Validates `text` (surrounding whitespace is trimmed).
    pub fn new(text: &str) -> Result<Self, NameError> {
        const WHAT: &str = "capability slug";
        let text = text.trim();
        if text.is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        let len = text.chars().count();
        if len > MAX_CAPABILITY {
            return Err(NameError::TooLong {
                what: WHAT,
                max: MAX_CAPABILITY,
                len,
            });
        }
        let bad = text
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
            .or_else(|| {
                (text.starts_with('-') || text.ends_with('-') || text.contains("--")).then_some('-')
            });
        if let Some(found) = bad {
            return Err(NameError::BadCharacter {
                what: WHAT,
                allowed: "lowercase letters, digits and single hyphens inside",
                found,
                text: text.to_owned(),
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The validated slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Capability {
    type Error = NameError;
    fn try_from(text: String) -> Result<Self, NameError> {
        Self::new(&text)
    }
}

impl From<Capability> for String {
    fn from(value: Capability) -> String {
        value.0
    }
}

impl FromStr for Capability {
    type Err = NameError;
    fn from_str(text: &str) -> Result<Self, NameError> {
        Self::new(text)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which services a practice change applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PracticeScope {
    /// Every service.
    AllServices,
    /// These services (sorted, without duplicates, never empty).
    Services {
        /// The services.
        services: Vec<ServiceName>,
    },
    /// The services of a team (the mapping comes from configuration).
    Team {
        /// The team.
        team: TeamName,
    },
}

impl PracticeScope {
    /// A scope of `services` (sorted and deduplicated); every service when the list is empty.
    pub fn services(mut services: Vec<ServiceName>) -> Self {
        services.sort();
        services.dedup();
        if services.is_empty() {
            Self::AllServices
        } else {
            Self::Services { services }
        }
    }

    /// Whether the change applies to `service`; `None` for a team scope, which needs a mapping.
    pub fn includes(&self, service: &ServiceName) -> Option<bool> {
        match self {
            Self::AllServices => Some(true),
            Self::Services { services } => Some(services.binary_search(service).is_ok()),
            Self::Team { .. } => None,
        }
    }

    /// In words: `api, web`, `team payments` or `all services`.
    pub fn describe(&self) -> String {
        match self {
            Self::AllServices => "all services".to_owned(),
            Self::Services { services } => services
                .iter()
                .map(ServiceName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            Self::Team { team } => format!("team {team}"),
        }
    }
}

/// Why a practice change is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PracticeError {
    /// It ends before it starts.
    #[error("the practice change ends ({ended_on}) before it starts ({started_on})")]
    EndsBeforeStart {
        /// The start date.
        started_on: Date,
        /// The end date.
        ended_on: Date,
    },
}

/// A change in how a team works, from a date on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeChange {
    /// Identifies the change; recording the same name again updates it.
    pub name: PracticeName,
    /// The first day of the new practice (00:00 UTC).
    pub started_on: Date,
    /// The day the practice stopped, if it did (the analysis ends there).
    pub ended_on: Option<Date>,
    /// Which services changed.
    pub scope: PracticeScope,
    /// The DORA capability it relates to, if any.
    pub capability: Option<Capability>,
    /// A free-text note (what exactly changed).
    pub note: Option<String>,
}

impl PracticeChange {
    /// Checks the dates: `ended_on`, when given, is not before `started_on`.
    pub fn validate(&self) -> Result<(), PracticeError> {
        match self.ended_on {
            Some(ended_on) if ended_on < self.started_on => Err(PracticeError::EndsBeforeStart {
                started_on: self.started_on,
                ended_on,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_names_are_normalised() {
        let name = PracticeName::new("  Trunk-based   development ").unwrap();
        assert_eq!(name.as_str(), "Trunk-based development");
        assert_eq!(name, PracticeName::new("Trunk-based development").unwrap());
        assert!(matches!(
            PracticeName::new("   "),
            Err(NameError::Empty { .. })
        ));
        assert!(matches!(
            PracticeName::new(&"x".repeat(101)),
            Err(NameError::TooLong { len: 101, .. })
        ));
        assert!(PracticeName::new("a\u{7}b").is_err());
        assert_eq!(
            serde_json::to_string(&name).unwrap(),
            "\"Trunk-based development\""
        );
    }

    #[test]
    fn capabilities_are_slugs() {
        assert_eq!(
            Capability::new("trunk-based-development").unwrap().as_str(),
            "trunk-based-development"
        );
        for bad in ["Trunk", "a b", "-a", "a-", "a--b", ""] {
            assert!(Capability::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn team_names_follow_service_rules() {
        assert_eq!(TeamName::new(" payments ").unwrap().as_str(), "payments");
        let err = TeamName::new("the team").unwrap_err();
        assert!(err.to_string().starts_with("expected a team name"), "{err}");
    }

    #[test]
    fn scopes_sort_and_describe() {
        let api = ServiceName::new("api").unwrap();
        let web = ServiceName::new("web").unwrap();
        let scope = PracticeScope::services(vec![web.clone(), api.clone(), web.clone()]);
        assert_eq!(scope.describe(), "api, web");
        assert_eq!(scope.includes(&api), Some(true));
        assert_eq!(
            scope.includes(&ServiceName::new("billing").unwrap()),
            Some(false)
        );
        assert_eq!(PracticeScope::services(vec![]), PracticeScope::AllServices);
        let team = PracticeScope::Team {
            team: TeamName::new("payments").unwrap(),
        };
        assert_eq!(team.includes(&api), None);
        assert_eq!(team.describe(), "team payments");
    }

    #[test]
    fn end_before_start_is_refused() {
        let change = PracticeChange {
            name: PracticeName::new("x").unwrap(),
            started_on: "2026-03-03".parse().unwrap(),
            ended_on: Some("2026-03-02".parse().unwrap()),
            scope: PracticeScope::AllServices,
            capability: None,
            note: None,
        };
        assert!(change.validate().is_err());
    }
}
