//! The auditors' routes (role `auditor`): the log itself and exports of it, the state of any
//! stream at any point folded from the log, the seals and the key that signs them, and
//! verifications of the log and the read models. None of them reads a read model to answer
//! what the log says.

pub mod actions;
pub mod log;
pub mod seals;
pub mod state;
pub mod verifications;
