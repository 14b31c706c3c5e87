//! The registry: the one place lifecycle state lives (SPEC §2–4, 7.2, §8, §R).
//!
//! A [`Registry`] stores things, jobs and executions in tables the host provides
//! ([`Storage`]), applies the decisions of [`crate::rules`] (it never decides them again),
//! numbers and re-numbers executions (R7), and reports every notification the host must deliver
//! to an [`EventSink`].
//!
//! # Inputs, outputs, and the order to call them
//!
//! It is sans-IO: every operation takes the caller's `now` ([`Timestamp`], R18) and returns
//! `Result<_, Rejection>`. An operation that is refused changes nothing: it checks every rule, the
//! room in every table it would write and the room in the sink before it writes anything. After a
//! call, the host delivers the events the sink received, rendering each payload from the
//! registry's current state (`notify` lists [`Registry::pending`], `notify-next` renders
//! [`Registry::next_pending`]). Jobs in DELETION_IN_PROGRESS disappear in bounded steps the host
//! drives with [`Registry::advance`], which also applies everything else that falls due.
//!
//! # What the registry stores, and what it leaves to the host
//!
//! Lifecycle state (statuses, numbers, versions, timestamps, counters, statusDetails, reasonCode,
//! configuration) lives here. Job documents, descriptions and comments are opaque payloads the
//! registry never reads; the host keeps them beside the job's [`JobHandle`].
//!
//! # Identity over time
//!
//! Handles carry a generation: once an execution is deleted, its handle finds nothing, even after
//! its slot and its execution number have been reused.

#[cfg(feature = "alloc")]
mod growable;
mod index;
mod slab;
#[cfg(feature = "serde")]
mod snapshot;
mod timers;

#[cfg(feature = "serde")]
pub use snapshot::{FORMAT as SNAPSHOT_FORMAT, Snapshot};

use core::fmt;

#[cfg(feature = "alloc")]
pub use growable::Growable;
pub use slab::{Entry, Slots};
pub use timers::Timer;

use self::index::{Index, Tag, hash, pair_hash, tagged, untag};
use self::slab::{Key, Links, List, NIL, Slab};
use self::timers::Heap;
use crate::config::{JobConfig, RetryCriterion};
use crate::error::{ExecutionState, Plane, Rejection, Resource, Table};
use crate::id::{
    ExecutionNumber, JobId, NamespaceId, ReasonCode, StatusDetails, StepTimeout, ThingName, Timestamp,
    VersionNumber,
};
use crate::policy::{DetailsWrite, NotifyOn, Policy, UnknownThing};
use crate::rules::{self, Actor, CancelScope, StartNext};
use crate::status::{
    ExecutionStatus, FailureType, JobEndBehavior, JobStatus, RetryableFailureType, TargetSelection,
};
pub use crate::topic::{ExecutionEvent, JobEvent};

// ---------------------------------------------------------------------------------------------
// Public handles, events and views.

/// A job, as long as it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobHandle(Key);

/// A thing, as long as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThingHandle(Key);

/// One execution, as long as it exists; a handle to a deleted execution finds nothing even when
/// its number or slot was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionHandle(Key);

/// Something the host must deliver (SPEC 7.2, 7.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// `$aws/things/T/jobs/notify`: the thing's pending list changed (R15). Render
    /// [`Registry::pending`] into the payload.
    Notify(ThingName),
    /// `$aws/things/T/jobs/notify-next`: the head of the thing's pending list changed (R15).
    /// Render [`Registry::next_pending`] into the payload.
    NotifyNext(ThingName),
    /// A job lifecycle event (SPEC 7.4).
    Job {
        /// The job.
        job: JobId,
        /// What happened.
        event: JobEvent,
    },
    /// An execution lifecycle event (SPEC 7.4).
    Execution {
        /// The job.
        job: JobId,
        /// The thing.
        thing: ThingName,
        /// The execution's number.
        number: ExecutionNumber,
        /// What happened.
        event: ExecutionEvent,
    },
}

/// Where the registry puts the events of an operation.
///
/// Before changing anything, an operation asks [`room`](Self::room) for as many events as it
/// could emit and is refused with [`Rejection::Throttled`] if there is not enough; so `push` must
/// accept at least `room()` events.
pub trait EventSink {
    /// How many more events `push` accepts.
    fn room(&self) -> usize;
    /// Takes one event.
    fn push(&mut self, event: Event);
}

impl<const N: usize> EventSink for heapless::Deque<Event, N> {
    fn room(&self) -> usize {
        N.saturating_sub(self.len())
    }
    fn push(&mut self, event: Event) {
        // `room` was checked by the caller, so this fits; a full queue keeps what it has.
        let _ = self.push_back(event);
    }
}

/// A sink that drops every event, for hosts that deliver no notifications.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl EventSink for Discard {
    fn room(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, _: Event) {}
}

/// The counters AWS reports as `jobProcessDetails`: executions per status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessDetails {
    counts: [u32; 8],
}

impl ProcessDetails {
    /// Executions in `status` (`numberOf<Status>Things`; they count executions, not things, SPEC §8).
    #[must_use]
    pub fn count(&self, status: ExecutionStatus) -> u32 {
        self.counts.get(slot_of(status)).copied().unwrap_or(0)
    }

    /// Executions that are QUEUED or IN_PROGRESS.
    #[must_use]
    pub fn pending(&self) -> u32 {
        self.count(ExecutionStatus::Queued).saturating_add(self.count(ExecutionStatus::InProgress))
    }

    fn add(&mut self, status: ExecutionStatus, delta: i32) {
        if let Some(c) = self.counts.get_mut(slot_of(status)) {
            *c = c.saturating_add_signed(delta);
        }
    }
}

const fn slot_of(s: ExecutionStatus) -> usize {
    match s {
        ExecutionStatus::Queued => 0,
        ExecutionStatus::InProgress => 1,
        ExecutionStatus::Succeeded => 2,
        ExecutionStatus::Failed => 3,
        ExecutionStatus::TimedOut => 4,
        ExecutionStatus::Rejected => 5,
        ExecutionStatus::Removed => 6,
        ExecutionStatus::Canceled => 7,
    }
}

// ---------------------------------------------------------------------------------------------
// Stored entries.

/// "No deadline".
const NEVER: Timestamp = Timestamp(u64::MAX);

/// The `reasonCode` of a job canceled by its abort criteria. AWS fills one in (DG-CLI) but does
/// not document its value; this is the crate's.
pub const ABORT_REASON: &str = "ABORT_CRITERIA_MET";

impl JobEntry {
    /// When its next schedule event is due: start, next rollout batch, end.
    fn next_event(&self) -> Option<Timestamp> {
        let schedule = self.config.schedule;
        let live = matches!(self.status, JobStatus::InProgress | JobStatus::Scheduled);
        // No start after the end; nothing at all for a job that is no longer live.
        let start = schedule
            .and_then(|s| s.start())
            .filter(|_| self.status == JobStatus::Scheduled && !self.started && !self.ended);
        let rollout = Some(self.rollout_at)
            .filter(|_| self.rollout_next != NIL && self.status == JobStatus::InProgress);
        let end = schedule.and_then(|s| s.end()).map(|(at, _)| at).filter(|_| !self.ended && live);
        [start, rollout, end].into_iter().flatten().filter(|at| *at != NEVER).min()
    }
}

/// The largest encoded statusDetails map one execution stores, in bytes (each pair costs its
/// key, its value and 3 bytes of lengths). A larger map is refused with
/// `CapacityExhausted(StatusDetails)`, never truncated.
pub const DETAILS_BYTES: usize = 1024;

/// A stored statusDetails map: `[key len: u8][value len: u16 LE][key][value]` per pair.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DetailsBuf(heapless::Vec<u8, DETAILS_BYTES>);

impl DetailsBuf {
    fn encode(pairs: &[(&str, &str)]) -> Option<Self> {
        let mut out = heapless::Vec::new();
        for (k, v) in pairs {
            let kl = u8::try_from(k.len()).ok()?;
            let vl = u16::try_from(v.len()).ok()?.to_le_bytes();
            out.extend_from_slice(&[kl, vl[0], vl[1]]).ok()?;
            out.extend_from_slice(k.as_bytes()).ok()?;
            out.extend_from_slice(v.as_bytes()).ok()?;
        }
        Some(Self(out))
    }

    /// Appends one pair; false when it does not fit.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    fn push(&mut self, k: &str, v: &str) -> bool {
        let (Ok(kl), Ok(vl)) = (u8::try_from(k.len()), u16::try_from(v.len())) else { return false };
        let vl = vl.to_le_bytes();
        let fits =
            self.0.len().saturating_add(3).saturating_add(k.len()).saturating_add(v.len()) <= DETAILS_BYTES;
        fits && self.0.extend_from_slice(&[kl, vl[0], vl[1]]).is_ok()
            && self.0.extend_from_slice(k.as_bytes()).is_ok()
            && self.0.extend_from_slice(v.as_bytes()).is_ok()
    }

    /// The pairs, in stored order.
    pub fn pairs(&self) -> DetailsIter<'_> {
        DetailsIter(self.0.as_slice())
    }
}

/// The pairs of a stored statusDetails map.
#[derive(Debug, Clone)]
pub struct DetailsIter<'a>(&'a [u8]);

impl<'a> Iterator for DetailsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let (&[kl, v0, v1], rest) = self.0.split_first_chunk::<3>()?;
        let (k, rest) = rest.split_at_checked(usize::from(kl))?;
        let (v, rest) = rest.split_at_checked(usize::from(u16::from_le_bytes([v0, v1])))?;
        self.0 = rest;
        Some((core::str::from_utf8(k).ok()?, core::str::from_utf8(v).ok()?))
    }
}

/// One job's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobEntry {
    id: JobId,
    status: JobStatus,
    selection: TargetSelection,
    namespace: Option<NamespaceId>,
    created_at: Timestamp,
    last_updated_at: Timestamp,
    completed_at: Option<Timestamp>,
    reason_code: Option<ReasonCode>,
    force_canceled: bool,
    process: ProcessDetails,
    targets: u32,
    config: JobConfig,
    executions: List,
    /// Its targets, one pair per thing, in target order.
    pairs: List,
    /// The next pair without an execution yet (paced or scheduled rollout), or none.
    rollout_next: u32,
    /// When the next batch of a paced rollout may go out.
    rollout_at: Timestamp,
    /// The schedule's end has been applied.
    ended: bool,
    /// It went IN_PROGRESS at least once.
    started: bool,
    /// Creation order among jobs: events due at one instant happen in it.
    seq: u32,
}

/// One thing: its pending lists (IN_PROGRESS, then QUEUED, each in queue order) and all its
/// executions. Kept while executions refer to it, even after the thing is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThingEntry {
    name: ThingName,
    registered: bool,
    in_progress: List,
    queued: List,
    all: List,
    /// Pairs that refer to this thing (kept under R7 `Monotonic` after their executions go).
    pairs: u32,
    /// The stamp of the last operation that counted this thing (finds repeated targets in O(1)).
    mark: u32,
}

/// One execution's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionEntry {
    job: u32,
    thing: u32,
    number: ExecutionNumber,
    version: VersionNumber,
    status: ExecutionStatus,
    force_canceled: bool,
    retry_attempt: u8,
    queued_at: Timestamp,
    started_at: Option<Timestamp>,
    last_updated_at: Timestamp,
    /// The in-progress deadline, fixed when the execution starts (AMBIG-15); `NEVER` if none.
    timeout_at: Timestamp,
    /// When it times out: the step deadline capped by `timeout_at` (SPEC T7); `NEVER` if none.
    deadline: Timestamp,
    details: u32,
    /// The next older execution of the same (job, thing).
    pair_prev: u32,
    job_link: Links,
    thing_link: Links,
    /// Link in the thing's in-progress or queued list, while pending and visible.
    pending_link: Links,
}

/// One (job, thing) pair: its newest execution and the highest number it ever had (R7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PairEntry {
    job: u32,
    thing: u32,
    /// The newest execution; older ones are chained by `pair_prev`.
    newest: u32,
    /// The highest number ever given to the pair (R7 `Monotonic`).
    highest: Option<ExecutionNumber>,
    /// Link in the job's list of pairs.
    job_link: Links,
    /// Retries used, by failure type: FAILED, TIMED_OUT (SPEC T12).
    retries: [u8; 2],
    /// Counted among the job's targets (CreateJob, AssociateTargetsWithJob), not only a member
    /// of a targeted group.
    target: bool,
}

