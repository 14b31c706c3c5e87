//! The messages the broker publishes for the registry's events: `notify` and `notify-next`
//! and their namespace forms (SPEC §7.2, §7.3, R20, QoS 1) and the job and job-execution events
//! (SPEC §7.4, QoS 1), rendered with the state as the operation that reported them left it. Job
//! and job-execution events are published while their type is enabled in the event
//! configuration (SPEC R23; on by default).

use std::collections::HashMap;

use iot_jobs_core::registry::{
    Event, ExecutionHandle, ExecutionView, Heap, JobView, ProcessDetails, Registry,
};
use iot_jobs_core::topic::{JobEvent, JobIdRef, NamespaceIdRef, ThingNameRef, Topic};
use iot_jobs_core::{ExecutionStatus, Plane, TargetSelection, Timestamp, rules};
use serde_json::{Map, Value, json};

use super::codec::Message;
use crate::state::State;
use crate::wire::data;

/// The messages for `event`; an event that cannot be rendered is logged and skipped (the
/// registry's change stands).
pub fn render(st: &State, event: &Event) -> Vec<Message> {
    match try_render(st, event) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(?event, "cannot publish an event: {e}");
            Vec::new()
        }
    }
}

/// The topic `event` is published on, or `None` for a kind of event this emulator does not
/// publish yet.
pub fn topic_of(event: &Event) -> Result<Option<Topic<'_>>, String> {
    fn text(e: impl std::fmt::Display) -> String {
        e.to_string()
    }
    Ok(Some(match event {
        Event::Notify(t) => {
            Topic::Notify { thing: ThingNameRef::new(t.as_str()).map_err(text)?, namespace: None }
        }
        Event::NotifyNamespace { thing, namespace } => Topic::Notify {
            thing: ThingNameRef::new(thing.as_str()).map_err(text)?,
            namespace: Some(NamespaceIdRef::new(namespace.as_str()).map_err(text)?),
        },
        Event::NotifyNext(t) => {
            Topic::NotifyNext { thing: ThingNameRef::new(t.as_str()).map_err(text)?, namespace: None }
        }
        Event::NotifyNextNamespace { thing, namespace } => Topic::NotifyNext {
            thing: ThingNameRef::new(thing.as_str()).map_err(text)?,
            namespace: Some(NamespaceIdRef::new(namespace.as_str()).map_err(text)?),
        },
        Event::Job { job, event } => {
            Topic::JobEvent { job: JobIdRef::new(job.as_str()).map_err(text)?, event: *event }
        }
        Event::Execution { job, event, .. } => {
            Topic::ExecutionEvent { job: JobIdRef::new(job.as_str()).map_err(text)?, event: *event }
        }
        // A kind of event this emulator does not publish yet (logged by the caller).
        _ => return Ok(None),
    }))
}

fn try_render(st: &State, event: &Event) -> Result<Vec<Message>, String> {
    let Some(topic) = topic_of(event)? else { return Ok(Vec::new()) };
    let now = st.now();
    Ok(match event {
        Event::Notify(thing) => {
            let mut handles = Vec::new();
            st.registry.pending(thing, |v| handles.push(v.handle())).map_err(|e| e.to_string())?;
            vec![notify(st, topic, handles, now)?]
        }
        Event::NotifyNamespace { thing, namespace } => {
            let mut handles = Vec::new();
            st.registry
                .pending_in_namespace(thing, namespace, |v| handles.push(v.handle()))
                .map_err(|e| e.to_string())?;
            vec![notify(st, topic, handles, now)?]
        }
        Event::NotifyNext(thing) => {
            let view = st.registry.next_pending(thing).map_err(|e| e.to_string())?;
            vec![notify_next(st, topic, view.as_ref(), now)?]
        }
        Event::NotifyNextNamespace { thing, namespace } => {
            let view = st.registry.next_pending_in_namespace(thing, namespace).map_err(|e| e.to_string())?;
            vec![notify_next(st, topic, view.as_ref(), now)?]
        }
        Event::Job { .. } if !st.meta.event_configurations.enabled("JOB", st.job_events) => Vec::new(),
        Event::Execution { .. } if !st.meta.event_configurations.enabled("JOB_EXECUTION", st.job_events) => {
            Vec::new()
        }
        Event::Job { job, event } => {
            let fields = match st.registry.job(job) {
                Ok(v) => Some(JobFields::of(&v)),
                Err(_) => st.removed.jobs.get(job.as_str()).cloned(),
            };
            let body = job_body(st, job.as_str(), *event, fields.as_ref(), now);
            let payload = serde_json::to_vec(&Value::Object(body)).map_err(|e| e.to_string())?;
            vec![Message::new(topic.to_string(), payload, 1)]
        }
        Event::Execution { job, thing, number, event } => {
            let fields = match st.registry.describe_execution(job, thing, Some(*number), Plane::Control) {
                Ok(v) => Some(ExecutionFields::of(&v)),
                Err(_) => {
                    st.removed.executions.get(&(job.to_string(), thing.to_string(), number.get())).cloned()
                }
            };
            // DG-EVT: these fields and no others (no executionNumber).
            let mut body = Map::new();
            body.insert("eventType".into(), "JOB_EXECUTION".into());
            body.insert("eventId".into(), event_id().into());
            body.insert("timestamp".into(), now.secs().into());
            body.insert("operation".into(), event.as_str().into());
            body.insert("jobId".into(), job.as_str().into());
            body.insert("thingArn".into(), st.arns.thing(thing.as_str()).into());
            if let Some(f) = fields {
                body.insert("status".into(), f.status.as_str().into());
                body.insert("statusDetails".into(), Value::Object(f.details));
            }
            let payload = serde_json::to_vec(&Value::Object(body)).map_err(|e| e.to_string())?;
            vec![Message::new(topic.to_string(), payload, 1)]
        }
        // A kind of event this emulator does not publish yet (logged by the caller).
        _ => Vec::new(),
    })
}

