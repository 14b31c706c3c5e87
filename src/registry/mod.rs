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
//! its slot and its execution number have been reused. [`Registry::clear`] keeps counting the
//! generations, so a handle or [`Cursor`] issued before it finds nothing after it either (a
//! cursor is refused as `StaleCursor`).
//!
//! # Layout of the source
//!
//! `types` (handles, events, sink, arguments), `entries` (stored records and their typed
//! positions), `compact` (numbers, versions and times as stored: `u32`, and the limits that
//! follow, [`LATEST_TIME`]), `storage`, `views`; the mechanics: `slab` (generational tables,
//! `Ix`), `lists` (one intrusive list for every list), `index` (lookup by id and name),
//! `lookup`, `pairs` ((job, thing) pairs: their state in the newest execution or a record, and
//! each job's list of targets), `events` (the room an operation reserves and spends), `transition` (the one place
//! an execution's or a job's status changes), `time` (timers, `advance`, schedules), `details`
//! (statusDetails), `snapshot`; and the operations in `ops/{things,jobs,delete,executions,device}`.

mod compact;
mod details;
mod entries;
mod events;
#[cfg(feature = "alloc")]
mod growable;
mod index;
mod lists;
mod lookup;
mod ops;
mod pairs;
mod slab;
#[cfg(feature = "serde")]
mod snapshot;
mod storage;
mod time;
mod timers;
mod transition;
mod types;
mod views;

#[cfg(feature = "serde")]
pub use snapshot::{FORMAT as SNAPSHOT_FORMAT, Snapshot};

use core::fmt;

pub use self::compact::LATEST_TIME;
pub use self::entries::{ABORT_REASON, ExecutionEntry, JobEntry, PairEntry, ThingEntry};
#[cfg(feature = "alloc")]
pub use self::growable::{Growable, Heap};
use self::index::Index;
use self::slab::Slab;
pub use self::slab::{Entry, MAX_ENTRIES, Slots};
pub use self::storage::{Fixed, Storage, Tables};
use self::timers::Heap as TimerHeap;
pub use self::timers::Timer;
pub use self::types::{
    Advanced, Cursor, Discard, Event, EventSink, ExecutionHandle, JobHandle, NewJob, ProcessDetails,
    SinkFull, ThingHandle, Update, Usage,
};
pub use self::views::{ExecutionView, JobView};
use crate::id::Timestamp;
use crate::policy::Policy;
use crate::rules;
pub use crate::topic::{ExecutionEvent, JobEvent};

// ---------------------------------------------------------------------------------------------
// The registry.

/// The store of things, jobs and executions. See the [module docs](self).
pub struct Registry<S: Storage> {
    policy: Policy,
    jobs: Slab<JobEntry, S::Jobs>,
    things: Slab<ThingEntry, S::Things>,
    execs: Slab<ExecutionEntry, S::Executions>,
    details: Slab<S::DetailsMap, S::Details>,
    /// Records of pairs without an execution (a pair with executions lives in its newest).
    pairs: Slab<PairEntry, S::Pairs>,
    /// (job, thing) pairs, with executions or not: at most the pairs table's capacity, so that
    /// every pair can fall back to a record.
    pair_count: usize,
    timers: TimerHeap<S::Timers>,
    index: Index<S::Index>,
    /// Jobs in DELETION_IN_PROGRESS and when their deletion is due (at most 10, SPEC §6).
    deleting: heapless::Vec<(entries::JobIx, Timestamp), { rules::MAX_JOBS_DELETING }>,
    /// How long a deleted job stays DELETION_IN_PROGRESS (host configuration).
    deletion_delay: u64,
    stamp: u32,
    /// The creation sequence of the next job.
    job_seq: u32,
}

#[cfg(feature = "defmt")]
impl<S: Storage> defmt::Format for Registry<S> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Registry {{ policy: {}, usage: {}, .. }}", self.policy, self.usage());
    }
}

/// A copy of the whole registry, for a host that persists it without holding its lock while it
/// writes (the copy is then encoded at leisure). Needs every table of the storage to be `Clone`,
/// as `Fixed`'s and `Heap`'s are.
impl<S: Storage> Clone for Registry<S>
where
    S::Jobs: Clone,
    S::Things: Clone,
    S::Executions: Clone,
    S::DetailsMap: Clone,
    S::Details: Clone,
    S::Pairs: Clone,
    S::Timers: Clone,
    S::Index: Clone,
{
    fn clone(&self) -> Self {
        Self {
            policy: self.policy,
            jobs: self.jobs.clone(),
            things: self.things.clone(),
            execs: self.execs.clone(),
            details: self.details.clone(),
            pairs: self.pairs.clone(),
            pair_count: self.pair_count,
            timers: self.timers.clone(),
            index: self.index.clone(),
            deleting: self.deleting.clone(),
            deletion_delay: self.deletion_delay,
            stamp: self.stamp,
            job_seq: self.job_seq,
        }
    }
}

impl<S: Storage> fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("policy", &self.policy)
            .field("usage", &self.usage())
            .finish_non_exhaustive()
    }
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
            pair_count: 0,
            timers: TimerHeap::new(t.timers),
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

    /// Forgets everything (the tables keep their memory; the policy and the deletion delay are
    /// settings, and stay). Handles and cursors issued before
    /// find nothing afterwards, even where the same operations fill the same slots again: the
    /// tables' generations go on counting (a cursor from before is refused as `StaleCursor`).
    pub fn clear(&mut self) {
        self.jobs.clear();
        self.things.clear();
        self.execs.clear();
        self.details.clear();
        self.pairs.clear();
        self.pair_count = 0;
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
            pairs: self.pair_count,
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
    /// A deletion whose delay would end past [`LATEST_TIME`] ends at it, the last `now`
    /// [`Registry::advance`] takes, so that it never holds one of the 10 places for ever.
    pub fn set_deletion_delay(&mut self, secs: u64) {
        self.deletion_delay = secs;
    }

    /// How many seconds a deleted job stays DELETION_IN_PROGRESS ([`Registry::set_deletion_delay`];
    /// a snapshot keeps it).
    #[must_use]
    pub fn deletion_delay(&self) -> u64 {
        self.deletion_delay
    }
}

#[cfg(test)]
mod tests;
