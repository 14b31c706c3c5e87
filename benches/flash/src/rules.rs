//! Every decision function of `iot_jobs_core::rules` on opaque inputs (no error formatting).

use iot_jobs_core::rules::{self, Actor};

use crate::{RuleInputs, keep};

pub fn exercise(b: &[u8; 1024]) {
    let r = RuleInputs::new(b);

    keep(
        rules::cancel_job(r.job, r.force, &r.policy)
            .map(|c| rules::cancel_job_execution_effect(r.exec, c.scope)),
    );
    keep(rules::delete_job(r.job, r.force, usize::from(b[17])));
    keep(rules::cancel_execution(r.state, r.force, r.expected));
    keep(rules::delete_execution(r.state, r.force, &r.policy));
    keep(rules::update_execution(r.state, r.requested, r.expected, &r.policy));
    keep(rules::start_next(if b[18] & 1 == 1 { Some(r.state) } else { None }));
    keep(rules::describe_execution(r.state, r.plane, &r.policy));
    keep(rules::version_after(r.version, Actor::Device, &r.policy));
    keep(rules::next_execution_number(r.number, r.number, &r.policy));
    keep(rules::associate_targets(r.job, r.selection, usize::from(b[19]), b[18] & 2 == 2));
    keep(rules::job_id_available(if b[20] & 1 == 1 { Some(r.job) } else { None }));
    keep(rules::create_job(r.force));
    keep(rules::pending_rank(r.exec));
    keep(rules::remove_target(r.exec, &r.policy));
    keep(rules::job_completes(r.job, r.selection, r.force, b[21] & 1 == 1));
    keep(rules::listed_to_device(r.job, r.exec));
}