/// A `notify` message on `topic` (SPEC 7.2, R20) listing the executions `handles`.
fn notify(
    st: &State,
    topic: Topic<'_>,
    handles: Vec<ExecutionHandle>,
    now: Timestamp,
) -> Result<Message, String> {
    let views = handles.into_iter().filter_map(|h| st.registry.execution(h));
    let body = data::notify_body(views, now).map_err(|e| e.message)?;
    Ok(Message::new(topic.to_string(), body, 1))
}

/// A `notify-next` message on `topic` (SPEC 7.2, R20) for `view`, with its job document.
fn notify_next(
    st: &State,
    topic: Topic<'_>,
    view: Option<&ExecutionView<'_>>,
    now: Timestamp,
) -> Result<Message, String> {
    let doc = view.and_then(|v| {
        st.meta.jobs.get(v.job_id().as_str()).and_then(|m| m.document.as_deref()).map(data::Document::new)
    });
    let body = data::notify_next_body(view, doc.as_ref(), now).map_err(|e| e.message)?;
    Ok(Message::new(topic.to_string(), body, 1))
}

/// A job event's payload (DG-EVT, SPEC 7.4), field for field as the Developer Guide's examples
/// show it: the status the event announces (`rules::job_event_status`), `targetSelection`,
/// `targets`, `description` (when the job has one), `createdAt` and `lastUpdatedAt` in
/// milliseconds; `completed` adds `completedAt` and `jobProcessDetails`; `deleted`,
/// `cancellation_in_progress` and `deletion_in_progress` add the job's `comment` (when it has
/// one, given to CancelJob or AssociateTargetsWithJob). `fields` is `None` only for a job the
/// registry no longer has and nothing was kept of.
fn job_body(
    st: &State,
    job: &str,
    event: JobEvent,
    fields: Option<&JobFields>,
    now: Timestamp,
) -> Map<String, Value> {
    let meta = st.meta.jobs.get(job);
    let mut body = Map::new();
    body.insert("eventType".into(), "JOB".into());
    body.insert("eventId".into(), event_id().into());
    body.insert("timestamp".into(), now.secs().into());
    body.insert("operation".into(), event.as_str().into());
    body.insert("jobId".into(), job.into());
    body.insert("status".into(), rules::job_event_status(event).into());
    if let Some(f) = fields {
        body.insert("targetSelection".into(), f.target_selection.as_str().into());
    }
    if let Some(m) = meta {
        body.insert("targets".into(), json!(m.targets));
        if let Some(d) = &m.description {
            body.insert("description".into(), d.as_str().into());
        }
    }
    if let Some(f) = fields {
        if let Some(at) = f.completed_at.filter(|_| event == JobEvent::Completed) {
            body.insert("completedAt".into(), millis(at).into());
        }
        body.insert("createdAt".into(), millis(f.created_at).into());
        body.insert("lastUpdatedAt".into(), millis(f.last_updated_at).into());
        if event == JobEvent::Completed {
            let count = |s: ExecutionStatus| Value::from(f.process.count(s));
            body.insert(
                "jobProcessDetails".into(),
                json!({
                    "numberOfCanceledThings": count(ExecutionStatus::Canceled),
                    "numberOfRejectedThings": count(ExecutionStatus::Rejected),
                    "numberOfFailedThings": count(ExecutionStatus::Failed),
                    "numberOfRemovedThings": count(ExecutionStatus::Removed),
                    "numberOfSucceededThings": count(ExecutionStatus::Succeeded),
                }),
            );
        }
    }
    let commented =
        matches!(event, JobEvent::Deleted | JobEvent::CancellationInProgress | JobEvent::DeletionInProgress);
    if let Some(c) = meta.and_then(|m| m.comment.as_deref()).filter(|_| commented) {
        body.insert("comment".into(), c.into());
    }
    body
}

