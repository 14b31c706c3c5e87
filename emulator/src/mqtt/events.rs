//! The messages the broker publishes for the registry's events: `notify` and `notify-next`
//! and their namespace forms (SPEC §7.2, §7.3, R20, QoS 1) and the job and job-execution events
//! (SPEC §7.4, QoS 1), rendered with the state as the operation that reported them left it. Job
//! and job-execution events are published while their type is enabled in the event
//! configuration (SPEC R23; on by default).

use std::sync::atomic::{AtomicU64, Ordering};

use iot_jobs_core::registry::{Event, ExecutionHandle, ExecutionView};
use iot_jobs_core::topic::{JobIdRef, NamespaceIdRef, ThingNameRef, Topic};
use iot_jobs_core::{Plane, Timestamp};
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

fn topic(t: Topic<'_>) -> String {
    t.to_string()
}

fn try_render(st: &State, event: &Event) -> Result<Vec<Message>, String> {
    let now = st.now();
    Ok(match event {
        Event::Notify(thing) => {
            let t = ThingNameRef::new(thing.as_str()).map_err(|e| e.to_string())?;
            let mut handles = Vec::new();
            st.registry.pending(thing, |v| handles.push(v.handle())).map_err(|e| e.to_string())?;
            vec![notify(st, Topic::Notify { thing: t, namespace: None }, handles, now)?]
        }
        Event::NotifyNamespace { thing, namespace } => {
            let t = ThingNameRef::new(thing.as_str()).map_err(|e| e.to_string())?;
            let ns = NamespaceIdRef::new(namespace.as_str()).map_err(|e| e.to_string())?;
            let mut handles = Vec::new();
            st.registry
                .pending_in_namespace(thing, namespace, |v| handles.push(v.handle()))
                .map_err(|e| e.to_string())?;
            vec![notify(st, Topic::Notify { thing: t, namespace: Some(ns) }, handles, now)?]
        }
        Event::NotifyNext(thing) => {
            let t = ThingNameRef::new(thing.as_str()).map_err(|e| e.to_string())?;
            let view = st.registry.next_pending(thing).map_err(|e| e.to_string())?;
            vec![notify_next(st, Topic::NotifyNext { thing: t, namespace: None }, view.as_ref(), now)?]
        }
        Event::NotifyNextNamespace { thing, namespace } => {
            let t = ThingNameRef::new(thing.as_str()).map_err(|e| e.to_string())?;
            let ns = NamespaceIdRef::new(namespace.as_str()).map_err(|e| e.to_string())?;
            let view = st.registry.next_pending_in_namespace(thing, namespace).map_err(|e| e.to_string())?;
            let topic = Topic::NotifyNext { thing: t, namespace: Some(ns) };
            vec![notify_next(st, topic, view.as_ref(), now)?]
        }
        Event::Job { .. } if !st.meta.event_configurations.enabled("JOB") => Vec::new(),
        Event::Execution { .. } if !st.meta.event_configurations.enabled("JOB_EXECUTION") => Vec::new(),
        Event::Job { job, event } => {
            let j = JobIdRef::new(job.as_str()).map_err(|e| e.to_string())?;
            let mut body = Map::new();
            body.insert("eventType".into(), "JOB".into());
            body.insert("eventId".into(), event_id().into());
            body.insert("timestamp".into(), now.secs().into());
            body.insert("operation".into(), event.as_str().into());
            body.insert("jobId".into(), job.as_str().into());
            if let Ok(v) = st.registry.job(job) {
                body.insert("status".into(), json!(v.status()));
                body.insert("targetSelection".into(), json!(v.target_selection()));
                body.insert("createdAt".into(), v.created_at().secs().into());
                body.insert("lastUpdatedAt".into(), v.last_updated_at().secs().into());
                if let Some(at) = v.completed_at() {
                    body.insert("completedAt".into(), at.secs().into());
                }
            }
            if let Some(meta) = st.meta.jobs.get(job.as_str()) {
                body.insert("targets".into(), json!(meta.targets));
                if let Some(d) = &meta.description {
                    body.insert("description".into(), d.as_str().into());
                }
            }
            let payload = serde_json::to_vec(&Value::Object(body)).map_err(|e| e.to_string())?;
            vec![Message::new(topic(Topic::JobEvent { job: j, event: *event }), payload, 1)]
        }
        Event::Execution { job, thing, number, event } => {
            let j = JobIdRef::new(job.as_str()).map_err(|e| e.to_string())?;
            let mut body = Map::new();
            body.insert("eventType".into(), "JOB_EXECUTION".into());
            body.insert("eventId".into(), event_id().into());
            body.insert("timestamp".into(), now.secs().into());
            body.insert("operation".into(), event.as_str().into());
            body.insert("jobId".into(), job.as_str().into());
            body.insert("thingArn".into(), st.arns.thing(thing.as_str()).into());
            body.insert("executionNumber".into(), json!(number));
            if let Ok(v) = st.registry.describe_execution(job, thing, Some(*number), Plane::Control) {
                body.insert("status".into(), json!(v.status()));
                let details: Map<String, Value> =
                    v.status_details().map(|(k, v)| (k.to_owned(), Value::from(v))).collect();
                body.insert("statusDetails".into(), Value::Object(details));
            }
            let payload = serde_json::to_vec(&Value::Object(body)).map_err(|e| e.to_string())?;
            vec![Message::new(topic(Topic::ExecutionEvent { job: j, event: *event }), payload, 1)]
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

/// A UUID-shaped id unique within this process.
fn event_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("00000000-0000-4000-9000-{:012x}", NEXT.fetch_add(1, Ordering::Relaxed))
}
