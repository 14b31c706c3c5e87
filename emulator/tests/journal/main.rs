//! The write-ahead journal's recovery from torn and corrupted segments, and state export and
//! import (`GET`/`POST /_emulator/state`).
//!
//! The tests are in the modules, by topic; `support` holds what they share, beside the
//! in-process emulator (`in_process`) and the helpers of the reliability tests
//! (`reliability_common`) that other test files use too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../in_process/mod.rs"]
mod in_process;
#[allow(dead_code)]
#[path = "../reliability_common/mod.rs"]
mod reliability_common;
mod support;

mod checkpoints;
mod export_import;
mod import_validation;
mod objects;
mod recovery;
mod replay;
mod replica;
mod state_file;
