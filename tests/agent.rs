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
    DescribeRequest, ErrorResponse, ExecutionResponse, JobDocument, JobExecution, JobExecutionState,
    NextJobExecutionChanged, StartNextRequest, UpdateRequest, UpdateResponse,
};
use iot_jobs_core::{
    ErrorCode, ExecutionNumber, ExecutionStatus, JobId, NamespaceId, Plane, Policy, Rejection, StatusDetails,
    TargetSelection, ThingName, Timestamp, VersionNumber,
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
    /// (status, expectedVersion, executionNumber, statusDetails) of an UpdateJobExecution.
    fn update(&self) -> UpdateFields {
        let mut scratch = vec![0; self.payload.len()];
        let u = UpdateRequest::parse(&self.payload, &mut scratch).unwrap();
        assert!(u.include_job_execution_state, "updates ask for the new state");
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

const IN_PROGRESS: ExecutionStatus = ExecutionStatus::InProgress;
const SUCCEEDED: ExecutionStatus = ExecutionStatus::Succeeded;

// ---- scenarios ----------------------------------------------------------------------------------

#[test]
fn subscriptions_name_notify_next_and_every_reply() {
    let agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let subs: Vec<String> = agent.subscriptions().map(|s| s.to_string()).collect();
    assert_eq!(
        subs,
        [
            "$aws/things/dev1/jobs/notify-next",
            "$aws/things/dev1/jobs/start-next/accepted",
            "$aws/things/dev1/jobs/start-next/rejected",
            "$aws/things/dev1/jobs/+/get/accepted",
            "$aws/things/dev1/jobs/+/get/rejected",
            "$aws/things/dev1/jobs/+/update/accepted",
            "$aws/things/dev1/jobs/+/update/rejected",
        ]
    );
    let mut buf = [0; 64];
    for s in agent.subscriptions() {
        assert_eq!(s.write_to(&mut buf).unwrap(), s.to_string());
    }
    let ns = NamespaceId::new("ns1").unwrap();
    let agent: Agent<64> = Agent::new(&thing("dev1"), Some(&ns), Config::DEFAULT);
    let subs: Vec<String> = agent.subscriptions().map(|s| s.to_string()).collect();
    assert_eq!(
        subs,
        [
            "$aws/things/dev1/jobs/notify-next-namespace-ns1",
            "$aws/things/dev1/jobs/+/namespace-ns1/get/accepted",
            "$aws/things/dev1/jobs/+/namespace-ns1/get/rejected",
            "$aws/things/dev1/jobs/+/namespace-ns1/update/accepted",
            "$aws/things/dev1/jobs/+/namespace-ns1/update/rejected",
        ]
    );
    let mut small = [0; 10];
    assert!(agent.subscriptions().nth(1).unwrap().write_to(&mut small).is_err());
}

#[test]
fn normal_run_two_jobs_in_order() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    // Connect: StartNext at once, nothing pending yet (R19: no `execution`).
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_start_next());
    assert_eq!(sent[0].token(), "1");
    assert!(h.agent.is_idle());

    // Two jobs queued: notify-next names the first; the agent asks StartNext and runs it.
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-b", r#"{"op":"b"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_start_next());
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    let current = h.agent.job().unwrap();
    assert_eq!((current.job_id.as_str(), current.execution_number, current.version), ("job-a", n(1), v(2)));

    // Progress, then success, each with the version the last reply gave.
    h.report(IN_PROGRESS, &[("step", "download")]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/update");
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(2), Some(1), vec![("step".into(), "download".into())]));
    assert_eq!(h.agent.job().unwrap().version, v(3));
    assert!(h.take_events().is_empty());

    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/update");
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    // The next job is asked for at once.
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4), run("job-b", 1, 2, r#"{"op":"b"}"#)]);

    h.report(SUCCEEDED, &[("result", "ok")]);
    let sent = h.take_sent();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-b/update");
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![("result".into(), "ok".into())]));
    assert!(sent[1].is_start_next());
    assert_eq!(sent.len(), 2);
    assert_eq!(h.take_events(), [finished("job-b", 1, SUCCEEDED, 3)]);
    assert!(h.agent.is_idle());
    assert_eq!(h.agent.poll_timeout(), None);
    // The registry agrees.
    let x = h.service.reg.describe_execution(&job("job-b"), &thing("dev1"), None, Plane::Control).unwrap();
    assert_eq!((x.status(), x.version()), (SUCCEEDED, v(3)));
}

