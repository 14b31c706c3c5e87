//! Jobs: CreateJob (from a document or a job template), DescribeJob, UpdateJob, DeleteJob,
//! ListJobs, GetJobDocument, CancelJob, AssociateTargetsWithJob.

use super::*;
use iot_jobs_core::registry::JobView;
use std::ops::Bound;

/// Resolved targets: the things named (each a target), the things of the groups named (a group
/// is one target, its things are not: SPEC lim-targets), the groups named, the names of the
/// things named.
type Resolved = (Vec<ThingName>, Vec<ThingName>, BTreeSet<String>, BTreeSet<String>);

/// Resolves target ARNs: things by name, groups to the current members of the group and of its
/// descendants (SPEC AMBIG-32).
pub(super) fn resolve_targets(st: &State, targets: &[String]) -> Result<Resolved, ApiError> {
    let (mut named, mut things) = (Vec::new(), Vec::new());
    let (mut groups, mut direct) = (BTreeSet::new(), BTreeSet::new());
    for arn in targets {
        match st.arns.own_target(arn)? {
            Target::Thing(n) => {
                named.push(thing_name(&n, C)?);
                direct.insert(n);
            }
            Target::Group(g) => {
                if !st.meta.groups.contains_key(&g) {
                    return Err(ApiError::not_found(format!("thing group {g} does not exist")));
                }
                let members = subtree(st, &g).into_iter().filter_map(|h| st.meta.groups.get(&h));
                for m in members.flat_map(|h| &h.members) {
                    things.push(thing_name(m, C)?);
                }
                groups.insert(g);
            }
        }
    }
    Ok((named, things, groups, direct))
}

pub(super) fn config_error(e: ConfigError) -> ApiError {
    ApiError::rejection(Rejection::from(e), C)
}

