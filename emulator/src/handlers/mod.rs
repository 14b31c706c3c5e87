//! One function per operation: validate the wire input with the core's validators, make one
//! registry call, render the answer. Lifecycle decisions (statuses, transitions, errors,
//! numbering) are the registry's; the emulator decides only about the things it keeps itself
//! (thing attributes, thing groups and their hierarchy, job payloads, job templates, tags, event
//! configurations).

pub mod data_plane;
mod event_config;
mod executions;
pub(crate) mod imported;
mod jobs;
mod objects;
mod tags;
mod templates;
#[cfg(test)]
mod tests;
mod things;

use std::collections::BTreeSet;
use std::ops::Bound;
use std::str::FromStr;

use iot_jobs_core::config::{
    AbortConfig, AbortCriterion, ConfigError, ExponentialRate, JobConfig, MaintenanceWindows, RateIncrease,
    RetryConfig, RetryCriterion, RolloutRate, Schedule,
};
use iot_jobs_core::registry::{Cursor, ExecutionView, NewJob, Registry, Update};
use iot_jobs_core::rules::{self, ConfigSource, JobConfigUpdate, TemplateSources};
use iot_jobs_core::wire::{DescribeRequest, Flavor, JobDocument, StartNextRequest, UpdateRequest};
use iot_jobs_core::{
    Comment, ExecutionNumber, ExecutionStatus, FailureType, FieldError, JobEndBehavior, JobId, JobStatus,
    NamespaceId, Plane, ReasonCode, Rejection, Resource, RetryableFailureType, StatusDetails,
    TargetSelection, ThingName, TimeoutMinutes, Timestamp, VersionNumber,
};
use serde::Serialize;

use crate::routing::Op;
use crate::state::{Events, GroupMeta, Heap, JobMeta, State, ThingMeta};
use crate::wire::data;
use crate::wire::token::{self, Token};
use crate::wire::{self, ApiError, Long, StringMap, Target, limits};
use data_plane::*;
use executions::*;
use jobs::*;
use templates::*;

use things::*;

/// A successful answer: the JSON body (empty for operations without output) and whether the
/// state changed (so it must be saved).
#[derive(Debug)]
pub struct Reply {
    pub body: Vec<u8>,
    pub changed: bool,
}

fn reply<T: Serialize>(out: &T, changed: bool) -> Result<Reply, ApiError> {
    let body = serde_json::to_vec(out).map_err(|e| ApiError::unavailable(format!("cannot render: {e}")))?;
    Ok(Reply { body, changed })
}

fn empty(changed: bool) -> Result<Reply, ApiError> {
    Ok(Reply { body: Vec::new(), changed })
}

/// Core errors shaped for a plane.
trait OnPlane<T> {
    fn on(self, plane: Plane) -> Result<T, ApiError>;
}

impl<T> OnPlane<T> for Result<T, Rejection> {
    fn on(self, plane: Plane) -> Result<T, ApiError> {
        self.map_err(|r| ApiError::rejection(r, plane))
    }
}

impl<T> OnPlane<T> for Result<T, FieldError> {
    fn on(self, plane: Plane) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::rejection(Rejection::InvalidField(e), plane))
    }
}

const C: Plane = Plane::Control;
const D: Plane = Plane::Data;

/// The most items a listing page with filters reads (ListJobs; ListJobExecutionsForThing with
/// `jobId` or `namespaceId`; ListThings with `attributeName`, `attributeValue` or
/// `thingTypeName`): a page whose filters pass over this many stops there, with fewer
/// than `maxResults` items (none, perhaps) and a token to go on from, so that no request holds the
/// state for longer than reading this many items takes, whatever the filters. A client walking
/// the pages gets every item that passes, each once.
pub(crate) const LOOKS_PER_PAGE: usize = 10_000;

/// Most characters in a job document (SPEC §5 `JobDocument`).
const MAX_DOCUMENT: usize = 32_768;

// ---- small parsers ---------------------------------------------------------------------------------

/// An operation's query members, with the operation (what its page tokens are bound to).
struct Query<'a> {
    members: &'a [(String, String)],
    op: &'a Op,
}

