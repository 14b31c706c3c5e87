//! Time: timers, `advance`, and job schedule events (start, rollout batches, end, maintenance
//! windows).

use super::Registry;
use super::compact::{Stamp, check_time};
use super::entries::{ExecIx, JobIx, ThingIx};
use super::entries::{JobEntry, NEVER, PairState};
use super::events::{MISSING_JOB, Out};
use super::index::{Tag, tagged};
use super::lookup::tagged_ix;
use super::slab::{Entry, Slab, Slots};
use super::storage::Storage;
use super::timers::{Timer, before};
use super::types::{Advanced, EventSink};
use crate::error::{Rejection, Resource, Table};
use crate::id::{JobId, Timestamp};
use crate::rules::{self, Actor, Window};
use crate::status::{ExecutionStatus, JobStatus};

impl<S: Storage> Registry<S> {
    /// The earliest instant at which [`Registry::advance`] may have something to do, if any.
    /// It is never later than the next due transition; it can be earlier, when a timer was
    /// overtaken by events (an early call of `advance` then simply finds nothing to do).
    #[must_use]
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let timer =
            [self.timers.peek(), self.timers.dropped()].into_iter().flatten().map(|t| t.at.get()).min();
        let deletion = self.deleting.iter().map(|(_, due)| *due).min();
        match (timer, deletion) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Applies everything due up to `now` as a simulation clock does: a step of
    /// [`advance`](Self::advance) at each instant something falls due before `now`
    /// ([`next_deadline`](Self::next_deadline)), in time order, then one at `now`, so that each
    /// transition is stamped with its own instant. A timeout due at +60 s is TIMED_OUT at +60 s
    /// (and its retry queued then) however late the call comes, and a paced rollout's batches go
    /// out a minute apart; `advance(now)` alone stamps all of them `now`. At most `budget` units
    /// of work in all; `more`: something is still due at or before `now` (call again).
    ///
    /// A host that acts between the steps (renders each step's events with the state it
    /// leaves, as the emulator does) calls `next_deadline` and `advance` itself.
    ///
    /// # Errors
    /// As [`advance`](Self::advance): the steps before stay done, and a later call goes on.
    pub fn advance_through(
        &mut self,
        now: Timestamp,
        budget: usize,
        sink: &mut impl EventSink,
    ) -> Result<Advanced, Rejection> {
        check_time(now)?;
        let mut work = 0usize;
        loop {
            let at = self.next_deadline().map_or(now, |d| d.min(now));
            let step = self.advance(at, budget.saturating_sub(work), sink)?;
            work = work.saturating_add(step.work);
            // Out of budget with more due at `at`, or done at `now`. Otherwise nothing is due
            // at or before `at` any more (`advance`'s `more`), so the next step is later.
            if step.more || at == now {
                return Ok(Advanced { work, more: step.more });
            }
        }
    }

