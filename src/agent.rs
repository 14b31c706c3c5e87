//! A device-side job agent: a sans-IO state machine that runs the device half of the AWS IoT
//! Jobs workflow over MQTT (SPEC §3, §4.3, §4.4, §7; DG-WF).
//!
//! The agent owns no socket, no clock and no allocator. It is fed the messages the device
//! receives and the current time, and it says what to publish and what to tell the
//! application. One job runs at a time, as in AWS's own device clients (GG-LITE).
//!
//! # Inputs, outputs, and the order to call them
//!
//! ```text
//!  MQTT client                         Agent                           application
//!  ───────────                         ─────                           ───────────
//!  SUBSCRIBE  ◄── subscriptions()                                      (once, at connect)
//!  PUBLISH    ◄── poll_transmit(now, buf)      ◄── report(status, details)
//!  message    ──► handle(now, topic, payload)  ──► poll_event()        ──► Run / Canceled / …
//!  timer      ──► handle_timeout(now)          ◄── poll_timeout()
//! ```
//!
//! 1. Create the agent with [`Agent::new`]; subscribe to every filter of
//!    [`Agent::subscriptions`]. The agent's first request, StartNextPendingJobExecution, is
//!    already queued.
//! 2. After **every** input ([`Agent::new`], [`Agent::handle`], [`Agent::handle_timeout`],
//!    [`Agent::report`], [`Agent::reconnected`]), drain the outputs: call
//!    [`Agent::poll_transmit`] until it returns `None` and publish each [`Transmit`] (QoS 1);
//!    call [`Agent::poll_event`] until it returns `None` and act on each [`AgentEvent`]; then
//!    arm a timer for [`Agent::poll_timeout`] and call [`Agent::handle_timeout`] when it fires.
//! 3. When the application is told [`AgentEvent::Run`], it does the work and reports progress
//!    and the final status with [`Agent::report`]. The agent turns each report into an
//!    UpdateJobExecution carrying `expectedVersion`, and asks for the next job once a final
//!    status is accepted.
//! 4. When the application is told [`AgentEvent::Canceled`] or [`AgentEvent::Lost`], it stops
//!    the work: the service no longer accepts updates for that execution.
//!
//! At most one request is in flight; a report made meanwhile waits and is sent when the reply
//! arrives (a newer progress report replaces an older one that was not sent yet).
//!
//! ```
//! use iot_jobs_core::agent::{Agent, AgentEvent, Config, MAX_TRANSMIT_LEN};
//! use iot_jobs_core::{ExecutionStatus, ThingName, Timestamp};
//!
//! let mut agent: Agent<1024> = Agent::new(&ThingName::new("dev1")?, None, Config::DEFAULT);
//! let (now, mut buf) = (Timestamp(1_700_000_000), [0; MAX_TRANSMIT_LEN]);
//!
//! let publish = agent.poll_transmit(now, &mut buf).unwrap();
//! assert_eq!(publish.topic, "$aws/things/dev1/jobs/start-next");
//! assert_eq!(publish.payload, br#"{"clientToken":"1"}"#);
//!
//! // The service answers with the execution it started (SPEC 4.3).
//! let reply = br#"{"execution":{"jobId":"fw-2","jobDocument":{"url":"https://x/fw.bin"},
//!     "status":"IN_PROGRESS","queuedAt":1,"startedAt":2,"lastUpdatedAt":2,"versionNumber":2,
//!     "executionNumber":1},"timestamp":2,"clientToken":"1"}"#;
//! agent.handle(now, "$aws/things/dev1/jobs/start-next/accepted", reply)?;
//! let Some(AgentEvent::Run { job_id, document, .. }) = agent.poll_event() else { panic!() };
//! assert_eq!((job_id.as_str(), document), ("fw-2", &br#"{"url":"https://x/fw.bin"}"#[..]));
//!
//! agent.report(ExecutionStatus::Succeeded, None)?;
//! let publish = agent.poll_transmit(now, &mut buf).unwrap();
//! assert_eq!(publish.topic, "$aws/things/dev1/jobs/fw-2/update");
//! assert_eq!(
//!     publish.payload,
//!     br#"{"status":"SUCCEEDED","expectedVersion":2,"executionNumber":1,"includeJobExecutionState":true,"clientToken":"2"}"#
//! );
//! assert_eq!(agent.poll_timeout(), Some(Timestamp(1_700_000_030))); // the reply is due
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the agent decides
//!
//! * **Duplicate or new run.** An execution is identified by (jobId, executionNumber), and its
//!   `versionNumber` only grows (SPEC §8, R6). A `notify-next` naming the running execution at
//!   its version or later is a duplicate and is ignored. Anything else while a job runs (another
//!   job, nothing, or the same number at a lower version or QUEUED: a reused number, R7) makes
//!   the agent describe its execution before it concludes anything, because notifications can
//!   arrive late or out of order. A reused number that comes back after a deletion is a new
//!   execution and gets a new [`AgentEvent::Run`].
//! * **Resynchronisation.** A rejected update whose ErrorResponse carries `executionState`
//!   (`VersionMismatch`, `InvalidStateTransition`; SPEC §4.4, R13) sets the agent's version from
//!   it (GG-LITE `update_job`). A still-pending state → the update is sent again with the new
//!   `expectedVersion`; a terminal state equal to the one reported → the earlier attempt was
//!   applied; any other terminal state (CANCELED by a forced cancel, TIMED_OUT, REMOVED) →
//!   [`AgentEvent::Canceled`].
//! * **Retries.** Only [`ErrorCode::is_retryable`] codes (`RequestThrottled`, `InternalError`)
//!   and missing replies are retried, with bounded exponential backoff ([`Config`]); the
//!   application is told when the attempts run out.
//! * **Losing the job.** `ResourceNotFound` (the execution or its job was deleted, SPEC 4.2) →
//!   [`AgentEvent::Lost`]; `TerminalStateReached` (R11) → [`AgentEvent::Canceled`].
//!
//! Messages for another thing, topics the agent does not consume, replies to no request in
//! flight and malformed payloads are refused with an [`AgentError`] and change nothing.
//!
//! # Namespaces
//!
//! No source shows a namespace form of StartNext (SPEC 7.3, AMBIG-8). An agent created with a
//! namespace therefore asks DescribeJobExecution of `$next` and claims a QUEUED execution with
//! an UpdateJobExecution to IN_PROGRESS, as Greengrass does (GG-LITE).