#[test]
fn progress_reports_made_while_one_is_in_flight_are_sent_in_turn() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&[("pct", "10")]).unwrap())).unwrap();
    let first = h.transmit();
    assert_eq!(first.len(), 1);
    // Two more reports while the first is unanswered: the newer progress replaces the older,
    // and the final one keeps the details of the report it replaced.
    h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&[("pct", "50")]).unwrap())).unwrap();
    h.agent.report(SUCCEEDED, None).unwrap();
    assert!(h.transmit().is_empty(), "one request at a time");
    assert_eq!(h.agent.report(IN_PROGRESS, None), Err(AgentError::Finishing));
    let replies = h.service.serve(&Transmit { topic: &first[0].topic, payload: &first[0].payload });
    h.deliver(replies);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].update().0, IN_PROGRESS);
    assert_eq!(sent[1].update(), (SUCCEEDED, Some(3), Some(1), vec![("pct".into(), "50".into())]));
    assert!(sent[2].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4)]);
}

#[test]
fn duplicate_notify_next_does_not_run_the_job_twice() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    h.pump();
    h.take_sent();
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    // Keep the original notification (job-a QUEUED, version 1) to replay it late.
    let original = h.service.notifications();
    h.deliver(original.clone());
    h.pump();
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    h.take_sent();
    let before = h.state();

    // The same head again, at the running version: ignored outright.
    let same = {
        let x = h.service.reg.next_pending(&thing("dev1")).unwrap().unwrap();
        h.service.render(&x, true, |e| {
            let mut out = vec![0; 4096];
            let len = NextJobExecutionChanged { timestamp: T0, execution: Some(e) }
                .serialize(&mut out)
                .unwrap()
                .len();
            out.truncate(len);
            out
        })
    };
    h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", &same).unwrap();
    assert!(h.transmit().is_empty());
    assert_eq!(h.state(), before);

    // The first notification, delivered late (QUEUED, version 1): the agent checks its
    // execution instead of trusting it, finds it still IN_PROGRESS, and carries on.
    h.deliver(original);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert_eq!(sent[0].describe(), (Some(1), false));
    assert!(h.take_events().is_empty(), "no second Run");
    h.report(SUCCEEDED, &[]);
    assert_eq!(h.take_sent()[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 3)]);
}

#[test]
fn reused_execution_number_after_deletion_is_a_new_run() {
    let mut h = running_job_c();
    assert_eq!(h.take_events(), [run("job-c", 1, 2, r#"{"op":"c"}"#)]);
    h.take_sent();

    // The operator deletes the running execution (force), then the thing re-joins the group:
    // the same job comes back with executionNumber 1 (R7: 1 + highest existing) and version 1.
    let (deleted, readded) = h.service.delete_and_rejoin("job-c", "dev1");
    assert_eq!((deleted.len(), readded.len()), (1, 1));
    h.deliver(deleted);
    h.deliver(readded);
    h.pump();

    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    // The agent describes its execution, sees a QUEUED one at version 1 under its number: its own
    // was deleted. It tells the app, asks StartNext and runs the new execution.
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-c/get");
    assert_eq!(sent[0].describe(), (Some(1), false));
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), lost_then_run_again());
}

#[test]
fn reused_number_notified_alone_while_running_is_checked_then_run() {
    let mut h = running_job_c();
    h.take_events();
    let (_lost_on_the_way, readded) = h.service.delete_and_rejoin("job-c", "dev1");
    h.deliver(readded);
    h.pump();
    assert_eq!(h.take_events(), lost_then_run_again());
}

#[test]
fn a_new_execution_number_of_the_same_job_is_a_new_run() {
    let mut h = running_job_c();
    h.report(ExecutionStatus::Failed, &[("why", "disk")]);
    h.notify();
    // The thing re-joins: execution 2 of the same job (SPEC T13).
    let t = thing("dev1");
    h.service.reg.add_members(&job("job-c"), std::slice::from_ref(&t), T0, &mut h.service.sink).unwrap();
    h.notify();
    h.pump();
    assert_eq!(
        h.take_events(),
        [
            run("job-c", 1, 2, r#"{"op":"c"}"#),
            finished("job-c", 1, ExecutionStatus::Failed, 3),
            run("job-c", 2, 2, r#"{"op":"c"}"#),
        ]
    );
}

#[test]
fn version_mismatch_resyncs_and_retries_with_the_new_version() {
    let mut h = running(&["job-a"]);
    // Someone else updates the execution: version 2 → 3.
    let update = Update {
        status: IN_PROGRESS,
        status_details: None,
        expected_version: None,
        execution_number: None,
        step_timeout: None,
    };
    h.service.reg.update_execution(&job("job-a"), &thing("dev1"), &update, T0, &mut h.service.sink).unwrap();

    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 3, "{sent:?}");
    // Rejected with VersionMismatch and executionState {IN_PROGRESS, 3} (SPEC §4.4): resent at once.
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert_eq!(sent[1].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    assert_ne!(sent[0].token(), sent[1].token());
    assert!(sent[2].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 4)]);
}

#[test]
fn a_lost_reply_is_resent_and_the_rejection_of_the_resend_confirms_it() {
    let mut h = running(&["job-a"]);
    h.agent.report(SUCCEEDED, None).unwrap();
    let first = h.transmit();
    // The service applies it, but the reply never arrives.
    let lost = h.service.serve(&Transmit { topic: &first[0].topic, payload: &first[0].payload });
    assert!(lost[0].topic.ends_with("/update/accepted"));
    let deadline = h.agent.poll_timeout().unwrap();
    assert_eq!(deadline, T0.saturating_add(30));
    h.agent.handle_timeout(Timestamp(deadline.secs() - 1));
    assert!(h.transmit().is_empty());
    h.service.now = deadline;
    h.agent.handle_timeout(deadline);
    h.take_sent();
    h.pump();
    let sent = h.take_sent();
    // The resend meets InvalidStateTransition with executionState SUCCEEDED: its own report.
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 3)]);
    // The late reply of the first attempt is now unsolicited.
    assert_eq!(h.agent.handle(deadline, &lost[0].topic, &lost[0].payload), Err(AgentError::Unsolicited));
}

