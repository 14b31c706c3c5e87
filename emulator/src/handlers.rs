//! One function per operation: validate the wire input with the core's validators, make one
//! registry call, render the answer. Lifecycle decisions (statuses, transitions, errors,
//! numbering) are the registry's; the emulator decides only about the things it keeps itself
//! (thing attributes, thing groups, job payloads).

use std::collections::BTreeSet;
use std::str::FromStr;

use iot_jobs_core::config::{
    AbortConfig, AbortCriterion, ConfigError, JobConfig, RetryConfig, RetryCriterion, RolloutRate, Schedule,
};
use iot_jobs_core::registry::{Cursor, ExecutionView, NewJob, Registry, Update};
use iot_jobs_core::rules::{self, JobConfigUpdate};
use iot_jobs_core::wire::{DescribeRequest, StartNextRequest, StatusDetailsBuf, UpdateRequest};
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
use crate::wire::{self, ApiError, Long, StringMap, Target};

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

/// Most characters in a job document (SPEC §5 `JobDocument`).
const MAX_DOCUMENT: usize = 32_768;

// ---- small parsers ---------------------------------------------------------------------------------

struct Query<'a>(&'a [(String, String)]);

impl Query<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(ApiError::invalid(format!("{name} must be true or false, not {v:?}"))),
        }
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
    ThingName::new(s)
        .map(|_| s.to_owned())
        .map_err(|e| ApiError::invalid(e.to_string().replacen("thingName", "thingGroupName", 1)))
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

// ---- dispatch --------------------------------------------------------------------------------------

/// Runs one operation against the state.
pub fn handle(st: &mut State, op: &Op, query: &[(String, String)], body: &[u8]) -> Result<Reply, ApiError> {
    let q = Query(query);
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
        Op::CreateJob { job } => create_job(st, job, body),
        Op::DescribeJob { job } => describe_job(st, job),
        Op::UpdateJob { job } => update_job(st, job, &q, body),
        Op::DeleteJob { job } => delete_job(st, job, &q),
        Op::ListJobs => list_jobs(st, &q),
        Op::GetJobDocument { job } => get_job_document(st, job),
        Op::CancelJob { job } => cancel_job(st, job, &q, body),
        Op::AssociateTargetsWithJob { job } => associate_targets(st, job, &q, body),
        Op::ListJobExecutionsForJob { job } => list_for_job(st, job, &q),
        Op::ListJobExecutionsForThing { thing } => list_for_thing(st, thing, &q),
        Op::DescribeJobExecution { thing, job } => describe_execution(st, thing, job, &q),
        Op::CancelJobExecution { thing, job } => cancel_execution(st, thing, job, &q, body),
        Op::DeleteJobExecution { thing, job, number } => delete_execution(st, thing, job, number, &q),
        Op::GetPendingJobExecutions { thing } => pending(st, thing),
        Op::StartNextPendingJobExecution { thing } => start_next(st, thing, body),
        Op::DescribeJobExecutionData { thing, job } => describe_data(st, thing, job, &q),
        Op::UpdateJobExecution { thing, job } => update_execution(st, thing, job, body),
        Op::GetClock => reply(&wire::ClockOut { now: st.now().secs() }, false),
        Op::SetClock => set_clock(st, body),
        Op::Reset => {
            st.reset();
            empty(true)
        }
        Op::Stats => stats(st),
    }
}

// ---- things ------------------------------------------------------------------------------------------

fn create_thing(st: &mut State, thing: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let input: wire::CreateThingIn = wire::parse_body(body)?;
    let attributes = input.attribute_payload.and_then(|p| p.attributes).unwrap_or_default();
    let out = |st: &State, m: &ThingMeta| wire::CreateThingOut {
        thing_name: thing.to_owned(),
        thing_arn: st.arns.thing(thing),
        thing_id: m.id.clone(),
    };
    if let (Some(_), Some(m)) = (st.registry.thing(&name), st.meta.things.get(thing)) {
        // Thing registry (not the jobs lifecycle): the same request again is accepted.
        if m.attributes == attributes && m.type_name == input.thing_type_name {
            return reply(&out(st, m), false);
        }
        return Err(ApiError::exists(format!("thing {thing} already exists with different attributes")));
    }
    st.registry.add_thing(&name).on(C)?;
    let meta = ThingMeta { id: st.meta.new_id(), type_name: input.thing_type_name, attributes, version: 1 };
    let r = reply(&out(st, &meta), true);
    st.meta.things.insert(thing.to_owned(), meta);
    r
}