    /// Applies every transition due at `now` (timeouts, retries, abort, schedule starts and
    /// ends, rollout batches, deletions), doing at most `budget` units of work (one per timer
    /// or execution handled). Returns what it did and whether more is due at `now`; call it
    /// again until `more` is false. What fell due before `now` is stamped `now`: to stamp each
    /// transition with its own instant, use [`advance_through`](Self::advance_through).
    ///
    /// Several things due at one instant happen in deadline order; at equal deadlines execution
    /// timers (by table position) come before job events (in the jobs' creation order), and
    /// deletions come last. A `now` earlier than a previous one is not an error: nothing that is
    /// not due at `now` happens.
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let mut done = 0usize;
        while done < budget {
            let next = self.timers.peek();
            // A timer left out for room is due before the held ones: take the live ones again.
            let refill = self.timers.dropped().is_some_and(|d| {
                d.at.get() <= now && next.is_none_or(|t| before(&d, &t, &timer_order(&self.jobs)))
            });
            if refill {
                self.rebuild_timers();
                if self.timers.peek().is_none() && self.timers.dropped().is_some() {
                    // Not one slot for timers: nothing due can be handled.
                    return Err(Rejection::CapacityExhausted(Table::Executions));
                }
                continue;
            }
            let deletion =
                self.deleting.iter().filter(|(_, due)| *due <= now).min_by_key(|(_, due)| *due).copied();
            // Deadline order; at equal deadlines the timer first, the deletion last.
            match (next.filter(|t| t.at.get() <= now), deletion) {
                (Some(t), d) if d.is_none_or(|(_, due)| t.at.get() <= due) => {
                    // Taken out before it fires: firing may rebuild the heap. Its copies (a
                    // subject armed twice for one instant) go with it: they would come out stale
                    // and re-arm the job's next event, once more each time, so that copies piled
                    // up event after event. What is still due after it fires, firing arms again.
                    {
                        let order = timer_order(&self.jobs);
                        self.timers.pop(&order);
                        while self.timers.peek() == Some(t) {
                            self.timers.pop(&order);
                        }
                    }
                    if let Err(e) = self.fire(t, now, sink) {
                        self.arm(t.at.get(), t.what);
                        return Err(e);
                    }
                    done = done.saturating_add(1);
                }
                (_, Some((j, _))) => {
                    let (n, _) = self.delete_some(j, budget.saturating_sub(done), sink)?;
                    done = done.saturating_add(n.max(1));
                }
                (Some(_) | None, None) => break,
            }
        }
        let more = self.next_deadline().is_some_and(|d| d <= now);
        Ok(Advanced { work: done, more })
    }

    /// Handles one timer that is due; a stale one (its subject changed since) does nothing.
    /// On error nothing changed.
    pub(super) fn fire(
        &mut self,
        t: Timer,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        if let Some(i) = tagged_ix(t.what, Tag::Execution) {
            let due = self
                .exec_entry(i)
                .is_some_and(|e| e.deadline == t.at && e.status == ExecutionStatus::InProgress);
            if due {
                self.time_out(i, now, sink)?;
            }
        } else if let Some(i) = tagged_ix(t.what, Tag::Job) {
            match self.job_entry(i).and_then(JobEntry::next_event) {
                Some(at) if Stamp::new(at) == t.at => self.job_event(i, at, now, sink)?,
                // The job changed since this timer was armed: make sure its next event has one.
                Some(_) => self.arm_job(i),
                None => {}
            }
        }
        Ok(())
    }

    /// Pushes a timer for a deadline its subject already holds; when the heap is full, rebuilds
    /// it from the live deadlines instead (which include this one).
    ///
    /// A timer holds its time as a `u32` [`Stamp`]: a time at or past `u32::MAX` (a job's
    /// schedule may name one) is never armed, since no `now` the registry accepts
    /// ([`LATEST_TIME`](super::LATEST_TIME)) reaches it.
    pub(super) fn arm(&mut self, at: Timestamp, what: u32) {
        let at = Stamp::new(at);
        if at == Stamp::NEVER {
            return;
        }
        if self.timers.is_full() {
            self.rebuild_timers();
        } else {
            let _ = self.timers.push(Timer { at, what }, &timer_order(&self.jobs));
        }
    }

    /// Before job `j`'s slot is freed: takes its timers out of the heap, so that no held timer
    /// changes its order when the slot holds another job ([`timer_order`]). O(held timers); when
    /// a timer was left out for room, O(live deadlines): the heap is refilled without the job's
    /// (it is no longer armed: `next_event` is none for a job being deleted), so that the timer
    /// remembered as the first left out is never one that would change its order either.
    pub(super) fn disarm_job(&mut self, j: JobIx) {
        if self.timers.dropped().is_some() {
            self.rebuild_timers();
        }
        let what = tagged(Tag::Job, j.get());
        self.timers.retain(|t| t.what != what, &timer_order(&self.jobs));
    }

    /// Refills the heap from the live deadlines, dropping stale entries. A heap smaller than
    /// the live deadlines keeps the earliest and remembers the first it left out
    /// (`Heap::dropped`): `advance` rebuilds again when that one comes due.
    pub(super) fn rebuild_timers(&mut self) {
        self.timers.clear();
        let order = timer_order(&self.jobs);
        for i in self.execs.positions() {
            // Only IN_PROGRESS executions hold a deadline (set_status clears it otherwise).
            if let Some((_, e)) = self.execs.at(i).filter(|(_, e)| e.deadline != Stamp::NEVER) {
                let _ =
                    self.timers.push(Timer { at: e.deadline, what: tagged(Tag::Execution, i.get()) }, &order);
            }
        }
        for i in self.jobs.positions() {
            let next = self.jobs.at(i).and_then(|(_, j)| Some(Stamp::new(j.next_event()?)));
            if let Some(at) = next.filter(|at| *at != Stamp::NEVER) {
                let _ = self.timers.push(Timer { at, what: tagged(Tag::Job, i.get()) }, &order);
            }
        }
    }

    /// SPEC T7: an IN_PROGRESS execution whose timer expired becomes TIMED_OUT; then abort,
    /// retry (T12) and completion are considered, in that order.
    pub(super) fn time_out(
        &mut self,
        x: ExecIx,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let (job, thing) =
            self.exec_entry(x).map(|e| (e.job, e.thing)).ok_or(Rejection::NotFound(Resource::Execution))?;
        self.check_failure_room(x, ExecutionStatus::TimedOut, sink)?;
        let mut w = self.watch_job(thing, job)?;
        w.changed |= self.set_status(x, ExecutionStatus::TimedOut, Actor::Service, now, sink)?;
        self.after_terminal(x, job, ExecutionStatus::TimedOut, now, &mut w, sink)?;
        self.settle(w, sink)?;
        Ok(())
    }

    /// A job's schedule event (SPEC §2 SCHEDULED, §6 Scheduling, rollout pacing): its start,
    /// the next batch of a paced rollout, its end, its maintenance windows opening or closing.
    /// The windows are looked at `due`, the instant the event was due (no later than `now`), so
    /// that one `advance` over several windows opens and closes each in turn (AMBIG-28); what
    /// changes is stamped `now`, as every transition `advance` applies.
    pub(super) fn job_event(
        &mut self,
        j: JobIx,
        due: Timestamp,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        // Room for a completion; the starts, batches and cancels check their own.
        sink.reserve(1)?;
        let e = self.job_entry(j).ok_or(MISSING_JOB)?;
        let mut clock = e.clock();
        let window = e.config.windows.map(|w| w.at(due));
        if let (Some(c), Some(w)) = (clock.window.as_mut(), window) {
            c.open = w.open;
        }
        let event = rules::schedule_event(&clock, now);
        if event.start || event.window == Some(Window::Open) {
            self.start_rollout(j, now, sink)?;
        } else if event.window == Some(Window::Close) {
            self.leave_window(j, now, sink)?;
        } else if event.batch {
            self.roll_out_batch(j, now, sink)?;
        }
        if let Some(w) = window {
            // AMBIG-28: look again when the windows may change.
            self.job_mut(j)?.window_at = Stamp::new(w.recheck.unwrap_or(NEVER));
        }
        if let Some(behavior) = event.end {
            let e = self.job_mut(j)?;
            e.ended = true;
            // AMBIG-12: every end behaviour stops the rollout.
            e.rollout_next = None;
            e.rollout_at = Stamp::NEVER;
            // The job is live here: `next_event` offers an end only for a live job.
            if let Some(cancel) = rules::end_behavior(behavior) {
                self.cancel_job_at(j, cancel.scope, cancel.force_canceled, None, now, sink)?;
            }
        }
        // SPEC §2: a job that started with nothing to do, or whose end passed, may be complete.
        self.maybe_complete(j, now, sink)?;
        self.arm_job(j);
        Ok(())
    }

    /// Arms the job's next schedule event, if it has one.
    pub(super) fn arm_job(&mut self, j: JobIx) {
        if let Some(at) = self.job_entry(j).and_then(JobEntry::next_event) {
            self.arm(at, tagged(Tag::Job, j.get()));
        }
    }

    /// SCHEDULED → IN_PROGRESS (startTime, or a maintenance window opening): QUEUED executions
    /// are listed again, and the rollout goes on at its pace: the next batch now if its minute
    /// has come, else when it comes (SPEC §6 Rollout). Room is checked before anything changes.
    pub(super) fn start_rollout(
        &mut self,
        j: JobIx,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let batch = rules::batch_on_start(&self.job_entry(j).ok_or(MISSING_JOB)?.clock(), now);
        let todo = if batch { self.plan_batch(j)?.0 } else { 0 };
        if self.execs.room() < todo {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        // The notifications of each QUEUED execution listed again and of each execution queued.
        sink.reserve(self.queued_executions(j).saturating_add(todo).saturating_mul(self.settle_events(j)))?;
        self.set_job_status(j, JobStatus::InProgress, now)?;
        self.relist_queued(j, true, sink)?;
        if batch {
            self.roll_out_batch(j, now, sink)
        } else {
            self.arm_job(j);
            Ok(())
        }
    }

    /// How many executions the job's next rollout batch queues, the pair it stops before, and
    /// the ramp of an exponential rollout: up to `maximumPerMinute` (and the ramp's rate) of the
    /// targets the rollout reaches, passing over the others ([`rules::rollout_reaches`], SPEC §6
    /// Rollout, AMBIG-29).
    fn plan_batch(&self, j: JobIx) -> Result<(usize, Option<ThingIx>, Option<rules::Ramp>), Rejection> {
        let e = self.job_entry(j).ok_or(MISSING_JOB)?;
        let ramp = e.next_ramp();
        let batch = rules::ramp_batch(e.config.maximum_per_minute, ramp);
        let mut todo = 0usize;
        let mut stop = e.rollout_next;
        while let Some((t, pair)) = stop.and_then(|t| Some((t, self.pair_of(j, t)?))) {
            if self.rollout_reaches(t, pair) {
                if todo >= batch {
                    break;
                }
                todo = todo.saturating_add(1);
            }
            stop = pair.job_next;
        }
        Ok((todo, stop, ramp))
    }

    /// Queues executions for the next targets without one: all of them, or one minute's worth
    /// under `maximumPerMinute` (SPEC §6 Rollout), as [`plan_batch`](Self::plan_batch) says.
    pub(super) fn roll_out_batch(
        &mut self,
        j: JobIx,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let (todo, stop, ramp) = self.plan_batch(j)?;
        if self.execs.room() < todo {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        sink.reserve(todo.saturating_mul(self.settle_events(j)))?;
        let mut p = self.job_entry(j).ok_or(MISSING_JOB)?.rollout_next;
        while p != stop {
            let Some((thing, head, next, reaches)) = p
                .and_then(|t| {
                    let head = self.pair_head(j, t)?;
                    Some((t, head, self.pair_state(head)?))
                })
                .map(|(t, head, pair)| (t, head, pair.job_next, self.rollout_reaches(t, pair)))
            else {
                break;
            };
            if reaches {
                self.queue_execution(j, thing, Some(head), 0, now, sink)?;
            }
            p = next;
        }
        let e = self.job_mut(j)?;
        e.rollout_next = stop;
        e.rollout_at = Stamp::new(rules::next_batch_at(now, stop.is_some()));
        if let Some(r) = ramp {
            // AMBIG-29: the things this batch notified count toward the next increase.
            let n = u32::try_from(todo).unwrap_or(u32::MAX);
            e.ramp = rules::Ramp { notified: r.notified.saturating_add(n), ..r };
        }
        self.arm_job(j);
        Ok(())
    }

    /// Whether a batch gives `thing` an execution ([`rules::rollout_reaches`]).
    fn rollout_reaches(&self, thing: ThingIx, pair: &PairState) -> bool {
        let registered = self.things.at(thing).is_some_and(|(_, t)| t.registered);
        rules::rollout_reaches(registered, pair.highest().is_some())
    }

    /// A maintenance window opened for a SCHEDULED job (SPEC §2): it goes IN_PROGRESS, its
    /// QUEUED executions are listed again and its rollout continues. A job created with
    /// [`JobConfig::windows`](crate::config::JobConfig::windows) has them opened and closed by
    /// [`advance`](Self::advance); a host that keeps windows of its own calls this when one opens.
    ///
    /// # Errors
    /// `InvalidRequestException` unless the job is SCHEDULED; unknown job; capacity and sink.
    pub fn open_window(
        &mut self,
        job: &JobId,
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<(), Rejection> {
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, _) = self.window_job(job, Window::Open)?;
        // Room for a completion; the relisting and the batch check their own.
        sink.reserve(1)?;
        self.start_rollout(j, now, sink)?;
        // SPEC §2: a SNAPSHOT job that starts with nothing to do is complete.
        self.maybe_complete(j, now, sink)
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, _) = self.window_job(job, Window::Close)?;
        self.leave_window(j, now, sink)
    }

    /// IN_PROGRESS → SCHEDULED at the end of a maintenance window: QUEUED executions leave the
    /// pending lists (SPEC §2, AMBIG-13). Room is checked before anything changes.
    fn leave_window(
        &mut self,
        j: JobIx,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let to = rules::window(self.job_entry(j).ok_or(MISSING_JOB)?.status, Window::Close)?;
        sink.reserve(self.queued_executions(j).saturating_mul(self.settle_events(j)))?;
        self.relist_queued(j, false, sink)?;
        self.set_job_status(j, to, now)?;
        self.arm_job(j);
        Ok(())
    }

    /// The job a maintenance window opens or closes for, and the status it goes to
    /// (`rules::window`, SPEC §2).
    fn window_job(&self, job: &JobId, window: Window) -> Result<(JobIx, JobStatus), Rejection> {
        let (j, entry) = self.find_job_entry(job)?;
        Ok((j, rules::window(entry.status, window)?))
    }

    /// How many QUEUED executions the job has ([`relist_queued`](Self::relist_queued) tells
    /// each device up to [`settle_events`](Self::settle_events) times).
    fn queued_executions(&self, j: JobIx) -> usize {
        self.job_executions(j)
            .filter(|x| self.exec_entry(*x).is_some_and(|e| e.status == ExecutionStatus::Queued))
            .count()
    }

    /// Puts the job's QUEUED executions on their devices' pending lists (`list`) or takes them
    /// off, telling each device; reserve [`settle_events`](Self::settle_events) per QUEUED
    /// execution first.
    fn relist_queued(
        &mut self,
        j: JobIx,
        list: bool,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        let mut cur = self.job_entry(j).and_then(|e| e.executions.head);
        while let Some((x, e)) = self.exec_at(cur) {
            let (next, thing, queued) = (e.job_link.next, e.thing, e.status == ExecutionStatus::Queued);
            if queued {
                let mut w = self.watch_job(thing, j)?;
                if list {
                    self.attach_pending(x)?;
                } else {
                    self.detach_pending(x)?;
                }
                w.changed = true;
                self.settle(w, sink)?;
            }
            cur = next;
        }
        Ok(())
    }
}

/// The order of timers due at one instant ([`before`]): execution deadlines first (0), then job
/// events in the jobs' creation order (`JobEntry::seq`, from 1). A job's sequence never changes,
/// and its timers leave the heap before its slot is freed ([`Registry::disarm_job`]), so a held
/// timer's order never changes.
fn timer_order<S: Slots<Entry<JobEntry>>>(jobs: &Slab<JobEntry, S>) -> impl Fn(u32) -> u32 + '_ {
    move |what| match tagged_ix(what, Tag::Job) {
        Some(j) => jobs.at(j).map_or(0, |(_, e)| e.seq),
        None => 0,
    }
}
