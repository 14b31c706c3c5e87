//! Calls every public function of `iot-jobs-core` on opaque inputs. The panic handler
//! (`harness.rs`, shared with the `benches/flash` binaries) refers to a symbol that does not
//! exist, so this binary links only if the optimiser removed every panic path.
//! Build: `cargo build --release --target thumbv7em-none-eabihf` (see the README).
#![no_std]
#![no_main]

use iot_jobs_core::conformance as table;
use iot_jobs_core::rules;
use iot_jobs_core::{
    Comment, ErrorCode, ExecutionNumber, ExecutionStatus, FailureType, JobEndBehavior, JobId, JobStatus,
    NamespaceId, ReasonCode, Rejection, RetryableFailureType, StatusDetails, StepTimeout, TargetSelection,
    ThingName, VersionNumber,
};

mod agent;
mod harness;
mod json;
mod messages;
mod registry;
mod topic;
mod wire;

use harness::*;

fn vocabulary(inp: &[u8; 1024]) {
    let (a, rest) = inp.split_at(200);
    let (b, rest) = rest.split_at(200);
    let (c, _) = rest.split_at(100);
    let s = text(a);
    keep(JobId::new(s).map(|j| j.as_str().len()));
    keep(ThingName::new(text(b)).map(|t| t.as_str().len()));
    keep(NamespaceId::new(s).is_ok());
    keep(ReasonCode::new(s).is_ok());
    keep(Comment::new(s).map(Comment::as_str));
    keep(ExecutionNumber::try_from(text(c)).map(|n| n.next()));
    keep(VersionNumber::try_from(text(c)).map(|n| n.get()));
    keep(ExecutionNumber::try_from(i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])));
    keep(StepTimeout::from_wire(i64::from(i16::from_le_bytes([c[8], c[9]])), c[10] & 1 == 1));
    let pairs = [(text(&a[..8]), text(&a[8..40])), (text(&b[..8]), text(&b[8..200]))];
    let n = usize::from(c[11]) % 3;
    keep(StatusDetails::new(pairs.get(..n).unwrap_or(&[])).map(|d| (d.len(), d.get("k"))));
    keep(iot_jobs_core::id::is_other_category(char::from(c[12])));
    keep(s.parse::<ExecutionStatus>().map(ExecutionStatus::as_str));
    keep(s.parse::<JobStatus>().map(JobStatus::as_str));
    keep(s.parse::<TargetSelection>().is_ok());
    keep(s.parse::<FailureType>().is_ok());
    keep(s.parse::<RetryableFailureType>().is_ok());
    keep(s.parse::<JobEndBehavior>().is_ok());
    keep(s.parse::<ErrorCode>().map(|c| (c.is_retryable(), c.carries_execution_state())));
    let t = iot_jobs_core::Timestamp(u64::from_le_bytes([
        c[13], c[14], c[15], c[16], c[17], c[18], c[19], c[20],
    ]));
    match iot_jobs_core::cron::Cron::parse(s) {
        Ok(cron) => {
            keep((cron.next_at_or_after(t), cron.matches(t)));
            let minutes = u16::from_le_bytes([c[21], c[22]]);
            if let Ok(w) = iot_jobs_core::config::MaintenanceWindow::new(cron, minutes) {
                keep(rules::maintenance_window(&[w, w], t));
            }
        }
        Err(e) => {
            let mut out = Fmt::<128>::new();
            keep(core::fmt::Write::write_fmt(&mut out, format_args!("{e}")));
            keep(out.len);
        }
    }
}

fn rules_and_errors(inp: &[u8; 1024]) {
    let b = &inp[600..700];
    let r = RuleInputs::new(b);

    let results: [Result<(), Rejection>; 13] = [
        rules::cancel_job(r.job, r.force, &r.policy).map(|c| {
            keep(rules::cancel_job_execution_effect(r.exec, c.scope));
        }),
        rules::delete_job(r.job, r.force, usize::from(b[17])),
        rules::cancel_execution(r.state, r.force, r.expected).map(|c| {
            keep(c.force_canceled);
        }),
        rules::delete_execution(r.state, r.force, &r.policy),
        rules::update_execution(r.state, r.requested, r.expected, &r.policy).map(|s| {
            keep(s);
        }),
        rules::start_next(if b[18] & 1 == 1 { Some(r.state) } else { None }).map(|s| {
            keep(s);
        }),
        rules::describe_execution(r.state, r.plane, &r.policy),
        rules::version_after(r.version, rules::Actor::Device, &r.policy).map(|v| {
            keep(v);
        }),
        rules::next_execution_number(r.number, r.number, &r.policy).map(|n| {
            keep(n);
        }),
        rules::associate_targets(r.job, r.selection, usize::from(b[19]), b[18] & 2 == 2).map(|j| {
            keep(j);
        }),
        rules::group_join(r.job, r.selection, b[18] & 4 == 4, b[18] & 8 == 8, b[18] & 16 == 16).map(|j| {
            keep(j);
        }),
        rules::job_id_available(if b[20] & 1 == 1 { Some(r.job) } else { None }),
        Ok(()),
    ];
    for result in results {
        if let Err(e) = result {
            keep((
                e.exception_name(r.plane),
                e.http_status(r.plane),
                e.error_code().as_str(),
                e.execution_state(),
            ));
        }
    }
    keep(rules::create_job(r.force));
    keep(rules::pending_rank(r.exec));
    keep(rules::notify_topics(b[23] & 1 == 1, b[23] & 2 == 2, b[23] & 4 == 4));
    keep(rules::remove_target(r.exec, &r.policy));
    keep(rules::group_leave(r.selection));
    keep(rules::job_completes(r.job, r.selection, r.force, b[21] & 1 == 1));
    keep(table::DELETE_JOB_EXECUTION.get(usize::from(b[22])).map(|r| r.outcome));
}

/// Document-parameter substitution: an opaque document, values cut out of opaque text (or
/// none), into a buffer of opaque room.
fn parameters(inp: &[u8; 1024]) {
    let (doc, rest) = inp.split_at(600);
    let (values, ctl) = rest.split_at(400);
    let (doc, values) = (text(doc), text(values));
    let cut = usize::from(ctl[0]) % 64;
    let value = |name: &str| if name.len() % 3 == 0 { None } else { values.get(..cut.min(values.len())) };
    let mut out = [0u8; 256];
    let room = usize::from(ctl[1]);
    if let Some(buf) = out.get_mut(..room.min(256)) {
        keep(iot_jobs_core::parameters::substitute(doc, value, buf));
    }
    for name in iot_jobs_core::parameters::placeholders(doc) {
        keep(name);
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let inp = input();
    vocabulary(&inp);
    parameters(&inp);
    rules_and_errors(&inp);
    messages::exercise(&inp);
    registry::exercise(&inp);
    topic::exercise();
    agent::exercise(&inp, &opaque(&raw const TOPIC_INPUT), &opaque(&raw const AGENT_OPS));
    loop {}
}
