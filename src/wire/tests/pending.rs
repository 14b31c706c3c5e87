//! [`PendingHead`]: the identity of the head of a GetPending reply, read without the lists.

use super::*;

fn summary_json(job: &str, started: bool) -> String {
    let started = if started { r#""startedAt":2,"# } else { "" };
    format!(
        r#"{{"jobId":"{job}","queuedAt":1,{started}"lastUpdatedAt":3,"executionNumber":4,"versionNumber":5}}"#
    )
}

#[test]
fn the_head_of_in_progress_jobs_and_the_token_are_read_and_the_rest_skipped() {
    let queued: Vec<String> = (0..20).map(|i| summary_json(&format!("q{i}"), false)).collect();
    let msg = format!(
        r#"{{"queuedJobs":[{}],"inProgressJobs":[{},{}],"timestamp":9,"clientToken":"7"}}"#,
        queued.join(","),
        summary_json("first", true),
        summary_json("second", true)
    );
    // Longer lists than a `GetPendingResponse` holds: only the head is kept.
    assert!(matches!(parse!(GetPendingResponse, &msg), Err(WireError::TooLong { len: 20, .. })));
    let head = parse!(PendingHead, &msg).unwrap();
    let want = SummaryIdentity {
        job_id: "first",
        version_number: VersionNumber::new(5).unwrap(),
        execution_number: ExecutionNumber::new(4).unwrap(),
    };
    assert_eq!(head, PendingHead { in_progress: Some(want), client_token: Some("7") });
    // Nothing in progress, or no lists at all.
    for empty in [r#"{"inProgressJobs":[],"queuedJobs":[]}"#, r#"{"timestamp":9}"#] {
        assert_eq!(parse!(PendingHead, empty), Ok(PendingHead { in_progress: None, client_token: None }));
    }
}

#[test]
fn the_identity_is_checked_as_the_full_parser_checks_it_and_the_rest_must_be_json() {
    for msg in [
        // The head's identity: missing, of the wrong type, not a job id.
        r#"{"inProgressJobs":[{"jobId":"x","versionNumber":1}]}"#.to_string(),
        r#"{"inProgressJobs":[{"jobId":"x","versionNumber":"1","executionNumber":1}]}"#.to_string(),
        format!(r#"{{"inProgressJobs":[{}]}}"#, summary_json("bad id!", true)),
        r#"{"inProgressJobs":[],"inProgressJobs":[]}"#.to_string(),
        r#"{"clientToken":"1","clientToken":"2"}"#.to_string(),
        // Not a list, not JSON, trailing bytes, nothing.
        r#"{"inProgressJobs":{}}"#.to_string(),
        format!(r#"{{"inProgressJobs":[{},{{"jobId":]}}"#, summary_json("a", true)),
        r#"{"queuedJobs":[{]}"#.to_string(),
        r#"{} {}"#.to_string(),
        String::new(),
    ] {
        assert!(parse!(GetPendingResponse, &msg).is_err(), "{msg}");
        assert!(parse!(PendingHead, &msg).is_err(), "{msg}");
    }
    // What the head does not use is skipped: a summary past it without its times.
    let lean = format!(r#"{{"inProgressJobs":[{},{{"jobId":"x"}}]}}"#, summary_json("a", true));
    assert!(parse!(GetPendingResponse, &lean).is_err());
    assert_eq!(parse!(PendingHead, &lean).unwrap().in_progress.map(|x| x.job_id), Some("a"));
}
