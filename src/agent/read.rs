//! What the agent reads of the messages that carry an execution (StartNext and describe
//! replies, `notify-next`), including those the wire parser refuses past the execution's
//! identity.

use super::*;
use crate::wire::{ExecutionIdentity, SummaryIdentity};

/// The part of an execution the agent decides on.
pub(super) struct Execution<'a> {
    pub(super) job_id: &'a str,
    pub(super) number: ExecutionNumber,
    pub(super) version: VersionNumber,
    pub(super) status: ExecutionStatus,
    /// The document's raw JSON (empty when the message has none), or why the message that
    /// carries the execution could not be read.
    pub(super) document: Result<&'a [u8], WireError>,
}

impl<'a> From<&JobExecution<'a>> for Execution<'a> {
    fn from(x: &JobExecution<'a>) -> Self {
        Self {
            job_id: x.job_id,
            number: x.execution_number,
            version: x.version_number,
            status: x.status,
            document: Ok(x.job_document.map_or(&[][..], JobDocument::as_bytes)),
        }
    }
}

impl<'a> Execution<'a> {
    /// An execution of a GetPending reply's `inProgressJobs` (a summary has no status and no
    /// document).
    pub(super) const fn in_progress(x: &SummaryIdentity<'a>) -> Self {
        Self {
            job_id: x.job_id,
            number: x.execution_number,
            version: x.version_number,
            status: ExecutionStatus::InProgress,
            document: Ok(&[]),
        }
    }
}

/// The message that carries an execution.
#[derive(Clone, Copy)]
pub(super) enum Carrier {
    /// A StartNext or describe reply (`ExecutionResponse`).
    Reply,
    /// `notify-next` (`NextJobExecutionChanged`).
    Notification,
}

/// Reads `payload` and passes its clientToken and execution to `then`.
///
/// A message the wire parser refuses is still passed on if it names an execution
/// ([`ExecutionIdentity`]: a valid `jobId`, `status`, `versionNumber` and `executionNumber`,
/// everything else valid JSON). The agent acts on those and on the document alone: when the
/// document is one (the refusal was about a member the agent does not use, such as
/// statusDetails another writer left that break SPEC R14 or do not unescape into the
/// scratch), the job runs; when it is not (an array, say), `document: Err(error)`, so that a
/// job the agent cannot read does not stay current on the service, unknown to the
/// application, and hold up the thing's other jobs. Any other message is
/// [`AgentError::Malformed`] with the parser's error.
pub(super) fn read_execution(
    payload: &[u8],
    scratch: &mut [u8],
    carrier: Carrier,
    then: impl FnOnce(Option<&str>, Option<Execution<'_>>) -> Result<(), AgentError>,
) -> Result<(), AgentError> {
    // Only `Execution`s, which hold no statusDetails, outlive this: so the borrow of `scratch`
    // ends where the parser refused the message.
    let parsed = match carrier {
        Carrier::Reply => ExecutionResponse::parse(payload, scratch)
            .map(|m| (m.client_token, m.execution.as_ref().map(Execution::from))),
        Carrier::Notification => NextJobExecutionChanged::parse(payload, scratch)
            .map(|m| (None, m.execution.as_ref().map(Execution::from))),
    };
    match parsed {
        Ok((token, x)) => then(token, x),
        Err(error) => {
            let id = ExecutionIdentity::parse(payload, scratch).map_err(|_| AgentError::Malformed(error))?;
            let document = match id.job_document {
                None => Ok(&[][..]),
                Some(document) => document.map(JobDocument::as_bytes),
            };
            let execution = Execution {
                job_id: id.job_id,
                number: id.execution_number,
                version: id.version_number,
                status: id.status,
                document,
            };
            then(id.client_token, Some(execution))
        }
    }
}