/// The tables a registry keeps its state in, provided by the host.
pub trait Storage {
    /// Jobs.
    type Jobs: Slots<Entry<JobEntry>>;
    /// Things.
    type Things: Slots<Entry<ThingEntry>>;
    /// Executions.
    type Executions: Slots<Entry<ExecutionEntry>>;
    /// statusDetails maps (only executions that have one use a slot).
    type Details: Slots<Entry<DetailsBuf>>;
    /// (job, thing) pairs: one per thing a job targets.
    type Pairs: Slots<Entry<PairEntry>>;
    /// Timers (execution deadlines and job schedule events); about one per execution.
    type Timers: Slots<Timer>;
    /// Buckets of the lookup index: give it at least twice as many as jobs + things +
    /// (job, thing) pairs together.
    type Index: Slots<u32>;

    /// The tables, empty.
    fn into_tables(self) -> Tables<Self>
    where
        Self: Sized;
}

/// The tables of a [`Storage`].
#[derive(Debug)]
pub struct Tables<S: Storage> {
    /// Jobs.
    pub jobs: S::Jobs,
    /// Things.
    pub things: S::Things,
    /// Executions.
    pub executions: S::Executions,
    /// statusDetails maps.
    pub details: S::Details,
    /// (job, thing) pairs.
    pub pairs: S::Pairs,
    /// Timers.
    pub timers: S::Timers,
    /// Index buckets.
    pub index: S::Index,
}

/// Fixed-capacity storage in `heapless` vectors, for devices and tests: `J` jobs, `T` things,
/// `X` executions and as many (job, thing) pairs, `D` statusDetails maps and `I` index buckets
/// (at least twice `J + T + X`).
#[derive(Debug)]
pub struct Fixed<const J: usize, const T: usize, const X: usize, const D: usize, const I: usize>;

impl<const J: usize, const T: usize, const X: usize, const D: usize, const I: usize> Storage
    for Fixed<J, T, X, D, I>
{
    type Jobs = heapless::Vec<Entry<JobEntry>, J>;
    type Things = heapless::Vec<Entry<ThingEntry>, T>;
    type Executions = heapless::Vec<Entry<ExecutionEntry>, X>;
    type Details = heapless::Vec<Entry<DetailsBuf>, D>;
    type Pairs = heapless::Vec<Entry<PairEntry>, X>;
    type Timers = heapless::Vec<Timer, X>;
    type Index = heapless::Vec<u32, I>;

    fn into_tables(self) -> Tables<Self> {
        Tables {
            jobs: heapless::Vec::new(),
            things: heapless::Vec::new(),
            executions: heapless::Vec::new(),
            details: heapless::Vec::new(),
            pairs: heapless::Vec::new(),
            timers: heapless::Vec::new(),
            index: heapless::Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Views.

/// A read-only view of one execution.
#[derive(Clone, Copy)]
pub struct ExecutionView<'r> {
    handle: ExecutionHandle,
    entry: &'r ExecutionEntry,
    job: &'r JobEntry,
    thing: &'r ThingName,
    details: Option<&'r DetailsBuf>,
}

impl<'r> ExecutionView<'r> {
    /// Its handle.
    #[must_use]
    pub fn handle(&self) -> ExecutionHandle {
        self.handle
    }
    /// `jobId`.
    #[must_use]
    pub fn job_id(&self) -> &'r JobId {
        &self.job.id
    }
    /// `thingName`.
    #[must_use]
    pub fn thing_name(&self) -> &'r ThingName {
        self.thing
    }
    /// `executionNumber`.
    #[must_use]
    pub fn number(&self) -> ExecutionNumber {
        self.entry.number
    }
    /// `status`.
    #[must_use]
    pub fn status(&self) -> ExecutionStatus {
        self.entry.status
    }
    /// `versionNumber`.
    #[must_use]
    pub fn version(&self) -> VersionNumber {
        self.entry.version
    }
    /// Status and version, as an ErrorResponse's `executionState` carries them.
    #[must_use]
    pub fn state(&self) -> ExecutionState {
        ExecutionState { status: self.entry.status, version: self.entry.version }
    }
    /// `queuedAt`.
    #[must_use]
    pub fn queued_at(&self) -> Timestamp {
        self.entry.queued_at
    }
    /// `startedAt`, once it went IN_PROGRESS.
    #[must_use]
    pub fn started_at(&self) -> Option<Timestamp> {
        self.entry.started_at
    }
    /// `lastUpdatedAt`.
    #[must_use]
    pub fn last_updated_at(&self) -> Timestamp {
        self.entry.last_updated_at
    }
    /// `forceCanceled`.
    #[must_use]
    pub fn force_canceled(&self) -> bool {
        self.entry.force_canceled
    }
    /// `retryAttempt`.
    #[must_use]
    pub fn retry_attempt(&self) -> u8 {
        self.entry.retry_attempt
    }
    /// When it times out, if it can (SPEC T7).
    #[must_use]
    pub fn deadline(&self) -> Option<Timestamp> {
        Some(self.entry.deadline).filter(|d| *d != NEVER && self.entry.status == ExecutionStatus::InProgress)
    }

    /// `approximateSecondsBeforeTimedOut` at `now` (SPEC §3 timer facts): absent unless it is
    /// IN_PROGRESS with a timer.
    #[must_use]
    pub fn approximate_seconds_before_timed_out(&self, now: Timestamp) -> Option<u64> {
        self.deadline().map(|d| d.saturating_since(now))
    }
    /// `statusDetails` pairs.
    pub fn status_details(&self) -> DetailsIter<'r> {
        self.details.map_or(DetailsIter(&[]), DetailsBuf::pairs)
    }
    /// The job's status.
    #[must_use]
    pub fn job_status(&self) -> JobStatus {
        self.job.status
    }
}

impl fmt::Debug for ExecutionView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutionView")
            .field("job", &self.job.id)
            .field("thing", &self.thing)
            .field("number", &self.entry.number)
            .field("status", &self.entry.status)
            .field("version", &self.entry.version)
            .finish_non_exhaustive()
    }
}

/// A read-only view of one job.
#[derive(Clone, Copy)]
pub struct JobView<'r> {
    handle: JobHandle,
    entry: &'r JobEntry,
}

impl<'r> JobView<'r> {
    /// Its handle.
    #[must_use]
    pub fn handle(&self) -> JobHandle {
        self.handle
    }
    /// `jobId`.
    #[must_use]
    pub fn id(&self) -> &'r JobId {
        &self.entry.id
    }
    /// `status`.
    #[must_use]
    pub fn status(&self) -> JobStatus {
        self.entry.status
    }
    /// `targetSelection`.
    #[must_use]
    pub fn target_selection(&self) -> TargetSelection {
        self.entry.selection
    }
    /// `namespaceId`.
    #[must_use]
    pub fn namespace(&self) -> Option<&'r NamespaceId> {
        self.entry.namespace.as_ref()
    }
    /// `createdAt`.
    #[must_use]
    pub fn created_at(&self) -> Timestamp {
        self.entry.created_at
    }
    /// `lastUpdatedAt`.
    #[must_use]
    pub fn last_updated_at(&self) -> Timestamp {
        self.entry.last_updated_at
    }
    /// `completedAt`.
    #[must_use]
    pub fn completed_at(&self) -> Option<Timestamp> {
        self.entry.completed_at
    }
    /// `reasonCode`.
    #[must_use]
    pub fn reason_code(&self) -> Option<&'r ReasonCode> {
        self.entry.reason_code.as_ref()
    }
    /// `forceCanceled`.
    #[must_use]
    pub fn force_canceled(&self) -> bool {
        self.entry.force_canceled
    }
    /// `jobProcessDetails`.
    #[must_use]
    pub fn process_details(&self) -> ProcessDetails {
        self.entry.process
    }
    /// Distinct things targeted.
    #[must_use]
    pub fn targets(&self) -> u32 {
        self.entry.targets
    }
    /// Its configuration.
    #[must_use]
    pub fn config(&self) -> &'r JobConfig {
        &self.entry.config
    }
}

impl fmt::Debug for JobView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobView")
            .field("id", &self.entry.id)
            .field("status", &self.entry.status)
            .finish_non_exhaustive()
    }
}

/// A new job (SPEC 4.1 CreateJob members the lifecycle needs).
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// `jobId`.
    pub id: &'a JobId,
    /// `targetSelection`.
    pub selection: TargetSelection,
    /// `namespaceId`.
    pub namespace: Option<&'a NamespaceId>,
    /// Timeouts, retries, abort, scheduling, rollout.
    pub config: JobConfig,
}

impl<'a> NewJob<'a> {
    /// A job with no namespace and no configuration.
    #[must_use]
    pub fn new(id: &'a JobId, selection: TargetSelection) -> Self {
        Self { id, selection, namespace: None, config: JobConfig::default() }
    }
}

/// What a device asks of UpdateJobExecution (SPEC 4.3).
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    /// `status`.
    pub status: ExecutionStatus,
    /// `statusDetails`, if given.
    pub status_details: Option<StatusDetails<'a>>,
    /// `expectedVersion`, if given.
    pub expected_version: Option<VersionNumber>,
    /// `executionNumber`, if given; otherwise the latest execution.
    pub execution_number: Option<ExecutionNumber>,
    /// `stepTimeoutInMinutes`, if given.
    pub step_timeout: Option<StepTimeout>,
}

impl Update<'_> {
    /// An update to `status` with nothing else given.
    #[must_use]
    pub const fn new(status: ExecutionStatus) -> Self {
        Self {
            status,
            status_details: None,
            expected_version: None,
            execution_number: None,
            step_timeout: None,
        }
    }
}

/// Where a paged listing goes on (an opaque `nextToken`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Cursor(Key);

impl Cursor {
    /// The cursor as a pair of integers, to encode as a `nextToken`.
    #[must_use]
    pub const fn to_parts(self) -> (u32, u32) {
        (self.0.index, self.0.generation)
    }

    /// A cursor from [`Cursor::to_parts`]; a made-up one is refused when used.
    #[must_use]
    pub const fn from_parts(index: u32, generation: u32) -> Self {
        Self(Key { index, generation })
    }
}

/// What one call of [`Registry::advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Advanced {
    /// Units of work done.
    pub work: usize,
    /// More is due at the same `now`: call again.
    pub more: bool,
}

/// How full each table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Usage {
    /// Jobs stored.
    pub jobs: usize,
    /// Things stored (including unregistered ones that executions still refer to).
    pub things: usize,
    /// Executions stored.
    pub executions: usize,
    /// statusDetails maps stored.
    pub details: usize,
    /// (job, thing) pairs stored.
    pub pairs: usize,
    /// Free index buckets.
    pub index_room: usize,
}

// ---------------------------------------------------------------------------------------------
// The registry.

/// The store of things, jobs and executions. See the [module docs](self).
pub struct Registry<S: Storage> {
    policy: Policy,
    jobs: Slab<JobEntry, S::Jobs>,
    things: Slab<ThingEntry, S::Things>,
    execs: Slab<ExecutionEntry, S::Executions>,
    details: Slab<DetailsBuf, S::Details>,
    pairs: Slab<PairEntry, S::Pairs>,
    timers: Heap<S::Timers>,
    index: Index<S::Index>,
    /// Jobs in DELETION_IN_PROGRESS and when their deletion is due (at most 10, SPEC §6).
    deleting: heapless::Vec<(u32, Timestamp), { rules::MAX_JOBS_DELETING }>,
    /// How long a deleted job stays DELETION_IN_PROGRESS (host configuration).
    deletion_delay: u64,
    stamp: u32,
    /// The creation sequence of the next job.
    job_seq: u32,
}

impl<S: Storage> fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("policy", &self.policy)
            .field("usage", &self.usage())
            .finish_non_exhaustive()
    }
}

/// Per-thing bookkeeping of one operation, to derive its notifications (R15).
#[derive(Clone, Copy)]
struct Watch {
    thing: u32,
    head: u32,
    changed: bool,
}

impl<S: Storage> Registry<S> {
    /// An empty registry over `storage`, following `policy`.
    pub fn new(storage: S, policy: Policy) -> Self {
        let t = storage.into_tables();
        Self {
            policy,
            jobs: Slab::new(t.jobs),
            things: Slab::new(t.things),
            execs: Slab::new(t.executions),
            details: Slab::new(t.details),
            pairs: Slab::new(t.pairs),
            timers: Heap::new(t.timers),
            index: Index::new(t.index),
            deleting: heapless::Vec::new(),
            deletion_delay: 0,
            stamp: 0,
            job_seq: 1,
        }
    }

