//! The data plane (`iot-jobs-data`) over the core's wire: request bodies are parsed and response
//! bodies rendered by `iot_jobs_core::wire` in its HTTP [`Flavor`], the same parser and renderer
//! the MQTT device API uses, so that both transports read and write the same values. This
//! module only fills the core's message types from registry views and stored job documents.

use iot_jobs_core::StatusDetails;
use iot_jobs_core::registry::ExecutionView;
use iot_jobs_core::wire::{
    ExecutionResponse, Flavor, GetPendingResponse, JobDocument, JobExecution, JobExecutionState,
    JobExecutionSummary, JobExecutionsChanged, MAX_GET_PENDING_RESPONSE_LEN, MAX_JOB_EXECUTIONS_CHANGED_LEN,
    MAX_RESPONSE_LEN_WITHOUT_DOCUMENT, NextJobExecutionChanged, SummaryList, UpdateResponse, WireError,
};
use iot_jobs_core::{ExecutionState, ExecutionStatus, Timestamp};

use super::ApiError;

/// The signature of the core's `T::parse_as`.
type ParseAs<'a, T> = fn(&'a [u8], &'a mut [u8], Flavor) -> Result<T, WireError>;

/// Parses a request body with the core's `T::parse_as` in the HTTP flavour (an empty body is
/// `{}`). `scratch` receives unescaped strings; it is allocated only when the body has escapes.
pub fn parse<'a, T>(
    body: &'a [u8],
    scratch: &'a mut Vec<u8>,
    parse_as: ParseAs<'a, T>,
) -> Result<T, ApiError> {
    parse_in(Flavor::Http, body, scratch, parse_as)
}

/// [`parse`] in the form `flavor` gives the message (an MQTT payload is one JSON object).
pub fn parse_in<'a, T>(
    flavor: Flavor,
    body: &'a [u8],
    scratch: &'a mut Vec<u8>,
    parse_as: ParseAs<'a, T>,
) -> Result<T, ApiError> {
    if body.contains(&b'\\') {
        // Unescaping never lengthens a string: the body's length always suffices.
        scratch.resize(body.len(), 0);
    }
    parse_as(body, scratch.as_mut_slice(), flavor).map_err(ApiError::wire)
}

/// How an answer is written: the transport's form of the message and the members only the MQTT
/// form has (`timestamp`, the request's `clientToken` echoed; the HTTP form leaves them out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form<'t> {
    /// The transport.
    pub flavor: Flavor,
    /// `timestamp`: the clock's time of the answer.
    pub timestamp: Timestamp,
    /// `clientToken` of the request.
    pub client_token: Option<&'t str>,
}

/// The first buffer a response is rendered into; a response that does not fit is rendered again
/// into a buffer of its bound (the core's `MAX_*` constants), so that common responses do not pay
/// for the worst case (ten statusDetails pairs of the longest values).
const FIRST_TRY: usize = 4096;

/// Renders with `serialize` (a message's `serialize_as` in the HTTP flavour, returning the
/// length written) into a buffer of at most `max` bytes.
fn render(
    max: usize,
    serialize: impl Fn(&mut [u8]) -> Result<usize, WireError>,
) -> Result<Vec<u8>, ApiError> {
    let mut buf = vec![0; max.min(FIRST_TRY)];
    let len = match serialize(&mut buf) {
        Err(WireError::BufferTooSmall) if buf.len() < max => {
            buf = vec![0; max];
            serialize(&mut buf)
        }
        first => first,
    }
    .map_err(ApiError::wire)?;
    buf.truncate(len);
    Ok(buf)
}

/// A job's stored document (CreateJob's `document` text) as the core's [`JobDocument`].
///
/// A text that is one JSON object goes to MQTT clients as that object, without the whitespace
/// around it (AWS embeds the document as an object: SPEC AMBIG-22), and to HTTP clients as a
/// JSON string of the exact text. Any other text CreateJob accepted (an array or another JSON
/// value, or a stored object nested deeper than the core reads) goes to every client as a JSON
/// string literal of the text, made here, so that each reads back exactly the text given.
#[derive(Debug)]
pub enum Document<'t> {
    /// A JSON object: `object` is the text without the whitespace around it; `exact`, when the
    /// text has some, the whole text as a JSON string literal (for the HTTP form).
    Object { object: JobDocument<'t>, exact: Option<String> },
    /// Any other text, as a JSON string literal.
    Literal(String),
}

