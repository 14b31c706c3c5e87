//! What the agent reads of the messages that carry an execution (StartNext and describe
//! replies, `notify-next`), including those the wire parser refuses past the execution's
//! identity.

use super::*;
use crate::json::{JsonStr, Reader};

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
/// A message the wire parser refuses is passed on with `document: Err(error)` if its
/// `execution` still names one: a valid `jobId`, `status`, `versionNumber` and
/// `executionNumber`, everything else valid JSON (the document, for one, may be an array, or
/// the statusDetails break SPEC R14). So a job the agent cannot read does not stay current on
/// the service, unknown to the application, and hold up the thing's other jobs. Any other
/// message is [`AgentError::Malformed`] with the parser's error.
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
            let (token, x) = salvage(payload, scratch, error).map_err(|_| AgentError::Malformed(error))?;
            then(token, Some(x))
        }
    }
}

/// The clientToken and the execution's identity of a message `{"execution":{…},…}`; every
/// other value is skipped, which checks that it is JSON.
fn salvage<'a>(
    payload: &'a [u8],
    scratch: &'a mut [u8],
    error: WireError,
) -> Result<(Option<&'a str>, Execution<'a>), WireError> {
    let (mut id_buf, mut token_buf) = scratch.split_at_mut_checked(scratch.len() / 2).unwrap_or_default();
    let (mut token, mut execution) = (None, None);
    let mut r = Reader::new(payload);
    r.begin_object()?;
    while let Some(key) = r.next_member()? {
        if key.eq_str("clientToken") {
            once(&mut token, key, text(r.read_str()?, core::mem::take(&mut token_buf))?)?;
        } else if key.eq_str("execution") {
            once(&mut execution, key, identity(&mut r, core::mem::take(&mut id_buf), error)?)?;
        }
    }
    r.finish()?;
    Ok((token, execution.ok_or(WireError::Missing { member: "execution" })?))
}

/// An execution's `jobId`, `status`, `versionNumber` and `executionNumber`, read as the wire
/// parser reads them (SPEC §5, R17, §1); its other members are skipped.
fn identity<'a>(
    r: &mut Reader<'a>,
    mut buf: &'a mut [u8],
    error: WireError,
) -> Result<Execution<'a>, WireError> {
    let (mut job_id, mut status, mut version, mut number) = (None, None, None, None);
    r.begin_object()?;
    while let Some(key) = r.next_member()? {
        if key.eq_str("jobId") {
            let id = text(r.read_str()?, core::mem::take(&mut buf))?;
            JobId::new(id)?;
            once(&mut job_id, key, id)?;
        } else if key.eq_str("status") {
            let s = r.read_str()?;
            let unknown = WireError::UnknownValue { what: "JobExecutionStatus", offset: s.offset() };
            let found = ExecutionStatus::ALL.into_iter().find(|v| s.eq_str(v.as_str())).ok_or(unknown)?;
            once(&mut status, key, found)?;
        } else if key.eq_str("versionNumber") {
            once(&mut version, key, VersionNumber::new(r.read_u64()?)?)?;
        } else if key.eq_str("executionNumber") {
            once(&mut number, key, ExecutionNumber::new(r.read_u64()?)?)?;
        }
    }
    let missing = |member| WireError::Missing { member };
    Ok(Execution {
        job_id: job_id.ok_or(missing("jobId"))?,
        number: number.ok_or(missing("executionNumber"))?,
        version: version.ok_or(missing("versionNumber"))?,
        status: status.ok_or(missing("status"))?,
        document: Err(error),
    })
}

/// Stores a member's value; a second value for the same member is an error.
fn once<T>(slot: &mut Option<T>, key: JsonStr<'_>, value: T) -> Result<(), WireError> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(WireError::Json(crate::json::Error::DuplicateKey { offset: key.offset() })),
    }
}

/// A string's text: borrowed from the input, or unescaped into `buf`.
fn text<'a>(s: JsonStr<'a>, buf: &'a mut [u8]) -> Result<&'a str, WireError> {
    match s.as_str() {
        Some(plain) => Ok(plain),
        None => Ok(s.unescape_into(buf)?),
    }
}
