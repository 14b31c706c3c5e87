//! What the mutex of a `Registry` guards (the core's registry, its event queue and its clock)
//! and how a call takes it: with the GIL released, and never twice on one thread (see the
//! parent module's docs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use iot_jobs_core::Timestamp;
use iot_jobs_core::registry::{Heap, Registry};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;

use super::PyRegistry;
use super::args::Now;
use super::events::{Kept, Queue, Record};

/// What the mutex of a `Registry` guards.
pub(super) struct State {
    pub(super) reg: Registry<Heap>,
    /// The caps it was made with (a snapshot is restored under the same by `__reduce__`).
    pub(super) caps: Heap,
    pub(super) events: Vec<Record>,
    /// `None`: keep no events.
    pub(super) max_events: Option<usize>,
    /// The latest `now` of a call that succeeded since the registry was made or cleared: an
    /// earlier `now` is taken as this one, so that stored times never go backwards.
    pub(super) clock: Option<u64>,
    /// What the records of jobs and executions about to be removed report of them: kept from one
    /// `advance` call to the next (a budget may stop one in the middle of a deletion), dropped
    /// by any other operation, which may change them.
    pub(super) kept: Kept,
}

impl State {
    /// Runs the operation `op` at `now`, or at the registry's clock if that is later; the clock
    /// moves to that time if `op` succeeds (a refused call changes nothing, its time included).
    /// The records it queues carry their subjects as it left them (`Queue::resolve`).
    pub(super) fn at<T>(
        &mut self,
        now: Now,
        op: impl FnOnce(&mut Registry<Heap>, &mut Queue<'_>, Timestamp) -> PyResult<T>,
    ) -> PyResult<T> {
        self.kept = Kept::default();
        let out = self.advancing(now, op);
        self.kept = Kept::default();
        out
    }

    /// [`State::at`] for `advance`, which keeps what it kept of the jobs being deleted for the
    /// next `advance` call (see [`State::kept`]).
    pub(super) fn advancing<T>(
        &mut self,
        now: Now,
        op: impl FnOnce(&mut Registry<Heap>, &mut Queue<'_>, Timestamp) -> PyResult<T>,
    ) -> PyResult<T> {
        let t = self.clock.map_or(now.0, |c| c.max(now.0));
        let mut q = Queue::new(&mut self.events, self.max_events, &mut self.kept);
        let out = op(&mut self.reg, &mut q, Timestamp(t));
        q.resolve(&self.reg);
        let out = out?;
        self.clock = Some(t);
        Ok(out)
    }
}

impl PyRegistry {
    /// The registry's state, locked: waits with the GIL released while another thread holds it
    /// (see the module's docs). A panic while the lock was held (there is none in the core, which
    /// has no panics, nor in the binding, which has no `unwrap`) would poison the mutex; the
    /// state is taken all the same: every core operation changes the state only after its
    /// checks, so an interrupted call leaves what the calls before it made.
    ///
    /// A call made while this thread already holds the lock (Python code run while a method
    /// builds its records: a `__del__` run by the garbage collector, a finalizer) would wait for
    /// ever on a lock that is not re-entrant: it raises `RuntimeError` instead, and the call in
    /// progress goes on.
    pub(super) fn state(&self, py: Python<'_>) -> PyResult<Held<'_>> {
        let me = THREAD.with(|t| *t);
        if self.owner.load(Ordering::Relaxed) == me {
            return Err(PyRuntimeError::new_err(
                "Registry called from Python code run while one of its own calls on this thread \
                 was building its result (a __del__ or finalizer run by the garbage collector?): \
                 its lock is not re-entrant, so the call would wait for ever; call it after the \
                 call in progress returns",
            ));
        }
        let guard = self.state.lock_py_attached(py).unwrap_or_else(PoisonError::into_inner);
        self.owner.store(me, Ordering::Relaxed);
        Ok(Held { guard, owner: &self.owner })
    }
}

impl PyRegistry {
    pub(super) fn from_parts(
        reg: Registry<Heap>,
        caps: Heap,
        max_events: Option<usize>,
        clock: Option<u64>,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                reg,
                caps,
                events: Vec::new(),
                max_events,
                clock,
                kept: Kept::default(),
            }),
            owner: AtomicU64::new(0),
        }
    }
}

/// A number for each thread, from 1 (0: no thread holds a registry's lock).
static THREADS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD: u64 = THREADS.fetch_add(1, Ordering::Relaxed);
}

/// The registry's state, locked by this thread: `owner` names the thread until the lock is let
/// go. Only the holder writes it, so a thread reads its own number there only while it holds
/// the lock.
pub(super) struct Held<'a> {
    guard: MutexGuard<'a, State>,
    owner: &'a AtomicU64,
}

impl Drop for Held<'_> {
    /// Clears the owner before the guard (dropped after this) unlocks.
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Relaxed);
    }
}

impl core::ops::Deref for Held<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.guard
    }
}

impl core::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}