impl<'t> Document<'t> {
    /// The wire form of `text`.
    pub fn new(text: &'t str) -> Self {
        let literal = || serde_json::Value::from(text).to_string();
        match JobDocument::new(text.as_bytes()) {
            Ok(object) if !object.is_string() => {
                Document::Object { object, exact: (object.as_bytes() != text.as_bytes()).then(literal) }
            }
            Ok(_) | Err(_) => Document::Literal(literal()),
        }
    }

    /// The document as `flavor` carries it.
    fn get(&self, flavor: Flavor) -> Result<JobDocument<'_>, ApiError> {
        match (self, flavor) {
            (Document::Object { object, exact: None }, Flavor::Http | Flavor::Mqtt)
            | (Document::Object { object, exact: Some(_) }, Flavor::Mqtt) => Ok(*object),
            (Document::Object { exact: Some(literal), .. }, Flavor::Http)
            | (Document::Literal(literal), _) => JobDocument::new(literal.as_bytes()).map_err(ApiError::wire),
        }
    }

    fn max_len(document: Option<JobDocument<'_>>, flavor: Flavor) -> usize {
        document.map_or(0, |d| d.max_len(flavor))
    }
}

/// The execution's statusDetails as the core's map, whole (the core's type sets the bounds).
fn details<'r>(v: &ExecutionView<'r>) -> Result<StatusDetails<'r>, ApiError> {
    let pairs: Vec<(&'r str, &'r str)> = v.status_details().collect();
    StatusDetails::new(&pairs).map_err(|e| ApiError::wire(WireError::Field(e)))
}

fn summary<'r>(v: &ExecutionView<'r>) -> JobExecutionSummary<'r> {
    JobExecutionSummary {
        job_id: v.job_id().as_str(),
        queued_at: v.queued_at(),
        started_at: v.started_at(),
        last_updated_at: v.last_updated_at(),
        version_number: v.version(),
        execution_number: v.number(),
    }
}

/// The pending executions as summaries: (IN_PROGRESS, QUEUED).
fn split<'r>(
    pending: impl IntoIterator<Item = ExecutionView<'r>>,
) -> Result<(SummaryList<'r>, SummaryList<'r>), ApiError> {
    let (mut in_progress, mut queued) = (SummaryList::new(), SummaryList::new());
    for v in pending {
        let list = if v.status() == ExecutionStatus::InProgress { &mut in_progress } else { &mut queued };
        list.push(summary(&v))
            .map_err(|_| ApiError::unavailable("more pending executions than a list holds"))?;
    }
    Ok((in_progress, queued))
}

/// GetPendingJobExecutions: the pending executions the registry listed (IN_PROGRESS and QUEUED).
pub fn pending_body<'r>(
    pending: impl IntoIterator<Item = ExecutionView<'r>>,
    form: Form<'_>,
) -> Result<Vec<u8>, ApiError> {
    let (in_progress, queued) = split(pending)?;
    let response = GetPendingResponse {
        in_progress_jobs: in_progress,
        queued_jobs: queued,
        timestamp: Some(form.timestamp),
        client_token: form.client_token,
    };
    render(MAX_GET_PENDING_RESPONSE_LEN, |buf| Ok(response.serialize_as(buf, form.flavor)?.len()))
}

/// The execution of `view` with `document` as the core's message.
fn job_execution<'r>(
    v: &ExecutionView<'r>,
    job_document: Option<JobDocument<'r>>,
    now: Timestamp,
) -> Result<JobExecution<'r>, ApiError> {
    Ok(JobExecution {
        job_id: v.job_id().as_str(),
        thing_name: Some(v.thing_name().as_str()),
        job_document,
        status: v.status(),
        status_details: Some(details(v)?),
        queued_at: v.queued_at(),
        started_at: v.started_at(),
        last_updated_at: v.last_updated_at(),
        version_number: v.version(),
        execution_number: v.number(),
        approximate_seconds_before_timed_out: v.approximate_seconds_before_timed_out(now),
    })
}

