#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod agent;
pub mod config;
pub mod conformance;
pub mod details;
pub mod error;
pub mod id;
pub mod json;
pub mod policy;
pub mod registry;
pub mod rules;
pub mod status;
pub mod topic;
pub mod wire;

pub use error::{
    Current, ErrorCode, Exception, ExecutionState, InvalidRequest, Limit, Operation, Plane, Rejection,
    Resource, Table,
};
pub use id::{
    Comment, ExecutionNumber, Field, FieldError, JobId, NamespaceId, ReasonCode, StatusDetails, StepTimeout,
    ThingName, Timestamp, VersionNumber, Violation,
};
pub use policy::{
    DeleteWithoutForce, DetailsWrite, NotifyOn, Numbering, PendingCap, Policy, UnknownThing, VersionBump,
};
pub use status::{
    ExecutionStatus, FailureType, JobEndBehavior, JobStatus, RetryableFailureType, TargetSelection,
    UnknownValue,
};
