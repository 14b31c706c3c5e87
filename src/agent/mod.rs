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
//!   is followed by a describe of `$next` without the document, then (without a namespace)
//!   by GetPendingJobExecutions, each with attempts of its own, before the agent gives up
//!   ([Buffers](#buffers)).
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
//! [`Config::check_interval_secs`] (it then asks for the next job at that interval).
//!
//! The describe without the document still carries the execution's statusDetails, which
//! another writer (an earlier firmware, the HTTPS data plane) may have made larger than the
//! client's buffer; the agent's own are at most [`MAX_DETAILS_BYTES`]. When its reply does not
//! reach the agent either, the agent asks GetPendingJobExecutions, whose `inProgressJobs`
//! name the execution without statusDetails or document (about 170 bytes per pending
//! execution, at most 15 of each status: SPEC R12). The updates of such a job ask for no state
//! in their replies, which would carry the statusDetails again. GetPending has no namespace
//! form (SPEC 7.3), so a namespace agent whose describe does not fit reports
//! [`AgentError::MessageTooLarge`] (or [`AgentError::RetriesExhausted`]) and the execution
//! holds its queue up until it times out or an operator ends it: size its client's buffer for
//! the statusDetails any writer leaves.
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
mod types;

pub use types::{
    AgentError, AgentEvent, Config, CurrentJob, JobOperation, LostReason, Subscription, Transmit,
};

use core::fmt;

use crate::details::{DetailsBuf, DetailsError, DetailsStore};
use crate::error::ErrorCode;
use crate::field::{Field, FieldError, Violation};
use crate::id::{
    ExecutionNumber, JobId, NamespaceId, StatusDetails, StepTimeout, ThingName, Timestamp, VersionNumber,
};
use crate::status::ExecutionStatus;
use crate::topic::{JobIdRef, JobSelector, NamespaceIdRef, Reply, ThingNameRef, Topic};
use crate::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, GetPendingRequest, JobDocument, JobExecution,
    NextJobExecutionChanged, PendingHead, StartNextRequest, UpdateRequest, UpdateResponse, WireError,
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
    /// GetPendingJobExecutions, whose first IN_PROGRESS summary names that execution where
    /// the describe's reply did not reach the agent either (it still carries statusDetails,
    /// which another writer may have made large). A plain agent's only: GetPending has no
    /// namespace form (SPEC 7.3). `len` as for `Identify`.
    Pending { len: Option<usize> },
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
    Pending,
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
