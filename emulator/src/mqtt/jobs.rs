//! The jobs device API over MQTT (SPEC §7.1, §7.3): a publish to a request topic runs the same
//! data-plane function as its HTTP operation, with the core's wire in its MQTT flavour, and the
//! answer goes to `…/accepted` or `…/rejected` (an ErrorResponse, SPEC §4.4).

use iot_jobs_core::topic::{Reply as Answer, Topic, TopicError};
use iot_jobs_core::wire::{DescribeRequest, ErrorResponse, Flavor, JobExecutionState};
use iot_jobs_core::{ErrorCode, StatusDetails, Timestamp};

use super::codec::Message;
use crate::faults::{Effect, Faults};
use crate::handlers::Reply;
use crate::handlers::data_plane;
use crate::state::State;
use crate::wire::ApiError;
use crate::wire::data::parse_in;

/// What a publish under `$aws/things/T/jobs/` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// One of the four requests (plain or namespace form).
    Request(Topic<'a>),
    /// A topic in the jobs namespace that names no operation (SPEC §4.4 `InvalidTopic`): what
    /// the core's topic parser found wrong (an unknown operation, an invalid thing name or job
    /// id, ...).
    Invalid(TopicError),
    /// An answer, a notification or an event: a reserved topic that clients may subscribe to and
    /// receive from, and only the service publishes (DG-TOPICS; SPEC §7, "Clients publish to the
    /// request topics only").
    ServiceOnly,
    /// Outside the jobs namespace; routed as any other message.
    Other,
}

/// Classifies a topic name.
pub fn route(topic: &str) -> Route<'_> {
    match Topic::parse(topic) {
        Ok(
            t @ (Topic::GetPending { reply: None, .. }
            | Topic::StartNext { reply: None, .. }
            | Topic::Describe { reply: None, .. }
            | Topic::Update { reply: None, .. }),
        ) => Route::Request(t),
        Ok(
            Topic::GetPending { reply: Some(_), .. }
            | Topic::StartNext { reply: Some(_), .. }
            | Topic::Describe { reply: Some(_), .. }
            | Topic::Update { reply: Some(_), .. }
            | Topic::Notify { .. }
            | Topic::NotifyNext { .. }
            | Topic::DocumentedNotify { .. }
            | Topic::JobEvent { .. }
            | Topic::ExecutionEvent { .. },
        ) => Route::ServiceOnly,
        Err(e) => {
            let mut levels = topic.split('/');
            let jobs = levels.next() == Some("$aws")
                && levels.next() == Some("things")
                && levels.next().is_some()
                && levels.next() == Some("jobs");
            if jobs { Route::Invalid(e) } else { Route::Other }
        }
    }
}

/// The answer to one request, before it is published.
#[derive(Debug)]
pub struct Outcome {
    /// The message for the publisher.
    pub reply: Message,
    /// Whether the state changed (so it must be saved before the reply goes out).
    pub changed: bool,
    /// Where an error found after the fact (the state could not be saved) is answered.
    rejected_topic: String,
    client_token: Option<String>,
}

impl Outcome {
    /// Whether the request was refused (answered on its `/rejected` topic).
    pub fn refused(&self) -> bool {
        self.reply.topic == self.rejected_topic
    }

    /// The rejection's payload, if the request was refused.
    pub fn refusal(&self) -> Option<String> {
        self.refused().then(|| String::from_utf8_lossy(&self.reply.payload).into_owned())
    }

    /// The `InternalError` answer replacing an accepted one whose change could not be saved.
    pub fn internal_error(&self, message: &str, now: Timestamp) -> Message {
        let e = ApiError::unavailable(message);
        rejection(&self.rejected_topic, &e, self.client_token.as_deref(), now)
    }
}

/// What an injected fault ([`Faults`]) does to a request on `topic`, if one waits for its
/// operation (an MQTT request counts as its data-plane operation) and its topic's thing.
pub fn fault(faults: &Faults, topic: &str) -> Option<Effect> {
    let Route::Request(t) = route(topic) else { return None };
    let (operation, thing) = match t {
        Topic::GetPending { thing, .. } => ("GetPendingJobExecutions", thing),
        Topic::StartNext { thing, .. } => ("StartNextPendingJobExecution", thing),
        Topic::Describe { thing, .. } => ("DescribeJobExecution", thing),
        Topic::Update { thing, .. } => ("UpdateJobExecution", thing),
        Topic::Notify { .. }
        | Topic::NotifyNext { .. }
        | Topic::DocumentedNotify { .. }
        | Topic::JobEvent { .. }
        | Topic::ExecutionEvent { .. } => return None,
    };
    faults.take(operation, crate::faults::Plane::Data, Some(thing.as_str()))
}

/// The refusal of the request `payload` on `topic` with `e` (an injected fault's): on the
/// request's `/rejected` topic, with its clientToken.
pub fn refusal(topic: &str, payload: &[u8], e: &ApiError, now: Timestamp) -> Message {
    let rejected = match route(topic) {
        Route::Request(t) => with_reply(t, Answer::Rejected).to_string(),
        Route::Invalid(_) | Route::ServiceOnly | Route::Other => format!("{topic}/rejected"),
    };
    rejection(&rejected, e, client_token(payload).as_deref(), now)
}

