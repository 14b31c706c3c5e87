//! Responses and notifications, service → device (SPEC §4.4, §7.1, §7.2).

use crate::error::ErrorCode;
use crate::id::Timestamp;
use crate::json::Writer;

use super::data::{
    JobDocument, JobExecution, JobExecutionState, JobExecutionSummary, SummaryIdentity, write_document,
};
use super::{
    Flavor, MAX_PENDING_JOBS, Parser, WireError, put_client_token, put_response_timestamp, put_str, put_u64,
    required,
};

/// A list of pending-execution summaries, at most [`MAX_PENDING_JOBS`] long.
pub type SummaryList<'a> = heapless::Vec<JobExecutionSummary<'a>, MAX_PENDING_JOBS>;

/// The accepted response of GetPendingJobExecutions (`…/jobs/get/accepted`; SPEC §7.1, §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GetPendingResponse<'a> {
    /// `inProgressJobs`: the IN_PROGRESS executions (a missing list reads as empty).
    pub in_progress_jobs: SummaryList<'a>,
    /// `queuedJobs`: the QUEUED executions (a missing list reads as empty).
    pub queued_jobs: SummaryList<'a>,
    /// `timestamp`: always present over MQTT; the HTTPS body has none.
    pub timestamp: Option<Timestamp>,
    /// `clientToken` of the request.
    pub client_token: Option<&'a str>,
}

impl<'a> GetPendingResponse<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut in_progress, mut queued, mut timestamp, mut client_token) = (None, None, None, None);
        read_members!(p, key {
            key.eq_str("inProgressJobs") => in_progress = p.summaries("inProgressJobs")?,
            key.eq_str("queuedJobs") => queued = p.summaries("queuedJobs")?,
            p.is_response_timestamp(key) => timestamp = p.timestamp()?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        Ok(Self {
            in_progress_jobs: in_progress.unwrap_or_default(),
            queued_jobs: queued.unwrap_or_default(),
            timestamp,
            client_token,
        })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        write_summaries(w, "inProgressJobs", &self.in_progress_jobs)?;
        write_summaries(w, "queuedJobs", &self.queued_jobs)?;
        put_response_timestamp(w, self.timestamp, flavor)?;
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(GetPendingResponse);

/// What a device needs of a GetPendingJobExecutions reply to name the execution a StartNext
/// handed over: the identity of the first of `inProgressJobs` (SPEC §7.2's order puts
/// IN_PROGRESS first) and the `clientToken`, read without the two lists a
/// [`GetPendingResponse`] keeps on the stack. Every other member and summary is skipped, which
/// still checks that it is JSON (as [`ExecutionIdentity`](super::ExecutionIdentity) reads an
/// execution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingHead<'a> {
    /// The first of `inProgressJobs`.
    pub(crate) in_progress: Option<SummaryIdentity<'a>>,
    /// `clientToken` of the request.
    pub(crate) client_token: Option<&'a str>,
}

impl<'a> PendingHead<'a> {
    /// Reads a reply in its MQTT form (as [`GetPendingResponse::parse`]).
    pub(crate) fn parse(input: &'a [u8], scratch: &'a mut [u8]) -> Result<Self, WireError> {
        super::parse(input, scratch, super::Flavor::Mqtt, false, Self::read)
    }

    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut in_progress, mut client_token) = (None, None);
        read_members!(p, key {
            key.eq_str("inProgressJobs") => in_progress = p.first_summary_identity()?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        Ok(Self { in_progress: in_progress.flatten(), client_token })
    }
}

/// The accepted response of StartNextPendingJobExecution and of DescribeJobExecution
/// (`…/start-next/accepted`, `…/J/get/accepted`; SPEC §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionResponse<'a> {
    /// `execution`: absent when nothing is pending (StartNext, `$next`; SPEC R19).
    pub execution: Option<JobExecution<'a>>,
    /// `timestamp`: always present over MQTT; the HTTPS body has none.
    pub timestamp: Option<Timestamp>,
    /// `clientToken` of the request.
    pub client_token: Option<&'a str>,
}

