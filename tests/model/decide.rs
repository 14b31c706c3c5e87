//! What the model decides and applies for each request (SPEC §2–§8, the §R readings).

use super::time::step_deadline;
use super::*;

impl Model {
    pub(super) fn decide_and_apply(
        &mut self,
        req: &Req<'_>,
        now: u64,
        ev: &mut Vec<Ev>,
    ) -> Result<Out, Refusal> {
        match *req {
            Req::AddThing(t) => {
                self.things.insert(t.to_owned());
                Ok(Out::Done)
            }
            // DeleteThing: pending executions become REMOVED (T10, R10).
            Req::RemoveThing(t) => {
                if !self.things.contains(t) {
                    return refuse(NOT_FOUND);
                }
                for i in 0..self.execs.len() {
                    // Executions of a job being deleted are left to the deletion.
                    let deleting =
                        self.jobs.get(&self.execs[i].job).is_some_and(|j| j.status == JS::DeletionInProgress);
                    if self.execs[i].thing == t && is_pending(self.execs[i].status) && !deleting {
                        self.set_status(i, XS::Removed, now, ev);
                    }
                }
                self.things.remove(t);
                Ok(Out::Done)
            }
            // SPEC 4.2 CreateJob.
            Req::CreateJob {
                job,
                continuous,
                start,
                end,
                end_behavior,
                timeout,
                rate,
                namespace,
                targets,
                retry,
                abort,
                windows,
                exponential,
            } => {
                if self.readings.create_checks_id_first && self.jobs.contains_key(job) {
                    return refuse(ALREADY_EXISTS);
                }
                // An empty list is a request whose target groups have no things yet: accepted
                // (the "at least one target ARN" rule is the HTTP adapter's).
                // SPEC §2: the id is reusable only once the deletion completed.
                if self.jobs.contains_key(job) {
                    return refuse(ALREADY_EXISTS);
                }
                if targets.iter().any(|t| !self.things.contains(t)) {
                    return refuse(NOT_FOUND);
                }
                let mut scheduled = start.is_some_and(|s| s > now);
                // AMBIG-28: with windows, SCHEDULED also while none is open; looked at again at
                // `startTime`, or when a window next starts or ends.
                let windows = windows.map(|set| {
                    let mut w = Windows::new(set);
                    w.due = match start.filter(|s| *s > now) {
                        Some(s) => s,
                        None => {
                            scheduled = !w.open(now);
                            w.next_boundary(now)
                        }
                    };
                    w
                });
                let distinct: Vec<&String> = {
                    let mut seen = BTreeSet::new();
                    targets.iter().filter(|t| seen.insert(t.as_str())).collect()
                };
                let selection =
                    if continuous { TargetSelection::Continuous } else { TargetSelection::Snapshot };
                self.jobs.insert(
                    job.to_owned(),
                    Job {
                        status: if scheduled { JS::Scheduled } else { JS::InProgress },
                        selection,
                        force_canceled: false,
                        reason: None,
                        targets: distinct.iter().map(|t| (*t).clone()).collect(),
                        counted: distinct.len(),
                        seq: self.ops,
                        start,
                        end,
                        end_behavior,
                        timeout,
                        rate,
                        waiting: distinct.iter().map(|t| (*t).clone()).collect(),
                        rollout_at: 0,
                        reached: BTreeSet::new(),
                        passed: BTreeSet::new(),
                        started: !scheduled,
                        ended: false,
                        completed_at: None,
                        retry: retry.to_vec(),
                        abort: abort.to_vec(),
                        retries: BTreeMap::new(),
                        windows,
                        exponential,
                        ramp: (0, 0, 0, 0),
                        namespace: namespace.map(str::to_owned),
                    },
                );
                // SPEC §6 Rollout: the first batch goes out when the job starts.
                if !scheduled {
                    self.roll_out(job, now);
                }
                // Creating the job is a change to it (completion is considered).
                self.touched.insert(job.to_owned());
                Ok(Out::Done)
            }
            // AssociateTargetsWithJob / a thing joining a CONTINUOUS job's group (SPEC §2, T1, T13).
            Req::AddTargets { job, things, counted } => {
                let Some(j) = self.jobs.get(job) else { return refuse(NOT_FOUND) };
                if things.iter().any(|t| !self.things.contains(t)) {
                    return refuse(NOT_FOUND);
                }
                if j.selection != TargetSelection::Continuous {
                    return refuse(INVALID_REQUEST);
                }
                // A group's new members (not counted): a job that never started takes them into
                // its rollout; one between maintenance windows queues them, unlisted (T1, R21).
                let joinable = !counted && j.status == JS::Scheduled;
                if j.status != JS::InProgress && !joinable {
                    return refuse(INVALID_REQUEST);
                }
                // An end that passed before the start left no rollout to join.
                if joinable && !j.started && j.ended {
                    return Ok(Out::Count(0));
                }
                // R26: while the rollout has targets left (or has not begun), a new target waits
                // behind them, at the rollout's pace.
                let paced = !j.waiting.is_empty() || !j.started;
                let mut targets = j.targets.clone();
                let mut count = j.counted;
                if counted {
                    targets.extend(things.iter().cloned());
                    let fresh: BTreeSet<&String> = things
                        .iter()
                        .filter(|t| !self.execs.iter().any(|e| e.job == job && e.thing == **t))
                        .collect();
                    count += fresh.len();
                }
                let total = if self.readings.targets_counted_by_executions { count } else { targets.len() };
                if counted && total > 100 {
                    return refuse(LIMIT);
                }
                let j = self.jobs.get_mut(job).unwrap();
                j.targets = targets;
                j.counted = count;
                let mut queued = 0;
                let mut seen = BTreeSet::new();
                for t in things.iter().filter(|t| seen.insert(t.as_str())) {
                    let j = self.jobs.get_mut(job).unwrap();
                    // A thing the rollout never looked at takes its place at the end; one it
                    // waits for already keeps its place; one it reached or passed over (it was
                    // not registered then) is queued as below.
                    let known = j.reached.contains(t) || j.passed.contains(t);
                    if paced && j.waiting.contains(t) {
                        continue;
                    }
                    if paced && !known {
                        j.waiting.push(t.clone());
                        continue;
                    }
                    let busy =
                        self.execs.iter().any(|e| e.job == job && e.thing == *t && is_pending(e.status));
                    if !busy {
                        self.queue(job, t, now);
                        // SPEC T12: not a retry, so the thing's retries count from 0 again.
                        self.jobs.get_mut(job).unwrap().retries.remove(t.as_str());
                        queued += 1;
                    }
                }
                Ok(Out::Count(queued))
            }
            // A thing leaves the job's targets: its pending execution is REMOVED (T10, R10).
            Req::RemoveTarget { job, thing } => {
                // A SNAPSHOT job keeps the things it was created with (SPEC §2).
                match self.jobs.get(job) {
                    None => return refuse(NOT_FOUND),
                    Some(j) if j.selection == TargetSelection::Snapshot => return Ok(Out::Done),
                    Some(_) => {}
                }
                // One the rollout has not reached leaves it (T10: no longer a valid target).
                if let Some(j) = self.jobs.get_mut(job)
                    && matches!(j.status, JS::Scheduled | JS::InProgress)
                    && !j.ended
                    && let Some(at) = j.waiting.iter().position(|t| t == thing)
                    && !j.reached.contains(thing)
                {
                    j.waiting.remove(at);
                    if j.targets.remove(thing) {
                        j.counted = j.counted.saturating_sub(1);
                    }
                    // A change to the job: its completion is noticed (its last target to reach
                    // left, after its end), as after a change to one of its executions.
                    self.touched.insert(job.to_owned());
                    return Ok(Out::Done);
                }
                let i = self.find(job, thing, None)?;
                if is_pending(self.execs[i].status) {
                    self.set_status(i, XS::Removed, now, ev);
                }
                Ok(Out::Done)
            }
            // SPEC 4.2 CancelJob, R3, R4, R5, T8, T9.
            Req::CancelJob { job, force, reason } => {
                let Some(j) = self.jobs.get_mut(job) else { return refuse(NOT_FOUND) };
                match j.status {
                    JS::InProgress | JS::Scheduled => {}
                    JS::Canceled | JS::Completed | JS::DeletionInProgress => return refuse(INVALID_REQUEST),
                }
                self.cancel(job, force, reason, now, ev);
                Ok(Out::Done)
            }
            // SPEC 4.2 DeleteJob, R4, R5, §6.
            Req::DeleteJob { job, force } => {
                let Some(j) = self.jobs.get_mut(job) else { return refuse(NOT_FOUND) };
                match j.status {
                    JS::Completed | JS::Canceled => {}
                    JS::InProgress | JS::Scheduled if force => {}
                    JS::InProgress | JS::Scheduled | JS::DeletionInProgress => return refuse(TRANSITION),
                }
                if self.deleting.len() >= MAX_DELETING {
                    return refuse(LIMIT);
                }
                j.status = JS::DeletionInProgress;
                self.deleting.push((job.to_owned(), now.saturating_add(self.deletion_delay)));
                ev.push(Ev::Job(job.to_owned(), "deletion_in_progress"));
                Ok(Out::Done)
            }
            // SPEC 4.2 CancelJobExecution, T8, T9, R16; status before expectedVersion.
            Req::CancelExecution { job, thing, force, expected, details } => {
                let i = self.find(job, thing, None)?;
                let e = &self.execs[i];
                match e.status {
                    XS::Queued => {}
                    XS::InProgress if force => {}
                    XS::InProgress
                    | XS::Succeeded
                    | XS::Failed
                    | XS::TimedOut
                    | XS::Rejected
                    | XS::Removed
                    | XS::Canceled => {
                        return refuse_with(TRANSITION, e);
                    }
                }
                if expected.is_some_and(|v| v != e.version) {
                    return refuse_with(VERSION_CONFLICT, e);
                }
                self.set_status(i, XS::Canceled, now, ev);
                let e = &mut self.execs[i];
                e.force_canceled = force;
                if let Some(d) = details {
                    e.details = d.to_vec(); // R14: replace
                }
                Ok(Out::State(e.status, e.version))
            }
            // SPEC 4.2 DeleteJobExecution, T11, R1, R2.
            Req::DeleteExecution { job, thing, number, force } => {
                let i = self.find(job, thing, Some(number))?;
                let e = &self.execs[i];
                let allowed = match e.status {
                    XS::Succeeded | XS::Failed | XS::Rejected | XS::Removed | XS::Canceled | XS::TimedOut => {
                        true
                    }
                    XS::Queued | XS::InProgress => force,
                };
                if !allowed {
                    return refuse_with(TRANSITION, e);
                }
                ev.push(Ev::Exec(e.job.clone(), e.thing.clone(), e.number, "deleted"));
                self.touched.insert(e.job.clone());
                self.execs.remove(i);
                Ok(Out::Done)
            }
            // SPEC 4.3 UpdateJobExecution, T2–T6, R9, R13, R14.
            Req::Update { job, thing, status, expected, number, details, step } => {
                let i = self.find(job, thing, number)?;
                let e = &self.execs[i];
                if !self.visible(e) {
                    return refuse(NOT_FOUND); // SEED-CLI: devices lose access.
                }
                let settable = matches!(status, XS::InProgress | XS::Succeeded | XS::Failed | XS::Rejected);
                if !settable || is_terminal(e.status) {
                    return refuse_with(TRANSITION, e);
                }
                if expected.is_some_and(|v| v != e.version) {
                    return refuse_with(TRANSITION, e); // R13: data plane shape
                }
                self.set_status(i, status, now, ev);
                let e = &mut self.execs[i];
                if let Some(d) = details {
                    e.details = d.to_vec();
                }
                // SPEC T7, §3 timer facts: a step timer is set (or cancelled with -1) on an
                // execution that is IN_PROGRESS after the update.
                // A step timer never runs past the in-progress timer; -1 leaves only that one.
                match step {
                    Some(-1) if e.status == XS::InProgress => e.deadline = e.timeout_at,
                    Some(n) if e.status == XS::InProgress => e.deadline = step_deadline(now, n, e.timeout_at),
                    Some(_) | None => {}
                }
                let state = Out::State(e.status, e.version);
                if is_terminal(status) {
                    self.after_terminal(i, now, ev);
                }
                Ok(state)
            }
            // SPEC 4.3 StartNext, T2, T3, R19.
            Req::StartNext { thing, details, step } => {
                let Some(&i) = self.pending_all(thing).first() else { return Ok(Out::Next(None)) };
                if self.execs[i].status == XS::Queued {
                    self.set_status(i, XS::InProgress, now, ev);
                    let e = &mut self.execs[i];
                    if let Some(d) = details {
                        e.details = d.to_vec();
                    }
                    if let Some(m) = step {
                        e.deadline = step_deadline(now, i64::from(m), e.timeout_at);
                    }
                }
                let e = &self.execs[i];
                Ok(Out::Next(Some((e.job.clone(), e.number, e.status, e.version))))
            }
            // SPEC 4.2, 4.3 DescribeJobExecution, R11.
            Req::Describe { job, thing, number, data_plane } => {
                let i = self.find(job, thing, number)?;
                let e = &self.execs[i];
                if data_plane && !self.visible(e) {
                    return refuse(NOT_FOUND);
                }
                if data_plane && is_terminal(e.status) {
                    return refuse(TERMINAL);
                }
                Ok(Out::Exec(e.view()))
            }
            // Everything due by `now` happens in due-time order: timers, schedules and job
            // deletions alike; at one instant execution timeouts come first (earliest created
            // first), then job schedule events (in job creation order), then deletions.
            Req::Advance { budget } => {
                // Run to completion: the registry's work units include superseded timers the
                // model cannot see, so `work`/`more` are not compared (resumability has its own
                // property).
                let _ = budget;
                for _ in 0..100_000 {
                    let timeouts = self.execs.iter().filter(|e| e.status == XS::InProgress).filter_map(|e| {
                        let d = e.deadline?;
                        Some((d, 0, e.seq, String::new()))
                    });
                    let events =
                        self.jobs.iter().filter_map(|(id, j)| Some((j.next_event()?, 1, j.seq, id.clone())));
                    let deletions =
                        self.deleting.iter().enumerate().map(|(k, (job, d))| (*d, 2, k as u64, job.clone()));
                    let Some((due, kind, seq, id)) =
                        timeouts.chain(events).chain(deletions).filter(|t| t.0 <= now).min()
                    else {
                        break;
                    };
                    match kind {
                        0 => {
                            // SPEC T7: the in-progress or step timer ran out. Each transition of
                            // an `advance` notifies on its own (a list may change and change back).
                            let before = self.pending_lists();
                            let i = self.execs.iter().position(|e| e.seq == seq).unwrap();
                            self.set_status(i, XS::TimedOut, now, ev);
                            self.after_terminal(i, now, ev);
                            self.notify_changes(&before, ev);
                        }
                        1 => self.job_event(&id, due, now, ev),
                        _ => {
                            // SPEC §2: the deletion's delay has passed: the executions, then the job.
                            while let Some(i) = self.execs.iter().position(|e| e.job == id) {
                                let e = self.execs.remove(i);
                                ev.push(Ev::Exec(e.job, e.thing, e.number, "deleted"));
                            }
                            self.deleting.remove(seq as usize);
                            self.jobs.remove(&id);
                            ev.push(Ev::Job(id, "deleted"));
                            continue;
                        }
                    }
                    // SPEC §2: a job completes as soon as its conditions hold, before whatever
                    // else is due (its end then finds it no longer live).
                    self.complete_jobs(now, ev);
                }
                Ok(Out::Advanced { work: 0, more: false })
            }
            Req::SetDeletionDelay(s) => {
                self.deletion_delay = s;
                Ok(Out::Done)
            }
            // READING: a window may open or close for any job in the right status, with or
            // without a schedule, and after its end (the host says when its windows are).
            // SPEC §2: a SCHEDULED job goes IN_PROGRESS when its next maintenance window opens;
            // its QUEUED executions are listed again (AMBIG-13) and the rollout goes on, at its
            // pace (SPEC §6 Rollout: the next batch once its minute has come).
            Req::OpenWindow(job) => {
                let Some(j) = self.jobs.get_mut(job) else { return refuse(NOT_FOUND) };
                if j.status != JS::Scheduled {
                    return refuse(INVALID_REQUEST);
                }
                j.status = JS::InProgress;
                j.started = true;
                if j.rollout_at <= now {
                    self.roll_out(job, now);
                }
                self.touched.insert(job.to_owned());
                Ok(Out::Done)
            }
            // SPEC §2: an IN_PROGRESS job goes back to SCHEDULED at the end of its window; its
            // QUEUED executions leave the pending lists (AMBIG-13), running ones go on.
            Req::CloseWindow(job) => {
                let Some(j) = self.jobs.get_mut(job) else { return refuse(NOT_FOUND) };
                if j.status != JS::InProgress {
                    return refuse(INVALID_REQUEST);
                }
                j.status = JS::Scheduled;
                Ok(Out::Done)
            }
        }
    }
}