    /// The policy it follows.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Forgets everything (the tables keep their memory).
    pub fn clear(&mut self) {
        self.jobs.clear();
        self.things.clear();
        self.execs.clear();
        self.details.clear();
        self.pairs.clear();
        self.timers.clear();
        self.index.clear();
        self.deleting.clear();
        self.job_seq = 1;
    }

    /// How full the tables are.
    #[must_use]
    pub fn usage(&self) -> Usage {
        Usage {
            jobs: self.jobs.used(),
            things: self.things.used(),
            executions: self.execs.used(),
            details: self.details.used(),
            pairs: self.pairs.used(),
            index_room: self.index.room(),
        }
    }

    /// Jobs in DELETION_IN_PROGRESS now (at most [`rules::MAX_JOBS_DELETING`]).
    #[must_use]
    pub fn jobs_deleting(&self) -> usize {
        self.deleting.len()
    }

    /// How many seconds a deleted job stays DELETION_IN_PROGRESS before [`Registry::advance`]
    /// removes it (0, the default, removes it at the next `advance`). Applies to later deletions.
    pub fn set_deletion_delay(&mut self, secs: u64) {
        self.deletion_delay = secs;
    }

    /// The earliest instant at which [`Registry::advance`] may have something to do, if any.
    /// It is never later than the next due transition; it can be earlier, when a timer was
    /// overtaken by events (an early call of `advance` then simply finds nothing to do).
    #[must_use]
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let timer = self.timers.peek().map(|t| t.at);
        let deletion = self.deleting.iter().map(|(_, due)| *due).min();
        match (timer, deletion) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Applies every transition due at `now` (timeouts, retries, abort, schedule starts and
    /// ends, rollout batches, deletions), doing at most `budget` units of work (one per timer
    /// or execution handled). Returns what it did and whether more is due at `now`; call it
    /// again until `more` is false.
    ///
    /// Several things due at one instant happen in deadline order; at equal deadlines execution
    /// timers come before job events (by table position), and deletions come last. A `now`
    /// earlier than a previous one is not an error: nothing that is not due at `now` happens.
    ///
    /// # Errors
    /// `Throttled` when the sink has no room, `CapacityExhausted` when a retry does not fit;
    /// what was done before stays done, the transition that did not fit stays due, and a later
    /// call goes on from there.
    pub fn advance(
        &mut self,
        now: Timestamp,
        budget: usize,
        sink: &mut impl EventSink,
    ) -> Result<Advanced, Rejection> {
        let mut done = 0usize;
        while done < budget {
            if let Some(t) = self.timers.peek().filter(|t| t.at <= now) {
                self.fire(t, now, sink)?;
                self.timers.pop();
                done = done.saturating_add(1);
                continue;
            }
            let Some(&(j, _)) =
                self.deleting.iter().filter(|(_, due)| *due <= now).min_by_key(|(_, due)| *due)
            else {
                break;
            };
            let (n, _) = self.delete_some(j, budget.saturating_sub(done), sink)?;
            done = done.saturating_add(n.max(1));
        }
        let more = self.next_deadline().is_some_and(|d| d <= now);
        Ok(Advanced { work: done, more })
    }

    /// Handles one timer that is due; a stale one (its subject changed since) does nothing.
    /// On error the timer stays in place.
    fn fire(&mut self, t: Timer, now: Timestamp, sink: &mut impl EventSink) -> Result<(), Rejection> {
        let (tag, i) = untag(t.what);
        if tag == Tag::Execution as u32 {
            let due = self
                .exec_entry(i)
                .is_some_and(|e| e.deadline == t.at && e.status == ExecutionStatus::InProgress);
            if due {
                self.time_out(i, now, sink)?;
            }
        } else if tag == Tag::Job as u32 {
            match self.job_entry(i).and_then(JobEntry::next_event) {
                Some(at) if at == t.at => self.job_event(i, now, sink)?,
                // The job changed since this timer was armed: make sure its next event has one.
                Some(_) => self.arm_job(i),
                None => {}
            }
        }
        Ok(())
    }

    /// Pushes a timer; when the heap is full, rebuilds it from the live deadlines first.
    fn arm(&mut self, at: Timestamp, order: u32, what: u32) {
        if at == NEVER {
            return;
        }
        if self.timers.is_full() {
            self.rebuild_timers();
        }
        // Sized for one timer per execution plus the jobs' events; a host that gives fewer
        // slots loses the surplus timers until the next rebuild re-arms them.
        let _ = self.timers.push(Timer { at, order, what });
    }

    fn rebuild_timers(&mut self) {
        self.timers.clear();
        for i in (0..self.execs.len()).filter_map(|i| u32::try_from(i).ok()) {
            // Only IN_PROGRESS executions hold a deadline (set_status clears it otherwise).
            if let Some(e) = self.exec_entry(i).filter(|e| e.deadline != NEVER) {
                let _ = self.timers.push(Timer { at: e.deadline, order: 0, what: tagged(Tag::Execution, i) });
            }
        }
        for i in (0..self.jobs.len()).filter_map(|i| u32::try_from(i).ok()) {
            if let Some((at, order)) = self.job_entry(i).and_then(|j| Some((j.next_event()?, j.seq))) {
                let _ = self.timers.push(Timer { at, order, what: tagged(Tag::Job, i) });
            }
        }
    }

    /// SPEC T7: an IN_PROGRESS execution whose timer expired becomes TIMED_OUT; then abort,
    /// retry (T12) and completion are considered, in that order.
    fn time_out(&mut self, x: u32, now: Timestamp, sink: &mut impl EventSink) -> Result<(), Rejection> {
        let (job, thing) =
            self.exec_entry(x).map(|e| (e.job, e.thing)).ok_or(Rejection::NotFound(Resource::Execution))?;
        self.check_failure_room(x, ExecutionStatus::TimedOut, sink)?;
        let mut w = self.watch(thing);
        w.changed |= self.set_status(x, ExecutionStatus::TimedOut, Actor::Service, now, sink)?;
        self.after_terminal(x, job, ExecutionStatus::TimedOut, now, sink)?;
        self.settle(w, sink);
        Ok(())
    }

    /// Room for what a failure may set off: a retry's execution, the abort's cancellations.
    fn check_failure_room(
        &self,
        x: u32,
        status: ExecutionStatus,
        sink: &impl EventSink,
    ) -> Result<(), Rejection> {
        let Some(e) = self.exec_entry(x) else { return Ok(()) };
        let queued = self.job_entry(e.job).map_or(0, |j| j.process.count(ExecutionStatus::Queued));
        let events = usize::try_from(queued).unwrap_or(usize::MAX).saturating_mul(3).saturating_add(8);
        Self::ensure_room(sink, events)?;
        if self.retry_for(x, status).is_some() && self.execs.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        Ok(())
    }

    /// After an execution became terminal: abort (SPEC T8, §6 Abort), else retry (T12); then
    /// job completion. Abort comes first: a canceled job rolls out nothing new.
    fn after_terminal(
        &mut self,
        x: u32,
        job: u32,
        status: ExecutionStatus,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        if self.abort_due(job) {
            self.abort(job, now, sink)?;
        } else if let Some((p, slot)) = self.retry_for(x, status) {
            let (thing, attempt) = self.exec_entry(x).map_or((NIL, 0), |e| (e.thing, e.retry_attempt));
            self.queue_execution(job, thing, attempt.saturating_add(1), now, sink)?;
            if let Some(n) = self.pairs.at_mut(p).and_then(|pair| pair.retries.get_mut(slot)) {
                *n = n.saturating_add(1);
            }
        }
        self.maybe_complete(job, now, sink);
        Ok(())
    }

    /// The pair and retry counter slot if `status` of execution `x` is retried now (SPEC T12,
    /// §6 Retries: per criterion, at most 10 in total; REJECTED never).
    fn retry_for(&self, x: u32, status: ExecutionStatus) -> Option<(u32, usize)> {
        let e = self.exec_entry(x)?;
        let j = self.job_entry(e.job)?;
        // No new executions once the job is canceled, completed or being deleted.
        if !matches!(j.status, JobStatus::InProgress | JobStatus::Scheduled) {
            return None;
        }
        let (slot, kind) = match status {
            ExecutionStatus::Failed => (0usize, RetryableFailureType::Failed),
            ExecutionStatus::TimedOut => (1usize, RetryableFailureType::TimedOut),
            ExecutionStatus::Queued
            | ExecutionStatus::InProgress
            | ExecutionStatus::Succeeded
            | ExecutionStatus::Rejected
            | ExecutionStatus::Removed
            | ExecutionStatus::Canceled => return None,
        };
        let p = self.pair(e.job, e.thing)?;
        let used = self.pairs.at(p)?.1.retries;
        let [failed, timed_out] = used;
        if u16::from(failed).saturating_add(u16::from(timed_out))
            >= u16::from(crate::config::RetryConfig::MAX_TOTAL)
        {
            return None;
        }
        // The criterion for this failure type, else one for ALL.
        let all = |c: &RetryCriterion| c.failure == RetryableFailureType::All;
        let criterion = j
            .config
            .retry?
            .criteria()
            .find(|c| c.failure == kind)
            .or_else(|| j.config.retry?.criteria().find(all))?;
        let spent = match criterion.failure {
            RetryableFailureType::All => failed.saturating_add(timed_out),
            RetryableFailureType::Failed => failed,
            RetryableFailureType::TimedOut => timed_out,
        };
        (spent < criterion.retries).then_some((p, slot))
    }

    /// Whether the job's abort criteria are met (SPEC §6 Abort): after at least
    /// `minNumberOfExecutedThings` executions ended, the share of the failure type reached
    /// `thresholdPercentage`.
    fn abort_due(&self, job: u32) -> bool {
        let Some(j) = self.job_entry(job) else { return false };
        if !matches!(j.status, JobStatus::InProgress) {
            return false;
        }
        let Some(abort) = j.config.abort else { return false };
        let c = |s| u64::from(j.process.count(s));
        let (failed, rejected, timed_out) =
            (c(ExecutionStatus::Failed), c(ExecutionStatus::Rejected), c(ExecutionStatus::TimedOut));
        let executed = c(ExecutionStatus::Succeeded)
            .saturating_add(failed)
            .saturating_add(rejected)
            .saturating_add(timed_out);
        abort.criteria().any(|a| {
            let failures = match a.failure {
                FailureType::Failed => failed,
                FailureType::Rejected => rejected,
                FailureType::TimedOut => timed_out,
                FailureType::All => failed.saturating_add(rejected).saturating_add(timed_out),
            };
            executed >= u64::from(a.min_executed)
                && failures.saturating_mul(10_000)
                    >= u64::from(a.threshold_centipercent).saturating_mul(executed)
        })
    }

    /// Cancels the job for its abort criteria: only QUEUED executions (SPEC T8).
    fn abort(&mut self, job: u32, now: Timestamp, sink: &mut impl EventSink) -> Result<(), Rejection> {
        let reason = ReasonCode::new(ABORT_REASON).ok();
        self.cancel_job_at(job, CancelScope::Queued, false, reason.as_ref(), now, sink)
    }

    // ---- lookups ------------------------------------------------------------------------------

    fn job_index(&self, id: &JobId) -> Option<u32> {
        let jobs = &self.jobs;
        self.index
            .find(hash(Tag::Job, id.as_str().as_bytes()), |v| {
                let (tag, i) = untag(v);
                tag == Tag::Job as u32 && jobs.at(i).is_some_and(|(_, j)| j.id == *id)
            })
            .map(|v| untag(v).1)
    }

    fn thing_index(&self, name: &ThingName) -> Option<u32> {
        let things = &self.things;
        self.index
            .find(hash(Tag::Thing, name.as_str().as_bytes()), |v| {
                let (tag, i) = untag(v);
                tag == Tag::Thing as u32 && things.at(i).is_some_and(|(_, t)| t.name == *name)
            })
            .map(|v| untag(v).1)
    }

    /// The pair record of (job, thing).
    fn pair(&self, job: u32, thing: u32) -> Option<u32> {
        let pairs = &self.pairs;
        self.index
            .find(pair_hash(job, thing), |v| {
                let (tag, i) = untag(v);
                tag == Tag::Pair as u32 && pairs.at(i).is_some_and(|(_, p)| p.job == job && p.thing == thing)
            })
            .map(|v| untag(v).1)
    }

    /// The newest execution of (job, thing).
    fn newest(&self, job: u32, thing: u32) -> Option<u32> {
        let p = self.pair(job, thing)?;
        self.pairs.at(p).map(|(_, p)| p.newest).filter(|x| *x != NIL)
    }

    fn job_entry(&self, i: u32) -> Option<&JobEntry> {
        self.jobs.at(i).map(|(_, j)| j)
    }

    fn exec_entry(&self, i: u32) -> Option<&ExecutionEntry> {
        self.execs.at(i).map(|(_, e)| e)
    }

    fn find_job(&self, id: &JobId) -> Result<u32, Rejection> {
        self.job_index(id).ok_or(Rejection::NotFound(Resource::Job))
    }

    /// The execution of (job, thing) with `number`, or the newest.
    fn find_execution(
        &self,
        job: u32,
        thing: u32,
        number: Option<ExecutionNumber>,
    ) -> Result<u32, Rejection> {
        let mut i = self.newest(job, thing).ok_or(Rejection::NotFound(Resource::Execution))?;
        let Some(number) = number else { return Ok(i) };
        // The chain of one (job, thing) is short: one execution per attempt.
        while let Some(e) = self.exec_entry(i) {
            if e.number == number {
                return Ok(i);
            }
            i = e.pair_prev;
        }
        Err(Rejection::NotFound(Resource::Execution))
    }

    fn lookup_execution(
        &self,
        job: &JobId,
        thing: &ThingName,
        number: Option<ExecutionNumber>,
    ) -> Result<(u32, u32, u32), Rejection> {
        let j = self.find_job(job)?;
        let t = self.thing_index(thing).ok_or(Rejection::NotFound(Resource::Execution))?;
        let x = self.find_execution(j, t, number)?;
        Ok((j, t, x))
    }

    fn view(&self, x: u32) -> Option<ExecutionView<'_>> {
        let (key, entry) = self.execs.at(x)?;
        let job = self.job_entry(entry.job)?;
        let (_, thing) = self.things.at(entry.thing)?;
        let details = self.details.at(entry.details).map(|(_, d)| d);
        Some(ExecutionView { handle: ExecutionHandle(key), entry, job, thing: &thing.name, details })
    }

