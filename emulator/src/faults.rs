//! Injected faults (`/_emulator/faults`): the next requests of the named operations (of one
//! thing, if the fault names one) fail as a real service's requests fail, so that a client's retry
//! and idempotency paths can be driven. A fault does one of three things:
//!
//! - `error`: the request is refused with `ThrottlingException` (429; MQTT `RequestThrottled`),
//!   `ServiceUnavailableException` (503), `InternalFailureException` (500; both MQTT
//!   `InternalError`) or `LimitExceededException` (410; MQTT `RequestThrottled`), as the service
//!   does under load. It is not run: nothing changes and nothing is saved.
//! - `drop`: the request (`"request"`: not run, nothing changes) or its answer (`"reply"`: run,
//!   its change saved and its notifications published) is lost: no answer at all, the HTTP
//!   connection closed, no MQTT reply.
//! - `delayMs`: the request runs at once and its answer goes out that much later.
//!
//! Faults are the process's, not the state's: neither saved nor exported, and cleared by a reset.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use iot_jobs_core::{ErrorCode, ThingName};
use serde::{Deserialize, Serialize};

use crate::wire::ApiError;

/// The operations a fault may name: every operation of both planes that a client calls (the
/// admin API and DescribeEndpoint are never refused). An MQTT request counts as its data-plane
/// operation.
pub const OPERATIONS: [&str; 42] = [
    "CreateThing",
    "DescribeThing",
    "DeleteThing",
    "ListThings",
    "CreateThingGroup",
    "DescribeThingGroup",
    "DeleteThingGroup",
    "AddThingToThingGroup",
    "RemoveThingFromThingGroup",
    "UpdateThing",
    "UpdateThingGroup",
    "UpdateThingGroupsForThing",
    "CreateJob",
    "DescribeJob",
    "UpdateJob",
    "DeleteJob",
    "ListJobs",
    "GetJobDocument",
    "CancelJob",
    "AssociateTargetsWithJob",
    "CreateJobTemplate",
    "DescribeJobTemplate",
    "ListJobTemplates",
    "DeleteJobTemplate",
    "ListManagedJobTemplates",
    "DescribeManagedJobTemplate",
    "ListJobExecutionsForJob",
    "ListJobExecutionsForThing",
    "DescribeJobExecution",
    "CancelJobExecution",
    "DeleteJobExecution",
    "ListThingGroups",
    "ListThingsInThingGroup",
    "ListThingGroupsForThing",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "DescribeEventConfigurations",
    "UpdateEventConfigurations",
    "GetPendingJobExecutions",
    "StartNextPendingJobExecution",
    "UpdateJobExecution",
];

/// The operations of the data plane (`iot-jobs-data`, and MQTT); `DescribeJobExecution` is one
/// of both planes, every other operation the control plane's.
const DATA_PLANE: [&str; 4] =
    ["GetPendingJobExecutions", "StartNextPendingJobExecution", "DescribeJobExecution", "UpdateJobExecution"];

/// The operations whose path (or MQTT topic) names a thing: those a fault for one thing may take
/// ([`crate::routing::Op::thing`]).
const NAMES_A_THING: [&str; 12] = [
    "CreateThing",
    "DescribeThing",
    "DeleteThing",
    "UpdateThing",
    "ListJobExecutionsForThing",
    "DescribeJobExecution",
    "CancelJobExecution",
    "DeleteJobExecution",
    "ListThingGroupsForThing",
    "GetPendingJobExecutions",
    "StartNextPendingJobExecution",
    "UpdateJobExecution",
];

/// Whether `operation` is one of `plane`'s.
fn on_plane(operation: &str, plane: Plane) -> bool {
    match plane {
        Plane::Data => DATA_PLANE.contains(&operation),
        Plane::Control => operation == "DescribeJobExecution" || !DATA_PLANE.contains(&operation),
    }
}

/// Most requests one fault refuses.
pub const MAX_COUNT: u32 = 1_000_000;

/// Most faults waiting at once.
pub const MAX_FAULTS: usize = 64;

/// The longest delay of an answer, in milliseconds (a minute).
pub const MAX_DELAY_MS: u64 = 60_000;

