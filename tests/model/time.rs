//! Time in the model: paced and exponential rollouts, a job's schedule events and windows, and
//! step deadlines (SPEC §6, T7, AMBIG-28, AMBIG-29).

use super::*;

impl Model {
    /// One rollout batch (SPEC T1, §6 Rollout): the next waiting targets get a QUEUED
    /// execution, at most `maximumPerMinute` of them; the next batch may go out a minute later.
    // READING: a waiting target that already had an execution of the job (AssociateTargetsWithJob
    // reached it first) or that is no longer a registered thing (T10: not a valid target) is
    // passed over and does not count toward the batch.
    ///
    /// With an exponential rate (AMBIG-29) the batch is the ramp's whole things a minute (at least
    /// one, at most `maximumPerMinute`): the ramp starts at the base and, before each batch, is
    /// multiplied by the factor (to a thousandth) for every further criterion's count of things
    /// notified by the rollout or executions of the job SUCCEEDED since the last increase.
    pub(super) fn roll_out(&mut self, job: &str, now: u64) {
        let succeeded =
            self.execs.iter().filter(|e| e.job == job && e.status == XS::Succeeded).count() as u32;
        let j = self.jobs.get_mut(job).unwrap();
        let mut rate = j.rate.map_or(usize::MAX, |r| r as usize);
        if let Some((base, factor, by_notified, by_succeeded)) = j.exponential {
            let (mut milli, notified, mut n_mark, mut s_mark) = j.ramp;
            if milli == 0 {
                milli = u64::from(base) * 1000;
            }
            loop {
                let n = by_notified.filter(|n| notified - n_mark >= *n);
                let s = by_succeeded.filter(|s| succeeded.saturating_sub(s_mark) >= *s);
                if n.is_none() && s.is_none() {
                    break;
                }
                milli = milli * u64::from(factor) / 10;
                n_mark += n.unwrap_or(0);
                s_mark += s.unwrap_or(0);
            }
            j.ramp = (milli, notified, n_mark, s_mark);
            rate = rate.min((milli / 1000).max(1) as usize);
        }
        let mut queued = 0;
        while let Some(t) = self.jobs[job].waiting.first().cloned() {
            let passed_over = !self.things.contains(&t) || self.jobs[job].reached.contains(&t);
            if !passed_over && queued == rate {
                break;
            }
            let j = self.jobs.get_mut(job).unwrap();
            j.waiting.remove(0);
            if !self.things.contains(&t) && !j.reached.contains(&t) {
                j.passed.insert(t.clone());
            }
            if !passed_over {
                self.queue(job, &t, now);
                queued += 1;
            }
        }
        let j = self.jobs.get_mut(job).unwrap();
        j.rollout_at = now + MINUTE;
        j.ramp.1 += queued as u32;
    }

    /// A job's schedule event at `now` (SPEC §2 SCHEDULED until `startTime`, §6 Rollout,
    /// AMBIG-12 for the end): its start (never once the end passed), else its next batch; then
    /// its end.
    /// With maintenance windows (AMBIG-28), they are looked at `due`, the instant the event was
    /// due: the job starts only in a window, a started one goes IN_PROGRESS when one opens
    /// (SPEC §2) and back to SCHEDULED when it closes (its QUEUED executions leave the pending
    /// lists, AMBIG-13); batches wait while it is SCHEDULED.
    pub(super) fn job_event(&mut self, id: &str, due: u64, now: u64, ev: &mut Vec<Ev>) {
        // The start or batch and the end each notify on their own (a target queued by the batch
        // and canceled by the end hears of both).
        let before = self.pending_lists();
        let j = &self.jobs[id];
        let end_passed = j.end.is_some_and(|e| e <= now);
        let before_end = !j.ended && !end_passed;
        let open = j.windows.as_ref().is_none_or(|w| w.open(due));
        // A job with windows and no `startTime` starts at its first window.
        let start_due = j.start.is_some_and(|s| s <= now) || (j.windows.is_some() && j.start.is_none());
        let start = j.status == JS::Scheduled && !j.started && start_due && before_end && open;
        let windowed = j.windows.is_some();
        let reopen = windowed && j.status == JS::Scheduled && j.started && before_end && open;
        let close = windowed && j.status == JS::InProgress && !j.ended && !open;
        let batch = !start
            && !reopen
            && !close
            && j.status == JS::InProgress
            && !j.waiting.is_empty()
            && j.rollout_at <= now;
        if start || reopen {
            let j = self.jobs.get_mut(id).unwrap();
            j.status = JS::InProgress;
            j.started = true;
        }
        // SPEC §6 Rollout: a first start sends the first batch; a window opening the next one
        // once its minute has come.
        if start || batch || (reopen && self.jobs[id].rollout_at <= now) {
            self.roll_out(id, now);
        }
        if close {
            self.jobs.get_mut(id).unwrap().status = JS::Scheduled;
        }
        if let Some(w) = self.jobs.get_mut(id).unwrap().windows.as_mut() {
            w.due = w.next_boundary(due);
        }
        self.notify_changes(&before, ev);
        let before = self.pending_lists();
        let j = &self.jobs[id];
        if end_passed && !j.ended && j.live() {
            let behavior = j.end_behavior;
            let j = self.jobs.get_mut(id).unwrap();
            j.ended = true;
            // AMBIG-12: every behaviour stops the rollout; CANCEL cancels the job (QUEUED
            // executions), FORCE_CANCEL also its IN_PROGRESS ones; STOP_ROLLOUT leaves them.
            j.waiting.clear();
            match behavior {
                JobEndBehavior::StopRollout => {}
                JobEndBehavior::Cancel => self.cancel(id, false, None, now, ev),
                JobEndBehavior::ForceCancel => self.cancel(id, true, None, now, ev),
            }
        }
        self.notify_changes(&before, ev);
        self.touched.insert(id.to_owned());
    }
}

/// A step deadline `n` minutes from `now` (SPEC T7), but never after the in-progress timer's
/// end `cap`; one at the end of time never fires.
pub(super) fn step_deadline(now: u64, n: i64, cap: Option<u64>) -> Option<u64> {
    let d = now.saturating_add(u64::try_from(n).unwrap_or(0).saturating_mul(60));
    let d = cap.map_or(d, |c| d.min(c));
    (d != u64::MAX).then_some(d)
}
