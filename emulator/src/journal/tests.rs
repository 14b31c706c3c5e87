use super::*;

const FORMAT_NOTE: &str = "routing::Op is part of the journal's format (journal::MAGIC, version 1): \
    existing journals hold these names. Add variants; to rename one (or a field), bump the \
    format version and keep reading the old names";

/// The name each operation is journalled under. Exhaustive: a new variant gets its name
/// here, and a sample below.
fn journalled_name(op: &Op) -> &'static str {
    match op {
        Op::CreateThing { .. } => "CreateThing",
        Op::DescribeThing { .. } => "DescribeThing",
        Op::DeleteThing { .. } => "DeleteThing",
        Op::ListThings => "ListThings",
        Op::CreateThingGroup { .. } => "CreateThingGroup",
        Op::DescribeThingGroup { .. } => "DescribeThingGroup",
        Op::DeleteThingGroup { .. } => "DeleteThingGroup",
        Op::AddThingToThingGroup => "AddThingToThingGroup",
        Op::RemoveThingFromThingGroup => "RemoveThingFromThingGroup",
        Op::UpdateThing { .. } => "UpdateThing",
        Op::UpdateThingGroup { .. } => "UpdateThingGroup",
        Op::UpdateThingGroupsForThing => "UpdateThingGroupsForThing",
        Op::CreateJob { .. } => "CreateJob",
        Op::DescribeJob { .. } => "DescribeJob",
        Op::UpdateJob { .. } => "UpdateJob",
        Op::DeleteJob { .. } => "DeleteJob",
        Op::ListJobs => "ListJobs",
        Op::GetJobDocument { .. } => "GetJobDocument",
        Op::CancelJob { .. } => "CancelJob",
        Op::AssociateTargetsWithJob { .. } => "AssociateTargetsWithJob",
        Op::CreateJobTemplate { .. } => "CreateJobTemplate",
        Op::DescribeJobTemplate { .. } => "DescribeJobTemplate",
        Op::ListJobTemplates => "ListJobTemplates",
        Op::DeleteJobTemplate { .. } => "DeleteJobTemplate",
        Op::ListManagedJobTemplates => "ListManagedJobTemplates",
        Op::DescribeManagedJobTemplate { .. } => "DescribeManagedJobTemplate",
        Op::ListJobExecutionsForJob { .. } => "ListJobExecutionsForJob",
        Op::ListJobExecutionsForThing { .. } => "ListJobExecutionsForThing",
        Op::DescribeJobExecution { .. } => "DescribeJobExecution",
        Op::CancelJobExecution { .. } => "CancelJobExecution",
        Op::DeleteJobExecution { .. } => "DeleteJobExecution",
        Op::DescribeEndpoint => "DescribeEndpoint",
        Op::ListThingGroups => "ListThingGroups",
        Op::ListThingsInThingGroup { .. } => "ListThingsInThingGroup",
        Op::ListThingGroupsForThing { .. } => "ListThingGroupsForThing",
        Op::TagResource => "TagResource",
        Op::UntagResource => "UntagResource",
        Op::ListTagsForResource => "ListTagsForResource",
        Op::DescribeEventConfigurations => "DescribeEventConfigurations",
        Op::UpdateEventConfigurations => "UpdateEventConfigurations",
        Op::GetPendingJobExecutions { .. } => "GetPendingJobExecutions",
        Op::StartNextPendingJobExecution { .. } => "StartNextPendingJobExecution",
        Op::DescribeJobExecutionData { .. } => "DescribeJobExecutionData",
        Op::UpdateJobExecution { .. } => "UpdateJobExecution",
        Op::GetClock => "GetClock",
        Op::SetClock => "SetClock",
        Op::Reset => "Reset",
        Op::Stats => "Stats",
        Op::ExportState => "ExportState",
        Op::ImportState => "ImportState",
        Op::GetFaults => "GetFaults",
        Op::SetFaults => "SetFaults",
        Op::ClearFaults => "ClearFaults",
        Op::PutObject { .. } => "PutObject",
        Op::ListObjects => "ListObjects",
        Op::ClearObjects => "ClearObjects",
    }
}