    fn view_or_missing(&self, x: u32) -> Result<ExecutionView<'_>, Rejection> {
        self.view(x).ok_or(Rejection::NotFound(Resource::Execution))
    }

    /// The execution a handle names, if it still exists.
    #[must_use]
    pub fn execution(&self, handle: ExecutionHandle) -> Option<ExecutionView<'_>> {
        self.execs.get(handle.0)?;
        self.view(handle.0.index)
    }

    /// The job a handle names, if it still exists.
    #[must_use]
    pub fn job_by_handle(&self, handle: JobHandle) -> Option<JobView<'_>> {
        self.jobs.get(handle.0).map(|entry| JobView { handle, entry })
    }

    /// DescribeJob (SPEC 4.1): DELETION_IN_PROGRESS is reported until the deletion completes.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown job.
    pub fn job(&self, id: &JobId) -> Result<JobView<'_>, Rejection> {
        let i = self.find_job(id)?;
        let (key, entry) = self.jobs.at(i).ok_or(Rejection::NotFound(Resource::Job))?;
        Ok(JobView { handle: JobHandle(key), entry })
    }

    /// Every job, in table order.
    pub fn jobs(&self) -> impl Iterator<Item = JobView<'_>> {
        (0..self.jobs.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter_map(|i| self.jobs.at(i).map(|(key, entry)| JobView { handle: JobHandle(key), entry }))
    }

    /// The thing named `name`, if registered.
    #[must_use]
    pub fn thing(&self, name: &ThingName) -> Option<ThingHandle> {
        let i = self.thing_index(name)?;
        self.things.at(i).filter(|(_, t)| t.registered).map(|(key, _)| ThingHandle(key))
    }

    /// Every registered thing, in table order.
    pub fn things(&self) -> impl Iterator<Item = &ThingName> {
        (0..self.things.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter_map(|i| self.things.at(i))
            .filter(|(_, t)| t.registered)
            .map(|(_, t)| &t.name)
    }

    // ---- pending lists ------------------------------------------------------------------------

    /// The head of a thing's pending list (R15, SPEC T2).
    fn head(&self, thing: u32) -> u32 {
        match self.things.at(thing) {
            Some((_, t)) if t.in_progress.head != NIL => t.in_progress.head,
            Some((_, t)) => t.queued.head,
            None => NIL,
        }
    }

    fn watch(&self, thing: u32) -> Watch {
        Watch { thing, head: self.head(thing), changed: false }
    }

    /// Emits `notify` / `notify-next` for a watched thing (R15).
    fn settle(&self, w: Watch, sink: &mut impl EventSink) {
        let Some((_, t)) = self.things.at(w.thing) else { return };
        if w.changed {
            sink.push(Event::Notify(t.name.clone()));
        }
        if self.head(w.thing) != w.head {
            sink.push(Event::NotifyNext(t.name.clone()));
        }
    }

    /// Walks a thing's pending list: IN_PROGRESS first, then QUEUED, each in queue order.
    fn pending_iter(&self, thing: u32) -> impl Iterator<Item = u32> + '_ {
        let (ip, q) = self.things.at(thing).map_or((NIL, NIL), |(_, t)| (t.in_progress.head, t.queued.head));
        let next = move |i: &u32| self.exec_entry(*i).map(|e| e.pending_link.next).filter(|n| *n != NIL);
        let first = core::iter::successors(Some(ip).filter(|i| *i != NIL), next);
        let second = core::iter::successors(Some(q).filter(|i| *i != NIL), next);
        first.chain(second)
    }

    fn thing_for_device(&self, thing: &ThingName) -> Result<Option<u32>, Rejection> {
        match (self.thing_index(thing), self.policy.unknown_thing) {
            (Some(t), UnknownThing::Empty | UnknownThing::NotFound) => Ok(Some(t)),
            // SPEC R19: the data plane looks up executions, not the thing registry.
            (None, UnknownThing::Empty) => Ok(None),
            (None, UnknownThing::NotFound) => Err(Rejection::NotFound(Resource::Thing)),
        }
    }

    /// GetPendingJobExecutions (SPEC 4.3, R12, R19): calls `visit` for at most the policy's cap of
    /// pending executions, IN_PROGRESS first, then QUEUED, each in queue order.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing only under [`UnknownThing::NotFound`].
    pub fn pending(
        &self,
        thing: &ThingName,
        mut visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<(), Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(()) };
        // SPEC R12: at most the cap.
        for x in self.pending_iter(t).take(self.policy.pending_cap.get()) {
            if let Some(v) = self.view(x) {
                visit(v);
            }
        }
        Ok(())
    }

    /// DescribeJobExecution with `$next` (SPEC 4.3): the head of the pending list, if any.
    ///
    /// # Errors
    /// As [`Registry::pending`].
    pub fn next_pending(&self, thing: &ThingName) -> Result<Option<ExecutionView<'_>>, Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(None) };
        Ok(self.view(self.head(t)))
    }

    // ---- list plumbing ------------------------------------------------------------------------

    fn links_mut(&mut self, x: u32, which: Which) -> Option<&mut Links> {
        let e = self.execs.at_mut(x)?;
        Some(match which {
            Which::Job => &mut e.job_link,
            Which::Thing => &mut e.thing_link,
            Which::Pending => &mut e.pending_link,
        })
    }

    fn push_back(&mut self, mut list: List, x: u32, which: Which) -> List {
        let tail = list.tail;
        if let Some(l) = self.links_mut(x, which) {
            *l = Links { prev: tail, next: NIL };
        }
        match self.links_mut(tail, which) {
            Some(l) => l.next = x,
            None => list.head = x,
        }
        list.tail = x;
        list.len = list.len.saturating_add(1);
        list
    }

    fn unlink(&mut self, mut list: List, x: u32, which: Which) -> List {
        let Some(&mut Links { prev, next }) = self.links_mut(x, which) else { return list };
        match self.links_mut(prev, which) {
            Some(l) => l.next = next,
            None => list.head = next,
        }
        match self.links_mut(next, which) {
            Some(l) => l.prev = prev,
            None => list.tail = prev,
        }
        if let Some(l) = self.links_mut(x, which) {
            *l = Links::NONE;
        }
        list.len = list.len.saturating_sub(1);
        list
    }

    /// Puts a pending execution at the end of its thing's IN_PROGRESS or QUEUED list.
    fn attach_pending(&mut self, x: u32) {
        let Some(e) = self.exec_entry(x) else { return };
        let (thing, status) = (e.thing, e.status);
        let Some((_, t)) = self.things.at(thing) else { return };
        let in_progress = match status {
            ExecutionStatus::InProgress => true,
            ExecutionStatus::Queued => false,
            ExecutionStatus::Succeeded
            | ExecutionStatus::Failed
            | ExecutionStatus::TimedOut
            | ExecutionStatus::Rejected
            | ExecutionStatus::Removed
            | ExecutionStatus::Canceled => return,
        };
        let list = if in_progress { t.in_progress } else { t.queued };
        // SPEC 7.2, T2: each list in queue (creation) order, which is the order of the thing's
        // list of all executions. The newest execution goes last; an older one (starting, or
        // listed again when a window opens) goes after the nearest older one in the same list.
        let mut before = self.exec_entry(x).map_or(NIL, |e| e.thing_link.prev);
        while let Some(e) = self.exec_entry(before) {
            let linked = e.pending_link != Links::NONE || list.head == before;
            if linked && e.status == status {
                break;
            }
            before = e.thing_link.prev;
        }
        let list = self.insert_after(list, before, x);
        if let Some(t) = self.things.at_mut(thing) {
            if in_progress {
                t.in_progress = list;
            } else {
                t.queued = list;
            }
        }
    }

    /// Links `x` into a pending list after `before` (or first, for `NIL`).
    fn insert_after(&mut self, mut list: List, before: u32, x: u32) -> List {
        let next = match self.exec_entry(before) {
            Some(b) => b.pending_link.next,
            None => list.head,
        };
        if let Some(l) = self.links_mut(x, Which::Pending) {
            *l = Links { prev: before, next };
        }
        match self.links_mut(before, Which::Pending) {
            Some(l) => l.next = x,
            None => list.head = x,
        }
        match self.links_mut(next, Which::Pending) {
            Some(l) => l.prev = x,
            None => list.tail = x,
        }
        list.len = list.len.saturating_add(1);
        list
    }

    /// Takes an execution out of its thing's pending list, if it is in one.
    fn detach_pending(&mut self, x: u32) {
        let Some(e) = self.exec_entry(x) else { return };
        let (thing, status, linked) = (e.thing, e.status, e.pending_link);
        let Some((_, t)) = self.things.at(thing) else { return };
        let in_list = linked != Links::NONE || t.in_progress.head == x || t.queued.head == x;
        if !in_list {
            return;
        }
        let in_progress = matches!(status, ExecutionStatus::InProgress);
        let list = if in_progress { t.in_progress } else { t.queued };
        let list = self.unlink(list, x, Which::Pending);
        if let Some(t) = self.things.at_mut(thing) {
            if in_progress {
                t.in_progress = list;
            } else {
                t.queued = list;
            }
        }
    }

    // ---- the one place an execution's status changes -----------------------------------------

    /// Applies a status change decided by the rules: counters, pending lists, version (R6),
    /// timestamps, the lifecycle event. Returns whether pending-list membership changed.
    fn set_status(
        &mut self,
        x: u32,
        to: ExecutionStatus,
        actor: Actor,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<bool, Rejection> {
        let e = self.exec_entry(x).ok_or(Rejection::NotFound(Resource::Execution))?;
        let (from, job) = (e.status, e.job);
        let version = rules::version_after(e.version, actor, &self.policy)?;
        let (job_status, timeout) = self.job_entry(job).map_or((JobStatus::DeletionInProgress, None), |j| {
            (j.status, j.config.in_progress_timeout_minutes)
        });
        let (was_listed, now_listed) =
            (rules::listed_to_device(job_status, from), rules::listed_to_device(job_status, to));
        // A progress report (IN_PROGRESS → IN_PROGRESS) keeps its place (SPEC 7.2, T3).
        let moves = from != to;
        if was_listed && moves {
            self.detach_pending(x);
        }
        let mut deadline = None;
        if let Some(e) = self.execs.at_mut(x) {
            e.status = to;
            e.version = version;
            e.last_updated_at = now;
            match to {
                // SPEC T7: the in-progress timer starts when the execution enters IN_PROGRESS;
                // IN_PROGRESS → IN_PROGRESS keeps it.
                ExecutionStatus::InProgress => {
                    if from == ExecutionStatus::Queued {
                        e.started_at = Some(now);
                        e.timeout_at =
                            timeout.map_or(NEVER, |m| now.saturating_add(u64::from(m).saturating_mul(60)));
                        e.deadline = e.timeout_at;
                        deadline = Some(e.deadline);
                    }
                }
                // SPEC T7: QUEUED executions never time out; terminal ones no longer can.
                ExecutionStatus::Queued
                | ExecutionStatus::Succeeded
                | ExecutionStatus::Failed
                | ExecutionStatus::TimedOut
                | ExecutionStatus::Rejected
                | ExecutionStatus::Removed
                | ExecutionStatus::Canceled => e.deadline = NEVER,
            }
        }
        if let Some(at) = deadline {
            self.arm(at, 0, tagged(Tag::Execution, x));
        }
        if now_listed && moves {
            self.attach_pending(x);
        }
        if let Some(j) = self.jobs.at_mut(job) {
            j.process.add(from, -1);
            j.process.add(to, 1);
            j.last_updated_at = now;
        }
        // SPEC 7.4: an execution event when it reaches a terminal status.
        if !from.is_terminal()
            && let Some(event) = ExecutionEvent::for_status(to)
        {
            self.emit_execution(x, event, sink);
        }
        let membership = was_listed != now_listed;
        let notify_anyway =
            matches!(self.policy.notify_on, NotifyOn::EveryNonTerminalChange) && now_listed && from != to;
        Ok(membership || notify_anyway)
    }

    fn emit_execution(&self, x: u32, event: ExecutionEvent, sink: &mut impl EventSink) {
        if let Some(v) = self.view(x) {
            sink.push(Event::Execution {
                job: v.job_id().clone(),
                thing: v.thing_name().clone(),
                number: v.number(),
                event,
            });
        }
    }

    /// Completes the job if SPEC §2 says so now.
    fn maybe_complete(&mut self, job: u32, now: Timestamp, sink: &mut impl EventSink) {
        let Some(j) = self.job_entry(job) else { return };
        let end_passed = j.config.schedule.and_then(|s| s.end()).is_some_and(|(end, _)| now >= end);
        // Targets still waiting for a paced rollout count as not terminal.
        let all_terminal = j.process.pending() == 0 && j.rollout_next == NIL;
        if rules::job_completes(j.status, j.selection, all_terminal, end_passed) {
            let id = j.id.clone();
            if let Some(j) = self.jobs.at_mut(job) {
                j.status = JobStatus::Completed;
                j.completed_at = Some(now);
                j.last_updated_at = now;
            }
            sink.push(Event::Job { job: id, event: JobEvent::Completed });
        }
    }

    fn ensure_room(sink: &impl EventSink, events: usize) -> Result<(), Rejection> {
        if sink.room() < events { Err(Rejection::Throttled) } else { Ok(()) }
    }

    // ---- statusDetails --------------------------------------------------------------------------

    /// The stored map after a write of `new` (R14), encoded; checked before anything changes.
    fn details_after(&self, x: u32, new: StatusDetails<'_>) -> Result<Option<DetailsBuf>, Rejection> {
        let full = Rejection::CapacityExhausted(Table::StatusDetails);
        let merged;
        let pairs: &[(&str, &str)] = match self.policy.details_write {
            // SPEC R14: a write that carries statusDetails replaces the map.
            DetailsWrite::Replace => new.pairs(),
            // SPEC R14 alternative: given keys overwrite or add.
            DetailsWrite::Merge => {
                let old = self.exec_entry(x).and_then(|e| self.details.at(e.details)).map(|(_, d)| d);
                let kept = old.into_iter().flat_map(DetailsBuf::pairs).filter(|(k, _)| new.get(k).is_none());
                let len = kept.clone().count().saturating_add(new.len());
                // Still at most 10 pairs (SPEC R14).
                let too_many = crate::id::FieldError {
                    field: crate::id::Field::StatusDetails,
                    violation: crate::id::Violation::TooManyPairs { max: StatusDetails::MAX_PAIRS, len },
                };
                let mut all: heapless::Vec<(&str, &str), { StatusDetails::MAX_PAIRS }> = heapless::Vec::new();
                for p in kept.chain(new.pairs().iter().copied()) {
                    all.push(p).map_err(|_| Rejection::InvalidField(too_many))?;
                }
                merged = all;
                &merged
            }
        };
        if pairs.is_empty() {
            return Ok(None);
        }
        DetailsBuf::encode(pairs).map(Some).ok_or(full)
    }

    /// The map to store for a write that carries `details` (`None`: the write leaves the map
    /// alone), checked against the details table's room before anything changes.
    fn prepare_details(
        &self,
        x: u32,
        details: Option<StatusDetails<'_>>,
    ) -> Result<Option<Option<DetailsBuf>>, Rejection> {
        let Some(details) = details else { return Ok(None) };
        let after = self.details_after(x, details)?;
        let has_slot = self.exec_entry(x).is_some_and(|e| self.details.at(e.details).is_some());
        if after.is_some() && !has_slot && self.details.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::StatusDetails));
        }
        Ok(Some(after))
    }

    fn store_details(&mut self, x: u32, after: Option<DetailsBuf>) {
        let Some(current) = self.exec_entry(x).map(|e| e.details) else { return };
        match (after, self.details.at_mut(current)) {
            (Some(buf), Some(slot)) => *slot = buf,
            (Some(buf), None) => {
                let slot = self.details.insert(buf).map_or(NIL, |k| k.index);
                if let Some(e) = self.execs.at_mut(x) {
                    e.details = slot;
                }
            }
            (None, _) => self.free_details(x),
        }
    }

    fn free_details(&mut self, x: u32) {
        let Some(current) = self.exec_entry(x).map(|e| e.details) else { return };
        if let Some((key, _)) = self.details.at(current) {
            self.details.remove(key);
        }
        if let Some(e) = self.execs.at_mut(x) {
            e.details = NIL;
        }
    }

    /// A fresh stamp for [`Self::first_visit`]; on wrap-around every mark is cleared first.
    fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            for i in 0..self.things.len() {
                if let Some(t) = u32::try_from(i).ok().and_then(|i| self.things.at_mut(i)) {
                    t.mark = 0;
                }
            }
            self.stamp = 1;
        }
        self.stamp
    }

    /// True the first time `stamp` visits thing `t`.
    fn first_visit(&mut self, t: u32, stamp: u32) -> bool {
        match self.things.at_mut(t) {
            Some(e) if e.mark != stamp => {
                e.mark = stamp;
                true
            }
            Some(_) | None => false,
        }
    }

    // ---- things -------------------------------------------------------------------------------

    /// Registers a thing (CreateThing); registering a known thing again is a no-op.
    ///
    /// # Errors
    /// `CapacityExhausted(Things)` when the things table or the index is full.
    pub fn add_thing(&mut self, name: &ThingName) -> Result<ThingHandle, Rejection> {
        if let Some(i) = self.thing_index(name) {
            if let Some(t) = self.things.at_mut(i) {
                t.registered = true;
            }
            return self
                .things
                .at(i)
                .map(|(k, _)| ThingHandle(k))
                .ok_or(Rejection::NotFound(Resource::Thing));
        }
        if self.things.room() == 0 || self.index.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Things));
        }
        let entry = ThingEntry {
            name: name.clone(),
            registered: true,
            in_progress: List::EMPTY,
            queued: List::EMPTY,
            all: List::EMPTY,
            pairs: 0,
            mark: 0,
        };
        let key = self.things.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Things))?;
        self.index.insert(hash(Tag::Thing, name.as_str().as_bytes()), tagged(Tag::Thing, key.index));
        Ok(ThingHandle(key))
    }

    /// Deletes a thing (DeleteThing): its pending executions become REMOVED (SPEC T10, R10); its
    /// executions stay listable until they are deleted.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing; `Throttled` when the sink has no room.
    pub fn remove_thing(
        &mut self,
        name: &ThingName,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let t = self.thing_index(name).filter(|t| self.things.at(*t).is_some_and(|(_, e)| e.registered));
        let t = t.ok_or(Rejection::NotFound(Resource::Thing))?;
        let removes = |r: &Self, e: &ExecutionEntry| {
            // Executions of a job being deleted are going anyway.
            let deleting = r.job_entry(e.job).is_none_or(|j| j.status == JobStatus::DeletionInProgress);
            (!deleting).then(|| rules::remove_target(e.status, &r.policy)).flatten()
        };
        let head = self.things.at(t).map_or(NIL, |(_, e)| e.all.head);
        let affected = core::iter::successors(Some(head).filter(|x| *x != NIL), |x| {
            self.exec_entry(*x).map(|e| e.thing_link.next).filter(|n| *n != NIL)
        })
        .filter(|x| self.exec_entry(*x).is_some_and(|e| removes(self, e).is_some()))
        .count();
        // One event per removed execution and per job that completes, plus notify, notify-next.
        Self::ensure_room(sink, affected.saturating_mul(2).saturating_add(2))?;
        let mut w = self.watch(t);
        let mut x = head;
        while let Some(e) = self.exec_entry(x) {
            let (next, job, to) = (e.thing_link.next, e.job, removes(self, e));
            if let Some(to) = to {
                w.changed |= self.set_status(x, to, Actor::Service, now, sink)?;
                self.maybe_complete(job, now, sink);
            }
            x = next;
        }
        if let Some(e) = self.things.at_mut(t) {
            e.registered = false;
        }
        self.settle(w, sink);
        self.forget_thing_if_unused(t);
        Ok(())
    }

    fn forget_thing_if_unused(&mut self, t: u32) {
        let Some((key, e)) = self.things.at(t) else { return };
        // Executions imply pairs (a pair lives as long as its job), so pairs cover both.
        if e.registered || e.pairs > 0 {
            return;
        }
        let h = hash(Tag::Thing, e.name.as_str().as_bytes());
        let Self { index, jobs, things, pairs, .. } = self;
        index.remove(h, tagged(Tag::Thing, t), |v| hash_of_parts(jobs, things, pairs, v));
        things.remove(key);
    }

    // ---- jobs ---------------------------------------------------------------------------------

    /// CreateJob (SPEC 4.1, 4.2): a new job, IN_PROGRESS or SCHEDULED, with one QUEUED execution
    /// per target when it starts now.
    ///
    /// # Errors
    /// `ResourceAlreadyExistsException` for a used id (also while its deletion is in progress);
    /// `ResourceNotFoundException` for a target that is not a registered thing;
    /// `InvalidRequestException` for no targets or a bad configuration; capacity and sink limits.
    pub fn create_job(
        &mut self,
        job: &NewJob<'_>,
        targets: &[ThingName],
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<JobHandle, Rejection> {
        // The request's own values first (see `rules`), then the state. An empty `targets` is
        // fine here: the request named target groups that have no things yet (the "at least one
        // target" rule of SPEC §5 is about the request's ARNs, which the host checks).
        job.config.validate()?;
        // SPEC §2: the id is reusable only once its deletion completed.
        rules::job_id_available(self.job_index(job.id).and_then(|j| self.job_entry(j)).map(|j| j.status))?;
        let stamp = self.next_stamp();
        let mut distinct = 0usize;
        for name in targets {
            // SPEC 4.2 CreateJob: targets must be registered things.
            let t = self.thing(name).ok_or(Rejection::NotFound(Resource::Thing))?.0.index;
            if self.first_visit(t, stamp) {
                distinct = distinct.saturating_add(1);
            }
        }
        let scheduled = job.config.schedule.and_then(|s| s.start()).is_some_and(|start| start > now);
        let status = rules::create_job(scheduled);
        // SPEC §6 Rollout: the first batch goes out now, the rest a minute at a time.
        let batch =
            job.config.maximum_per_minute.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        let execs = if scheduled { 0 } else { distinct.min(batch) };
        if self.jobs.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Jobs));
        }
        if self.execs.room() < execs || self.pairs.room() < distinct {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        if self.index.room() < distinct.saturating_add(1) {
            return Err(Rejection::CapacityExhausted(Table::Jobs));
        }
        // Per execution: notify, notify-next; and the job's `completed` if it has nothing to do.
        Self::ensure_room(sink, execs.saturating_mul(2).saturating_add(1))?;

        let entry = JobEntry {
            id: job.id.clone(),
            status,
            selection: job.selection,
            namespace: job.namespace.cloned(),
            created_at: now,
            last_updated_at: now,
            completed_at: None,
            reason_code: None,
            force_canceled: false,
            process: ProcessDetails::default(),
            targets: u32::try_from(distinct).unwrap_or(u32::MAX),
            config: job.config,
            executions: List::EMPTY,
            pairs: List::EMPTY,
            rollout_next: NIL,
            rollout_at: NEVER,
            ended: false,
            started: !scheduled,
            seq: self.job_seq,
        };
        self.job_seq = self.job_seq.saturating_add(1);
        let key = self.jobs.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Jobs))?;
        self.index.insert(hash(Tag::Job, job.id.as_str().as_bytes()), tagged(Tag::Job, key.index));
        // The targets, as pairs in target order; a repeated target is one pair.
        for name in targets {
            let t = self.thing_index(name).unwrap_or(NIL);
            if self.pair(key.index, t).is_none() {
                let p = self.new_pair(key.index, t)?;
                if let Some(p) = self.pairs.at_mut(p) {
                    p.target = true;
                }
            }
        }
        let first = self.job_entry(key.index).map_or(NIL, |e| e.pairs.head);
        if let Some(e) = self.jobs.at_mut(key.index) {
            e.rollout_next = first;
        }
        if scheduled {
            self.arm_job(key.index);
        } else {
            self.roll_out_batch(key.index, now, sink)?;
            // SPEC §2: a SNAPSHOT job with no things completes at once.
            self.maybe_complete(key.index, now, sink);
        }
        Ok(JobHandle(key))
    }

    /// Creates the next QUEUED execution of (job, thing) (SPEC T1, R7). Room was checked.
    fn queue_execution(
        &mut self,
        job: u32,
        thing: u32,
        retry_attempt: u8,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<u32, Rejection> {
        let p = match self.pair(job, thing) {
            Some(p) => p,
            None => self.new_pair(job, thing)?,
        };
        let (newest, highest) = self.pairs.at(p).map_or((NIL, None), |(_, p)| (p.newest, Some(p.highest)));
        let existing = self.exec_entry(newest).map(|e| e.number);
        // SPEC R7: next = 1 + highest existing (default) or 1 + highest ever (Monotonic).
        let number = rules::next_execution_number(existing, highest.flatten(), &self.policy)?;
        let mut w = self.watch(thing);
        let entry = ExecutionEntry {
            job,
            thing,
            number,
            version: VersionNumber::INITIAL,
            status: ExecutionStatus::Queued,
            force_canceled: false,
            retry_attempt,
            queued_at: now,
            started_at: None,
            last_updated_at: now,
            timeout_at: NEVER,
            deadline: NEVER,
            details: NIL,
            pair_prev: newest,
            job_link: Links::NONE,
            thing_link: Links::NONE,
            pending_link: Links::NONE,
        };
        let key = self.execs.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Executions))?;
        let x = key.index;
        if let Some(pair) = self.pairs.at_mut(p) {
            pair.newest = x;
            pair.highest = pair.highest.max(Some(number));
        }
        if let Some(list) = self.job_entry(job).map(|j| j.executions) {
            let list = self.push_back(list, x, Which::Job);
            if let Some(j) = self.jobs.at_mut(job) {
                j.executions = list;
                j.process.add(ExecutionStatus::Queued, 1);
            }
        }
        if let Some(list) = self.things.at(thing).map(|(_, t)| t.all) {
            let list = self.push_back(list, x, Which::Thing);
            if let Some(t) = self.things.at_mut(thing) {
                t.all = list;
            }
        }
        if self.job_entry(job).is_some_and(|j| rules::listed_to_device(j.status, ExecutionStatus::Queued)) {
            self.attach_pending(x);
            w.changed = true;
        }
        self.settle(w, sink);
        Ok(x)
    }

    /// A new pair record for (job, thing); room in the pairs table and the index was checked.
    fn new_pair(&mut self, job: u32, thing: u32) -> Result<u32, Rejection> {
        let entry = PairEntry {
            job,
            thing,
            newest: NIL,
            highest: None,
            job_link: Links::NONE,
            retries: [0; 2],
            target: false,
        };
        let key = self.pairs.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Executions))?;
        let p = key.index;
        if !self.index.insert(pair_hash(job, thing), tagged(Tag::Pair, p)) {
            self.pairs.remove(key);
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        if let Some(list) = self.job_entry(job).map(|j| j.pairs) {
            let list = self.push_back_pair(list, p);
            if let Some(j) = self.jobs.at_mut(job) {
                j.pairs = list;
            }
        }
        if let Some(t) = self.things.at_mut(thing) {
            t.pairs = t.pairs.saturating_add(1);
        }
        Ok(p)
    }

    fn push_back_pair(&mut self, mut list: List, p: u32) -> List {
        let tail = list.tail;
        if let Some(e) = self.pairs.at_mut(p) {
            e.job_link = Links { prev: tail, next: NIL };
        }
        match self.pairs.at_mut(tail) {
            Some(e) => e.job_link.next = p,
            None => list.head = p,
        }
        list.tail = p;
        list.len = list.len.saturating_add(1);
        list
    }

    /// Frees a pair record: index, job list, thing count.
    fn remove_pair(&mut self, p: u32) {
        let Some((key, e)) = self.pairs.at(p) else { return };
        let (job, thing, Links { prev, next }) = (e.job, e.thing, e.job_link);
        let Self { index, jobs, things, pairs, .. } = self;
        index.remove(pair_hash(job, thing), tagged(Tag::Pair, p), |v| hash_of_parts(jobs, things, pairs, v));
        match self.pairs.at_mut(prev) {
            Some(e) => e.job_link.next = next,
            None => {
                if let Some(j) = self.jobs.at_mut(job) {
                    j.pairs.head = next;
                }
            }
        }
        match self.pairs.at_mut(next) {
            Some(e) => e.job_link.prev = prev,
            None => {
                if let Some(j) = self.jobs.at_mut(job) {
                    j.pairs.tail = prev;
                }
            }
        }
        if let Some(j) = self.jobs.at_mut(job) {
            j.pairs.len = j.pairs.len.saturating_sub(1);
        }
        self.pairs.remove(key);
        if let Some(t) = self.things.at_mut(thing) {
            t.pairs = t.pairs.saturating_sub(1);
        }
        self.forget_thing_if_unused(thing);
    }

    /// AssociateTargetsWithJob with thing targets (SPEC §2, T1, T13): each thing without a
    /// pending execution of the job gets a new QUEUED one, and counts toward the job's 100
    /// targets. Returns how many were queued.
    ///
    /// # Errors
    /// As [`rules::associate_targets`]; unknown job or thing; capacity and sink limits.
    pub fn add_targets(
        &mut self,
        job: &JobId,
        targets: &[ThingName],
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<usize, Rejection> {
        self.roll_out_to(job, targets, true, now, sink)
    }

    /// Things that joined a group a CONTINUOUS job targets (SPEC T1, T13): like
    /// [`Registry::add_targets`], but the group is the job's target, so nothing is counted
    /// toward its 100 targets.
    ///
    /// # Errors
    /// As [`Registry::add_targets`], without the target limit.
    pub fn add_members(
        &mut self,
        job: &JobId,
        things: &[ThingName],
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<usize, Rejection> {
        self.roll_out_to(job, things, false, now, sink)
    }

    fn roll_out_to(
        &mut self,
        job: &JobId,
        targets: &[ThingName],
        counted: bool,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<usize, Rejection> {
        let j = self.find_job(job)?;
        let entry = self.job_entry(j).ok_or(Rejection::NotFound(Resource::Job))?;
        let (status, selection, mut count) = (entry.status, entry.selection, entry.targets);
        let stamp = self.next_stamp();
        let (mut fresh, mut new_targets, mut queue) = (0usize, 0usize, 0usize);
        for name in targets {
            let t = self.thing(name).ok_or(Rejection::NotFound(Resource::Thing))?.0.index;
            if !self.first_visit(t, stamp) {
                continue;
            }
            let pair = self.pair(j, t).and_then(|p| self.pairs.at(p)).map(|(_, p)| p.target);
            if pair.is_none() {
                fresh = fresh.saturating_add(1);
            }
            // SPEC §2: the 100 counts distinct things targeted, once each.
            if pair != Some(true) {
                new_targets = new_targets.saturating_add(1);
            }
            let newest = self.newest(j, t).and_then(|x| self.exec_entry(x));
            if newest.is_none_or(|e| e.status.is_terminal()) {
                queue = queue.saturating_add(1);
            }
        }
        if counted {
            count = count.saturating_add(u32::try_from(new_targets).unwrap_or(u32::MAX));
        }
        rules::associate_targets(status, selection, usize::try_from(count).unwrap_or(usize::MAX))?;
        if self.execs.room() < queue || self.pairs.room() < fresh || self.index.room() < fresh {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        Self::ensure_room(sink, queue.saturating_mul(2))?;
        let mut queued = 0usize;
        for name in targets {
            let t = self.thing_index(name).unwrap_or(NIL);
            // A repeated target was queued a moment ago, so it is pending now and skipped.
            if self.newest(j, t).and_then(|x| self.exec_entry(x)).is_none_or(|e| e.status.is_terminal()) {
                let retry = 0;
                self.queue_execution(j, t, retry, now, sink)?;
                queued = queued.saturating_add(1);
            }
            if counted && let Some(p) = self.pair(j, t).and_then(|p| self.pairs.at_mut(p)) {
                p.target = true;
            }
        }
        if let Some(e) = self.jobs.at_mut(j) {
            e.targets = count;
            e.last_updated_at = now;
        }
        Ok(queued)
    }

    /// A thing leaves a job's targets (a CONTINUOUS job's group lost it): its pending execution
    /// becomes REMOVED (SPEC T10, R10).
    ///
    /// # Errors
    /// Unknown job or execution; sink limits.
    pub fn remove_target(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let (j, t, x) = self.lookup_execution(job, thing, None)?;
        Self::ensure_room(sink, 4)?;
        let status = self.exec_entry(x).map(|e| e.status).ok_or(Rejection::NotFound(Resource::Execution))?;
        let mut w = self.watch(t);
        if let Some(to) = rules::remove_target(status, &self.policy) {
            w.changed |= self.set_status(x, to, Actor::Service, now, sink)?;
            self.maybe_complete(j, now, sink);
        }
        self.settle(w, sink);
        Ok(())
    }

    /// CancelJob (SPEC 4.2, R3, R5, T8, T9): the job becomes CANCELED and its QUEUED (with
    /// force, also IN_PROGRESS) executions CANCELED.
    ///
    /// # Errors
    /// As [`rules::cancel_job`]; unknown job; sink limits.
    pub fn cancel_job(
        &mut self,
        job: &JobId,
        force: bool,
        reason_code: Option<&ReasonCode>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let j = self.find_job(job)?;
        let entry = self.job_entry(j).ok_or(Rejection::NotFound(Resource::Job))?;
        let decision = rules::cancel_job(entry.status, force, &self.policy)?;
        self.cancel_job_at(j, decision.scope, decision.force_canceled, reason_code, now, sink)
    }

    /// Cancels job `j` (CancelJob, abort, a schedule's end): the executions in `scope` become
    /// CANCELED, then the job; nothing more rolls out.
    fn cancel_job_at(
        &mut self,
        j: u32,
        scope: CancelScope,
        force_canceled: bool,
        reason_code: Option<&ReasonCode>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let affected = self.job_executions(j).filter(|x| self.cancels(*x, scope)).count();
        // Per canceled execution: its event, notify, notify-next; the job's two events.
        Self::ensure_room(sink, affected.saturating_mul(3).saturating_add(2))?;
        let id = self.job_entry(j).map(|e| e.id.clone()).ok_or(Rejection::NotFound(Resource::Job))?;
        sink.push(Event::Job { job: id.clone(), event: JobEvent::CancellationInProgress });
        let mut x = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        while let Some(e) = self.exec_entry(x) {
            let (next, status, thing) = (e.job_link.next, e.status, e.thing);
            if let Some(to) = rules::cancel_job_execution_effect(status, scope) {
                let mut w = self.watch(thing);
                w.changed |= self.set_status(x, to, Actor::ControlPlane, now, sink)?;
                if let Some(e) = self.execs.at_mut(x) {
                    e.force_canceled = force_canceled;
                }
                self.settle(w, sink);
            }
            x = next;
        }
        if let Some(e) = self.jobs.at_mut(j) {
            e.status = JobStatus::Canceled;
            e.force_canceled = force_canceled;
            e.last_updated_at = now;
            e.rollout_next = NIL;
            e.rollout_at = NEVER;
            if let Some(r) = reason_code {
                e.reason_code = Some(r.clone());
            }
        }
        sink.push(Event::Job { job: id, event: JobEvent::Canceled });
        Ok(())
    }

    /// A job's schedule event (SPEC §2 SCHEDULED, §6 Scheduling, rollout pacing): its start,
    /// the next batch of a paced rollout, its end.
    fn job_event(&mut self, j: u32, now: Timestamp, sink: &mut impl EventSink) -> Result<(), Rejection> {
        // Room for a completion; the starts, batches and cancels check their own.
        Self::ensure_room(sink, 1)?;
        let Some(e) = self.job_entry(j) else { return Ok(()) };
        let (status, schedule, ended) = (e.status, e.config.schedule, e.ended);
        let start = schedule.and_then(|s| s.start());
        let end = schedule.and_then(|s| s.end());
        // SPEC §2: SCHEDULED until startTime (maintenance windows are the host's calls).
        let started = self.job_entry(j).is_some_and(|e| e.started);
        if status == JobStatus::Scheduled
            && !started
            && start.is_some_and(|s| s <= now)
            && end.is_none_or(|(e, _)| now < e)
        {
            self.start_rollout(j, now, sink)?;
        } else if status == JobStatus::InProgress
            && self.job_entry(j).is_some_and(|e| e.rollout_next != NIL && e.rollout_at <= now)
        {
            self.roll_out_batch(j, now, sink)?;
        }
        if let Some((_, behavior)) = end.filter(|(at, _)| *at <= now && !ended) {
            if let Some(e) = self.jobs.at_mut(j) {
                e.ended = true;
                // AMBIG-12: every end behaviour stops the rollout.
                e.rollout_next = NIL;
                e.rollout_at = NEVER;
            }
            // The job is live here: `next_event` offers an end only for a live job.
            match behavior {
                // AMBIG-12: STOP_ROLLOUT leaves existing executions alone.
                JobEndBehavior::StopRollout => {}
                // AMBIG-12: CANCEL cancels QUEUED; FORCE_CANCEL also IN_PROGRESS.
                JobEndBehavior::Cancel => {
                    self.cancel_job_at(j, CancelScope::Queued, false, None, now, sink)?
                }
                JobEndBehavior::ForceCancel => {
                    self.cancel_job_at(j, CancelScope::QueuedAndInProgress, true, None, now, sink)?;
                }
            }
        }
        // SPEC §2: a job that started with nothing to do, or whose end passed, may be complete.
        self.maybe_complete(j, now, sink);
        self.arm_job(j);
        Ok(())
    }

    /// Arms the job's next schedule event, if it has one.
    fn arm_job(&mut self, j: u32) {
        if let Some((at, order)) = self.job_entry(j).and_then(|e| Some((e.next_event()?, e.seq))) {
            self.arm(at, order, tagged(Tag::Job, j));
        }
    }

    /// SCHEDULED → IN_PROGRESS (startTime, or a maintenance window opening): QUEUED executions
    /// are listed again, and the rollout goes on.
    fn start_rollout(&mut self, j: u32, now: Timestamp, sink: &mut impl EventSink) -> Result<(), Rejection> {
        let queued = self
            .job_executions(j)
            .filter(|x| self.exec_entry(*x).is_some_and(|e| e.status == ExecutionStatus::Queued))
            .count();
        Self::ensure_room(sink, queued.saturating_mul(2))?;
        if let Some(e) = self.jobs.at_mut(j) {
            e.status = JobStatus::InProgress;
            e.started = true;
            e.last_updated_at = now;
        }
        let mut x = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        while let Some(e) = self.exec_entry(x) {
            let (next, thing, queued) = (e.job_link.next, e.thing, e.status == ExecutionStatus::Queued);
            if queued {
                let mut w = self.watch(thing);
                self.attach_pending(x);
                w.changed = true;
                self.settle(w, sink);
            }
            x = next;
        }
        self.roll_out_batch(j, now, sink)
    }

    /// Queues executions for the next targets without one: all of them, or one minute's worth
    /// under `maximumPerMinute` (SPEC §6 Rollout).
    fn roll_out_batch(&mut self, j: u32, now: Timestamp, sink: &mut impl EventSink) -> Result<(), Rejection> {
        let Some(e) = self.job_entry(j) else { return Ok(()) };
        let batch =
            e.config.maximum_per_minute.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        let mut p = e.rollout_next;
        let mut todo = 0usize;
        let mut q = p;
        while let Some((_, pair)) = self.pairs.at(q).filter(|_| todo < batch) {
            todo = todo.saturating_add(1);
            q = pair.job_link.next;
        }
        if self.execs.room() < todo {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        Self::ensure_room(sink, todo.saturating_mul(2))?;
        for _ in 0..todo {
            let Some((thing, next)) = self.pairs.at(p).map(|(_, pair)| (pair.thing, pair.job_link.next))
            else {
                break;
            };
            self.queue_execution(j, thing, 0, now, sink)?;
            p = next;
        }
        if let Some(e) = self.jobs.at_mut(j) {
            e.rollout_next = p;
            e.rollout_at = if p == NIL { NEVER } else { now.saturating_add(60) };
        }
        self.arm_job(j);
        Ok(())
    }

    /// UpdateJob's configuration members (SPEC 4.1 UpdateJob: timeout, retry, abort, rollout
    /// rate): they apply from now on. A new in-progress timeout applies only to executions that
    /// have not started (AMBIG-15: a running timer is frozen). The schedule cannot be changed.
    ///
    /// # Errors
    /// `InvalidRequestException` for a configuration outside SPEC §6; unknown job.
    pub fn update_job_config(
        &mut self,
        job: &JobId,
        config: JobConfig,
        now: Timestamp,
    ) -> Result<(), Rejection> {
        let j = self.find_job(job)?;
        config.validate()?;
        if let Some(e) = self.jobs.at_mut(j) {
            let schedule = e.config.schedule;
            e.config = JobConfig { schedule, ..config };
            e.last_updated_at = now;
        }
        self.arm_job(j);
        Ok(())
    }

    /// A maintenance window opened for a SCHEDULED job (SPEC §2): it goes IN_PROGRESS, its
    /// QUEUED executions are listed again and its rollout continues. The core does not parse
    /// cron; the host calls this when its window opens.
    ///
    /// # Errors
    /// `InvalidRequestException` unless the job is SCHEDULED; unknown job; capacity and sink.
    pub fn open_window(
        &mut self,
        job: &JobId,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let j = self.find_job(job)?;
        match self.job_entry(j).map(|e| e.status) {
            Some(JobStatus::Scheduled) => self.start_rollout(j, now, sink),
            Some(s) => Err(Rejection::InvalidRequest(crate::error::InvalidRequest::WindowNeedsStatus(s))),
            None => Err(Rejection::NotFound(Resource::Job)),
        }
    }

    /// A maintenance window closed for an IN_PROGRESS job (SPEC §2): it goes back to SCHEDULED
    /// and its QUEUED executions leave devices' pending lists until the next window (AMBIG-13);
    /// running ones go on.
    ///
    /// # Errors
    /// `InvalidRequestException` unless the job is IN_PROGRESS; unknown job; sink limits.
    pub fn close_window(
        &mut self,
        job: &JobId,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let j = self.find_job(job)?;
        match self.job_entry(j).map(|e| e.status) {
            Some(JobStatus::InProgress) => {}
            Some(s) => {
                return Err(Rejection::InvalidRequest(crate::error::InvalidRequest::WindowNeedsStatus(s)));
            }
            None => return Err(Rejection::NotFound(Resource::Job)),
        }
        let queued = self
            .job_executions(j)
            .filter(|x| self.exec_entry(*x).is_some_and(|e| e.status == ExecutionStatus::Queued))
            .count();
        Self::ensure_room(sink, queued.saturating_mul(2))?;
        let mut x = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        while let Some(e) = self.exec_entry(x) {
            let (next, thing, queued) = (e.job_link.next, e.thing, e.status == ExecutionStatus::Queued);
            if queued {
                let mut w = self.watch(thing);
                self.detach_pending(x);
                w.changed = true;
                self.settle(w, sink);
            }
            x = next;
        }
        if let Some(e) = self.jobs.at_mut(j) {
            e.status = JobStatus::Scheduled;
            e.last_updated_at = now;
        }
        Ok(())
    }

    /// Sets or cancels the step timer of an IN_PROGRESS execution (SPEC T7, §3 timer facts): a
    /// step timer never runs past the in-progress deadline; -1 leaves only that deadline.
    fn set_step(&mut self, x: u32, step: StepTimeout, now: Timestamp) {
        let Some(e) = self.execs.at_mut(x) else { return };
        e.deadline = match step {
            StepTimeout::Minutes(m) => now.saturating_add(u64::from(m).saturating_mul(60)).min(e.timeout_at),
            StepTimeout::Cancel => e.timeout_at,
        };
        let at = e.deadline;
        self.arm(at, 0, tagged(Tag::Execution, x));
    }

    fn cancels(&self, x: u32, scope: CancelScope) -> bool {
        self.exec_entry(x).is_some_and(|e| rules::cancel_job_execution_effect(e.status, scope).is_some())
    }

    fn job_executions(&self, j: u32) -> impl Iterator<Item = u32> + '_ {
        let head = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        core::iter::successors(Some(head).filter(|x| *x != NIL), move |x| {
            self.exec_entry(*x).map(|e| e.job_link.next).filter(|n| *n != NIL)
        })
    }

    /// DeleteJob (SPEC 4.2, R4, R5, §6): the job becomes DELETION_IN_PROGRESS and its executions
    /// vanish from devices' pending lists at once; [`Registry::advance`] removes them once the
    /// deletion delay has passed.
    ///
    /// # Errors
    /// As [`rules::delete_job`] (including the limit of 10); unknown job; sink limits.
    pub fn delete_job(
        &mut self,
        job: &JobId,
        force: bool,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let j = self.find_job(job)?;
        let entry = self.job_entry(j).ok_or(Rejection::NotFound(Resource::Job))?;
        rules::delete_job(entry.status, force, self.deleting.len())?;
        let job_status = entry.status;
        let listed = |e: &ExecutionEntry| rules::listed_to_device(job_status, e.status);
        let visible = self.job_executions(j).filter(|x| self.exec_entry(*x).is_some_and(listed)).count();
        Self::ensure_room(sink, visible.saturating_mul(2).saturating_add(1))?;
        let id = entry.id.clone();
        // Room is certain (the rule refused the 11th); pushed first so nothing is half-applied.
        let due = now.saturating_add(self.deletion_delay);
        self.deleting
            .push((j, due))
            .map_err(|_| Rejection::LimitExceeded(crate::error::Limit::JobsDeletionInProgress))?;
        if let Some(e) = self.jobs.at_mut(j) {
            e.status = JobStatus::DeletionInProgress;
            e.last_updated_at = now;
        }
        sink.push(Event::Job { job: id, event: JobEvent::DeletionInProgress });
        let mut x = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        while let Some(e) = self.exec_entry(x) {
            let (next, thing, was_listed) = (e.job_link.next, e.thing, listed(e));
            if was_listed {
                // SEED-CLI: devices lose access to the job's executions.
                let mut w = self.watch(thing);
                self.detach_pending(x);
                w.changed = true;
                self.settle(w, sink);
            }
            x = next;
        }
        Ok(())
    }

    /// Removes up to `budget` executions of job `j`, then the job itself once none remain.
    /// Returns how many were removed and whether the job is gone.
    fn delete_some(
        &mut self,
        j: u32,
        budget: usize,
        sink: &mut impl EventSink,
    ) -> Result<(usize, bool), Rejection> {
        let mut removed = 0usize;
        while let Some(x) = self.job_entry(j).map(|e| e.executions.head).filter(|x| *x != NIL) {
            if removed >= budget {
                return Ok((removed, false));
            }
            Self::ensure_room(sink, 1)?;
            // SPEC 7.4: each execution's `deleted` event.
            self.emit_execution(x, ExecutionEvent::Deleted, sink);
            self.remove_execution(x);
            removed = removed.saturating_add(1);
        }
        Self::ensure_room(sink, 1)?;
        self.finish_job_deletion(j, sink);
        Ok((removed, true))
    }

    fn finish_job_deletion(&mut self, j: u32, sink: &mut impl EventSink) {
        while let Some(p) = self.job_entry(j).map(|e| e.pairs.head).filter(|p| *p != NIL) {
            self.remove_pair(p);
        }
        let Some((key, e)) = self.jobs.at(j) else { return };
        let id = e.id.clone();
        let h = hash(Tag::Job, id.as_str().as_bytes());
        let Self { index, jobs, things, pairs, .. } = self;
        index.remove(h, tagged(Tag::Job, j), |v| hash_of_parts(jobs, things, pairs, v));
        jobs.remove(key);
        self.deleting.retain(|(d, _)| *d != j);
        sink.push(Event::Job { job: id, event: JobEvent::Deleted });
    }

    /// Unlinks and frees an execution: lists, pair chain, index, counters, details.
    fn remove_execution(&mut self, x: u32) {
        let Some((key, e)) = self.execs.at(x) else { return };
        let (job, thing, status, pair_prev) = (e.job, e.thing, e.status, e.pair_prev);
        if self.job_entry(job).is_some_and(|j| rules::listed_to_device(j.status, status)) {
            self.detach_pending(x);
        }
        if let Some(list) = self.job_entry(job).map(|j| j.executions) {
            let list = self.unlink(list, x, Which::Job);
            if let Some(j) = self.jobs.at_mut(job) {
                j.executions = list;
                j.process.add(status, -1);
            }
        }
        if let Some(list) = self.things.at(thing).map(|(_, t)| t.all) {
            let list = self.unlink(list, x, Which::Thing);
            if let Some(t) = self.things.at_mut(thing) {
                t.all = list;
            }
        }
        // The pair chain: the pair points at the newest; older ones are linked by pair_prev.
        if let Some(p) = self.pair(job, thing) {
            let newest = self.pairs.at(p).map_or(NIL, |(_, e)| e.newest);
            if newest == x {
                if let Some(e) = self.pairs.at_mut(p) {
                    e.newest = pair_prev;
                }
                // The pair stays (it is one of the job's targets): with no execution left,
                // R7's default numbers from 1 again, `Monotonic` goes on from `highest`.
            } else {
                let mut newer = newest;
                while let Some(n) = self.exec_entry(newer) {
                    if n.pair_prev == x {
                        if let Some(n) = self.execs.at_mut(newer) {
                            n.pair_prev = pair_prev;
                        }
                        break;
                    }
                    newer = n.pair_prev;
                }
            }
        }
        self.free_details(x);
        self.execs.remove(key);
        self.forget_thing_if_unused(thing);
    }

    // ---- executions: control plane ------------------------------------------------------------

    /// DescribeJobExecution (SPEC 4.2, 4.3, R11): by number, or the latest.
    ///
    /// # Errors
    /// `ResourceNotFoundException`; on the data plane also for a job being deleted (SEED-CLI),
    /// and `TerminalStateException` per R11.
    pub fn describe_execution(
        &self,
        job: &JobId,
        thing: &ThingName,
        number: Option<ExecutionNumber>,
        plane: Plane,
    ) -> Result<ExecutionView<'_>, Rejection> {
        let (j, _, x) = self.lookup_execution(job, thing, number)?;
        self.check_device_access(j, plane)?;
        let v = self.view_or_missing(x)?;
        rules::describe_execution(v.state(), plane, &self.policy)?;
        Ok(v)
    }

    /// Devices cannot reach executions of a job being deleted (SEED-CLI).
    fn check_device_access(&self, j: u32, plane: Plane) -> Result<(), Rejection> {
        match plane {
            Plane::Control => Ok(()),
            Plane::Data
                if self.job_entry(j).is_some_and(|e| matches!(e.status, JobStatus::DeletionInProgress)) =>
            {
                Err(Rejection::NotFound(Resource::Execution))
            }
            Plane::Data => Ok(()),
        }
    }

    /// CancelJobExecution (SPEC 4.2, T8, T9, R16): the execution becomes CANCELED.
    ///
    /// # Errors
    /// As [`rules::cancel_execution`]; unknown execution; capacity and sink limits.
    #[allow(clippy::too_many_arguments)]
    pub fn cancel_execution(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        force: bool,
        expected: Option<VersionNumber>,
        details: Option<StatusDetails<'_>>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<ExecutionState, Rejection> {
        let (j, t, x) = self.lookup_execution(job, thing, None)?;
        let v = self.view_or_missing(x)?;
        let decision = rules::cancel_execution(v.state(), force, expected)?;
        let after = self.prepare_details(x, details)?;
        Self::ensure_room(sink, 4)?;
        let mut w = self.watch(t);
        w.changed |= self.set_status(x, ExecutionStatus::Canceled, Actor::ControlPlane, now, sink)?;
        if let Some(e) = self.execs.at_mut(x) {
            e.force_canceled = decision.force_canceled;
        }
        if let Some(after) = after {
            self.store_details(x, after);
        }
        self.maybe_complete(j, now, sink);
        self.settle(w, sink);
        self.state_of(x)
    }

    fn state_of(&self, x: u32) -> Result<ExecutionState, Rejection> {
        self.exec_entry(x)
            .map(|e| ExecutionState { status: e.status, version: e.version })
            .ok_or(Rejection::NotFound(Resource::Execution))
    }

    /// DeleteJobExecution (SPEC 4.2, T11, R1, R2): removes the execution; its number may be
    /// reused (R7).
    ///
    /// # Errors
    /// As [`rules::delete_execution`]; unknown execution; sink limits.
    pub fn delete_execution(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        number: ExecutionNumber,
        force: bool,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        let (j, t, x) = self.lookup_execution(job, thing, Some(number))?;
        let v = self.view_or_missing(x)?;
        rules::delete_execution(v.state(), force, &self.policy)?;
        Self::ensure_room(sink, 4)?;
        let mut w = self.watch(t);
        w.changed = rules::listed_to_device(v.job_status(), v.status());
        self.emit_execution(x, ExecutionEvent::Deleted, sink);
        self.remove_execution(x);
        if let Some(e) = self.jobs.at_mut(j) {
            e.last_updated_at = now;
        }
        self.maybe_complete(j, now, sink);
        if self.things.at(t).is_some() {
            self.settle(w, sink);
        } else if w.changed {
            // The thing record is gone with its last execution; still tell its devices.
            sink.push(Event::Notify(thing.clone()));
            sink.push(Event::NotifyNext(thing.clone()));
        }
        Ok(())
    }

    /// ListJobExecutionsForJob (SPEC 4.1): up to `max` executions of the job in creation order,
    /// filtered by status; returns the cursor to go on from, if more remain.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown job; `InvalidRequestException` for a cursor
    /// whose execution no longer exists.
    pub fn list_for_job(
        &self,
        job: &JobId,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let j = self.find_job(job)?;
        let head = self.job_entry(j).map_or(NIL, |e| e.executions.head);
        self.page(head, Which::Job, status, from, max, visit)
    }

    /// ListJobExecutionsForThing (SPEC 4.1): like [`Registry::list_for_job`], over the thing's
    /// executions of every job.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown thing; a stale cursor.
    pub fn list_for_thing(
        &self,
        thing: &ThingName,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let t = self.thing_index(thing).ok_or(Rejection::NotFound(Resource::Thing))?;
        // A deleted thing is still listed while executions of it exist.
        let (head, known) =
            self.things.at(t).map_or((NIL, false), |(_, e)| (e.all.head, e.registered || e.all.len > 0));
        if !known {
            return Err(Rejection::NotFound(Resource::Thing));
        }
        self.page(head, Which::Thing, status, from, max, visit)
    }

    fn page(
        &self,
        head: u32,
        which: Which,
        status: Option<ExecutionStatus>,
        from: Option<Cursor>,
        max: usize,
        mut visit: impl FnMut(ExecutionView<'_>),
    ) -> Result<Option<Cursor>, Rejection> {
        let mut x = match from {
            None => head,
            Some(Cursor(key)) => {
                self.execs
                    .get(key)
                    .ok_or(Rejection::InvalidRequest(crate::error::InvalidRequest::StaleCursor))?;
                key.index
            }
        };
        let mut seen = 0usize;
        while let Some((key, e)) = self.execs.at(x) {
            if status.is_none_or(|s| s == e.status) {
                if seen >= max {
                    return Ok(Some(Cursor(key)));
                }
                if let Some(v) = self.view(x) {
                    visit(v);
                }
                seen = seen.saturating_add(1);
            }
            x = match which {
                Which::Job => e.job_link.next,
                Which::Thing | Which::Pending => e.thing_link.next,
            };
        }
        Ok(None)
    }

    // ---- executions: device -------------------------------------------------------------------

    /// StartNextPendingJobExecution (SPEC 4.3, T2, T3, R19): the head of the pending list; a
    /// QUEUED head becomes IN_PROGRESS with `details` and the step timeout applied.
    ///
    /// # Errors
    /// Capacity and sink limits; [`UnknownThing::NotFound`] as in [`Registry::pending`].
    pub fn start_next(
        &mut self,
        thing: &ThingName,
        details: Option<StatusDetails<'_>>,
        step_timeout: Option<StepTimeout>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<Option<ExecutionHandle>, Rejection> {
        let Some(t) = self.thing_for_device(thing)? else { return Ok(None) };
        let x = self.head(t);
        let head = self.exec_entry(x).map(|e| ExecutionState { status: e.status, version: e.version });
        match rules::start_next(head)? {
            StartNext::Nothing => Ok(None),
            // SPEC T3: an IN_PROGRESS head is returned unchanged.
            StartNext::Resume => Ok(self.execs.at(x).map(|(k, _)| ExecutionHandle(k))),
            StartNext::Start => {
                let after = self.prepare_details(x, details)?;
                Self::ensure_room(sink, 2)?;
                let mut w = self.watch(t);
                w.changed |= self.set_status(x, ExecutionStatus::InProgress, Actor::Device, now, sink)?;
                if let Some(after) = after {
                    self.store_details(x, after);
                }
                if let Some(step) = step_timeout {
                    self.set_step(x, step, now);
                }
                self.settle(w, sink);
                Ok(self.execs.at(x).map(|(k, _)| ExecutionHandle(k)))
            }
        }
    }

    /// UpdateJobExecution (SPEC 4.3, T2–T6, R6, R9, R13, R14).
    ///
    /// # Errors
    /// As [`rules::update_execution`]; `ResourceNotFoundException` for an unknown execution or one
    /// of a job being deleted; capacity and sink limits.
    pub fn update_execution(
        &mut self,
        job: &JobId,
        thing: &ThingName,
        update: &Update<'_>,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<ExecutionState, Rejection> {
        let (j, t, x) = self.lookup_execution(job, thing, update.execution_number)?;
        self.check_device_access(j, Plane::Data)?;
        let v = self.view_or_missing(x)?;
        let to = rules::update_execution(v.state(), update.status, update.expected_version, &self.policy)?;
        let after = self.prepare_details(x, update.status_details)?;
        Self::ensure_room(sink, 4)?;
        self.check_failure_room(x, to, sink)?;
        let mut w = self.watch(t);
        w.changed |= self.set_status(x, to, Actor::Device, now, sink)?;
        if let Some(after) = after {
            self.store_details(x, after);
        }
        match update.step_timeout {
            Some(step) if to == ExecutionStatus::InProgress => self.set_step(x, step, now),
            Some(_) | None => {}
        }
        if to.is_terminal() {
            self.after_terminal(x, j, to, now, sink)?;
        }
        self.settle(w, sink);
        self.state_of(x)
    }
}

/// Which list link of an execution.
#[derive(Clone, Copy)]
enum Which {
    Job,
    Thing,
    Pending,
}

fn hash_of_parts<A, B, C>(
    jobs: &Slab<JobEntry, A>,
    things: &Slab<ThingEntry, B>,
    pairs: &Slab<PairEntry, C>,
    v: u32,
) -> u64
where
    A: Slots<Entry<JobEntry>>,
    B: Slots<Entry<ThingEntry>>,
    C: Slots<Entry<PairEntry>>,
{
    let (tag, i) = untag(v);
    if tag == Tag::Job as u32 {
        jobs.at(i).map_or(0, |(_, j)| hash(Tag::Job, j.id.as_str().as_bytes()))
    } else if tag == Tag::Thing as u32 {
        things.at(i).map_or(0, |(_, t)| hash(Tag::Thing, t.name.as_str().as_bytes()))
    } else {
        pairs.at(i).map_or(0, |(_, p)| pair_hash(p.job, p.thing))
    }
}

#[cfg(test)]
mod tests;