/// Maps the wire configuration to the core's [`JobConfig`], with the core's validators (a
/// `JobConfig` is valid by construction: each member is checked here, as it is read).
pub(super) fn job_config(c: &wire::JobConfigs, now: Timestamp) -> Result<JobConfig, ApiError> {
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
        cfg.windows =
            s.maintenance_windows.as_deref().map(|w| limits::windows(limits::JOB_WINDOWS, w)).transpose()?;
    }
    if let Some(r) = &c.job_executions_rollout_config {
        cfg.maximum_per_minute = r
            .maximum_per_minute
            .map(|n| RolloutRate::new(u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
            .transpose()
            .map_err(config_error)?;
        cfg.exponential = r.exponential_rate.as_ref().map(exponential).transpose()?;
    }
    Ok(cfg)
}

/// `exponentialRate` as the core keeps it (SPEC §6 Rollout, AMBIG-29); the wire bounds were
/// checked by `limits` (the factor has one decimal).
fn exponential(e: &wire::ExponentialRate) -> Result<ExponentialRate, ApiError> {
    let count = |n: Option<i64>| n.map(|n| u32::try_from(n).unwrap_or(0));
    let increase = RateIncrease {
        notified: count(e.rate_increase_criteria.number_of_notified_things),
        succeeded: count(e.rate_increase_criteria.number_of_succeeded_things),
    };
    let base = u16::try_from(e.base_rate_per_minute).unwrap_or(0);
    let tenths = (e.increment_factor * 10.0).round();
    let tenths = if (0.0..=255.0).contains(&tenths) { tenths as u8 } else { 0 };
    ExponentialRate::new(base, tenths, increase).map_err(config_error)
}

/// The lifecycle members a request gives (`Some`, with `read`'s value: the request's members
/// read by [`job_config`]) and those it leaves out (`None`), for the core's merges (SPEC 4.1
/// UpdateJob, R22).
pub(super) fn given_members(c: &wire::JobConfigs, read: &JobConfig) -> JobConfigUpdate {
    JobConfigUpdate {
        in_progress_timeout_minutes: c.timeout_config.is_some().then_some(read.in_progress_timeout_minutes),
        retry: c.job_executions_retry_config.is_some().then_some(read.retry),
        abort: c.abort_config.is_some().then_some(read.abort),
        maximum_per_minute: c.job_executions_rollout_config.is_some().then_some(read.maximum_per_minute),
        exponential: c.job_executions_rollout_config.is_some().then_some(read.exponential),
    }
}

/// `schedulingConfig` times, within the core's bounds from now (SPEC §6 Scheduling).
pub(super) fn schedule(s: &wire::SchedulingConfig, now: Timestamp) -> Result<Schedule, ApiError> {
    let time = |member: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| {
                wire::parse_date_time(t).map(Timestamp).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "schedulingConfig {member} {t:?} is not a time YYYY-MM-DDTHH:MM (UTC) of a day that exists"
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

/// DescribeJob's `scheduledJobRollouts`: the next window starts of a live job with maintenance
/// windows (SPEC `lim-scheduling`: 7 of them) that can roll out: at or after both now and its
/// `startTime`, before its `endTime` (AMBIG-28).
fn scheduled_rollouts(
    status: JobStatus,
    config: &JobConfig,
    now: Timestamp,
) -> Vec<wire::ScheduledJobRollout> {
    let live = matches!(status, JobStatus::Scheduled | JobStatus::InProgress);
    let Some(w) = config.windows.filter(|_| live) else { return Vec::new() };
    let schedule = config.schedule.as_ref();
    let from = schedule.and_then(Schedule::start).map_or(now, |s| s.max(now));
    let end = schedule.and_then(Schedule::end).map(|(at, _)| at);
    w.starts_from(from)
        .take_while(|t| end.is_none_or(|end| *t < end))
        .take(MaintenanceWindows::SCHEDULED_ROLLOUTS)
        .map(|t| wire::ScheduledJobRollout { start_time: wire::format_date_time(t.secs()) })
        .collect()
}

/// The configuration DescribeJob echoes for a job made from a template (or a template made from
/// a job): each lifecycle member's JSON from the side the core took it from (`from`:
/// [`rules::template_sources`], SPEC R22), so the echo is what the core applies;
/// `presignedUrlConfig`, which the core does not read, likewise from the request if it gives one.
pub(super) fn overlay_configs(
    base: &wire::JobConfigs,
    over: &wire::JobConfigs,
    from: &TemplateSources,
) -> wire::JobConfigs {
    fn side<T: Clone>(source: ConfigSource, base: &Option<T>, over: &Option<T>) -> Option<T> {
        match source {
            ConfigSource::Template => base.clone(),
            ConfigSource::Request => over.clone(),
        }
    }
    let windows =
        |c: &wire::JobConfigs| c.scheduling_config.as_ref().and_then(|s| s.maintenance_windows.clone());
    let times = side(from.schedule, &base.scheduling_config, &over.scheduling_config)
        .map(|s| wire::SchedulingConfig { maintenance_windows: None, ..s });
    let scheduling_config = match (times, side(from.windows, &windows(base), &windows(over))) {
        (None, None) => None,
        (times, maintenance_windows) => {
            Some(wire::SchedulingConfig { maintenance_windows, ..times.unwrap_or_default() })
        }
    };
    wire::JobConfigs {
        presigned_url_config: over
            .presigned_url_config
            .as_ref()
            .or(base.presigned_url_config.as_ref())
            .cloned(),
        // One JSON member holds both `maximumPerMinute` and `exponentialRate`: a request gives
        // both or neither (`given_members`).
        job_executions_rollout_config: side(
            from.maximum_per_minute,
            &base.job_executions_rollout_config,
            &over.job_executions_rollout_config,
        ),
        abort_config: side(from.abort, &base.abort_config, &over.abort_config),
        timeout_config: side(from.in_progress_timeout_minutes, &base.timeout_config, &over.timeout_config),
        job_executions_retry_config: side(
            from.retry,
            &base.job_executions_retry_config,
            &over.job_executions_retry_config,
        ),
        scheduling_config,
    }
}

/// What a job takes from the template CreateJob names.
struct FromTemplate {
    document: Option<String>,
    document_source: Option<String>,
    before_substitution: Option<String>,
    description: Option<String>,
    /// The template's configuration (a managed template has none).
    configs: wire::JobConfigs,
    destination_package_versions: Option<Vec<String>>,
}

/// Looks up CreateJob's `jobTemplateArn` and takes the template's document: a custom template's
/// as it is, a managed template's with `documentParameters` substituted (SPEC AMBIG-31).
fn from_template(st: &State, arn: &str, input: &wire::CreateJobIn) -> Result<FromTemplate, ApiError> {
    if input.document.is_some() || input.document_source.is_some() {
        return Err(ApiError::invalid(
            "jobTemplateArn cannot be given with document or documentSource: the template has the document",
        ));
    }
    let unknown = || ApiError::not_found(format!("job template {arn} does not exist"));
    match wire::parse_template_arn(arn).ok_or_else(unknown)? {
        wire::TemplateArn::Managed { name, version } => {
            let t = crate::managed::find(&name, Some(&version)).ok_or_else(unknown)?;
            let document = crate::managed::resolve(t, input.document_parameters.as_ref())?;
            Ok(FromTemplate {
                document: Some(document),
                document_source: None,
                before_substitution: Some(t.document.to_owned()),
                description: Some(t.description.to_owned()),
                configs: wire::JobConfigs::default(),
                destination_package_versions: None,
            })
        }
        wire::TemplateArn::Custom(id) => {
            st.arns.own(arn, "jobtemplate", &id)?;
            let (_, t) = st.job_template(arn).ok_or_else(unknown)?;
            if input.document_parameters.is_some() {
                return Err(ApiError::invalid(
                    "documentParameters can be used only with an AWS managed template, not a custom job template",
                ));
            }
            // A template of a state of format 3 or earlier has its documentSource alone: it is
            // read now.
            let document = match (&t.document, &t.document_source) {
                (None, Some(url)) => Some(super::objects::read_source(st, url)?),
                (document, _) => document.clone(),
            };
            Ok(FromTemplate {
                document,
                document_source: t.document_source.clone(),
                before_substitution: None,
                description: Some(t.description.clone()),
                configs: t.configs.job_configs(),
                destination_package_versions: t.configs.destination_package_versions.clone(),
            })
        }
    }
}

pub(super) fn create_job(st: &mut State, job: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let input: wire::CreateJobIn = wire::parse_body(body)?;
    limits::create_job(&input)?;
    let mut targets = input.targets.clone().unwrap_or_default();
    // SPEC §5 JobTargets, §6: 1 to 100 target ARNs (a group may still have no things), each kept
    // once, as AssociateTargetsWithJob keeps them.
    rules::job_targets(targets.len()).on(C)?;
    let mut seen = BTreeSet::new();
    targets.retain(|t| seen.insert(t.clone()));
    if input.document.is_none() && input.document_source.is_none() && input.job_template_arn.is_none() {
        return Err(ApiError::invalid("one of document, documentSource or jobTemplateArn is required"));
    }
    if input.document.is_some() && input.document_source.is_some() {
        return Err(ApiError::invalid(
            "give only one of document and documentSource: each is the job's document",
        ));
    }
    if let Some(d) = &input.document {
        check_document(d)?;
    }
    // AWS reads the object a documentSource names when the job is created, and keeps its content
    // as the job's document (with a template, the source is refused below).
    let read = match (&input.document_source, &input.job_template_arn) {
        (Some(url), None) => Some(super::objects::read_source(st, url)?),
        _ => None,
    };
    if let Some(d) = &input.description {
        check_text("description", d, 2028)?;
    }
    let selection = match &input.target_selection {
        Some(s) => enum_value::<TargetSelection>("targetSelection", s)?,
        None => TargetSelection::Snapshot,
    };
    let namespace = input.namespace_id.as_deref().map(NamespaceId::new).transpose().on(C)?;
    let now = st.now();
    let requested = job_config(&input.configs, now)?;
    let template = match &input.job_template_arn {
        Some(arn) => Some(from_template(st, arn, &input)?),
        None if input.document_parameters.is_some() => {
            return Err(ApiError::invalid(
                "documentParameters can be used only with the jobTemplateArn of an AWS managed template",
            ));
        }
        None => None,
    };
    let (config, configs) = match &template {
        None => (requested, input.configs.clone()),
        Some(t) => {
            // The core decides which members apply (SPEC R22): the request's given ones, else
            // the template's.
            let c = &input.configs;
            let given = given_members(c, &requested);
            let base = job_config(&t.configs, now)?;
            let config =
                rules::job_config_from_template(&base, &given, requested.schedule, requested.windows);
            let from = rules::template_sources(&given, requested.windows.is_some());
            (config, overlay_configs(&t.configs, c, &from))
        }
    };
    let (named, members, groups, direct) = resolve_targets(st, &targets)?;
    let new = NewJob { id: &id, selection, namespace: namespace.as_ref(), config };
    with_events(st, |r, now, sink| r.create_job_with_members(&new, &named, &members, now, sink)).on(C)?;
    st.job_created(&id);
    let t = template.unwrap_or(FromTemplate {
        document: input.document.or(read),
        document_source: input.document_source,
        before_substitution: None,
        description: None,
        configs: wire::JobConfigs::default(),
        destination_package_versions: None,
    });
    // The request's description, else the template's (SPEC R22).
    let description = input.description.or(t.description);
    let out =
        wire::JobRef { job_arn: st.arns.job(job), job_id: job.to_owned(), description: description.clone() };
    st.meta.tags.set(super::tags::JOB, job, super::tags::tag_map(input.tags.unwrap_or_default()));
    st.set_job_meta(
        job,
        JobMeta {
            document: t.document,
            document_source: t.document_source,
            description,
            comment: None,
            targets,
            groups,
            things: direct,
            configs,
            job_template_arn: input.job_template_arn,
            document_parameters: input.document_parameters,
            document_before_substitution: t.before_substitution,
            destination_package_versions: input
                .destination_package_versions
                .or(t.destination_package_versions),
        },
    );
    reply(&out, true)
}

pub(super) fn describe_job(st: &mut State, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    // DescribeJob's answer has no document: the flag is read and changes nothing (SPEC AMBIG-31).
    q.flag("beforeSubstitution")?;
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
            is_concurrent: j.is_concurrent(),
            scheduled_job_rollouts: scheduled_rollouts(j.status(), j.config(), st.now()),
            job_template_arn: m.job_template_arn,
            document_parameters: m.document_parameters,
            destination_package_versions: m.destination_package_versions,
            configs: m.configs,
        },
    };
    reply(&out, false)
}

pub(super) fn update_job(st: &mut State, job: &str, q: &Query<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    q.namespace(C)?;
    let input: wire::UpdateJobIn = wire::parse_body(body)?;
    limits::job_configs(&input.configs)?;
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
        let update = given_members(c, &new);
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
        if !changed {
            // A description alone is a change of the job too: its lastUpdatedAt moves.
            st.registry.update_job_config(&id, old, st.now()).on(C)?;
        }
        st.meta.jobs.entry(job.to_owned()).or_default().description = Some(d);
        changed = true;
    }
    empty(changed)
}

