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
//!  too large  ──► handle_oversized(topic, len)
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
//! 3. When the application is told [`AgentEvent::Run`], it does the work (the document stays
//!    readable through [`Agent::document`] while the job runs) and reports progress
//!    and the final status with [`Agent::report`]. The agent turns each report into an
//!    UpdateJobExecution carrying `expectedVersion`, and asks for the next job once a final
//!    status is accepted. A job with a step timer ([`Config::step_timeout`]) times out unless
//!    the application resets the timer with [`Agent::report_progress`] in time.
//! 4. When the application is told [`AgentEvent::Canceled`] or [`AgentEvent::Lost`], it stops
//!    the work: the service no longer accepts updates for that execution.
//!
//! At most one request is in flight; a report made meanwhile waits and is sent when the reply
//! arrives (a newer progress report replaces an older one that was not sent yet). MQTT orders
//! messages per topic, not across topics, so a `notify-next` that arrives while a StartNext is
//! in flight may tell of a change made after the StartNext was applied (a cancel, a deletion):
//! the execution it hands over is then described before it is announced.
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
//!   arrive late or out of order. An accepted update proves the execution still the agent's
//!   only as of when it was applied, so a notification that arrives while an update is in
//!   flight is checked after the update's answer all the same. A reused number that comes back
//!   after a deletion is a new execution and gets a new [`AgentEvent::Run`].
//! * **Resynchronisation.** A rejected update whose ErrorResponse carries `executionState`
//!   (`VersionMismatch`, `InvalidStateTransition`; SPEC §4.4, R13) sets the agent's version from
//!   it (GG-LITE `update_job`). The state the update asked for (the final status reported, or
//!   a progress report's status and statusDetails, in any order) → the earlier attempt was
//!   applied (its reply was lost), and the update is not sent again; any other still-pending
//!   state → the update is sent again with the new `expectedVersion`; any other terminal state
//!   (CANCELED by a forced cancel, TIMED_OUT, REMOVED) → [`AgentEvent::Canceled`].
//! * **Retries.** Only [`ErrorCode::is_retryable`] codes (`RequestThrottled`, `InternalError`)
//!   and missing replies are retried, with bounded exponential backoff and jitter
//!   ([`Config`]); the application is told when the attempts run out. The clientTokens count up
//!   from [`Config::first_client_token`]: start each boot elsewhere when the MQTT session
//!   outlives a restart. A StartNext (or describe `$next`) none of whose attempts was answered
//!   is followed by a describe of `$next` without the document, with attempts of its own,
//!   before the agent gives up ([Buffers](#buffers)).
//! * **Losing the job.** `ResourceNotFound` (the execution or its job was deleted, SPEC 4.2) →
//!   [`AgentEvent::Lost`]; `TerminalStateReached` (R11) → [`AgentEvent::Canceled`]. The
//!   agent learns of such an end from `notify-next`; if that notification is lost, from its
//!   next report's answer, a reconnection's check, or, with [`Config::check_interval_secs`], a
//!   describe of the running execution at that interval.
//!
//! Messages for another thing, topics the agent does not consume, replies to no request in
//! flight and malformed payloads are refused with an [`AgentError`] and change nothing. One
//! exception keeps a job the agent cannot read from holding up the thing's queue: a StartNext
//! or describe reply or a `notify-next` whose execution names its job (a valid `jobId`,
//! `executionNumber`, `versionNumber` and `status`, the rest valid JSON) is taken even if the
//! rest breaks the rules. The agent acts on that identity and the document alone, so members it
//! does not use cannot stop a job: statusDetails another writer left (an earlier firmware, the
//! HTTPS data plane) that break R14 or hold more escaped text than [`SCRATCH_LEN`] unescapes are
//! passed over, and the job runs. A job whose document cannot be read (not an object or a
//! string, or nested deeper than the JSON reader reads: skipped past that depth by its brackets,
//! [`wire::ExecutionIdentity`](crate::wire::ExecutionIdentity)) is
//! [`AgentEvent::UnreadableJob`], for the application to reject.
//!
//! # Buffers
//!
//! The agent publishes at most [`MAX_TRANSMIT_LEN`] bytes (topic and payload). What it
//! receives is the device's MQTT client's to hold: a StartNext or describe reply and a
//! `notify-next` carry the whole job document (up to 32 KiB on AWS, SPEC lim-document) and the
//! execution's statusDetails, plus about 300 bytes of other members and the topic. Size the
//! client's receive buffer for the largest document the fleet's jobs carry plus the largest
//! statusDetails their devices write (the agent's own reports: [`MAX_DETAILS_BYTES`], escaped
//! to at most twice that) plus 512 bytes. A document larger than `DOC` but within the client's
//! buffer is [`AgentEvent::DocumentTooLarge`], which the application rejects.
//!
//! A reply larger than the client's buffer must not hold the thing's queue up either: StartNext
//! has already made its job IN_PROGRESS on the service, and every later StartNext hands over
//! the same job, with the same document. So the agent then describes `$next` without the
//! document (a reply of about 300 bytes plus the execution's statusDetails) and hands the
//! execution over as [`AgentEvent::MessageTooLarge`], which the application rejects as well.
//! It does so at once when the client can say that a message on a topic did not fit (a client
//! that reads a PUBLISH's topic before its payload): pass the topic and length to
//! [`Agent::handle_oversized`]. A client that drops such a message without a word (or one
//! whose MQTT 5 Maximum Packet Size the broker honours, dropping it unsent) needs no call: when
//! none of a StartNext's attempts is answered, the agent asks the same describe before it gives
//! up with [`AgentError::RetriesExhausted`]. A client that closes the connection on an oversized
//! packet (rumqttc does) works the same way through [`Agent::reconnected`], which resends at
//! once. A `notify-next` carries the document too: an idle agent on a client that drops it
//! without a word never hears of that job, so give such an agent a
//! [`Config::check_interval_secs`] (it then asks for the next job at that interval). One case
//! still holds the queue up: an IN_PROGRESS execution whose statusDetails (another writer's:
//! the agent's own are at most [`MAX_DETAILS_BYTES`]) alone do not fit the client's buffer,
//! since the describe without the document still carries them; size the buffer for them.
//!
//! # Namespaces
//!
//! No source shows a namespace form of StartNext (SPEC 7.3, AMBIG-8). An agent created with a
//! namespace therefore asks DescribeJobExecution of `$next` and claims a QUEUED execution with
//! an UpdateJobExecution to IN_PROGRESS, as Greengrass does (GG-LITE). If a notification that
//! may tell of a cancel or deletion arrives while the claim is in flight, the agent describes
//! the execution before it announces the job.
//!
//! Which executions a namespace's `$next` hands over is the service's (SPEC R20, R25,
//! AMBIG-27): the emulator, on its unverified reading, hands over jobs of no namespace to a
//! namespace agent and namespaced jobs to a plain one, and an execution carries no namespace
//! the agent could filter on. On a device where two agents share a thing (a firmware agent
//! beside Greengrass's `aws-gg-deployment`), each may be handed the other's jobs.