impl Query<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// The `nextToken` of the next page as it is answered: bound to this listing's scope
    /// ([`token_scope`]), which [`handle`] checks and takes off the token it is given.
    fn bind(&self, token: Option<String>) -> Option<String> {
        token.map(|t| format!("{}{t}", token_scope(self.op, self.members)))
    }
    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(ApiError::invalid(format!("{name} must be true or false, not {v:?}"))),
        }
    }
    /// A model `long` (e.g. `expectedVersion`): a malformed one is a 400, checked before any
    /// lookup.
    fn long(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| ApiError::invalid(format!("{name} must be an integer, not {v:?}")))
            })
            .transpose()
    }
    fn opt_flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name).map(|_| self.flag(name)).transpose()
    }
    /// `maxResults`, 1–250 (botocore `LaserMaxResults`, `RegistryMaxResults`).
    fn max_results(&self) -> Result<usize, ApiError> {
        let Some(v) = self.get("maxResults") else { return Ok(250) };
        v.parse::<usize>()
            .ok()
            .filter(|n| (1..=250).contains(n))
            .ok_or_else(|| ApiError::invalid(format!("maxResults must be between 1 and 250, not {v:?}")))
    }
    /// The `nextToken` of a listing the emulator pages.
    fn offset(&self, listing: &str) -> Result<usize, ApiError> {
        Token::offset(self.get("nextToken"), listing)
    }
    /// The `nextToken` of a listing the emulator orders by key: the key it goes on after.
    fn after(&self, listing: &str) -> Result<Option<String>, ApiError> {
        Token::after(self.get("nextToken"), listing)
    }
    /// The `nextToken` of a listing the core pages.
    fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        Token::cursor(self.get("nextToken"), "this listing")
    }
    fn namespace(&self, plane: Plane) -> Result<Option<NamespaceId>, ApiError> {
        self.get("namespaceId").map(NamespaceId::new).transpose().on(plane)
    }
    fn parse<T: FromStr<Err = iot_jobs_core::UnknownValue>>(
        &self,
        name: &str,
    ) -> Result<Option<T>, ApiError> {
        self.get(name).map(|v| enum_value(name, v)).transpose()
    }
}

fn enum_value<T: FromStr<Err = iot_jobs_core::UnknownValue>>(member: &str, v: &str) -> Result<T, ApiError> {
    v.parse().map_err(|e| ApiError::invalid(format!("{member}: {v:?} is {e}")))
}

fn job_id(s: &str, plane: Plane) -> Result<JobId, ApiError> {
    JobId::new(s).on(plane)
}

fn thing_name(s: &str, plane: Plane) -> Result<ThingName, ApiError> {
    ThingName::new(s).on(plane)
}

/// Thing group names have the thing-name pattern (botocore `ThingGroupName`).
fn group_name(s: &str) -> Result<String, ApiError> {
    named_group("thingGroupName", s)
}

/// A thing-group name in the member `member` (`parentGroupName`, ListThingGroups'
/// `parentGroup`, ...): as a thing name, the message naming that member.
fn named_group(member: &str, s: &str) -> Result<String, ApiError> {
    ThingName::new(s)
        .map(|_| s.to_owned())
        .map_err(|e| ApiError::invalid(e.to_string().replacen("thingName", member, 1)))
}

/// `[^\p{C}]+` up to `max` UTF-16 units (botocore `JobDescription`).
fn check_text(member: &str, s: &str, max: usize) -> Result<(), ApiError> {
    let units: usize = s.chars().map(char::len_utf16).sum();
    if s.is_empty() || units > max || s.chars().any(iot_jobs_core::id::is_other_category) {
        return Err(ApiError::invalid(format!(
            "{member} must be 1 to {max} characters without control, format or private-use characters"
        )));
    }
    Ok(())
}

/// A job document's length as botocore's model counts it: UTF-16 units.
fn document_chars(d: &str) -> usize {
    d.chars().map(char::len_utf16).sum()
}

/// A job document: at most [`MAX_DOCUMENT`] UTF-16 units (SPEC §5 `JobDocument`).
fn check_document(d: &str) -> Result<(), ApiError> {
    let len = document_chars(d);
    if len > MAX_DOCUMENT {
        return Err(ApiError::invalid(format!(
            "document is {len} characters long; at most {MAX_DOCUMENT} are allowed"
        )));
    }
    // A job document is JSON (a device's SDK parses it: over MQTT it is the execution's
    // `jobDocument` object, not a string), nested no deeper than the core reads, so that MQTT
    // carries every object as one (SPEC AMBIG-22).
    limits::check_depth(d.as_bytes(), JobDocument::MAX_DEPTH, "document")?;
    serde_json::from_str::<serde::de::IgnoredAny>(d)
        .map_err(|e| ApiError::invalid(format!("document is not valid JSON: {e}")))?;
    Ok(())
}