fn thing_meta<'s>(st: &'s State, name: &ThingName) -> Result<&'s ThingMeta, ApiError> {
    st.registry.thing(name).and(st.meta.things.get(name.as_str())).ok_or_else(|| not_found(Resource::Thing))
}

fn describe_thing(st: &mut State, thing: &str) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let m = thing_meta(st, &name)?;
    reply(
        &wire::DescribeThingOut {
            default_client_id: thing.to_owned(),
            thing_name: thing.to_owned(),
            thing_id: m.id.clone(),
            thing_arn: st.arns.thing(thing),
            thing_type_name: m.type_name.clone(),
            attributes: m.attributes.clone(),
            version: m.version,
        },
        false,
    )
}

fn delete_thing(st: &mut State, thing: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    // DeleteThing of an unknown thing succeeds (API reference).
    let Ok(m) = thing_meta(st, &name) else { return empty(false) };
    if let Some(v) = q.get("expectedVersion")
        && v.parse::<u64>().ok() != Some(m.version)
    {
        return Err(ApiError::version_conflict(format!("thing {thing} is at version {}", m.version)));
    }
    with_events(st, |r, now, sink| r.remove_thing(&name, now, sink)).on(C)?;
    st.meta.things.remove(thing);
    for g in st.meta.groups.values_mut() {
        g.members.remove(thing);
    }
    empty(true)
}

fn list_things(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    let skip = q.offset("ListThings")?;
    let (attr, value, type_name) = (q.get("attributeName"), q.get("attributeValue"), q.get("thingTypeName"));
    let matching = st.meta.things.iter().filter(|(_, m)| {
        let attr_ok = match (attr, value) {
            (Some(a), Some(v)) => m.attributes.get(a).is_some_and(|x| x == v),
            (Some(a), None) => m.attributes.contains_key(a),
            (None, _) => true,
        };
        attr_ok && type_name.is_none_or(|t| m.type_name.as_deref() == Some(t))
    });
    let (page, next_token) = token::page(matching, skip, max);
    let things = page
        .into_iter()
        .map(|(name, m)| wire::ThingAttribute {
            thing_name: name.clone(),
            thing_type_name: m.type_name.clone(),
            thing_arn: st.arns.thing(name),
            attributes: m.attributes.clone(),
            version: m.version,
        })
        .collect();
    reply(&wire::ListThingsOut { things, next_token }, false)
}

// ---- thing groups ------------------------------------------------------------------------------------

fn create_group(st: &mut State, group: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let input: wire::CreateThingGroupIn = wire::parse_body(body)?;
    let props = input.thing_group_properties.unwrap_or_default();
    let attributes = props.attribute_payload.and_then(|p| p.attributes).unwrap_or_default();
    if let Some(p) = &input.parent_group_name
        && !st.meta.groups.contains_key(p)
    {
        return Err(ApiError::invalid(format!("parent group {p} does not exist")));
    }
    let out = |st: &State, g: &GroupMeta| wire::CreateThingGroupOut {
        thing_group_name: name.clone(),
        thing_group_arn: st.arns.group(&name),
        thing_group_id: g.id.clone(),
    };
    if let Some(g) = st.meta.groups.get(&name) {
        if g.description == props.thing_group_description
            && g.attributes == attributes
            && g.parent == input.parent_group_name
        {
            return reply(&out(st, g), false);
        }
        return Err(ApiError::exists(format!("thing group {name} already exists with different properties")));
    }
    let g = GroupMeta {
        id: st.meta.new_id(),
        description: props.thing_group_description,
        attributes,
        parent: input.parent_group_name,
        members: BTreeSet::new(),
        version: 1,
        created_at: st.now().secs(),
    };
    let r = reply(&out(st, &g), true);
    st.meta.groups.insert(name, g);
    r
}

fn describe_group(st: &mut State, group: &str) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    let g = st
        .meta
        .groups
        .get(&name)
        .ok_or_else(|| ApiError::not_found(format!("thing group {name} does not exist")))?;
    reply(
        &wire::DescribeThingGroupOut {
            thing_group_name: name.clone(),
            thing_group_id: g.id.clone(),
            thing_group_arn: st.arns.group(&name),
            version: g.version,
            thing_group_properties: wire::GroupPropertiesOut {
                thing_group_description: g.description.clone(),
                attribute_payload: wire::AttributesOut { attributes: g.attributes.clone() },
            },
            thing_group_metadata: wire::GroupMetadataOut {
                parent_group_name: g.parent.clone(),
                creation_date: g.created_at,
            },
        },
        false,
    )
}