mod api;
mod machine;
mod read;

use core::fmt;

use crate::details::{DetailsBuf, DetailsError, DetailsStore};
use crate::error::ErrorCode;
use crate::field::{Field, FieldError, Violation};
use crate::id::{
    ExecutionNumber, JobId, NamespaceId, StatusDetails, StepTimeout, ThingName, Timestamp, VersionNumber,
};
use crate::status::ExecutionStatus;
use crate::time::TimeoutMinutes;
use crate::topic::{JobIdRef, JobSelector, NamespaceIdRef, Reply, ThingNameRef, Topic, TopicError};
use crate::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, JobDocument, JobExecution, NextJobExecutionChanged,
    StartNextRequest, UpdateRequest, UpdateResponse, WireError,
};

/// Most bytes of the statusDetails of one report the agent keeps until it is sent: each pair
/// costs its key, its value and 3 bytes. A larger map is refused by [`Agent::report`].
pub const MAX_DETAILS_BYTES: usize = 512;

/// Bytes of the agent's buffer for unescaping JSON strings of incoming messages. A message
/// whose escaped strings need more is refused as [`WireError::ScratchTooSmall`], unless they are
/// statusDetails of an execution the agent can still identify and read the document of (the
/// job then runs: see [the module docs](crate::agent)).
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
    /// request went unanswered while a describe of `$next` without the document was answered
    /// (a client that drops what it cannot hold without a word, such as an MQTT 5 client whose
    /// Maximum Packet Size the broker honours). It cannot be run; as with
    /// [`AgentEvent::DocumentTooLarge`] the job stays current until the application reports a
    /// final status for it (usually `REJECTED`), so the thing's later jobs are not held up.
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

