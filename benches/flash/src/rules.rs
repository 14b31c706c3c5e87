//! Every decision function of `iot_jobs_core::rules` on opaque inputs (no error formatting).

use iot_jobs_core::rules::{self, Actor};

use crate::{RuleInputs, keep};

pub fn exercise(b: &[u8; 1024]) {
    let RuleInputs {
        job,
        exec,
        requested,
        selection,
        force,
        version,
        expected,
        state,
        policy,
        plane,
        number,
    } = RuleInputs::new(b);

    keep(rules::cancel_job(job, force, &policy).map(|c| rules::cancel_job_execution_effect(exec, c.scope)));
    keep(rules::delete_job(job, force, usize::from(b[17])));
    keep(rules::cancel_execution(state, force, expected));
    keep(rules::delete_execution(state, force, &policy));
    keep(rules::update_execution(state, requested, expected, &policy));
    keep(rules::start_next(if b[18] & 1 == 1 { Some(state) } else { None }));
    keep(rules::describe_execution(state, plane, &policy));
    keep(rules::version_after(version, Actor::Device, &policy));
    keep(rules::next_execution_number(number, number, &policy));
    keep(rules::associate_targets(job, selection, usize::from(b[19])));
    keep(rules::job_id_available(if b[20] & 1 == 1 { Some(job) } else { None }));
    keep(rules::create_job(force));
    keep(rules::pending_rank(exec));
    keep(rules::remove_target(exec, &policy));
    keep(rules::job_completes(job, selection, force, b[21] & 1 == 1));
    keep(rules::listed_to_device(job, exec));
}