fn delete_group(st: &mut State, group: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = group_name(group)?;
    // DeleteThingGroup of an unknown group succeeds (its model has no ResourceNotFound).
    let Some(g) = st.meta.groups.get(&name) else { return empty(false) };
    if let Some(v) = q.get("expectedVersion")
        && v.parse::<u64>().ok() != Some(g.version)
    {
        return Err(ApiError::version_conflict(format!("thing group {name} is at version {}", g.version)));
    }
    let members: Vec<String> = g.members.iter().cloned().collect();
    let leave = leaves(st, &name, &members);
    st.meta.groups.remove(&name);
    apply_leaves(st, leave);
    empty(true)
}

/// Resolves `name`/`arn` members of a membership request.
fn pick_name(name: Option<String>, arn: Option<String>, what: &str) -> Result<String, ApiError> {
    match (name, arn) {
        (Some(n), _) => Ok(n),
        (None, Some(arn)) => match (wire::parse_target(&arn)?, what) {
            (Target::Thing(n), "thing") | (Target::Group(n), "thing group") => Ok(n),
            _ => Err(ApiError::invalid(format!("{arn} is not a {what} ARN"))),
        },
        (None, None) => Err(ApiError::invalid(format!("the {what} name or ARN is required"))),
    }
}

fn membership(st: &mut State, body: &[u8], join: bool) -> Result<Reply, ApiError> {
    let input: wire::GroupMembershipIn = wire::parse_body(body)?;
    let group = group_name(&pick_name(input.thing_group_name, input.thing_group_arn, "thing group")?)?;
    let thing = pick_name(input.thing_name, input.thing_arn, "thing")?;
    let name = thing_name(&thing, C)?;
    thing_meta(st, &name)?;
    let g = st
        .meta
        .groups
        .get_mut(&group)
        .ok_or_else(|| ApiError::not_found(format!("thing group {group} does not exist")))?;
    if join {
        if !g.members.insert(thing.clone()) {
            return empty(false);
        }
        g.version = g.version.saturating_add(1);
        // CONTINUOUS jobs that target the group roll out to the new member (SPEC T1, T13); the
        // registry refuses jobs that no longer roll out, which leaves the join itself standing.
        for id in continuous_jobs_targeting(st, &group) {
            let joined =
                with_events(st, |r, now, sink| r.add_members(&id, std::slice::from_ref(&name), now, sink));
            if let Err(e) = joined {
                tracing::debug!(job = %id, thing, "no execution for the new group member: {e}");
            }
        }
    } else {
        if !g.members.contains(&thing) {
            return empty(false);
        }
        let leave = leaves(st, &group, std::slice::from_ref(&thing));
        if let Some(g) = st.meta.groups.get_mut(&group) {
            g.members.remove(&thing);
            g.version = g.version.saturating_add(1);
        }
        apply_leaves(st, leave);
    }
    empty(true)
}

fn continuous_jobs_targeting(st: &State, group: &str) -> Vec<JobId> {
    st.meta
        .jobs
        .iter()
        .filter(|(_, m)| m.groups.contains(group))
        .filter_map(|(id, _)| JobId::new(id).ok())
        .filter(|id| st.registry.job(id).is_ok_and(|j| j.target_selection() == TargetSelection::Continuous))
        .collect()
}

/// The (job, thing) pairs whose thing stops being a target when `things` leave `group`: the
/// CONTINUOUS jobs targeting the group, unless the thing is still targeted directly or through
/// another of the job's groups.
fn leaves(st: &State, group: &str, things: &[String]) -> Vec<(JobId, ThingName)> {
    let mut out = Vec::new();
    for id in continuous_jobs_targeting(st, group) {
        let Some(m) = st.meta.jobs.get(id.as_str()) else { continue };
        for t in things {
            let still = m.things.contains(t)
                || m.groups
                    .iter()
                    .any(|g| g != group && st.meta.groups.get(g).is_some_and(|g| g.members.contains(t)));
            if let (false, Ok(name)) = (still, ThingName::new(t)) {
                out.push((id.clone(), name));
            }
        }
    }
    out
}

fn apply_leaves(st: &mut State, leave: Vec<(JobId, ThingName)>) {
    for (job, thing) in leave {
        // SPEC T10, R10: the registry decides what becomes of the thing's execution.
        if let Err(e) = with_events(st, |r, now, sink| r.remove_target(&job, &thing, now, sink)) {
            tracing::debug!(%job, %thing, "group leave: {e}");
        }
    }
}

// ---- jobs ----------------------------------------------------------------------------------------------

/// Resolved targets: the things, the groups named, the things named directly.
type Resolved = (Vec<ThingName>, BTreeSet<String>, BTreeSet<String>);