fn pairs(map: &StringMap) -> Vec<(&str, &str)> {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn version(v: Option<Long>, plane: Plane) -> Result<Option<VersionNumber>, ApiError> {
    v.map(|Long(n)| VersionNumber::try_from(n)).transpose().on(plane)
}

fn not_found(r: Resource) -> ApiError {
    ApiError::rejection(Rejection::NotFound(r), C)
}

/// Runs one registry operation at the clock's time with a fresh event sink, then delivers the
/// events it reported (none when it failed: an error changes nothing).
fn with_events<T>(
    st: &mut State,
    op: impl FnOnce(&mut Registry<Heap>, Timestamp, &mut Events) -> Result<T, Rejection>,
) -> Result<T, Rejection> {
    let now = st.now();
    let mut sink = Events::default();
    let result = op(&mut st.registry, now, &mut sink);
    st.deliver(sink);
    result
}

/// `e` with the statusDetails of the execution (of `job` on `thing`, number `number` or the
/// latest) whose state it carries, if it carries one: its HTTP body and its MQTT ErrorResponse
/// render them in `executionState`.
fn with_details(
    st: &State,
    e: ApiError,
    job: &JobId,
    thing: &ThingName,
    number: Option<ExecutionNumber>,
) -> ApiError {
    if e.execution_state.is_none() {
        return e;
    }
    let status_details = st
        .registry
        .describe_execution(job, thing, number, C)
        .map(|v| v.status_details().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
        .unwrap_or_default();
    ApiError { status_details, ..e }
}

// ---- dispatch --------------------------------------------------------------------------------------

/// Runs one operation against the state.
pub fn handle(st: &mut State, op: &Op, query: &[(String, String)], body: &[u8]) -> Result<Reply, ApiError> {
    let Some(given) = query.iter().find(|(k, _)| k == "nextToken") else {
        return dispatch(st, op, query, body);
    };
    // A token is bound to the operation, its path and its filters: elsewhere it is a 400.
    let scope = token_scope(op, query);
    let Some(inner) = given.1.strip_prefix(scope.as_str()) else {
        return Err(token::not_for(op.name()));
    };
    let query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| if k == "nextToken" { (k.clone(), inner.to_owned()) } else { (k.clone(), v.clone()) })
        .collect();
    dispatch(st, op, &query, body)
}

/// What a page token is bound to: 8 hex digits of an FNV-1a hash of the operation with its path
/// parameters (as journal records encode it, so a token outlives a restart and an upgrade that
/// keeps the journal's format) and the query's members but `nextToken` and `maxResults`, in
/// name order, each name and value after its length (8 bytes, little-endian).
fn token_scope(op: &Op, query: &[(String, String)]) -> String {
    let mut members: Vec<&(String, String)> =
        query.iter().filter(|(k, _)| k != "nextToken" && k != "maxResults").collect();
    members.sort();
    let mut hash: u32 = 0x811c_9dc5;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193);
        }
    };
    // An `Op` always encodes (names and strings only); were it not to, the scope would still be
    // the query's.
    add(serde_json::to_string(op).unwrap_or_default().as_bytes());
    for (name, value) in members {
        for part in [name, value] {
            add(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_le_bytes());
            add(part.as_bytes());
        }
    }
    format!("{hash:08x}")
}

