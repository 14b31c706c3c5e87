//! The registry against the reference model of `tests/model/`: libFuzzer chooses the operation
//! sequence, and every step must agree. It runs under `Readings::SPEC`, as the property tests
//! do; `tests/model/README.md` lists the differences the model found.
#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use arbitrary::{Result, Unstructured};
use iot_jobs_core::{ExecutionStatus as XS, FailureType, JobEndBehavior, RetryableFailureType};
use libfuzzer_sys::fuzz_target;
use model::Readings;
use model::harness::{Details, Driver, Op, Roomy, Tiny};

const THINGS: [&str; 4] = ["t1", "t2", "t3", "arn:t4"];

fn job(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=15u8)? {
        12 => "bad!id".to_owned(),
        13 => String::new(),
        14 => "$next".to_owned(),
        15 => "j".repeat(65),
        i => format!("j{i}"),
    })
}

fn thing(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=6u8)? {
        4 => "a/b".to_owned(),
        5 => String::new(),
        6 => "é".to_owned(),
        i => THINGS[usize::from(i)].to_owned(),
    })
}

fn things(u: &mut Unstructured<'_>) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=3u8)?;
    (0..n).map(|_| thing(u)).collect()
}

fn details(u: &mut Unstructured<'_>) -> Result<Option<Details>> {
    if !u.ratio(1, 3)? {
        return Ok(None);
    }
    let n = u.int_in_range(0..=3u8)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let k = *u.choose(&["k1", "k2", "step:x", "bad key"])?;
        let v = *u.choose(&["v", "50 %", "é", "", "x\u{7}"])?;
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(Some(out))
}

fn small(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(if u.ratio(1, 12)? { u64::MAX } else { u.int_in_range(0..=4)? })
}

fn opt<T>(u: &mut Unstructured<'_>, f: impl FnOnce(&mut Unstructured<'_>) -> Result<T>) -> Result<Option<T>> {
    if u.arbitrary()? { f(u).map(Some) } else { Ok(None) }
}