use core::fmt;

use crate::details::{DetailsBuf, DetailsError, DetailsStore};
use crate::error::ErrorCode;
use crate::id::{
    ExecutionNumber, JobId, NamespaceId, StatusDetails, StepTimeout, ThingName, Timestamp, VersionNumber,
};
use crate::status::ExecutionStatus;
use crate::topic::{JobIdRef, JobSelector, NamespaceIdRef, Reply, ThingNameRef, Topic, TopicError};
use crate::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, JobExecution, NextJobExecutionChanged,
    StartNextRequest, StatusDetailsBuf, UpdateRequest, UpdateResponse, WireError,
};

/// Most bytes of the statusDetails of one report the agent keeps until it is sent: each pair
/// costs its key, its value and 3 bytes. A larger map is refused by [`Agent::report`].
pub const MAX_DETAILS_BYTES: usize = 512;

/// Bytes of the agent's buffer for unescaping JSON strings of incoming messages. A message
/// whose escaped strings need more is refused as [`WireError::ScratchTooSmall`].
pub const SCRATCH_LEN: usize = 1024;

/// Longest payload the agent publishes: an UpdateJobExecution with [`MAX_DETAILS_BYTES`] of
/// statusDetails, each value byte escaped to at most two (R14 values hold no control
/// characters), plus the other members.
pub const MAX_PAYLOAD_LEN: usize = 2 * MAX_DETAILS_BYTES + 512;

/// A buffer of this many bytes always holds what [`Agent::poll_transmit`] writes (topic and
/// payload).
pub const MAX_TRANSMIT_LEN: usize = crate::topic::MAX_TOPIC_LEN + MAX_PAYLOAD_LEN;

/// Events waiting for [`Agent::poll_event`]; more are counted and reported as
/// [`AgentError::EventsDropped`].
const EVENT_QUEUE: usize = 8;

// ---------------------------------------------------------------------------------------------
// Public types.

/// How the agent retries.
///
/// A request is sent at most `max_attempts` times. It is sent again when no reply arrives
/// within `response_timeout_secs`, at once after a version resynchronisation, and after
/// `backoff_initial_secs × 2^(n-1)` seconds (at most `backoff_max_secs`) after the `n`th
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
    /// `stepTimeoutInMinutes` to send with StartNextPendingJobExecution (SPEC §3 timer facts).
    pub step_timeout: Option<StepTimeout>,
}

impl Config {
    /// 30 s reply timeout; 2, 4, 8, 16 s backoff (at most 120 s); 5 attempts; no step timer.
    pub const DEFAULT: Self = Self {
        response_timeout_secs: 30,
        backoff_initial_secs: 2,
        backoff_max_secs: 120,
        max_attempts: 5,
        step_timeout: None,
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
    /// said which (it does not with `TerminalStateReached`, SPEC §4.4).
    Canceled {
        /// `jobId`.
        job_id: JobId,
        /// `executionNumber`.
        execution_number: ExecutionNumber,
        /// The terminal status, if known.
        status: Option<ExecutionStatus>,
    },
    /// Stop the job: the agent can no longer report on it.
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
    /// The service refused a StartNext or describe with a code retrying cannot fix.
    Refused(ErrorCode),
    /// Every attempt of a StartNext or describe failed; `last` is the last code, `None` when
    /// no reply came. Call [`Agent::reconnected`] to ask again.
    RetriesExhausted {
        /// The last error code received.
        last: Option<ErrorCode>,
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
            Self::DetailsTooLarge { len, capacity } => {
                write!(f, "statusDetails need {len} bytes; the agent keeps at most {capacity}")
            }
            Self::BufferTooSmall { available } => {
                write!(f, "a buffer of {available} bytes is too small; use MAX_TRANSMIT_LEN")
            }
            Self::Refused(code) => write!(f, "the service refused the request: {code}"),
            Self::RetriesExhausted { last: Some(code) } => {
                write!(f, "gave up after retries; last error {code}")
            }
            Self::RetriesExhausted { last: None } => f.write_str("gave up: no reply"),
            Self::EventsDropped { count } => write!(f, "{count} events did not fit the event queue"),
        }
    }
}

impl core::error::Error for AgentError {}

// ---------------------------------------------------------------------------------------------
// Internal state.

/// A statusDetails map kept until it is sent.
type Details = DetailsBuf<MAX_DETAILS_BYTES>;

/// `details`, kept; too large for the agent: [`AgentError::DetailsTooLarge`].
fn keep_details(details: StatusDetails<'_>) -> Result<Details, AgentError> {
    Details::from_details(details).map_err(|e| match e {
        DetailsError::TooLarge { len, capacity } => AgentError::DetailsTooLarge { len, capacity },
        DetailsError::OutOfMemory { len } => AgentError::DetailsTooLarge { len, capacity: MAX_DETAILS_BYTES },
    })
}

/// The pairs of a kept map, at most [`StatusDetails::MAX_PAIRS`].
fn kept_pairs(details: &Details) -> heapless::Vec<(&str, &str), { StatusDetails::MAX_PAIRS }> {
    details.pairs().take(StatusDetails::MAX_PAIRS).collect()
}

/// A report of the application, to be sent as an UpdateJobExecution.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Report {
    status: ExecutionStatus,
    details: Option<Details>,
}