fn dispatch(st: &mut State, op: &Op, query: &[(String, String)], body: &[u8]) -> Result<Reply, ApiError> {
    let q = Query { members: query, op };
    match op {
        Op::CreateThing { thing } => create_thing(st, thing, body),
        Op::DescribeThing { thing } => describe_thing(st, thing),
        Op::DeleteThing { thing } => delete_thing(st, thing, &q),
        Op::ListThings => list_things(st, &q),
        Op::CreateThingGroup { group } => create_group(st, group, body),
        Op::DescribeThingGroup { group } => describe_group(st, group),
        Op::DeleteThingGroup { group } => delete_group(st, group, &q),
        Op::AddThingToThingGroup => membership(st, body, true),
        Op::RemoveThingFromThingGroup => membership(st, body, false),
        Op::UpdateThing { thing } => update_thing(st, thing, body),
        Op::UpdateThingGroup { group } => update_group(st, group, body),
        Op::UpdateThingGroupsForThing => update_groups_for_thing(st, body),
        Op::CreateJob { job } => create_job(st, job, body),
        Op::DescribeJob { job } => describe_job(st, job, &q),
        Op::UpdateJob { job } => update_job(st, job, &q, body),
        Op::DeleteJob { job } => delete_job(st, job, &q),
        Op::ListJobs => list_jobs(st, &q),
        Op::GetJobDocument { job } => get_job_document(st, job, &q),
        Op::CancelJob { job } => cancel_job(st, job, &q, body),
        Op::AssociateTargetsWithJob { job } => associate_targets(st, job, &q, body),
        Op::CreateJobTemplate { template } => create_template(st, template, body),
        Op::DescribeJobTemplate { template } => describe_template(st, template),
        Op::ListJobTemplates => list_templates(st, &q),
        Op::DeleteJobTemplate { template } => delete_template(st, template),
        Op::ListManagedJobTemplates => list_managed(st, &q),
        Op::DescribeManagedJobTemplate { name } => describe_managed(st, name, &q),
        Op::ListJobExecutionsForJob { job } => list_for_job(st, job, &q),
        Op::ListJobExecutionsForThing { thing } => list_for_thing(st, thing, &q),
        Op::DescribeJobExecution { thing, job } => describe_execution(st, thing, job, &q),
        Op::CancelJobExecution { thing, job } => cancel_execution(st, thing, job, &q, body),
        Op::DeleteJobExecution { thing, job, number } => delete_execution(st, thing, job, number, &q),
        Op::GetPendingJobExecutions { thing } => pending(st, thing, b"", Flavor::Http),
        Op::StartNextPendingJobExecution { thing } => start_next(st, thing, body, Flavor::Http),
        Op::DescribeJobExecutionData { thing, job } => describe_data(st, thing, job, &q),
        Op::UpdateJobExecution { thing, job } => update_execution(st, thing, job, body, Flavor::Http),
        Op::ListThingGroups => list_groups(st, &q),
        Op::ListThingsInThingGroup { group } => list_things_in_group(st, group, &q),
        Op::ListThingGroupsForThing { thing } => list_groups_for_thing(st, thing, &q),
        Op::TagResource => tags::tag_resource(st, body),
        Op::UntagResource => tags::untag_resource(st, body),
        Op::ListTagsForResource => tags::list_tags(st, &q),
        Op::DescribeEventConfigurations => event_config::describe(st),
        Op::UpdateEventConfigurations => event_config::update(st, body),
        // Answered by the server, which knows its addresses.
        Op::DescribeEndpoint => Err(ApiError::unavailable("DescribeEndpoint is answered by the server")),
        // The process's, not the state's.
        Op::GetFaults | Op::SetFaults | Op::ClearFaults => {
            Err(ApiError::unavailable("the faults are answered by the server"))
        }
        Op::GetClock => reply(&wire::ClockOut { now: st.now().secs() }, false),
        Op::SetClock => set_clock(st, body),
        Op::Reset => reset(st, body),
        Op::Stats => stats(st),
        Op::ExportState => {
            Ok(Reply { body: crate::persist::encode(st).map_err(ApiError::unavailable)?, changed: false })
        }
        Op::ImportState => import_state(st, body),
        Op::PutObject { bucket, key } => objects::put_object(st, bucket, key, body),
        Op::ListObjects => objects::list_objects(st),
        Op::ClearObjects => objects::clear_objects(st),
    }
}

// ---- admin -------------------------------------------------------------------------------------------

fn set_clock(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::SetClockIn = wire::parse_body(body)?;
    let now = st.clock.advance(input.advance_seconds).map_err(ApiError::invalid)?;
    st.tick();
    reply(&wire::ClockOut { now: now.secs() }, true)
}

/// `POST /_emulator/reset`: forgets everything; `{"now": N}` also puts a manual clock at `N`,
/// earlier too, as nothing is left that an earlier time would contradict. A refused `now` is a
/// 400 and nothing is forgotten.
fn reset(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::ResetIn = wire::parse_body(body)?;
    let clock = match input.now {
        Some(now) => Some(st.clock.set(now).map_err(ApiError::invalid)?),
        None => None,
    };
    st.reset();
    if let Some(clock) = clock {
        st.clock = clock;
    }
    empty(true)
}

/// `POST /_emulator/state`: replaces the registry, the payloads and a manual clock's time with
/// those of a snapshot (`GET /_emulator/state`'s format), validated whole first: a refused one
/// is a 400 and changes nothing.
fn import_state(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    crate::persist::restore_into(body, st)
        .map_err(|e| ApiError::invalid(format!("the state cannot be loaded: {e}")))?;
    empty(true)
}

fn stats(st: &mut State) -> Result<Reply, ApiError> {
    let u = st.registry.usage();
    let out = serde_json::json!({
        "now": st.now().secs(),
        "usage": { "jobs": u.jobs, "things": u.things, "executions": u.executions,
                   "statusDetails": u.details, "pairs": u.pairs, "thingGroups": st.meta.groups.len() },
        "caps": { "jobs": st.caps.jobs, "things": st.caps.things, "executions": st.caps.executions,
                  "statusDetails": st.caps.status_details, "thingGroups": st.caps.thing_groups },
        "jobsDeleting": st.registry.jobs_deleting(),
        "policy": crate::config::knob_values(st.registry.policy()),
        "events": st.events,
    });
    reply(&out, false)
}