impl<'a> ExecutionResponse<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut execution, mut timestamp, mut client_token) = (None, None, None);
        read_members!(p, key {
            key.eq_str("execution") => execution = JobExecution::read(p)?,
            p.is_response_timestamp(key) => timestamp = p.timestamp()?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        Ok(Self { execution, timestamp, client_token })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        if let Some(execution) = &self.execution {
            w.key("execution")?;
            execution.write(w, flavor)?;
        }
        put_response_timestamp(w, self.timestamp, flavor)?;
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(ExecutionResponse);

/// The accepted response of UpdateJobExecution (`…/J/update/accepted`; SPEC §7.1, §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpdateResponse<'a> {
    /// `executionState`: present when the request set `includeJobExecutionState`.
    pub execution_state: Option<JobExecutionState<'a>>,
    /// `jobDocument`: present when the request set `includeJobDocument`.
    pub job_document: Option<JobDocument<'a>>,
    /// `timestamp`: always present over MQTT; the HTTPS body has none.
    pub timestamp: Option<Timestamp>,
    /// `clientToken` of the request.
    pub client_token: Option<&'a str>,
}

impl<'a> UpdateResponse<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut execution_state, mut job_document, mut timestamp, mut client_token) =
            (None, None, None, None);
        read_members!(p, key {
            key.eq_str("executionState") => execution_state = JobExecutionState::read(p)?,
            key.eq_str("jobDocument") => job_document = p.document()?,
            p.is_response_timestamp(key) => timestamp = p.timestamp()?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        Ok(Self { execution_state, job_document, timestamp, client_token })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        if let Some(state) = &self.execution_state {
            w.key("executionState")?;
            state.write(w)?;
        }
        write_document(w, self.job_document, flavor)?;
        put_response_timestamp(w, self.timestamp, flavor)?;
        put_client_token(w, self.client_token, flavor)?;
        Ok(w.end_object()?)
    }
}

message!(UpdateResponse);

/// The body of every `…/rejected` response (DG-API ErrorResponse; SPEC §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorResponse<'a> {
    /// `code`: one of the nine codes.
    pub code: ErrorCode,
    /// `message`: free text for people.
    pub message: &'a str,
    /// `clientToken` of the request.
    pub client_token: Option<&'a str>,
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// `executionState`: only with `InvalidStateTransition` and `VersionMismatch`
    /// ([`ErrorCode::carries_execution_state`]); with any other code it is an error on both
    /// parse and serialize.
    pub execution_state: Option<JobExecutionState<'a>>,
}

impl<'a> ErrorResponse<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut code, mut message, mut client_token, mut timestamp) = (None, None, None, None);
        let mut execution_state = None;
        read_members!(p, key {
            key.eq_str("code") => code = p.one_of(&ErrorCode::ALL, ErrorCode::as_str, "ErrorCode")?,
            key.eq_str("message") => message = p.string()?,
            p.is_client_token(key) => client_token = p.client_token()?,
            key.eq_str("timestamp") => timestamp = p.timestamp()?,
            key.eq_str("executionState") => execution_state = JobExecutionState::read(p)?,
        })?;
        let response = Self {
            code: required(code, "code")?,
            message: required(message, "message")?,
            client_token,
            timestamp: required(timestamp, "timestamp")?,
            execution_state,
        };
        response.check()?;
        Ok(response)
    }

    /// SPEC §4.4: `executionState` only where the code carries one.
    fn check(&self) -> Result<(), WireError> {
        if self.execution_state.is_some() && !self.code.carries_execution_state() {
            return Err(WireError::NotAllowed { member: "executionState" });
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        self.check()?;
        w.begin_object()?;
        put_str(w, "code", self.code.as_str())?;
        put_str(w, "message", self.message)?;
        put_client_token(w, self.client_token, flavor)?;
        put_u64(w, "timestamp", self.timestamp.secs())?;
        if let Some(state) = &self.execution_state {
            w.key("executionState")?;
            state.write(w)?;
        }
        Ok(w.end_object()?)
    }
}