#[test]
fn forced_cancel_mid_run_is_reported_on_the_next_update_without_retry() {
    let mut h = running(&["job-a"]);
    h.report(IN_PROGRESS, &[("pct", "40")]);
    h.take_sent();
    // The operator force-cancels; the notification is lost.
    h.deliver_notifications = false;
    h.service.reg.cancel_job(&job("job-a"), true, None, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(3), Some(1), vec![]));
    // InvalidStateTransition with executionState CANCELED: stop, no retry, ask for the next job.
    assert!(sent[1].is_start_next());
    assert_eq!(
        h.take_events(),
        [Ev::Canceled { job: "job-a".into(), number: 1, status: Some(ExecutionStatus::Canceled) }]
    );
    assert_eq!(h.agent.job(), None);
    assert_eq!(h.agent.report(SUCCEEDED, None), Err(AgentError::NoJob));
}

#[test]
fn forced_cancel_noticed_from_notify_next() {
    let mut h = running(&["job-a", "job-b"]);
    h.service.reg.cancel_job(&job("job-a"), true, None, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.pump();
    let sent = h.take_sent();
    // notify-next names job-b: the agent describes job-a, which is terminal (R11:
    // TerminalStateReached), tells the app to stop, and starts job-b.
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(sent[1].is_start_next());
    assert_eq!(sent.len(), 2);
    assert_eq!(
        h.take_events(),
        [
            Ev::Canceled { job: "job-a".into(), number: 1, status: None },
            run("job-b", 1, 2, r#"{"op":"job-b"}"#)
        ]
    );
}

#[test]
fn deleted_job_is_lost() {
    let mut h = running(&["job-a"]);
    h.deliver_notifications = false;
    h.service.reg.delete_job(&job("job-a"), true, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.report(IN_PROGRESS, &[]);
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(2), Some(1), vec![]));
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Deleted)]);
}

#[test]
fn deleted_job_noticed_from_notify_next() {
    let mut h = running(&["job-a"]);
    h.service.reg.delete_job(&job("job-a"), true, T0, &mut h.service.sink).unwrap();
    h.notify();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Deleted)]);
}