/// Every operation as a journal record holds it (names and fields).
#[test]
fn the_journalled_operations_keep_their_serialized_form() {
    let samples = [
        (Op::CreateThing { thing: "t".into() }, r#"{"CreateThing":{"thing":"t"}}"#),
        (Op::DescribeThing { thing: "t".into() }, r#"{"DescribeThing":{"thing":"t"}}"#),
        (Op::DeleteThing { thing: "t".into() }, r#"{"DeleteThing":{"thing":"t"}}"#),
        (Op::ListThings, r#""ListThings""#),
        (Op::CreateThingGroup { group: "g".into() }, r#"{"CreateThingGroup":{"group":"g"}}"#),
        (Op::DescribeThingGroup { group: "g".into() }, r#"{"DescribeThingGroup":{"group":"g"}}"#),
        (Op::DeleteThingGroup { group: "g".into() }, r#"{"DeleteThingGroup":{"group":"g"}}"#),
        (Op::AddThingToThingGroup, r#""AddThingToThingGroup""#),
        (Op::RemoveThingFromThingGroup, r#""RemoveThingFromThingGroup""#),
        (Op::UpdateThing { thing: "t".into() }, r#"{"UpdateThing":{"thing":"t"}}"#),
        (Op::UpdateThingGroup { group: "g".into() }, r#"{"UpdateThingGroup":{"group":"g"}}"#),
        (Op::UpdateThingGroupsForThing, r#""UpdateThingGroupsForThing""#),
        (Op::CreateJob { job: "j".into() }, r#"{"CreateJob":{"job":"j"}}"#),
        (Op::DescribeJob { job: "j".into() }, r#"{"DescribeJob":{"job":"j"}}"#),
        (Op::UpdateJob { job: "j".into() }, r#"{"UpdateJob":{"job":"j"}}"#),
        (Op::DeleteJob { job: "j".into() }, r#"{"DeleteJob":{"job":"j"}}"#),
        (Op::ListJobs, r#""ListJobs""#),
        (Op::GetJobDocument { job: "j".into() }, r#"{"GetJobDocument":{"job":"j"}}"#),
        (Op::CancelJob { job: "j".into() }, r#"{"CancelJob":{"job":"j"}}"#),
        (Op::AssociateTargetsWithJob { job: "j".into() }, r#"{"AssociateTargetsWithJob":{"job":"j"}}"#),
        (Op::CreateJobTemplate { template: "t".into() }, r#"{"CreateJobTemplate":{"template":"t"}}"#),
        (Op::DescribeJobTemplate { template: "t".into() }, r#"{"DescribeJobTemplate":{"template":"t"}}"#),
        (Op::ListJobTemplates, r#""ListJobTemplates""#),
        (Op::DeleteJobTemplate { template: "t".into() }, r#"{"DeleteJobTemplate":{"template":"t"}}"#),
        (Op::ListManagedJobTemplates, r#""ListManagedJobTemplates""#),
        (
            Op::DescribeManagedJobTemplate { name: "n".into() },
            r#"{"DescribeManagedJobTemplate":{"name":"n"}}"#,
        ),
        (Op::ListJobExecutionsForJob { job: "j".into() }, r#"{"ListJobExecutionsForJob":{"job":"j"}}"#),
        (
            Op::ListJobExecutionsForThing { thing: "t".into() },
            r#"{"ListJobExecutionsForThing":{"thing":"t"}}"#,
        ),
        (
            Op::DescribeJobExecution { thing: "t".into(), job: "j".into() },
            r#"{"DescribeJobExecution":{"thing":"t","job":"j"}}"#,
        ),
        (
            Op::CancelJobExecution { thing: "t".into(), job: "j".into() },
            r#"{"CancelJobExecution":{"thing":"t","job":"j"}}"#,
        ),
        (
            Op::DeleteJobExecution { thing: "t".into(), job: "j".into(), number: "n".into() },
            r#"{"DeleteJobExecution":{"thing":"t","job":"j","number":"n"}}"#,
        ),
        (Op::DescribeEndpoint, r#""DescribeEndpoint""#),
        (Op::ListThingGroups, r#""ListThingGroups""#),
        (Op::ListThingsInThingGroup { group: "g".into() }, r#"{"ListThingsInThingGroup":{"group":"g"}}"#),
        (Op::ListThingGroupsForThing { thing: "t".into() }, r#"{"ListThingGroupsForThing":{"thing":"t"}}"#),
        (Op::TagResource, r#""TagResource""#),
        (Op::UntagResource, r#""UntagResource""#),
        (Op::ListTagsForResource, r#""ListTagsForResource""#),
        (Op::DescribeEventConfigurations, r#""DescribeEventConfigurations""#),
        (Op::UpdateEventConfigurations, r#""UpdateEventConfigurations""#),
        (Op::GetPendingJobExecutions { thing: "t".into() }, r#"{"GetPendingJobExecutions":{"thing":"t"}}"#),
        (
            Op::StartNextPendingJobExecution { thing: "t".into() },
            r#"{"StartNextPendingJobExecution":{"thing":"t"}}"#,
        ),
        (
            Op::DescribeJobExecutionData { thing: "t".into(), job: "j".into() },
            r#"{"DescribeJobExecutionData":{"thing":"t","job":"j"}}"#,
        ),
        (
            Op::UpdateJobExecution { thing: "t".into(), job: "j".into() },
            r#"{"UpdateJobExecution":{"thing":"t","job":"j"}}"#,
        ),
        (Op::GetClock, r#""GetClock""#),
        (Op::SetClock, r#""SetClock""#),
        (Op::Reset, r#""Reset""#),
        (Op::Stats, r#""Stats""#),
        (Op::ExportState, r#""ExportState""#),
        (Op::ImportState, r#""ImportState""#),
        (Op::GetFaults, r#""GetFaults""#),
        (Op::SetFaults, r#""SetFaults""#),
        (Op::ClearFaults, r#""ClearFaults""#),
        (
            Op::PutObject { bucket: "b".into(), key: "d/k".into() },
            r#"{"PutObject":{"bucket":"b","key":"d/k"}}"#,
        ),
        (Op::ListObjects, r#""ListObjects""#),
        (Op::ClearObjects, r#""ClearObjects""#),
    ];
    for (op, pinned) in samples {
        let json = serde_json::to_string(&op).unwrap_or_default();
        assert_eq!(json, pinned, "{FORMAT_NOTE}");
        assert!(json.contains(journalled_name(&op)), "{json}: {FORMAT_NOTE}");
        let back: Op = serde_json::from_str(pinned).unwrap_or(Op::Stats);
        assert_eq!(back, op, "{FORMAT_NOTE}");
    }
}

/// A record of `op` on `body` made at `now`, decoded as a recovery reads it.
fn record(seq: u64, now: u64, op: Op, accepted: Option<bool>, body: &str) -> Record {
    let entry = Entry::Http { op, query: Vec::new() };
    let bytes = encode(seq, now, &entry, accepted.unwrap_or(true), body.as_bytes()).unwrap();
    let mut r = decode_payload(bytes.get(RECORD_HEADER..).unwrap(), 0).unwrap();
    if accepted.is_none() {
        r.accepted = None;
    }
    r
}

/// A replayed record must come out as it was made: accepted and changing the state, or refused
/// with the due transitions it made. A record refused when it was made replays when it still is
/// (its ticks are the change); one accepted then and refused now, or changing nothing now, is an
/// error and leaves the state's record number where it was.
#[test]
fn a_record_replays_only_as_it_was_made() {
    let t0 = 1_700_000_000;
    let fresh = || {
        let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
        let caps = Caps { jobs: 4, things: 4, executions: 4, status_details: 4, thing_groups: 4 };
        let mut st = State::new(caps, Clock::new(ClockMode::System, None), arns, 0);
        let job = r#"{"targets":["arn:aws:iot:us-east-1:123456789012:thing/t"],"document":"{}","timeoutConfig":{"inProgressTimeoutInMinutes":1}}"#;
        let setup = [
            (Op::CreateThing { thing: "t".into() }, "{}"),
            (Op::CreateJob { job: "j".into() }, job),
            (Op::StartNextPendingJobExecution { thing: "t".into() }, "{}"),
        ];
        for (seq, (op, body)) in (1..).zip(setup) {
            replay(&mut st, &record(seq, t0, op, Some(true), body)).unwrap();
        }
        assert_eq!(st.generation, 3);
        st
    };
    let missing = || Op::DescribeJob { job: "nope".into() };
    // Refused, with nothing due: it changes nothing, so it cannot be a record.
    let e = replay(&mut fresh(), &record(4, t0, missing(), Some(false), "")).unwrap_err();
    assert!(e.contains("changes nothing now"), "{e}");
    // Accepted when made, refused now.
    let later = t0 + 120;
    let e = replay(&mut fresh(), &record(4, later, missing(), Some(true), "")).unwrap_err();
    assert!(e.contains("accepted when it was made and is refused now (ResourceNotFoundException"), "{e}");
    // Refused when made, accepted now.
    let e = replay(&mut fresh(), &record(4, later, Op::DescribeJob { job: "j".into() }, Some(false), ""))
        .unwrap_err();
    assert!(e.contains("refused when it was made and is accepted now"), "{e}");
    // Refused, with the execution's timeout due: the record of its tick replays.
    let mut refused = fresh();
    replay(&mut refused, &record(4, later, missing(), Some(false), "")).unwrap();
    assert_eq!(refused.generation, 4);
    let status = |s: &State| {
        let (job, thing) =
            (iot_jobs_core::JobId::new("j").unwrap(), iot_jobs_core::ThingName::new("t").unwrap());
        format!(
            "{:?}",
            s.registry
                .describe_execution(&job, &thing, None, iot_jobs_core::Plane::Control)
                .unwrap()
                .status()
        )
    };
    assert_eq!(status(&refused), "TimedOut");
    // A record of a version that did not keep the outcome: only the change is checked.
    let mut old = fresh();
    replay(&mut old, &record(4, later, missing(), None, "")).unwrap();
    assert_eq!(status(&old), "TimedOut");
    // An error leaves the record number where it was.
    let mut st = fresh();
    assert!(replay(&mut st, &record(4, later, missing(), Some(true), "")).is_err());
    assert_eq!(st.generation, 3);
}

/// The header's form, as the README gives it, and a header of a version before `accepted`.
#[test]
fn the_header_says_whether_the_operation_was_accepted() {
    let header = |r: &[u8]| {
        let p = r.get(RECORD_HEADER..).unwrap();
        let len = u32_at(p, 16).unwrap() as usize;
        String::from_utf8(p.get(20..20 + len).unwrap().to_vec()).unwrap()
    };
    let entry = Entry::Mqtt { topic: "$aws/things/t/jobs/j/update".into() };
    let r = encode(1, 2, &entry, false, b"{}").unwrap();
    assert_eq!(header(&r), r#"{"kind":"mqtt","topic":"$aws/things/t/jobs/j/update","accepted":false}"#);
    assert_eq!(decode_payload(r.get(RECORD_HEADER..).unwrap(), 8).unwrap().accepted, Some(false));
    assert_eq!(header(&encode(1, 2, &Entry::Tick, true, b"").unwrap()), r#"{"kind":"tick","accepted":true}"#);
    let old = br#"{"kind":"tick"}"#;
    let mut p = Vec::new();
    p.extend_from_slice(&1u64.to_le_bytes());
    p.extend_from_slice(&2u64.to_le_bytes());
    p.extend_from_slice(&(old.len() as u32).to_le_bytes());
    p.extend_from_slice(old);
    let r = decode_payload(&p, 8).unwrap();
    assert!(matches!(r.entry, Entry::Tick));
    assert_eq!((r.accepted, r.offset), (None, 8));
}
