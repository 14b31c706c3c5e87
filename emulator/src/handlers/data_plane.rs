//! The jobs data plane (iot-jobs-data): GetPending, StartNext, Describe, Update. The same
//! functions answer the MQTT device API (SPEC §7.1): only the [`Flavor`] of the messages differs.

use iot_jobs_core::wire::GetPendingRequest;

use super::*;
use crate::wire::data::{Form, parse_in};

/// The job's stored document in its wire form, if it has one.
pub(super) fn document<'s>(st: &'s State, job: &JobId) -> Option<data::Document<'s>> {
    st.meta.jobs.get(job.as_str()).and_then(|m| m.document.as_deref()).map(data::Document::new)
}

fn form<'t>(st: &State, flavor: Flavor, client_token: Option<&'t str>) -> Form<'t> {
    Form { flavor, timestamp: st.now(), client_token }
}

/// GetPendingJobExecutions; `body` is the MQTT payload (empty over HTTP).
pub fn pending(st: &mut State, thing: &str, body: &[u8], flavor: Flavor) -> Result<Reply, ApiError> {
    let name = thing_name(thing, D)?;
    let mut scratch = Vec::new();
    let input = parse_in(flavor, body, &mut scratch, GetPendingRequest::parse_as)?;
    let mut handles = Vec::new();
    st.registry.pending(&name, |v| handles.push(v.handle())).on(D)?;
    let form = form(st, flavor, input.client_token);
    let body = data::pending_body(handles.into_iter().filter_map(|h| st.registry.execution(h)), form)?;
    Ok(Reply { body, changed: false })
}

/// StartNextPendingJobExecution.
pub fn start_next(st: &mut State, thing: &str, body: &[u8], flavor: Flavor) -> Result<Reply, ApiError> {
    let name = thing_name(thing, D)?;
    let mut scratch = Vec::new();
    let input = parse_in(flavor, body, &mut scratch, StartNextRequest::parse_as)?;
    let details = input.status_details.as_ref();
    let (handle, events) = with_events(st, |r, now, sink| {
        let handle = r.start_next(&name, details, input.step_timeout, now, sink)?;
        Ok((handle, !sink.0.is_empty()))
    })
    .on(D)?;
    let view = handle.and_then(|h| st.registry.execution(h));
    let doc = view.and_then(|v| document(st, v.job_id()));
    let body =
        data::execution_body(view.as_ref(), doc.as_ref(), st.now(), form(st, flavor, input.client_token))?;
    Ok(Reply { body, changed: events || handle.is_some() })
}

/// DescribeJobExecution over HTTP: the request's members are query parameters (SPEC §4.3:
/// includeJobDocument defaults to true).
pub(super) fn describe_data(
    st: &mut State,
    thing: &str,
    job: &str,
    q: &Query<'_>,
) -> Result<Reply, ApiError> {
    let input = DescribeRequest {
        execution_number: execution_number(q, D)?,
        include_job_document: q.opt_flag("includeJobDocument")?.unwrap_or(true),
        client_token: None,
    };
    describe(st, thing, job, &input, Flavor::Http)
}

/// DescribeJobExecution; `job` may be `$next`.
pub fn describe(
    st: &mut State,
    thing: &str,
    job: &str,
    input: &DescribeRequest<'_>,
    flavor: Flavor,
) -> Result<Reply, ApiError> {
    let name = thing_name(thing, D)?;
    let view = if job == "$next" {
        st.registry.next_pending(&name).on(D)?
    } else {
        let id = job_id(job, D)?;
        Some(st.registry.describe_execution(&id, &name, input.execution_number, D).on(D)?)
    };
    let doc = view.filter(|_| input.include_job_document).and_then(|v| document(st, v.job_id()));
    let body =
        data::execution_body(view.as_ref(), doc.as_ref(), st.now(), form(st, flavor, input.client_token))?;
    Ok(Reply { body, changed: false })
}

/// UpdateJobExecution.
pub fn update_execution(
    st: &mut State,
    thing: &str,
    job: &str,
    body: &[u8],
    flavor: Flavor,
) -> Result<Reply, ApiError> {
    let (name, id) = (thing_name(thing, D)?, job_id(job, D)?);
    let mut scratch = Vec::new();
    let input = parse_in(flavor, body, &mut scratch, UpdateRequest::parse_as)?;
    let update = Update {
        status: input.status,
        status_details: input.status_details.as_ref(),
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
    let state = with_events(st, |r, now, sink| r.update_execution(&id, &name, &update, now, sink))
        .on(D)
        .map_err(|e| with_details(st, e, &id, &name, input.execution_number))?;
    let view = want_state.then(|| st.registry.describe_execution(&id, &name, number, C).ok()).flatten();
    let doc = if input.include_job_document { document(st, &id) } else { None };
    let form = form(st, flavor, input.client_token);
    let body = data::update_body(want_state.then_some((state, view.as_ref())), doc.as_ref(), form)?;
    Ok(Reply { body, changed: true })
}