/// A golden ErrorResponse.
fn rejection(code: &str, token: &str, state: Option<(&str, u64)>) -> Vec<u8> {
    let state = state.map_or(String::new(), |(s, v)| {
        format!(r#","executionState":{{"status":"{s}","versionNumber":{v}}}"#)
    });
    format!(r#"{{"code":"{code}","message":"m","clientToken":"{token}","timestamp":1700000000{state}}}"#)
        .into_bytes()
}

#[test]
fn throttled_start_next_is_retried_with_exponential_backoff_then_given_up() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let rejected = "$aws/things/dev1/jobs/start-next/rejected";
    let mut now = T0;
    let mut delays = Vec::new();
    for attempt in 1..=5_u32 {
        let t = agent.poll_transmit(now, &mut buf).unwrap();
        assert_eq!(t.topic, "$aws/things/dev1/jobs/start-next");
        assert_eq!(t.payload, format!(r#"{{"clientToken":"{attempt}"}}"#).as_bytes());
        assert_eq!(agent.poll_transmit(now, &mut buf), None, "one request at a time");
        agent.handle(now, rejected, &rejection("RequestThrottled", &attempt.to_string(), None)).unwrap();
        if attempt == 5 {
            break;
        }
        let at = agent.poll_timeout().unwrap();
        delays.push(at.secs() - now.secs());
        agent.handle_timeout(Timestamp(at.secs() - 1));
        assert_eq!(agent.poll_transmit(Timestamp(at.secs() - 1), &mut buf), None);
        now = at;
        agent.handle_timeout(now);
    }
    assert_eq!(delays, [2, 4, 8, 16]);
    assert_eq!(agent.poll_transmit(now, &mut buf), None);
    assert_eq!(
        agent.poll_event(),
        Some(AgentEvent::Error(AgentError::RetriesExhausted { last: Some(ErrorCode::RequestThrottled) }))
    );
    assert!(agent.is_idle());
    // A reconnection asks again.
    agent.reconnected();
    assert!(agent.poll_transmit(now, &mut buf).is_some());
}

#[test]
fn backoff_is_capped() {
    let config =
        Config { backoff_initial_secs: 50, backoff_max_secs: 120, max_attempts: 10, ..Config::DEFAULT };
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, config);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let mut delays = Vec::new();
    for attempt in 1..=4_u32 {
        agent.poll_transmit(T0, &mut buf).unwrap();
        let token = attempt.to_string();
        agent
            .handle(
                T0,
                "$aws/things/dev1/jobs/start-next/rejected",
                &rejection("InternalError", &token, None),
            )
            .unwrap();
        delays.push(agent.poll_timeout().unwrap().secs() - T0.secs());
        agent.handle_timeout(agent.poll_timeout().unwrap());
    }
    assert_eq!(delays, [50, 100, 120, 120]);
}

#[test]
fn throttled_update_is_retried_after_backoff_invalid_request_is_not() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    assert_eq!(sent[0].update(), (IN_PROGRESS, Some(2), Some(1), vec![]));
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    h.agent.handle(T0, topic, &rejection("RequestThrottled", &sent[0].token(), None)).unwrap();
    assert!(h.transmit().is_empty());
    let at = h.agent.poll_timeout().unwrap();
    assert_eq!(at, T0.saturating_add(2));
    h.service.now = at;
    h.agent.handle_timeout(at);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].update(), (IN_PROGRESS, Some(2), Some(1), vec![]), "the same update again");
    assert_eq!(h.agent.job().unwrap().version, v(3));

    h.agent.report(SUCCEEDED, None).unwrap();
    let sent = h.transmit();
    h.agent.handle(at, topic, &rejection("InvalidRequest", &sent[0].token(), None)).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Refused(ErrorCode::InvalidRequest))]);
    let sent = h.transmit();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].is_start_next(), "no retry of the update");
    assert_eq!(h.agent.poll_timeout(), Some(at.saturating_add(30)), "only the StartNext reply is awaited");
}