/// The error a fault answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Error {
    /// 429 on both planes; MQTT `RequestThrottled`.
    ThrottlingException,
    /// 503 on both planes; MQTT `InternalError`.
    ServiceUnavailableException,
    /// 500 on both planes (the control plane's model has it; the data plane's SDKs read it as
    /// an unmodelled 500); MQTT `InternalError`.
    InternalFailureException,
    /// 410, as the control plane's model has it (a quota reached; the SDKs of some languages
    /// retry it as throttling); MQTT `RequestThrottled`.
    LimitExceededException,
}

/// What a `drop` fault loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lost {
    /// The request, on its way in: it is not run and not answered.
    Request,
    /// The answer, on its way out: the request is run and its change kept.
    Reply,
}

/// The plane a fault is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plane {
    /// `iot`.
    Control,
    /// `iot-jobs-data`, over HTTP and MQTT.
    Data,
}

impl From<iot_jobs_core::Plane> for Plane {
    fn from(p: iot_jobs_core::Plane) -> Self {
        match p {
            iot_jobs_core::Plane::Control => Self::Control,
            iot_jobs_core::Plane::Data => Self::Data,
        }
    }
}

/// One fault, as `POST /_emulator/faults` takes it and `GET` shows it: exactly one of `error`,
/// `drop` and `delay_ms` ([`Faults::add`] refuses any other).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// The error to answer with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
    /// What is lost: the request or its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<Lost>,
    /// How late the answer goes out, in milliseconds (1 to [`MAX_DELAY_MS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How many requests it takes yet (1 if not given).
    #[serde(default = "one")]
    pub count: u32,
    /// The operations it takes (every client operation if not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// The plane it takes them on (both if not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plane: Option<Plane>,
    /// The thing whose requests it takes (those whose path or topic names it); requests of any
    /// thing, and those naming none, if not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thing: Option<String>,
}

/// What a fault does, checked: one of the three a [`Fault`] may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Refuse(Error),
    Drop(Lost),
    Delay(Duration),
}

/// What a fault does to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Not run; answered with this error.
    Refuse(ApiError),
    /// Lost on its way in: not run, not answered.
    LoseRequest,
    /// Run (its change kept, journalled and published as any); its answer is lost.
    LoseReply,
    /// Run at once; its answer goes out this much later.
    Delay(Duration),
}

/// A fault waiting, and what it does.
#[derive(Debug)]
struct Waiting {
    fault: Fault,
    kind: Kind,
}

const fn one() -> u32 {
    1
}

impl Fault {
    /// Whether a request of `operation` could be taken by this fault: on its plane, and about
    /// its thing.
    fn may_match(&self, operation: &str) -> bool {
        self.plane.is_none_or(|p| on_plane(operation, p))
            && (self.thing.is_none() || NAMES_A_THING.contains(&operation))
    }

    fn matches(&self, operation: &str, plane: Plane, thing: Option<&str>) -> bool {
        self.operations.as_ref().is_none_or(|ops| ops.iter().any(|o| o == operation))
            && self.plane.is_none_or(|p| p == plane)
            && self.thing.as_deref().is_none_or(|t| thing == Some(t))
    }

    /// What it does, if it gives exactly one of `error`, `drop` and `delayMs`.
    fn kind(&self) -> Result<Kind, ApiError> {
        let kind = match (self.error, self.drop, self.delay_ms) {
            (Some(e), None, None) => Kind::Refuse(e),
            (None, Some(l), None) => Kind::Drop(l),
            (None, None, Some(ms)) if (1..=MAX_DELAY_MS).contains(&ms) => {
                Kind::Delay(Duration::from_millis(ms))
            }
            (None, None, Some(ms)) => {
                return Err(ApiError::invalid(format!("delayMs must be 1 to {MAX_DELAY_MS}, not {ms}")));
            }
            (e, l, d) => {
                let given: Vec<&str> =
                    [(e.is_some(), "error"), (l.is_some(), "drop"), (d.is_some(), "delayMs")]
                        .into_iter()
                        .filter_map(|(given, name)| given.then_some(name))
                        .collect();
                let given = if given.is_empty() { "none".to_owned() } else { given.join(" and ") };
                return Err(ApiError::invalid(format!(
                    "a fault has exactly one of \"error\" (the error to answer with), \"drop\" \
                     (\"request\" or \"reply\": what is lost) and \"delayMs\" (1 to {MAX_DELAY_MS}: \
                     how late the answer goes out); this one has {given}"
                )));
            }
        };
        Ok(kind)
    }

