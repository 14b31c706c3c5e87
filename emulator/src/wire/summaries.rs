//! The bodies of ListJobExecutionsForJob and ListJobExecutionsForThing, written straight into
//! the response: up to 250 summaries (the model's `maxResults`), ~200 bytes each.
//!
//! Every string in them is a name the core validated (`[a-zA-Z0-9:_-]`), a status or an ARN
//! prefix escaped once per response, so no summary is escaped, formatted through `fmt` or
//! allocated on its own. A test compares the bodies byte for byte with serde_json's rendering of
//! the model's shapes (`ListJobExecutionsForJobResponse` / `...ForThingResponse`).

use super::ExecutionSummary;

/// Bytes of one summary, less its thing ARN or job id: room reserved up front per summary.
const SUMMARY_LEN: usize = 160;
/// Most summaries room is reserved for before the first is written.
const RESERVED: usize = 32;

/// A list of execution summaries being written.
pub struct Summaries {
    body: Vec<u8>,
    empty: bool,
}

impl Summaries {
    /// A list with room for `n` summaries (at most 32 up front; the list grows past
    /// that) of names up to `name_len` bytes.
    pub fn with_capacity(n: usize, name_len: usize) -> Self {
        let room = n.min(RESERVED).saturating_mul(SUMMARY_LEN.saturating_add(name_len));
        let mut body = Vec::with_capacity(room.saturating_add(64));
        body.extend_from_slice(b"{\"executionSummaries\":[");
        Summaries { body, empty: true }
    }

    /// `{"thingArn":"<arn_prefix><thing>","jobExecutionSummary":{…}}` (ListJobExecutionsForJob).
    /// `arn_prefix` is already JSON-escaped ([`super::Arns::thing_prefix_json`]); `thing` is a
    /// validated thing name.
    pub fn push_for_job(&mut self, arn_prefix: &str, thing: &str, s: &ExecutionSummary) {
        self.open(b"{\"thingArn\":\"");
        self.body.extend_from_slice(arn_prefix.as_bytes());
        self.body.extend_from_slice(thing.as_bytes());
        self.summary(s);
    }

    /// `{"jobId":"<job>","jobExecutionSummary":{…}}` (ListJobExecutionsForThing); `job` is a
    /// validated job id.
    pub fn push_for_thing(&mut self, job: &str, s: &ExecutionSummary) {
        self.open(b"{\"jobId\":\"");
        self.body.extend_from_slice(job.as_bytes());
        self.summary(s);
    }

    /// The body, with `nextToken` when there is one.
    pub fn finish(mut self, next_token: Option<&str>) -> Vec<u8> {
        self.body.push(b']');
        if let Some(token) = next_token {
            self.body.extend_from_slice(b",\"nextToken\":");
            // Tokens are opaque to clients: escaped like any string.
            self.body.extend_from_slice(serde_json::Value::from(token).to_string().as_bytes());
        }
        self.body.push(b'}');
        self.body
    }

    fn open(&mut self, head: &[u8]) {
        if !self.empty {
            self.body.push(b',');
        }
        self.empty = false;
        self.body.extend_from_slice(head);
    }

    /// `","jobExecutionSummary":{…}}`, closing the string the caller opened.
    fn summary(&mut self, s: &ExecutionSummary) {
        self.body.extend_from_slice(b"\",\"jobExecutionSummary\":{\"status\":\"");
        self.body.extend_from_slice(s.status.as_bytes());
        self.number(b"\",\"queuedAt\":", s.queued_at);
        if let Some(at) = s.started_at {
            self.number(b",\"startedAt\":", at);
        }
        self.number(b",\"lastUpdatedAt\":", s.last_updated_at);
        self.number(b",\"executionNumber\":", s.execution_number);
        self.number(b",\"retryAttempt\":", s.retry_attempt.into());
        self.body.extend_from_slice(b"}}");
    }

    fn number(&mut self, key: &[u8], n: u64) {
        self.body.extend_from_slice(key);
        self.body.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::super::{Arns, ExecutionSummary};
    use super::*;

    // The model's shapes, rendered by serde_json: the oracle the hand-written lists must match.
    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SummaryForJob {
        thing_arn: String,
        job_execution_summary: ExecutionSummary,
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SummaryForThing {
        job_id: String,
        job_execution_summary: ExecutionSummary,
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ListExecutionsOut<T> {
        execution_summaries: Vec<T>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next_token: Option<String>,
    }

    fn summaries() -> Vec<ExecutionSummary> {
        let s = |status, started_at, n| ExecutionSummary {
            status,
            queued_at: 1_700_000_000,
            started_at,
            last_updated_at: u64::MAX,
            execution_number: n,
            retry_attempt: 10,
        };
        vec![
            s("QUEUED", None, 1),
            s("IN_PROGRESS", Some(1_700_000_060), u64::from(u32::MAX) + 1),
            s("TIMED_OUT", Some(0), 0),
        ]
    }

    /// The hand-written lists are byte for byte what serde_json writes for the same values,
    /// including an ARN prefix that needs escaping and a token.
    #[test]
    fn lists_are_written_as_serde_writes_them() {
        let arns = Arns { region: "us-east-1".into(), account: "12\"34\\5\u{1}".into() };
        let names = ["thing-0", "a:b_c-D9", "t"];
        for (n, token) in [(0, None), (1, Some("tok")), (3, Some("a\"b")), (3, None)] {
            let items: Vec<_> = summaries().into_iter().zip(names).take(n).collect();
            let mut for_job = Summaries::with_capacity(n, 16);
            let mut for_thing = Summaries::with_capacity(n, 16);
            for (s, name) in &items {
                for_job.push_for_job(&arns.thing_prefix_json(), name, s);
                for_thing.push_for_thing(name, s);
            }
            let job = ListExecutionsOut {
                execution_summaries: summaries()
                    .into_iter()
                    .zip(names)
                    .take(n)
                    .map(|(s, name)| SummaryForJob { thing_arn: arns.thing(name), job_execution_summary: s })
                    .collect(),
                next_token: token.map(String::from),
            };
            let thing = ListExecutionsOut {
                execution_summaries: summaries()
                    .into_iter()
                    .zip(names)
                    .take(n)
                    .map(|(s, name)| SummaryForThing { job_id: name.into(), job_execution_summary: s })
                    .collect(),
                next_token: token.map(String::from),
            };
            assert_eq!(
                String::from_utf8(for_job.finish(token)).unwrap(),
                serde_json::to_string(&job).unwrap()
            );
            assert_eq!(
                String::from_utf8(for_thing.finish(token)).unwrap(),
                serde_json::to_string(&thing).unwrap()
            );
        }
    }
}
