//! Self-assessment answers: how a team rated itself on one of DORA's capability statements, and
//! when.
//!
//! Some capabilities (culture, documentation, how loosely teams are coupled) leave no trace in git
//! or deployment records; the only measure is the team's own judgement, asked as DORA's Quick Check
//! asks it — a statement and an answer from 1 (strongly disagree) to 5 (strongly agree). The answer
//! is kept with its date so that a later assessment shows change over time instead of replacing it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::practice::Capability;

/// One answer to one statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CapabilityAnswer {
    /// The capability.
    pub capability: Capability,
    /// The statement, numbered from 1 in the capability's list.
    pub statement: u32,
    /// The answer: 1 (strongly disagree) to 5 (strongly agree).
    pub rating: u8,
    /// The day it was answered (UTC). Answering the same statement again on the same day replaces
    /// the answer; another day adds one.
    pub answered_on: Date,
}

/// An answer outside 1–5 or a statement numbered 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The rating is not 1–5.
    #[error("expected an answer from 1 (strongly disagree) to 5 (strongly agree), got {0}")]
    Rating(i64),
    /// Statements are numbered from 1.
    #[error("statements are numbered from 1, got {0}")]
    Statement(u32),
}

impl CapabilityAnswer {
    /// Checks the rating and the statement number.
    pub fn validate(&self) -> Result<(), AnswerError> {
        if !(1..=5).contains(&self.rating) {
            return Err(AnswerError::Rating(i64::from(self.rating)));
        }
        if self.statement == 0 {
            return Err(AnswerError::Statement(0));
        }
        Ok(())
    }
}