/// What the agent asks the service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant, reason = "no allocator to box into; there is one Request")]
enum Request {
    /// StartNextPendingJobExecution (SPEC 4.3, T2).
    StartNext,
    /// DescribeJobExecution of `$next` (namespace agents, SPEC 7.3).
    DescribeNext,
    /// DescribeJobExecution of the current execution, to check it is still ours.
    Describe,
    /// UpdateJobExecution of the current execution (SPEC 4.3).
    Update(Report),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// To be sent now.
    Ready,
    /// Sent; a reply is due by `deadline`.
    InFlight { deadline: Timestamp },
    /// To be sent again at `until` (backoff).
    Waiting { until: Timestamp },
}

/// The one request in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outbox {
    request: Request,
    phase: Phase,
    attempts: u8,
    /// The clientToken of the first transmission; replies to any transmission count.
    first_token: Option<u32>,
    last_token: u32,
    last_error: Option<ErrorCode>,
}

impl Outbox {
    const fn new(request: Request) -> Self {
        Self { request, phase: Phase::Ready, attempts: 0, first_token: None, last_token: 0, last_error: None }
    }

    /// Whether a reply with `token` answers a transmission of this request.
    fn answers(&self, token: Option<&str>) -> bool {
        let Some(first) = self.first_token else { return false };
        match token {
            // AWS echoes the clientToken (SPEC 7.1); a reply without one is taken by its topic.
            None => true,
            Some(t) => {
                t.parse::<u32>().is_ok_and(|t| t.wrapping_sub(first) <= self.last_token.wrapping_sub(first))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Job<const DOC: usize> {
    id: JobId,
    number: ExecutionNumber,
    version: VersionNumber,
    document: heapless::Vec<u8, DOC>,
    /// The document's real length (more than `DOC` when it did not fit).
    document_len: usize,
    /// Tells this job's announcement from a stale one.
    seq: u32,
    phase: JobPhase,
}

/// How far the current job has come; each phase implies the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum JobPhase {
    /// Still QUEUED on the service: the agent's IN_PROGRESS claim is under way.
    Claiming,
    /// IN_PROGRESS by the agent's doing (StartNext, or an accepted claim), and Run /
    /// DocumentTooLarge queued for the application.
    Announced,
    /// The application has heard of the job, so it must hear how it ends.
    Delivered,
    /// A final status was reported.
    Finishing,
}

impl<const DOC: usize> Job<DOC> {
    /// IN_PROGRESS on the service by the agent's doing, and announced to the application.
    fn claimed(&self) -> bool {
        self.phase >= JobPhase::Announced
    }

    fn delivered(&self) -> bool {
        self.phase >= JobPhase::Delivered
    }

    fn finishing(&self) -> bool {
        self.phase == JobPhase::Finishing
    }

    /// Moves to `phase` unless the job is already past it.
    fn reach(&mut self, phase: JobPhase) {
        self.phase = self.phase.max(phase);
    }
}

/// A queued event; `Announce` is rendered from the current job when polled.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Note {
    Announce { seq: u32 },
    Finished { job_id: JobId, number: ExecutionNumber, status: ExecutionStatus, version: VersionNumber },
    Canceled { job_id: JobId, number: ExecutionNumber, status: Option<ExecutionStatus> },
    Lost { job_id: JobId, number: ExecutionNumber, reason: LostReason },
    Error(AgentError),
}

/// How a job ended.
enum End {
    Finished { status: ExecutionStatus, version: VersionNumber },
    Canceled(Option<ExecutionStatus>),
    Lost(LostReason),
}

/// The reply topics the agent consumes.
#[derive(Clone, Copy)]
enum ReplyTo<'t> {
    StartNext,
    DescribeNext,
    Describe(JobIdRef<'t>),
    Update(JobIdRef<'t>),
}

/// The state, apart from the scratch buffer (so a parsed message can borrow the scratch while
/// the state changes).
#[derive(Debug)]
struct Core<const DOC: usize> {
    thing: ThingName,
    namespace: Option<NamespaceId>,
    config: Config,
    job: Option<Job<DOC>>,
    outbox: Option<Outbox>,
    /// The application's latest report, not yet sent.
    pending: Option<Report>,
    /// A notification suggests the current execution left the pending list: describe it.
    verify: bool,
    /// A notification named a job while a StartNext was in flight: ask again if it finds none.
    recheck: bool,
    token: u32,
    seq: u32,
    notes: heapless::Deque<Note, EVENT_QUEUE>,
    dropped: u16,
    /// The last `poll_transmit` failed for want of room (reported once).
    blocked: bool,
}

/// The device-side job agent. `DOC` is the capacity of its job-document buffer, in bytes (AWS
/// allows documents up to 32 KB, SPEC §6). See the [module docs](self) for the call order.
pub struct Agent<const DOC: usize> {
    core: Core<DOC>,
    scratch: [u8; SCRATCH_LEN],
}

impl<const DOC: usize> fmt::Debug for Agent<DOC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent").field("state", &self.core).finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// The public API.

impl<const DOC: usize> Agent<DOC> {
    /// An agent for `thing` (and `namespace`, SPEC 7.3), with its first request queued:
    /// StartNextPendingJobExecution, or describe `$next` in a namespace.
    #[must_use]
    pub fn new(thing: &ThingName, namespace: Option<&NamespaceId>, config: Config) -> Self {
        let mut core = Core {
            thing: thing.clone(),
            namespace: namespace.cloned(),
            config,
            job: None,
            outbox: None,
            pending: None,
            verify: false,
            recheck: false,
            token: 1,
            seq: 0,
            notes: heapless::Deque::new(),
            dropped: 0,
            blocked: false,
        };
        core.outbox = Some(Outbox::new(core.start_request()));
        Self { core, scratch: [0; SCRATCH_LEN] }
    }

    /// The filters to subscribe to, once per connection: `notify-next`, the StartNext replies
    /// (without a namespace) and the describe and update replies of every job (SPEC 7.1–7.3).
    ///
    /// IoT Core delivers replies to the publishing client without a subscription (SPEC §7);
    /// subscribing anyway is harmless there and needed with brokers that route them like any
    /// other topic.
    pub fn subscriptions(&self) -> impl Iterator<Item = Subscription<'_>> {
        let thing = ThingNameRef::from(&self.core.thing);
        let namespace = self.core.namespace.as_ref().map(NamespaceIdRef::from);
        let plain = |s| namespace.is_none().then_some(s);
        let any = |operation, reply| Subscription::AnyJob { thing, namespace, operation, reply };
        [
            Some(Subscription::Topic(Topic::NotifyNext { thing, namespace })),
            plain(Subscription::Topic(Topic::StartNext { thing, reply: Some(Reply::Accepted) })),
            plain(Subscription::Topic(Topic::StartNext { thing, reply: Some(Reply::Rejected) })),
            Some(any(JobOperation::Get, Reply::Accepted)),
            Some(any(JobOperation::Get, Reply::Rejected)),
            Some(any(JobOperation::Update, Reply::Accepted)),
            Some(any(JobOperation::Update, Reply::Rejected)),
        ]
        .into_iter()
        .flatten()
    }

    /// Takes one message the device received on `topic`.
    ///
    /// # Errors
    ///
    /// The message is ignored, and nothing changes, when the topic is not a Jobs topic
    /// ([`AgentError::Topic`]), belongs to another thing ([`AgentError::OtherThing`]), is not
    /// one the agent consumes ([`AgentError::Unexpected`]), is a reply to no request in flight
    /// ([`AgentError::Unsolicited`]), or its payload is malformed ([`AgentError::Malformed`]).
    pub fn handle(&mut self, now: Timestamp, topic: &str, payload: &[u8]) -> Result<(), AgentError> {
        let topic = Topic::parse(topic).map_err(AgentError::Topic)?;
        let Self { core, scratch } = self;
        // SPEC §7: a client must check that the thing of a topic is its own.
        if topic.thing().is_some_and(|t| t.as_str() != core.thing.as_str()) {
            return Err(AgentError::OtherThing);
        }
        let reply_to = match topic {
            Topic::NotifyNext { namespace, .. } if core.same_namespace(namespace) => {
                let msg = NextJobExecutionChanged::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.on_notify_next(msg.execution.as_ref());
                return Ok(());
            }
            Topic::StartNext { reply: Some(reply), .. } if core.namespace.is_none() => {
                (ReplyTo::StartNext, reply)
            }
            Topic::Describe { job, namespace, reply: Some(reply), .. } if core.same_namespace(namespace) => {
                match job {
                    JobSelector::Next => (ReplyTo::DescribeNext, reply),
                    JobSelector::Id(job) => (ReplyTo::Describe(job), reply),
                }
            }
            Topic::Update { job, namespace, reply: Some(reply), .. } if core.same_namespace(namespace) => {
                (ReplyTo::Update(job), reply)
            }
            Topic::GetPending { .. }
            | Topic::StartNext { .. }
            | Topic::Describe { .. }
            | Topic::Update { .. }
            | Topic::Notify { .. }
            | Topic::NotifyNext { .. }
            | Topic::DocumentedNotify { .. }
            | Topic::JobEvent { .. }
            | Topic::ExecutionEvent { .. } => return Err(AgentError::Unexpected),
        };
        match reply_to {
            (to, Reply::Rejected) => {
                core.expecting(to)?;
                let msg = ErrorResponse::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_rejected(now, &msg);
            }
            (to @ (ReplyTo::StartNext | ReplyTo::DescribeNext), Reply::Accepted) => {
                core.expecting(to)?;
                let msg = ExecutionResponse::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_next(msg.execution.as_ref())?;
            }
            (to @ ReplyTo::Describe(_), Reply::Accepted) => {
                core.expecting(to)?;
                let msg = ExecutionResponse::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_described(msg.execution.as_ref());
            }
            (to @ ReplyTo::Update(_), Reply::Accepted) => {
                core.expecting(to)?;
                let msg = UpdateResponse::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_updated(msg.execution_state.map(|s| s.version_number));
            }
        }
        Ok(())
    }

    /// The next message to publish, written into `buf` (a buffer of [`MAX_TRANSMIT_LEN`] bytes
    /// always suffices), or `None` when nothing is due. Call it until it returns `None`.
    ///
    /// If `buf` is too small the request stays queued and [`AgentError::BufferTooSmall`] is
    /// reported once through [`Agent::poll_event`].
    #[must_use]
    pub fn poll_transmit<'b>(&mut self, now: Timestamp, buf: &'b mut [u8]) -> Option<Transmit<'b>> {
        let core = &mut self.core;
        let outbox = core.outbox.as_ref()?;
        let due = match outbox.phase {
            Phase::Ready => true,
            Phase::Waiting { until } => until <= now,
            Phase::InFlight { .. } => false,
        };
        if !due {
            return None;
        }
        let token = core.token;
        match core.write(&outbox.request, token, buf) {
            Ok(transmit) => {
                core.token = token.wrapping_add(1);
                core.blocked = false;
                let deadline = now.saturating_add(core.config.response_timeout_secs);
                if let Some(outbox) = core.outbox.as_mut() {
                    outbox.first_token.get_or_insert(token);
                    outbox.last_token = token;
                    outbox.attempts = outbox.attempts.saturating_add(1);
                    outbox.phase = Phase::InFlight { deadline };
                }
                Some(transmit)
            }
            Err(e) => {
                if !core.blocked {
                    core.blocked = true;
                    core.note(Note::Error(e));
                }
                None
            }
        }
    }