/// StartNextPendingJobExecution and DescribeJobExecution: the execution, if any, with its
/// document, if asked for.
pub fn execution_body(
    view: Option<&ExecutionView<'_>>,
    document: Option<&Document<'_>>,
    now: Timestamp,
    form: Form<'_>,
) -> Result<Vec<u8>, ApiError> {
    let job_document = document.map(|d| d.get(form.flavor)).transpose()?;
    let execution = view.map(|v| job_execution(v, job_document, now)).transpose()?;
    let response =
        ExecutionResponse { execution, timestamp: Some(form.timestamp), client_token: form.client_token };
    let max = MAX_RESPONSE_LEN_WITHOUT_DOCUMENT.saturating_add(Document::max_len(job_document, form.flavor));
    render(max, |buf| Ok(response.serialize_as(buf, form.flavor)?.len()))
}

/// `notify` (SPEC §7.2): the thing's pending executions.
pub fn notify_body<'r>(
    pending: impl IntoIterator<Item = ExecutionView<'r>>,
    now: Timestamp,
) -> Result<Vec<u8>, ApiError> {
    let (in_progress, queued) = split(pending)?;
    let message = JobExecutionsChanged { timestamp: now, in_progress, queued };
    render(MAX_JOB_EXECUTIONS_CHANGED_LEN, |buf| Ok(message.serialize(buf)?.len()))
}

/// `notify-next` (SPEC §7.2): the head of the pending list with its document, or none.
pub fn notify_next_body(
    view: Option<&ExecutionView<'_>>,
    document: Option<&Document<'_>>,
    now: Timestamp,
) -> Result<Vec<u8>, ApiError> {
    let job_document = document.map(|d| d.get(Flavor::Mqtt)).transpose()?;
    let execution = view.map(|v| job_execution(v, job_document, now)).transpose()?;
    let message = NextJobExecutionChanged { timestamp: now, execution };
    let max = MAX_RESPONSE_LEN_WITHOUT_DOCUMENT.saturating_add(Document::max_len(job_document, Flavor::Mqtt));
    render(max, |buf| Ok(message.serialize(buf)?.len()))
}

