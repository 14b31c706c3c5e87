//! Jobs: CreateJob, AssociateTargetsWithJob, CancelJob, UpdateJob, and queueing executions.

use crate::config::JobConfig;
use crate::error::{Rejection, Resource, Table};
use crate::id::{JobId, ReasonCode, ThingName, Timestamp, VersionNumber};
use crate::registry::Registry;
use crate::registry::compact::{self, Stamp, check_time};
use crate::registry::entries::{ExecFlags, ExecutionEntry, Head, JobEntry, NEVER, PairState, Retries};
use crate::registry::entries::{ExecIx, JobIx, ThingIx};
use crate::registry::events::Watch;
use crate::registry::events::{MISSING_JOB, Out, settle_events_for};
use crate::registry::index::{Tag, hash, tagged};
use crate::registry::lists::{ByJob, ByThing};
use crate::registry::slab::{Links, List};
use crate::registry::storage::Storage;
use crate::registry::types::{Event, EventSink, JobHandle, NewJob, ProcessDetails};
use crate::rules::{self, Actor, CancelScope, JobConfigUpdate};
use crate::status::{ExecutionStatus, JobStatus};
use crate::topic::JobEvent;

impl<S: Storage> Registry<S> {
    /// CreateJob (SPEC 4.1, 4.2): a new job, IN_PROGRESS or SCHEDULED, with one QUEUED execution
    /// per target when it starts now. `targets` are every target of the request, 1 to 100
    /// ([`rules::job_targets`]); a request that names thing groups is
    /// [`Registry::create_job_with_members`].
    ///
    /// # Errors
    /// `InvalidRequestException` for no targets, `LimitExceededException` for more than 100,
    /// first; `ResourceAlreadyExistsException` for a used id (also while its deletion is in
    /// progress); `ResourceNotFoundException` for a target that is not a registered thing;
    /// `LimitExceeded(Time)` for a schedule time past [`LATEST_TIME`](crate::registry::LATEST_TIME)
    /// (AMBIG-34); capacity and sink limits. (A [`JobConfig`] is valid by construction.)
    pub fn create_job(
        &mut self,
        job: &NewJob<'_>,
        targets: &[ThingName],
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<JobHandle, Rejection> {
        // SPEC §6 lim-targets: the request's ARNs, as the host would count them.
        rules::job_targets(targets.len())?;
        self.create_job_with_members(job, targets, &[], now, sink)
    }

    /// CreateJob with target groups: as [`Registry::create_job`], where `targets` are the things
    /// the request names and `members` the things of the groups it names. Each gets an
    /// execution (`targets` first, then `members`, each in its order), but only `targets` count
    /// toward the job's 100 ([`JobView::targets`](crate::registry::JobView::targets)): a group is
    /// one target however many things it holds, and the host counts the request's ARNs (SPEC
    /// §6 [lim-targets]). A thing in both lists is a target. The request's count of targets is
    /// the host's to check ([`rules::job_targets`] on its ARNs): a group may have no things yet,
    /// so both lists may be empty.
    ///
    /// # Errors
    /// As [`Registry::create_job`], without the count of targets.
    pub fn create_job_with_members(
        &mut self,
        job: &NewJob<'_>,
        targets: &[ThingName],
        members: &[ThingName],
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<JobHandle, Rejection> {
        check_time(now)?;
        compact::check_schedule(job.config.schedule)?;
        let sink = &mut Out::new(sink);
        // The request's own values first (see `rules`), then the state. An empty `targets` is
        // fine here: the request named target groups that have no things yet (the "at least one
        // target" rule of SPEC §5 is about the request's ARNs, which the host checks).
        // SPEC §2: the id is reusable only once its deletion completed.
        rules::job_id_available(self.job_index(job.id).and_then(|j| self.job_entry(j)).map(|j| j.status))?;
        let stamp = self.next_stamp();
        let (mut distinct, mut counted) = (0usize, 0usize);
        for (name, target) in tagged_things(targets, members) {
            // SPEC 4.2 CreateJob: targets must be registered things.
            let t = self.registered_thing(name).ok_or(Rejection::NotFound(Resource::Thing))?;
            if self.first_visit(t, stamp) {
                distinct = distinct.saturating_add(1);
                counted = counted.saturating_add(usize::from(target));
            }
        }
        // AMBIG-28: a job with maintenance windows also waits for one to open.
        let (scheduled, window_at) = match job.config.windows {
            Some(w) => rules::starts_in_window(job.config.schedule, w.at(now), now),
            None => (rules::starts_scheduled(job.config.schedule, now), NEVER),
        };
        let status = rules::create_job(scheduled);
        // SPEC §6 Rollout: the first batch goes out now, the rest a minute at a time.
        let ramp = job.config.exponential.map(|x| rules::ramp_up(&x, rules::Ramp::default(), 0));
        let batch = rules::ramp_batch(job.config.maximum_per_minute, ramp);
        let execs = if scheduled { 0 } else { distinct.min(batch) };
        if self.jobs.room() == 0 {
            return Err(Rejection::CapacityExhausted(Table::Jobs));
        }
        if self.execs.room() < execs || self.pair_room() < distinct {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        if self.index.room() < distinct.saturating_add(1) {
            return Err(Rejection::CapacityExhausted(Table::Index));
        }
        // Per execution: notify, notify-next; and the job's `completed` if it has nothing to do.
        sink.reserve(execs.saturating_mul(settle_events_for(job.namespace.is_some())).saturating_add(1))?;

        let entry = JobEntry {
            id: job.id.clone(),
            status,
            selection: job.selection,
            namespace: job.namespace.cloned(),
            created_at: Stamp::new(now),
            last_updated_at: Stamp::new(now),
            completed_at: Stamp::NEVER,
            reason_code: None,
            force_canceled: false,
            process: ProcessDetails::default(),
            targets: u32::try_from(counted).unwrap_or(u32::MAX),
            config: job.config,
            executions: List::EMPTY,
            pairs: List::EMPTY,
            rollout_next: None,
            rollout_at: Stamp::NEVER,
            ended: false,
            started: !scheduled,
            window_at: Stamp::new(window_at),
            ramp: rules::Ramp::default(),
            seq: self.job_seq,
        };
        self.job_seq = self.job_seq.saturating_add(1);
        let (key, j) = self.jobs.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Jobs))?;
        self.index.insert(hash(Tag::Job, job.id.as_str().as_bytes()), tagged(Tag::Job, j.get()));
        // The targets, as pairs in target order; a repeated target is one pair (the new job has
        // no pair yet, so a thing's first visit is its pair's creation: no index probe).
        let stamp = self.next_stamp();
        for (name, target) in tagged_things(targets, members) {
            // Every target was found registered above.
            let t = self.thing_index(name).ok_or(Rejection::NotFound(Resource::Thing))?;
            if self.first_visit(t, stamp) {
                let p = self.new_pair(j, t)?;
                self.pair_state_mut(Head::Record(p))?.target = target;
            }
        }
        let first = self.job_entry(j).and_then(|e| e.pairs.head);
        let e = self.job_mut(j)?;
        e.rollout_next = first;
        if scheduled {
            self.arm_job(j);
        } else {
            self.roll_out_batch(j, now, sink)?;
            // SPEC §2: a SNAPSHOT job with no things completes at once.
            self.maybe_complete(j, now, sink)?;
        }
        Ok(JobHandle(key))
    }

    /// Creates the next QUEUED execution of (job, thing) (SPEC T1, R7) and notifies the thing
    /// (R15). Room was checked. `head`: the pair's head, if the caller has just looked it up
    /// (`None`: it is looked up here, and a pair made if there is none).
    pub(in crate::registry) fn queue_execution(
        &mut self,
        job: JobIx,
        thing: ThingIx,
        head: Option<Head>,
        retry_attempt: u8,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<ExecIx, Rejection> {
        let mut w = self.watch_job(thing, job)?;
        let x = self.queue_watched(job, thing, head, retry_attempt, now, &mut w)?;
        self.settle(w, sink)?;
        Ok(x)
    }

    /// [`queue_execution`](Self::queue_execution) inside an operation that already watches the
    /// thing `w` (R15: one `notify` / `notify-next` per operation, when it settles).
    pub(in crate::registry) fn queue_watched(
        &mut self,
        job: JobIx,
        thing: ThingIx,
        head: Option<Head>,
        retry_attempt: u8,
        now: Timestamp,
        w: &mut Watch,
    ) -> Result<ExecIx, Rejection> {
        let flags = ExecFlags::new(retry_attempt)?;
        // At most one index probe for the pair: its head gives the newest execution and the state.
        let head = match head.or_else(|| self.pair_head(job, thing)) {
            Some(h) => h,
            None => Head::Record(self.new_pair(job, thing)?),
        };
        let newest = match head {
            Head::Exec(x) => Some(x),
            Head::Record(_) => None,
        };
        let highest = self.pair_state(head).and_then(PairState::highest);
        let existing = newest.and_then(|x| self.exec_entry(x)).map(ExecutionEntry::number);
        // SPEC R7: next = 1 + highest existing (default) or 1 + highest ever (Monotonic).
        let number = compact::number(rules::next_execution_number(existing, highest, &self.policy)?)?;
        let entry = ExecutionEntry {
            job,
            thing,
            number,
            version: compact::version(VersionNumber::INITIAL)?,
            status: ExecutionStatus::Queued,
            flags,
            queued_at: Stamp::new(now),
            started_at: Stamp::NEVER,
            last_updated_at: Stamp::new(now),
            timeout_at: Stamp::NEVER,
            deadline: Stamp::NEVER,
            details: None,
            pair_prev: newest,
            pair: PairState::default(),
            job_link: Links::NONE,
            thing_link: Links::NONE,
            pending_next: None,
        };
        let (_, x) = self.execs.insert(entry).ok_or(Rejection::CapacityExhausted(Table::Executions))?;
        self.take_head(job, thing, head, x)?;
        if let Some(list) = self.job_entry(job).map(|j| j.executions) {
            let list = list.push_back(&mut self.execs, x, ByJob);
            let j = self.job_mut(job)?;
            j.executions = list;
            j.process.add(ExecutionStatus::Queued, 1);
        }
        if let Some(list) = self.things.at(thing).map(|(_, t)| t.all) {
            let list = list.push_back(&mut self.execs, x, ByThing);
            let t = self.thing_mut(thing)?;
            t.all = list;
        }
        if self.job_entry(job).is_some_and(|j| rules::listed_to_device(j.status, ExecutionStatus::Queued)) {
            self.attach_pending(x)?;
            w.changed = true;
        }
        Ok(x)
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
        self.add_targets_and_members(job, targets, &[], now, sink)
    }

    /// AssociateTargetsWithJob with target groups: as [`Registry::add_targets`], where `targets`
    /// are the things the request names and `members` the things of the groups it names; only
    /// `targets` count toward the job's 100 (see [`Registry::create_job_with_members`]). One
    /// change: made whole or refused whole.
    ///
    /// # Errors
    /// As [`Registry::add_targets`].
    pub fn add_targets_and_members(
        &mut self,
        job: &JobId,
        targets: &[ThingName],
        members: &[ThingName],
        now: Timestamp,
        sink: &mut impl EventSink,
    ) -> Result<usize, Rejection> {
        check_time(now)?;
        let sink = &mut Out::new(sink);
        self.roll_out_to(job, targets, members, false, now, sink)
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        self.roll_out_to(job, &[], things, true, now, sink)
    }

    /// Takes each thing of `targets` and `members` as a target of the job: a QUEUED execution
    /// for each without a pending one, or a place at the end of the rollout ([`Take`]);
    /// `targets` count toward the job's 100, `members` do not. `joined`: the members joined a
    /// group the job targets ([`rules::group_join`]); AssociateTargetsWithJob otherwise
    /// ([`rules::associate_targets`]).
    pub(in crate::registry) fn roll_out_to(
        &mut self,
        job: &JobId,
        targets: &[ThingName],
        members: &[ThingName],
        joined: bool,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<usize, Rejection> {
        let (j, entry) = self.find_job_entry(job)?;
        let (status, selection, count) = (entry.status, entry.selection, entry.targets);
        let (started, ended, rolling_out) = (entry.started, entry.ended, entry.rollout_next.is_some());
        let stamp = self.next_stamp();
        let mut new_targets = 0usize;
        for (name, counted) in tagged_things(targets, members) {
            let t = self.registered_thing(name).ok_or(Rejection::NotFound(Resource::Thing))?;
            // SPEC §2: the 100 counts distinct things targeted, once each.
            if self.first_visit(t, stamp) && counted && self.pair_of(j, t).map(|p| p.target) != Some(true) {
                new_targets = new_targets.saturating_add(1);
            }
        }
        let count = count.saturating_add(u32::try_from(new_targets).unwrap_or(u32::MAX));
        let join = if joined {
            rules::group_join(status, selection, started, ended, rolling_out)?
        } else {
            rules::associate_targets(
                status,
                selection,
                usize::try_from(count).unwrap_or(usize::MAX),
                rolling_out,
            )?
        };
        // Room for every new pair and execution, and the sink for their notifications.
        let stamp = self.next_stamp();
        let (mut fresh, mut queue) = (0usize, 0usize);
        for (name, _) in tagged_things(targets, members) {
            let t = self.thing_index(name).ok_or(Rejection::NotFound(Resource::Thing))?;
            if !self.first_visit(t, stamp) {
                continue;
            }
            match self.take(j, t, join) {
                Take::Nothing => continue,
                Take::Rollout => {}
                Take::Queue(_) => queue = queue.saturating_add(1),
            }
            // Whatever is taken without a pair gets one.
            fresh = fresh.saturating_add(usize::from(self.pair_of(j, t).is_none()));
        }
        if self.execs.room() < queue || self.pair_room() < fresh {
            return Err(Rejection::CapacityExhausted(Table::Executions));
        }
        if self.index.room() < fresh {
            return Err(Rejection::CapacityExhausted(Table::Index));
        }
        sink.reserve(queue.saturating_mul(self.settle_events(j)))?;
        let stamp = self.next_stamp();
        let mut queued = 0usize;
        for (name, counted) in tagged_things(targets, members) {
            // Every target was found registered above.
            let t = self.thing_index(name).ok_or(Rejection::NotFound(Resource::Thing))?;
            if !self.first_visit(t, stamp) {
                continue;
            }
            match self.take(j, t, join) {
                Take::Nothing => {}
                Take::Rollout => {
                    self.new_pair(j, t)?;
                    let e = self.job_mut(j)?;
                    if e.rollout_next.is_none() {
                        e.rollout_next = Some(t);
                    }
                }
                Take::Queue(used) => {
                    let x = self.queue_execution(j, t, None, 0, now, sink)?;
                    self.pair_state_mut(Head::Exec(x))?.retries = Retries::new(used)?;
                    queued = queued.saturating_add(1);
                }
            }
            if counted && let Some(h) = self.pair_head(j, t) {
                self.pair_state_mut(h)?.target = true;
            }
        }
        let e = self.job_mut(j)?;
        e.targets = count;
        if fresh > 0 || queued > 0 || new_targets > 0 {
            e.last_updated_at = Stamp::new(now);
        }
        Ok(queued)
    }

    /// A thing leaves a job's targets (a CONTINUOUS job's group lost it): its pending execution
    /// becomes REMOVED (SPEC T10, R10). One the rollout has not reached yet (a job before its
    /// start, or a paced rollout) leaves the rollout: it gets no execution (T10: it is no longer
    /// a valid target). A SNAPSHOT job keeps the things it was created with: nothing changes
    /// ([`rules::group_leave`]).
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, entry) = self.find_job_entry(job)?;
        if !rules::group_leave(entry.selection) {
            return Ok(());
        }
        if let Some(t) = self.thing_index(thing)
            && self.awaits_rollout(j, t)
        {
            // The job's `completed`, when it was its last target to reach.
            sink.reserve(1)?;
            self.leave_rollout(j, t)?;
            return self.maybe_complete(j, now, sink);
        }
        let (j, t, x) = self.lookup_execution(job, thing, None)?;
        // Its event, the job's `completed`, and the notifications.
        sink.reserve(self.settle_events(j).saturating_add(2))?;
        let status = self.exec_entry(x).map(|e| e.status).ok_or(Rejection::NotFound(Resource::Execution))?;
        let mut w = self.watch_job(t, j)?;
        if let Some(to) = rules::remove_target(status, &self.policy) {
            w.changed |= self.set_status(x, to, Actor::Service, now, sink)?;
            self.maybe_complete(j, now, sink)?;
        }
        self.settle(w, sink)?;
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
        check_time(now)?;
        let sink = &mut Out::new(sink);
        let (j, entry) = self.find_job_entry(job)?;
        let decision = rules::cancel_job(entry.status, force, &self.policy)?;
        self.cancel_job_at(j, decision.scope, decision.force_canceled, reason_code, now, sink)
    }

    /// Cancels job `j` (CancelJob, abort, a schedule's end): the executions in `scope` become
    /// CANCELED, then the job; nothing more rolls out.
    pub(in crate::registry) fn cancel_job_at(
        &mut self,
        j: JobIx,
        scope: CancelScope,
        force_canceled: bool,
        reason_code: Option<&ReasonCode>,
        now: Timestamp,
        sink: &mut Out<'_, impl EventSink>,
    ) -> Result<(), Rejection> {
        // Per canceled execution its event, and the notifications of those a pending list shows
        // (a SCHEDULED job's QUEUED executions leave no list); the job's two events.
        let (job_status, id) = self.job_entry(j).map(|e| (e.status, e.id.clone())).ok_or(MISSING_JOB)?;
        let (mut affected, mut listed) = (0_usize, 0_usize);
        for e in self.job_executions(j).filter_map(|x| self.exec_entry(x)) {
            if rules::cancel_job_execution_effect(e.status, scope).is_some() {
                affected = affected.saturating_add(1);
                listed = listed.saturating_add(usize::from(rules::listed_to_device(job_status, e.status)));
            }
        }
        sink.reserve(
            listed.saturating_mul(self.settle_events(j)).saturating_add(affected).saturating_add(2),
        )?;
        sink.emit(Event::Job { job: id.clone(), event: JobEvent::CancellationInProgress })?;
        let mut cur = self.job_entry(j).and_then(|e| e.executions.head);
        while let Some((x, e)) = self.exec_at(cur) {
            let (next, status, thing) = (e.job_link.next, e.status, e.thing);
            if let Some(to) = rules::cancel_job_execution_effect(status, scope) {
                let mut w = self.watch_job(thing, j)?;
                w.changed |= self.set_status(x, to, Actor::ControlPlane, now, sink)?;
                self.exec_mut(x)?.flags.set_force_canceled(force_canceled);
                self.settle(w, sink)?;
            }
            cur = next;
        }
        self.set_job_status(j, JobStatus::Canceled, now)?;
        let e = self.job_mut(j)?;
        e.force_canceled = force_canceled;
        e.rollout_next = None;
        e.rollout_at = Stamp::NEVER;
        if let Some(r) = reason_code {
            e.reason_code = Some(r.clone());
        }
        sink.emit(Event::Job { job: id, event: JobEvent::Canceled })?;
        Ok(())
    }

    /// UpdateJob's configuration members (SPEC 4.1 UpdateJob: timeout, retry, abort, rollout
    /// rate): they apply from now on. A new in-progress timeout applies only to executions that
    /// have not started (AMBIG-15: a running timer is frozen). The schedule cannot be changed.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown job. (A [`JobConfig`] is valid by construction.)
    pub fn update_job_config(
        &mut self,
        job: &JobId,
        config: JobConfig,
        now: Timestamp,
    ) -> Result<(), Rejection> {
        check_time(now)?;
        let j = self.find_job(job)?;
        let old = self.job_entry(j).ok_or(Rejection::NotFound(Resource::Job))?.config;
        let merged = rules::update_job_config(&old, &JobConfigUpdate::every_member(&config));
        let e = self.job_mut(j)?;
        e.config = merged;
        e.last_updated_at = Stamp::new(now);
        self.arm_job(j);
        Ok(())
    }

    /// Whether (job, thing) gets a new QUEUED execution as a target, and the retries it has used
    /// then ([`rules::queue_on_rejoin`]).
    /// Whether the rollout of job `j`, still going, has yet to reach thing `t`: the pair is at
    /// or after the rollout's next one, and never had an execution.
    fn awaits_rollout(&self, j: JobIx, t: ThingIx) -> bool {
        let Some(e) = self.job_entry(j) else { return false };
        // Still rolling out (as `JobView::is_concurrent` has it, leaving deletion aside; an end
        // clears `rollout_next`).
        if !rules::job_is_concurrent(e.status, e.rollout_next.is_some(), false) {
            return false;
        }
        let mut at = e.rollout_next;
        while let Some(p) = at {
            let Some(pair) = self.pair_of(j, p) else { return false };
            if p == t {
                return pair.highest().is_none();
            }
            at = pair.job_next;
        }
        false
    }

    /// What thing `t` gets now as a new target of job `j`, which takes it as `join` says.
    fn take(&self, j: JobIx, t: ThingIx, join: rules::TargetJoin) -> Take {
        let queue = || self.queues_on_rejoin(j, t).map_or(Take::Nothing, Take::Queue);
        match join {
            rules::TargetJoin::Queue => queue(),
            rules::TargetJoin::Rollout => match self.pair_of(j, t) {
                None => Take::Rollout,
                // A target the rollout has yet to reach waits for it; one it reached (or
                // passed over while the thing was not registered) is queued as a rejoin.
                Some(_) if self.awaits_rollout(j, t) => Take::Nothing,
                Some(_) => queue(),
            },
            rules::TargetJoin::Nothing => Take::Nothing,
        }
    }

    fn queues_on_rejoin(&self, j: JobIx, t: ThingIx) -> Option<rules::RetriesUsed> {
        rules::queue_on_rejoin(self.newest(j, t).and_then(|x| self.exec_entry(x)).map(|e| e.status))
    }
}

/// What a new target gets now ([`Registry::take`]).
enum Take {
    /// Nothing: it waits for the rollout already, has a pending execution, or the job's
    /// rollout is over.
    Nothing,
    /// A new pair at the end of the rollout, which queues its execution when it reaches it.
    Rollout,
    /// A QUEUED execution, not a retry.
    Queue(rules::RetriesUsed),
}

/// The things of `targets`, then those of `members`, each with whether it is a target.
fn tagged_things<'a>(
    targets: &'a [ThingName],
    members: &'a [ThingName],
) -> impl Iterator<Item = (&'a ThingName, bool)> {
    targets.iter().map(|t| (t, true)).chain(members.iter().map(|t| (t, false)))
}
