//! The agent's public types: its configuration, what it publishes and subscribes to, and what
//! it tells the application.

use core::fmt;

#[cfg(doc)]
use super::{Agent, MAX_DETAILS_BYTES, MAX_TRANSMIT_LEN};
use crate::error::ErrorCode;
use crate::field::FieldError;
#[cfg(doc)]
use crate::id::Timestamp;
use crate::id::{ExecutionNumber, JobId, VersionNumber};
use crate::status::ExecutionStatus;
use crate::time::TimeoutMinutes;
use crate::topic::{NamespaceIdRef, Reply, ThingNameRef, Topic, TopicError};
use crate::wire::WireError;

/// How the agent retries. Times are whole seconds ([`Timestamp`]): a delay of `n` seconds
/// falls due at the first `now` at least `n` seconds on, which a caller whose clock reads
/// whole seconds may reach up to a second early in real time.
///
/// A request is sent at most `max_attempts` times. It is sent again when no reply arrives
/// within `response_timeout_secs`, at once after a version resynchronisation or a reconnection
/// ([`Agent::reconnected`]), and after `backoff_initial_secs × 2^(n-1)` seconds (at most
/// `backoff_max_secs`; with `jitter`, a draw from the upper half of that) after the `n`th
/// retryable rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Seconds to wait for the reply to a request before sending it again.
    pub response_timeout_secs: u64,
    /// Delay before the first retry after `RequestThrottled` or `InternalError`.
    pub backoff_initial_secs: u64,
    /// Longest delay between retries.
    pub backoff_max_secs: u64,
    /// Most transmissions of one request, the first included (0 counts as 1).
    pub max_attempts: u8,
    /// `stepTimeoutInMinutes` to send with StartNextPendingJobExecution, or a namespace agent's
    /// IN_PROGRESS claim (SPEC §3 timer facts): each job starts with a step timer this long,
    /// 1–10080 minutes ([`TimeoutMinutes::step`]), which [`Agent::report_progress`] resets or
    /// cancels.
    pub step_timeout: Option<TimeoutMinutes>,
    /// Spreads a fleet's retries: each backoff delay `d` is drawn from `d/2..=d` (whole
    /// seconds; "equal jitter") by a generator seeded from the thing name and
    /// `first_client_token`, so devices throttled at the same moment do not all ask again at the
    /// same moment. `false`: exactly `d`.
    pub jitter: bool,
    /// Once this many seconds (at least 1) have passed since the agent's last request was
    /// answered or given up, with nothing in flight: while a job runs, describe its execution;
    /// while idle, ask for the next job. A job canceled, timed out or deleted while its
    /// `notify-next` was lost (a broker restart, a session that expired) is then noticed within
    /// this interval, not only at the next report or reconnection; and so is a job whose
    /// `notify-next` never reached an idle agent (a client that drops what it cannot hold
    /// without a word, see [Buffers](crate::agent#buffers)). `None`: notifications,
    /// reconnections and reports alone check.
    pub check_interval_secs: Option<u64>,
    /// The clientToken of the agent's first request; each later request takes the next number
    /// (wrapping). Start each boot elsewhere (from a boot counter kept in flash, or a random
    /// number) when the MQTT session outlives the agent: a reply to the last boot's request,
    /// delivered after the restart, then answers nothing this boot asked.
    pub first_client_token: u32,
}

impl Config {
    /// 30 s reply timeout; 2, 4, 8, 16 s backoff (at most 120 s) with jitter; 5 attempts; no
    /// step timer; no periodic check; client tokens from 1.
    pub const DEFAULT: Self = Self {
        response_timeout_secs: 30,
        backoff_initial_secs: 2,
        backoff_max_secs: 120,
        max_attempts: 5,
        step_timeout: None,
        jitter: true,
        check_interval_secs: None,
        first_client_token: 1,
    };
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One MQTT publish: `payload` (JSON) to `topic`, both written into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit<'a> {
    /// The topic.
    pub topic: &'a str,
    /// The JSON payload.
    pub payload: &'a [u8],
}

