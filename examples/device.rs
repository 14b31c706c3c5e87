//! A device running the job agent against the crate's registry, in one process.
//!
//! ```sh
//! cargo run --example device
//! ```
//!
//! Three parts talk here, as they would in the field:
//!
//! * `Cloud`: the AWS IoT Jobs service. The `Registry` keeps the jobs and executions; this file
//!   turns each MQTT request of the device into one registry call and the answer into the JSON
//!   reply AWS sends (`wire`), and turns registry events into `notify-next` messages.
//! * `Device`: the `Agent` (the sans-IO state machine) plus a tiny application that "runs" jobs.
//! * `exchange`: the MQTT broker between them. It prints every message:
//!   `→` device to cloud, `←` cloud to device.
//!
//! The story: the device connects with nothing to do; an operator queues two jobs and the device
//! runs both; the operator queues a third and force-cancels it while it runs; the device notices
//! and stops.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::wildcard_enum_match_arm
)]

use iot_jobs_core::agent::{Agent, AgentEvent, Config, MAX_TRANSMIT_LEN};
use iot_jobs_core::registry::{Event, EventSink, ExecutionView, Fixed, NewJob, Registry, Update};
use iot_jobs_core::topic::{JobSelector, Reply, ThingNameRef, Topic};
use iot_jobs_core::wire::{
    DescribeRequest, ErrorResponse, ExecutionResponse, JobDocument, JobExecution, JobExecutionState,
    NextJobExecutionChanged, StartNextRequest, UpdateRequest, UpdateResponse,
};
use iot_jobs_core::{
    ExecutionStatus, JobId, Plane, Policy, Rejection, StatusDetails, TargetSelection, ThingName, Timestamp,
};

/// One MQTT message.
struct Message {
    topic: String,
    payload: Vec<u8>,
}

// ---- the cloud ---------------------------------------------------------------------------------

/// Registry events waiting to become MQTT notifications.
#[derive(Default)]
struct Pending(Vec<Event>);

impl EventSink for Pending {
    fn room(&self) -> usize {
        usize::MAX
    }
    fn push(&mut self, event: Event) {
        self.0.push(event);
    }
}

/// The AWS IoT Jobs service: the registry, the job documents (the registry does not store them)
/// and a clock.
struct Cloud {
    registry: Registry<Fixed<8, 4, 32, 8, 128, 1024>>,
    documents: Vec<(JobId, String)>,
    events: Pending,
    now: Timestamp,
}

impl Cloud {
    fn new(things: &[&str]) -> Self {
        let mut registry = Registry::new(Fixed, Policy::DEFAULT);
        for name in things {
            registry.add_thing(&ThingName::new(name).unwrap()).unwrap();
        }
        Self { registry, documents: Vec::new(), events: Pending::default(), now: Timestamp(1_700_000_000) }
    }

    /// CreateJob (control plane, HTTPS in real life).
    fn create_job(&mut self, id: &str, document: &str, targets: &[&str]) {
        println!("\n# operator: create job {id} for {targets:?}, document {document}");
        let id = JobId::new(id).unwrap();
        let targets: Vec<ThingName> = targets.iter().map(|t| ThingName::new(t).unwrap()).collect();
        let job = NewJob::new(&id, TargetSelection::Snapshot);
        self.registry.create_job(&job, &targets, self.now, &mut self.events).unwrap();
        self.documents.push((id, document.to_string()));
    }

    /// CancelJob with force: IN_PROGRESS executions are canceled too (SPEC T9).
    fn force_cancel(&mut self, id: &str) {
        println!("\n# operator: cancel job {id} with force=true");
        let id = JobId::new(id).unwrap();
        self.registry.cancel_job(&id, true, None, self.now, &mut self.events).unwrap();
    }

