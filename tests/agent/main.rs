//! Device-agent scenarios, with the crate's `Registry` playing the service: every publish of the
//! agent is routed to the matching registry call and answered with `wire` messages, and
//! registry events become `notify-next` messages. Each scenario asserts the exact publishes
//! (topic and parsed payload fields) and the events the application sees. Where the service
//! cannot be made to say something (throttling, a malformed payload), golden payloads are used.

// `#[test]`s may unwrap, expect, panic and index (clippy.toml); the helpers here need it too.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::wildcard_enum_match_arm
)]

use iot_jobs_core::agent::{
    Agent, AgentError, AgentEvent, Config, LostReason, MAX_DETAILS_BYTES, MAX_TRANSMIT_LEN, Transmit,
};
use iot_jobs_core::registry::{Event, EventSink, ExecutionView, Fixed, NewJob, Registry, Update};
use iot_jobs_core::topic::{JobSelector, Reply, Topic};
use iot_jobs_core::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, GetPendingRequest, GetPendingResponse, JobDocument,
    JobExecution, JobExecutionState, JobExecutionSummary, NextJobExecutionChanged, StartNextRequest,
    UpdateRequest, UpdateResponse,
};
use iot_jobs_core::{
    ErrorCode, ExecutionNumber, ExecutionStatus, JobId, NamespaceId, Plane, Policy, Rejection, StatusDetails,
    StepTimeout, TargetSelection, ThingName, TimeoutMinutes, Timestamp, VersionNumber,
};

const T0: Timestamp = Timestamp(1_700_000_000);

fn thing(s: &str) -> ThingName {
    ThingName::new(s).unwrap()
}

fn job(s: &str) -> JobId {
    JobId::new(s).unwrap()
}

fn n(x: u64) -> ExecutionNumber {
    ExecutionNumber::new(x).unwrap()
}

fn v(x: u64) -> VersionNumber {
    VersionNumber::new(x).unwrap()
}

// ---- the service ------------------------------------------------------------------------------

/// Registry events, kept until the harness turns them into messages.
#[derive(Default)]
struct Sink(Vec<Event>);

impl EventSink for Sink {
    fn room(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, e: Event) {
        self.0.push(e);
    }
}

/// One MQTT message from the service to the device.
#[derive(Debug, Clone, PartialEq)]
struct Msg {
    topic: String,
    payload: Vec<u8>,
}

/// The registry as the AWS IoT Jobs service, plus the job documents it does not store.
struct Service {
    reg: Registry<Fixed<8, 4, 32, 8, 128, 1024>>,
    docs: Vec<(JobId, String)>,
    sink: Sink,
    now: Timestamp,
    /// The namespace of the `notify-next` topic (SPEC 7.3).
    namespace: Option<NamespaceId>,
}

impl Service {
    fn new(things: &[&str]) -> Self {
        let mut reg = Registry::new(Fixed, Policy::DEFAULT);
        for t in things {
            reg.add_thing(&thing(t)).unwrap();
        }
        Self { reg, docs: Vec::new(), sink: Sink::default(), now: T0, namespace: None }
    }

    fn create_job(&mut self, id: &str, doc: &str, selection: TargetSelection, targets: &[&str]) {
        let id = job(id);
        let targets: Vec<ThingName> = targets.iter().map(|t| thing(t)).collect();
        self.reg.create_job(&NewJob::new(&id, selection), &targets, self.now, &mut self.sink).unwrap();
        self.docs.push((id, doc.to_string()));
    }

    fn document(&self, id: &JobId) -> Option<&str> {
        self.docs.iter().rev().find(|(j, _)| j == id).map(|(_, d)| d.as_str())
    }

