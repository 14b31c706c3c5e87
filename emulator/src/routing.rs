//! Which plane a request is for, and which operation its method and path name.
//!
//! One endpoint serves both AWS services. A SigV4-signed request names its service in the
//! credential scope (`Credential=AKID/20260101/us-east-1/iot/aws4_request` is the control plane,
//! `.../iot-jobs-data/...` the data plane); signatures are never verified. An unsigned request
//! goes to the one plane that has its method and path. Two routes exist on both planes:
//! `GET /things/{t}/jobs/{j}` (DescribeJobExecution) and `GET /things/{t}/jobs`
//! (ListJobExecutionsForThing vs GetPendingJobExecutions). Unsigned, they go to the **control
//! plane**, unless the request carries something only the data plane has: a `jobId` of `$next`
//! or an `includeJobDocument` query parameter. A listener started with `--data-addr` serves
//! only the data plane, signed or not.

use iot_jobs_core::Plane;

/// An operation and its (percent-decoded, not yet validated) path parameters (serialized in
/// journal records).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    // Control plane: things and groups.
    CreateThing {
        thing: String,
    },
    DescribeThing {
        thing: String,
    },
    DeleteThing {
        thing: String,
    },
    ListThings,
    CreateThingGroup {
        group: String,
    },
    DescribeThingGroup {
        group: String,
    },
    DeleteThingGroup {
        group: String,
    },
    AddThingToThingGroup,
    RemoveThingFromThingGroup,
    UpdateThing {
        thing: String,
    },
    UpdateThingGroup {
        group: String,
    },
    UpdateThingGroupsForThing,
    // Control plane: jobs.
    CreateJob {
        job: String,
    },
    DescribeJob {
        job: String,
    },
    UpdateJob {
        job: String,
    },
    DeleteJob {
        job: String,
    },
    ListJobs,
    GetJobDocument {
        job: String,
    },
    CancelJob {
        job: String,
    },
    AssociateTargetsWithJob {
        job: String,
    },
    CreateJobTemplate {
        template: String,
    },
    DescribeJobTemplate {
        template: String,
    },
    ListJobTemplates,
    DeleteJobTemplate {
        template: String,
    },
    ListManagedJobTemplates,
    DescribeManagedJobTemplate {
        name: String,
    },
    // Control plane: executions.
    ListJobExecutionsForJob {
        job: String,
    },
    ListJobExecutionsForThing {
        thing: String,
    },
    DescribeJobExecution {
        thing: String,
        job: String,
    },
    CancelJobExecution {
        thing: String,
        job: String,
    },
    DeleteJobExecution {
        thing: String,
        job: String,
        number: String,
    },
    // Control plane: the endpoints of this emulator.
    DescribeEndpoint,
    // Control plane: the thing-group hierarchy, tags and event configurations.
    ListThingGroups,
    ListThingsInThingGroup {
        group: String,
    },
    ListThingGroupsForThing {
        thing: String,
    },
    TagResource,
    UntagResource,
    ListTagsForResource,
    DescribeEventConfigurations,
    UpdateEventConfigurations,
    // Data plane.
    GetPendingJobExecutions {
        thing: String,
    },
    StartNextPendingJobExecution {
        thing: String,
    },
    DescribeJobExecutionData {
        thing: String,
        job: String,
    },
    UpdateJobExecution {
        thing: String,
        job: String,
    },
    // Admin API (`/_emulator/...`).
    GetClock,
    SetClock,
    Reset,
    Stats,
    ExportState,
    ImportState,
    GetFaults,
    SetFaults,
    ClearFaults,
    /// `PUT /_emulator/objects/{bucket}/{key}` (the key may hold `/`).
    PutObject {
        bucket: String,
        key: String,
    },
    ListObjects,
    ClearObjects,
}