#[test]
fn update_retries_exhausted_loses_the_job() {
    let config = Config { max_attempts: 2, ..Config::DEFAULT };
    let mut h: Harness<256> = Harness::with(&["dev1"], None, config);
    h.pump();
    h.service.create_job("job-a", "{}", TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.pump();
    h.take_events();
    h.agent.report(SUCCEEDED, None).unwrap();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    let sent = h.transmit();
    h.agent.handle(T0, topic, &rejection("InternalError", &sent[0].token(), None)).unwrap();
    h.agent.handle_timeout(h.agent.poll_timeout().unwrap());
    let sent = h.transmit();
    assert_eq!(sent.len(), 1);
    // No reply this time: the second attempt times out and the agent gives up.
    h.agent.handle_timeout(h.agent.poll_timeout().unwrap());
    h.collect();
    assert_eq!(
        h.take_events(),
        [lost("job-a", 1, LostReason::RetriesExhausted { last: Some(ErrorCode::InternalError) })]
    );
    assert!(h.transmit()[0].is_start_next());
}

#[test]
fn messages_for_another_thing_and_unknown_topics_are_ignored() {
    let mut h = running(&["job-a"]);
    let before = h.state();
    let notify = br#"{"timestamp":1700000000}"#;
    let cases: [(&str, AgentError); 6] = [
        ("$aws/things/dev2/jobs/notify-next", AgentError::OtherThing),
        ("$aws/things/dev2/jobs/job-a/update/accepted", AgentError::OtherThing),
        ("$aws/things/dev1/jobs/notify", AgentError::Unexpected),
        ("$aws/things/dev1/jobs/notify-next-namespace-ns1", AgentError::Unexpected),
        ("$aws/events/job/job-a/canceled", AgentError::Unexpected),
        ("$aws/things/dev1/jobs/job-a/update", AgentError::Unexpected),
    ];
    for (topic, error) in cases {
        assert_eq!(h.agent.handle(T0, topic, notify), Err(error), "{topic}");
    }
    for topic in ["sensors/temp", "$aws/things/dev1/shadow/update", "$aws/things/dev1/jobs/frobnicate"] {
        assert!(matches!(h.agent.handle(T0, topic, notify), Err(AgentError::Topic(_))), "{topic}");
    }
    assert_eq!(h.state(), before);
    assert!(h.transmit().is_empty());
    h.collect();
    assert!(h.take_events().is_empty());
}

#[test]
fn malformed_payloads_are_errors_and_change_nothing() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let before = h.state();
    let token = sent[0].token();
    let accepted = "$aws/things/dev1/jobs/job-a/update/accepted";
    let payloads: [&[u8]; 6] = [
        b"{not json",
        b"",
        b"[1,2]",
        br#"{"timestamp":"soon"}"#,
        br#"{"executionState":{"status":"SUCCESS","versionNumber":3},"timestamp":1}"#,
        &[0xff, 0xfe],
    ];
    for p in payloads {
        let e = h.agent.handle(T0, accepted, p).unwrap_err();
        assert!(matches!(e, AgentError::Malformed(_)), "{e:?}");
    }
    let e = h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", b"{\"timestamp\":").unwrap_err();
    assert!(matches!(e, AgentError::Malformed(w) if w.error_code() == ErrorCode::InvalidJson));
    let bad_id = br#"{"timestamp":1,"execution":{"jobId":"bad!","status":"QUEUED","queuedAt":1,"lastUpdatedAt":1,"versionNumber":1,"executionNumber":1}}"#;
    assert!(matches!(
        h.agent.handle(T0, "$aws/things/dev1/jobs/notify-next", bad_id),
        Err(AgentError::Malformed(_))
    ));
    let rejected = "$aws/things/dev1/jobs/job-a/update/rejected";
    let no_code = format!(r#"{{"message":"m","clientToken":"{token}","timestamp":1}}"#);
    assert!(matches!(h.agent.handle(T0, rejected, no_code.as_bytes()), Err(AgentError::Malformed(_))));
    assert_eq!(h.state(), before);
    assert!(h.transmit().is_empty());
    h.collect();
    assert!(h.take_events().is_empty());
    // The genuine reply still completes the request.
    let ok = format!(
        r#"{{"executionState":{{"status":"IN_PROGRESS","versionNumber":3}},"timestamp":1,"clientToken":"{token}"}}"#
    );
    h.agent.handle(T0, accepted, ok.as_bytes()).unwrap();
    assert_eq!(h.agent.job().unwrap().version, v(3));
}

#[test]
fn replies_to_no_request_in_flight_are_unsolicited() {
    let mut h = running(&["job-a"]);
    let before = h.state();
    let ok = br#"{"timestamp":1,"clientToken":"2"}"#;
    // Nothing in flight.
    for topic in [
        "$aws/things/dev1/jobs/start-next/accepted",
        "$aws/things/dev1/jobs/job-a/update/accepted",
        "$aws/things/dev1/jobs/job-a/get/rejected",
        "$aws/things/dev1/jobs/$next/get/accepted",
    ] {
        assert_eq!(h.agent.handle(T0, topic, ok), Err(AgentError::Unsolicited), "{topic}");
    }
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let before_reply = h.state();
    assert_ne!(before, before_reply);
    // Another job's reply, another clientToken, another request's topic.
    let wrong_job = "$aws/things/dev1/jobs/job-z/update/accepted";
    assert_eq!(h.agent.handle(T0, wrong_job, ok), Err(AgentError::Unsolicited));
    let accepted = "$aws/things/dev1/jobs/job-a/update/accepted";
    assert_eq!(
        h.agent.handle(T0, accepted, br#"{"timestamp":1,"clientToken":"999"}"#),
        Err(AgentError::Unsolicited)
    );
    assert_eq!(
        h.agent.handle(T0, accepted, br#"{"timestamp":1,"clientToken":"x"}"#),
        Err(AgentError::Unsolicited)
    );
    let start = "$aws/things/dev1/jobs/start-next/accepted";
    let token = format!(r#"{{"timestamp":1,"clientToken":"{}"}}"#, sent[0].token());
    assert_eq!(h.agent.handle(T0, start, token.as_bytes()), Err(AgentError::Unsolicited));
    assert_eq!(h.state(), before_reply);
}

#[test]
fn report_is_checked() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    assert_eq!(agent.report(SUCCEEDED, None), Err(AgentError::NoJob));
    let mut h = running(&["job-a"]);
    for s in [
        ExecutionStatus::Queued,
        ExecutionStatus::Canceled,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Removed,
    ] {
        assert_eq!(h.agent.report(s, None), Err(AgentError::StatusNotAllowed(s)));
    }
    let long = "x".repeat(400);
    let pairs = [("a", long.as_str()), ("b", long.as_str())];
    assert_eq!(
        h.agent.report(IN_PROGRESS, Some(&StatusDetails::new(&pairs).unwrap())),
        Err(AgentError::DetailsTooLarge { len: 808, capacity: MAX_DETAILS_BYTES })
    );
    assert!(h.transmit().is_empty());
    h.report(ExecutionStatus::Rejected, &[]);
    assert_eq!(h.take_events(), [finished("job-a", 1, ExecutionStatus::Rejected, 3)]);
    assert_eq!(h.agent.report(SUCCEEDED, None), Err(AgentError::NoJob));
}

#[test]
fn a_document_too_large_is_reported_not_truncated() {
    let mut h: Harness<16> = Harness::new(&["dev1"]);
    h.pump();
    let doc = r#"{"op":"firmware","url":"https://example.com/fw.bin"}"#;
    h.service.create_job("job-big", doc, TargetSelection::Snapshot, &["dev1"]);
    h.service.create_job("job-small", r#"{"op":"x"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.pump();
    assert_eq!(h.take_events(), [Ev::TooLarge { job: "job-big".into(), len: doc.len() }]);
    // The app declines it; the agent moves on to the next job.
    h.report(ExecutionStatus::Rejected, &[("reason", "document too large")]);
    assert_eq!(
        h.take_events(),
        [finished("job-big", 1, ExecutionStatus::Rejected, 3), run("job-small", 1, 2, r#"{"op":"x"}"#)]
    );
}

#[test]
fn the_largest_publish_fits_max_transmit_len() {
    let long_thing = "t".repeat(ThingName::MAX_LEN);
    let long_ns = NamespaceId::new(&"n".repeat(NamespaceId::MAX_LEN)).unwrap();
    let long_job = "j".repeat(JobId::MAX_LEN);
    let mut agent: Agent<64> = Agent::new(&thing(&long_thing), Some(&long_ns), Config::DEFAULT);
    let mut buf = vec![0; MAX_TRANSMIT_LEN];
    let t = agent.poll_transmit(T0, &mut buf).unwrap();
    let token = Sent { topic: t.topic.into(), payload: t.payload.to_vec() }.token();
    let topic = format!("$aws/things/{long_thing}/jobs/$next/namespace-{}/get/accepted", long_ns.as_str());
    let x = format!(
        r#"{{"timestamp":1,"clientToken":"{token}","execution":{{"jobId":"{long_job}","status":"IN_PROGRESS","queuedAt":1,"lastUpdatedAt":1,"versionNumber":{},"executionNumber":{}}}}}"#,
        i64::MAX - 1,
        i64::MAX
    );
    agent.handle(T0, &topic, x.as_bytes()).unwrap();
    // Ten pairs of quotes and backslashes, the most MAX_DETAILS_BYTES holds.
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let value = "\"\\".repeat((MAX_DETAILS_BYTES / 10 - 5) / 2);
    let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), value.as_str())).collect();
    agent.report(SUCCEEDED, Some(&StatusDetails::new(&pairs).unwrap())).unwrap();
    let t = agent.poll_transmit(T0, &mut buf).unwrap();
    let len = t.topic.len() + t.payload.len();
    assert!(len <= MAX_TRANSMIT_LEN, "{len} > {MAX_TRANSMIT_LEN}");
    assert!(len > MAX_TRANSMIT_LEN - 700, "the bound is not loose: {len}");
    let mut scratch = vec![0; t.payload.len()];
    let u = UpdateRequest::parse(t.payload, &mut scratch).unwrap();
    assert_eq!(u.status_details.unwrap().pairs().len(), 10);
}

#[test]
fn a_small_send_buffer_is_reported_once_and_the_request_kept() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let mut small = [0; 20];
    assert_eq!(agent.poll_transmit(T0, &mut small), None);
    assert_eq!(agent.poll_transmit(T0, &mut small), None);
    assert_eq!(agent.poll_event(), Some(AgentEvent::Error(AgentError::BufferTooSmall { available: 20 })));
    assert_eq!(agent.poll_event(), None);
    let mut topic_only = [0; 32];
    assert_eq!(agent.poll_transmit(T0, &mut topic_only), None);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    assert_eq!(agent.poll_transmit(T0, &mut buf).unwrap().topic, "$aws/things/dev1/jobs/start-next");
}

#[test]
fn namespace_agent_describes_next_and_claims_it() {
    let ns = NamespaceId::new("ns1").unwrap();
    let mut h: Harness<256> = Harness::with(&["dev1"], Some(&ns), Config::DEFAULT);
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.service.notifications();
    h.pump();
    let sent = h.take_sent();
    // SPEC 7.3: describe `$next`, then UpdateJobExecution to IN_PROGRESS (no StartNext form).
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    assert_eq!(sent[0].describe(), (None, true));
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/job-a/namespace-ns1/update");
    assert_eq!(sent[1].update(), (IN_PROGRESS, Some(1), Some(1), vec![]));
    assert_eq!(sent.len(), 2);
    assert_eq!(h.take_events(), [run("job-a", 1, 2, r#"{"op":"a"}"#)]);
    h.report(SUCCEEDED, &[]);
    let sent = h.take_sent();
    assert_eq!(sent[0].update(), (SUCCEEDED, Some(2), Some(1), vec![]));
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    assert_eq!(h.take_events(), [finished("job-a", 1, SUCCEEDED, 3)]);
    assert!(h.agent.is_idle());
}

#[test]
fn a_claim_refused_because_of_a_cancel_ends_unseen() {
    let ns = NamespaceId::new("ns1").unwrap();
    let mut h: Harness<256> = Harness::with(&["dev1"], Some(&ns), Config::DEFAULT);
    h.service.create_job("job-a", r#"{"op":"a"}"#, TargetSelection::Snapshot, &["dev1"]);
    h.transmit();
    let sent = h.take_sent();
    let replies = h.service.serve(&Transmit { topic: &sent[0].topic, payload: &sent[0].payload });
    h.deliver(replies);
    // Canceled between the describe and the claim.
    h.service.reg.cancel_job(&job("job-a"), false, None, T0, &mut h.service.sink).unwrap();
    h.service.notifications();
    assert_eq!(h.agent.job(), None, "not the app's job before the claim succeeds");
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent[0].update().0, IN_PROGRESS);
    assert_eq!(sent[1].topic, "$aws/things/dev1/jobs/$next/namespace-ns1/get");
    h.collect();
    assert!(h.take_events().is_empty(), "the app never heard of it");
    assert!(h.agent.is_idle());
}

#[test]
fn notify_next_while_start_next_is_in_flight_asks_again() {
    let mut h: Harness<256> = Harness::new(&["dev1"]);
    let first = h.transmit();
    // The StartNext is answered "nothing" before the job exists, but its notification is
    // delivered first.
    let nothing = h.service.serve(&Transmit { topic: &first[0].topic, payload: &first[0].payload });
    h.service.create_job("job-a", "{}", TargetSelection::Snapshot, &["dev1"]);
    h.notify();
    h.deliver(nothing);
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].is_start_next());
    assert_eq!(h.take_events(), [run("job-a", 1, 2, "{}")]);
}

#[test]
fn reconnect_checks_the_running_job() {
    let mut h = running(&["job-a"]);
    h.agent.reconnected();
    h.pump();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    assert!(h.take_events().is_empty());
    // An unanswered request is sent again at once.
    h.agent.report(IN_PROGRESS, None).unwrap();
    let a = h.transmit();
    h.agent.reconnected();
    let b = h.transmit();
    assert_eq!(a[0].update(), b[0].update());
    assert_ne!(a[0].token(), b[0].token());
    // Either transmission's reply completes it.
    let reply = format!(r#"{{"timestamp":1,"clientToken":"{}"}}"#, a[0].token());
    h.agent.handle(T0, "$aws/things/dev1/jobs/job-a/update/accepted", reply.as_bytes()).unwrap();
    assert_eq!(h.agent.job().unwrap().version, v(3));
}

#[test]
fn a_job_that_ends_before_its_run_was_polled_is_never_shown() {
    let mut h2: Harness<256> = Harness::new(&["dev1"]);
    h2.pump();
    h2.service.create_job("job-a", "{}", TargetSelection::Snapshot, &["dev1"]);
    h2.notify();
    // Pump without collecting events.
    let mut buf = [0; MAX_TRANSMIT_LEN];
    let t = h2.agent.poll_transmit(T0, &mut buf).unwrap();
    let replies = h2.service.serve(&t);
    for m in replies {
        h2.agent.handle(T0, &m.topic, &m.payload).unwrap();
    }
    assert!(h2.agent.job().is_some());
    h2.service.reg.delete_job(&job("job-a"), true, T0, &mut h2.service.sink).unwrap();
    h2.notify();
    let t = h2.agent.poll_transmit(T0, &mut buf).unwrap();
    let replies = h2.service.serve(&t);
    for m in replies {
        h2.agent.handle(T0, &m.topic, &m.payload).unwrap();
    }
    assert_eq!(h2.agent.poll_event(), None);
}

#[test]
fn a_refused_start_next_is_an_error_and_events_are_bounded() {
    let mut agent: Agent<64> = Agent::new(&thing("dev1"), None, Config::DEFAULT);
    let mut buf = [0; MAX_TRANSMIT_LEN];
    // The app does not poll events while StartNext is refused ten times (never retried).
    for attempt in 1..=10_u32 {
        let t = agent.poll_transmit(T0, &mut buf).unwrap();
        assert_eq!(t.topic, "$aws/things/dev1/jobs/start-next");
        let code = if attempt % 2 == 0 { "ResourceNotFound" } else { "InvalidRequest" };
        let rejected = rejection(code, &attempt.to_string(), None);
        agent.handle(T0, "$aws/things/dev1/jobs/start-next/rejected", &rejected).unwrap();
        assert!(agent.is_idle());
        assert_eq!(agent.poll_transmit(T0, &mut buf), None, "no retry");
        agent.reconnected();
    }
    let mut events = Vec::new();
    while let Some(AgentEvent::Error(e)) = agent.poll_event() {
        events.push(e);
    }
    assert_eq!(events.len(), 9);
    assert_eq!(events[0], AgentError::Refused(ErrorCode::InvalidRequest));
    assert_eq!(events[1], AgentError::Refused(ErrorCode::ResourceNotFound));
    assert_eq!(events[8], AgentError::EventsDropped { count: 2 });
    assert_eq!(agent.poll_event(), None);
}

#[test]
fn terminal_states_in_rejections_and_descriptions_stop_the_job() {
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    for (code, status) in [
        ("InvalidStateTransition", ExecutionStatus::TimedOut),
        ("InvalidStateTransition", ExecutionStatus::Removed),
        ("VersionMismatch", ExecutionStatus::Canceled),
        // Another client reported a different final status.
        ("InvalidStateTransition", ExecutionStatus::Failed),
    ] {
        let mut h = running(&["job-a"]);
        h.agent.report(SUCCEEDED, None).unwrap();
        let sent = h.transmit();
        h.agent.handle(T0, topic, &rejection(code, &sent[0].token(), Some((status.as_str(), 4)))).unwrap();
        h.collect();
        assert_eq!(h.take_events(), [Ev::Canceled { job: "job-a".into(), number: 1, status: Some(status) }]);
        assert!(h.transmit()[0].is_start_next(), "{code} {status}: no retry");
    }

    // A rejection that should carry executionState but does not: refused, not retried.
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    h.agent.handle(T0, topic, &rejection("TerminalStateReached", &sent[0].token(), None)).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [Ev::Canceled { job: "job-a".into(), number: 1, status: None }]);

    // A service that describes terminal executions (Policy::data_plane_describes_terminal).
    let mut h = running(&["job-a", "job-b"]);
    h.deliver(vec![Msg {
        topic: "$aws/things/dev1/jobs/notify-next".into(),
        payload: br#"{"timestamp":1700000000}"#.to_vec(),
    }]);
    let sent = h.transmit();
    assert_eq!(sent[0].topic, "$aws/things/dev1/jobs/job-a/get");
    let described = format!(
        r#"{{"execution":{{"jobId":"job-a","status":"TIMED_OUT","queuedAt":1,"lastUpdatedAt":2,"versionNumber":4,"executionNumber":1}},"timestamp":2,"clientToken":"{}"}}"#,
        sent[0].token()
    );
    h.agent.handle(T0, "$aws/things/dev1/jobs/job-a/get/accepted", described.as_bytes()).unwrap();
    h.collect();
    assert_eq!(
        h.take_events(),
        [Ev::Canceled { job: "job-a".into(), number: 1, status: Some(ExecutionStatus::TimedOut) }]
    );
}

#[test]
fn a_version_rejection_without_state_is_refused_not_retried() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let sent = h.transmit();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    h.agent.handle(T0, topic, &rejection("VersionMismatch", &sent[0].token(), None)).unwrap();
    h.collect();
    assert_eq!(h.take_events(), [lost("job-a", 1, LostReason::Refused(ErrorCode::VersionMismatch))]);
}

#[test]
fn repeated_version_mismatches_give_up_within_the_attempt_budget() {
    let mut h = running(&["job-a"]);
    h.agent.report(IN_PROGRESS, None).unwrap();
    let topic = "$aws/things/dev1/jobs/job-a/update/rejected";
    let mut expected = Vec::new();
    for version in 3..8 {
        let sent = h.transmit();
        assert_eq!(sent.len(), 1);
        expected.push(sent[0].update().1.unwrap());
        let state = Some(("IN_PROGRESS", version));
        h.agent.handle(T0, topic, &rejection("VersionMismatch", &sent[0].token(), state)).unwrap();
    }
    // Each resend carries the version of the previous rejection.
    assert_eq!(expected, [2, 3, 4, 5, 6]);
    h.collect();
    assert_eq!(
        h.take_events(),
        [lost("job-a", 1, LostReason::RetriesExhausted { last: Some(ErrorCode::VersionMismatch) })]
    );
}