    /// The wire form of a registry execution, with its document.
    fn render(
        &self,
        x: &ExecutionView<'_>,
        with_document: bool,
        f: impl FnOnce(JobExecution<'_>) -> Vec<u8>,
    ) -> Vec<u8> {
        let pairs: Vec<(&str, &str)> = x.status_details().collect();
        let doc = self.document(x.job_id()).filter(|_| with_document);
        f(JobExecution {
            job_id: x.job_id().as_str(),
            thing_name: Some(x.thing_name().as_str()),
            job_document: doc.map(|d| JobDocument::new(d.as_bytes()).unwrap()),
            status: x.status(),
            status_details: (!pairs.is_empty()).then(|| StatusDetails::new(&pairs).unwrap()),
            queued_at: x.queued_at(),
            started_at: x.started_at(),
            last_updated_at: x.last_updated_at(),
            version_number: x.version(),
            execution_number: x.number(),
            approximate_seconds_before_timed_out: None,
        })
    }

    fn execution_response(
        &self,
        x: Option<ExecutionView<'_>>,
        with_document: bool,
        token: Option<&str>,
    ) -> Vec<u8> {
        let now = self.now;
        let serialize = |execution: Option<JobExecution<'_>>| {
            let response = ExecutionResponse { execution, timestamp: Some(now), client_token: token };
            let mut out = vec![0; 8192];
            let len = response.serialize(&mut out).unwrap().len();
            out.truncate(len);
            out
        };
        match x {
            Some(x) => self.render(&x, with_document, |e| serialize(Some(e))),
            None => serialize(None),
        }
    }

    fn error(&self, r: Rejection, token: Option<&str>) -> Vec<u8> {
        let message = r.to_string();
        let response = ErrorResponse {
            code: r.error_code(),
            message: &message,
            client_token: token,
            timestamp: self.now,
            execution_state: r.execution_state().map(JobExecutionState::from),
        };
        let mut out = vec![0; 4096];
        let len = response.serialize(&mut out).unwrap().len();
        out.truncate(len);
        out
    }