fn op(u: &mut Unstructured<'_>) -> Result<Op> {
    Ok(match u.int_in_range(0..=18u8)? {
        0 => Op::AddThing(thing(u)?),
        1 => Op::RemoveThing(thing(u)?),
        2 => {
            let job = job(u)?;
            let continuous = u.arbitrary()?;
            let start = opt(u, |u| u.int_in_range(0..=50))?;
            let end = opt(u, |u| u.int_in_range(0..=50))?;
            let targets = things(u)?;
            // Valid retry and abort criteria (SPEC §6), or none.
            let retry = opt(u, |u| {
                let kinds: &[RetryableFailureType] = u.choose(&[
                    &[RetryableFailureType::Failed][..],
                    &[RetryableFailureType::TimedOut],
                    &[RetryableFailureType::All],
                    &[RetryableFailureType::Failed, RetryableFailureType::TimedOut],
                    &[RetryableFailureType::Failed, RetryableFailureType::All],
                    &[RetryableFailureType::TimedOut, RetryableFailureType::All],
                ])?;
                kinds.iter().map(|k| Ok((*k, u.int_in_range(0..=3)?))).collect::<Result<Vec<_>>>()
            })?
            .unwrap_or_default();
            let abort = opt(u, |u| {
                let failure = *u.choose(&FailureType::ALL)?;
                let threshold = *u.choose(&[0u16, 3_333, 5_000, 10_000])?;
                Ok(vec![(failure, threshold, u.int_in_range(1..=3)?)])
            })?
            .unwrap_or_default();
            let end_behavior = *u.choose(&[
                JobEndBehavior::Cancel,
                JobEndBehavior::StopRollout,
                JobEndBehavior::ForceCancel,
            ])?;
            // In-progress timeout and rollout rate: short valid ones, or out of range.
            let timeout = opt(u, |u| u.choose(&[1u64, 2, 3, 0, 10080, 10081]).copied())?;
            let rate = opt(u, |u| u.int_in_range(0..=3u32))?;
            // Maintenance windows: an index into the model's window sets.
            let windows = opt(u, |u| u.int_in_range(0..=3u8))?;
            // An exponential rate: a small base, factor 1.1 to 3, one or both criteria.
            let exponential = opt(u, |u| {
                let notified = opt(u, |u| u.int_in_range(1..=3u32))?;
                let succeeded = opt(u, |u| u.int_in_range(1..=3u32))?;
                let succeeded = if notified.is_none() { Some(succeeded.unwrap_or(1)) } else { succeeded };
                Ok((u.int_in_range(1..=3u16)?, u.int_in_range(11..=30u8)?, notified, succeeded))
            })?;
            // SPEC R20: no namespace, or one of two.
            let namespace = opt(u, |u| u.choose(&["n1", "n2"]).map(|n| (*n).to_owned()))?;
            Op::CreateJob {
                job,
                continuous,
                start,
                end,
                targets,
                retry,
                abort,
                end_behavior,
                timeout,
                rate,
                windows,
                exponential,
                namespace,
            }
        }
        3 => Op::AddTargets { job: job(u)?, things: things(u)?, counted: u.arbitrary()? },
        4 => Op::RemoveTarget { job: job(u)?, thing: thing(u)? },
        5 => {
            let reason = opt(u, |u| u.choose(&["OPS", "bad"]).map(|s| (*s).to_owned()))?;
            Op::CancelJob { job: job(u)?, force: u.arbitrary()?, reason }
        }
        6 => Op::DeleteJob { job: job(u)?, force: u.arbitrary()? },
        7 => Op::CancelExecution {
            job: job(u)?,
            thing: thing(u)?,
            force: u.arbitrary()?,
            expected: opt(u, small)?,
            details: details(u)?,
        },
        8 => Op::DeleteExecution { job: job(u)?, thing: thing(u)?, number: small(u)?, force: u.arbitrary()? },
        9 | 10 => Op::Update {
            job: job(u)?,
            thing: thing(u)?,
            status: *u.choose(&XS::ALL)?,
            expected: opt(u, small)?,
            number: opt(u, small)?,
            details: details(u)?,
            step: opt(u, |u| u.choose(&[-1i64, 0, 1, 5, 10080, 10081]).copied())?,
        },
        11 => Op::StartNext {
            thing: thing(u)?,
            details: details(u)?,
            step: opt(u, |u| u.choose(&[-1i64, 1, 3]).copied())?,
        },
        12 => Op::Describe {
            job: job(u)?,
            thing: thing(u)?,
            number: opt(u, small)?,
            data_plane: u.arbitrary()?,
        },
        13 => {
            let budget = if u.arbitrary()? { usize::MAX } else { u.int_in_range(0..=3)? };
            let dt = if u.ratio(1, 5)? { u.int_in_range(60..=200)? } else { u.int_in_range(-20..=60)? };
            Op::Advance { dt, budget }
        }
        14 if u.ratio(1, 3)? => {
            let budget = if u.arbitrary()? { usize::MAX } else { u.int_in_range(0..=3)? };
            Op::AdvanceThrough { dt: u.int_in_range(0..=400)?, budget }
        }
        14 => Op::Clock(u.int_in_range(-30..=30)?),
        15 => Op::SetDeletionDelay(*u.choose(&[0, 5, 40])?),
        16 => Op::OpenWindow(job(u)?),
        17 => Op::CloseWindow(job(u)?),
        _ => Op::SinkRoom(opt(u, |u| u.int_in_range(0..=8))?),
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(tiny) = u.arbitrary::<bool>() else { return };
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 80 {
        match op(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    if !tiny {
        // No `SinkRoom`: room refusals are the capacity mode's subject.
        ops.retain(|op| !matches!(op, Op::SinkRoom(_)));
    }
    let setup = THINGS[..3].iter().map(|t| Op::AddThing((*t).to_owned()));
    let all: Vec<Op> = setup.chain(ops).collect();
    let result = if tiny {
        let mut d = Driver::new(Tiny {}, Readings::SPEC, &THINGS);
        d.capacity_mode = true;
        let r = all.iter().try_for_each(|op| d.step(op));
        r.and_then(|()| if d.log.is_empty() { Ok(()) } else { Err(d.log.clone()) })
    } else {
        // Room for the events the model predicts and `SLACK` more: no operation may be
        // `Throttled` (the property `a_sink_with_room_for_the_events_does_not_throttle`).
        let mut d = Driver::new(Roomy {}, Readings::SPEC, &THINGS);
        d.slack = true;
        all.iter().try_for_each(|op| d.step(op))
    };
    if let Err(e) = result {
        panic!("registry and model disagree\nops: {all:#?}\n{e}");
    }
});
