//! The definitions the report carries: the sections of `docs/metrics.md` that define each metric
//! (and the bands, periods and stages), compiled into the binary so that a report sent to someone
//! else explains itself without a link to this repository.

use serde::Serialize;

/// docs/metrics.md, as built.
const METRICS_DOC: &str = include_str!("../../../../docs/metrics.md");

/// The sections carried, by heading; the anchor is the heading's GitHub-style slug.
const SECTIONS: [&str; 9] = [
    "Deployment frequency",
    "Change lead time",
    "Change fail rate",
    "Failed deployment recovery time",
    "Deployment rework rate",
    "Lead-time stages",
    "Failed deployments",
    "Windows and periods",
    "Bands",
];

/// One definition: a section of docs/metrics.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    /// The section's heading.
    pub title: String,
    /// Its anchor in the page (`change-lead-time`).
    pub anchor: String,
    /// Its text, Markdown.
    pub markdown: String,
}

/// `Lead-time stages` → `lead-time-stages`.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

/// The text under `## heading` up to the next `## ` heading (subsections included).
fn section(doc: &str, heading: &str) -> Option<String> {
    let marker = format!("## {heading}\n");
    let start = doc.find(&marker)? + marker.len();
    let rest = &doc[start..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 1);
    Some(rest[..end].trim().to_owned())
}

/// The definitions, in report order. The deployment rework rate's anchor is the metric's.
pub fn definitions() -> Vec<Definition> {
    SECTIONS
        .iter()
        .filter_map(|&heading| {
            Some(Definition {
                title: heading.to_owned(),
                anchor: slug(heading),
                markdown: section(METRICS_DOC, heading)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_found_in_docs() {
        let found = definitions();
        let titles: Vec<&str> = found.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(
            titles,
            SECTIONS.to_vec(),
            "a section of docs/metrics.md was renamed"
        );
        assert_eq!(found[4].anchor, "deployment-rework-rate");
        assert!(
            found
                .iter()
                .all(|d| !d.markdown.is_empty() && !d.markdown.contains("\n## "))
        );
    }
}
