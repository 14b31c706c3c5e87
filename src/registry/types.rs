//! Public handles, events, the event sink, and the arguments and results of the registry's
//! operations.

use super::slab::Key;
use crate::config::JobConfig;
use crate::id::{ExecutionNumber, JobId, NamespaceId, StatusDetails, StepTimeout, ThingName, VersionNumber};
use crate::status::{ExecutionStatus, TargetSelection};
use crate::topic::{ExecutionEvent, JobEvent};

/// A job, as long as it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobHandle(pub(super) Key);

/// A thing, as long as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThingHandle(pub(super) Key);

/// One execution, as long as it exists; a handle to a deleted execution finds nothing even when
/// its number or slot was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExecutionHandle(pub(super) Key);

/// Something the host must deliver (SPEC 7.2, 7.4).
///
/// Non-exhaustive: a later release may deliver more kinds (a host ignores what it does not
/// know).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// `$aws/things/T/jobs/notify`: the thing's pending list changed (R15). Render
    /// [`Registry::pending`](super::Registry::pending) into the payload.
    Notify(ThingName),
    /// `$aws/things/T/jobs/notify-next`: the head of the thing's pending list changed (R15).
    /// Render [`Registry::next_pending`](super::Registry::next_pending) into the payload.
    NotifyNext(ThingName),
    /// `$aws/things/T/jobs/notify-namespace-NS`: the thing's pending list changed through an
    /// execution of a job created in namespace NS (SPEC R20, AMBIG-27). Render
    /// [`Registry::pending_in_namespace`](super::Registry::pending_in_namespace) into the
    /// payload.
    NotifyNamespace {
        /// The thing.
        thing: ThingName,
        /// The namespace.
        namespace: NamespaceId,
    },
    /// `$aws/things/T/jobs/notify-next-namespace-NS`: the head of the thing's pending list
    /// changed through an execution of a job created in namespace NS (SPEC R20, AMBIG-27).
    /// Render [`Registry::next_pending_in_namespace`](super::Registry::next_pending_in_namespace)
    /// into the payload.
    NotifyNextNamespace {
        /// The thing.
        thing: ThingName,
        /// The namespace.
        namespace: NamespaceId,
    },
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
/// could emit and is refused with [`Rejection::Throttled`](crate::error::Rejection::Throttled)
/// if there is not enough; so the sink must accept at least `room()` events. The count is made
/// before the operation knows which of its branches it takes, so it may exceed the events
/// emitted, but by at most 10, never by a number that grows with the registry: a sink with room
/// for an operation's events and 10 more does not throttle it. That holds for
/// [`Registry::advance`](super::Registry::advance) too, for the events of all the transitions
/// it applies; with less room it stops between two transitions and resumes on the next call.
///
/// The registry hands events over with [`try_push`](Self::try_push). A sink that can refuse an
/// event (a bounded queue) implements it to say so; the registry then fails the operation with
/// [`Rejection::LogicBug`](crate::error::Rejection::LogicBug), since the sink broke its promise
/// of `room()`, rather than lose the event.
pub trait EventSink {
    /// How many more events the sink accepts.
    fn room(&self) -> usize;
    /// Takes one event.
    fn push(&mut self, event: Event);
    /// Takes one event, or says the sink is full (the event is then dropped). The default
    /// pushes it.
    ///
    /// # Errors
    /// [`SinkFull`] when the sink cannot take it.
    fn try_push(&mut self, event: Event) -> Result<(), SinkFull> {
        self.push(event);
        Ok(())
    }
}

impl<const N: usize> EventSink for heapless::Deque<Event, N> {
    fn room(&self) -> usize {
        N.saturating_sub(self.len())
    }
    /// Appends the event; a full queue keeps what it has (the registry uses
    /// [`try_push`](EventSink::try_push), which reports it).
    fn push(&mut self, event: Event) {
        let _ = self.push_back(event);
    }
    fn try_push(&mut self, event: Event) -> Result<(), SinkFull> {
        self.push_back(event).map_err(|_| SinkFull)
    }
}

/// An [`EventSink`] could not take an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SinkFull;

impl core::fmt::Display for SinkFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the event sink is full")
    }
}

impl core::error::Error for SinkFull {}

/// A sink that drops every event, for hosts that deliver no notifications.
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
    pub(super) counts: [u32; 8],
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

    pub(super) fn add(&mut self, status: ExecutionStatus, delta: i32) {
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

/// A new job (SPEC 4.1 CreateJob members the lifecycle needs).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
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
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Update<'a> {
    /// `status`.
    pub status: ExecutionStatus,
    /// `statusDetails`, if given.
    pub status_details: Option<&'a StatusDetails<'a>>,
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
pub struct Cursor(pub(super) Key);

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

    /// A listing from this execution on, it first: where a host that filters a page further
    /// than the registry does goes on after it.
    #[must_use]
    pub const fn at(execution: ExecutionHandle) -> Self {
        Self(execution.0)
    }
}

/// What one call of [`Registry::advance`](super::Registry::advance) did.
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
    /// (job, thing) pairs stored, with executions or not (a pair with executions keeps its state
    /// in the newest, so only the others take a slot of the pairs table; all count against its
    /// capacity).
    pub pairs: usize,
    /// Free index buckets.
    pub index_room: usize,
}
