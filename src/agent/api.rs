//! The public API: inputs, outputs and timers.

use super::read::{Carrier, Execution, read_execution};
use super::*;

impl<const DOC: usize> Agent<DOC> {
    /// An agent for `thing` (and `namespace`, SPEC 7.3), with its first request queued:
    /// StartNextPendingJobExecution, or describe `$next` in a namespace.
    #[must_use]
    pub fn new(thing: &ThingName, namespace: Option<&NamespaceId>, config: Config) -> Self {
        let mut core = Core {
            thing: thing.clone(),
            namespace: namespace.cloned(),
            config,
            job: None,
            document: heapless::Vec::new(),
            outbox: None,
            pending: None,
            verify: false,
            recheck: false,
            token: config.first_client_token,
            rng: machine::jitter_seed(thing.as_str().as_bytes(), config.first_client_token),
            seq: 0,
            notes: heapless::Deque::new(),
            dropped: 0,
            blocked: false,
            settled: Timestamp(0),
        };
        core.outbox = Some(Outbox::new(core.start_request()));
        Self { core, scratch: [0; SCRATCH_LEN] }
    }

    /// The filters to subscribe to, once per connection: `notify-next`, the StartNext and
    /// GetPendingJobExecutions replies (without a namespace: neither has a namespace form) and
    /// the describe and update replies of every job (SPEC 7.1–7.3). That is 9 filters, or 5
    /// with a namespace: IoT Core takes at most 8 in one SUBSCRIBE (SPEC lim-topic), so send
    /// them in more than one.
    ///
    /// IoT Core delivers replies to the publishing client without a subscription (SPEC §7);
    /// subscribing anyway is harmless there and needed with brokers that route them like any
    /// other topic. The device's policy must allow it to publish to the request topics of
    /// each: the agent asks GetPendingJobExecutions only to name an execution whose replies
    /// did not fit the device's MQTT client ([Buffers](crate::agent#buffers)).
    pub fn subscriptions(&self) -> impl Iterator<Item = Subscription<'_>> {
        let thing = ThingNameRef::from(&self.core.thing);
        let namespace = self.core.namespace.as_ref().map(NamespaceIdRef::from);
        let plain = |s| namespace.is_none().then_some(s);
        let any = |operation, reply| Subscription::AnyJob { thing, namespace, operation, reply };
        [
            Some(Subscription::Topic(Topic::NotifyNext { thing, namespace })),
            plain(Subscription::Topic(Topic::StartNext { thing, reply: Some(Reply::Accepted) })),
            plain(Subscription::Topic(Topic::StartNext { thing, reply: Some(Reply::Rejected) })),
            plain(Subscription::Topic(Topic::GetPending { thing, reply: Some(Reply::Accepted) })),
            plain(Subscription::Topic(Topic::GetPending { thing, reply: Some(Reply::Rejected) })),
            Some(any(JobOperation::Get, Reply::Accepted)),
            Some(any(JobOperation::Get, Reply::Rejected)),
            Some(any(JobOperation::Update, Reply::Accepted)),
            Some(any(JobOperation::Update, Reply::Rejected)),
        ]
        .into_iter()
        .flatten()
    }

    /// Takes one message the device received on `topic`.
    ///
    /// # Errors
    ///
    /// The message is ignored, and nothing changes, when the topic is not a Jobs topic
    /// ([`AgentError::Topic`]), belongs to another thing ([`AgentError::OtherThing`]), is not
    /// one the agent consumes ([`AgentError::Unexpected`]), is a reply to no request in flight
    /// ([`AgentError::Unsolicited`]), or its payload is malformed ([`AgentError::Malformed`];
    /// but see [`AgentEvent::UnreadableJob`] and the [module docs](crate::agent)).
    pub fn handle(&mut self, now: Timestamp, topic: &str, payload: &[u8]) -> Result<(), AgentError> {
        let topic = Topic::parse(topic).map_err(AgentError::Topic)?;
        let Self { core, scratch } = self;
        let (to, reply) = match core.inbound(topic)? {
            Inbound::NotifyNext => {
                return read_execution(payload, scratch, Carrier::Notification, |_, x| {
                    core.on_notify_next(x.as_ref(), false);
                    Ok(())
                });
            }
            Inbound::Reply(to, reply) => (to, reply),
        };
        core.expecting(to)?;
        match (to, reply) {
            (_, Reply::Rejected) => {
                let msg = ErrorResponse::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_rejected(now, &msg);
            }
            (ReplyTo::Pending, Reply::Accepted) => {
                let msg = PendingHead::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_next(msg.in_progress.as_ref().map(Execution::in_progress).as_ref())?;
            }
            (ReplyTo::StartNext | ReplyTo::DescribeNext, Reply::Accepted) => {
                read_execution(payload, scratch, Carrier::Reply, |token, x| {
                    core.check_token(token)?;
                    core.on_next(x.as_ref())
                })?;
            }
            (ReplyTo::Describe(_), Reply::Accepted) => {
                read_execution(payload, scratch, Carrier::Reply, |token, x| {
                    core.check_token(token)?;
                    core.on_described(x.as_ref());
                    Ok(())
                })?;
            }
            (ReplyTo::Update(_), Reply::Accepted) => {
                let msg = UpdateResponse::parse(payload, scratch).map_err(AgentError::Malformed)?;
                core.check_token(msg.client_token)?;
                core.on_updated(msg.execution_state.map(|s| s.version_number));
            }
        }
        core.settled = now;
        Ok(())
    }

    /// Takes a message the device received on `topic` but could not hold: its payload of `len`
    /// bytes did not fit the MQTT client's receive buffer (a client that reads a PUBLISH's topic
    /// before its payload can tell; see [Buffers](crate::agent#buffers)). The agent acts on what
    /// the topic says:
    ///
    /// * a StartNext or describe `$next` reply: it handed over an execution with its document.
    ///   The agent describes `$next` again without the document (and if that does not fit
    ///   either, asks GetPendingJobExecutions) and hands the execution to the application as
    ///   [`AgentEvent::MessageTooLarge`], to reject;
    /// * `notify-next`: a notification of an execution the agent cannot see (as if it named
    ///   another job);
    /// * an accepted describe or update of the current execution: accepted, at a version the
    ///   agent cannot read (the next update's `expectedVersion` may be refused and resynced);
    /// * a rejected one: [`AgentError::MessageTooLarge`], or for an update the job is
    ///   [`LostReason::MessageTooLarge`] (the state it carries cannot be resynced from).
    ///
    /// A client that drops such a message without a word needs no call: a StartNext (or
    /// describe `$next`) none of whose attempts is answered is followed by the same describe
    /// without the document, and that by GetPendingJobExecutions.
    ///
    /// # Errors
    ///
    /// As [`Agent::handle`] for the topic (the clientToken, which is in the payload, cannot be
    /// checked: the reply is taken by its topic); nothing changes.
    pub fn handle_oversized(&mut self, topic: &str, len: usize) -> Result<(), AgentError> {
        let topic = Topic::parse(topic).map_err(AgentError::Topic)?;
        let core = &mut self.core;
        match core.inbound(topic)? {
            Inbound::NotifyNext => core.on_notify_next(None, true),
            Inbound::Reply(to, reply) => {
                core.expecting(to)?;
                core.on_unread_reply(reply, len);
            }
        }
        Ok(())
    }

    /// The next message to publish, written into `buf` (a buffer of [`MAX_TRANSMIT_LEN`] bytes
    /// always suffices), or `None` when nothing is due. Call it until it returns `None`.
    ///
    /// If `buf` is too small the request stays queued and [`AgentError::BufferTooSmall`] is
    /// reported once through [`Agent::poll_event`].
    #[must_use]
    pub fn poll_transmit<'b>(&mut self, now: Timestamp, buf: &'b mut [u8]) -> Option<Transmit<'b>> {
        let core = &mut self.core;
        let outbox = core.outbox.as_ref()?;
        let due = match outbox.phase {
            Phase::Ready => true,
            Phase::Waiting { until } => until <= now,
            Phase::InFlight { .. } => false,
        };
        if !due {
            return None;
        }
        let token = core.token;
        match core.write(&outbox.request, token, buf) {
            Ok(transmit) => {
                core.token = token.wrapping_add(1);
                core.blocked = false;
                let deadline = now.saturating_add(core.config.response_timeout_secs);
                if let Some(outbox) = core.outbox.as_mut() {
                    outbox.first_token.get_or_insert(token);
                    outbox.last_token = token;
                    outbox.attempts = outbox.attempts.saturating_add(1);
                    outbox.phase = Phase::InFlight { deadline };
                }
                Some(transmit)
            }
            Err(e) => {
                if !core.blocked {
                    core.blocked = true;
                    core.note(Note::Error(e));
                }
                None
            }
        }
    }

    /// The next thing the application must know, or `None`. Call it until it returns `None`.
    ///
    /// An [`AgentEvent::Run`] borrows the job document from the agent.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AgentEvent<'_>> {
        let core = &mut self.core;
        loop {
            let Some(note) = core.notes.pop_front() else {
                if core.dropped == 0 {
                    return None;
                }
                let count = core.dropped;
                core.dropped = 0;
                return Some(AgentEvent::Error(AgentError::EventsDropped { count }));
            };
            match note {
                Note::Announce { seq } => {
                    // An announcement of a job that has ended unseen is dropped.
                    if core.job.as_ref().is_some_and(|j| j.seq == seq) {
                        return core.announcement();
                    }
                }
                Note::Finished { job_id, number, status, version } => {
                    return Some(AgentEvent::Finished { job_id, execution_number: number, status, version });
                }
                Note::Canceled { job_id, number, status } => {
                    return Some(AgentEvent::Canceled { job_id, execution_number: number, status });
                }
                Note::Lost { job_id, number, reason } => {
                    return Some(AgentEvent::Lost { job_id, execution_number: number, reason });
                }
                Note::Error(e) => return Some(AgentEvent::Error(e)),
            }
        }
    }

    /// Reports the current job's progress (`IN_PROGRESS`) or final status (`SUCCEEDED`,
    /// `FAILED`, `REJECTED`; SPEC T4), with `statusDetails` (`None` leaves them unchanged,
    /// SPEC 4.3). The agent sends it as an UpdateJobExecution with `expectedVersion` as soon as
    /// no other request is in flight; a progress report not yet sent is replaced by a newer
    /// one (whose details, if `None`, are taken from the replaced one). A progress report leaves
    /// the step timer as it is; [`Agent::report_progress`] sets or cancels it.
    ///
    /// # Errors
    ///
    /// [`AgentError::NoJob`], [`AgentError::Finishing`], [`AgentError::StatusNotAllowed`],
    /// [`AgentError::DetailsTooLarge`]; nothing changes.
    pub fn report(
        &mut self,
        status: ExecutionStatus,
        details: Option<&StatusDetails<'_>>,
    ) -> Result<(), AgentError> {
        self.core.submit(status, details, None)
    }

    /// Reports progress (`IN_PROGRESS`) as [`Agent::report`] does, and starts the execution's
    /// step timer again with `step_timeout` minutes, or stops it with [`StepTimeout::Cancel`]
    /// (SPEC T3, §3 timer-step: the execution times out unless a final status or the next
    /// reset comes first). A progress report not yet sent that replaces this one keeps its
    /// timer unless it gives its own; a final status drops it.
    ///
    /// # Errors
    ///
    /// [`AgentError::InvalidStepTimeout`] for minutes outside 1–10080, and the errors of
    /// [`Agent::report`]; nothing changes.
    pub fn report_progress(
        &mut self,
        details: Option<&StatusDetails<'_>>,
        step_timeout: StepTimeout,
    ) -> Result<(), AgentError> {
        if let StepTimeout::Minutes(m) = step_timeout {
            StepTimeout::from_wire(i64::from(m), false).map_err(AgentError::InvalidStepTimeout)?;
        }
        self.core.submit(ExecutionStatus::InProgress, details, Some(step_timeout))
    }

    /// When [`Agent::handle_timeout`] wants to be called: a reply deadline, the end of a
    /// backoff, or the next periodic check ([`Config::check_interval_secs`]); `None` when no
    /// timer is needed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let Some(outbox) = self.core.outbox.as_ref() else { return self.core.check_due() };
        match outbox.phase {
            Phase::Ready => None,
            Phase::InFlight { deadline } => Some(deadline),
            Phase::Waiting { until } => Some(until),
        }
    }

    /// Applies what falls due at `now`: a request whose reply is overdue is sent again (or
    /// given up after [`Config::max_attempts`]); a backoff that ended makes its request due; a
    /// periodic check that is due describes the running execution.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let core = &mut self.core;
        let Some(outbox) = core.outbox.as_mut() else {
            core.check(now);
            return;
        };
        match outbox.phase {
            Phase::InFlight { deadline } if deadline <= now => {
                if outbox.may_resend(&core.config) {
                    outbox.phase = Phase::Ready;
                } else {
                    core.give_up();
                    core.settled = now;
                }
            }
            Phase::Waiting { until } if until <= now => outbox.phase = Phase::Ready,
            Phase::InFlight { .. } | Phase::Waiting { .. } | Phase::Ready => {}
        }
    }

    /// Tells the agent the MQTT connection was re-established (subscribe again first): a
    /// request in flight is sent again at once (the old connection may have lost it) if
    /// [`Config::max_attempts`] allows, else its reply is awaited until it is due; a request
    /// backing off waits until its backoff ends. Without a request, the agent asks for the next
    /// job if it has none, and checks that its execution is still its own if it has one
    /// (notifications may have been missed).
    pub fn reconnected(&mut self) {
        let core = &mut self.core;
        if let Some(outbox) = core.outbox.as_mut() {
            // A resend is an attempt like any other; a backoff (throttling) stands.
            match outbox.phase {
                Phase::InFlight { .. } if outbox.may_resend(&core.config) => {
                    outbox.phase = Phase::Ready;
                }
                Phase::InFlight { .. } | Phase::Waiting { .. } | Phase::Ready => {}
            }
            return;
        }
        match &core.job {
            None => core.outbox = Some(Outbox::new(core.start_request())),
            Some(job) => {
                if !job.finishing() {
                    core.verify = true;
                }
                core.schedule();
            }
        }
    }

    /// The job the agent runs, if any (also while its announcement waits in the event queue).
    #[must_use]
    pub fn job(&self) -> Option<CurrentJob<'_>> {
        self.core.job.as_ref().filter(|j| j.announced()).map(|j| CurrentJob {
            job_id: &j.id,
            execution_number: j.number,
            version: j.version,
        })
    }

    /// The current job's document (as [`AgentEvent::Run`] gave it), for as long as the job is
    /// the agent's: an application that runs a job over many calls reads it here instead of
    /// copying it out of the event. `None` without a job, before its announcement, and for a job
    /// whose document the agent does not hold ([`AgentEvent::DocumentTooLarge`],
    /// [`AgentEvent::UnreadableJob`], [`AgentEvent::MessageTooLarge`]).
    #[must_use]
    pub fn document(&self) -> Option<&[u8]> {
        let job = self.core.job.as_ref().filter(|j| j.announced())?;
        match job.document {
            Document::Kept => Some(self.core.document.as_slice()),
            Document::TooLarge(_) | Document::Unreadable(_) | Document::Undelivered(_) => None,
        }
    }

    /// True when the agent has no job and nothing to send: it waits for `notify-next`.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.core.job.is_none() && self.core.outbox.is_none()
    }
}