/// The request of a per-job reply topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JobOperation {
    /// DescribeJobExecution (`…/jobs/J/get`).
    Get,
    /// UpdateJobExecution (`…/jobs/J/update`).
    Update,
}

/// A topic filter to subscribe to (see [`Agent::subscriptions`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Subscription<'a> {
    /// One topic.
    Topic(Topic<'a>),
    /// The replies of one operation for every job: `$aws/things/T/jobs/+/update/accepted`, or
    /// with a namespace `$aws/things/T/jobs/+/namespace-NS/update/accepted` (SPEC 7.1, 7.3).
    AnyJob {
        /// `T`.
        thing: ThingNameRef<'a>,
        /// `NS`.
        namespace: Option<NamespaceIdRef<'a>>,
        /// `get` or `update`.
        operation: JobOperation,
        /// `accepted` or `rejected`.
        reply: Reply,
    },
}

impl Subscription<'_> {
    /// Writes the filter to the start of `buf` and returns it; a buffer of
    /// [`MAX_TOPIC_LEN`](crate::topic::MAX_TOPIC_LEN) bytes always suffices.
    ///
    /// # Errors
    ///
    /// [`TopicError::BufferTooSmall`], before anything is written.
    pub fn write_to<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, TopicError> {
        match self {
            Self::Topic(topic) => topic.write_to(buf),
            Self::AnyJob { .. } => {
                let pieces = self.pieces();
                let needed = pieces.iter().fold(0_usize, |n, p| n.saturating_add(p.len()));
                let too_small = TopicError::BufferTooSmall { needed, available: buf.len() };
                let out = buf.get_mut(..needed).ok_or(too_small)?;
                // Byte by byte: no length check left for the optimiser to prove.
                for (to, from) in out.iter_mut().zip(pieces.iter().flat_map(|p| p.bytes())) {
                    *to = from;
                }
                core::str::from_utf8(out).map_err(|_| too_small)
            }
        }
    }

    /// The wildcard filter as pieces (the [`Subscription::Topic`] arm is unused).
    fn pieces(&self) -> [&str; 7] {
        match *self {
            Self::Topic(_) => [""; 7],
            Self::AnyJob { thing, namespace, operation, reply } => {
                let (key, ns) = namespace.map_or(("", ""), |ns| ("/namespace-", ns.as_str()));
                let op = match operation {
                    JobOperation::Get => "/get/",
                    JobOperation::Update => "/update/",
                };
                ["$aws/things/", thing.as_str(), "/jobs/+", key, ns, op, reply.as_str()]
            }
        }
    }
}

impl fmt::Display for Subscription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(topic) => topic.fmt(f),
            Self::AnyJob { .. } => self.pieces().iter().try_for_each(|p| f.write_str(p)),
        }
    }
}

/// The running job, as [`Agent::job`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CurrentJob<'a> {
    /// `jobId`.
    pub job_id: &'a JobId,
    /// `executionNumber`.
    pub execution_number: ExecutionNumber,
    /// The execution's `versionNumber` as the agent last learnt it.
    pub version: VersionNumber,
}

/// Why the agent can no longer report on an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LostReason {
    /// The execution or its job was deleted (`ResourceNotFound`, SPEC 4.2 DeleteJobExecution /
    /// DeleteJob with force), or its number now names a newer execution (R7).
    Deleted,
    /// The service refused the update with a code that retrying cannot fix (e.g.
    /// `InvalidRequest`).
    Refused(ErrorCode),
    /// Every attempt failed; `last` is the last error code, `None` when no reply came.
    RetriesExhausted {
        /// The last error code received.
        last: Option<ErrorCode>,
    },
    /// The service refused the update with a reply the device's MQTT client could not hold
    /// ([`Agent::handle_oversized`]): the execution's state it carries (statusDetails another
    /// writer left) is too large to resynchronise from.
    MessageTooLarge {
        /// The reply's length in bytes.
        len: usize,
    },
}

