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
    ];
    for (op, pinned) in samples {
        let json = serde_json::to_string(&op).unwrap_or_default();
        assert_eq!(json, pinned, "{FORMAT_NOTE}");
        assert!(json.contains(journalled_name(&op)), "{json}: {FORMAT_NOTE}");
        let back: Op = serde_json::from_str(pinned).unwrap_or(Op::Stats);
        assert_eq!(back, op, "{FORMAT_NOTE}");
    }
}