message!(ErrorResponse);

/// `$aws/things/T/jobs/notify` (ListNotification / JobExecutionsChanged; SPEC §7.2).
///
/// The pending executions keyed by status: `{"timestamp":…,"jobs":{"IN_PROGRESS":[…],
/// "QUEUED":[…]}}`. An empty list is omitted, so an empty pending set is `"jobs":{}`. Keys of
/// `jobs` other than these two are ignored on input (SPEC AMBIG-23: the examples win over the
/// syntax block's `"JobExecutionState"` key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobExecutionsChanged<'a> {
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// `jobs.IN_PROGRESS`.
    pub in_progress: SummaryList<'a>,
    /// `jobs.QUEUED`.
    pub queued: SummaryList<'a>,
}

impl<'a> JobExecutionsChanged<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut timestamp, mut jobs) = (None, None);
        read_members!(p, key {
            key.eq_str("timestamp") => timestamp = p.timestamp()?,
            key.eq_str("jobs") => jobs = {
                let (mut in_progress, mut queued) = (None, None);
                read_members!(p, key {
                    key.eq_str("IN_PROGRESS") => in_progress = p.summaries("IN_PROGRESS")?,
                    key.eq_str("QUEUED") => queued = p.summaries("QUEUED")?,
                })?;
                (in_progress.unwrap_or_default(), queued.unwrap_or_default())
            },
        })?;
        let (in_progress, queued) = required(jobs, "jobs")?;
        Ok(Self { timestamp: required(timestamp, "timestamp")?, in_progress, queued })
    }

    // The same in both flavours (it has no `clientToken` and no document).
    fn write(&self, w: &mut Writer<'_>, _flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        put_u64(w, "timestamp", self.timestamp.secs())?;
        w.key("jobs")?;
        w.begin_object()?;
        // SPEC §7.2: IN_PROGRESS first; an empty list is left out.
        for (status, list) in [("IN_PROGRESS", &self.in_progress), ("QUEUED", &self.queued)] {
            if !list.is_empty() {
                write_summaries(w, status, list)?;
            }
        }
        w.end_object()?;
        Ok(w.end_object()?)
    }
}

message!(JobExecutionsChanged);

/// `$aws/things/T/jobs/notify-next` (NextNotification / NextJobExecutionChanged; SPEC §7.2):
/// the new head of the pending list, or only `timestamp` when nothing is pending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NextJobExecutionChanged<'a> {
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// `execution`, including its `jobDocument`.
    pub execution: Option<JobExecution<'a>>,
}

impl<'a> NextJobExecutionChanged<'a> {
    fn read(p: &mut Parser<'a>) -> Result<Self, WireError> {
        let (mut timestamp, mut execution) = (None, None);
        // A notification answers no request, so a `clientToken` is read and dropped: once, as
        // `ExecutionIdentity` reads it (given twice, both refuse the message).
        let mut client_token = None;
        read_members!(p, key {
            key.eq_str("timestamp") => timestamp = p.timestamp()?,
            key.eq_str("execution") => execution = JobExecution::read(p)?,
            p.is_client_token(key) => client_token = p.client_token()?,
        })?;
        let _: Option<&str> = client_token;
        Ok(Self { timestamp: required(timestamp, "timestamp")?, execution })
    }

    fn write(&self, w: &mut Writer<'_>, flavor: Flavor) -> Result<(), WireError> {
        w.begin_object()?;
        put_u64(w, "timestamp", self.timestamp.secs())?;
        if let Some(execution) = &self.execution {
            w.key("execution")?;
            execution.write(w, flavor)?;
        }
        Ok(w.end_object()?)
    }
}

message!(NextJobExecutionChanged);

/// Writes `"name":[summary,…]`.
fn write_summaries(
    w: &mut Writer<'_>,
    name: &str,
    list: &[JobExecutionSummary<'_>],
) -> Result<(), WireError> {
    w.key(name)?;
    w.begin_array()?;
    for summary in list {
        summary.write(w)?;
    }
    Ok(w.end_array()?)
}