/// Resolves target ARNs: things by name, groups to their current members.
fn resolve_targets(st: &State, targets: &[String]) -> Result<Resolved, ApiError> {
    let (mut things, mut groups, mut direct) = (Vec::new(), BTreeSet::new(), BTreeSet::new());
    for arn in targets {
        match wire::parse_target(arn)? {
            Target::Thing(n) => {
                things.push(thing_name(&n, C)?);
                direct.insert(n);
            }
            Target::Group(g) => {
                let members = &st
                    .meta
                    .groups
                    .get(&g)
                    .ok_or_else(|| ApiError::not_found(format!("thing group {g} does not exist")))?
                    .members;
                for m in members {
                    things.push(thing_name(m, C)?);
                }
                groups.insert(g);
            }
        }
    }
    Ok((things, groups, direct))
}

fn config_error(e: ConfigError) -> ApiError {
    ApiError::rejection(Rejection::from(e), C)
}

/// Maps the wire configuration to the core's [`JobConfig`], with the core's validators (a
/// `JobConfig` is valid by construction: each member is checked here, as it is read).
fn job_config(c: &wire::JobConfigs, now: Timestamp) -> Result<JobConfig, ApiError> {
    let mut cfg = JobConfig::default();
    if let Some(t) = &c.timeout_config {
        cfg.in_progress_timeout_minutes = t
            .in_progress_timeout_in_minutes
            .map(|n| TimeoutMinutes::new(u16::try_from(n.max(0)).unwrap_or(u16::MAX)))
            .transpose()
            .map_err(config_error)?;
    }
    if let Some(r) = &c.job_executions_retry_config {
        let criteria = r
            .criteria_list
            .iter()
            .map(|c| {
                Ok(RetryCriterion {
                    failure: enum_value::<RetryableFailureType>("failureType", &c.failure_type)?,
                    retries: u8::try_from(c.number_of_retries).unwrap_or(u8::MAX),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        cfg.retry = Some(RetryConfig::new(&criteria).map_err(config_error)?);
    }
    if let Some(a) = &c.abort_config {
        let criteria = a
            .criteria_list
            .iter()
            .map(|c| {
                if c.action != "CANCEL" {
                    return Err(ApiError::invalid(format!(
                        "action: {:?} is not a valid AbortAction value",
                        c.action
                    )));
                }
                // Hundredths of a percent; more than two decimals or out of range is invalid.
                let centi = c.threshold_percentage * 100.0;
                let whole = centi.round();
                if !(0.0..=10_000.0).contains(&whole) || (centi - whole).abs() > 1e-6 {
                    return Err(config_error(ConfigError::Abort));
                }
                Ok(AbortCriterion {
                    failure: enum_value::<FailureType>("failureType", &c.failure_type)?,
                    threshold_centipercent: whole as u16,
                    min_executed: u32::try_from(c.min_number_of_executed_things).unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        cfg.abort = Some(AbortConfig::new(&criteria).map_err(config_error)?);
    }
    if let Some(s) = &c.scheduling_config {
        cfg.schedule = Some(schedule(s, now)?);
    }
    if let Some(r) = &c.job_executions_rollout_config {
        cfg.maximum_per_minute = r
            .maximum_per_minute
            .map(|n| RolloutRate::new(u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
            .transpose()
            .map_err(config_error)?;
    }
    Ok(cfg)
}

/// `schedulingConfig` times, within the core's bounds from now (SPEC §6 Scheduling).
fn schedule(s: &wire::SchedulingConfig, now: Timestamp) -> Result<Schedule, ApiError> {
    let time = |member: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| {
                wire::parse_date_time(t).map(Timestamp).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "schedulingConfig {member} {t:?} is not YYYY-MM-DDTHH:MM (UTC)"
                    ))
                })
            })
            .transpose()
    };
    let start = time("startTime", &s.start_time)?;
    let end = time("endTime", &s.end_time)?;
    rules::schedule_bounds(start, end, now).map_err(|e| ApiError::invalid(e.to_string()))?;
    let behavior =
        s.end_behavior.as_deref().map(|b| enum_value::<JobEndBehavior>("endBehavior", b)).transpose()?;
    let end = end.map(|e| (e, behavior.unwrap_or(JobEndBehavior::StopRollout)));
    Schedule::new(start, end).map_err(config_error)
}

fn create_job(st: &mut State, job: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let input: wire::CreateJobIn = wire::parse_body(body)?;
    let targets = input.targets.unwrap_or_default();
    // SPEC §5 JobTargets: at least one target ARN (a group may still have no things).
    if targets.is_empty() {
        return Err(ApiError::rejection(
            Rejection::InvalidRequest(iot_jobs_core::InvalidRequest::NoTargets),
            C,
        ));
    }
    if input.document.is_none() && input.document_source.is_none() && input.job_template_arn.is_none() {
        return Err(ApiError::invalid("one of document, documentSource or jobTemplateArn is required"));
    }
    if let Some(d) = &input.document {
        let len = d.chars().map(char::len_utf16).sum::<usize>();
        if len > MAX_DOCUMENT {
            return Err(ApiError::invalid(format!(
                "document is {len} characters long; at most {MAX_DOCUMENT} are allowed"
            )));
        }
    }
    if let Some(d) = &input.description {
        check_text("description", d, 2028)?;
    }
    let selection = match &input.target_selection {
        Some(s) => enum_value::<TargetSelection>("targetSelection", s)?,
        None => TargetSelection::Snapshot,
    };
    let namespace = input.namespace_id.as_deref().map(NamespaceId::new).transpose().on(C)?;
    let now = st.now();
    let config = job_config(&input.configs, now)?;
    let (things, groups, direct) = resolve_targets(st, &targets)?;
    let new = NewJob { id: &id, selection, namespace: namespace.as_ref(), config };
    with_events(st, |r, now, sink| r.create_job(&new, &things, now, sink)).on(C)?;
    let out = wire::JobRef {
        job_arn: st.arns.job(job),
        job_id: job.to_owned(),
        description: input.description.clone(),
    };
    st.meta.jobs.insert(
        job.to_owned(),
        JobMeta {
            document: input.document,
            document_source: input.document_source,
            description: input.description,
            comment: None,
            targets,
            groups,
            things: direct,
            configs: input.configs,
        },
    );
    reply(&out, true)
}

fn describe_job(st: &mut State, job: &str) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let j = st.registry.job(&id).on(C)?;
    let m = st.meta.jobs.get(job).cloned().unwrap_or_default();
    let p = j.process_details();
    let out = wire::DescribeJobOut {
        document_source: m.document_source,
        job: wire::JobOut {
            job_arn: st.arns.job(job),
            job_id: job.to_owned(),
            target_selection: j.target_selection().as_str(),
            status: j.status().as_str(),
            force_canceled: j.force_canceled(),
            reason_code: j.reason_code().map(|r| r.to_string()),
            comment: m.comment,
            targets: m.targets,
            description: m.description,
            created_at: j.created_at().secs(),
            last_updated_at: j.last_updated_at().secs(),
            completed_at: j.completed_at().map(Timestamp::secs),
            job_process_details: wire::ProcessDetailsOut {
                number_of_canceled_things: p.count(ExecutionStatus::Canceled),
                number_of_succeeded_things: p.count(ExecutionStatus::Succeeded),
                number_of_failed_things: p.count(ExecutionStatus::Failed),
                number_of_rejected_things: p.count(ExecutionStatus::Rejected),
                number_of_queued_things: p.count(ExecutionStatus::Queued),
                number_of_in_progress_things: p.count(ExecutionStatus::InProgress),
                number_of_removed_things: p.count(ExecutionStatus::Removed),
                number_of_timed_out_things: p.count(ExecutionStatus::TimedOut),
            },
            namespace_id: j.namespace().map(|n| n.to_string()),
            is_concurrent: false,
            configs: m.configs,
        },
    };
    reply(&out, false)
}

fn update_job(st: &mut State, job: &str, q: &Query<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    q.namespace(C)?;
    let input: wire::UpdateJobIn = wire::parse_body(body)?;
    let old = *st.registry.job(&id).on(C)?.config();
    let c = &input.configs;
    if c.scheduling_config.is_some() {
        return Err(ApiError::invalid(
            "UpdateJob has no schedulingConfig member: a schedule cannot be changed",
        ));
    }
    if let Some(d) = &input.description {
        check_text("description", d, 2028)?;
    }
    let mut changed = false;
    if *c != wire::JobConfigs::default() {
        // The members given replace the job's; the others stay (SPEC 4.1 UpdateJob).
        let new = job_config(c, st.now())?;
        let update = JobConfigUpdate {
            in_progress_timeout_minutes: c
                .timeout_config
                .is_some()
                .then_some(new.in_progress_timeout_minutes),
            retry: c.job_executions_retry_config.is_some().then_some(new.retry),
            abort: c.abort_config.is_some().then_some(new.abort),
            maximum_per_minute: c.job_executions_rollout_config.is_some().then_some(new.maximum_per_minute),
        };
        let config = rules::update_job_config(&old, &update);
        st.registry.update_job_config(&id, config, st.now()).on(C)?;
        // DescribeJob echoes the configuration members as last given.
        let m = &mut st.meta.jobs.entry(job.to_owned()).or_default().configs;
        if c.timeout_config.is_some() {
            m.timeout_config.clone_from(&c.timeout_config);
        }
        if c.job_executions_retry_config.is_some() {
            m.job_executions_retry_config.clone_from(&c.job_executions_retry_config);
        }
        if c.abort_config.is_some() {
            m.abort_config.clone_from(&c.abort_config);
        }
        if c.job_executions_rollout_config.is_some() {
            m.job_executions_rollout_config.clone_from(&c.job_executions_rollout_config);
        }
        if c.presigned_url_config.is_some() {
            m.presigned_url_config.clone_from(&c.presigned_url_config);
        }
        changed = true;
    }
    if let Some(d) = input.description {
        st.meta.jobs.entry(job.to_owned()).or_default().description = Some(d);
        changed = true;
    }
    empty(changed)
}

fn delete_job(st: &mut State, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let force = q.flag("force")?;
    q.namespace(C)?;
    with_events(st, |r, now, sink| r.delete_job(&id, force, now, sink)).on(C)?;
    empty(true)
}

fn list_jobs(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    let status: Option<JobStatus> = q.parse("status")?;
    let selection: Option<TargetSelection> = q.parse("targetSelection")?;
    let namespace = q.namespace(C)?;
    let group = q.get("thingGroupName");
    let skip = q.offset("ListJobs")?;
    let mut jobs: Vec<_> = st
        .registry
        .jobs()
        .filter(|j| status.is_none_or(|s| j.status() == s))
        .filter(|j| selection.is_none_or(|s| j.target_selection() == s))
        .filter(|j| namespace.is_none() || j.namespace() == namespace.as_ref())
        .filter(|j| {
            group.is_none_or(|g| st.meta.jobs.get(j.id().as_str()).is_some_and(|m| m.groups.contains(g)))
        })
        .map(|j| wire::JobSummary {
            job_arn: st.arns.job(j.id().as_str()),
            job_id: j.id().to_string(),
            target_selection: j.target_selection().as_str(),
            status: j.status().as_str(),
            created_at: j.created_at().secs(),
            last_updated_at: j.last_updated_at().secs(),
            completed_at: j.completed_at().map(Timestamp::secs),
            is_concurrent: false,
        })
        .collect();
    jobs.sort_by(|a, b| (a.created_at, &a.job_id).cmp(&(b.created_at, &b.job_id)));
    let (jobs, next_token) = token::page(jobs, skip, max);
    reply(&wire::ListJobsOut { jobs, next_token }, false)
}

fn get_job_document(st: &mut State, job: &str) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    st.registry.job(&id).on(C)?;
    let document = st.meta.jobs.get(job).and_then(|m| m.document.clone());
    reply(&wire::GetJobDocumentOut { document }, false)
}

fn cancel_job(st: &mut State, job: &str, q: &Query<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let force = q.flag("force")?;
    let input: wire::CancelJobIn = wire::parse_body(body)?;
    let reason = input.reason_code.as_deref().map(ReasonCode::new).transpose().on(C)?;
    if let Some(c) = &input.comment {
        Comment::new(c).on(C)?;
    }
    with_events(st, |r, now, sink| r.cancel_job(&id, force, reason.as_ref(), now, sink)).on(C)?;
    let m = st.meta.jobs.entry(job.to_owned()).or_default();
    if input.comment.is_some() {
        m.comment = input.comment;
    }
    let description = m.description.clone();
    reply(&wire::JobRef { job_arn: st.arns.job(job), job_id: job.to_owned(), description }, true)
}

fn associate_targets(st: &mut State, job: &str, q: &Query<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    q.namespace(C)?;
    let input: wire::AssociateTargetsIn = wire::parse_body(body)?;
    let targets = input.targets.unwrap_or_default();
    if targets.is_empty() {
        return Err(ApiError::rejection(
            Rejection::InvalidRequest(iot_jobs_core::InvalidRequest::NoTargets),
            C,
        ));
    }
    if let Some(c) = &input.comment {
        Comment::new(c).on(C)?;
    }
    let (things, groups, direct) = resolve_targets(st, &targets)?;
    with_events(st, |r, now, sink| r.add_targets(&id, &things, now, sink)).on(C)?;
    let m = st.meta.jobs.entry(job.to_owned()).or_default();
    m.targets.extend(targets.into_iter().filter(|t| !m.targets.contains(t)).collect::<Vec<_>>());
    m.groups.extend(groups);
    m.things.extend(direct);
    if input.comment.is_some() {
        m.comment = input.comment;
    }
    let description = m.description.clone();
    reply(&wire::JobRef { job_arn: st.arns.job(job), job_id: job.to_owned(), description }, true)
}

// ---- executions: control plane ---------------------------------------------------------------------

fn list_for_job(st: &mut State, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let status: Option<ExecutionStatus> = q.parse("status")?;
    let (max, from) = (q.max_results()?, q.cursor()?);
    let mut out = Vec::new();
    let next = st
        .registry
        .list_for_job(&id, status, from, max, |v| {
            out.push(wire::SummaryForJob {
                thing_arn: st.arns.thing(v.thing_name().as_str()),
                job_execution_summary: wire::ExecutionSummary::new(&v),
            });
        })
        .on(C)?;
    let next_token = next.map(|c| Token::Cursor(c).encode());
    reply(&wire::ListExecutionsOut { execution_summaries: out, next_token }, false)
}

fn list_for_thing(st: &mut State, thing: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let status: Option<ExecutionStatus> = q.parse("status")?;
    let max = q.max_results()?;
    let namespace = q.namespace(C)?;
    let job = q.get("jobId").map(|j| job_id(j, C)).transpose()?;
    let summary = |v: &ExecutionView<'_>| wire::SummaryForThing {
        job_id: v.job_id().to_string(),
        job_execution_summary: wire::ExecutionSummary::new(v),
    };
    let mut out = Vec::new();
    if job.is_none() && namespace.is_none() {
        let next =
            st.registry.list_for_thing(&name, status, q.cursor()?, max, |v| out.push(summary(&v))).on(C)?;
        let next_token = next.map(|c| Token::Cursor(c).encode());
        return reply(&wire::ListExecutionsOut { execution_summaries: out, next_token }, false);
    }
    // Filters the core's listing does not have: page over the filtered whole.
    let skip = q.offset("this listing")?;
    let mut matching = Vec::new();
    st.registry
        .list_for_thing(&name, status, None, usize::MAX, |v| {
            let job_ok = job.as_ref().is_none_or(|j| v.job_id() == j);
            let ns_ok = namespace
                .as_ref()
                .is_none_or(|n| st.registry.job(v.job_id()).ok().and_then(|j| j.namespace()) == Some(n));
            if job_ok && ns_ok {
                matching.push(v.handle());
            }
        })
        .on(C)?;
    let (page, next_token) = token::page(matching, skip, max);
    let out = page.into_iter().filter_map(|h| st.registry.execution(h)).map(|v| summary(&v)).collect();
    reply(&wire::ListExecutionsOut { execution_summaries: out, next_token }, false)
}

fn execution_number(q: &Query<'_>, plane: Plane) -> Result<Option<ExecutionNumber>, ApiError> {
    q.get("executionNumber").map(ExecutionNumber::try_from).transpose().on(plane)
}

fn describe_execution(st: &mut State, thing: &str, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let (name, id) = (thing_name(thing, C)?, job_id(job, C)?);
    let number = execution_number(q, C)?;
    let v = st.registry.describe_execution(&id, &name, number, C).on(C)?;
    reply(&wire::DescribeExecutionOut { execution: wire::ExecutionOut::new(&v, &st.arns, st.now()) }, false)
}

fn cancel_execution(
    st: &mut State,
    thing: &str,
    job: &str,
    q: &Query<'_>,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let (name, id) = (thing_name(thing, C)?, job_id(job, C)?);
    let force = q.flag("force")?;
    let input: wire::CancelExecutionIn = wire::parse_body(body)?;
    let expected = version(input.expected_version, C)?;
    let pairs = input.status_details.as_ref().map(pairs);
    let details = pairs.as_deref().map(StatusDetails::new).transpose().on(C)?;
    with_events(st, |r, now, sink| r.cancel_execution(&id, &name, force, expected, details, now, sink))
        .on(C)?;
    empty(true)
}

fn delete_execution(
    st: &mut State,
    thing: &str,
    job: &str,
    number: &str,
    q: &Query<'_>,
) -> Result<Reply, ApiError> {
    let (name, id) = (thing_name(thing, C)?, job_id(job, C)?);
    let number = ExecutionNumber::try_from(number).on(C)?;
    let force = q.flag("force")?;
    q.namespace(C)?;
    with_events(st, |r, now, sink| r.delete_execution(&id, &name, number, force, now, sink)).on(C)?;
    empty(true)
}

// ---- data plane ------------------------------------------------------------------------------------

/// The job's stored document in its wire form, if it has one.
fn document<'s>(st: &'s State, job: &JobId) -> Option<data::Document<'s>> {
    st.meta.jobs.get(job.as_str()).and_then(|m| m.document.as_deref()).map(data::Document::new)
}

