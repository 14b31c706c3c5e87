//! Time: maintenance windows, schedule events, the exponential ramp, rollout pacing and the
//! schedule's bounds.

use super::*;

#[test]
fn window_every_input() {
    for change in [Window::Open, Window::Close] {
        for job in JobStatus::ALL {
            let row = table::WINDOW.iter().find(|r| r.change == change && r.job == job).unwrap();
            let got = rules::window(job, change);
            assert_eq!(outcome(got, Plane::Control), row.outcome, "{row:?}");
            assert_eq!(got.ok(), row.becomes, "{row:?}");
        }
    }
}

#[test]
fn maintenance_window_cases() {
    use iot_jobs_core::config::MaintenanceWindow;
    use iot_jobs_core::cron::Cron;
    for row in table::MAINTENANCE_WINDOW {
        let windows: Vec<MaintenanceWindow> = row
            .windows
            .iter()
            .map(|(start, minutes)| MaintenanceWindow::new(Cron::parse(start).unwrap(), *minutes).unwrap())
            .collect();
        let at = rules::maintenance_window(&windows, Timestamp(table::WINDOWS_BASE + row.now));
        assert_eq!(at.open, row.open, "{row:?}");
        assert_eq!(at.recheck, row.recheck.map(|r| Timestamp(table::WINDOWS_BASE + r)), "{row:?}");
    }
    let daily = Cron::parse("cron(0 2 * * ? *)").unwrap();
    assert!(MaintenanceWindow::new(daily, 0).is_err());
    assert!(MaintenanceWindow::new(daily, 1431).is_err());
    assert!(MaintenanceWindow::new(daily, 1430).is_ok());
}

/// `maintenance_window` against a scan: open exactly when an occurrence started in the last
/// `durationInMinutes`, and the answer holds every minute until `recheck` (scanned up to 6 hours).
#[test]
fn maintenance_window_against_a_scan() {
    use iot_jobs_core::config::MaintenanceWindow;
    use iot_jobs_core::cron::Cron;
    let crons =
        ["cron(0 2 * * ? *)", "cron(0/20 * * * ? *)", "cron(30 1-3 ? * TUE-THU *)", "cron(0 0 L * ? *)"];
    let window =
        |i: usize, minutes: u16| MaintenanceWindow::new(Cron::parse(crons[i]).unwrap(), minutes).unwrap();
    let open_by_scan = |ws: &[MaintenanceWindow], t: u64| {
        ws.iter().any(|w| {
            let from = (t + 1).saturating_sub(u64::from(w.duration_minutes()) * 60).div_ceil(60) * 60;
            (from..=t).step_by(60).any(|m| w.start().matches(Timestamp(m)))
        })
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..100 {
        let count = 1 + next(2) as usize;
        let ws: Vec<MaintenanceWindow> =
            (0..count).map(|_| window(next(4) as usize, [1, 20, 45, 90, 300][next(5) as usize])).collect();
        let now = table::WINDOWS_BASE + next(3 * 86_400);
        let at = rules::maintenance_window(&ws, Timestamp(now));
        assert_eq!(at.open, open_by_scan(&ws, now), "at {now}");
        let until = at.recheck.map_or(now + 6 * 3600, |r| r.secs().min(now + 6 * 3600));
        assert!(until > now);
        for t in (now.div_ceil(60) * 60..until).step_by(60) {
            assert_eq!(open_by_scan(&ws, t), at.open, "from {now} to {until}, at {t}");
        }
    }
}

/// Where a schedule time is relative to `now`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum At {
    Absent,
    Past,
    Now,
    Later,
}

fn at(a: At, past: u64, later: u64) -> Option<Timestamp> {
    match a {
        At::Absent => None,
        At::Past => Some(Timestamp(past)),
        At::Now => Some(Timestamp(NOW)),
        At::Later => Some(Timestamp(later)),
    }
}

