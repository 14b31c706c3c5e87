//! The state machine behind the API.

use super::read::Execution;
use super::*;

impl<const DOC: usize> Core<DOC> {
    /// StartNext, or describe `$next` where StartNext has no topic (SPEC 7.3, AMBIG-8).
    pub(super) const fn start_request(&self) -> Request {
        if self.namespace.is_some() { Request::DescribeNext } else { Request::StartNext }
    }

    pub(super) fn same_namespace(&self, namespace: Option<NamespaceIdRef<'_>>) -> bool {
        namespace.map(NamespaceIdRef::as_str) == self.namespace.as_ref().map(NamespaceId::as_str)
    }

    pub(super) fn note(&mut self, note: Note) {
        if self.notes.push_back(note).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    /// What a message on `topic` is to this agent (SPEC §7: a client checks that the thing of
    /// a topic is its own).
    pub(super) fn inbound<'t>(&self, topic: Topic<'t>) -> Result<Inbound<'t>, AgentError> {
        if topic.thing().is_some_and(|t| t.as_str() != self.thing.as_str()) {
            return Err(AgentError::OtherThing);
        }
        Ok(match topic {
            Topic::NotifyNext { namespace, .. } if self.same_namespace(namespace) => Inbound::NotifyNext,
            Topic::GetPending { reply: Some(reply), .. } if self.namespace.is_none() => {
                Inbound::Reply(ReplyTo::Pending, reply)
            }
            Topic::StartNext { reply: Some(reply), .. } if self.namespace.is_none() => {
                Inbound::Reply(ReplyTo::StartNext, reply)
            }
            Topic::Describe { job, namespace, reply: Some(reply), .. } if self.same_namespace(namespace) => {
                match job {
                    JobSelector::Next => Inbound::Reply(ReplyTo::DescribeNext, reply),
                    JobSelector::Id(job) => Inbound::Reply(ReplyTo::Describe(job), reply),
                }
            }
            Topic::Update { job, namespace, reply: Some(reply), .. } if self.same_namespace(namespace) => {
                Inbound::Reply(ReplyTo::Update(job), reply)
            }
            Topic::GetPending { .. }
            | Topic::StartNext { .. }
            | Topic::Describe { .. }
            | Topic::Update { .. }
            | Topic::Notify { .. }
            | Topic::NotifyNext { .. }
            | Topic::DocumentedNotify { .. }
            | Topic::JobEvent { .. }
            | Topic::ExecutionEvent { .. } => return Err(AgentError::Unexpected),
        })
    }

    /// Whether a reply on this topic answers the request in flight.
    pub(super) fn expecting(&self, to: ReplyTo<'_>) -> Result<(), AgentError> {
        let outbox =
            self.outbox.as_ref().filter(|o| o.first_token.is_some()).ok_or(AgentError::Unsolicited)?;
        let ours = |job: JobIdRef<'_>| self.job.as_ref().is_some_and(|j| j.id.as_str() == job.as_str());
        let matches = match (&outbox.request, to) {
            (Request::StartNext, ReplyTo::StartNext)
            | (Request::DescribeNext | Request::Identify { .. }, ReplyTo::DescribeNext)
            | (Request::Pending { .. }, ReplyTo::Pending) => true,
            (Request::Describe, ReplyTo::Describe(job)) | (Request::Update(_), ReplyTo::Update(job)) => {
                ours(job)
            }
            (
                Request::StartNext
                | Request::DescribeNext
                | Request::Identify { .. }
                | Request::Pending { .. }
                | Request::Describe
                | Request::Update(_),
                ReplyTo::Pending
                | ReplyTo::StartNext
                | ReplyTo::DescribeNext
                | ReplyTo::Describe(_)
                | ReplyTo::Update(_),
            ) => false,
        };
        if matches { Ok(()) } else { Err(AgentError::Unsolicited) }
    }

    pub(super) fn check_token(&self, token: Option<&str>) -> Result<(), AgentError> {
        match &self.outbox {
            Some(outbox) if outbox.answers(token) => Ok(()),
            Some(_) | None => Err(AgentError::Unsolicited),
        }
    }

    /// A report of the application (see [`Agent::report`], [`Agent::report_progress`]).
    pub(super) fn submit(
        &mut self,
        status: ExecutionStatus,
        details: Option<&StatusDetails<'_>>,
        step_timeout: Option<StepTimeout>,
    ) -> Result<(), AgentError> {
        let job = self.job.as_mut().filter(|j| j.announced()).ok_or(AgentError::NoJob)?;
        if job.finishing() {
            return Err(AgentError::Finishing);
        }
        // SPEC T4, R9: a device sets only IN_PROGRESS, SUCCEEDED, FAILED, REJECTED.
        if !status.is_device_settable() {
            return Err(AgentError::StatusNotAllowed(status));
        }
        let details = details.map(keep_details).transpose()?;
        let terminal = status.is_terminal();
        job.reach(if terminal { JobPhase::Finishing } else { JobPhase::Delivered });
        let replaced = self.pending.take();
        let (old_details, old_step) = replaced.map_or((None, None), |r| (r.details, r.step_timeout));
        // SPEC timer-step: only an IN_PROGRESS update sets the step timer.
        let step_timeout = if terminal { None } else { step_timeout.or(old_step) };
        self.pending = Some(Report { status, details: details.or(old_details), step_timeout });
        self.schedule();
        Ok(())
    }

    /// When the running job is to be described again, or an idle agent is to ask for the next
    /// job ([`Config::check_interval_secs`]): nothing in flight (a final report stays in flight
    /// until it is answered, and the job ends with it; a job not yet announced has its claim or
    /// check in flight).
    pub(super) fn check_due(&self) -> Option<Timestamp> {
        let every = self.config.check_interval_secs?.max(1);
        self.outbox.is_none().then(|| self.settled.saturating_add(every))
    }

    /// The periodic check ([`Core::check_due`]) at `now`.
    pub(super) fn check(&mut self, now: Timestamp) {
        if self.check_due().is_none_or(|due| due > now) {
            return;
        }
        if self.job.is_some() {
            self.verify = true;
            self.schedule();
        } else {
            self.outbox = Some(Outbox::new(self.start_request()));
        }
    }

    /// Sends the next request if none is in progress: the application's report first (an
    /// accepted update also proves the execution is still ours), then a pending check.
    pub(super) fn schedule(&mut self) {
        if self.outbox.is_some() {
            return;
        }
        let Some(job) = &self.job else { return };
        if !job.claimed() {
            return;
        }
        if let Some(report) = self.pending.take() {
            self.outbox = Some(Outbox::new(Request::Update(report)));
        } else if self.verify {
            self.verify = false;
            self.outbox = Some(Outbox::new(Request::Describe));
        }
    }

    /// Queues Run (or DocumentTooLarge, UnreadableJob, MessageTooLarge) for the current job.
    pub(super) fn announce(&mut self) {
        let Some(job) = self.job.as_mut() else { return };
        job.reach(JobPhase::Announced);
        let seq = job.seq;
        self.note(Note::Announce { seq });
    }

    pub(super) fn announcement(&mut self) -> Option<AgentEvent<'_>> {
        let job = self.job.as_mut()?;
        job.reach(JobPhase::Delivered);
        let (job_id, execution_number) = (job.id.clone(), job.number);
        Some(match job.document {
            Document::Kept => AgentEvent::Run {
                job_id,
                execution_number,
                version: job.version,
                document: self.document.as_slice(),
            },
            Document::TooLarge(len) => {
                AgentEvent::DocumentTooLarge { job_id, execution_number, len, capacity: DOC }
            }
            Document::Unreadable(error) => AgentEvent::UnreadableJob { job_id, execution_number, error },
            Document::Undelivered(len) => AgentEvent::MessageTooLarge { job_id, execution_number, len },
        })
    }

    /// Ends the current job, tells the application if it knew of the job, and asks for the
    /// next one, unless the execution may still be IN_PROGRESS on the service (a report that
    /// went unanswered or was refused, or whose answer could not be read): a StartNext would
    /// hand the same execution over again at once. The agent then waits for a reconnection, a
    /// notification or its periodic check.
    pub(super) fn end_job(&mut self, end: End) {
        let still_pending = match &end {
            End::Lost(
                LostReason::RetriesExhausted { .. }
                | LostReason::Refused(_)
                | LostReason::MessageTooLarge { .. },
            ) => true,
            End::Finished { .. } | End::Canceled(_) | End::Lost(LostReason::Deleted) => false,
        };
        self.outbox = (!still_pending).then(|| Outbox::new(self.start_request()));
        self.pending = None;
        self.verify = false;
        self.recheck = false;
        let Some(job) = self.job.take() else { return };
        let delivered = job.delivered();
        let (job_id, number) = (job.id, job.number);
        let note = match end {
            End::Finished { status, version } => Note::Finished { job_id, number, status, version },
            End::Canceled(status) => Note::Canceled { job_id, number, status },
            End::Lost(reason) => Note::Lost { job_id, number, reason },
        };
        // A job whose announcement was never polled ends unseen.
        if delivered {
            self.note(note);
        }
    }

    /// A retryable rejection: back off, or give up after the last attempt.
    pub(super) fn retry_later(&mut self, now: Timestamp, code: ErrorCode) {
        let config = self.config;
        let Some(outbox) = self.outbox.as_mut() else { return };
        outbox.last_error = Some(code);
        if !outbox.may_resend(&config) {
            self.give_up();
            return;
        }
        let doubling = u32::from(outbox.attempts.saturating_sub(1));
        let factor = 1_u64.checked_shl(doubling).unwrap_or(u64::MAX);
        let delay = config.backoff_initial_secs.saturating_mul(factor).min(config.backoff_max_secs);
        let delay = if config.jitter { jittered(delay, &mut self.rng) } else { delay };
        outbox.phase = Phase::Waiting { until: now.saturating_add(delay) };
    }

    /// Sends the request again at once after a resynchronisation, within the attempt budget.
    pub(super) fn resend(&mut self) {
        match self.outbox.as_mut() {
            Some(outbox) if outbox.may_resend(&self.config) => outbox.phase = Phase::Ready,
            Some(_) | None => self.give_up(),
        }
    }

    pub(super) fn give_up(&mut self) {
        let Some(outbox) = self.outbox.take() else { return };
        let last = outbox.last_error;
        match outbox.request {
            // Not one attempt was answered, where a smaller reply might be: which execution did
            // the service hand over? (A device client may drop what it cannot hold unseen.)
            Request::StartNext | Request::DescribeNext if last.is_none() => {
                self.outbox = Some(Outbox::new(Request::Identify { len: None }));
            }
            // Nor was the describe's, which still carries statusDetails: ask for the list.
            Request::Identify { len } if last.is_none() && self.namespace.is_none() => {
                self.outbox = Some(Outbox::new(Request::Pending { len }));
            }
            Request::StartNext
            | Request::DescribeNext
            | Request::Identify { .. }
            | Request::Pending { .. } => {
                self.note(Note::Error(AgentError::RetriesExhausted { last }));
            }
            Request::Describe => {
                // Only a check: the job keeps running.
                self.note(Note::Error(AgentError::RetriesExhausted { last }));
                self.schedule();
            }
            Request::Update(_) => self.end_job(End::Lost(LostReason::RetriesExhausted { last })),
        }
    }

    // ---- notifications ----------------------------------------------------------------------

    /// `notify-next` (SPEC 7.2): the head of the pending list changed. `next`: the execution
    /// at the head, `None` when nothing is pending or the message could not be held
    /// (`unread`: it names an execution, since one that names none is a few bytes).
    pub(super) fn on_notify_next(&mut self, next: Option<&Execution<'_>>, unread: bool) {
        let names_one = next.is_some() || unread;
        let Some(job) = &self.job else {
            match self.outbox.as_mut() {
                // Idle: a job is pending; ask for it (SPEC T2).
                None if names_one => self.outbox = Some(Outbox::new(self.start_request())),
                None => {}
                // The StartNext in flight may have been answered before this job was queued,
                // or it may hand over an execution that has since left the head (canceled,
                // deleted, timed out): its answer is checked.
                Some(outbox) => {
                    let sent = outbox.first_token.is_some();
                    outbox.noticed |= sent;
                    self.recheck |= sent && names_one;
                }
            }
            return;
        };
        // SPEC §8, R6: (jobId, executionNumber) names an execution and its version only grows,
        // so the running execution at its version or later, still pending, is a duplicate.
        let duplicate = next.is_some_and(|x| {
            x.job_id == job.id.as_str()
                && x.number == job.number
                && x.version >= job.version
                && (x.status == ExecutionStatus::InProgress || !job.claimed())
        });
        // A final report moves the head itself (SPEC 7.2); otherwise the execution may have
        // been canceled, timed out, removed or deleted, or its number reused (R7): describe it
        // rather than trust a notification that may be late.
        if duplicate || job.finishing() {
            return;
        }
        self.verify = true;
        if let Some(outbox) = self.outbox.as_mut() {
            outbox.noticed |= outbox.first_token.is_some();
        }
        self.schedule();
    }

    // ---- replies ----------------------------------------------------------------------------

    /// StartNext / describe `$next` accepted (SPEC 4.3, R19: no `execution` when nothing is
    /// pending).
    pub(super) fn on_next(&mut self, execution: Option<&Execution<'_>>) -> Result<(), AgentError> {
        let undelivered = match self.outbox.as_ref().map(|o| &o.request) {
            Some(Request::Identify { len } | Request::Pending { len }) => Some(*len),
            Some(Request::StartNext | Request::DescribeNext | Request::Describe | Request::Update(_))
            | None => None,
        };
        // The reply the device could not receive handed over the execution at the head: one
        // StartNext made IN_PROGRESS, or one a namespace agent found QUEUED and claims. A plain
        // agent's QUEUED head is not one StartNext handed over (it would be IN_PROGRESS).
        let handed_over = |x: &Execution<'_>| {
            x.status.is_pending()
                && (undelivered.is_none()
                    || x.status == ExecutionStatus::InProgress
                    || self.namespace.is_some())
        };
        let Some(x) = execution.filter(|x| handed_over(x)) else {
            self.outbox = None;
            if let Some(len) = undelivered {
                self.note(Note::Error(match len {
                    Some(len) => AgentError::MessageTooLarge { len },
                    None => AgentError::RetriesExhausted { last: None },
                }));
            }
            if core::mem::take(&mut self.recheck) {
                self.outbox = Some(Outbox::new(self.start_request()));
            }
            return Ok(());
        };
        let id = JobId::new(x.job_id).map_err(|e| AgentError::Malformed(WireError::Field(e)))?;
        // Into the agent's own buffer, in place (the message is in the caller's payload or the
        // agent's scratch, never in this buffer).
        self.document.clear();
        let document = match (undelivered, x.document) {
            (Some(len), _) => Document::Undelivered(len),
            (None, Ok(raw)) if self.document.extend_from_slice(raw).is_ok() => Document::Kept,
            (None, Ok(raw)) => Document::TooLarge(raw.len()),
            (None, Err(error)) => Document::Unreadable(error),
        };
        self.seq = self.seq.wrapping_add(1);
        // SPEC T2: StartNext moved a QUEUED execution to IN_PROGRESS. A namespace agent found it
        // with describe and claims a QUEUED one itself.
        let claimed = x.status == ExecutionStatus::InProgress;
        // A notification that arrived while the request was in flight may tell of a change
        // after it was answered: the execution is described before it is announced.
        let noticed = self.outbox.take().is_some_and(|o| o.noticed);
        self.recheck = false;
        self.pending = None;
        self.verify = claimed && noticed;
        let phase = if self.verify { JobPhase::Checking } else { JobPhase::Claiming };
        self.job = Some(Job { id, number: x.number, version: x.version, document, seq: self.seq, phase });
        if self.verify {
            self.schedule();
        } else if claimed {
            self.announce();
        } else {
            // SPEC timer-step: the claim starts the step timer, as StartNext does.
            let step_timeout = self.config.step_timeout.map(|m| StepTimeout::Minutes(m.get()));
            let claim = Report { status: ExecutionStatus::InProgress, details: None, step_timeout };
            self.outbox = Some(Outbox::new(Request::Update(claim)));
        }
        Ok(())
    }

    /// The current execution described: still ours, or gone.
    pub(super) fn on_described(&mut self, execution: Option<&Execution<'_>>) {
        let Some(job) = &self.job else { return };
        let x = execution.filter(|x| x.job_id == job.id.as_str() && x.number == job.number);
        let end = match x {
            // SPEC 3.1: terminal without the device (T7, T9, T10).
            Some(x) if x.status.is_terminal() => Some(End::Canceled(Some(x.status))),
            // R7: the number names a newer execution (an execution never returns to QUEUED, and
            // its version never shrinks): ours was deleted.
            Some(x) if x.version < job.version || (x.status == ExecutionStatus::Queued && job.claimed()) => {
                Some(End::Lost(LostReason::Deleted))
            }
            Some(_) => None,
            None => Some(End::Lost(LostReason::Deleted)),
        };
        match end {
            Some(end) => self.end_job(end),
            None => self.still_ours(x.map(|x| x.version)),
        }
    }

    /// The check found the current execution still pending, at `version` if the reply could
    /// be read.
    pub(super) fn still_ours(&mut self, version: Option<VersionNumber>) {
        if let (Some(job), Some(version)) = (self.job.as_mut(), version) {
            job.version = version;
        }
        self.outbox = None;
        // A claim checked after a notification (`update_done`) is the application's now.
        if self.job.as_ref().is_some_and(|j| !j.announced()) {
            self.announce();
        }
        self.schedule();
    }

    /// A reply of `len` bytes to the request in flight that the device's MQTT client could not
    /// hold (see [`Agent::handle_oversized`]).
    pub(super) fn on_unread_reply(&mut self, reply: Reply, len: usize) {
        let Some(outbox) = &self.outbox else { return };
        let error = Note::Error(AgentError::MessageTooLarge { len });
        match (reply, &outbox.request) {
            // The execution the service handed over, with its document: which is it?
            (Reply::Accepted, Request::StartNext | Request::DescribeNext) => {
                self.outbox = Some(Outbox::new(Request::Identify { len: Some(len) }));
            }
            // Its statusDetails did not fit either: the list names it without them.
            (Reply::Accepted, Request::Identify { len: first }) if self.namespace.is_none() => {
                self.outbox = Some(Outbox::new(Request::Pending { len: first.or(Some(len)) }));
            }
            // Accepted: the device plane describes only pending executions (SPEC R11).
            (Reply::Accepted, Request::Describe) => self.still_ours(None),
            (Reply::Accepted, Request::Update(_)) => self.on_updated(None),
            // Only a check failed: the job keeps running.
            (Reply::Rejected, Request::Describe) => {
                self.outbox = None;
                self.note(error);
                self.schedule();
            }
            (Reply::Rejected, Request::Update(_)) => {
                self.end_job(End::Lost(LostReason::MessageTooLarge { len }));
            }
            (Reply::Accepted | Reply::Rejected, Request::Identify { .. } | Request::Pending { .. })
            | (Reply::Rejected, Request::StartNext | Request::DescribeNext) => {
                self.outbox = None;
                self.note(error);
            }
        }
    }

    /// UpdateJobExecution accepted (SPEC 4.3): `version` from `executionState`, else the next
    /// version (R6: +1 per accepted change).
    pub(super) fn on_updated(&mut self, version: Option<VersionNumber>) {
        let Some(Outbox { request: Request::Update(report), .. }) = &self.outbox else { return };
        let status = report.status;
        let Some(job) = self.job.as_ref() else { return };
        let version = version.or_else(|| job.version.next()).unwrap_or(job.version);
        self.update_done(status, version);
    }

    pub(super) fn update_done(&mut self, status: ExecutionStatus, version: VersionNumber) {
        if status.is_terminal() {
            self.end_job(End::Finished { status, version });
            return;
        }
        let Some(job) = self.job.as_mut() else { return };
        job.version = version;
        let claim = !job.claimed();
        // An accepted update proves the execution was still ours when it was applied: that
        // settles a notification received before it was sent, not one received while it was in
        // flight, which may tell of a later change (a cancel, a deletion).
        let noticed = self.outbox.take().is_some_and(|o| o.noticed);
        self.verify = noticed;
        if claim {
            job.reach(JobPhase::Checking);
            if !noticed {
                self.announce();
            }
        }
        self.schedule();
    }

    /// Any `…/rejected` (SPEC §4.4).
    pub(super) fn on_rejected(&mut self, now: Timestamp, error: &ErrorResponse<'_>) {
        let code = error.code;
        let Some(outbox) = &self.outbox else { return };
        let sent = match &outbox.request {
            Request::StartNext
            | Request::DescribeNext
            | Request::Identify { .. }
            | Request::Pending { .. } => None,
            Request::Describe => {
                self.on_describe_rejected(now, code);
                return;
            }
            Request::Update(report) => {
                let theirs = error.execution_state.as_ref().and_then(|s| s.status_details.as_ref());
                let same =
                    report.details.as_ref().zip(theirs).is_some_and(|(ours, theirs)| same_map(ours, theirs));
                Some((report.status, same))
            }
        };
        match sent {
            Some((sent, same_details)) => {
                let state = error.execution_state.as_ref().map(|s| (s.status, s.version_number));
                self.on_update_rejected(now, code, sent, same_details, state);
            }
            None if code.is_retryable() => self.retry_later(now, code),
            None => {
                self.outbox = None;
                self.note(Note::Error(AgentError::Refused(code)));
            }
        }
    }

    pub(super) fn on_describe_rejected(&mut self, now: Timestamp, code: ErrorCode) {
        match code {
            // SPEC R11: the device plane describes only pending executions.
            ErrorCode::TerminalStateReached => self.end_job(End::Canceled(None)),
            // SPEC 4.2 DeleteJobExecution, DeleteJob: gone.
            ErrorCode::ResourceNotFound => self.end_job(End::Lost(LostReason::Deleted)),
            ErrorCode::RequestThrottled | ErrorCode::InternalError => self.retry_later(now, code),
            ErrorCode::InvalidTopic
            | ErrorCode::InvalidJson
            | ErrorCode::InvalidRequest
            | ErrorCode::InvalidStateTransition
            | ErrorCode::VersionMismatch => {
                // Only a check failed: keep running.
                self.outbox = None;
                self.note(Note::Error(AgentError::Refused(code)));
                self.schedule();
            }
        }
    }

    /// A rejected update of the status `sent`; `same_details`: the state the ErrorResponse
    /// carries holds the statusDetails the update sent.
    pub(super) fn on_update_rejected(
        &mut self,
        now: Timestamp,
        code: ErrorCode,
        sent: ExecutionStatus,
        same_details: bool,
        state: Option<(ExecutionStatus, VersionNumber)>,
    ) {
        let claimed = self.job.as_ref().is_some_and(Job::claimed);
        match (code, state) {
            // SPEC §4.4, R13: the ErrorResponse carries the execution's state; resync from it
            // (GG-LITE `update_job`).
            (ErrorCode::VersionMismatch | ErrorCode::InvalidStateTransition, Some((status, version))) => {
                if status == sent && (status.is_terminal() || same_details) {
                    // An earlier attempt of this very report was applied (its reply was lost):
                    // the final status, or the progress report's status and statusDetails.
                    self.update_done(status, version);
                } else if status.is_terminal() {
                    // SPEC T6, T7, T9, T10: the service ended it: forced cancel, timeout, removal.
                    self.end_job(End::Canceled(Some(status)));
                } else if status == ExecutionStatus::Queued && claimed {
                    // R7: an execution never returns to QUEUED: the number names a new one.
                    self.end_job(End::Lost(LostReason::Deleted));
                } else {
                    // Still pending: send the update again with the current expectedVersion.
                    if let Some(job) = self.job.as_mut() {
                        job.version = version;
                    }
                    if let Some(outbox) = self.outbox.as_mut() {
                        outbox.last_error = Some(code);
                    }
                    self.resend();
                }
            }
            // SPEC 4.2: a deleted execution or job (DeleteJobExecution / DeleteJob with force):
            // the device can no longer update it.
            (ErrorCode::ResourceNotFound, _) => self.end_job(End::Lost(LostReason::Deleted)),
            // SPEC R11.
            (ErrorCode::TerminalStateReached, _) => self.end_job(End::Canceled(None)),
            // SPEC §4.4: throttling and internal errors are transient.
            (ErrorCode::RequestThrottled | ErrorCode::InternalError, _) => self.retry_later(now, code),
            // The request itself is wrong: never retried.
            (
                ErrorCode::InvalidTopic
                | ErrorCode::InvalidJson
                | ErrorCode::InvalidRequest
                | ErrorCode::InvalidStateTransition
                | ErrorCode::VersionMismatch,
                _,
            ) => self.end_job(End::Lost(LostReason::Refused(code))),
        }
    }

    // ---- output -----------------------------------------------------------------------------

    /// Writes `request` with clientToken `token`: the topic at the start of `buf`, the payload
    /// right after it.
    pub(super) fn write<'b>(
        &self,
        request: &Request,
        token: u32,
        buf: &'b mut [u8],
    ) -> Result<Transmit<'b>, AgentError> {
        let thing = ThingNameRef::from(&self.thing);
        let namespace = self.namespace.as_ref().map(NamespaceIdRef::from);
        let job = self.job.as_ref();
        let job_ref = || job.map(|j| JobIdRef::from(&j.id)).ok_or(AgentError::NoJob);
        // SPEC 7.1, 7.3, R8.
        let topic = |reply| {
            Ok(match request {
                Request::Pending { .. } => Topic::GetPending { thing, reply },
                Request::StartNext => Topic::StartNext { thing, reply },
                Request::DescribeNext | Request::Identify { .. } => {
                    Topic::Describe { thing, job: JobSelector::Next, namespace, reply }
                }
                Request::Describe => {
                    Topic::Describe { thing, job: JobSelector::Id(job_ref()?), namespace, reply }
                }
                Request::Update(_) => Topic::Update { thing, job: job_ref()?, namespace, reply },
            })
        };
        // SPEC lim-topic: IoT Core closes the connection of a client that publishes past its
        // limits, and answers on a reply topic longer than the request's.
        let answer = topic(Some(Reply::Accepted))?;
        if !answer.is_within_broker_limits() {
            return Err(AgentError::TopicTooLong { len: answer.encoded_len() });
        }
        let topic = topic(None)?;
        let too_small = AgentError::BufferTooSmall { available: buf.len() };
        let (topic_buf, payload_buf) = buf.split_at_mut_checked(topic.encoded_len()).ok_or(too_small)?;
        let topic = topic.write_to(topic_buf).map_err(|_| too_small)?;
        let mut digits = [0; 10];
        let client_token = Some(decimal(token, &mut digits));
        let payload = match request {
            Request::Pending { .. } => GetPendingRequest { client_token }.serialize(payload_buf),
            // SPEC 4.3 StartNextPendingJobExecution.
            Request::StartNext => StartNextRequest {
                status_details: None,
                step_timeout: self.config.step_timeout.map(|m| StepTimeout::Minutes(m.get())),
                client_token,
            }
            .serialize(payload_buf),
            // SPEC 7.1: includeJobDocument defaults to true.
            Request::DescribeNext => {
                DescribeRequest { execution_number: None, include_job_document: true, client_token }
                    .serialize(payload_buf)
            }
            Request::Identify { .. } => {
                DescribeRequest { execution_number: None, include_job_document: false, client_token }
                    .serialize(payload_buf)
            }
            Request::Describe => DescribeRequest {
                execution_number: job.map(|j| j.number),
                include_job_document: false,
                client_token,
            }
            .serialize(payload_buf),
            // SPEC 4.3 UpdateJobExecution: expectedVersion (R13), executionNumber (§8), and the
            // new state in the reply.
            Request::Update(report) => {
                let status_details = report.details.as_ref().map(kept_details).transpose()?;
                let job = job.ok_or(AgentError::NoJob)?;
                // The state would carry the statusDetails that kept the execution from the
                // agent (`Request::Pending`): the version is then the next one (R6).
                let undelivered = matches!(job.document, Document::Undelivered(_));
                UpdateRequest {
                    status: report.status,
                    status_details,
                    expected_version: Some(job.version),
                    execution_number: Some(job.number),
                    include_job_execution_state: !undelivered,
                    include_job_document: false,
                    step_timeout: report.step_timeout,
                    client_token,
                }
                .serialize(payload_buf)
            }
        }
        .map_err(|e| match e {
            WireError::BufferTooSmall => too_small,
            WireError::Json(_)
            | WireError::Field(_)
            | WireError::UnknownValue { .. }
            | WireError::Missing { .. }
            | WireError::TooLong { .. }
            | WireError::NotAllowed { .. }
            | WireError::ScratchTooSmall => AgentError::Malformed(e),
        })?;
        Ok(Transmit { topic, payload })
    }
}

