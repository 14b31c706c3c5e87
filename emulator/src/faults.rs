//! Injected faults (`/_emulator/faults`): the next requests of the named operations are refused
//! with `ThrottlingException` (429; MQTT `RequestThrottled`), `ServiceUnavailableException`
//! (503), `InternalFailureException` (500; both MQTT `InternalError`) or
//! `LimitExceededException` (410; MQTT `RequestThrottled`), as the service does under load, so that a client's retry path
//! can be driven. A refused request is not run: nothing changes and nothing is saved. Faults are
//! the process's, not the state's: neither saved nor exported, and cleared by a reset.

use std::sync::{Mutex, PoisonError};

use iot_jobs_core::ErrorCode;
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

/// Most requests one fault refuses.
pub const MAX_COUNT: u32 = 1_000_000;

/// Most faults waiting at once.
pub const MAX_FAULTS: usize = 64;

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

/// One fault, as `POST /_emulator/faults` takes it and `GET` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// The error to answer with.
    pub error: Error,
    /// How many requests it refuses yet (1 if not given).
    #[serde(default = "one")]
    pub count: u32,
    /// The operations it refuses (every client operation if not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// The plane it refuses them on (both if not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plane: Option<Plane>,
}

const fn one() -> u32 {
    1
}

impl Fault {
    fn matches(&self, operation: &str, plane: Plane) -> bool {
        self.operations.as_ref().is_none_or(|ops| ops.iter().any(|o| o == operation))
            && self.plane.is_none_or(|p| p == plane)
    }

    fn answer(&self, operation: &str) -> ApiError {
        let why = format!("{operation} refused by a fault injected with POST /_emulator/faults");
        match self.error {
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
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<Fault>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The error for one request of `operation` on `plane`, if a fault waits for it (its count
    /// goes down; spent, it is gone).
    pub fn take(&self, operation: &str, plane: Plane) -> Option<ApiError> {
        if !OPERATIONS.contains(&operation) {
            return None;
        }
        self.with(|faults| {
            let i = faults.iter().position(|f| f.matches(operation, plane))?;
            let fault = faults.get_mut(i)?;
            let answer = fault.answer(operation);
            fault.count = fault.count.saturating_sub(1);
            if fault.count == 0 {
                faults.remove(i);
            }
            Some(answer)
        })
    }

    /// `POST /_emulator/faults`: adds the fault `body` describes, after those waiting.
    ///
    /// # Errors
    ///
    /// 400 for a body that is not a fault (an unknown error or operation, a count outside
    /// 1–[`MAX_COUNT`], an empty operation list), or when [`MAX_FAULTS`] wait already.
    pub fn add(&self, body: &[u8]) -> Result<Vec<Fault>, ApiError> {
        let fault: Fault = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid(format!(
                "a fault is {{\"error\": \"ThrottlingException\", \"ServiceUnavailableException\", \"InternalFailureException\" or \"LimitExceededException\", \
                 \"count\": 1 to {MAX_COUNT}, \"operations\": [names], \"plane\": \"control\" or \"data\"}}: {e}"
            ))
        })?;
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
        self.with(|faults| {
            if faults.len() >= MAX_FAULTS {
                return Err(ApiError::invalid(format!(
                    "{MAX_FAULTS} faults wait already: DELETE /_emulator/faults clears them"
                )));
            }
            faults.push(fault);
            Ok(faults.clone())
        })
    }

    /// The faults waiting (`GET /_emulator/faults`).
    pub fn list(&self) -> Vec<Fault> {
        self.with(|faults| faults.clone())
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

    #[test]
    fn a_fault_refuses_its_operations_count_times_in_the_order_given() {
        let faults = Faults::default();
        faults
            .add(br#"{"error": "ThrottlingException", "count": 2, "operations": ["UpdateJobExecution"]}"#)
            .unwrap();
        faults.add(br#"{"error": "ServiceUnavailableException"}"#).unwrap();
        assert_eq!(
            faults.take("GetClock", Plane::Control).map(|e| e.status),
            None,
            "the admin API is never refused"
        );
        let first = faults.take("UpdateJobExecution", Plane::Data).unwrap();
        assert_eq!(
            (first.status, first.name, first.code),
            (429, "ThrottlingException", ErrorCode::RequestThrottled)
        );
        assert!(first.message.contains("UpdateJobExecution refused by a fault"), "{}", first.message);
        // Another operation: the fault for every operation, which is then spent.
        let other = faults.take("DescribeJob", Plane::Control).unwrap();
        assert_eq!(
            (other.status, other.name, other.code),
            (503, "ServiceUnavailableException", ErrorCode::InternalError)
        );
        assert_eq!(faults.take("DescribeJob", Plane::Control).map(|e| e.status), None);
        assert_eq!(faults.take("UpdateJobExecution", Plane::Data).map(|e| e.status), Some(429));
        assert_eq!(faults.take("UpdateJobExecution", Plane::Data).map(|e| e.status), None);
        assert_eq!(faults.list(), []);
        // A fault for one plane: DescribeJobExecution of the data plane only.
        faults.add(br#"{"error": "ThrottlingException", "operations": ["DescribeJobExecution"], "plane": "data"}"#).unwrap();
        assert_eq!(faults.take("DescribeJobExecution", Plane::Control).map(|e| e.status), None);
        assert_eq!(faults.take("DescribeJobExecution", Plane::Data).map(|e| e.status), Some(429));
        for (error, status, name, code) in [
            ("InternalFailureException", 500, "InternalFailureException", ErrorCode::InternalError),
            ("LimitExceededException", 410, "LimitExceededException", ErrorCode::RequestThrottled),
        ] {
            faults.add(format!(r#"{{"error": "{error}"}}"#).as_bytes()).unwrap();
            let e = faults.take("CreateJob", Plane::Control).unwrap();
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
            (r#"[]"#, "a fault is {"),
            (r#"{"error": "ThrottlingException", "plane": "iot"}"#, "unknown variant `iot`"),
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