// ---------------------------------------------------------------------------------------------
// Internal state.

/// A statusDetails map kept until it is sent.
type Details = DetailsBuf<MAX_DETAILS_BYTES>;

/// `details`, kept; too large for the agent: [`AgentError::DetailsTooLarge`].
fn keep_details(details: &StatusDetails<'_>) -> Result<Details, AgentError> {
    Details::from_details(details).map_err(|e| match e {
        DetailsError::TooLarge { len, capacity } => AgentError::DetailsTooLarge { len, capacity },
        DetailsError::OutOfMemory { len } => AgentError::DetailsTooLarge { len, capacity: MAX_DETAILS_BYTES },
    })
}

/// A kept map as the map to send. Its pairs were checked when it was kept; a map that holds
/// more than [`StatusDetails::MAX_PAIRS`] is refused, never cut.
fn kept_details(details: &Details) -> Result<StatusDetails<'_>, AgentError> {
    let malformed = |e| AgentError::Malformed(WireError::Field(e));
    let mut pairs: heapless::Vec<(&str, &str), { StatusDetails::MAX_PAIRS }> = heapless::Vec::new();
    for pair in details.pairs() {
        // Not `collect`: heapless's `FromIterator` panics when the iterator overflows the vector.
        pairs.push(pair).map_err(|_| {
            let too_many =
                Violation::TooManyPairs { max: StatusDetails::MAX_PAIRS, len: details.pairs().count() };
            malformed(FieldError::new(Field::StatusDetails, too_many))
        })?;
    }
    StatusDetails::new(&pairs).map_err(malformed)
}

/// A report of the application, to be sent as an UpdateJobExecution.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Report {
    status: ExecutionStatus,
    details: Option<Details>,
    /// `stepTimeoutInMinutes`: IN_PROGRESS only.
    step_timeout: Option<StepTimeout>,
}

/// What the agent asks the service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant, reason = "no allocator to box into; there is one Request")]
enum Request {
    /// StartNextPendingJobExecution (SPEC 4.3, T2).
    StartNext,
    /// DescribeJobExecution of `$next` (namespace agents, SPEC 7.3).
    DescribeNext,
    /// DescribeJobExecution of `$next` without the document: which execution a reply the
    /// device could not receive handed over. `len`: that reply's length, if the MQTT client
    /// told it; `None`: no attempt of the StartNext (or describe `$next`) was answered.
    Identify { len: Option<usize> },
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
    /// A notification arrived after the first transmission. An accepted update, or a StartNext
    /// that hands over an execution, proves the execution ours only as of when it was applied,
    /// so it is described afterwards.
    noticed: bool,
}

impl Outbox {
    const fn new(request: Request) -> Self {
        Self {
            request,
            phase: Phase::Ready,
            attempts: 0,
            first_token: None,
            last_token: 0,
            last_error: None,
            noticed: false,
        }
    }

    /// Whether [`Config::max_attempts`] allows another transmission.
    fn may_resend(&self, config: &Config) -> bool {
        self.attempts < config.max_attempts.max(1)
    }