pub(super) fn delete_job(st: &mut State, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let force = q.flag("force")?;
    q.namespace(C)?;
    with_events(st, |r, now, sink| r.delete_job(&id, force, now, sink)).on(C)?;
    // Without a deletion delay the job is removed now, as part of DeleteJob (with a delay, by
    // the step of the clock that reaches it: the clock task, or POST /_emulator/clock).
    st.tick();
    empty(true)
}

/// ListJobs, in creation order (then job id): a page reads the jobs after the token's key in
/// the state's [`JobOrder`](crate::state::JobOrder) (with `thingGroupName`, in the group's
/// jobs, kept in the same order by the state's [`GroupIndex`](crate::state::GroupIndex)) until
/// it has its `maxResults` and one more (which says that more follow), or it has read
/// [`LOOKS_PER_PAGE`] jobs.
pub(super) fn list_jobs(st: &mut State, q: &Query<'_>) -> Result<Reply, ApiError> {
    let max = q.max_results()?;
    let status: Option<JobStatus> = q.parse("status")?;
    let selection: Option<TargetSelection> = q.parse("targetSelection")?;
    let namespace = q.namespace(C)?;
    let group = q.get("thingGroupName").map(group_name).transpose()?;
    // `thingGroupId` names the group by its id: one no group has lists nothing.
    let by_id = match q.get("thingGroupId") {
        None => None,
        Some(i) => {
            limits::thing_group_id(i)?;
            let named = st.meta.groups.iter().find(|(_, g)| g.id == i).map(|(n, _)| n.clone());
            Some(named.unwrap_or_default())
        }
    };
    let group = match (group, by_id) {
        (Some(g), Some(i)) if g != i => Some(String::new()),
        (g, i) => g.or(i),
    };
    let after = q.after("ListJobs")?;
    let after =
        after.as_deref().map(|k| created_key(k).ok_or_else(|| token::not_for("ListJobs"))).transpose()?;
    let passes = |j: &JobView<'_>| {
        status.is_none_or(|s| j.status() == s)
            && selection.is_none_or(|s| j.target_selection() == s)
            && (namespace.is_none() || j.namespace() == namespace.as_ref())
    };
    let mut page = Vec::new();
    let next_token = match group {
        None => {
            let jobs =
                st.job_order().after(after).filter_map(|(k, h)| Some((k, st.registry.job_by_handle(h)?)));
            token::filtered_page(jobs, max, LOOKS_PER_PAGE, &mut page, passes)
        }
        Some(g) => {
            let from = match after {
                Some((time, id)) => Bound::Excluded((time, id.to_owned())),
                None => Bound::Unbounded,
            };
            let targeting = st.group_index().jobs_targeting(&g).into_iter();
            let jobs = targeting.flat_map(|jobs| jobs.range((from.clone(), Bound::Unbounded))).filter_map(
                |(t, id)| Some(((*t, id.as_str()), st.registry.job(&JobId::new(id).ok()?).ok()?)),
            );
            token::filtered_page(jobs, max, LOOKS_PER_PAGE, &mut page, passes)
        }
    }
    .map(|k| Token::After(created_token(k)).encode());
    let next_token = q.bind(next_token);
    let jobs = page
        .into_iter()
        .map(|j| wire::JobSummary {
            job_arn: st.arns.job(j.id().as_str()),
            job_id: j.id().to_string(),
            target_selection: j.target_selection().as_str(),
            status: j.status().as_str(),
            created_at: j.created_at().secs(),
            last_updated_at: j.last_updated_at().secs(),
            completed_at: j.completed_at().map(Timestamp::secs),
            is_concurrent: j.is_concurrent(),
        })
        .collect();
    reply(&wire::ListJobsOut { jobs, next_token }, false)
}