    /// The next thing the application must know, or `None`. Call it until it returns `None`.
    ///
    /// An [`AgentEvent::Run`] borrows the job document from the agent.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AgentEvent<'_>> {
        let core = &mut self.core;
        loop {
            let Some(note) = core.notes.pop_front() else {
                if core.dropped == 0 {
                    return None;
                }
                let count = core.dropped;
                core.dropped = 0;
                return Some(AgentEvent::Error(AgentError::EventsDropped { count }));
            };
            match note {
                Note::Announce { seq } => {
                    // An announcement of a job that has ended unseen is dropped.
                    if core.job.as_ref().is_some_and(|j| j.seq == seq) {
                        return core.announcement();
                    }
                }
                Note::Finished { job_id, number, status, version } => {
                    return Some(AgentEvent::Finished { job_id, execution_number: number, status, version });
                }
                Note::Canceled { job_id, number, status } => {
                    return Some(AgentEvent::Canceled { job_id, execution_number: number, status });
                }
                Note::Lost { job_id, number, reason } => {
                    return Some(AgentEvent::Lost { job_id, execution_number: number, reason });
                }
                Note::Error(e) => return Some(AgentEvent::Error(e)),
            }
        }
    }

    /// Reports the current job's progress (`IN_PROGRESS`) or final status (`SUCCEEDED`,
    /// `FAILED`, `REJECTED`; SPEC T4), with `statusDetails` (`None` leaves them unchanged,
    /// SPEC 4.3). The agent sends it as an UpdateJobExecution with `expectedVersion` as soon as
    /// no other request is in flight; a progress report not yet sent is replaced by a newer
    /// one (whose details, if `None`, are taken from the replaced one).
    ///
    /// # Errors
    ///
    /// [`AgentError::NoJob`], [`AgentError::Finishing`], [`AgentError::StatusNotAllowed`],
    /// [`AgentError::DetailsTooLarge`]; nothing changes.
    pub fn report(
        &mut self,
        status: ExecutionStatus,
        details: Option<StatusDetails<'_>>,
    ) -> Result<(), AgentError> {
        let core = &mut self.core;
        let job = core.job.as_mut().filter(|j| j.claimed()).ok_or(AgentError::NoJob)?;
        if job.finishing() {
            return Err(AgentError::Finishing);
        }
        // SPEC T4, R9: a device sets only IN_PROGRESS, SUCCEEDED, FAILED, REJECTED.
        if !status.is_device_settable() {
            return Err(AgentError::StatusNotAllowed(status));
        }
        let mut details = details.map(keep_details).transpose()?;
        job.reach(if status.is_terminal() { JobPhase::Finishing } else { JobPhase::Delivered });
        if details.is_none() {
            details = core.pending.take().and_then(|p| p.details);
        }
        core.pending = Some(Report { status, details });
        core.schedule();
        Ok(())
    }

    /// When [`Agent::handle_timeout`] wants to be called: a reply deadline or the end of a
    /// backoff; `None` when no timer is needed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match self.core.outbox.as_ref()?.phase {
            Phase::Ready => None,
            Phase::InFlight { deadline } => Some(deadline),
            Phase::Waiting { until } => Some(until),
        }
    }

    /// Applies what falls due at `now`: a request whose reply is overdue is sent again (or
    /// given up after [`Config::max_attempts`]); a backoff that ended makes its request due.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let core = &mut self.core;
        let Some(outbox) = core.outbox.as_mut() else { return };
        match outbox.phase {
            Phase::InFlight { deadline } if deadline <= now => {
                if outbox.attempts < core.config.max_attempts.max(1) {
                    outbox.phase = Phase::Ready;
                } else {
                    core.give_up();
                }
            }
            Phase::Waiting { until } if until <= now => outbox.phase = Phase::Ready,
            Phase::InFlight { .. } | Phase::Waiting { .. } | Phase::Ready => {}
        }
    }

    /// Tells the agent the MQTT connection was re-established (subscribe again first): a
    /// request in flight is sent again at once; without a job the agent asks for the next one;
    /// with one it checks that the execution is still its own (notifications may have been
    /// missed).
    pub fn reconnected(&mut self) {
        let core = &mut self.core;
        if let Some(outbox) = core.outbox.as_mut() {
            outbox.phase = Phase::Ready;
            return;
        }
        match &core.job {
            None => core.outbox = Some(Outbox::new(core.start_request())),
            Some(job) => {
                if !job.finishing() {
                    core.verify = true;
                }
                core.schedule();
            }
        }
    }

    /// The job the agent runs, if any (also while its announcement waits in the event queue).
    #[must_use]
    pub fn job(&self) -> Option<CurrentJob<'_>> {
        self.core.job.as_ref().filter(|j| j.claimed()).map(|j| CurrentJob {
            job_id: &j.id,
            execution_number: j.number,
            version: j.version,
        })
    }

    /// True when the agent has no job and nothing to send: it waits for `notify-next`.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.core.job.is_none() && self.core.outbox.is_none()
    }
}

