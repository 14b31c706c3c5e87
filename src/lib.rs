#![doc = include_str!("../docs/crate.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Unit tests may also unwrap, expect, panic and index: see clippy.toml.
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

#[cfg(feature = "alloc")]
extern crate alloc;

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod agent;
pub mod config;
pub mod conformance;
pub mod cron;
pub mod details;
pub mod error;
pub mod field;
pub mod id;
mod json;
mod macros;
pub mod parameters;
pub mod policy;
pub mod registry;
pub mod rules;
pub mod status;
pub mod time;
pub mod topic;
pub mod wire;

/// The crate's internal JSON reader and writer, reachable only for the fuzz targets; not part of
/// the API (its error type is public as [`wire::JsonError`]).
#[doc(hidden)]
pub mod __json {
    pub use crate::json::{BufferFull, Error, JsonStr, Kind, MAX_DEPTH, Reader, Writer};
}

pub use error::{
    Current, ErrorCode, Exception, ExecutionState, InvalidRequest, Limit, Operation, Plane, Rejection,
    Resource, Table,
};
pub use field::{ConfigError, Field, FieldError, Violation};
pub use id::{
    Comment, ExecutionNumber, JobId, NamespaceId, ReasonCode, StatusDetails, ThingName, VersionNumber,
};
pub use policy::{
    DeleteWithoutForce, DetailsWrite, NotifyOn, Numbering, PendingCap, Policy, UnknownThing, VersionBump,
};
pub use status::{
    ExecutionStatus, FailureType, JobEndBehavior, JobStatus, RetryableFailureType, TargetSelection,
    UnknownValue,
};
pub use time::{StepTimeout, TimeoutMinutes, Timestamp};

/// The `heapless` this crate is built with: its `Deque` is an [`EventSink`](registry::EventSink)
/// (`heapless::Deque<registry::Event, N>`) without a dependency of the application's own.
pub use heapless;