impl Op {
    /// The AWS operation name (as botocore and the CLI print it).
    pub fn name(&self) -> &'static str {
        match self {
            Op::CreateThing { .. } => "CreateThing",
            Op::DescribeThing { .. } => "DescribeThing",
            Op::DeleteThing { .. } => "DeleteThing",
            Op::ListThings => "ListThings",
            Op::CreateThingGroup { .. } => "CreateThingGroup",
            Op::DescribeThingGroup { .. } => "DescribeThingGroup",
            Op::DeleteThingGroup { .. } => "DeleteThingGroup",
            Op::AddThingToThingGroup => "AddThingToThingGroup",
            Op::RemoveThingFromThingGroup => "RemoveThingFromThingGroup",
            Op::UpdateThing { .. } => "UpdateThing",
            Op::UpdateThingGroup { .. } => "UpdateThingGroup",
            Op::UpdateThingGroupsForThing => "UpdateThingGroupsForThing",
            Op::CreateJob { .. } => "CreateJob",
            Op::DescribeJob { .. } => "DescribeJob",
            Op::UpdateJob { .. } => "UpdateJob",
            Op::DeleteJob { .. } => "DeleteJob",
            Op::ListJobs => "ListJobs",
            Op::GetJobDocument { .. } => "GetJobDocument",
            Op::CancelJob { .. } => "CancelJob",
            Op::AssociateTargetsWithJob { .. } => "AssociateTargetsWithJob",
            Op::CreateJobTemplate { .. } => "CreateJobTemplate",
            Op::DescribeJobTemplate { .. } => "DescribeJobTemplate",
            Op::ListJobTemplates => "ListJobTemplates",
            Op::DeleteJobTemplate { .. } => "DeleteJobTemplate",
            Op::ListManagedJobTemplates => "ListManagedJobTemplates",
            Op::DescribeManagedJobTemplate { .. } => "DescribeManagedJobTemplate",
            Op::ListJobExecutionsForJob { .. } => "ListJobExecutionsForJob",
            Op::ListJobExecutionsForThing { .. } => "ListJobExecutionsForThing",
            Op::DescribeJobExecution { .. } | Op::DescribeJobExecutionData { .. } => "DescribeJobExecution",
            Op::CancelJobExecution { .. } => "CancelJobExecution",
            Op::DeleteJobExecution { .. } => "DeleteJobExecution",
            Op::DescribeEndpoint => "DescribeEndpoint",
            Op::ListThingGroups => "ListThingGroups",
            Op::ListThingsInThingGroup { .. } => "ListThingsInThingGroup",
            Op::ListThingGroupsForThing { .. } => "ListThingGroupsForThing",
            Op::TagResource => "TagResource",
            Op::UntagResource => "UntagResource",
            Op::ListTagsForResource => "ListTagsForResource",
            Op::DescribeEventConfigurations => "DescribeEventConfigurations",
            Op::UpdateEventConfigurations => "UpdateEventConfigurations",
            Op::GetPendingJobExecutions { .. } => "GetPendingJobExecutions",
            Op::StartNextPendingJobExecution { .. } => "StartNextPendingJobExecution",
            Op::UpdateJobExecution { .. } => "UpdateJobExecution",
            Op::GetClock => "GetClock",
            Op::SetClock => "SetClock",
            Op::Reset => "Reset",
            Op::Stats => "Stats",
            Op::ExportState => "ExportState",
            Op::ImportState => "ImportState",
            Op::GetFaults => "GetFaults",
            Op::SetFaults => "SetFaults",
            Op::ClearFaults => "ClearFaults",
            Op::PutObject { .. } => "PutObject",
            Op::ListObjects => "ListObjects",
            Op::ClearObjects => "ClearObjects",
        }
    }

    /// The thing the operation's path names, if any: what a fault for one thing matches.
    pub fn thing(&self) -> Option<&str> {
        match self {
            Op::CreateThing { thing }
            | Op::DescribeThing { thing }
            | Op::DeleteThing { thing }
            | Op::UpdateThing { thing }
            | Op::ListJobExecutionsForThing { thing }
            | Op::DescribeJobExecution { thing, .. }
            | Op::CancelJobExecution { thing, .. }
            | Op::DeleteJobExecution { thing, .. }
            | Op::ListThingGroupsForThing { thing }
            | Op::GetPendingJobExecutions { thing }
            | Op::StartNextPendingJobExecution { thing }
            | Op::DescribeJobExecutionData { thing, .. }
            | Op::UpdateJobExecution { thing, .. } => Some(thing),
            // A thing named in the body (AddThingToThingGroup, ...) or in an ARN (tags) is not
            // the path's.
            Op::ListThings
            | Op::CreateThingGroup { .. }
            | Op::DescribeThingGroup { .. }
            | Op::DeleteThingGroup { .. }
            | Op::AddThingToThingGroup
            | Op::RemoveThingFromThingGroup
            | Op::UpdateThingGroup { .. }
            | Op::UpdateThingGroupsForThing
            | Op::CreateJob { .. }
            | Op::DescribeJob { .. }
            | Op::UpdateJob { .. }
            | Op::DeleteJob { .. }
            | Op::ListJobs
            | Op::GetJobDocument { .. }
            | Op::CancelJob { .. }
            | Op::AssociateTargetsWithJob { .. }
            | Op::CreateJobTemplate { .. }
            | Op::DescribeJobTemplate { .. }
            | Op::ListJobTemplates
            | Op::DeleteJobTemplate { .. }
            | Op::ListManagedJobTemplates
            | Op::DescribeManagedJobTemplate { .. }
            | Op::ListJobExecutionsForJob { .. }
            | Op::DescribeEndpoint
            | Op::ListThingGroups
            | Op::ListThingsInThingGroup { .. }
            | Op::TagResource
            | Op::UntagResource
            | Op::ListTagsForResource
            | Op::DescribeEventConfigurations
            | Op::UpdateEventConfigurations
            | Op::GetClock
            | Op::SetClock
            | Op::Reset
            | Op::Stats
            | Op::ExportState
            | Op::ImportState
            | Op::GetFaults
            | Op::SetFaults
            | Op::ClearFaults
            | Op::PutObject { .. }
            | Op::ListObjects
            | Op::ClearObjects => None,
        }
    }

    /// The plane whose error shapes the operation answers with (admin calls use the control's).
    pub fn plane(&self) -> Plane {
        match self {
            Op::GetPendingJobExecutions { .. }
            | Op::StartNextPendingJobExecution { .. }
            | Op::DescribeJobExecutionData { .. }
            | Op::UpdateJobExecution { .. } => Plane::Data,
            _ => Plane::Control,
        }
    }
}

