//! Executions on the control plane: list, describe, cancel, delete.

use super::*;

pub(super) fn list_for_job(st: &mut State, job: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let id = job_id(job, C)?;
    let status: Option<ExecutionStatus> = q.parse("status")?;
    let (max, from) = (q.max_results()?, q.cursor()?);
    let prefix = st.arns.thing_prefix_json();
    let mut out = wire::Summaries::with_capacity(max, prefix.len().saturating_add(ThingName::MAX_LEN));
    let next = st
        .registry
        .list_for_job(&id, status, from, max, |v| {
            out.push_for_job(&prefix, v.thing_name().as_str(), &wire::ExecutionSummary::new(&v));
        })
        .on(C)?;
    let next_token = q.bind(next.map(|c| Token::Cursor(c).encode()));
    Ok(Reply { body: out.finish(next_token.as_deref()), changed: false })
}

pub(super) fn list_for_thing(st: &mut State, thing: &str, q: &Query<'_>) -> Result<Reply, ApiError> {
    let name = thing_name(thing, C)?;
    let status: Option<ExecutionStatus> = q.parse("status")?;
    let max = q.max_results()?;
    let namespace = q.namespace(C)?;
    let job = q.get("jobId").map(|j| job_id(j, C)).transpose()?;
    let mut out = wire::Summaries::with_capacity(max, JobId::MAX_LEN);
    let mut push =
        |v: &ExecutionView<'_>| out.push_for_thing(v.job_id().as_str(), &wire::ExecutionSummary::new(v));
    if job.is_none() && namespace.is_none() {
        let next = st.registry.list_for_thing(&name, status, q.cursor()?, max, |v| push(&v)).on(C)?;
        let next_token = q.bind(next.map(|c| Token::Cursor(c).encode()));
        return Ok(Reply { body: out.finish(next_token.as_deref()), changed: false });
    }
    // Filters the core's listing does not have: the core reads up to `LOOKS_PER_PAGE` executions
    // from the token's cursor (those its status filter passes); the page is the first `max` of
    // them that pass these too, and the next token the cursor of the one after those, or of the
    // one after the last read when the looks ran out first (a short page, perhaps empty).
    let mut page = Vec::with_capacity(max);
    let mut next = None;
    let stopped = st
        .registry
        .list_for_thing(&name, status, q.cursor()?, LOOKS_PER_PAGE, |v| {
            let passes = job.as_ref().is_none_or(|j| v.job_id() == j)
                && (namespace.is_none() || v.job_namespace() == namespace.as_ref());
            if next.is_none() && passes {
                if page.len() < max {
                    page.push(v.handle());
                } else {
                    next = Some(Cursor::at(v.handle()));
                }
            }
        })
        .on(C)?;
    page.into_iter().filter_map(|h| st.registry.execution(h)).for_each(|v| push(&v));
    let next_token = q.bind(next.or(stopped).map(|c| Token::Cursor(c).encode()));
    Ok(Reply { body: out.finish(next_token.as_deref()), changed: false })
}

pub(super) fn execution_number(q: &Query<'_>, plane: Plane) -> Result<Option<ExecutionNumber>, ApiError> {
    q.get("executionNumber").map(ExecutionNumber::try_from).transpose().on(plane)
}

pub(super) fn describe_execution(
    st: &mut State,
    thing: &str,
    job: &str,
    q: &Query<'_>,
) -> Result<Reply, ApiError> {
    let (name, id) = (thing_name(thing, C)?, job_id(job, C)?);
    let number = execution_number(q, C)?;
    let v = st.registry.describe_execution(&id, &name, number, C).on(C)?;
    reply(&wire::DescribeExecutionOut { execution: wire::ExecutionOut::new(&v, &st.arns, st.now()) }, false)
}

pub(super) fn cancel_execution(
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
    with_events(st, |r, now, sink| {
        r.cancel_execution(&id, &name, force, expected, details.as_ref(), now, sink)
    })
    .on(C)
    .map_err(|e| with_details(st, e, &id, &name, None))?;
    empty(true)
}

pub(super) fn delete_execution(
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
    if st.outbox.is_some() {
        // Its `deleted` event is rendered once the registry has dropped it.
        if let Ok(v) = st.registry.describe_execution(&id, &name, Some(number), Plane::Control) {
            st.removed.keep_execution(&v);
        }
    }
    with_events(st, |r, now, sink| r.delete_execution(&id, &name, number, force, now, sink)).on(C)?;
    empty(true)
}
