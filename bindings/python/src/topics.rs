//! The jobs topics (SPEC §7): parse any topic into its parts, build one from its parts.

use iot_jobs_core::Plane;
use iot_jobs_core::topic::{
    ExecutionEvent, JobEvent, JobIdRef, JobSelector, NamespaceIdRef, Reply, ThingNameRef, Topic,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;

use crate::convert::OrRaise;

/// A parsed topic: `(kind, thing, job, namespace, reply, event)`; absent parts are `None`.
type Parts = (
    &'static str,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<&'static str>,
    Option<&'static str>,
);

fn own(s: &str) -> Option<String> {
    Some(s.to_owned())
}

fn ns(n: Option<NamespaceIdRef<'_>>) -> Option<String> {
    n.map(|n| n.as_str().to_owned())
}

fn reply_str(r: Option<Reply>) -> Option<&'static str> {
    r.map(Reply::as_str)
}

/// Parses a jobs topic (SPEC §7) into `(kind, thing, job, namespace, reply, event)`; `kind` is
/// one of `get_pending`, `start_next`, `describe`, `update`, `notify`, `notify_next`,
/// `documented_notify`, `job_event`, `execution_event`. Raises `ValueError` for any other topic,
/// saying where it goes wrong.
#[pyfunction]
pub fn parse_topic(topic: PyBackedStr) -> PyResult<Parts> {
    let t = Topic::parse(&topic).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(match t {
        Topic::GetPending { thing, reply } => {
            ("get_pending", own(thing.as_str()), None, None, reply_str(reply), None)
        }
        Topic::StartNext { thing, reply } => {
            ("start_next", own(thing.as_str()), None, None, reply_str(reply), None)
        }
        Topic::Describe { thing, job, namespace, reply } => {
            ("describe", own(thing.as_str()), own(job.as_str()), ns(namespace), reply_str(reply), None)
        }
        Topic::Update { thing, job, namespace, reply } => {
            ("update", own(thing.as_str()), own(job.as_str()), ns(namespace), reply_str(reply), None)
        }
        Topic::Notify { thing, namespace } => {
            ("notify", own(thing.as_str()), None, ns(namespace), None, None)
        }
        Topic::NotifyNext { thing, namespace } => {
            ("notify_next", own(thing.as_str()), None, ns(namespace), None, None)
        }
        Topic::DocumentedNotify { thing, job, namespace } => {
            ("documented_notify", own(thing.as_str()), own(job.as_str()), own(namespace.as_str()), None, None)
        }
        Topic::JobEvent { job, event } => {
            ("job_event", None, own(job.as_str()), None, None, Some(event.as_str()))
        }
        Topic::ExecutionEvent { job, event } => {
            ("execution_event", None, own(job.as_str()), None, None, Some(event.as_str()))
        }
    })
}

fn parse_reply(r: Option<&str>) -> PyResult<Option<Reply>> {
    match r {
        None => Ok(None),
        Some("accepted") => Ok(Some(Reply::Accepted)),
        Some("rejected") => Ok(Some(Reply::Rejected)),
        Some(other) => {
            Err(PyValueError::new_err(format!("reply must be \"accepted\" or \"rejected\", not {other:?}")))
        }
    }
}

fn need<'a>(what: &str, kind: &str, v: Option<&'a str>) -> PyResult<&'a str> {
    v.ok_or_else(|| PyValueError::new_err(format!("a {kind} topic needs {what}")))
}

/// The parts each topic kind is built from (as `parse_topic` gives them back), or `None` for an
/// unknown kind.
fn parts_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "get_pending" | "start_next" => &["thing", "reply"],
        "describe" | "update" => &["thing", "job", "namespace", "reply"],
        "notify" | "notify_next" => &["thing", "namespace"],
        "documented_notify" => &["thing", "job", "namespace"],
        "job_event" | "execution_event" => &["job", "event"],
        _ => return None,
    })
}