    fn refusal(error: Error, operation: &str) -> ApiError {
        let why = format!("{operation} refused by a fault injected with POST /_emulator/faults");
        match error {
            Error::ThrottlingException => ApiError::new(
                429,
                "ThrottlingException",
                format!("Rate exceeded: {why}"),
                ErrorCode::RequestThrottled,
            ),
            Error::ServiceUnavailableException => {
                ApiError::unavailable(format!("Service unavailable: {why}"))
            }
            Error::InternalFailureException => ApiError::new(
                500,
                "InternalFailureException",
                format!("Internal failure: {why}"),
                ErrorCode::InternalError,
            ),
            Error::LimitExceededException => ApiError::new(
                410,
                "LimitExceededException",
                format!("Limit exceeded: {why}"),
                ErrorCode::RequestThrottled,
            ),
        }
    }
}

/// The faults waiting, first given first applied.
#[derive(Debug, Default)]
pub struct Faults(Mutex<Vec<Waiting>>);

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<Waiting>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// What a fault does to one request of `operation` on `plane` about `thing` (the thing its
    /// path or topic names, if any), if one waits for it (its count goes down; spent, it is
    /// gone).
    pub fn take(&self, operation: &str, plane: Plane, thing: Option<&str>) -> Option<Effect> {
        if !OPERATIONS.contains(&operation) {
            return None;
        }
        self.with(|faults| {
            let i = faults.iter().position(|w| w.fault.matches(operation, plane, thing))?;
            let waiting = faults.get_mut(i)?;
            let effect = match waiting.kind {
                Kind::Refuse(error) => Effect::Refuse(Fault::refusal(error, operation)),
                Kind::Drop(Lost::Request) => Effect::LoseRequest,
                Kind::Drop(Lost::Reply) => Effect::LoseReply,
                Kind::Delay(d) => Effect::Delay(d),
            };
            waiting.fault.count = waiting.fault.count.saturating_sub(1);
            if waiting.fault.count == 0 {
                faults.remove(i);
            }
            Some(effect)
        })
    }

    /// `POST /_emulator/faults`: adds the fault `body` describes, after those waiting.
    ///
    /// # Errors
    ///
    /// 400 for a body that is not a fault (not exactly one of `error`, `drop` and `delayMs`, an
    /// unknown error, loss or operation, a count outside 1–[`MAX_COUNT`], a delay outside
    /// 1–[`MAX_DELAY_MS`], an empty operation list, a thing that is not a thing name), or when
    /// [`MAX_FAULTS`] wait already.
    pub fn add(&self, body: &[u8]) -> Result<Vec<Fault>, ApiError> {
        let fault: Fault = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid(format!(
                "a fault is {{\"error\": \"ThrottlingException\", \"ServiceUnavailableException\", \
                 \"InternalFailureException\" or \"LimitExceededException\" | \"drop\": \"request\" or \
                 \"reply\" | \"delayMs\": 1 to {MAX_DELAY_MS}, \"count\": 1 to {MAX_COUNT}, \
                 \"operations\": [names], \"plane\": \"control\" or \"data\", \"thing\": a thing name}}: {e}"
            ))
        })?;
        let kind = fault.kind()?;
        if !(1..=MAX_COUNT).contains(&fault.count) {
            return Err(ApiError::invalid(format!("count must be 1 to {MAX_COUNT}, not {}", fault.count)));
        }
        match &fault.operations {
            Some(ops) if ops.is_empty() => {
                return Err(ApiError::invalid("operations must name at least one operation, or be left out"));
            }
            Some(ops) => {
                if let Some(bad) = ops.iter().find(|o| !OPERATIONS.contains(&o.as_str())) {
                    return Err(ApiError::invalid(format!(
                        "{bad:?} is not an operation a fault can refuse (the admin API and \
                         DescribeEndpoint are never refused); one of: {}",
                        OPERATIONS.join(", ")
                    )));
                }
            }
            None => {}
        }
        if let Some(thing) = &fault.thing
            && let Err(e) = ThingName::new(thing)
        {
            return Err(ApiError::invalid(format!("thing must be a thing name: {e}")));
        }
        // A fault none of whose operations can match would wait for ever, holding a place.
        if let Some(ops) = &fault.operations
            && let Some(op) = ops.iter().find(|o| !fault.may_match(o))
        {
            let why = match fault.plane {
                Some(p) if !on_plane(op, p) => {
                    let plane = if p == Plane::Data { "data" } else { "control" };
                    format!("{op} is not an operation of the {plane} plane: leave it out, or the plane")
                }
                Some(_) | None => {
                    format!(
                        "{op} names no thing in its path, so no request of it is about one: leave it out, or the thing"
                    )
                }
            };
            return Err(ApiError::invalid(format!("this fault could never be taken: {why}")));
        }
        self.with(|faults| {
            if faults.len() >= MAX_FAULTS {
                return Err(ApiError::invalid(format!(
                    "{MAX_FAULTS} faults wait already: DELETE /_emulator/faults clears them"
                )));
            }
            faults.push(Waiting { fault, kind });
            Ok(faults.iter().map(|w| w.fault.clone()).collect())
        })
    }

    /// The faults waiting (`GET /_emulator/faults`).
    pub fn list(&self) -> Vec<Fault> {
        self.with(|faults| faults.iter().map(|w| w.fault.clone()).collect())
    }

    /// Forgets every fault (`DELETE /_emulator/faults`, a reset).
    pub fn clear(&self) {
        self.with(Vec::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(body: &str) -> Result<Vec<Fault>, ApiError> {
        Faults::default().add(body.as_bytes())
    }

    impl Faults {
        /// The error a fault refuses one request with (of no thing), if one takes it.
        fn refused(&self, operation: &str, plane: Plane) -> Option<ApiError> {
            match self.take(operation, plane, None)? {
                Effect::Refuse(e) => Some(e),
                other => panic!("{operation}: {other:?}, not a refusal"),
            }
        }
    }

    #[test]
    fn a_fault_refuses_its_operations_count_times_in_the_order_given() {
        let faults = Faults::default();
        faults
            .add(br#"{"error": "ThrottlingException", "count": 2, "operations": ["UpdateJobExecution"]}"#)
            .unwrap();
        faults.add(br#"{"error": "ServiceUnavailableException"}"#).unwrap();
        assert_eq!(
            faults.refused("GetClock", Plane::Control).map(|e| e.status),
            None,
            "the admin API is never refused"
        );
        let first = faults.refused("UpdateJobExecution", Plane::Data).unwrap();
        assert_eq!(
            (first.status, first.name, first.code),
            (429, "ThrottlingException", ErrorCode::RequestThrottled)
        );
        assert!(first.message.contains("UpdateJobExecution refused by a fault"), "{}", first.message);
        // Another operation: the fault for every operation, which is then spent.
        let other = faults.refused("DescribeJob", Plane::Control).unwrap();
        assert_eq!(
            (other.status, other.name, other.code),
            (503, "ServiceUnavailableException", ErrorCode::InternalError)
        );
        assert_eq!(faults.refused("DescribeJob", Plane::Control).map(|e| e.status), None);
        assert_eq!(faults.refused("UpdateJobExecution", Plane::Data).map(|e| e.status), Some(429));
        assert_eq!(faults.refused("UpdateJobExecution", Plane::Data).map(|e| e.status), None);
        assert_eq!(faults.list(), []);
        // A fault for one plane: DescribeJobExecution of the data plane only.
        faults.add(br#"{"error": "ThrottlingException", "operations": ["DescribeJobExecution"], "plane": "data"}"#).unwrap();
        assert_eq!(faults.refused("DescribeJobExecution", Plane::Control).map(|e| e.status), None);
        assert_eq!(faults.refused("DescribeJobExecution", Plane::Data).map(|e| e.status), Some(429));
        for (error, status, name, code) in [
            ("InternalFailureException", 500, "InternalFailureException", ErrorCode::InternalError),
            ("LimitExceededException", 410, "LimitExceededException", ErrorCode::RequestThrottled),
        ] {
            faults.add(format!(r#"{{"error": "{error}"}}"#).as_bytes()).unwrap();
            let e = faults.refused("CreateJob", Plane::Control).unwrap();
            assert_eq!((e.status, e.name, e.code), (status, name, code));
        }
    }

    #[test]
    fn a_fault_that_is_not_one_is_refused_naming_why() {
        for (body, says) in [
            (r#"{"error": "Throttled"}"#, "unknown variant `Throttled`"),
            (r#"{"error": "ThrottlingException", "count": 0}"#, "count must be 1 to 1000000, not 0"),
            (r#"{"error": "ThrottlingException", "count": 1000001}"#, "count must be 1 to 1000000"),
            (r#"{"error": "ThrottlingException", "operations": []}"#, "must name at least one"),
            (r#"{"error": "ThrottlingException", "operations": ["Reset"]}"#, "\"Reset\" is not an operation"),
            (r#"{"error": "ThrottlingException", "operation": ["CreateJob"]}"#, "unknown field `operation`"),
            (r#""fault""#, "a fault is {"),
            (r#"{"error": "ThrottlingException", "plane": "iot"}"#, "unknown variant `iot`"),
            (r#"{}"#, "exactly one of \"error\""),
            (r#"{"count": 2}"#, "this one has none"),
            (r#"{"error": "ThrottlingException", "drop": "reply"}"#, "this one has error and drop"),
            (r#"{"drop": "request", "delayMs": 5}"#, "this one has drop and delayMs"),
            (r#"{"drop": "both"}"#, "unknown variant `both`, expected `request` or `reply`"),
            (r#"{"delayMs": 0}"#, "delayMs must be 1 to 60000, not 0"),
            (r#"{"delayMs": 60001}"#, "delayMs must be 1 to 60000, not 60001"),
            (r#"{"delayMs": -1}"#, "\"delayMs\": 1 to 60000"),
            (r#"{"delayMs": "5"}"#, "invalid type: string"),
            (r#"{"drop": "reply", "thing": "a/b"}"#, "thing must be a thing name: thingName has a character"),
            (r#"{"drop": "reply", "thing": ""}"#, "thing must be a thing name"),
        ] {
            let e = fault(body).unwrap_err();
            assert_eq!((e.status, e.name), (400, "InvalidRequestException"), "{body}");
            assert!(e.message.contains(says), "{body}: {}", e.message);
        }
        let faults = Faults::default();
        for _ in 0..MAX_FAULTS {
            faults.add(br#"{"error": "ThrottlingException"}"#).unwrap();
        }
        let e = faults.add(br#"{"error": "ThrottlingException"}"#).unwrap_err();
        assert!(e.message.contains("64 faults wait already"), "{}", e.message);
        faults.clear();
        assert_eq!(faults.list(), []);
    }

    /// `drop` and `delayMs` faults: what each does to the requests it takes, in the order given,
    /// and `GET` shows them as given.
    #[test]
    fn drop_and_delay_faults_lose_or_hold_back_what_they_take() {
        let faults = Faults::default();
        faults.add(br#"{"drop": "request", "operations": ["UpdateJobExecution"]}"#).unwrap();
        faults.add(br#"{"drop": "reply", "count": 2, "plane": "data"}"#).unwrap();
        let listed = faults.add(br#"{"delayMs": 250, "operations": ["DescribeJob"]}"#).unwrap();
        let shown = serde_json::to_value(&listed).unwrap();
        assert_eq!(
            shown,
            serde_json::json!([
                {"drop": "request", "count": 1, "operations": ["UpdateJobExecution"]},
                {"drop": "reply", "count": 2, "plane": "data"},
                {"delayMs": 250, "count": 1, "operations": ["DescribeJob"]},
            ])
        );
        assert_eq!(
            faults.take("DescribeJob", Plane::Control, None),
            Some(Effect::Delay(Duration::from_millis(250)))
        );
        assert_eq!(faults.take("DescribeJob", Plane::Control, None), None);
        assert_eq!(faults.take("UpdateJobExecution", Plane::Data, Some("t")), Some(Effect::LoseRequest));
        assert_eq!(faults.take("UpdateJobExecution", Plane::Data, Some("t")), Some(Effect::LoseReply));
        assert_eq!(faults.take("CreateJob", Plane::Control, None), None, "the data plane's only");
        assert_eq!(faults.take("GetPendingJobExecutions", Plane::Data, Some("t")), Some(Effect::LoseReply));
        assert_eq!(faults.list(), []);
    }

    /// A fault naming a thing takes only the requests about that thing: not another thing's,
    /// and not those that name none.
    #[test]
    fn a_fault_for_one_thing_takes_only_that_thing_s_requests() {
        let faults = Faults::default();
        faults.add(br#"{"drop": "reply", "thing": "dev:1", "count": 2}"#).unwrap();
        assert_eq!(faults.take("UpdateJobExecution", Plane::Data, Some("dev:2")), None);
        assert_eq!(faults.take("ListJobs", Plane::Control, None), None);
        assert_eq!(faults.take("DescribeThing", Plane::Control, Some("dev:1")), Some(Effect::LoseReply));
        assert_eq!(faults.list()[0].thing.as_deref(), Some("dev:1"));
        assert_eq!(faults.take("UpdateJobExecution", Plane::Data, Some("dev:1")), Some(Effect::LoseReply));
        assert_eq!(faults.list(), []);
        // A fault naming no thing takes requests about any thing, and those naming none.
        faults.add(br#"{"delayMs": 1, "count": 2}"#).unwrap();
        assert!(faults.take("UpdateJobExecution", Plane::Data, Some("dev:2")).is_some());
        assert!(faults.take("ListJobs", Plane::Control, None).is_some());
    }

    #[test]
    fn a_fault_that_could_never_be_taken_is_refused_naming_why() {
        for (body, says) in [
            (
                r#"{"error": "ThrottlingException", "plane": "control", "operations": ["UpdateJobExecution"]}"#,
                "UpdateJobExecution is not an operation of the control plane",
            ),
            (
                r#"{"drop": "reply", "plane": "data", "operations": ["DescribeJob"]}"#,
                "DescribeJob is not an operation of the data plane",
            ),
            (
                r#"{"delayMs": 5, "thing": "t1", "operations": ["ListJobs"]}"#,
                "ListJobs names no thing in its path",
            ),
            (
                r#"{"error": "ThrottlingException", "thing": "t1", "operations": ["DescribeThing", "CreateJob"]}"#,
                "CreateJob names no thing",
            ),
        ] {
            let e = fault(body).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert!(
                e.message.contains("could never be taken") && e.message.contains(says),
                "{body}: {}",
                e.message
            );
        }
        // What can be taken is: DescribeJobExecution is of both planes and names a thing.
        for body in [
            r#"{"error": "ThrottlingException", "plane": "control", "thing": "t1", "operations": ["DescribeJobExecution"]}"#,
            r#"{"error": "ThrottlingException", "plane": "data", "thing": "t1", "operations": ["DescribeJobExecution"]}"#,
            r#"{"error": "ThrottlingException", "plane": "data", "thing": "t1"}"#,
        ] {
            assert!(fault(body).is_ok(), "{body}");
        }
    }

    #[test]
    fn the_planes_and_things_faults_know_are_the_routers() {
        use crate::routing::Op;
        let s = String::new;
        for op in [
            Op::CreateThing { thing: s() },
            Op::DescribeThing { thing: s() },
            Op::ListThings,
            Op::CreateJob { job: s() },
            Op::ListJobs,
            Op::DescribeJobExecution { thing: s(), job: s() },
            Op::DescribeJobExecutionData { thing: s(), job: s() },
            Op::CancelJobExecution { thing: s(), job: s() },
            Op::ListJobExecutionsForThing { thing: s() },
            Op::ListJobExecutionsForJob { job: s() },
            Op::GetPendingJobExecutions { thing: s() },
            Op::StartNextPendingJobExecution { thing: s() },
            Op::UpdateJobExecution { thing: s(), job: s() },
            Op::AddThingToThingGroup,
        ] {
            assert_eq!(op.thing().is_some(), NAMES_A_THING.contains(&op.name()), "{}", op.name());
            assert!(on_plane(op.name(), op.plane().into()), "{}", op.name());
        }
    }

    #[test]
    fn every_client_operation_of_the_router_may_be_named_and_no_admin_one() {
        use crate::routing::Op;
        let (thing, job, group) = (String::new(), String::new(), String::new());
        let client = [
            Op::CreateThing { thing: thing.clone() },
            Op::ListThings,
            Op::AddThingToThingGroup,
            Op::CreateThingGroup { group: group.clone() },
            Op::CreateJob { job: job.clone() },
            Op::DescribeJobExecution { thing: thing.clone(), job: job.clone() },
            Op::DescribeJobExecutionData { thing: thing.clone(), job: job.clone() },
            Op::GetPendingJobExecutions { thing: thing.clone() },
            Op::UpdateJobExecution { thing, job },
            Op::UpdateEventConfigurations,
        ];
        for op in client {
            assert!(OPERATIONS.contains(&op.name()), "{}", op.name());
        }
        let object = Op::PutObject { bucket: String::new(), key: String::new() };
        for op in
            [Op::GetClock, Op::Reset, Op::Stats, Op::ImportState, Op::DescribeEndpoint, Op::GetFaults, object]
        {
            assert!(!OPERATIONS.contains(&op.name()), "{}", op.name());
        }
    }
}