/// Runs the request `topic` names with `payload`; `None` when the topic is not a request.
pub fn answer(st: &mut State, topic: &str, payload: &[u8]) -> Option<Outcome> {
    let now = st.now();
    let token = client_token(payload);
    let t = match route(topic) {
        Route::ServiceOnly | Route::Other => return None,
        Route::Invalid(why) => {
            let e = ApiError::new(
                400,
                "InvalidRequestException",
                format!("{topic} is in the jobs namespace but names no operation: {why}"),
                ErrorCode::InvalidTopic,
            );
            let rejected = format!("{topic}/rejected");
            let reply = rejection(&rejected, &e, token.as_deref(), now);
            return Some(Outcome { reply, changed: false, rejected_topic: rejected, client_token: token });
        }
        Route::Request(t) => t,
    };
    let result = run(st, t, payload);
    let accepted = with_reply(t, Answer::Accepted).to_string();
    let rejected = with_reply(t, Answer::Rejected).to_string();
    let (reply, changed) = match result {
        Ok(Reply { body, changed }) => (Message::new(accepted, body, 0), changed),
        Err(e) => (rejection(&rejected, &e, token.as_deref(), now), false),
    };
    Some(Outcome { reply, changed, rejected_topic: rejected, client_token: token })
}

fn run(st: &mut State, t: Topic<'_>, payload: &[u8]) -> Result<Reply, ApiError> {
    const M: Flavor = Flavor::Mqtt;
    // Namespace forms (SPEC §7.3, R8) address the same executions; only their topics differ.
    match t {
        Topic::GetPending { thing, .. } => data_plane::pending(st, thing.as_str(), payload, M),
        Topic::StartNext { thing, .. } => data_plane::start_next(st, thing.as_str(), payload, M),
        Topic::Describe { thing, job, .. } => {
            let mut scratch = Vec::new();
            let input = parse_in(M, payload, &mut scratch, DescribeRequest::parse_as)?;
            data_plane::describe(st, thing.as_str(), job.as_str(), &input, M)
        }
        Topic::Update { thing, job, .. } => {
            data_plane::update_execution(st, thing.as_str(), job.as_str(), payload, M)
        }
        // `route` yields only the four requests.
        Topic::Notify { .. }
        | Topic::NotifyNext { .. }
        | Topic::DocumentedNotify { .. }
        | Topic::JobEvent { .. }
        | Topic::ExecutionEvent { .. } => {
            Err(ApiError::new(400, "InvalidRequestException", "not a request", ErrorCode::InvalidTopic))
        }
    }
}

/// The request topic `t` with its answer suffix.
fn with_reply(t: Topic<'_>, answer: Answer) -> Topic<'_> {
    let reply = Some(answer);
    match t {
        Topic::GetPending { thing, .. } => Topic::GetPending { thing, reply },
        Topic::StartNext { thing, .. } => Topic::StartNext { thing, reply },
        Topic::Describe { thing, job, namespace, .. } => Topic::Describe { thing, job, namespace, reply },
        Topic::Update { thing, job, namespace, .. } => Topic::Update { thing, job, namespace, reply },
        other => other,
    }
}

/// An ErrorResponse on `topic` (SPEC §4.4): `executionState` only where the code carries one,
/// with the statusDetails the handler read for it.
fn rejection(topic: &str, e: &ApiError, client_token: Option<&str>, now: Timestamp) -> Message {
    let pairs: Vec<(&str, &str)> = e.status_details.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let execution_state = e.execution_state.filter(|_| e.code.carries_execution_state()).map(|s| {
        JobExecutionState { status_details: StatusDetails::new(&pairs).ok(), ..JobExecutionState::from(s) }
    });
    let mut response =
        ErrorResponse { code: e.code, message: &e.message, client_token, timestamp: now, execution_state };
    let mut buf = vec![0; 64 * 1024];
    let body = match response.serialize(&mut buf) {
        Ok(b) => b.to_vec(),
        Err(_) => {
            // A clientToken the wire refuses (too long, …) is not echoed.
            response.client_token = None;
            response.serialize(&mut buf).map(<[u8]>::to_vec).unwrap_or_default()
        }
    };
    Message::new(topic, body, 0)
}

/// The request's `clientToken`, read leniently so that a rejected request echoes it too.
fn client_token(payload: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(payload).ok()?;
    value.get("clientToken")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_routed_to_requests_errors_or_the_broker() {
        for t in [
            "$aws/things/t/jobs/get",
            "$aws/things/t/jobs/start-next",
            "$aws/things/t/jobs/j/get",
            "$aws/things/t/jobs/$next/get",
            "$aws/things/t/jobs/j/update",
            "$aws/things/t/jobs/j/namespace-ns/get",
            "$aws/things/t/jobs/$next/namespace-ns/get",
            "$aws/things/t/jobs/j/namespace-ns/update",
        ] {
            assert!(matches!(route(t), Route::Request(_)), "{t}");
        }
        for t in [
            "$aws/things/t/jobs/get/accepted",
            "$aws/things/t/jobs/j/update/rejected",
            "$aws/things/t/jobs/notify",
            "$aws/things/t/jobs/notify-next-namespace-ns",
            "$aws/things/t/jobs/j/notify-namespace-ns/",
            "$aws/events/job/j/completed",
            "$aws/events/jobExecution/j/succeeded",
        ] {
            assert_eq!(route(t), Route::ServiceOnly, "{t}");
        }
        for t in ["$aws/things/t/shadow/update", "sensors/t/jobs/get", "$aws/events/presence/connected/t"] {
            assert_eq!(route(t), Route::Other, "{t}");
        }
        for t in [
            "$aws/things/t/jobs/j/frobnicate",
            "$aws/things/t/jobs/get/namespace-ns",
            "$aws/things/t/jobs",
            "$aws/things/t/jobs/",
            "$aws/things/t/jobs/j/update/accepted/more",
        ] {
            assert!(matches!(route(t), Route::Invalid(_)), "{t}");
        }
    }
}