/// What the router made of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An operation.
    Op(Op),
    /// The path exists on the plane, not with this method (405).
    MethodNotAllowed,
    /// No such path on the plane (404).
    NotFound,
    /// Signed for a service this endpoint does not serve.
    UnknownService(String),
}

/// A SigV4 request's credential scope (`AKID/date/region/service/aws4_request`): from the
/// `Authorization` header, or from a presigned URL's `X-Amz-Credential` query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The region it was signed for.
    pub region: String,
    /// The service it was signed for.
    pub service: String,
}

/// The credential scope of a request, if it is signed.
pub fn signed_scope(authorization: Option<&str>, query: &[(String, String)]) -> Option<Scope> {
    let scope = match authorization {
        Some(h) => {
            let start = h.find("Credential=")?.checked_add("Credential=".len())?;
            let rest = h.get(start..)?;
            rest.split([',', ' ']).next()?.to_owned()
        }
        None => query.iter().find(|(k, _)| k == "X-Amz-Credential").map(|(_, v)| v.clone())?,
    };
    let parts: Vec<&str> = scope.split('/').collect();
    match parts.as_slice() {
        [_, _, region, service, "aws4_request"] => {
            Some(Scope { region: (*region).to_owned(), service: (*service).to_owned() })
        }
        _ => None,
    }
}

/// Splits and percent-decodes a path; `None` if a segment is not UTF-8 after decoding. An empty
/// segment stays (an empty name: `/jobs//things` is ListJobExecutionsForJob of job "", refused
/// by the name's check, not DescribeJob of job "things").
pub fn segments(path: &str) -> Option<Vec<String>> {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|c| c.into_owned()))
        .collect()
}