/// Refuses a part the kind does not use, naming both, rather than leaving it out of the topic.
fn refuse_unused(kind: &str, given: [(&str, bool); 5]) -> PyResult<()> {
    let Some(parts) = parts_of(kind) else {
        return Err(PyValueError::new_err(format!("{kind:?} is not a topic kind")));
    };
    match given.into_iter().find(|(name, present)| *present && !parts.contains(name)) {
        Some((name, _)) => Err(PyValueError::new_err(format!(
            "a {kind} topic has no {name} (it is built from {}); leave {name} out",
            parts.join(", ")
        ))),
        None => Ok(()),
    }
}

/// Builds a jobs topic from its parts (the inverse of [`parse_topic`]); every id is validated
/// (`InvalidFieldError`), a missing or unknown part, or a part the kind does not use, raises
/// `ValueError`.
#[pyfunction]
#[pyo3(signature = (kind, thing = None, job = None, namespace = None, reply = None, event = None))]
pub fn build_topic(
    py: Python<'_>,
    kind: PyBackedStr,
    thing: Option<PyBackedStr>,
    job: Option<PyBackedStr>,
    namespace: Option<PyBackedStr>,
    reply: Option<PyBackedStr>,
    event: Option<PyBackedStr>,
) -> PyResult<String> {
    let kind: &str = &kind;
    refuse_unused(
        kind,
        [
            ("thing", thing.is_some()),
            ("job", job.is_some()),
            ("namespace", namespace.is_some()),
            ("reply", reply.is_some()),
            ("event", event.is_some()),
        ],
    )?;
    let thing_s = thing.as_deref();
    let job_s = job.as_deref();
    let ns_s = namespace.as_deref();
    let th = || -> PyResult<ThingNameRef<'_>> {
        ThingNameRef::new(need("a thing", kind, thing_s)?).or_raise(py, Plane::Data)
    };
    let jb =
        || -> PyResult<JobIdRef<'_>> { JobIdRef::new(need("a job", kind, job_s)?).or_raise(py, Plane::Data) };
    let nsr = || -> PyResult<Option<NamespaceIdRef<'_>>> {
        ns_s.map(|n| NamespaceIdRef::new(n).or_raise(py, Plane::Data)).transpose()
    };
    let r = parse_reply(reply.as_deref())?;
    let ev = event.as_deref();
    let topic = match kind {
        "get_pending" => Topic::GetPending { thing: th()?, reply: r },
        "start_next" => Topic::StartNext { thing: th()?, reply: r },
        "describe" => {
            let job = JobSelector::new(need("a job", kind, job_s)?).or_raise(py, Plane::Data)?;
            Topic::Describe { thing: th()?, job, namespace: nsr()?, reply: r }
        }
        "update" => Topic::Update { thing: th()?, job: jb()?, namespace: nsr()?, reply: r },
        "notify" => Topic::Notify { thing: th()?, namespace: nsr()? },
        "notify_next" => Topic::NotifyNext { thing: th()?, namespace: nsr()? },
        "documented_notify" => {
            let namespace =
                NamespaceIdRef::new(need("a namespace", kind, ns_s)?).or_raise(py, Plane::Data)?;
            Topic::DocumentedNotify { thing: th()?, job: jb()?, namespace }
        }
        "job_event" => {
            let e = need("an event", kind, ev)?;
            let event = JobEvent::ALL
                .into_iter()
                .find(|x| x.as_str() == e)
                .ok_or_else(|| PyValueError::new_err(format!("{e:?} is not a job event")))?;
            Topic::JobEvent { job: jb()?, event }
        }
        "execution_event" => {
            let e = need("an event", kind, ev)?;
            let event = ExecutionEvent::ALL
                .into_iter()
                .find(|x| x.as_str() == e)
                .ok_or_else(|| PyValueError::new_err(format!("{e:?} is not a job execution event")))?;
            Topic::ExecutionEvent { job: jb()?, event }
        }
        other => return Err(PyValueError::new_err(format!("{other:?} is not a topic kind"))),
    };
    Ok(topic.to_string())
}