fn pending(st: &mut State, thing: &str) -> Result<Reply, ApiError> {
    let name = thing_name(thing, D)?;
    let mut handles = Vec::new();
    st.registry.pending(&name, |v| handles.push(v.handle())).on(D)?;
    let body = data::pending_body(handles.into_iter().filter_map(|h| st.registry.execution(h)))?;
    Ok(Reply { body, changed: false })
}

fn start_next(st: &mut State, thing: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let name = thing_name(thing, D)?;
    let mut scratch = Vec::new();
    let input = data::parse(body, &mut scratch, StartNextRequest::parse_as)?;
    let details = input.status_details.as_ref().map(StatusDetailsBuf::as_status_details);
    let (handle, events) = with_events(st, |r, now, sink| {
        let handle = r.start_next(&name, details, input.step_timeout, now, sink)?;
        Ok((handle, !sink.0.is_empty()))
    })
    .on(D)?;
    let view = handle.and_then(|h| st.registry.execution(h));
    let doc = view.and_then(|v| document(st, v.job_id()));
    let body = data::execution_body(view.as_ref(), doc.as_ref(), st.now())?;
    Ok(Reply { body, changed: events || handle.is_some() })
}

fn describe_data(st: &mut State, thing: &str, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = thing_name(thing, D)?;
    // Over HTTP the request's members are query parameters (SPEC §4.3: includeJobDocument
    // defaults to true).
    let input = DescribeRequest {
        execution_number: execution_number(q, D)?,
        include_job_document: q.opt_flag("includeJobDocument")?.unwrap_or(true),
        client_token: None,
    };
    let view = if job == "$next" {
        st.registry.next_pending(&name).on(D)?
    } else {
        let id = job_id(job, D)?;
        Some(st.registry.describe_execution(&id, &name, input.execution_number, D).on(D)?)
    };
    let doc = view.filter(|_| input.include_job_document).and_then(|v| document(st, v.job_id()));
    let body = data::execution_body(view.as_ref(), doc.as_ref(), st.now())?;
    Ok(Reply { body, changed: false })
}