/// A time as the job events' `createdAt`, `lastUpdatedAt` and `completedAt` give it:
/// milliseconds since the epoch (DG-EVT; `timestamp` stays in seconds).
fn millis(t: Timestamp) -> u64 {
    t.secs().saturating_mul(1000)
}

/// What a job event reports of the registry's job, kept for a job the registry is about to drop.
#[derive(Debug, Clone)]
pub struct JobFields {
    target_selection: TargetSelection,
    created_at: Timestamp,
    last_updated_at: Timestamp,
    completed_at: Option<Timestamp>,
    process: ProcessDetails,
}

impl JobFields {
    /// The fields of `v`.
    pub fn of(v: &JobView<'_>) -> Self {
        JobFields {
            target_selection: v.target_selection(),
            created_at: v.created_at(),
            last_updated_at: v.last_updated_at(),
            completed_at: v.completed_at(),
            process: v.process_details(),
        }
    }
}

/// What an execution event reports of the registry's execution, kept for one about to go.
#[derive(Debug, Clone)]
pub struct ExecutionFields {
    status: ExecutionStatus,
    details: Map<String, Value>,
}

impl ExecutionFields {
    /// The fields of `v`.
    pub fn of(v: &ExecutionView<'_>) -> Self {
        let details = v.status_details().map(|(k, v)| (k.to_owned(), Value::from(v))).collect();
        ExecutionFields { status: v.status(), details }
    }
}

/// What the events of jobs and executions removed by the operation running now report of
/// them: the registry drops them before their events are rendered (kept while the broker is
/// on, until the operation's messages are taken).
#[derive(Debug, Default)]
pub struct Removed {
    /// By job id.
    pub jobs: HashMap<String, JobFields>,
    /// By (job id, thing name, execution number).
    pub executions: HashMap<(String, String, u64), ExecutionFields>,
}

impl Removed {
    /// Keeps what the events of execution `v` report.
    pub fn keep_execution(&mut self, v: &ExecutionView<'_>) {
        let key = (v.job_id().to_string(), v.thing_name().to_string(), v.number().get());
        self.executions.insert(key, ExecutionFields::of(v));
    }

    /// Keeps the jobs whose deletion is due at `now`, and their executions, unless they are
    /// kept already (a deletion takes many units of `advance`; [`Removed::refresh`] keeps the
    /// copies up to date meanwhile).
    pub fn keep_deletions_due(&mut self, reg: &Registry<Heap>, now: Timestamp) {
        for job in reg.deletions_due(now) {
            if self.jobs.contains_key(job.id().as_str()) {
                continue;
            }
            self.jobs.insert(job.id().to_string(), JobFields::of(&job));
            let listed = reg.list_for_job(job.id(), None, None, usize::MAX, |v| self.keep_execution(&v));
            if let Err(e) = listed {
                tracing::warn!("cannot keep the executions of job {} for its events: {e}", job.id());
            }
        }
    }

    /// Brings the kept copies of the jobs and executions `events` name up to date with the
    /// state those events left: a `deleted` event rendered later reports them as they were
    /// when they went (an execution that timed out first is TIMED_OUT).
    pub fn refresh(&mut self, reg: &Registry<Heap>, events: &[Event]) {
        if self.jobs.is_empty() {
            return;
        }
        for event in events {
            let (job, execution) = match event {
                Event::Execution { job, thing, number, .. } => (job, Some((thing, *number))),
                Event::Job { job, .. } => (job, None),
                // The notifications name no job.
                _ => continue,
            };
            if let (Some(kept), Ok(v)) = (self.jobs.get_mut(job.as_str()), reg.job(job)) {
                *kept = JobFields::of(&v);
            }
            let Some((thing, number)) = execution else { continue };
            let key = (job.to_string(), thing.to_string(), number.get());
            if self.executions.contains_key(&key)
                && let Ok(v) = reg.describe_execution(job, thing, Some(number), Plane::Control)
            {
                self.keep_execution(&v);
            }
        }
    }
}

/// An event's `eventId`, in a UUID's form, unique across processes ([`crate::uuid`]).
fn event_id() -> String {
    static IDS: crate::uuid::Sequence = crate::uuid::Sequence::new();
    IDS.next()
}
