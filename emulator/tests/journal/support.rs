//! What the journal's test modules share: request helpers on the in-process `Emu`, a state file
//! with a journal of a few records, where its records lie, and a recovery with small caps.

use std::path::{Path, PathBuf};

use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::journal::{self, Mode};
use iot_jobs_emulator::state::{Caps, State};
use iot_jobs_emulator::wire::Arns;
use serde_json::{Value, json};

use crate::in_process::{Emu, start};
use crate::reliability_common::{ARN, CONTROL};

pub const DATA: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00";

impl Emu {
    pub async fn send(&self, auth: &str, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("authorization", auth)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }
    pub async fn ok(&self, auth: &str, method: &str, path: &str, body: Value) -> Value {
        let (status, body) = self.send(auth, method, path, body.to_string().into_bytes()).await;
        assert_eq!(status, 200, "{method} {path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    }
}

/// The emulator's config for `path` with a checkpoint every `records` changes (none by growth),
/// looked for every `interval_ms`: checkpoints come soon and often.
pub fn eager_checkpoints(
    path: &Path,
    records: u64,
    interval_ms: u64,
) -> impl FnOnce(&mut iot_jobs_emulator::Config) {
    let path = path.to_path_buf();
    move |c| {
        c.state_file = Some(path);
        c.checkpoint_records = records;
        c.checkpoint_growth = 0;
        c.checkpoint_interval = std::time::Duration::from_millis(interval_ms);
    }
}

pub fn recover(path: &Path, mode: Mode) -> Result<Option<State>, String> {
    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    // Small caps: the index is allocated whole at every recovery.
    let caps = Caps { jobs: 8, things: 8, executions: 8, status_details: 8, thing_groups: 8 };
    journal::recover(path, caps, ClockMode::Manual, arns, 0, iot_jobs_core::Policy::DEFAULT, mode)
}

/// A state file with a journal of several records, the last one an UpdateJobExecution; the
/// emulator that wrote it is gone without a checkpoint (as after a crash).
pub async fn journal_with_records(dir: &Path) -> (PathBuf, PathBuf) {
    let path = dir.join("state.json");
    let e = start(|c| c.state_file = Some(path.clone())).await;
    e.ok(CONTROL, "POST", "/things/t", json!({})).await;
    e.ok(CONTROL, "POST", "/things/u", json!({"attributePayload": {"attributes": {"a": "1"}}})).await;
    let targets = json!({"targets": [format!("{ARN}:thing/t")], "document": "{\"x\":1}"});
    e.ok(CONTROL, "PUT", "/jobs/j", targets).await;
    e.ok(DATA, "POST", "/things/t/jobs/j", json!({"status": "IN_PROGRESS", "statusDetails": {"s": "1"}}))
        .await;
    drop(e);
    let segs = journal::segments(&path).unwrap();
    assert_eq!(segs.len(), 1, "{segs:?}");
    (path, segs[0].1.clone())
}

/// Where each record of a segment starts, and its end.
pub fn record_bounds(segment: &Path) -> Vec<(usize, usize)> {
    let bytes = std::fs::read(segment).unwrap();
    let first = journal::segments(segment.parent().unwrap().join("state.json").as_path()).unwrap()[0].0;
    let scanned = journal::scan(segment, &bytes, first).unwrap();
    assert!(scanned.torn.is_none());
    let mut off = journal::MAGIC.len();
    let mut out = Vec::new();
    for r in &scanned.records {
        assert_eq!(r.offset, off as u64);
        let len = journal::encode(r.seq, r.now, &r.entry, r.accepted.unwrap(), &r.data).unwrap().len();
        out.push((off, off + len));
        off += len;
    }
    assert_eq!(off as u64, scanned.end);
    assert!(bytes[off..].iter().all(|b| *b == 0), "after the records: the allocated space");
    out
}

pub fn execution_status(st: &State) -> String {
    let job = iot_jobs_core::JobId::new("j").unwrap();
    let thing = iot_jobs_core::ThingName::new("t").unwrap();
    let view = st.registry.describe_execution(&job, &thing, None, iot_jobs_core::Plane::Data).unwrap();
    format!("{:?}", view.status())
}

/// An exported state in parts: the registry's fields are in a fixed order, so it is kept as
/// text while the rest is edited as JSON.
#[derive(serde::Deserialize)]
pub struct Parts {
    pub format: u64,
    pub seq: u64,
    pub clock: Option<u64>,
    pub meta: Value,
    pub registry: Box<serde_json::value::RawValue>,
}

/// An exported state with its `format` and `meta` edited by `f`, the registry as it was.
pub fn edited(exported: &[u8], f: &dyn Fn(&mut Value)) -> Vec<u8> {
    let p: Parts = serde_json::from_slice(exported).unwrap();
    let mut v = json!({"format": p.format, "meta": p.meta});
    f(&mut v);
    let clock = serde_json::to_string(&p.clock).unwrap();
    let (format, meta, seq, registry) = (&v["format"], &v["meta"], p.seq, p.registry.get());
    format!(r#"{{"format":{format},"seq":{seq},"clock":{clock},"meta":{meta},"registry":{registry}}}"#)
        .into_bytes()
}
