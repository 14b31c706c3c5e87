//! Requests, device → service (SPEC §4.3, §7.1). The same bodies serve the HTTPS data plane,
//! where `clientToken` is not used.

use crate::id::{ExecutionNumber, StepTimeout, VersionNumber};
use crate::json::Writer;
use crate::status::ExecutionStatus;

use super::data::write_details;
use super::{Flavor, Parser, StatusDetails, WireError, put_client_token, put_str, put_u64, required};

/// GetPendingJobExecutions, published to `$aws/things/T/jobs/get` (SPEC §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GetPendingRequest<'a> {
    /// `clientToken`, echoed in the response.
    pub client_token: Option<&'a str>,
}

impl<'a> GetPendingRequest<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let mut client_token = None;
        read_members!(p, key { p.is_client_token(key) => client_token = p.client_token()? })?;
        Ok(Self { client_token })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(GetPendingRequest, request);

/// StartNextPendingJobExecution, published to `$aws/things/T/jobs/start-next` (SPEC §7.1, §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StartNextRequest<'a> {
    /// `statusDetails` to set if the next execution is QUEUED (SPEC T2).
    pub status_details: Option<StatusDetails<'a>>,
    /// `stepTimeoutInMinutes`: 1–10080; `-1` is not allowed here (SPEC §3 timer facts).
    pub step_timeout: Option<StepTimeout>,
    /// `clientToken`, echoed in the response.
    pub client_token: Option<&'a str>,
}

impl<'a> StartNextRequest<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut status_details, mut step_timeout, mut client_token) = (None, None, None);
        read_members!(p, key {
            key.eq_str("statusDetails") => status_details = p.details()?,
            key.eq_str("stepTimeoutInMinutes") => step_timeout = p.step_timeout(false)?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        Ok(Self { status_details, step_timeout, client_token })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        write_details(w, self.status_details.as_ref())?;
        write_step_timeout(w, self.step_timeout, false)?;
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(StartNextRequest, request);

/// DescribeJobExecution, published to `$aws/things/T/jobs/J/get` (SPEC §7.1, §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DescribeRequest<'a> {
    /// `executionNumber`: absent means the latest (SPEC §8).
    pub execution_number: Option<ExecutionNumber>,
    /// `includeJobDocument`, default **true** (SPEC §4.3); written only when false.
    pub include_job_document: bool,
    /// `clientToken`, echoed in the response.
    pub client_token: Option<&'a str>,
}

impl Default for DescribeRequest<'_> {
    fn default() -> Self {
        Self { execution_number: None, include_job_document: true, client_token: None }
    }
}

impl<'a> DescribeRequest<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut execution_number, mut include_job_document, mut client_token) = (None, None, None);
        read_members!(p, key {
            key.eq_str("executionNumber") => execution_number = p.execution_number(true)?,
            key.eq_str("includeJobDocument") => include_job_document = p.bool()?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        // SPEC §4.3: includeJobDocument defaults to true.
        Ok(Self {
            execution_number,
            include_job_document: include_job_document.unwrap_or(true),
            client_token,
        })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        if let Some(n) = self.execution_number {
            put_u64(w, "executionNumber", n.get())?;
        }
        if !self.include_job_document {
            w.key("includeJobDocument")?;
            w.bool(false)?;
        }
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(DescribeRequest, request);

/// UpdateJobExecution, published to `$aws/things/T/jobs/J/update` (SPEC §7.1, §4.3).
///
/// Every status parses; which ones a device may set is the rules' decision (SPEC R9), not the
/// wire's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpdateRequest<'a> {
    /// `status` (required).
    pub status: ExecutionStatus,
    /// `statusDetails`: absent leaves the stored map unchanged (SPEC §4.3).
    pub status_details: Option<StatusDetails<'a>>,
    /// `expectedVersion`: a JSON number or a string of digits on input (SPEC §5); written as a
    /// number.
    pub expected_version: Option<VersionNumber>,
    /// `executionNumber`: absent means the latest (SPEC §8).
    pub execution_number: Option<ExecutionNumber>,
    /// `includeJobExecutionState`, default false; written only when true.
    pub include_job_execution_state: bool,
    /// `includeJobDocument`, default false; written only when true.
    pub include_job_document: bool,
    /// `stepTimeoutInMinutes`: 1–10080, or -1 ([`StepTimeout::Cancel`]) to cancel the step timer.
    pub step_timeout: Option<StepTimeout>,
    /// `clientToken`, echoed in the response.
    pub client_token: Option<&'a str>,
}

impl<'a> UpdateRequest<'a> {
    /// A request that sets `status` and nothing else.
    #[must_use]
    pub const fn new(status: ExecutionStatus) -> Self {
        Self {
            status,
            status_details: None,
            expected_version: None,
            execution_number: None,
            include_job_execution_state: false,
            include_job_document: false,
            step_timeout: None,
            client_token: None,
        }
    }

    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut status, mut status_details, mut expected_version, mut execution_number) =
            (None, None, None, None);
        let (mut include_state, mut include_document, mut step_timeout, mut client_token) =
            (None, None, None, None);
        read_members!(p, key {
            key.eq_str("status") => status = p.status()?,
            key.eq_str("statusDetails") => status_details = p.details()?,
            key.eq_str("expectedVersion") => expected_version = p.version(true)?,
            key.eq_str("executionNumber") => execution_number = p.execution_number(true)?,
            key.eq_str("includeJobExecutionState") => include_state = p.bool()?,
            key.eq_str("includeJobDocument") => include_document = p.bool()?,
            key.eq_str("stepTimeoutInMinutes") => step_timeout = p.step_timeout(true)?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        Ok(Self {
            status: required(status, "status")?,
            status_details,
            expected_version,
            execution_number,
            // SPEC §4.3: both default to false.
            include_job_execution_state: include_state.unwrap_or(false),
            include_job_document: include_document.unwrap_or(false),
            step_timeout,
            client_token,
        })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        put_str(w, "status", self.status.as_str())?;
        write_details(w, self.status_details.as_ref())?;
        if let Some(v) = self.expected_version {
            put_u64(w, "expectedVersion", v.get())?;
        }
        if let Some(n) = self.execution_number {
            put_u64(w, "executionNumber", n.get())?;
        }
        for (name, set) in [
            ("includeJobExecutionState", self.include_job_execution_state),
            ("includeJobDocument", self.include_job_document),
        ] {
            if set {
                w.key(name)?;
                w.bool(true)?;
            }
        }
        write_step_timeout(w, self.step_timeout, true)?;
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(UpdateRequest, request);

/// Writes `stepTimeoutInMinutes` after checking it again (the variant's payload is public).
fn write_step_timeout(
    w: &mut Writer<'_>,
    timeout: Option<StepTimeout>,
    allow_cancel: bool,
) -> Result<(), WireError> {
    let Some(timeout) = timeout else {
        return Ok(());
    };
    let wire = match timeout {
        StepTimeout::Minutes(m) => i64::from(m),
        StepTimeout::Cancel => -1,
    };
    StepTimeout::from_wire(wire, allow_cancel)?;
    w.key("stepTimeoutInMinutes")?;
    Ok(w.i64(wire)?)
}

impl Parser<'_> {
    /// `stepTimeoutInMinutes` (SPEC §3 timer facts: 1–10080; -1 only where `allow_cancel`).
    fn step_timeout(&mut self, allow_cancel: bool) -> Result<StepTimeout, WireError> {
        Ok(StepTimeout::from_wire(self.r.read_i64()?, allow_cancel)?)
    }
}