    /// Answers one publish of a device: the reply, then the notifications it caused.
    fn handle_publish(&mut self, topic: &str, payload: &[u8]) -> Vec<Message> {
        let topic = Topic::parse(topic).unwrap();
        let thing = ThingName::new(topic.thing().unwrap().as_str()).unwrap();
        let mut scratch = vec![0; payload.len()];
        let (request_topic, answer) = match topic {
            // StartNextPendingJobExecution.
            Topic::StartNext { reply: None, .. } => {
                let request = StartNextRequest::parse(payload, &mut scratch).unwrap();
                let details = request.status_details.as_ref();
                let token = request.client_token;
                let answer = self
                    .registry
                    .start_next(&thing, details, request.step_timeout, self.now, &mut self.events)
                    .map(|started| {
                        self.execution_reply(started.and_then(|h| self.registry.execution(h)), true, token)
                    })
                    .map_err(|rejection| self.error_reply(rejection, token));
                (topic, answer)
            }
            // DescribeJobExecution of a job, or of `$next`.
            Topic::Describe { job, reply: None, .. } => {
                let request = DescribeRequest::parse(payload, &mut scratch).unwrap();
                let token = request.client_token;
                let found = match job {
                    JobSelector::Next => self.registry.next_pending(&thing),
                    JobSelector::Id(id) => self
                        .registry
                        .describe_execution(
                            &JobId::new(id.as_str()).unwrap(),
                            &thing,
                            request.execution_number,
                            Plane::Data,
                        )
                        .map(Some),
                };
                let answer = found
                    .map(|x| self.execution_reply(x, request.include_job_document, token))
                    .map_err(|rejection| self.error_reply(rejection, token));
                (topic, answer)
            }
            // UpdateJobExecution.
            Topic::Update { job, reply: None, .. } => {
                let request = UpdateRequest::parse(payload, &mut scratch).unwrap();
                let update = Update {
                    status: request.status,
                    status_details: request.status_details.as_ref(),
                    expected_version: request.expected_version,
                    execution_number: request.execution_number,
                    step_timeout: request.step_timeout,
                };
                let id = JobId::new(job.as_str()).unwrap();
                let token = request.client_token;
                let answer = self
                    .registry
                    .update_execution(&id, &thing, &update, self.now, &mut self.events)
                    .map(|state| {
                        let reply = UpdateResponse {
                            execution_state: request.include_job_execution_state.then(|| state.into()),
                            job_document: None,
                            timestamp: Some(self.now),
                            client_token: token,
                        };
                        to_vec(|out| reply.serialize(out).map(<[u8]>::len))
                    })
                    .map_err(|rejection| self.error_reply(rejection, token));
                (topic, answer)
            }
            other => panic!("no device API at {other}"),
        };
        let (reply, payload) = match answer {
            Ok(payload) => (Reply::Accepted, payload),
            Err(payload) => (Reply::Rejected, payload),
        };
        let mut out = vec![Message { topic: reply_topic(request_topic, reply), payload }];
        out.extend(self.notifications());
        out
    }