fn update_execution(st: &mut State, thing: &str, job: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let (name, id) = (thing_name(thing, D)?, job_id(job, D)?);
    let mut scratch = Vec::new();
    let input = data::parse(body, &mut scratch, UpdateRequest::parse_as)?;
    let update = Update {
        status: input.status,
        status_details: input.status_details.as_ref().map(StatusDetailsBuf::as_status_details),
        expected_version: input.expected_version,
        execution_number: input.execution_number,
        step_timeout: input.step_timeout,
    };
    let want_state = input.include_job_execution_state;
    // The execution the update addresses, to render its statusDetails afterwards.
    let number = match (want_state, input.execution_number) {
        (true, None) => st.registry.describe_execution(&id, &name, None, C).ok().map(|v| v.number()),
        (_, number) => number,
    };
    let state = with_events(st, |r, now, sink| r.update_execution(&id, &name, &update, now, sink)).on(D)?;
    let view = want_state.then(|| st.registry.describe_execution(&id, &name, number, C).ok()).flatten();
    let doc = if input.include_job_document { document(st, &id) } else { None };
    let body = data::update_body(want_state.then_some((state, view.as_ref())), doc.as_ref())?;
    Ok(Reply { body, changed: true })
}

// ---- admin -------------------------------------------------------------------------------------------

fn set_clock(st: &mut State, body: &[u8]) -> Result<Reply, ApiError> {
    let input: wire::SetClockIn = wire::parse_body(body)?;
    let now = st.clock.advance(input.advance_seconds).map_err(ApiError::invalid)?;
    st.tick();
    reply(&wire::ClockOut { now: now.secs() }, true)
}

fn stats(st: &mut State) -> Result<Reply, ApiError> {
    let u = st.registry.usage();
    let out = serde_json::json!({
        "now": st.now().secs(),
        "usage": { "jobs": u.jobs, "things": u.things, "executions": u.executions,
                   "statusDetails": u.details, "pairs": u.pairs },
        "caps": { "jobs": st.caps.jobs, "things": st.caps.things, "executions": st.caps.executions,
                  "statusDetails": st.caps.status_details },
        "jobsDeleting": st.registry.jobs_deleting(),
        "events": st.events,
    });
    reply(&out, false)
}