// ---------------------------------------------------------------------------------------------
// The state machine.

impl<const DOC: usize> Core<DOC> {
    /// StartNext, or describe `$next` where StartNext has no topic (SPEC 7.3, AMBIG-8).
    const fn start_request(&self) -> Request {
        if self.namespace.is_some() { Request::DescribeNext } else { Request::StartNext }
    }

    fn same_namespace(&self, namespace: Option<NamespaceIdRef<'_>>) -> bool {
        namespace.map(NamespaceIdRef::as_str) == self.namespace.as_ref().map(NamespaceId::as_str)
    }

    fn note(&mut self, note: Note) {
        if self.notes.push_back(note).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// Whether a reply on this topic answers the request in flight.
    fn expecting(&self, to: ReplyTo<'_>) -> Result<(), AgentError> {
        let outbox =
            self.outbox.as_ref().filter(|o| o.first_token.is_some()).ok_or(AgentError::Unsolicited)?;
        let ours = |job: JobIdRef<'_>| self.job.as_ref().is_some_and(|j| j.id.as_str() == job.as_str());
        let matches = match (&outbox.request, to) {
            (Request::StartNext, ReplyTo::StartNext) | (Request::DescribeNext, ReplyTo::DescribeNext) => true,
            (Request::Describe, ReplyTo::Describe(job)) | (Request::Update(_), ReplyTo::Update(job)) => {
                ours(job)
            }
            (
                Request::StartNext | Request::DescribeNext | Request::Describe | Request::Update(_),
                ReplyTo::StartNext | ReplyTo::DescribeNext | ReplyTo::Describe(_) | ReplyTo::Update(_),
            ) => false,
        };
        if matches { Ok(()) } else { Err(AgentError::Unsolicited) }
    }

    fn check_token(&self, token: Option<&str>) -> Result<(), AgentError> {
        match &self.outbox {
            Some(outbox) if outbox.answers(token) => Ok(()),
            Some(_) | None => Err(AgentError::Unsolicited),
        }
    }

    /// Sends the next request if none is in progress: the application's report first (an
    /// accepted update also proves the execution is still ours), then a pending check.
    fn schedule(&mut self) {
        if self.outbox.is_some() {
            return;
        }
        let Some(job) = &self.job else { return };
        if !job.claimed() {
            return;
        }
        if let Some(report) = self.pending.take() {
            self.outbox = Some(Outbox::new(Request::Update(report)));
        } else if self.verify {
            self.verify = false;
            self.outbox = Some(Outbox::new(Request::Describe));
        }
    }

    /// Queues Run (or DocumentTooLarge) for the current job.
    fn announce(&mut self) {
        let Some(job) = self.job.as_mut() else { return };
        job.reach(JobPhase::Announced);
        let seq = job.seq;
        self.note(Note::Announce { seq });
    }

    fn announcement(&mut self) -> Option<AgentEvent<'_>> {
        let job = self.job.as_mut()?;
        job.reach(JobPhase::Delivered);
        let job_id = job.id.clone();
        if job.document_len > DOC {
            return Some(AgentEvent::DocumentTooLarge {
                job_id,
                execution_number: job.number,
                len: job.document_len,
                capacity: DOC,
            });
        }
        Some(AgentEvent::Run {
            job_id,
            execution_number: job.number,
            version: job.version,
            document: job.document.as_slice(),
        })
    }

