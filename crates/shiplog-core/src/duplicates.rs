//! One outage, one incident: the rule that keeps an incident reported by two sources from counting
//! twice.
//!
//! Teams often page through PagerDuty and also open an incident issue in GitHub or GitLab for the
//! follow-up, linking one to the other. Both reach shiplog; counted naively, the change fail rate
//! doubles. The link is recorded on the record that makes it: an issue whose text names a PagerDuty
//! incident gets [`Incident::duplicate_of`] set to that incident's id when it is imported.
//!
//! The rule: an incident whose `duplicate_of` names an incident that is stored is left out of
//! attribution and the metrics; the incident it names counts, with its own times. Links are
//! followed (`a → b → c` counts only `c`); a link to an incident that is not stored is ignored, so
//! the duplicate counts until the other one arrives; in a cycle of links (`a → b → a`, only possible
//! from hand-edited records) the incident with the smallest id counts.

use std::collections::HashMap;

use crate::event::Incident;
use crate::names::IncidentId;

/// Splits `incidents` into those that count and the duplicates left out, each duplicate with the
/// id of the incident that counts in its place. Order is kept within both lists.
pub fn split_duplicates(incidents: Vec<Incident>) -> (Vec<Incident>, Vec<(Incident, IncidentId)>) {
    if incidents.iter().all(|i| i.duplicate_of.is_none()) {
        return (incidents, Vec::new());
    }
    let links: HashMap<&IncidentId, Option<&IncidentId>> = incidents
        .iter()
        .map(|i| (&i.id, i.duplicate_of.as_ref()))
        .collect();
    let canonical: Vec<IncidentId> = incidents
        .iter()
        .map(|i| canonical_of(&i.id, &links).clone())
        .collect();
    let mut counted = Vec::with_capacity(incidents.len());
    let mut duplicates = Vec::new();
    for (incident, canonical) in incidents.into_iter().zip(canonical) {
        if canonical == incident.id {
            counted.push(incident);
        } else {
            duplicates.push((incident, canonical));
        }
    }
    (counted, duplicates)
}

/// Follows the links from `id` to the incident that counts for it.
fn canonical_of<'a>(
    id: &'a IncidentId,
    links: &HashMap<&'a IncidentId, Option<&'a IncidentId>>,
) -> &'a IncidentId {
    let mut path: Vec<&IncidentId> = vec![id];
    let mut current = id;
    while let Some(Some(next)) = links.get(current) {
        if !links.contains_key(next) {
            break; // the named incident is not stored: the link is ignored
        }
        if let Some(start) = path.iter().position(|seen| seen == next) {
            // A cycle: its smallest id counts.
            return path[start..].iter().copied().min().unwrap_or(current);
        }
        path.push(next);
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{Environment, ServiceName};
    use jiff::Timestamp;

    fn incident(id: &str, duplicate_of: Option<&str>) -> Incident {
        Incident {
            id: IncidentId::new(id).unwrap(),
            service: ServiceName::new("api").unwrap(),
            environment: Environment::production(),
            opened_at: Timestamp::from_second(1_700_000_000).unwrap(),
            resolved_at: None,
            deployment_id: None,
            sha: None,
            title: None,
            duplicate_of: duplicate_of.map(|d| IncidentId::new(d).unwrap()),
        }
    }

    fn ids(list: &[Incident]) -> Vec<&str> {
        list.iter().map(|i| i.id.as_str()).collect()
    }

    fn dup_ids(list: &[(Incident, IncidentId)]) -> Vec<(&str, &str)> {
        list.iter()
            .map(|(i, c)| (i.id.as_str(), c.as_str()))
            .collect()
    }

    #[test]
    fn a_duplicate_of_a_stored_incident_is_left_out() {
        let (counted, dups) = split_duplicates(vec![
            incident("github:o/r:issue:7", Some("pagerduty:P1")),
            incident("pagerduty:P1", None),
            incident("inc-9", None),
        ]);
        assert_eq!(ids(&counted), ["pagerduty:P1", "inc-9"]);
        assert_eq!(dup_ids(&dups), [("github:o/r:issue:7", "pagerduty:P1")]);
    }

    #[test]
    fn a_link_to_a_missing_incident_is_ignored() {
        let (counted, dups) = split_duplicates(vec![incident("a", Some("missing"))]);
        assert_eq!(ids(&counted), ["a"]);
        assert!(dups.is_empty());
    }

    #[test]
    fn chains_count_their_end_and_cycles_their_smallest_id() {
        let (counted, dups) = split_duplicates(vec![
            incident("a", Some("b")),
            incident("b", Some("c")),
            incident("c", None),
            incident("x", Some("y")),
            incident("y", Some("z")),
            incident("z", Some("y")),
        ]);
        assert_eq!(ids(&counted), ["c", "y"]);
        assert_eq!(
            dup_ids(&dups),
            [("a", "c"), ("b", "c"), ("x", "y"), ("z", "y")]
        );
    }
}