/// `n` in decimal, written to the end of `buf`.
pub(super) fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    while let Some(i) = start.checked_sub(1)
        && let Some(slot) = buf.get_mut(i)
    {
        *slot = b'0'.wrapping_add(u8::try_from(n.wrapping_rem(10)).unwrap_or(0));
        start = i;
        n = n.wrapping_div(10);
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or("0")
}

/// The first state of the jitter generator: FNV-1a of `thing`, mixed with `first_token` (so a
/// boot that starts its tokens elsewhere draws other delays); never 0, where xorshift stays.
pub(super) fn jitter_seed(thing: &[u8], first_token: u32) -> u32 {
    let hash = thing.iter().fold(0x811C_9DC5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193));
    (hash ^ first_token.wrapping_mul(0x9E37_79B9)).max(1)
}

/// `delay` drawn from `delay/2..=delay` with the next number of the xorshift32 generator `rng`.
pub(super) fn jittered(delay: u64, rng: &mut u32) -> u64 {
    let mut x = *rng;
    x ^= x.wrapping_shl(13);
    x ^= x.wrapping_shr(17);
    x ^= x.wrapping_shl(5);
    *rng = x;
    let floor = delay / 2;
    let span = delay.saturating_sub(floor).saturating_add(1);
    floor.saturating_add(u64::from(x).checked_rem(span).unwrap_or(0))
}

/// Whether the stored map `ours` and `theirs` hold the same pairs, in any order (keys are
/// unique in both).
fn same_map(ours: &Details, theirs: &StatusDetails<'_>) -> bool {
    ours.pairs().count() == theirs.len() && ours.pairs().all(|(k, v)| theirs.get(k) == Some(v))
}
