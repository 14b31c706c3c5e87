//! A refused registry call as the Python exception of its AWS error, naming the resource that
//! does not exist or exists already.

use iot_jobs_core::registry::{Registry, Storage};
use iot_jobs_core::{Plane, Rejection, Resource, ThingName};
use pyo3::prelude::*;

use crate::convert::{rejected, rejected_named};

/// The ids a registry call was given, to name the resource of its `ResourceNotFoundException`
/// or `ResourceAlreadyExistsException`.
#[derive(Clone, Copy)]
pub(super) struct Ids<'a> {
    job: Option<&'a str>,
    thing: Option<&'a str>,
}

impl<'a> Ids<'a> {
    pub(super) const fn job(job: &'a str) -> Self {
        Self { job: Some(job), thing: None }
    }
    pub(super) const fn thing(thing: &'a str) -> Self {
        Self { job: None, thing: Some(thing) }
    }
    pub(super) const fn both(job: &'a str, thing: &'a str) -> Self {
        Self { job: Some(job), thing: Some(thing) }
    }
    /// The job, and the first of `things` that `reg` does not know: what a `NotFound` thing of a
    /// call given several things is about.
    pub(super) fn job_and_unknown<S: Storage>(
        job: &'a str,
        reg: &Registry<S>,
        things: impl IntoIterator<Item = &'a ThingName>,
    ) -> Self {
        let unknown = things.into_iter().find(|t| reg.thing(t).is_none());
        Self { job: Some(job), thing: unknown.map(ThingName::as_str) }
    }

    /// The resource's id (an execution's is `job/thing`) and its words in the message.
    fn name(self, r: Resource) -> Option<(String, String)> {
        match (r, self.job, self.thing) {
            (Resource::Job, Some(j), _) => Some((j.to_owned(), format!("job {j}"))),
            (Resource::Thing, _, Some(t)) => Some((t.to_owned(), format!("thing {t}"))),
            (Resource::Execution, Some(j), Some(t)) => {
                Some((format!("{j}/{t}"), format!("job execution of job {j} on thing {t}")))
            }
            (Resource::Job | Resource::Thing | Resource::Execution, _, _) => None,
        }
    }
}

/// `OrRaise` for a registry call: a refusal that a resource does not exist or exists already
/// names it (`"the job j1 does not exist"`) and carries it as `resource_id`.
pub(super) trait OrRaiseFor<T> {
    fn or_raise_for(self, py: Python<'_>, on: Plane, ids: Ids<'_>) -> PyResult<T>;
}

impl<T> OrRaiseFor<T> for Result<T, Rejection> {
    fn or_raise_for(self, py: Python<'_>, on: Plane, ids: Ids<'_>) -> PyResult<T> {
        self.map_err(|r| {
            let named = if let Rejection::NotFound(res) = r {
                ids.name(res).map(|(id, n)| (id, format!("the {n} does not exist")))
            } else if let Rejection::AlreadyExists(res) = r {
                ids.name(res).map(|(id, n)| (id, format!("the {n} already exists")))
            } else {
                None
            };
            match named {
                Some((id, message)) => rejected_named(py, r, on, message, id),
                None => rejected(py, r, on),
            }
        })
    }
}