    /// Answers one publish of the device: the reply, then the notifications it caused.
    fn serve(&mut self, t: &Transmit<'_>) -> Vec<Msg> {
        let topic = Topic::parse(t.topic).unwrap();
        let mut scratch = vec![0; t.payload.len()];
        let name = thing(topic.thing().unwrap().as_str());
        let now = self.now;
        let (reply_topic, result): (Topic<'_>, Result<Vec<u8>, Vec<u8>>) = match topic {
            Topic::StartNext { thing, reply: None } => {
                let req = StartNextRequest::parse(t.payload, &mut scratch).unwrap();
                let details = req.status_details.as_ref();
                let result = match self.reg.start_next(&name, details, req.step_timeout, now, &mut self.sink)
                {
                    Ok(h) => Ok(self.execution_response(
                        h.and_then(|h| self.reg.execution(h)),
                        true,
                        req.client_token,
                    )),
                    Err(r) => Err(self.error(r, req.client_token)),
                };
                (Topic::StartNext { thing, reply: None }, result)
            }
            Topic::Describe { thing, job: selector, namespace, reply: None } => {
                let req = DescribeRequest::parse(t.payload, &mut scratch).unwrap();
                let found = match selector {
                    JobSelector::Next => self.reg.next_pending(&name),
                    JobSelector::Id(j) => self
                        .reg
                        .describe_execution(&job(j.as_str()), &name, req.execution_number, Plane::Data)
                        .map(Some),
                };
                let result = match found {
                    Ok(x) => Ok(self.execution_response(x, req.include_job_document, req.client_token)),
                    Err(r) => Err(self.error(r, req.client_token)),
                };
                (Topic::Describe { thing, job: selector, namespace, reply: None }, result)
            }
            Topic::Update { thing, job: j, namespace, reply: None } => {
                let req = UpdateRequest::parse(t.payload, &mut scratch).unwrap();
                let update = Update {
                    status: req.status,
                    status_details: req.status_details.as_ref(),
                    expected_version: req.expected_version,
                    execution_number: req.execution_number,
                    step_timeout: req.step_timeout,
                };
                let result =
                    match self.reg.update_execution(&job(j.as_str()), &name, &update, now, &mut self.sink) {
                        Ok(state) => {
                            let response = UpdateResponse {
                                execution_state: req
                                    .include_job_execution_state
                                    .then(|| JobExecutionState::from(state)),
                                job_document: None,
                                timestamp: Some(now),
                                client_token: req.client_token,
                            };
                            let mut out = vec![0; 4096];
                            let len = response.serialize(&mut out).unwrap().len();
                            out.truncate(len);
                            Ok(out)
                        }
                        Err(r) => Err(self.error(r, req.client_token)),
                    };
                (Topic::Update { thing, job: j, namespace, reply: None }, result)
            }
            Topic::GetPending { thing, reply: None } => {
                let req = GetPendingRequest::parse(t.payload, &mut scratch).unwrap();
                let mut views = Vec::new();
                self.reg
                    .pending(&name, |x| {
                        let times = (x.queued_at(), x.started_at(), x.last_updated_at());
                        views.push((x.status(), x.job_id().to_string(), times, x.version(), x.number()));
                    })
                    .unwrap();
                let list = |status| {
                    views
                        .iter()
                        .filter(|x| x.0 == status)
                        .map(|(_, id, (queued_at, started_at, last_updated_at), version, number)| {
                            JobExecutionSummary {
                                job_id: id,
                                queued_at: *queued_at,
                                started_at: *started_at,
                                last_updated_at: *last_updated_at,
                                version_number: *version,
                                execution_number: *number,
                            }
                        })
                        .collect()
                };
                let response = GetPendingResponse {
                    in_progress_jobs: list(ExecutionStatus::InProgress),
                    queued_jobs: list(ExecutionStatus::Queued),
                    timestamp: Some(now),
                    client_token: req.client_token,
                };
                let mut out = vec![0; 8192];
                let len = response.serialize(&mut out).unwrap().len();
                out.truncate(len);
                (Topic::GetPending { thing, reply: None }, Ok(out))
            }
            other => panic!("the agent published to {other}"),
        };
        let (reply, payload) = match result {
            Ok(p) => (Reply::Accepted, p),
            Err(p) => (Reply::Rejected, p),
        };
        let topic = with_reply(reply_topic, reply).to_string();
        let mut out = vec![Msg { topic, payload }];
        out.extend(self.notifications());
        out
    }

    /// Force-deletes execution 1 of (`j`, `t`), then adds `t` to the job's targets again; returns
    /// the notifications of each step.
    fn delete_and_rejoin(&mut self, j: &str, t: &str) -> (Vec<Msg>, Vec<Msg>) {
        let (j, t) = (job(j), thing(t));
        self.reg.delete_execution(&j, &t, n(1), true, T0, &mut self.sink).unwrap();
        let deleted = self.notifications();
        self.reg.add_members(&j, std::slice::from_ref(&t), T0, &mut self.sink).unwrap();
        (deleted, self.notifications())
    }

    /// The `notify-next` messages of the events so far, rendered from the current state (R15).
    fn notifications(&mut self) -> Vec<Msg> {
        let events = std::mem::take(&mut self.sink.0);
        let mut out = Vec::new();
        for e in events {
            if let Event::NotifyNext(t) = e {
                let next = self.reg.next_pending(&t).unwrap();
                let now = self.now;
                let serialize = |execution: Option<JobExecution<'_>>| {
                    let mut buf = vec![0; 8192];
                    let len = NextJobExecutionChanged { timestamp: now, execution }
                        .serialize(&mut buf)
                        .unwrap()
                        .len();
                    buf.truncate(len);
                    buf
                };
                let payload = match next {
                    Some(x) => self.render(&x, true, |e| serialize(Some(e))),
                    None => serialize(None),
                };
                let thing = iot_jobs_core::topic::ThingNameRef::from(&t);
                let namespace = self.namespace.as_ref().map(Into::into);
                out.push(Msg { topic: Topic::NotifyNext { thing, namespace }.to_string(), payload });
            }
        }
        out
    }
}