/// What the application must know; see [`Agent::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AgentEvent<'a> {
    /// Run this job. It is IN_PROGRESS on the service; report progress and the final status
    /// with [`Agent::report`].
    Run {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// `versionNumber` when the job was handed over.
        version: VersionNumber,
        /// The job document: its raw JSON (an object over MQTT), or empty if the service sent
        /// none.
        document: &'a [u8],
    },
    /// A job is IN_PROGRESS but its document does not fit the agent's buffer, so it cannot be
    /// run: nothing was truncated. The job stays current until the application reports a
    /// final status for it (usually `REJECTED` or `FAILED`).
    DocumentTooLarge {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// The document's length in bytes.
        len: usize,
        /// The agent's document capacity.
        capacity: usize,
    },
    /// A job is IN_PROGRESS but the message that hands over its document never reached the
    /// agent: the device's MQTT client could not hold it (`len` bytes, as
    /// [`Agent::handle_oversized`] was told), or, with `len: None`, every attempt of the
    /// request went unanswered while a describe of `$next` without the document, or the
    /// pending list, was answered (a client that drops what it cannot hold without a word,
    /// such as an MQTT 5 client whose Maximum Packet Size the broker honours). It cannot be
    /// run; as with [`AgentEvent::DocumentTooLarge`] the job stays current until the
    /// application reports a final status for it (usually `REJECTED`), so the thing's later
    /// jobs are not held up. The agent's updates of such a job leave the execution's state out
    /// of their replies (`includeJobExecutionState: false`): it may be what did not fit.
    MessageTooLarge {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// The length the MQTT client gave, if it gave one.
        len: Option<usize>,
    },
    /// A job is IN_PROGRESS but the message that handed it over breaks the rules past the
    /// execution's identity (`jobId`, `executionNumber`, `versionNumber`, `status`): its
    /// document is not a JSON object or string, say, or its statusDetails break SPEC R14.
    /// `error` says what. It cannot be run; as with [`AgentEvent::DocumentTooLarge`] the job
    /// stays current until the application reports a final status for it (usually
    /// `REJECTED`), so the thing's later jobs are not held up.
    UnreadableJob {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// What the message breaks.
        error: WireError,
    },
    /// The final status the application reported was accepted; the agent asks for the next
    /// job.
    Finished {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// The final status.
        status: ExecutionStatus,
        /// The execution's final `versionNumber`.
        version: VersionNumber,
    },
    /// Stop the job: the service ended the execution without the device (a forced cancel,
    /// SPEC T9; a timeout, T7; removal, T10). `status` is the terminal status when the service
    /// said which: a rejected update's `executionState`. It usually did not: the agent learns of
    /// most ends from a `notify-next`, describes its execution, and the device plane answers a
    /// terminal one with `TerminalStateReached`, which carries no state (SPEC §4.4, R11), so a
    /// timeout and an operator's cancel are both `status: None` then.
    Canceled {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// The terminal status, if known.
        status: Option<ExecutionStatus>,
    },
    /// Stop the job: the agent can no longer report on it. Unless it was deleted, the execution
    /// may still be IN_PROGRESS on the service (the report went unanswered, was refused, or its
    /// answer could not be read): the agent does not ask for the next job until
    /// [`Agent::reconnected`], a notification or its periodic check
    /// ([`Config::check_interval_secs`]), and a StartNext may then hand the same execution over
    /// again as [`AgentEvent::Run`] (the same `job_id` and `execution_number`): an application
    /// that finished the work reports its result again rather than redo it.
    Lost {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// Why.
        reason: LostReason,
    },
    /// Something went wrong outside a job (a refused or unanswered StartNext, a send buffer too
    /// small, events dropped). The agent stays usable.
    Error(AgentError),
}

