//! The DORA Quick Check data shiplog ships, embedded at build time from `data/dora-quickcheck.json`.
//!
//! The file is derived from the Quick Check's own files (dora-team/dora.dev; code Apache-2.0,
//! content CC BY 4.0) by `data/derive.py`, values unchanged: the benchmark rows keep the source's
//! inverted storage of change fail rate, rework and instability, and the 2025 organisation-size
//! file's inverted recovery row (see [`crate::benchmark`], which corrects both). A crate must build
//! from its own tree, so the data lives here; a test compares every value with the source files.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The embedded file, as text.
pub const QUICKCHECK_JSON: &str = include_str!("../data/dora-quickcheck.json");

/// Whose data this is, as its licence asks to be said wherever it is shown.
pub const ATTRIBUTION: &str = "Quick Check scoring, capability model, statements and benchmarks: DORA (dora.dev, github.com/dora-team/dora.dev), content CC BY 4.0. Benchmarks are means and standard deviations of self-reported survey answers.";

/// The Quick Check data.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QuickCheckData {
    /// The source and licence of the derived file.
    pub attribution: String,
    /// The Quick Check's name of each metric key (`leadtime` → "Lead time").
    pub metric_names: BTreeMap<String, String>,
    /// The answer texts of the bucketed questions: metric key → bucket ("1".."6") → text.
    pub buckets: BTreeMap<String, BTreeMap<String, String>>,
    /// The core model's capability groups, in the file's order.
    pub groups: Vec<CapabilityGroup>,
    /// The self-assessment statements, per capability article.
    pub statements: Vec<StatementSet>,
    /// Benchmarks: `<edition>-<industry|organization_size>` → row key → metric key → [mean, std],
    /// plus the row's display `name`.
    pub benchmarks: BTreeMap<String, BTreeMap<String, BenchmarkRow>>,
}

/// A capability group of the core model (climate for learning, fast flow, fast feedback).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CapabilityGroup {
    /// Its slug, e.g. `fast-flow`.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its capabilities.
    pub capabilities: Vec<ModelCapability>,
}

/// A capability as the core model lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelCapability {
    /// Its slug in the model (the dora.dev path).
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its article path on dora.dev, when the model gives one.
    pub link: Option<String>,
}

/// The self-assessment statements of one capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementSet {
    /// The capability's article path, e.g. `/capabilities/continuous-integration/`.
    pub article_url: String,
    /// The capability's name as the questions file gives it.
    pub name: String,
    /// The prompt the statements follow (may be empty).
    pub prompt: String,
    /// The statements, numbered from 1 in this order.
    pub statements: Vec<String>,
}

/// One benchmark row (an industry or an organisation size).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BenchmarkRow {
    /// Its display name, e.g. "Retail/Consumer/e-Commerce".
    pub name: String,
    /// Metric key → [mean, std], as stored in the source.
    #[serde(flatten)]
    pub values: BTreeMap<String, [f64; 2]>,
}

/// The embedded data, parsed once.
pub fn quickcheck() -> &'static QuickCheckData {
    static DATA: OnceLock<QuickCheckData> = OnceLock::new();
    DATA.get_or_init(|| {
        // The file is part of the crate and parsed by a test: it cannot fail at run time.
        serde_json::from_str(QUICKCHECK_JSON).expect("data/dora-quickcheck.json is valid")
    })
}

impl StatementSet {
    /// The capability slug the article path names (`/capabilities/<slug>/`).
    pub fn slug(&self) -> &str {
        slug_of(&self.article_url)
    }
}

/// The slug in a dora.dev capability path: `/capabilities/continuous-integration/` →
/// `continuous-integration`.
pub fn slug_of(path: &str) -> &str {
    path.trim_start_matches("/capabilities/")
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_parses() {
        let data = quickcheck();
        assert_eq!(data.groups.len(), 3);
        assert_eq!(data.statements.len(), 3);
        assert_eq!(data.benchmarks.len(), 4);
        assert_eq!(
            slug_of("/capabilities/loosely-coupled-teams/"),
            "loosely-coupled-teams"
        );
    }
}