/// UpdateJobExecution: the execution's new `state` with the statusDetails of `view` (the
/// execution after the update; none if it cannot be found), if asked for, and the document, if
/// asked for.
pub fn update_body(
    state: Option<(ExecutionState, Option<&ExecutionView<'_>>)>,
    document: Option<&Document<'_>>,
    form: Form<'_>,
) -> Result<Vec<u8>, ApiError> {
    let job_document = document.map(|d| d.get(form.flavor)).transpose()?;
    let execution_state = state
        .map(|(state, view)| {
            let status_details = view.map(details).transpose()?.unwrap_or_default();
            Ok::<_, ApiError>(JobExecutionState { status_details: Some(status_details), ..state.into() })
        })
        .transpose()?;
    let response = UpdateResponse {
        execution_state,
        job_document,
        timestamp: Some(form.timestamp),
        client_token: form.client_token,
    };
    let max = MAX_RESPONSE_LEN_WITHOUT_DOCUMENT.saturating_add(Document::max_len(job_document, form.flavor));
    render(max, |buf| Ok(response.serialize_as(buf, form.flavor)?.len()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use iot_jobs_core::wire::UpdateRequest;

    use super::*;

    /// The data plane's HTTP path and the MQTT device API read an update request into the same
    /// value: one parser, whichever transport the body came over.
    #[test]
    fn an_update_body_reads_the_same_over_http_and_mqtt() {
        let bodies = [
            r#"{"status":"IN_PROGRESS"}"#,
            r#"{"status":"SUCCEEDED","expectedVersion":"2","executionNumber":7,"includeJobExecutionState":true,
                "includeJobDocument":false,"stepTimeoutInMinutes":-1,"statusDetails":{"step":"done","pct":"100"}}"#,
            r#"{"statusDetails":{"msg":"a \"quoted\" \u20ac \ud83d\ude00","k_1:a-b":"\\"},"status":"FAILED",
                "expectedVersion":3,"unknown":{"nested":[1,null]}}"#,
            r#" { "status" : "REJECTED" , "stepTimeoutInMinutes" : 10080 } "#,
        ];
        for body in bodies {
            let mut scratch = Vec::new();
            let http = parse(body.as_bytes(), &mut scratch, UpdateRequest::parse_as).unwrap();
            let mut mqtt_scratch = vec![0; body.len()];
            let mqtt = UpdateRequest::parse(body.as_bytes(), &mut mqtt_scratch).unwrap();
            assert_eq!(http, mqtt, "{body}");
        }
        let mut scratch = Vec::new();
        let escaped = parse(bodies[2].as_bytes(), &mut scratch, UpdateRequest::parse_as).unwrap();
        let details = escaped.status_details.unwrap();
        assert_eq!(details.get("msg"), Some("a \"quoted\" € 😀"));
        // Bad bodies fail the same way (and as a 400 over HTTP).
        for bad in [
            r#"{"status":"SUCCESS"}"#,
            r#"{"status":3}"#,
            "{not json",
            r#"{"status":"FAILED","statusDetails":{"k":1}}"#,
        ] {
            let http = parse(bad.as_bytes(), &mut Vec::new(), UpdateRequest::parse_as).unwrap_err();
            let mqtt = UpdateRequest::parse(bad.as_bytes(), &mut vec![0; bad.len()]).unwrap_err();
            assert_eq!(http, ApiError::wire(mqtt), "{bad}");
            assert_eq!((http.status, http.name), (400, "InvalidRequestException"), "{bad}");
        }
    }

    #[test]
    fn stored_documents_come_back_as_their_text() {
        let object = r#"{"op":"update","url":"https://example.com/fw.bin"}"#;
        let deep = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        let deepest = deep(JobDocument::MAX_DEPTH);
        let too_deep = deep(JobDocument::MAX_DEPTH + 1);
        for text in [object, deepest.as_str()] {
            assert!(
                matches!(Document::new(text), Document::Object { object, exact: None } if object.as_bytes() == text.as_bytes())
            );
        }
        for text in ["not json", "\"a JSON string\"", "", "[1,2]", too_deep.as_str()] {
            let Document::Literal(literal) = Document::new(text) else { panic!("{text:?} is an object") };
            assert_eq!(serde_json::from_str::<String>(&literal).unwrap(), text);
        }
        // Both planes read back the exact text; MQTT has an object as that object.
        let padded = format!(" {object}\n");
        let objects = [object, padded.as_str(), deepest.as_str()];
        for text in objects.into_iter().chain(["not json", "[1,2]", too_deep.as_str()]) {
            let json = |form| -> serde_json::Value {
                serde_json::from_slice(&update_body(None, Some(&Document::new(text)), form).unwrap()).unwrap()
            };
            assert_eq!(json(HTTP), serde_json::json!({ "jobDocument": text }));
            let mqtt = if objects.contains(&text) {
                serde_json::from_str(text).unwrap()
            } else {
                serde_json::Value::from(text)
            };
            assert_eq!(json(MQTT)["jobDocument"], mqtt, "{text}");
        }
    }

    const HTTP: Form<'static> = Form { flavor: Flavor::Http, timestamp: Timestamp(0), client_token: None };
    const MQTT: Form<'static> = Form { flavor: Flavor::Mqtt, ..HTTP };

    #[test]
    fn a_response_longer_than_the_first_try_is_rendered_again_whole() {
        let long = "x".repeat(3 * FIRST_TRY);
        let document = Document::new(&long);
        let body = update_body(None, Some(&document), HTTP).unwrap();
        assert_eq!(body.len(), r#"{"jobDocument":""}"#.len() + long.len());
        let small = render(10, |buf| {
            assert_eq!(buf.len(), 10);
            Err(WireError::BufferTooSmall)
        });
        assert_eq!(small.unwrap_err().status, 503);
    }
}
