//! `iot_jobs_core._native`: the extension behind the `iot_jobs_core` Python package.
//!
//! Everything here is a thin translation of the `iot-jobs-core` crate: the decisions, the
//! validators, the registry, the topics and the conformance tables are the crate's own; this
//! crate only converts arguments and results, and turns a `Rejection` into the Python exception
//! of its AWS error (`convert::rejected`). The package's Python modules (`python/iot_jobs_core`)
//! give the enums, exceptions and records their Python shape.

mod config;
mod conformance;
mod convert;
mod ids;
mod lifecycle;
mod messages;
mod parameters;
mod policy;
mod registry;
mod rules;
mod schedule;
mod topics;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<policy::PyPolicy>()?;
    m.add_class::<ids::PyJobId>()?;
    m.add_class::<ids::PyThingName>()?;
    m.add_class::<ids::PyNamespaceId>()?;
    m.add_class::<ids::PyReasonCode>()?;
    m.add_class::<registry::PyRegistry>()?;
    m.add_function(wrap_pyfunction!(ids::validate_status_details, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_status_is_terminal, m)?)?;
    m.add_function(wrap_pyfunction!(rules::execution_status_flags, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(rules::execution_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(rules::exception_statuses, m)?)?;
    m.add_function(wrap_pyfunction!(rules::delete_job, m)?)?;
    m.add_function(wrap_pyfunction!(rules::delete_execution, m)?)?;
    m.add_function(wrap_pyfunction!(rules::cancel_execution, m)?)?;
    m.add_function(wrap_pyfunction!(rules::update_execution, m)?)?;
    m.add_function(wrap_pyfunction!(rules::cancel_job, m)?)?;
    m.add_function(wrap_pyfunction!(rules::cancel_job_execution_effect, m)?)?;
    m.add_function(wrap_pyfunction!(rules::create_job, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_id_available, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_completes, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_holds, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_targets, m)?)?;
    m.add_function(wrap_pyfunction!(rules::job_event_status, m)?)?;
    m.add_function(wrap_pyfunction!(rules::listed_in_namespace, m)?)?;
    m.add_function(wrap_pyfunction!(rules::associate_targets, m)?)?;
    m.add_function(wrap_pyfunction!(rules::group_join, m)?)?;
    m.add_function(wrap_pyfunction!(rules::group_leave, m)?)?;
    m.add_function(wrap_pyfunction!(rules::pending_rank, m)?)?;
    m.add_function(wrap_pyfunction!(rules::listed_to_device, m)?)?;
    m.add_function(wrap_pyfunction!(rules::start_next, m)?)?;
    m.add_function(wrap_pyfunction!(rules::describe_execution, m)?)?;
    m.add_function(wrap_pyfunction!(rules::remove_target, m)?)?;
    m.add_function(wrap_pyfunction!(rules::remove_thing, m)?)?;
    m.add_function(wrap_pyfunction!(rules::device_access, m)?)?;
    m.add_function(wrap_pyfunction!(rules::unknown_thing, m)?)?;
    m.add_function(wrap_pyfunction!(rules::queue_on_rejoin, m)?)?;
    m.add_function(wrap_pyfunction!(rules::notifies, m)?)?;
    m.add_function(wrap_pyfunction!(rules::version_after, m)?)?;
    m.add_function(wrap_pyfunction!(rules::next_execution_number, m)?)?;
    m.add_function(wrap_pyfunction!(rules::merge_details, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::retry_failure, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::job_retries, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::retry, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::job_aborts, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::job_is_concurrent, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::abort_due, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::update_job_config, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::schedule_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::job_config_from_template, m)?)?;
    m.add_function(wrap_pyfunction!(lifecycle::template_sources, m)?)?;
    m.add_function(wrap_pyfunction!(rules::notify_topics, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::ramp_up, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::ramp_batch, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::starts_in_window, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::schedule_event, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::next_job_event, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::batch_on_start, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::end_passed, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::starts_scheduled, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::end_behavior, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::rollout_batch, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::rollout_reaches, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::next_batch_at, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::maintenance_window, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::window, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::timer_on_status, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::in_progress_deadline, m)?)?;
    m.add_function(wrap_pyfunction!(schedule::step_deadline, m)?)?;
    m.add_function(wrap_pyfunction!(conformance::conformance_table, m)?)?;
    m.add_function(wrap_pyfunction!(conformance::conformance_constants, m)?)?;
    m.add_function(wrap_pyfunction!(conformance::conformance_tables, m)?)?;
    m.add_function(wrap_pyfunction!(messages::canonical_message, m)?)?;
    m.add_function(wrap_pyfunction!(messages::message_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(topics::parse_topic, m)?)?;
    m.add_function(wrap_pyfunction!(topics::build_topic, m)?)?;
    m.add_function(wrap_pyfunction!(parameters::document_placeholders, m)?)?;
    m.add_function(wrap_pyfunction!(parameters::substitute_parameters, m)?)?;
    m.add("PARAMETER_PREFIX", parameters::PREFIX)?;
    m.add("MAX_JOBS_DELETING", iot_jobs_core::rules::MAX_JOBS_DELETING)?;
    m.add("MAX_TARGETS_PER_JOB", iot_jobs_core::rules::MAX_TARGETS_PER_JOB)?;
    m.add("LATEST_TIME", iot_jobs_core::registry::LATEST_TIME.secs())?;
    Ok(())
}