fn fires(row: &ScheduleEventRow, c: &JobClock, due: bool, end_passed: bool, start_fires: bool) -> bool {
    due && row.statuses.contains(&c.status)
        && (!row.needs_not_started || !c.started)
        && (!row.needs_not_ended || !c.ended)
        && (!row.needs_end_not_passed || !end_passed)
        && (!row.needs_no_start || !start_fires)
}

#[test]
fn schedule_events_every_input() {
    let kinds = [At::Absent, At::Past, At::Now, At::Later];
    let row = |k| *table::SCHEDULE_EVENTS.iter().find(|r| r.event == k).unwrap();
    let (start_row, batch_row, end_row) =
        (row(ScheduleEventKind::Start), row(ScheduleEventKind::Batch), row(ScheduleEventKind::End));
    let mut checked = 0;
    for status in JobStatus::ALL {
        for started in BOOLS {
            for ended in BOOLS {
                for s in kinds {
                    for e in kinds {
                        for r in kinds {
                            for b in table::END_BEHAVIOR {
                                let start = at(s, 5_000, 20_000);
                                let end = at(e, 6_000, 30_000).map(|t| (t, b.behavior));
                                let Ok(schedule) = Schedule::new(start, end) else { continue };
                                let schedule = (start.is_some() || end.is_some()).then_some(schedule);
                                let rollout_at = at(r, 7_000, 10_060);
                                let c =
                                    JobClock { status, schedule, started, ended, rollout_at, window: None };
                                let now = Timestamp(NOW);
                                let end_passed = end.is_some_and(|(t, _)| t <= now);
                                let due = |t: Option<Timestamp>| t.is_some_and(|t| t <= now);
                                let want_start = fires(&start_row, &c, due(start), end_passed, false);
                                let want_batch =
                                    fires(&batch_row, &c, due(rollout_at), end_passed, want_start);
                                // The end fires in any status (the timer offers it for live jobs).
                                let end_fires = due(end.map(|(t, _)| t)) && !c.ended;
                                let got = rules::schedule_event(&c, now);
                                assert_eq!((got.start, got.batch), (want_start, want_batch), "{c:?}");
                                assert_eq!(got.end, end_fires.then_some(b.behavior), "{c:?}");
                                assert_eq!(rules::end_passed(schedule, now), end_passed);
                                // The timer offers the earliest event its row allows.
                                let offered = |row: &ScheduleEventRow, t: Option<Timestamp>| {
                                    let row = ScheduleEventRow {
                                        needs_not_ended: row.offered_needs_not_ended,
                                        ..*row
                                    };
                                    fires(&row, &c, t.is_some(), false, false).then_some(t).flatten()
                                };
                                let want_next = [
                                    offered(&start_row, start),
                                    offered(&batch_row, rollout_at),
                                    offered(&end_row, end.map(|(t, _)| t)),
                                ]
                                .into_iter()
                                .flatten()
                                .min();
                                assert_eq!(rules::next_job_event(&c), want_next, "{c:?}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 2_880);
    // A time that never comes is never offered.
    let c = JobClock {
        status: JobStatus::InProgress,
        schedule: None,
        started: true,
        ended: false,
        rollout_at: Some(rules::NEVER),
        window: None,
    };
    assert_eq!(rules::next_job_event(&c), None);
    for r in table::END_BEHAVIOR {
        let cancels = rules::cancel_job_execution_effect(
            ExecutionStatus::InProgress,
            if r.cancels_in_progress { CancelScope::QueuedAndInProgress } else { CancelScope::Queued },
        );
        assert_eq!(cancels.is_some(), r.cancels_in_progress, "{}", r.spec);
    }
}

/// A job with maintenance windows: every status, start, end and window state against
/// `WINDOWED_EVENTS` (AMBIG-28).
#[test]
fn windowed_schedule_events_every_input() {
    use rules::{Window, WindowClock};
    let kinds = [At::Absent, At::Past, At::Later];
    let now = Timestamp(NOW);
    let mut checked = 0;
    for status in JobStatus::ALL {
        for started in BOOLS {
            for ended in BOOLS {
                for open in BOOLS {
                    for s in kinds {
                        for e in kinds {
                            let start = at(s, 5_000, 20_000);
                            let end = at(e, 6_000, 30_000).map(|t| (t, JobEndBehavior::StopRollout));
                            let Ok(schedule) = Schedule::new(start, end) else { continue };
                            let schedule = (start.is_some() || end.is_some()).then_some(schedule);
                            let look = Timestamp(NOW + 600);
                            let window = Some(WindowClock { at: look, open });
                            let c = JobClock { status, schedule, started, ended, rollout_at: None, window };
                            let start_due = start.is_none_or(|t| t <= now);
                            let before_end = !ended && end.is_none_or(|(t, _)| t > now);
                            let row = table::WINDOWED_EVENTS
                                .iter()
                                .find(|r| r.status == status && r.started == started && r.open == open);
                            let want_start = row.is_some_and(|r| r.start) && start_due && before_end;
                            let want_window = match row.and_then(|r| r.window) {
                                Some(Window::Open) if before_end => Some(Window::Open),
                                Some(Window::Close) if !ended => Some(Window::Close),
                                Some(Window::Open | Window::Close) | None => None,
                            };
                            let got = rules::schedule_event(&c, now);
                            assert_eq!((got.start, got.window), (want_start, want_window), "{c:?}");
                            assert!(!got.batch, "{c:?}");
                            // The timer offers the next look (not the start) and the end.
                            let live = matches!(status, JobStatus::InProgress | JobStatus::Scheduled);
                            let want_next = [
                                (live && !ended).then_some(look),
                                end.map(|(t, _)| t).filter(|_| live && !ended),
                            ]
                            .into_iter()
                            .flatten()
                            .min();
                            assert_eq!(rules::next_job_event(&c), want_next, "{c:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
    // At creation (AMBIG-28): SCHEDULED until a `startTime` to come (looked at then), else
    // unless a window is open (looked at when that may change).
    let later = Schedule::new(Some(Timestamp(NOW + 60)), None).unwrap();
    let past = Schedule::new(Some(Timestamp(NOW - 60)), None).unwrap();
    // A `startTime` of `now` has come, as `starts_scheduled` reads it: the windows decide.
    let this_second = Schedule::new(Some(Timestamp(NOW)), None).unwrap();
    let at = |open, recheck| rules::WindowAt { open, recheck };
    let next = Some(Timestamp(NOW + 120));
    assert_eq!(rules::starts_in_window(Some(later), at(true, next), now), (true, Timestamp(NOW + 60)));
    assert!(!rules::starts_scheduled(Some(this_second), now));
    for schedule in [None, Some(past), Some(this_second)] {
        assert_eq!(rules::starts_in_window(schedule, at(true, next), now), (false, Timestamp(NOW + 120)));
        assert_eq!(rules::starts_in_window(schedule, at(false, next), now), (true, Timestamp(NOW + 120)));
        assert_eq!(rules::starts_in_window(schedule, at(false, None), now), (true, rules::NEVER));
    }
}

/// `RAMP`, and a property: the ramp never decreases, its marks never pass the counts, and what
/// is left uncounted is below each criterion (AMBIG-29).
#[test]
fn exponential_ramp_cases() {
    use rules::Ramp;
    for row in table::RAMP {
        let increase = RateIncrease { notified: row.notified_criterion, succeeded: row.succeeded_criterion };
        let rate = ExponentialRate::new(row.base, row.factor_tenths, increase).unwrap();
        let (rate_milli, notified, notified_mark, succeeded_mark) = row.before;
        let before = Ramp { rate_milli, notified, notified_mark, succeeded_mark };
        let after = rules::ramp_up(&rate, before, row.succeeded);
        assert_eq!((after.rate_milli, after.notified_mark, after.succeeded_mark), row.after, "{}", row.spec);
        assert_eq!(after.notified, notified, "{}", row.spec);
        let max = row.maximum.map(|m| RolloutRate::new(m).unwrap());
        assert_eq!(rules::ramp_batch(max, Some(after)), row.batch, "{}", row.spec);
    }
    // Bounds of the configuration (SPEC lim-rollout).
    let some = RateIncrease { notified: Some(1), succeeded: None };
    assert!(ExponentialRate::new(0, 20, some).is_err());
    assert!(ExponentialRate::new(1001, 20, some).is_err());
    assert!(ExponentialRate::new(1000, 50, some).is_ok());
    assert!(ExponentialRate::new(1, 10, some).is_err());
    assert!(ExponentialRate::new(1, 51, some).is_err());
    assert!(ExponentialRate::new(1, 11, RateIncrease { notified: None, succeeded: None }).is_err());
    assert!(ExponentialRate::new(1, 11, RateIncrease { notified: Some(0), succeeded: Some(1) }).is_err());
    assert_eq!(rules::ramp_batch(None, None), usize::MAX);
    assert_eq!(rules::ramp_batch(None, Some(Ramp { rate_milli: 999, ..Ramp::default() })), 1);
    let mut seed = 7u64;
    let mut next = |m: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % m
    };
    for _ in 0..2_000 {
        let n = (next(3) != 0).then(|| next(20) as u32 + 1);
        let s = if n.is_none() || next(2) == 0 { Some(next(20) as u32 + 1) } else { None };
        let rate = ExponentialRate::new(
            next(1000) as u16 + 1,
            next(40) as u8 + 11,
            RateIncrease { notified: n, succeeded: s },
        )
        .unwrap();
        let mut ramp = Ramp::default();
        let (mut notified, mut succeeded) = (0u32, 0u32);
        for _ in 0..20 {
            let after = rules::ramp_up(&rate, ramp, succeeded);
            assert!(after.rate_milli >= ramp.rate_milli.max(u64::from(rate.base()) * 1000));
            assert!(after.notified_mark <= notified && after.succeeded_mark <= succeeded);
            assert!(n.is_none_or(|n| notified - after.notified_mark < n));
            assert!(s.is_none_or(|s| succeeded - after.succeeded_mark < s));
            let batch = rules::ramp_batch(None, Some(after)) as u32;
            notified += batch.min(1_000_000);
            succeeded += next(u64::from(batch.min(1000)) + 1) as u32;
            ramp = Ramp { notified, ..after };
        }
    }
}

#[test]
fn group_joins() {
    use iot_jobs_core::TargetSelection::{Continuous, Snapshot};
    for row in table::GROUP_JOIN {
        let got = rules::group_join(row.job, Continuous, row.started, row.ended, row.rolling_out);
        match row.join {
            Some(join) => assert_eq!(got, Ok(join), "{row:?}"),
            None => {
                assert!(matches!(got, Err(iot_jobs_core::Rejection::InvalidRequest(_))), "{row:?}: {got:?}")
            }
        }
        assert!(
            rules::group_join(row.job, Snapshot, row.started, row.ended, row.rolling_out).is_err(),
            "{row:?}"
        );
    }
    // Every status is in the table.
    for status in iot_jobs_core::JobStatus::ALL {
        assert!(table::GROUP_JOIN.iter().any(|r| r.job == status), "{status:?}");
    }
}

#[test]
fn group_leaves() {
    for row in table::GROUP_LEAVE {
        assert_eq!(rules::group_leave(row.selection), row.leaves, "{row:?}");
    }
    assert_eq!(table::GROUP_LEAVE.len(), iot_jobs_core::TargetSelection::ALL.len());
}

#[test]
fn rollout_pacing() {
    assert_eq!(rules::rollout_batch(None), usize::MAX);
    for m in [1u32, 2, 1_000, u32::MAX] {
        assert_eq!(rules::rollout_batch(Some(RolloutRate::new(m).unwrap())), usize::try_from(m).unwrap());
    }
    assert_eq!(rules::next_batch_at(Timestamp(NOW), true), Timestamp(NOW + 60));
    assert_eq!(rules::next_batch_at(Timestamp(NOW), false), rules::NEVER);
    assert_eq!(rules::next_batch_at(Timestamp(u64::MAX - 1), true), Timestamp(u64::MAX));
    let mut checked = 0;
    for registered in [false, true] {
        for had_execution in [false, true] {
            let row = table::ROLLOUT_REACH
                .iter()
                .find(|r| r.registered == registered && r.had_execution == had_execution)
                .unwrap();
            assert_eq!(rules::rollout_reaches(registered, had_execution), row.reaches, "{}", row.spec);
            checked += 1;
        }
    }
    assert_eq!(checked, table::ROLLOUT_REACH.len());
}

#[test]
fn batch_on_start_every_input() {
    let now = Timestamp(NOW);
    let mut checked = 0;
    for status in JobStatus::ALL {
        for (started, ended) in [(false, false), (true, false), (true, true), (false, true)] {
            for rollout_at in
                [None, Some(rules::NEVER), Some(Timestamp(NOW + 1)), Some(now), Some(Timestamp(NOW - 60))]
            {
                let due = match rollout_at {
                    None => BatchDue::None,
                    Some(t) if t > now => BatchDue::Later,
                    Some(_) => BatchDue::Come,
                };
                // A job that never started has no batch of its own yet: its start is its first.
                let key = if started { due } else { BatchDue::None };
                let row =
                    table::BATCH_ON_START.iter().find(|r| r.started == started && r.due == key).unwrap();
                let c = JobClock { status, schedule: None, started, ended, rollout_at, window: None };
                assert_eq!(rules::batch_on_start(&c, now), row.batch, "{c:?} {}", row.spec);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, JobStatus::ALL.len() * 4 * 5);
}

#[test]
fn schedule_bounds_every_offset_near_a_bound() {
    let [start_row, end_row] = table::SCHEDULE_BOUNDS;
    assert!(start_row.start_time && !end_row.start_time);
    assert_eq!(start_row.min_from, BoundFrom::Now);
    assert_eq!(end_row.min_from, BoundFrom::StartOrNow);
    let near = |b: u64| [b - 1, b, b + 1];
    let mut offsets = vec![0u64];
    for b in [1_800, 3_600, start_row.max_secs, start_row.max_secs + 1_800, end_row.max_secs] {
        offsets.extend(near(b));
    }
    for now in [0u64, 1_000, u64::MAX - 70_000_000] {
        let n = Timestamp(now);
        let times: Vec<Option<Timestamp>> =
            std::iter::once(None).chain(offsets.iter().map(|o| Some(Timestamp(now + o)))).collect();
        for &start in &times {
            for &end in &times {
                let ok = |row: &table::ScheduleBoundRow, t: u64| {
                    let from = match row.min_from {
                        BoundFrom::Now => now,
                        BoundFrom::StartOrNow => start.map_or(now, |s| s.secs()),
                    };
                    t >= from + row.min_secs && t <= now + row.max_secs
                };
                let want = if start.is_some_and(|s| !ok(&start_row, s.secs())) {
                    Err(ScheduleBound::StartTime)
                } else if end.is_some_and(|e| !ok(&end_row, e.secs())) {
                    Err(ScheduleBound::EndTime)
                } else {
                    Ok(())
                };
                assert_eq!(rules::schedule_bounds(start, end, n), want, "{now} {start:?} {end:?}");
            }
        }
    }
    assert_eq!(rules::SCHEDULE_MIN_SECS, start_row.min_secs);
    assert!(ScheduleBound::StartTime.to_string().contains("30 minutes to 1 year"));
    assert!(ScheduleBound::EndTime.to_string().contains("2 years"));
}
