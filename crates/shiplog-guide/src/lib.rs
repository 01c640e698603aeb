//! shiplog's guide: from a team's own delivery records to the DORA capability that looks like its
//! constraint, and an experiment sized to show whether changing it helped.
//!
//! It exists as its own crate because it joins two things that must stay exact and testable
//! without I/O: DORA's published material (the capability catalogue, the Quick Check's scoring and
//! benchmarks, embedded in [`data`]) and signals computed from shiplog's core types (the commit
//! graph, attribution, pull requests). The binary loads the records and prints; this crate decides.
//!
//! - [`scoring`]: the Quick Check's answer buckets and 0–10 scores;
//! - [`benchmark`]: the survey benchmarks per industry and organisation size, corrected;
//! - [`catalogue`]: the capabilities, their statements, our short prose and cited evidence;
//! - [`signals`]: what the team's data says about each measurable capability;
//! - [`plan`]: where to start, and the experiment to run;
//! - [`report`]: the whole guide, as `shiplog guide` and `shiplog report` show it;
//! - [`assessment`]: self-assessment answers, from a file or a terminal.

pub mod assessment;
pub mod benchmark;
pub mod catalogue;
pub mod data;
pub mod plan;
pub mod report;
pub mod scoring;
pub mod signals;
pub mod standing;

/// Why the guide cannot do what was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GuideError {
    /// An industry or organisation size that the benchmarks do not have.
    #[error("--{option} {given}: not {} of the 2025 benchmarks; known: {}", article(option), known.join(", "))]
    UnknownBenchmarkRow {
        /// `industry` or `org-size`.
        option: &'static str,
        /// What was given.
        given: String,
        /// The keys the file has.
        known: Vec<String>,
    },
    /// A survey edition the embedded data does not hold.
    #[error("no benchmarks for the {edition} edition (the embedded ones are 2024 and 2025)")]
    UnknownEdition {
        /// The edition asked for.
        edition: u16,
    },
}

fn article(option: &str) -> &'static str {
    if option == "industry" {
        "an industry"
    } else {
        "an organisation size"
    }
}
