//! The operations, by the resource they act on.

mod delete;
mod device;
mod executions;
mod jobs;
mod things;