    /// Ends the current job, tells the application if it knew of the job, and asks for the
    /// next one.
    fn end_job(&mut self, end: End) {
        self.outbox = Some(Outbox::new(self.start_request()));
        self.pending = None;
        self.verify = false;
        self.recheck = false;
        let Some(job) = self.job.take() else { return };
        let delivered = job.delivered();
        let (job_id, number) = (job.id, job.number);
        let note = match end {
            End::Finished { status, version } => Note::Finished { job_id, number, status, version },
            End::Canceled(status) => Note::Canceled { job_id, number, status },
            End::Lost(reason) => Note::Lost { job_id, number, reason },
        };
        // A job whose announcement was never polled ends unseen.
        if delivered {
            self.note(note);
        }
    }

    /// A retryable rejection: back off, or give up after the last attempt.
    fn retry_later(&mut self, now: Timestamp, code: ErrorCode) {
        let config = self.config;
        let Some(outbox) = self.outbox.as_mut() else { return };
        outbox.last_error = Some(code);
        if outbox.attempts >= config.max_attempts.max(1) {
            self.give_up();
            return;
        }
        let doubling = u32::from(outbox.attempts.saturating_sub(1));
        let factor = 1_u64.checked_shl(doubling).unwrap_or(u64::MAX);
        let delay = config.backoff_initial_secs.saturating_mul(factor).min(config.backoff_max_secs);
        outbox.phase = Phase::Waiting { until: now.saturating_add(delay) };
    }

    /// Sends the request again at once after a resynchronisation, within the attempt budget.
    fn resend(&mut self) {
        let max = self.config.max_attempts.max(1);
        match self.outbox.as_mut() {
            Some(outbox) if outbox.attempts < max => outbox.phase = Phase::Ready,
            Some(_) | None => self.give_up(),
        }
    }

    fn give_up(&mut self) {
        let Some(outbox) = self.outbox.take() else { return };
        let last = outbox.last_error;
        match outbox.request {
            Request::StartNext | Request::DescribeNext => {
                self.note(Note::Error(AgentError::RetriesExhausted { last }));
            }
            Request::Describe => {
                // Only a check: the job keeps running.
                self.note(Note::Error(AgentError::RetriesExhausted { last }));
                self.schedule();
            }
            Request::Update(_) => self.end_job(End::Lost(LostReason::RetriesExhausted { last })),
        }
    }

    // ---- notifications ----------------------------------------------------------------------

    /// `notify-next` (SPEC 7.2): the head of the pending list changed.
    fn on_notify_next(&mut self, next: Option<&JobExecution<'_>>) {
        let Some(job) = &self.job else {
            if next.is_none() {
                return;
            }
            match &self.outbox {
                // Idle: a job is pending; ask for it (SPEC T2).
                None => self.outbox = Some(Outbox::new(self.start_request())),
                // The StartNext in flight may have been answered before this job was queued.
                Some(outbox) => self.recheck |= outbox.first_token.is_some(),
            }
            return;
        };
        // SPEC §8, R6: (jobId, executionNumber) names an execution and its version only grows,
        // so the running execution at its version or later, still pending, is a duplicate.
        let duplicate = next.is_some_and(|x| {
            x.job_id == job.id.as_str()
                && x.execution_number == job.number
                && x.version_number >= job.version
                && (x.status == ExecutionStatus::InProgress || !job.claimed())
        });
        // A final report moves the head itself (SPEC 7.2); otherwise the execution may have
        // been canceled, timed out, removed or deleted, or its number reused (R7): describe it
        // rather than trust a notification that may be late.
        if duplicate || job.finishing() {
            return;
        }
        self.verify = true;
        self.schedule();
    }