/// Why an input was refused, or what went wrong (in [`AgentEvent::Error`]). Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AgentError {
    /// The topic is not a Jobs topic.
    Topic(TopicError),
    /// The topic belongs to another thing (SPEC §7: a client must check the thing name).
    OtherThing,
    /// A Jobs topic of this thing the agent does not consume (`notify`, requests, events,
    /// another namespace).
    Unexpected,
    /// A reply to no request in flight: late, duplicated, or with another `clientToken`.
    Unsolicited,
    /// The payload is not a valid message for its topic (SPEC §4.4 `InvalidJson` /
    /// `InvalidRequest`).
    Malformed(WireError),
    /// [`Agent::report`] without a job to report on.
    NoJob,
    /// [`Agent::report`] after a final status was reported for the job.
    Finishing,
    /// [`Agent::report`] of a status a device may not set (SPEC T4, R9).
    StatusNotAllowed(ExecutionStatus),
    /// [`Agent::report_progress`] with a step timeout outside 1–10080 minutes (SPEC §3
    /// timer-step).
    InvalidStepTimeout(FieldError),
    /// [`Agent::report`] with statusDetails larger than [`MAX_DETAILS_BYTES`].
    DetailsTooLarge {
        /// Bytes needed.
        len: usize,
        /// Bytes available.
        capacity: usize,
    },
    /// The buffer given to [`Agent::poll_transmit`] is too small; give it
    /// [`MAX_TRANSMIT_LEN`] bytes. The request stays queued.
    BufferTooSmall {
        /// The buffer's length.
        available: usize,
    },
    /// The request's topic, or its reply's, is past what IoT Core takes
    /// ([`BROKER_MAX_TOPIC_LEN`](crate::topic::BROKER_MAX_TOPIC_LEN) bytes,
    /// [`BROKER_MAX_SLASHES`](crate::topic::BROKER_MAX_SLASHES) slashes; SPEC lim-topic): a
    /// namespace agent's long thing name, job id and namespace together. The broker would close
    /// the connection on it, so it is not sent; the request stays queued, and the thing's job
    /// cannot be run over MQTT with these names.
    TopicTooLong {
        /// The reply topic's length in bytes.
        len: usize,
    },
    /// The service refused a StartNext or describe with a code retrying cannot fix.
    Refused(ErrorCode),
    /// Every attempt of a StartNext or describe failed; `last` is the last code, `None` when
    /// no reply came. Call [`Agent::reconnected`] to ask again.
    RetriesExhausted {
        /// The last error code received.
        last: Option<ErrorCode>,
    },
    /// A reply of `len` bytes to a StartNext or describe could not be held by the device's MQTT
    /// client ([`Agent::handle_oversized`]), and the agent could not learn from a smaller one
    /// which job it was about. Call [`Agent::reconnected`] to ask again.
    MessageTooLarge {
        /// The reply's length in bytes.
        len: usize,
    },
    /// This many events did not fit the event queue; poll events after every input.
    EventsDropped {
        /// How many.
        count: u16,
    },
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Topic(e) => write!(f, "not a Jobs topic: {e}"),
            Self::OtherThing => f.write_str("the topic belongs to another thing"),
            Self::Unexpected => f.write_str("the agent does not consume this topic"),
            Self::Unsolicited => f.write_str("a reply to no request in flight"),
            Self::Malformed(e) => write!(f, "malformed payload: {e}"),
            Self::NoJob => f.write_str("no job to report on"),
            Self::Finishing => f.write_str("a final status was already reported for this job"),
            Self::StatusNotAllowed(s) => write!(f, "a device may not set the status {s}"),
            Self::InvalidStepTimeout(e) => e.fmt(f),
            Self::DetailsTooLarge { len, capacity } => {
                write!(f, "statusDetails need {len} bytes; the agent keeps at most {capacity}")
            }
            Self::BufferTooSmall { available } => {
                write!(f, "a buffer of {available} bytes is too small; use MAX_TRANSMIT_LEN")
            }
            Self::TopicTooLong { len } => {
                write!(f, "a reply topic of {len} bytes is past what IoT Core takes; the request is not sent")
            }
            Self::Refused(code) => write!(f, "the service refused the request: {code}"),
            Self::RetriesExhausted { last: Some(code) } => {
                write!(f, "gave up after retries; last error {code}")
            }
            Self::RetriesExhausted { last: None } => f.write_str("gave up: no reply"),
            Self::MessageTooLarge { len } => {
                write!(f, "a reply of {len} bytes did not fit the MQTT client's receive buffer")
            }
            Self::EventsDropped { count } => write!(f, "{count} events did not fit the event queue"),
        }
    }
}

impl core::error::Error for AgentError {}
