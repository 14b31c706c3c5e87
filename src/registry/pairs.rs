//! (job, thing) pairs (R7, SPEC T12, §6 Rollout): where a pair's state lives, and the job's list
//! of targets.
//!
//! A pair with executions keeps its [`PairState`] in its newest execution, which the index maps
//! the pair to (so describe, update and start-next find the execution in one probe); a pair
//! without one (a target waiting for the rollout or passed over by it, or whose executions were
//! all deleted) keeps it in a [`PairEntry`] record. The state moves with the head: to a new
//! execution when one is created, back to the next older execution or to a record when the
//! newest is deleted. Every pair counts against the pairs table's capacity, so that falling back
//! to a record always finds room.

use super::Registry;
use super::entries::{ExecIx, Head, JobIx, PairEntry, PairIx, PairState, ThingIx};
use super::events::MISSING_JOB;
use super::index::pair_hash;
use super::lookup::head_value;
use super::storage::Storage;
use crate::error::{Rejection, Table};

/// The job's list of targets names a pair that is not there, or the head moved wrongly.
const LOST_PAIR: Rejection = Rejection::LogicBug("a (job, thing) pair is missing from the index");

impl<S: Storage> Registry<S> {
    /// A new pair (job, thing) without an execution, last in the job's list of targets; room in
    /// the pairs table ([`pair_room`](Self::pair_room)) and the index was checked.
    pub(super) fn new_pair(&mut self, job: JobIx, thing: ThingIx) -> Result<PairIx, Rejection> {
        if self.pair_room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        let entry = PairEntry { job, thing, pair: PairState::default() };
        let (key, p) = self.pairs.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Executions))?;
        if !self.index.insert(pair_hash(job.get(), thing.get()), head_value(Head::Record(p))) {
            self.pairs.remove(key);
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        self.pair_count = self.pair_count.saturating_add(1);
        let mut list = self.job_entry(job).ok_or(MISSING_JOB)?.pairs;
        match list.tail {
            Some(tail) => self.pair_mut(job, tail)?.job_next = Some(thing),
            None => list.head = Some(thing),
        }
        list.tail = Some(thing);
        list.len = list.len.saturating_add(1);
        self.job_mut(job)?.pairs = list;
        let t = self.thing_mut(thing)?;
        t.pairs = t.pairs.saturating_add(1);
        Ok(p)
    }

    /// Execution `x` of (job, thing), just stored with `pair_prev` naming the pair's newest,
    /// becomes the pair's head in place of `old` (the head the caller looked up for it): it
    /// takes the pair's state (its number raising `highest`), the index maps the pair to it, and
    /// a record it replaces is freed.
    pub(super) fn take_head(
        &mut self,
        job: JobIx,
        thing: ThingIx,
        old: Head,
        x: ExecIx,
    ) -> Result<(), Rejection> {
        let state = *self.pair_state(old).ok_or(LOST_PAIR)?;
        let e = self.exec_mut(x)?;
        e.pair = PairState { highest: state.highest.max(e.number), ..state };
        if !self.index.replace(pair_hash(job.get(), thing.get()), head_value(old), head_value(Head::Exec(x)))
        {
            return Err(LOST_PAIR);
        }
        if let Head::Record(p) = old {
            let key = self.pairs.at(p).map(|(key, _)| key).ok_or(LOST_PAIR)?;
            self.pairs.remove(key);
        }
        Ok(())
    }

    /// Before execution `x` is freed, and before anything else of its removal changes: takes it
    /// out of its pair's chain. The newest hands the
    /// pair's state to the next older execution, or to a new record when it was the last (the
    /// pair stays one of the job's targets: R7's default numbers from 1 again, `Monotonic` goes
    /// on from `highest`).
    pub(super) fn leave_pair(&mut self, x: ExecIx) -> Result<(), Rejection> {
        let e = self.exec_entry(x).ok_or(LOST_PAIR)?;
        let (job, thing, prev, state) = (e.job, e.thing, e.pair_prev, e.pair);
        let head = self.pair_head(job, thing).ok_or(LOST_PAIR)?;
        if head != Head::Exec(x) {
            // An older execution: unlink it from the chain below the newest.
            let mut newer = self.newest(job, thing);
            while let Some((newer_x, n)) = self.exec_at(newer) {
                if n.pair_prev == Some(x) {
                    self.exec_mut(newer_x)?.pair_prev = prev;
                    break;
                }
                newer = n.pair_prev;
            }
            return Ok(());
        }
        let next = match prev {
            Some(prev) => {
                self.exec_mut(prev)?.pair = state;
                Head::Exec(prev)
            }
            None => {
                // Room: every pair counts against the table's capacity (`pair_room`); only an
                // allocator that refuses a table that grows can fail here, before any change.
                let record = PairEntry { job, thing, pair: state };
                let (_, p) =
                    self.pairs.insert(record).ok_or(Rejection::CapacityExhausted(Table::Executions))?;
                Head::Record(p)
            }
        };
        if self.index.replace(pair_hash(job.get(), thing.get()), head_value(head), head_value(next)) {
            Ok(())
        } else {
            Err(LOST_PAIR)
        }
    }

    /// Frees the pair of job `job` and thing `thing`, which never had an execution (the rollout
    /// has not reached it): out of the job's list (and of the rollout, which goes on from the
    /// pair after it), its record, its index value, the thing's count; a target counted among
    /// the job's targets no longer is.
    pub(super) fn leave_rollout(&mut self, job: JobIx, thing: ThingIx) -> Result<(), Rejection> {
        let Some(Head::Record(p)) = self.pair_head(job, thing) else {
            return Err(Rejection::LogicBug("a pair leaves the rollout while it has executions"));
        };
        let (key, e) = self.pairs.at(p).ok_or(LOST_PAIR)?;
        let (next, target) = (e.pair.job_next, e.pair.target);
        let mut list = self.job_entry(job).ok_or(MISSING_JOB)?.pairs;
        // The pair before it, if any.
        let mut before = None;
        let mut at = list.head;
        while let Some(t) = at.filter(|t| *t != thing) {
            before = Some(t);
            at = self.pair_of(job, t).ok_or(LOST_PAIR)?.job_next;
        }
        if at.is_none() {
            return Err(LOST_PAIR);
        }
        match before {
            Some(b) => self.pair_mut(job, b)?.job_next = next,
            None => list.head = next,
        }
        if list.tail == Some(thing) {
            list.tail = before;
        }
        list.len = list.len.saturating_sub(1);
        self.unindex(pair_hash(job.get(), thing.get()), head_value(Head::Record(p)));
        self.pairs.remove(key);
        self.pair_count = self.pair_count.saturating_sub(1);
        let j = self.job_mut(job)?;
        j.pairs = list;
        if j.rollout_next == Some(thing) {
            j.rollout_next = next;
        }
        if target {
            j.targets = j.targets.saturating_sub(1);
        }
        let t = self.thing_mut(thing)?;
        t.pairs = t.pairs.saturating_sub(1);
        self.forget_thing_if_unused(thing);
        Ok(())
    }

    /// Frees the first pair of the job's list, which has no execution left (its job is being
    /// deleted): its record, its index value, the thing's count.
    pub(super) fn remove_first_pair(&mut self, job: JobIx) -> Result<(), Rejection> {
        let mut list = self.job_entry(job).ok_or(MISSING_JOB)?.pairs;
        let Some(thing) = list.head else { return Ok(()) };
        let Some(Head::Record(p)) = self.pair_head(job, thing) else {
            return Err(Rejection::LogicBug("a pair is removed while it has executions"));
        };
        let (key, e) = self.pairs.at(p).ok_or(LOST_PAIR)?;
        list.head = e.pair.job_next;
        if list.head.is_none() {
            list.tail = None;
        }
        list.len = list.len.saturating_sub(1);
        self.unindex(pair_hash(job.get(), thing.get()), head_value(Head::Record(p)));
        self.pairs.remove(key);
        self.pair_count = self.pair_count.saturating_sub(1);
        self.job_mut(job)?.pairs = list;
        let t = self.thing_mut(thing)?;
        t.pairs = t.pairs.saturating_sub(1);
        self.forget_thing_if_unused(thing);
        Ok(())
    }
}
