//! Which services a commit belongs to, and scopes wider than one service (a team).
//!
//! In a monorepo one history holds many services, and a deployment of `api` ships only `api`'s
//! changes even though its commit reaches every commit of the repository. The git reader decides
//! which services each commit touches (from its changed paths and the configured path globs) and
//! hands the result here as one 64-bit mask per commit; attribution then keeps a reached commit as
//! a change of service `S` only when its mask has `S`'s bit.
//!
//! Worked example: services `api` (bit 0) and `web` (bit 1); commits `a` (touches `api/`, mask
//! `0b01`), `b` (touches `web/`, `0b10`), `c` (touches both, `0b11`) and `d` (only `README.md`,
//! `0b00`). A deployment of `api` reaching all four newly ships `a` and `c`; one of `web` ships `b`
//! and `c`; `d` is a change of neither. A service without path globs is not in the membership and
//! owns every commit, as without configuration.

use crate::graph::CommitIdx;
use crate::names::ServiceName;
use crate::practice::TeamName;

/// Services with path globs in one repository: one bit each in a commit's 64-bit mask.
pub const MAX_SERVICES: usize = u64::BITS as usize;

/// Per-commit service masks; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceMembership {
    services: Vec<ServiceName>,
    masks: Vec<u64>,
}

/// A membership that does not fit the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// More services than bits.
    #[error("at most 64 services can have path globs in one repository, got {0}")]
    TooManyServices(usize),
    /// The masks do not cover the commit graph.
    #[error("service masks cover {masks} commits, the history holds {commits}")]
    WrongLength {
        /// Masks given.
        masks: usize,
        /// Commits in the graph.
        commits: usize,
    },
}

impl ServiceMembership {
    /// Services (bit `i` is `services[i]`) and one mask per commit of a graph of `commits` commits.
    pub fn new(
        services: Vec<ServiceName>,
        masks: Vec<u64>,
        commits: usize,
    ) -> Result<Self, MembershipError> {
        if services.len() > MAX_SERVICES {
            return Err(MembershipError::TooManyServices(services.len()));
        }
        if masks.len() != commits {
            return Err(MembershipError::WrongLength {
                masks: masks.len(),
                commits,
            });
        }
        Ok(Self { services, masks })
    }

    /// The services with path globs, in bit order.
    pub fn services(&self) -> &[ServiceName] {
        &self.services
    }

    /// The bit of `service`, when it has path globs.
    pub fn bit(&self, service: &ServiceName) -> Option<u32> {
        self.services
            .iter()
            .position(|s| s == service)
            .map(|i| i as u32)
    }

    /// The mask of commit `commit` (0 when out of range).
    pub fn mask(&self, commit: CommitIdx) -> u64 {
        self.masks.get(commit as usize).copied().unwrap_or(0)
    }

    /// Whether commit `commit` is a change of the service with bit `bit`.
    pub fn belongs(&self, commit: CommitIdx, bit: u32) -> bool {
        self.mask(commit) & (1u64 << bit) != 0
    }
}

/// A team and the services it owns: a scope wider than one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamScope {
    /// The team.
    pub team: TeamName,
    /// Its services.
    pub services: Vec<ServiceName>,
}

impl TeamScope {
    /// Whether the team owns `service`.
    pub fn owns(&self, service: &ServiceName) -> bool {
        self.services.contains(service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_doc_example() {
        let api = ServiceName::new("api").unwrap();
        let web = ServiceName::new("web").unwrap();
        let m =
            ServiceMembership::new(vec![api.clone(), web.clone()], vec![1, 2, 3, 0], 4).unwrap();
        let (a, w) = (m.bit(&api).unwrap(), m.bit(&web).unwrap());
        let of = |bit| (0..4).filter(|&c| m.belongs(c, bit)).collect::<Vec<_>>();
        assert_eq!(of(a), [0, 2]);
        assert_eq!(of(w), [1, 2]);
        assert_eq!(m.bit(&ServiceName::new("docs").unwrap()), None);
        assert!(matches!(
            ServiceMembership::new(vec![api], vec![1], 2),
            Err(MembershipError::WrongLength { .. })
        ));
    }
}
