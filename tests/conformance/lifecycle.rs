//! Lifecycle decisions the service makes on its own: retries, aborts, timers, device access,
//! statusDetails writes, configuration merges, end behaviour and unknown things.

use super::*;

#[test]
fn retry_every_status_job_criteria_and_count() {
    use RetryableFailureType as RF;
    let mut checked = 0u32;
    for row in table::RETRY_CRITERION {
        // Every number of retries 0..=3 per criterion, every retries-used pair 0..=10.
        for n in 0u8..=3 {
            let given: Vec<_> = row.criteria.iter().map(|&f| (f, n)).collect();
            let config = retry_config(&given);
            for job in JobStatus::ALL {
                let job_row = table::RETRY_JOB.iter().find(|r| r.job == job).unwrap();
                for status in ExecutionStatus::ALL {
                    let s_row = table::RETRY_FAILURE.iter().find(|r| r.status == status).unwrap();
                    for failed in 0u8..=10 {
                        for timed_out in 0u8..=10 {
                            let used = RetriesUsed { failed, timed_out };
                            let got = rules::retry(job, status, Some(&config), used);
                            let want = (|| {
                                let failure = s_row.failure?;
                                if !job_row.applies || failed + timed_out >= table::RETRY_MAX_TOTAL {
                                    return None;
                                }
                                // The row for this failure and the configuration's criteria.
                                let applies = if failure == row.failure {
                                    row.applies?
                                } else {
                                    table::RETRY_CRITERION
                                        .iter()
                                        .find(|r| r.failure == failure && r.criteria == row.criteria)
                                        .unwrap()
                                        .applies?
                                };
                                let spent = match applies {
                                    RF::All => failed + timed_out,
                                    RF::Failed => failed,
                                    RF::TimedOut => timed_out,
                                };
                                let after = match failure {
                                    RF::Failed => RetriesUsed { failed: failed + 1, timed_out },
                                    RF::TimedOut | RF::All => {
                                        RetriesUsed { failed, timed_out: timed_out + 1 }
                                    }
                                };
                                (spent < n).then_some((failure, applies, after))
                            })();
                            assert_eq!(
                                got.map(|r| (r.failure, r.criterion, r.used)),
                                want,
                                "{job} {status} {row:?} n={n} {used:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 12 * 4 * 5 * 8 * 121);
    // Without a configuration nothing is retried.
    for status in ExecutionStatus::ALL {
        assert_eq!(rules::retry(JobStatus::InProgress, status, None, RetriesUsed::default()), None);
    }
    for r in table::RETRY_FAILURE {
        assert_eq!(rules::retry_failure(r.status), r.failure, "{}", r.spec);
    }
    for r in table::RETRY_JOB {
        assert_eq!(rules::job_retries(r.job), r.applies, "{}", r.spec);
    }
}

#[test]
fn is_concurrent_for_every_job_status_and_input() {
    for r in table::CONCURRENT_JOB {
        for (rolling_out, executions_left) in [(false, false), (true, false), (false, true), (true, true)] {
            let on = if r.job == JobStatus::DeletionInProgress { executions_left } else { rolling_out };
            assert_eq!(
                rules::job_is_concurrent(r.job, rolling_out, executions_left),
                r.applies && on,
                "{} {rolling_out} {executions_left}",
                r.spec
            );
        }
    }
    assert_eq!(table::CONCURRENT_JOB.len(), JobStatus::ALL.len());
}

#[test]
fn abort_every_job_criterion_and_small_count() {
    let thresholds = [0u16, 1, 3_333, 5_000, 6_667, 10_000];
    for job in JobStatus::ALL {
        let applies = table::ABORT_JOB.iter().find(|r| r.job == job).unwrap().applies;
        for row in table::ABORT_FAILURES {
            for threshold in thresholds {
                for min in [1u32, 2, 4] {
                    let criterion = AbortCriterion {
                        failure: row.failure,
                        threshold_centipercent: threshold,
                        min_executed: min,
                    };
                    let config = AbortConfig::new(&[criterion]).unwrap();
                    for n in 0..4u32.pow(4) {
                        let e = Executed {
                            succeeded: n % 4,
                            failed: n / 4 % 4,
                            rejected: n / 16 % 4,
                            timed_out: n / 64,
                        };
                        let executed = u64::from(e.succeeded + e.failed + e.rejected + e.timed_out);
                        let failures = u64::from(
                            u32::from(row.failed) * e.failed
                                + u32::from(row.rejected) * e.rejected
                                + u32::from(row.timed_out) * e.timed_out,
                        );
                        let met = executed >= u64::from(min)
                            && failures > 0
                            && failures * 100 * 100 >= u64::from(threshold) * executed;
                        let want = (applies && met).then_some(criterion);
                        assert_eq!(
                            rules::abort_due(job, Some(&config), e),
                            want,
                            "{job} {row:?} {threshold} {min} {e:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(rules::abort_due(job, None, Executed { failed: 5, ..Executed::default() }), None);
    }
    // The first criterion met, in configuration order, is the answer.
    let a = AbortCriterion { failure: FailureType::Rejected, threshold_centipercent: 5_000, min_executed: 1 };
    let b = AbortCriterion { failure: FailureType::All, threshold_centipercent: 1, min_executed: 1 };
    let e = Executed { failed: 1, ..Executed::default() };
    assert_eq!(
        rules::abort_due(JobStatus::InProgress, Some(&AbortConfig::new(&[a, b]).unwrap()), e),
        Some(b)
    );
    let e = Executed { rejected: 1, ..Executed::default() };
    assert_eq!(
        rules::abort_due(JobStatus::InProgress, Some(&AbortConfig::new(&[a, b]).unwrap()), e),
        Some(a)
    );
    for r in table::ABORT_JOB {
        assert_eq!(rules::job_aborts(r.job), r.applies, "{}", r.spec);
    }
    // Counts near u32::MAX saturate instead of overflowing.
    let big = Executed { succeeded: u32::MAX, failed: u32::MAX, rejected: u32::MAX, timed_out: u32::MAX };
    assert_eq!(big.total(), 4 * u64::from(u32::MAX));
    assert_eq!(big.failures(FailureType::All), 3 * u64::from(u32::MAX));
}

#[test]
fn timers_every_status_change_and_small_durations() {
    for to in ExecutionStatus::ALL {
        let row = table::TIMER_ON_STATUS.iter().find(|r| r.to == to).unwrap();
        for from in ExecutionStatus::ALL {
            let want = if from == ExecutionStatus::Queued { row.from_queued } else { row.from_other };
            assert_eq!(rules::timer_on_status(from, to), want, "{from} → {to} {}", row.spec);
        }
    }
    let nows = [0u64, 1, NOW, u64::MAX - 100, u64::MAX];
    for now in nows {
        let n = Timestamp(now);
        assert_eq!(rules::in_progress_deadline(n, None), rules::NEVER);
        for m in [1u16, 2, 59, 10_080] {
            let at = Timestamp(now.saturating_add(u64::from(m) * 60));
            assert_eq!(rules::in_progress_deadline(n, Some(TimeoutMinutes::new(m).unwrap())), at);
            for cap in [
                Timestamp(0),
                Timestamp(now),
                Timestamp(now.saturating_add(60)),
                Timestamp(now.saturating_add(120)),
                rules::NEVER,
            ] {
                // AMBIG-15: a step timer never runs past the in-progress deadline.
                assert_eq!(
                    rules::step_deadline(n, StepTimeout::Minutes(m), cap),
                    at.min(cap),
                    "{now} {m} {cap:?}"
                );
                assert_eq!(rules::step_deadline(n, StepTimeout::Cancel, cap), cap);
            }
        }
    }
    assert!(matches!(
        rules::timer_on_status(ExecutionStatus::Queued, ExecutionStatus::InProgress),
        TimerChange::Start
    ));
}

#[test]
fn device_access_every_input() {
    for job in JobStatus::ALL {
        for plane in [Plane::Control, Plane::Data] {
            let row = table::DEVICE_ACCESS.iter().find(|r| r.job == job && r.plane == plane).unwrap();
            assert_eq!(outcome(rules::device_access(job, plane), plane), row.outcome, "{row:?}");
        }
    }
    for row in table::UNKNOWN_THING {
        let policy = Policy { unknown_thing: row.policy, ..Policy::DEFAULT };
        assert_eq!(outcome(rules::unknown_thing(&policy), Plane::Data), row.outcome, "{row:?}");
    }
    assert_eq!(table::UNKNOWN_THING[0].policy, Policy::DEFAULT.unknown_thing);
    assert_eq!(table::UNKNOWN_THING.map(|r| r.policy), [UnknownThing::Empty, UnknownThing::NotFound]);
    let mut newest = vec![None];
    newest.extend(ExecutionStatus::ALL.map(Some));
    assert_eq!(table::QUEUE_ON_REJOIN.map(|r| r.newest).to_vec(), newest);
    for row in table::QUEUE_ON_REJOIN {
        assert_eq!(rules::queue_on_rejoin(row.newest), row.queues, "{row:?}");
    }
}

const KEYS: [&str; 20] = [
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15",
    "k16", "k17", "k18", "k19",
];

#[test]
fn details_write_every_overlap_and_size() {
    for write in [DetailsWrite::Replace, DetailsWrite::Merge] {
        let policy = Policy { details_write: write, ..Policy::DEFAULT };
        let rule =
            |key| table::DETAILS_WRITE.iter().find(|r| r.write == write && r.key == key).unwrap().after;
        // Stored: keys [0, s); update: keys [o, o + u); every size 0..=10 and offset 0..=20.
        for s in 0..=10usize {
            for u in 0..=10usize {
                for o in 0..=(20 - u) {
                    let stored: Vec<(&str, &str)> = KEYS[..s].iter().map(|k| (*k, "old")).collect();
                    let update: Vec<(&str, &str)> = KEYS[o..o + u].iter().map(|k| (*k, "new")).collect();
                    let details = StatusDetails::new(&update).unwrap();
                    let mut want: Vec<(&str, &str)> = Vec::new();
                    for (k, _) in &stored {
                        let key =
                            if update.iter().any(|(u, _)| u == k) { KeyIn::Both } else { KeyIn::StoredOnly };
                        if rule(key) == KeyAfter::StoredValue {
                            want.push((k, "old"));
                        }
                    }
                    for (k, _) in &update {
                        let key =
                            if stored.iter().any(|(s, _)| s == k) { KeyIn::Both } else { KeyIn::UpdateOnly };
                        assert_eq!(rule(key), KeyAfter::UpdateValue);
                        want.push((k, "new"));
                    }
                    let got = rules::merge_details(stored.iter().copied(), &details, &policy);
                    if want.len() <= table::DETAILS_MAX_PAIRS {
                        assert_eq!(got.unwrap().to_vec(), want, "{write:?} {s} {u} {o}");
                    } else {
                        let err = got.unwrap_err();
                        assert_eq!(
                            outcome::<()>(Err(err), Plane::Data),
                            Outcome::Refused(iot_jobs_core::Exception::InvalidRequest, 400)
                        );
                        let Rejection::InvalidField(FieldError { violation, .. }) = err else {
                            panic!("{err:?}")
                        };
                        assert_eq!(
                            violation,
                            iot_jobs_core::Violation::TooManyPairs { max: 10, len: want.len() },
                            "{write:?} {s} {u} {o}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn job_config_from_template_every_member_given_or_not() {
    let c = |f, r| RetryCriterion { failure: f, retries: r };
    let window = |cron: &str| {
        let w = MaintenanceWindow::new(iot_jobs_core::cron::Cron::parse(cron).unwrap(), 60).unwrap();
        Some(MaintenanceWindows::new(&[w]).unwrap())
    };
    let template = JobConfig {
        in_progress_timeout_minutes: Some(TimeoutMinutes::new(5).unwrap()),
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::Failed, 1)]).unwrap()),
        abort: None,
        schedule: None,
        maximum_per_minute: Some(RolloutRate::new(3).unwrap()),
        exponential: None,
        windows: window("cron(0 2 * * ? *)"),
    };
    let abort = AbortCriterion { failure: FailureType::All, threshold_centipercent: 100, min_executed: 2 };
    let request = JobConfig {
        in_progress_timeout_minutes: None,
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::All, 4)]).unwrap()),
        abort: Some(AbortConfig::new(&[abort]).unwrap()),
        schedule: Some(Schedule::new(Some(Timestamp(100)), None).unwrap()),
        maximum_per_minute: None,
        exponential: None,
        windows: window("cron(30 4 ? * MON *)"),
    };
    let replaces = |m| table::TEMPLATE_JOB_CONFIG.iter().find(|r| r.member == m).unwrap().updatable;
    for mask in 0..64u8 {
        let given = |bit: u8| mask & (1 << bit) != 0;
        let members = JobConfigUpdate {
            in_progress_timeout_minutes: given(0).then_some(request.in_progress_timeout_minutes),
            retry: given(1).then_some(request.retry),
            abort: given(2).then_some(request.abort),
            maximum_per_minute: given(3).then_some(request.maximum_per_minute),
            exponential: given(3).then_some(request.exponential),
        };
        let schedule = given(4).then_some(request.schedule).flatten();
        let windows = given(5).then_some(request.windows).flatten();
        let pick = |bit, m| given(bit) && replaces(m);
        let want = JobConfig {
            in_progress_timeout_minutes: if pick(0, ConfigMember::Timeout) {
                request.in_progress_timeout_minutes
            } else {
                template.in_progress_timeout_minutes
            },
            retry: if pick(1, ConfigMember::Retry) { request.retry } else { template.retry },
            abort: if pick(2, ConfigMember::Abort) { request.abort } else { template.abort },
            // The template never has a schedule: the request's, or none.
            schedule: if pick(4, ConfigMember::Scheduling) { request.schedule } else { None },
            windows: if pick(5, ConfigMember::MaintenanceWindows) {
                request.windows
            } else {
                template.windows
            },
            maximum_per_minute: if pick(3, ConfigMember::Rollout) {
                request.maximum_per_minute
            } else {
                template.maximum_per_minute
            },
            exponential: if pick(3, ConfigMember::Rollout) {
                request.exponential
            } else {
                template.exponential
            },
        };
        assert_eq!(
            rules::job_config_from_template(&template, &members, schedule, windows),
            want,
            "{mask:06b}"
        );
        // Where each member came from, for a host that echoes the sides' own text.
        let side = |bit, m| if pick(bit, m) { ConfigSource::Request } else { ConfigSource::Template };
        let sources = rules::template_sources(&members, windows.is_some());
        let want = rules::TemplateSources {
            in_progress_timeout_minutes: side(0, ConfigMember::Timeout),
            retry: side(1, ConfigMember::Retry),
            abort: side(2, ConfigMember::Abort),
            maximum_per_minute: side(3, ConfigMember::Rollout),
            exponential: side(3, ConfigMember::Rollout),
            // Given or not, the schedule is the request's (a template has none).
            schedule: if replaces(ConfigMember::Scheduling) {
                ConfigSource::Request
            } else {
                ConfigSource::Template
            },
            windows: side(5, ConfigMember::MaintenanceWindows),
        };
        assert_eq!(sources, want, "{mask:06b}");
    }
    // `pick` takes the request's value only from the request's side, when it gives one.
    assert_eq!(ConfigSource::Request.pick(1, Some(2)), 2);
    assert_eq!(ConfigSource::Request.pick(1, None), 1);
    assert_eq!(ConfigSource::Template.pick(1, Some(2)), 1);
    assert_eq!(ConfigSource::of(true), ConfigSource::Request);
    assert_eq!(ConfigSource::of(false), ConfigSource::Template);
}

#[test]
fn update_job_config_every_member_given_or_not() {
    let c = |f, r| RetryCriterion { failure: f, retries: r };
    let old = JobConfig {
        in_progress_timeout_minutes: Some(TimeoutMinutes::new(5).unwrap()),
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::Failed, 1)]).unwrap()),
        abort: None,
        schedule: Some(Schedule::new(Some(Timestamp(100)), None).unwrap()),
        maximum_per_minute: Some(RolloutRate::new(3).unwrap()),
        exponential: None,
        windows: Some(
            MaintenanceWindows::new(&[MaintenanceWindow::new(
                iot_jobs_core::cron::Cron::parse("cron(0 2 * * ? *)").unwrap(),
                60,
            )
            .unwrap()])
            .unwrap(),
        ),
    };
    let abort = AbortCriterion { failure: FailureType::All, threshold_centipercent: 100, min_executed: 2 };
    let new = JobConfig {
        in_progress_timeout_minutes: None,
        retry: Some(RetryConfig::new(&[c(RetryableFailureType::All, 4)]).unwrap()),
        abort: Some(AbortConfig::new(&[abort]).unwrap()),
        schedule: None,
        maximum_per_minute: None,
        windows: None,
        exponential: Some(
            ExponentialRate::new(10, 20, RateIncrease { notified: Some(5), succeeded: None }).unwrap(),
        ),
    };
    let updatable = |m| table::UPDATE_JOB_CONFIG.iter().find(|r| r.member == m).unwrap().updatable;
    for mask in 0..16u8 {
        let given = |bit: u8| mask & (1 << bit) != 0;
        let update = JobConfigUpdate {
            in_progress_timeout_minutes: given(0).then_some(new.in_progress_timeout_minutes),
            retry: given(1).then_some(new.retry),
            abort: given(2).then_some(new.abort),
            maximum_per_minute: given(3).then_some(new.maximum_per_minute),
            exponential: given(3).then_some(new.exponential),
        };
        let pick = |bit, m| given(bit) && updatable(m);
        let want = JobConfig {
            in_progress_timeout_minutes: if pick(0, ConfigMember::Timeout) {
                new.in_progress_timeout_minutes
            } else {
                old.in_progress_timeout_minutes
            },
            retry: if pick(1, ConfigMember::Retry) { new.retry } else { old.retry },
            abort: if pick(2, ConfigMember::Abort) { new.abort } else { old.abort },
            schedule: if updatable(ConfigMember::Scheduling) { new.schedule } else { old.schedule },
            windows: if updatable(ConfigMember::MaintenanceWindows) { new.windows } else { old.windows },
            maximum_per_minute: if pick(3, ConfigMember::Rollout) {
                new.maximum_per_minute
            } else {
                old.maximum_per_minute
            },
            exponential: if pick(3, ConfigMember::Rollout) { new.exponential } else { old.exponential },
        };
        assert_eq!(rules::update_job_config(&old, &update), want, "{mask:04b}");
        // Swapped roles: every member given takes the request's value.
        assert_eq!(
            rules::update_job_config(&new, &JobConfigUpdate::every_member(&old)),
            JobConfig { schedule: None, windows: None, ..old }
        );
    }
    // The members are validated where the request is read, as CreateJob's: an update cannot
    // carry a value outside SPEC §6.
    assert_eq!(RolloutRate::new(0), Err(iot_jobs_core::config::ConfigError::Rollout));
    assert_eq!(TimeoutMinutes::new(0), Err(iot_jobs_core::config::ConfigError::InProgressTimeout));
}

#[test]
fn lifecycle_rows_cite_the_spec() {
    let specs = table::RETRY_JOB
        .iter()
        .map(|r| r.spec)
        .chain(table::RETRY_FAILURE.iter().map(|r| r.spec))
        .chain(table::RETRY_CRITERION.iter().map(|r| r.spec))
        .chain(table::ABORT_JOB.iter().map(|r| r.spec))
        .chain(table::CONCURRENT_JOB.iter().map(|r| r.spec))
        .chain(table::ABORT_FAILURES.iter().map(|r| r.spec))
        .chain(table::WINDOW.iter().map(|r| r.spec))
        .chain(table::SCHEDULE_EVENTS.iter().map(|r| r.spec))
        .chain(table::WINDOWED_EVENTS.iter().map(|r| r.spec))
        .chain(table::RAMP.iter().map(|r| r.spec))
        .chain(table::BATCH_ON_START.iter().map(|r| r.spec))
        .chain(table::END_BEHAVIOR.iter().map(|r| r.spec))
        .chain(table::TIMER_ON_STATUS.iter().map(|r| r.spec))
        .chain(table::DEVICE_ACCESS.iter().map(|r| r.spec))
        .chain(table::UNKNOWN_THING.iter().map(|r| r.spec))
        .chain(table::QUEUE_ON_REJOIN.iter().map(|r| r.spec))
        .chain(table::DETAILS_WRITE.iter().map(|r| r.spec))
        .chain(table::UPDATE_JOB_CONFIG.iter().map(|r| r.spec))
        .chain(table::TEMPLATE_JOB_CONFIG.iter().map(|r| r.spec))
        .chain(table::SCHEDULE_BOUNDS.iter().map(|r| r.spec))
        .chain(table::NOTIFY.iter().map(|r| r.spec))
        .chain(table::NOTIFY_TOPICS.iter().map(|r| r.spec))
        .chain(table::NAMESPACE_PAYLOAD.iter().map(|r| r.spec))
        .chain(table::JOB_EVENT_STATUS.iter().map(|r| r.spec))
        .chain(table::REMOVE_THING_JOB.iter().map(|r| r.spec))
        .chain(table::JOB_HOLDS.iter().map(|r| r.spec));
    for s in specs {
        assert!(s.starts_with("SPEC ") || s.starts_with("AMBIG-") || s.starts_with("SEED-"), "{s}");
    }
    let _ = JobEndBehavior::ALL;
}

#[test]
fn end_behaviour_notify_and_creation_every_input() {
    for r in table::END_BEHAVIOR {
        let got = rules::end_behavior(r.behavior);
        assert_eq!(got.is_some(), r.cancels_queued, "{}", r.spec);
        let scope = got.map(|c| c.scope);
        let in_progress =
            scope.and_then(|s| rules::cancel_job_execution_effect(ExecutionStatus::InProgress, s));
        let queued = scope.and_then(|s| rules::cancel_job_execution_effect(ExecutionStatus::Queued, s));
        assert_eq!((queued.is_some(), in_progress.is_some()), (r.cancels_queued, r.cancels_in_progress));
        assert_eq!(got.is_some_and(|c| c.force_canceled), r.cancels_in_progress, "{}", r.spec);
    }
    let mut seen = 0;
    for notify_on in
        [iot_jobs_core::NotifyOn::MembershipChange, iot_jobs_core::NotifyOn::EveryNonTerminalChange]
    {
        let policy = Policy { notify_on, ..Policy::DEFAULT };
        for was in BOOLS {
            for now in BOOLS {
                for changed in BOOLS {
                    let row = table::NOTIFY
                        .iter()
                        .find(|r| {
                            r.notify_on == notify_on
                                && r.was_listed == was
                                && r.now_listed == now
                                && r.status_changed == changed
                        })
                        .unwrap();
                    assert_eq!(rules::notifies(was, now, changed, &policy), row.notifies, "{row:?}");
                    seen += 1;
                }
            }
        }
    }
    assert_eq!(seen, table::NOTIFY.len());
    // SPEC R15, R20: the topics of a change, over every input.
    let mut seen = 0;
    for namespaced in BOOLS {
        for list in BOOLS {
            for head in BOOLS {
                let row = table::NOTIFY_TOPICS
                    .iter()
                    .find(|r| r.namespaced == namespaced && r.list_changed == list && r.head_changed == head)
                    .unwrap();
                let got = rules::notify_topics(namespaced, list, head);
                let want = (row.notify, row.notify_next, row.notify_namespace, row.notify_next_namespace);
                assert_eq!(
                    (got.notify, got.notify_next, got.notify_namespace, got.notify_next_namespace),
                    want,
                    "{row:?}"
                );
                seen += 1;
            }
        }
    }
    assert_eq!(seen, table::NOTIFY_TOPICS.len());
    // SPEC 7.4: every job event, each with the status its payload reports.
    let events: Vec<_> = table::JOB_EVENT_STATUS.iter().map(|r| r.event).collect();
    assert_eq!(events, iot_jobs_core::topic::JobEvent::ALL);
    for r in table::JOB_EVENT_STATUS {
        assert_eq!(rules::job_event_status(r.event), r.status, "{r:?}");
    }
    for r in table::NAMESPACE_PAYLOAD {
        let job = r.job_namespace.map(|n| NamespaceId::new(n).unwrap());
        let topic = NamespaceId::new(r.topic_namespace).unwrap();
        assert_eq!(rules::listed_in_namespace(job.as_ref(), &topic), r.listed, "{r:?}");
    }
    // SPEC 4.2 CreateJob: SCHEDULED only while startTime is to come.
    let now = Timestamp(NOW);
    for (start, scheduled) in
        [(None, false), (Some(NOW - 1), false), (Some(NOW), false), (Some(NOW + 1), true)]
    {
        let s = Schedule::new(start.map(Timestamp), None).unwrap();
        assert_eq!(rules::starts_scheduled(Some(s), now), scheduled, "{start:?}");
    }
    let end_only = Schedule::new(None, Some((Timestamp(NOW + 1), JobEndBehavior::Cancel))).unwrap();
    assert!(!rules::starts_scheduled(Some(end_only), now));
    assert!(!rules::starts_scheduled(None, now));
}

#[test]
fn remove_thing_every_input_and_knob() {
    for policy in [Policy::DEFAULT, alternative("R10")] {
        for job in JobStatus::ALL {
            let applies = table::REMOVE_THING_JOB.iter().find(|r| r.job == job).unwrap().applies;
            for status in ExecutionStatus::ALL {
                let want = if applies { rules::remove_target(status, &policy) } else { None };
                assert_eq!(rules::remove_thing(job, status, &policy), want, "{job} {status}");
            }
        }
    }
    // The deletion's own row is the only one that never removes.
    assert_eq!(
        rules::remove_thing(JobStatus::InProgress, ExecutionStatus::Queued, &Policy::DEFAULT),
        Some(ExecutionStatus::Removed)
    );
}

#[test]
fn what_a_job_holds_every_status_and_force() {
    let mut seen = 0;
    for job in JobStatus::ALL {
        for force in BOOLS {
            let row = table::JOB_HOLDS.iter().find(|r| r.job == job && r.force_canceled == force).unwrap();
            for execution in ExecutionStatus::ALL {
                let want = row.holds.contains(&execution);
                assert_eq!(rules::job_holds(job, force, execution), want, "{row:?} {execution:?}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, table::JOB_HOLDS.len());
}