/// The key of a listing in creation order (ListJobs, ListJobTemplates) as a token's: 16 hex
/// digits of the time, then the id.
pub(super) fn created_token((time, id): (u64, &str)) -> String {
    format!("{time:016x}{id}")
}

/// The (creation time, id) of a token's key made by [`created_token`].
pub(super) fn created_key(key: &str) -> Option<(u64, &str)> {
    let (time, id) = key.split_at_checked(16).filter(|(_, id)| !id.is_empty())?;
    Some((u64::from_str_radix(time, 16).ok()?, id))
}

pub(super) fn get_job_document(st: &mut State, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let before = q.flag("beforeSubstitution")?;
    st.registry.job(&id).on(C)?;
    // Before substitution: a managed template's document as the template has it (SPEC AMBIG-31).
    let document = st.meta.jobs.get(job).and_then(|m| {
        if before {
            m.document_before_substitution.clone().or(m.document.clone())
        } else {
            m.document.clone()
        }
    });
    reply(&wire::GetJobDocumentOut { document }, false)
}

pub(super) fn cancel_job(st: &mut State, job: &str, q: &Query<'_>, body: &[u8]) -> Result<Reply, ApiError> {
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

pub(super) fn associate_targets(
    st: &mut State,
    job: &str,
    q: &Query<'_>,
    body: &[u8],
) -> Result<Reply, ApiError> {
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
    let (named, members, groups, direct) = resolve_targets(st, &targets)?;
    // SPEC §2, §6: a CONTINUOUS job IN_PROGRESS, and at most 100 target ARNs in all, each kept
    // once (the registry counts the things named, not the groups' things, and decides the same
    // rule on them).
    let view = st.registry.job(&id).on(C)?;
    let (status, selection, rolling_out) = (view.status(), view.target_selection(), view.is_concurrent());
    let known = st.meta.jobs.get(job).map_or(&[][..], |m| m.targets.as_slice());
    let mut fresh: Vec<String> = Vec::new();
    for t in &targets {
        if !known.contains(t) && !fresh.contains(t) {
            fresh.push(t.clone());
        }
    }
    // Whether the targets wait for the rollout (SPEC R26) is the registry's to apply.
    rules::associate_targets(status, selection, known.len().saturating_add(fresh.len()), rolling_out)
        .on(C)?;
    with_events(st, |r, now, sink| r.add_targets_and_members(&id, &named, &members, now, sink)).on(C)?;
    st.target_groups(job, groups);
    let m = st.meta.jobs.entry(job.to_owned()).or_default();
    m.targets.extend(fresh);
    m.things.extend(direct);
    if input.comment.is_some() {
        m.comment = input.comment;
    }
    let description = m.description.clone();
    reply(&wire::JobRef { job_arn: st.arns.job(job), job_id: job.to_owned(), description }, true)
}