    /// Whether a reply with `token` answers a transmission of this request.
    fn answers(&self, token: Option<&str>) -> bool {
        let Some(first) = self.first_token else { return false };
        // AWS echoes the clientToken verbatim (SPEC 7.1): only the very string sent matches
        // (not `01` or `+1` for `1`). A reply without one is taken by its topic.
        let Some(token) = token else { return true };
        let mut digits = [0; 10];
        (0..=self.last_token.wrapping_sub(first))
            .any(|i| machine::decimal(first.wrapping_add(i), &mut digits) == token)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    id: JobId,
    number: ExecutionNumber,
    version: VersionNumber,
    /// What became of its document (kept in `Core::document`).
    document: Document,
    /// Tells this job's announcement from a stale one.
    seq: u32,
    phase: JobPhase,
}

/// A job's document, as the application is to get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    /// The raw JSON, in `Core::document` (empty if the service sent none): [`AgentEvent::Run`].
    Kept,
    /// This many bytes, more than `DOC`: [`AgentEvent::DocumentTooLarge`].
    TooLarge(usize),
    /// The message could not be read past the execution's identity:
    /// [`AgentEvent::UnreadableJob`].
    Unreadable(WireError),
    /// The message never reached the agent: [`AgentEvent::MessageTooLarge`].
    Undelivered(Option<usize>),
}

/// How far the current job has come; each phase implies the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum JobPhase {
    /// Still QUEUED on the service: the agent's IN_PROGRESS claim is under way.
    Claiming,
    /// The claim (or the StartNext) was accepted, but a notification that arrived while it
    /// was in flight may tell of a later change: described before it is announced.
    Checking,
    /// IN_PROGRESS by the agent's doing (StartNext, or an accepted claim), and Run /
    /// DocumentTooLarge / UnreadableJob queued for the application.
    Announced,
    /// The application has heard of the job, so it must hear how it ends.
    Delivered,
    /// A final status was reported.
    Finishing,
}

impl Job {
    /// IN_PROGRESS on the service by the agent's doing.
    fn claimed(&self) -> bool {
        self.phase >= JobPhase::Checking
    }

    /// Announced to the application: the application's job.
    fn announced(&self) -> bool {
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

/// A message on a topic the agent consumes.
#[derive(Clone, Copy)]
enum Inbound<'t> {
    NotifyNext,
    Reply(ReplyTo<'t>, Reply),
}

/// The state, apart from the scratch buffer (so a parsed message can borrow the scratch while
/// the state changes).
#[derive(Debug)]
struct Core<const DOC: usize> {
    thing: ThingName,
    namespace: Option<NamespaceId>,
    config: Config,
    job: Option<Job>,
    /// The current job's document when it is `Document::Kept`. Filled in place from the
    /// message, never built on the stack and moved: a handler's stack does not grow with `DOC`.
    document: heapless::Vec<u8, DOC>,
    outbox: Option<Outbox>,
    /// The application's latest report, not yet sent.
    pending: Option<Report>,
    /// A notification suggests the current execution left the pending list: describe it.
    verify: bool,
    /// A notification named a job while a StartNext was in flight: ask again if it finds none.
    recheck: bool,
    token: u32,
    /// The state of the backoff's jitter generator (xorshift32, never 0).
    rng: u32,
    seq: u32,
    notes: heapless::Deque<Note, EVENT_QUEUE>,
    dropped: u16,
    /// The last `poll_transmit` failed for want of room (reported once).
    blocked: bool,
    /// When the last request was answered or given up (for [`Config::check_interval_secs`]).
    settled: Timestamp,
}

/// The device-side job agent. `DOC` is the capacity of its job-document buffer, in bytes (AWS
/// allows documents up to 32 KB, SPEC §6). See the [module docs](self) for the call order.
///
/// Its size is `DOC` plus under 4 KiB of bookkeeping: keep it in a `static` (or another long-lived place), not on
/// a task's stack. Its calls' stack does not grow with `DOC`: on thumbv7em, `handle` and the
/// polls take about 1 KB plus the deepest parser's 0.7 KB at every `DOC`, and `report` (or
/// `report_progress`) with statusDetails about 2.4 KB plus `poll_transmit`'s 0.6 KB: give the
/// task that reports about 3 KB for the agent (BENCHMARKS §4, "The device agent's stack").
/// `new` returns it by value, so write it into its place once at start.
pub struct Agent<const DOC: usize> {
    core: Core<DOC>,
    scratch: [u8; SCRATCH_LEN],
}

impl<const DOC: usize> fmt::Debug for Agent<DOC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent").field("state", &self.core).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