    // ---- replies ----------------------------------------------------------------------------

    /// StartNext / describe `$next` accepted (SPEC 4.3, R19: no `execution` when nothing is
    /// pending).
    fn on_next(&mut self, execution: Option<&JobExecution<'_>>) -> Result<(), AgentError> {
        let Some(x) = execution.filter(|x| x.status.is_pending()) else {
            self.outbox = None;
            if core::mem::take(&mut self.recheck) {
                self.outbox = Some(Outbox::new(self.start_request()));
            }
            return Ok(());
        };
        let id = JobId::new(x.job_id).map_err(|e| AgentError::Malformed(WireError::Field(e)))?;
        let raw = x.job_document.map_or(&[][..], |d| d.as_bytes());
        let mut document = heapless::Vec::new();
        if document.extend_from_slice(raw).is_err() {
            document.clear();
        }
        self.seq = self.seq.wrapping_add(1);
        // SPEC T2: StartNext moved a QUEUED execution to IN_PROGRESS. A namespace agent found it
        // with describe and claims a QUEUED one itself.
        let claimed = x.status == ExecutionStatus::InProgress;
        self.outbox = None;
        self.recheck = false;
        self.pending = None;
        self.verify = false;
        self.job = Some(Job {
            id,
            number: x.execution_number,
            version: x.version_number,
            document,
            document_len: raw.len(),
            seq: self.seq,
            phase: JobPhase::Claiming,
        });
        if claimed {
            self.announce();
        } else {
            let claim = Report { status: ExecutionStatus::InProgress, details: None };
            self.outbox = Some(Outbox::new(Request::Update(claim)));
        }
        Ok(())
    }

    /// The current execution described: still ours, or gone.
    fn on_described(&mut self, execution: Option<&JobExecution<'_>>) {
        let Some(job) = &self.job else { return };
        let x = execution.filter(|x| x.job_id == job.id.as_str() && x.execution_number == job.number);
        let end = match x {
            // SPEC 3.1: terminal without the device (T7, T9, T10).
            Some(x) if x.status.is_terminal() => Some(End::Canceled(Some(x.status))),
            // R7: the number names a newer execution (an execution never returns to QUEUED, and
            // its version never shrinks): ours was deleted.
            Some(x)
                if x.version_number < job.version
                    || (x.status == ExecutionStatus::Queued && job.claimed()) =>
            {
                Some(End::Lost(LostReason::Deleted))
            }
            Some(_) => None,
            None => Some(End::Lost(LostReason::Deleted)),
        };
        match (end, x) {
            (Some(end), _) => self.end_job(end),
            (None, x) => {
                if let (Some(job), Some(x)) = (self.job.as_mut(), x) {
                    job.version = x.version_number;
                }
                self.outbox = None;
                self.schedule();
            }
        }
    }

    /// UpdateJobExecution accepted (SPEC 4.3): `version` from `executionState`, else the next
    /// version (R6: +1 per accepted change).
    fn on_updated(&mut self, version: Option<VersionNumber>) {
        let Some(Outbox { request: Request::Update(report), .. }) = &self.outbox else { return };
        let status = report.status;
        let Some(job) = self.job.as_ref() else { return };
        let version = version.or_else(|| job.version.next()).unwrap_or(job.version);
        self.update_done(status, version);
    }

    fn update_done(&mut self, status: ExecutionStatus, version: VersionNumber) {
        if status.is_terminal() {
            self.end_job(End::Finished { status, version });
            return;
        }
        let Some(job) = self.job.as_mut() else { return };
        job.version = version;
        let claim = !job.claimed();
        self.outbox = None;
        // An accepted update proves the execution was still ours.
        self.verify = false;
        if claim {
            self.announce();
        }
        self.schedule();
    }

    /// Any `…/rejected` (SPEC §4.4).
    fn on_rejected(&mut self, now: Timestamp, error: &ErrorResponse<'_>) {
        let code = error.code;
        let Some(outbox) = &self.outbox else { return };
        let sent = match &outbox.request {
            Request::StartNext | Request::DescribeNext => None,
            Request::Describe => {
                self.on_describe_rejected(now, code);
                return;
            }
            Request::Update(report) => Some(report.status),
        };
        match sent {
            Some(sent) => {
                let state = error.execution_state.as_ref().map(|s| (s.status, s.version_number));
                self.on_update_rejected(now, code, sent, state);
            }
            None if code.is_retryable() => self.retry_later(now, code),
            None => {
                self.outbox = None;
                self.note(Note::Error(AgentError::Refused(code)));
            }
        }
    }

    fn on_describe_rejected(&mut self, now: Timestamp, code: ErrorCode) {
        match code {
            // SPEC R11: the device plane describes only pending executions.
            ErrorCode::TerminalStateReached => self.end_job(End::Canceled(None)),
            // SPEC 4.2 DeleteJobExecution, DeleteJob: gone.
            ErrorCode::ResourceNotFound => self.end_job(End::Lost(LostReason::Deleted)),
            ErrorCode::RequestThrottled | ErrorCode::InternalError => self.retry_later(now, code),
            ErrorCode::InvalidTopic
            | ErrorCode::InvalidJson
            | ErrorCode::InvalidRequest
            | ErrorCode::InvalidStateTransition
            | ErrorCode::VersionMismatch => {
                // Only a check failed: keep running.
                self.outbox = None;
                self.note(Note::Error(AgentError::Refused(code)));
                self.schedule();
            }
        }
    }

