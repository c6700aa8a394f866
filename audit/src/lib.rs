//! The auditors' tools. An auditor trusts nothing but the event log: not the read models,
//! not the operators, not whoever administers the database. So everything here reads the
//! log through the event-log port and nothing else.

pub mod coverage;
pub mod export;
pub mod seal;
pub mod sealer;
pub mod state;
pub mod verify_log;