/// Routes a request. `data_only` is the `--data-addr` listener.
pub fn route(
    method: &str,
    segs: &[String],
    query: &[(String, String)],
    service: Option<&str>,
    data_only: bool,
) -> Route {
    if !data_only && segs.first().map(String::as_str) == Some("_emulator") {
        return admin(method, segs);
    }
    if data_only {
        return data(method, segs);
    }
    match service {
        // `execute-api`: the signing name of `iot` in AWS's service model until 2023, which the
        // SDKs generated from it (Go v1, Go v2 before then, ...) still sign with.
        Some("iot" | "execute-api") => control(method, segs),
        Some("iot-jobs-data") => data(method, segs),
        Some(other) => Route::UnknownService(other.to_owned()),
        None => match (control(method, segs), data(method, segs)) {
            (Route::Op(c), Route::Op(d)) => {
                let dollar_next = matches!(&d, Op::DescribeJobExecutionData { job, .. } if job == "$next");
                let data_marker = dollar_next || query.iter().any(|(k, _)| k == "includeJobDocument");
                Route::Op(if data_marker { d } else { c })
            }
            (Route::Op(op), _) | (_, Route::Op(op)) => Route::Op(op),
            (Route::MethodNotAllowed, _) | (_, Route::MethodNotAllowed) => Route::MethodNotAllowed,
            _ => Route::NotFound,
        },
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// Picks the operation for `method` among those a path has; 405 if the path has others.
fn pick(method: &str, ops: Vec<(&str, Op)>) -> Route {
    if ops.is_empty() {
        return Route::NotFound;
    }
    ops.into_iter().find(|(m, _)| *m == method).map_or(Route::MethodNotAllowed, |(_, op)| Route::Op(op))
}

fn control(method: &str, segs: &[String]) -> Route {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let ops = match segs.as_slice() {
        ["things"] => vec![("GET", Op::ListThings)],
        ["things", t] => vec![
            ("POST", Op::CreateThing { thing: s(t) }),
            ("GET", Op::DescribeThing { thing: s(t) }),
            ("PATCH", Op::UpdateThing { thing: s(t) }),
            ("DELETE", Op::DeleteThing { thing: s(t) }),
        ],
        ["things", t, "jobs"] => vec![("GET", Op::ListJobExecutionsForThing { thing: s(t) })],
        ["things", t, "jobs", j] => vec![("GET", Op::DescribeJobExecution { thing: s(t), job: s(j) })],
        ["things", t, "jobs", j, "cancel"] => {
            vec![("PUT", Op::CancelJobExecution { thing: s(t), job: s(j) })]
        }
        ["things", t, "jobs", j, "executionNumber", n] => {
            vec![("DELETE", Op::DeleteJobExecution { thing: s(t), job: s(j), number: s(n) })]
        }
        ["things", t, "thing-groups"] => vec![("GET", Op::ListThingGroupsForThing { thing: s(t) })],
        ["thing-groups"] => vec![("GET", Op::ListThingGroups)],
        ["thing-groups", g, "things"] => vec![("GET", Op::ListThingsInThingGroup { group: s(g) })],
        ["tags"] => vec![("POST", Op::TagResource), ("GET", Op::ListTagsForResource)],
        ["untag"] => vec![("POST", Op::UntagResource)],
        ["event-configurations"] => {
            vec![("GET", Op::DescribeEventConfigurations), ("PATCH", Op::UpdateEventConfigurations)]
        }
        ["thing-groups", "addThingToThingGroup"] => vec![("PUT", Op::AddThingToThingGroup)],
        ["thing-groups", "removeThingFromThingGroup"] => vec![("PUT", Op::RemoveThingFromThingGroup)],
        ["thing-groups", "updateThingGroupsForThing"] => vec![("PUT", Op::UpdateThingGroupsForThing)],
        ["thing-groups", g] => vec![
            ("POST", Op::CreateThingGroup { group: s(g) }),
            ("GET", Op::DescribeThingGroup { group: s(g) }),
            ("PATCH", Op::UpdateThingGroup { group: s(g) }),
            ("DELETE", Op::DeleteThingGroup { group: s(g) }),
        ],
        ["endpoint"] => vec![("GET", Op::DescribeEndpoint)],
        ["jobs"] => vec![("GET", Op::ListJobs)],
        ["jobs", j] => vec![
            ("PUT", Op::CreateJob { job: s(j) }),
            ("GET", Op::DescribeJob { job: s(j) }),
            ("PATCH", Op::UpdateJob { job: s(j) }),
            ("DELETE", Op::DeleteJob { job: s(j) }),
        ],
        ["jobs", j, "job-document"] => vec![("GET", Op::GetJobDocument { job: s(j) })],
        ["jobs", j, "cancel"] => vec![("PUT", Op::CancelJob { job: s(j) })],
        ["jobs", j, "targets"] => vec![("POST", Op::AssociateTargetsWithJob { job: s(j) })],
        ["jobs", j, "things"] => vec![("GET", Op::ListJobExecutionsForJob { job: s(j) })],
        ["job-templates"] => vec![("GET", Op::ListJobTemplates)],
        ["job-templates", t] => vec![
            ("PUT", Op::CreateJobTemplate { template: s(t) }),
            ("GET", Op::DescribeJobTemplate { template: s(t) }),
            ("DELETE", Op::DeleteJobTemplate { template: s(t) }),
        ],
        ["managed-job-templates"] => vec![("GET", Op::ListManagedJobTemplates)],
        ["managed-job-templates", n] => vec![("GET", Op::DescribeManagedJobTemplate { name: s(n) })],
        _ => vec![],
    };
    pick(method, ops)
}

fn data(method: &str, segs: &[String]) -> Route {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let ops = match segs.as_slice() {
        ["things", t, "jobs"] => vec![("GET", Op::GetPendingJobExecutions { thing: s(t) })],
        ["things", t, "jobs", "$next"] => vec![
            ("PUT", Op::StartNextPendingJobExecution { thing: s(t) }),
            ("GET", Op::DescribeJobExecutionData { thing: s(t), job: s("$next") }),
            ("POST", Op::UpdateJobExecution { thing: s(t), job: s("$next") }),
        ],
        ["things", t, "jobs", j] => vec![
            ("GET", Op::DescribeJobExecutionData { thing: s(t), job: s(j) }),
            ("POST", Op::UpdateJobExecution { thing: s(t), job: s(j) }),
        ],
        _ => vec![],
    };
    pick(method, ops)
}

fn admin(method: &str, segs: &[String]) -> Route {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let ops = match segs.as_slice() {
        ["_emulator", "clock"] => vec![("GET", Op::GetClock), ("POST", Op::SetClock)],
        ["_emulator", "reset"] => vec![("POST", Op::Reset)],
        ["_emulator", "stats"] => vec![("GET", Op::Stats)],
        ["_emulator", "state"] => vec![("GET", Op::ExportState), ("POST", Op::ImportState)],
        ["_emulator", "faults"] => {
            vec![("GET", Op::GetFaults), ("POST", Op::SetFaults), ("DELETE", Op::ClearFaults)]
        }
        ["_emulator", "objects"] => vec![("GET", Op::ListObjects), ("DELETE", Op::ClearObjects)],
        ["_emulator", "objects", bucket, key @ ..] if !key.is_empty() => {
            vec![("PUT", Op::PutObject { bucket: s(bucket), key: key.join("/") })]
        }
        _ => vec![],
    };
    pick(method, ops)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        segments(p).unwrap()
    }

    #[test]
    fn region_and_service_from_credential_scope() {
        let h = "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=0";
        let scope = |region: &str, service: &str| Some(Scope { region: s(region), service: s(service) });
        assert_eq!(signed_scope(Some(h), &[]), scope("eu-west-1", "iot-jobs-data"));
        assert_eq!(signed_scope(Some("Bearer x"), &[]), None);
        let q = vec![(s("X-Amz-Credential"), s("AKID/20260101/us-east-1/iot/aws4_request"))];
        assert_eq!(signed_scope(None, &q), scope("us-east-1", "iot"));
    }

    #[test]
    fn unsigned_routes() {
        let r = |m, p: &str, q: &[(String, String)]| route(m, &segs(p), q, None, false);
        assert_eq!(
            r("GET", "/things/t/jobs/j", &[]),
            Route::Op(Op::DescribeJobExecution { thing: s("t"), job: s("j") })
        );
        assert_eq!(
            r("GET", "/things/t/jobs/%24next", &[]),
            Route::Op(Op::DescribeJobExecutionData { thing: s("t"), job: s("$next") })
        );
        let q = vec![(s("includeJobDocument"), s("true"))];
        assert!(matches!(r("GET", "/things/t/jobs/j", &q), Route::Op(Op::DescribeJobExecutionData { .. })));
        assert!(matches!(r("GET", "/things/t/jobs", &[]), Route::Op(Op::ListJobExecutionsForThing { .. })));
        assert!(matches!(r("POST", "/things/t/jobs/j", &[]), Route::Op(Op::UpdateJobExecution { .. })));
        assert!(matches!(
            r("PUT", "/things/t/jobs/$next", &[]),
            Route::Op(Op::StartNextPendingJobExecution { .. })
        ));
        assert_eq!(r("PATCH", "/things/t/jobs/j", &[]), Route::MethodNotAllowed);
        assert_eq!(r("GET", "/nope", &[]), Route::NotFound);
    }

    #[test]
    fn an_empty_segment_is_an_empty_name_not_a_shorter_path() {
        let r = |m, p: &str| route(m, &segs(p), &[], Some("iot"), false);
        assert_eq!(segs("/jobs//things"), [s("jobs"), s(""), s("things")]);
        assert_eq!(r("GET", "/jobs//things"), Route::Op(Op::ListJobExecutionsForJob { job: s("") }));
        // Without the empty segment this was DeleteThingGroup of the group "things".
        assert_eq!(r("DELETE", "/thing-groups//things"), Route::MethodNotAllowed);
        assert_eq!(r("GET", "/things/"), Route::Op(Op::DescribeThing { thing: s("") }));
        assert_eq!(r("GET", "/things//jobs"), Route::Op(Op::ListJobExecutionsForThing { thing: s("") }));
    }

    #[test]
    fn hierarchy_tag_and_event_routes() {
        let r = |m, p: &str| route(m, &segs(p), &[], Some("iot"), false);
        assert_eq!(r("GET", "/thing-groups"), Route::Op(Op::ListThingGroups));
        assert_eq!(
            r("GET", "/thing-groups/g/things"),
            Route::Op(Op::ListThingsInThingGroup { group: s("g") })
        );
        assert_eq!(
            r("GET", "/things/t/thing-groups"),
            Route::Op(Op::ListThingGroupsForThing { thing: s("t") })
        );
        assert_eq!(r("POST", "/tags"), Route::Op(Op::TagResource));
        assert_eq!(r("GET", "/tags"), Route::Op(Op::ListTagsForResource));
        assert_eq!(r("POST", "/untag"), Route::Op(Op::UntagResource));
        assert_eq!(r("GET", "/event-configurations"), Route::Op(Op::DescribeEventConfigurations));
        assert_eq!(r("PATCH", "/event-configurations"), Route::Op(Op::UpdateEventConfigurations));
        assert_eq!(r("DELETE", "/tags"), Route::MethodNotAllowed);
        assert_eq!(r("PATCH", "/things/t"), Route::Op(Op::UpdateThing { thing: s("t") }));
        assert_eq!(r("PATCH", "/thing-groups/g"), Route::Op(Op::UpdateThingGroup { group: s("g") }));
        assert_eq!(
            r("PUT", "/thing-groups/updateThingGroupsForThing"),
            Route::Op(Op::UpdateThingGroupsForThing)
        );
        // Unsigned, the group listing is the control plane's (the data plane has no such path).
        assert_eq!(
            route("GET", &segs("/things/t/thing-groups"), &[], None, false),
            r("GET", "/things/t/thing-groups")
        );
    }

    #[test]
    fn signed_and_data_only_routes() {
        let p = segs("/things/t/jobs");
        assert!(matches!(
            route("GET", &p, &[], Some("iot-jobs-data"), false),
            Route::Op(Op::GetPendingJobExecutions { .. })
        ));
        assert!(matches!(route("GET", &p, &[], None, true), Route::Op(Op::GetPendingJobExecutions { .. })));
        assert_eq!(route("GET", &segs("/jobs"), &[], None, true), Route::NotFound);
        assert_eq!(route("GET", &p, &[], Some("s3"), false), Route::UnknownService(s("s3")));
        // The control plane's signing name in older SDKs.
        let thing = vec![s("things"), s("t1")];
        assert_eq!(
            route("POST", &thing, &[], Some("execute-api"), false),
            route("POST", &thing, &[], Some("iot"), false)
        );
        assert!(matches!(
            route("POST", &thing, &[], Some("execute-api"), false),
            Route::Op(Op::CreateThing { .. })
        ));
        assert_eq!(route("GET", &segs("/_emulator/clock"), &[], None, true), Route::NotFound);
    }

    #[test]
    fn an_objects_key_is_the_rest_of_its_path() {
        let r = |m, p: &str| route(m, &segs(p), &[], None, false);
        let put = |bucket: &str, key: &str| Route::Op(Op::PutObject { bucket: s(bucket), key: s(key) });
        assert_eq!(r("PUT", "/_emulator/objects/b/doc.json"), put("b", "doc.json"));
        assert_eq!(r("PUT", "/_emulator/objects/b/dir/sub/doc.json"), put("b", "dir/sub/doc.json"));
        assert_eq!(r("PUT", "/_emulator/objects/b/dir%2Fx/my%20doc"), put("b", "dir/x/my doc"));
        assert_eq!(r("PUT", "/_emulator/objects/b/a//b/"), put("b", "a//b/"));
        // An empty key is the object's own check (a 400 naming it).
        assert_eq!(r("PUT", "/_emulator/objects/b/"), put("b", ""));
        assert_eq!(r("GET", "/_emulator/objects/b/k"), Route::MethodNotAllowed);
        assert_eq!(r("PUT", "/_emulator/objects/b"), Route::NotFound);
        assert_eq!(r("GET", "/_emulator/objects"), Route::Op(Op::ListObjects));
        assert_eq!(r("DELETE", "/_emulator/objects"), Route::Op(Op::ClearObjects));
        assert_eq!(r("PUT", "/_emulator/objects"), Route::MethodNotAllowed);
    }
}