    fn on_update_rejected(
        &mut self,
        now: Timestamp,
        code: ErrorCode,
        sent: ExecutionStatus,
        state: Option<(ExecutionStatus, VersionNumber)>,
    ) {
        let claimed = self.job.as_ref().is_some_and(Job::claimed);
        match (code, state) {
            // SPEC §4.4, R13: the ErrorResponse carries the execution's state; resync from it
            // (GG-LITE `update_job`).
            (ErrorCode::VersionMismatch | ErrorCode::InvalidStateTransition, Some((status, version))) => {
                if status == sent && status.is_terminal() {
                    // An earlier attempt of this very report was applied (its reply was lost).
                    self.update_done(status, version);
                } else if status.is_terminal() {
                    // SPEC T6, T7, T9, T10: the service ended it: forced cancel, timeout, removal.
                    self.end_job(End::Canceled(Some(status)));
                } else if status == ExecutionStatus::Queued && claimed {
                    // R7: an execution never returns to QUEUED: the number names a new one.
                    self.end_job(End::Lost(LostReason::Deleted));
                } else {
                    // Still pending: send the update again with the current expectedVersion.
                    if let Some(job) = self.job.as_mut() {
                        job.version = version;
                    }
                    if let Some(outbox) = self.outbox.as_mut() {
                        outbox.last_error = Some(code);
                    }
                    self.resend();
                }
            }
            // SPEC 4.2: a deleted execution or job (DeleteJobExecution / DeleteJob with force):
            // the device can no longer update it.
            (ErrorCode::ResourceNotFound, _) => self.end_job(End::Lost(LostReason::Deleted)),
            // SPEC R11.
            (ErrorCode::TerminalStateReached, _) => self.end_job(End::Canceled(None)),
            // SPEC §4.4: throttling and internal errors are transient.
            (ErrorCode::RequestThrottled | ErrorCode::InternalError, _) => self.retry_later(now, code),
            // The request itself is wrong: never retried.
            (
                ErrorCode::InvalidTopic
                | ErrorCode::InvalidJson
                | ErrorCode::InvalidRequest
                | ErrorCode::InvalidStateTransition
                | ErrorCode::VersionMismatch,
                _,
            ) => self.end_job(End::Lost(LostReason::Refused(code))),
        }
    }

    // ---- output -----------------------------------------------------------------------------

    /// Writes `request` with clientToken `token`: the topic at the start of `buf`, the payload
    /// right after it.
    fn write<'b>(
        &self,
        request: &Request,
        token: u32,
        buf: &'b mut [u8],
    ) -> Result<Transmit<'b>, AgentError> {
        let thing = ThingNameRef::from(&self.thing);
        let namespace = self.namespace.as_ref().map(NamespaceIdRef::from);
        let job = self.job.as_ref();
        let job_ref = || job.map(|j| JobIdRef::from(&j.id)).ok_or(AgentError::NoJob);
        // SPEC 7.1, 7.3, R8.
        let topic = match request {
            Request::StartNext => Topic::StartNext { thing, reply: None },
            Request::DescribeNext => {
                Topic::Describe { thing, job: JobSelector::Next, namespace, reply: None }
            }
            Request::Describe => {
                Topic::Describe { thing, job: JobSelector::Id(job_ref()?), namespace, reply: None }
            }
            Request::Update(_) => Topic::Update { thing, job: job_ref()?, namespace, reply: None },
        };
        let too_small = AgentError::BufferTooSmall { available: buf.len() };
        let (topic_buf, payload_buf) = buf.split_at_mut_checked(topic.encoded_len()).ok_or(too_small)?;
        let topic = topic.write_to(topic_buf).map_err(|_| too_small)?;
        let mut digits = [0; 10];
        let client_token = Some(decimal(token, &mut digits));
        let payload = match request {
            // SPEC 4.3 StartNextPendingJobExecution.
            Request::StartNext => StartNextRequest {
                status_details: None,
                step_timeout: self.config.step_timeout,
                client_token,
            }
            .serialize(payload_buf),
            // SPEC 7.1: includeJobDocument defaults to true.
            Request::DescribeNext => {
                DescribeRequest { execution_number: None, include_job_document: true, client_token }
                    .serialize(payload_buf)
            }
            Request::Describe => DescribeRequest {
                execution_number: job.map(|j| j.number),
                include_job_document: false,
                client_token,
            }
            .serialize(payload_buf),
            // SPEC 4.3 UpdateJobExecution: expectedVersion (R13), executionNumber (§8), and the
            // new state in the reply.
            Request::Update(report) => {
                let pairs = report.details.as_ref().map(kept_pairs);
                let status_details = match &pairs {
                    Some(pairs) => Some(
                        StatusDetailsBuf::new(pairs)
                            .map_err(|e| AgentError::Malformed(WireError::Field(e)))?,
                    ),
                    None => None,
                };
                let job = job.ok_or(AgentError::NoJob)?;
                UpdateRequest {
                    status: report.status,
                    status_details,
                    expected_version: Some(job.version),
                    execution_number: Some(job.number),
                    include_job_execution_state: true,
                    include_job_document: false,
                    step_timeout: None,
                    client_token,
                }
                .serialize(payload_buf)
            }
        }
        .map_err(|e| match e {
            WireError::BufferTooSmall => too_small,
            WireError::Json(_)
            | WireError::Field(_)
            | WireError::UnknownValue { .. }
            | WireError::Missing { .. }
            | WireError::TooLong { .. }
            | WireError::NotAllowed { .. }
            | WireError::ScratchTooSmall => AgentError::Malformed(e),
        })?;
        Ok(Transmit { topic, payload })
    }
}

/// `n` in decimal, written to the end of `buf`.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    while let Some(i) = start.checked_sub(1)
        && let Some(slot) = buf.get_mut(i)
    {
        *slot = b'0'.wrapping_add(u8::try_from(n.wrapping_rem(10)).unwrap_or(0));
        start = i;
        n = n.wrapping_div(10);
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or("0")
}

#[cfg(test)]
mod tests;
