//! What the mutex of a `Registry` guards (the core's registry, its event queue and its clock)
//! and how a call takes it: with the GIL released, and never twice on one thread (see the
//! parent module's docs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use iot_jobs_core::Timestamp;
use iot_jobs_core::registry::{Event, EventSink, Heap, Registry};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;

use super::PyRegistry;
use super::args::Now;

/// What the mutex of a `Registry` guards.
pub(super) struct State {
    pub(super) reg: Registry<Heap>,
    /// The caps it was made with (a snapshot is restored under the same by `__reduce__`).
    pub(super) caps: Heap,
    pub(super) events: Vec<Event>,
    /// `None`: keep no events.
    pub(super) max_events: Option<usize>,
    /// The latest `now` of a call that succeeded since the registry was made or cleared: an
    /// earlier `now` is taken as this one, so that stored times never go backwards.
    pub(super) clock: Option<u64>,
}

impl State {
    /// Runs the operation `op` at `now`, or at the registry's clock if that is later; the clock
    /// moves to that time if `op` succeeds (a refused call changes nothing, its time included).
    pub(super) fn at<T>(
        &mut self,
        now: Now,
        op: impl FnOnce(&mut Registry<Heap>, &mut Queue<'_>, Timestamp) -> PyResult<T>,
    ) -> PyResult<T> {
        let t = self.clock.map_or(now.0, |c| c.max(now.0));
        let mut q = Queue { events: &mut self.events, max: self.max_events };
        let out = op(&mut self.reg, &mut q, Timestamp(t))?;
        self.clock = Some(t);
        Ok(out)
    }
}

/// The event queue, as the core's `EventSink`: it reports its room honestly, so an operation
/// that would overflow it is refused before it changes anything (`ThrottlingException`).
/// Without a maximum (`max_events=None`) it keeps no events: like the core's `Discard`, it has
/// room for any number and drops each one.
pub(super) struct Queue<'a> {
    events: &'a mut Vec<Event>,
    max: Option<usize>,
}

impl EventSink for Queue<'_> {
    fn room(&self) -> usize {
        self.max.map_or(usize::MAX, |max| max.saturating_sub(self.events.len()))
    }
    fn push(&mut self, event: Event) {
        if self.max.is_some() {
            self.events.push(event);
        }
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
            state: Mutex::new(State { reg, caps, events: Vec::new(), max_events, clock }),
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