fn with_reply(topic: Topic<'_>, r: Reply) -> Topic<'_> {
    match topic {
        Topic::GetPending { thing, .. } => Topic::GetPending { thing, reply: Some(r) },
        Topic::StartNext { thing, .. } => Topic::StartNext { thing, reply: Some(r) },
        Topic::Describe { thing, job, namespace, .. } => {
            Topic::Describe { thing, job, namespace, reply: Some(r) }
        }
        Topic::Update { thing, job, namespace, .. } => {
            Topic::Update { thing, job, namespace, reply: Some(r) }
        }
        other => other,
    }
}

// ---- the harness --------------------------------------------------------------------------------

/// What the application was told, owned.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Run { job: String, number: u64, version: u64, document: String },
    TooLarge { job: String, len: usize },
    Undelivered { job: String, number: u64, len: Option<usize> },
    Finished { job: String, number: u64, status: ExecutionStatus, version: u64 },
    Canceled { job: String, number: u64, status: Option<ExecutionStatus> },
    Lost { job: String, number: u64, reason: LostReason },
    Error(AgentError),
}

fn run(j: &str, number: u64, version: u64, document: &str) -> Ev {
    Ev::Run { job: j.into(), number, version, document: document.into() }
}

/// A device `dev1` whose agent runs execution 1 of the CONTINUOUS job `job-c` (document
/// `{"op":"c"}`).
fn running_job_c() -> Harness<256> {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    h.pump();
    h.service.create_job("job-c", r#"{"op":"c"}"#, TargetSelection::Continuous, &["dev1"]);
    h.notify();
    h.pump();
    h
}

/// A device `dev1` whose agent works in namespace `ns1` under `config`, with the job `job-a`
/// (document `{"op":"a"}`) queued and its notification dropped.
fn ns1_with_job_a(config: Config) -> Harness<256> {
    let ns = NamespaceId::new("ns1").unwrap();
    let mut h: Harness<256> = Harness::with(&["dev1"], Some(&ns), config);
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.notifications();
    h
}

/// What the app hears when its running execution 1 of `job-c` (document `{"op":"c"}`) was
/// deleted and the job came back under the same number: the loss, then the new run (version 2).
fn lost_then_run_again() -> [Ev; 2] {
    [lost("job-c", 1, LostReason::Deleted), run("job-c", 1, 2, r#"{"op":"c"}"#)]
}

fn lost(j: &str, number: u64, reason: LostReason) -> Ev {
    Ev::Lost { job: j.into(), number, reason }
}

fn finished(j: &str, number: u64, status: ExecutionStatus, version: u64) -> Ev {
    Ev::Finished { job: j.into(), number, status, version }
}

/// (status, expectedVersion, executionNumber, statusDetails).
type UpdateFields = (ExecutionStatus, Option<u64>, Option<u64>, Vec<(String, String)>);

/// A publish of the agent, owned.
#[derive(Debug, Clone)]
struct Sent {
    topic: String,
    payload: Vec<u8>,
}

impl Sent {
    /// The publish again, for the service to answer.
    fn as_transmit(&self) -> Transmit<'_> {
        Transmit { topic: &self.topic, payload: &self.payload }
    }

    /// (status, expectedVersion, executionNumber, statusDetails) of an UpdateJobExecution.
    fn update(&self) -> UpdateFields {
        let mut scratch = vec![0; self.payload.len()];
        let u = UpdateRequest::parse(&self.payload, &mut scratch).unwrap();
        let details = u
            .status_details
            .map(|d| d.pairs().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
            .unwrap_or_default();
        (
            u.status,
            u.expected_version.map(VersionNumber::get),
            u.execution_number.map(ExecutionNumber::get),
            details,
        )
    }

    /// `includeJobExecutionState` of an UpdateJobExecution.
    fn asks_for_state(&self) -> bool {
        let mut scratch = vec![0; self.payload.len()];
        UpdateRequest::parse(&self.payload, &mut scratch).unwrap().include_job_execution_state
    }

    /// `stepTimeoutInMinutes` of an UpdateJobExecution.
    fn step_timeout(&self) -> Option<StepTimeout> {
        let mut scratch = vec![0; self.payload.len()];
        UpdateRequest::parse(&self.payload, &mut scratch).unwrap().step_timeout
    }

    fn describe(&self) -> (Option<u64>, bool) {
        let mut scratch = vec![0; self.payload.len()];
        let d = DescribeRequest::parse(&self.payload, &mut scratch).unwrap();
        (d.execution_number.map(ExecutionNumber::get), d.include_job_document)
    }

    fn token(&self) -> String {
        let (_, rest) = std::str::from_utf8(&self.payload).unwrap().split_once("\"clientToken\":\"").unwrap();
        rest.split('"').next().unwrap().to_string()
    }

    fn is_start_next(&self) -> bool {
        let mut scratch = vec![0; self.payload.len()];
        self.topic == "$aws/things/dev1/jobs/start-next"
            && StartNextRequest::parse(&self.payload, &mut scratch).is_ok()
    }
}

struct Harness<const DOC: usize> {
    agent: Agent<DOC>,
    service: Service,
    sent: Vec<Sent>,
    events: Vec<Ev>,
    /// Messages for the device that the test chose to hold back.
    held: Vec<Msg>,
    /// When false, `notify-next` messages are held instead of delivered.
    deliver_notifications: bool,
    /// The device's MQTT client holds payloads of at most this many bytes; of a larger one it
    /// tells the agent the topic and length when `tell`, and drops it unseen otherwise.
    rx: Option<Rx>,
}

#[derive(Clone, Copy)]
struct Rx {
    max: usize,
    tell: bool,
}

impl<const DOC: usize> Harness<DOC> {
    fn new(things: &[&str]) -> Self {
        Self::with(things, None, Config::DEFAULT)
    }

    fn with(things: &[&str], namespace: Option<&NamespaceId>, config: Config) -> Self {
        let agent = Agent::new(&thing(things[0]), namespace, config);
        let mut service = Service::new(things);
        service.namespace = namespace.cloned();
        Self {
            agent,
            service,
            sent: Vec::new(),
            events: Vec::new(),
            held: Vec::new(),
            deliver_notifications: true,
            rx: None,
        }
    }

    fn now(&self) -> Timestamp {
        self.service.now
    }

    /// Delivers messages to the agent (each must be accepted).
    fn deliver(&mut self, msgs: Vec<Msg>) {
        for m in msgs {
            if m.topic.ends_with("/notify-next") && !self.deliver_notifications {
                self.held.push(m);
                continue;
            }
            if let Some(rx) = self.rx.filter(|rx| m.payload.len() > rx.max) {
                if rx.tell {
                    self.agent
                        .handle_oversized(&m.topic, m.payload.len())
                        .unwrap_or_else(|e| panic!("{e} for {m:?}"));
                }
                continue;
            }
            self.agent
                .handle(self.service.now, &m.topic, &m.payload)
                .unwrap_or_else(|e| panic!("{e} for {m:?}"));
        }
    }

    /// Delivers the registry's pending notifications.
    fn notify(&mut self) {
        let msgs = self.service.notifications();
        self.deliver(msgs);
    }

    /// Runs the agent against the service until it has nothing to send; collects events.
    fn pump(&mut self) {
        let mut buf = [0; MAX_TRANSMIT_LEN];
        for _ in 0..100 {
            let now = self.now();
            let Some(t) = self.agent.poll_transmit(now, &mut buf) else { break };
            self.sent.push(Sent { topic: t.topic.to_string(), payload: t.payload.to_vec() });
            let replies = self.service.serve(&t);
            self.deliver(replies);
            self.collect();
        }
        self.collect();
    }

    /// Sends what is due, but answers nothing: the publishes are returned.
    fn transmit(&mut self) -> Vec<Sent> {
        let mut buf = [0; MAX_TRANSMIT_LEN];
        let mut out = Vec::new();
        while let Some(t) = self.agent.poll_transmit(self.service.now, &mut buf) {
            out.push(Sent { topic: t.topic.to_string(), payload: t.payload.to_vec() });
        }
        self.sent.extend(out.iter().cloned());
        out
    }

    fn collect(&mut self) {
        while let Some(e) = self.agent.poll_event() {
            self.events.push(match e {
                AgentEvent::Run { job_id, execution_number, version, document } => Ev::Run {
                    job: job_id.to_string(),
                    number: execution_number.get(),
                    version: version.get(),
                    document: String::from_utf8(document.to_vec()).unwrap(),
                },
                AgentEvent::DocumentTooLarge { job_id, len, capacity, .. } => {
                    assert_eq!(capacity, DOC);
                    Ev::TooLarge { job: job_id.to_string(), len }
                }
                AgentEvent::MessageTooLarge { job_id, execution_number, len } => {
                    Ev::Undelivered { job: job_id.to_string(), number: execution_number.get(), len }
                }
                AgentEvent::Finished { job_id, execution_number, status, version } => Ev::Finished {
                    job: job_id.to_string(),
                    number: execution_number.get(),
                    status,
                    version: version.get(),
                },
                AgentEvent::Canceled { job_id, execution_number, status } => {
                    Ev::Canceled { job: job_id.to_string(), number: execution_number.get(), status }
                }
                AgentEvent::Lost { job_id, execution_number, reason } => {
                    Ev::Lost { job: job_id.to_string(), number: execution_number.get(), reason }
                }
                AgentEvent::Error(e) => Ev::Error(e),
                other => panic!("an event this test does not know: {other:?}"),
            });
        }
    }

    fn report(&mut self, status: ExecutionStatus, details: &[(&str, &str)]) {
        let details = (!details.is_empty()).then(|| StatusDetails::new(details).unwrap());
        self.agent.report(status, details.as_ref()).unwrap();
        self.pump();
    }

    fn take_sent(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.sent)
    }

    fn take_events(&mut self) -> Vec<Ev> {
        std::mem::take(&mut self.events)
    }

    /// When the service times out the execution 1 of `job-a` on `dev1`, if it will.
    fn deadline(&self) -> Option<Timestamp> {
        self.service
            .reg
            .describe_execution(&job("job-a"), &thing("dev1"), None, Plane::Data)
            .unwrap()
            .deadline()
    }

    fn state(&self) -> String {
        format!("{:?}", self.agent)
    }
}

/// A device that connected and found nothing to do, then had `jobs` queued (documents
/// `{"op":"<job>"}`), with the first one running at version 2.
fn running(jobs: &[&str]) -> Harness<256> {
    let mut h = Harness::new(&["dev1", "dev2"]);
    h.pump();
    for j in jobs {
        h.service.create_job(j, &format!(r#"{{"op":"{j}"}}"#), TargetSelection::Snapshot, &["dev1"]);
    }
    h.notify();
    h.pump();
    assert_eq!(h.take_events(), [run(jobs[0], 1, 2, &format!(r#"{{"op":"{}"}}"#, jobs[0]))]);
    h.take_sent();
    h
}

/// A golden ErrorResponse.
fn rejection(code: &str, token: &str, state: Option<(&str, u64)>) -> Vec<u8> {
    let state = state.map_or(String::new(), |(s, v)| {
        format!(r#","executionState":{{"status":"{s}","versionNumber":{v}}}"#)
    });
    format!(r#"{{"code":"{code}","message":"m","clientToken":"{token}","timestamp":1700000000{state}}}"#)
        .into_bytes()
}

const IN_PROGRESS: ExecutionStatus = ExecutionStatus::InProgress;
const SUCCEEDED: ExecutionStatus = ExecutionStatus::Succeeded;

mod faults;
mod malformed;
mod oversized;
mod retries;
mod runs;