    /// `notify-next` for every registry event that moved the head of a thing's pending list,
    /// rendered from the current state (SPEC 7.2, R15). (`notify` and the event topics are left
    /// out: the device does not subscribe to them.)
    fn notifications(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        for event in std::mem::take(&mut self.events.0) {
            let Event::NotifyNext(thing) = event else { continue };
            let next = self.registry.next_pending(&thing).unwrap();
            let now = self.now;
            let render = |execution: Option<JobExecution<'_>>| {
                to_vec(|out| {
                    NextJobExecutionChanged { timestamp: now, execution }.serialize(out).map(<[u8]>::len)
                })
            };
            let payload = match next {
                Some(x) => self.with_execution(&x, true, |e| render(Some(e))),
                None => render(None),
            };
            let topic = Topic::NotifyNext { thing: ThingNameRef::from(&thing), namespace: None };
            out.push(Message { topic: topic.to_string(), payload });
        }
        out
    }

    /// An accepted StartNext / describe reply.
    fn execution_reply(&self, x: Option<ExecutionView<'_>>, document: bool, token: Option<&str>) -> Vec<u8> {
        let render = |execution: Option<JobExecution<'_>>| {
            let reply = ExecutionResponse { execution, timestamp: Some(self.now), client_token: token };
            to_vec(|out| reply.serialize(out).map(<[u8]>::len))
        };
        match x {
            Some(x) => self.with_execution(&x, document, |e| render(Some(e))),
            None => render(None),
        }
    }

    /// The ErrorResponse of a registry rejection: its MQTT code and, for InvalidStateTransition
    /// and VersionMismatch, the execution's state (SPEC §4.4).
    fn error_reply(&self, rejection: Rejection, token: Option<&str>) -> Vec<u8> {
        let message = rejection.to_string();
        let reply = ErrorResponse {
            code: rejection.error_code(),
            message: &message,
            client_token: token,
            timestamp: self.now,
            execution_state: rejection.execution_state().map(JobExecutionState::from),
        };
        to_vec(|out| reply.serialize(out).map(<[u8]>::len))
    }

    /// Calls `f` with the wire form of a registry execution (its document included if asked).
    fn with_execution<T>(
        &self,
        x: &ExecutionView<'_>,
        document: bool,
        f: impl FnOnce(JobExecution<'_>) -> T,
    ) -> T {
        let pairs: Vec<(&str, &str)> = x.status_details().collect();
        let doc = self.documents.iter().rev().find(|(id, _)| id == x.job_id()).map(|(_, d)| d.as_bytes());
        f(JobExecution {
            job_id: x.job_id().as_str(),
            thing_name: Some(x.thing_name().as_str()),
            job_document: doc.filter(|_| document).map(|d| JobDocument::new(d).unwrap()),
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
}

/// `…/accepted` or `…/rejected` of a request topic.
fn reply_topic(request: Topic<'_>, r: Reply) -> String {
    match request {
        Topic::StartNext { thing, .. } => Topic::StartNext { thing, reply: Some(r) },
        Topic::Describe { thing, job, namespace, .. } => {
            Topic::Describe { thing, job, namespace, reply: Some(r) }
        }
        Topic::Update { thing, job, namespace, .. } => {
            Topic::Update { thing, job, namespace, reply: Some(r) }
        }
        other => other,
    }
    .to_string()
}

/// Serializes into a growable buffer.
fn to_vec<E: std::fmt::Debug>(write: impl FnOnce(&mut [u8]) -> Result<usize, E>) -> Vec<u8> {
    let mut out = vec![0; 64 * 1024];
    let len = write(&mut out).unwrap();
    out.truncate(len);
    out
}

// ---- the device ----------------------------------------------------------------------------------

/// The agent and a small application: it starts every job it is given and finishes it when
/// `main` says so.
struct Device {
    agent: Agent<1024>,
    running: Option<String>,
}

impl Device {
    fn new(thing: &str) -> Self {
        let agent = Agent::new(&ThingName::new(thing).unwrap(), None, Config::DEFAULT);
        println!("\n# device {thing}: connect and subscribe");
        let mut buf = [0; 256];
        for filter in agent.subscriptions() {
            println!("  SUBSCRIBE {}", filter.write_to(&mut buf).unwrap());
        }
        Self { agent, running: None }
    }

    /// The application's side: what it does with each event.
    fn on_events(&mut self) {
        while let Some(event) = self.agent.poll_event() {
            match event {
                AgentEvent::Run { job_id, execution_number, version, document } => {
                    let document = String::from_utf8_lossy(document).into_owned();
                    println!(
                        "  [app] run {job_id} (execution {execution_number}, version {version}): {document}"
                    );
                    self.running = Some(job_id.to_string());
                    // Tell the service the work has started.
                    let details = [("step", "started")];
                    self.agent
                        .report(ExecutionStatus::InProgress, Some(&StatusDetails::new(&details).unwrap()))
                        .unwrap();
                }
                AgentEvent::Finished { job_id, status, .. } => {
                    println!("  [app] {job_id} is done: {status}");
                }
                AgentEvent::Canceled { job_id, status, .. } => {
                    let why = status.map_or("its execution is terminal".to_string(), |s| s.to_string());
                    println!("  [app] STOP {job_id}: the service ended it ({why})");
                    self.running = None;
                }
                AgentEvent::Lost { job_id, reason, .. } => {
                    println!("  [app] STOP {job_id}: lost ({reason:?})");
                    self.running = None;
                }
                other => println!("  [app] {other:?}"),
            }
        }
    }

    /// The application finishes the job it runs.
    fn finish(&mut self, status: ExecutionStatus) {
        let job = self.running.take().expect("a job is running");
        println!("\n# device: the app finishes {job}: {status}");
        let details = [("step", "done")];
        self.agent.report(status, Some(&StatusDetails::new(&details).unwrap())).unwrap();
    }
}

// ---- the broker -----------------------------------------------------------------------------------

/// Moves messages both ways until neither side has anything to say.
fn exchange(cloud: &mut Cloud, device: &mut Device) {
    let mut inbox = cloud.notifications();
    let mut buf = vec![0; MAX_TRANSMIT_LEN];
    loop {
        for m in inbox.drain(..) {
            println!("  ← {} {}", m.topic, String::from_utf8_lossy(&m.payload));
            if let Err(e) = device.agent.handle(cloud.now, &m.topic, &m.payload) {
                println!("    (ignored by the agent: {e})");
            }
        }
        device.on_events();
        let Some(publish) = device.agent.poll_transmit(cloud.now, &mut buf) else { break };
        println!("  → {} {}", publish.topic, String::from_utf8_lossy(publish.payload));
        inbox = cloud.handle_publish(publish.topic, publish.payload);
    }
    // Nothing in flight is left waiting: a device would arm a timer for this.
    assert_eq!(device.agent.poll_timeout(), None);
}

fn main() {
    let mut cloud = Cloud::new(&["dev1"]);
    let mut device = Device::new("dev1");
    exchange(&mut cloud, &mut device);

    cloud.now = cloud.now.saturating_add(60);
    cloud.create_job("update-firmware", r#"{"operation":"install","version":"2.1.0"}"#, &["dev1"]);
    cloud.create_job("rotate-logs", r#"{"operation":"rotate","keep":7}"#, &["dev1"]);
    exchange(&mut cloud, &mut device);

    cloud.now = cloud.now.saturating_add(60);
    device.finish(ExecutionStatus::Succeeded);
    exchange(&mut cloud, &mut device);

    cloud.now = cloud.now.saturating_add(60);
    device.finish(ExecutionStatus::Succeeded);
    exchange(&mut cloud, &mut device);

    cloud.now = cloud.now.saturating_add(60);
    cloud.create_job("reboot", r#"{"operation":"reboot"}"#, &["dev1"]);
    exchange(&mut cloud, &mut device);

    cloud.now = cloud.now.saturating_add(60);
    cloud.force_cancel("reboot");
    exchange(&mut cloud, &mut device);

    assert!(device.running.is_none() && device.agent.is_idle());
    println!("\n# the device is idle, waiting for notify-next");
}
