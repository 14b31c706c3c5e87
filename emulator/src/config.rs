//! How the emulator runs: [`Config`], every listener, cap, timeout and policy of a server, with
//! the defaults of `iot-jobs-emulator` without flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use iot_jobs_core::policy::Named;
use iot_jobs_core::{DetailsWrite, NotifyOn, Numbering, PendingCap, Policy, UnknownThing, VersionBump};

use crate::clock::ClockMode;
use crate::state::Caps;
use crate::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_CHECKPOINT_GROWTH, DEFAULT_CHECKPOINT_INTERVAL,
    DEFAULT_CHECKPOINT_RECORDS, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, DEFAULT_MQTT_MAX_HELD_BYTES,
    DEFAULT_REPLICA_LAG_BYTES, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_STATE_LIMIT, mqtt,
};

/// How the emulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Both planes (and the admin API).
    pub addr: SocketAddr,
    /// Optional second listener: data plane only.
    pub data_addr: Option<SocketAddr>,
    /// The MQTT broker's listener (`None`: none).
    pub mqtt_addr: Option<SocketAddr>,
    /// The MQTT broker's TLS listener, with client certificates (`None`: none).
    pub mqtts_addr: Option<SocketAddr>,
    /// The MQTT broker's WebSocket listener, `ws://ADDR/mqtt` (`None`: none).
    pub mqtt_ws_addr: Option<SocketAddr>,
    /// The MQTT broker's WebSocket over TLS listener, `wss://ADDR/mqtt`, with `tls_dir`'s server
    /// certificate and no client certificate (`None`: none).
    pub mqtt_wss_addr: Option<SocketAddr>,
    /// An existing broker to serve the jobs device API on, as its client (bridge mode).
    pub mqtt_broker: Option<mqtt::bridge::BrokerUrl>,
    /// The bridge's persistent session on that broker (`None`: a clean session per connection).
    pub mqtt_broker_session: Option<mqtt::bridge::Session>,
    /// Where the TLS listener's CA, server and device certificates are (written at first start).
    pub tls_dir: PathBuf,
    /// Region in ARNs.
    pub region: String,
    /// Account in ARNs.
    pub account_id: String,
    /// System or manual clock.
    pub clock: ClockMode,
    /// Seconds a deleted job stays DELETION_IN_PROGRESS.
    pub deletion_delay: u64,
    /// Whether `JOB` and `JOB_EXECUTION` events are published until UpdateEventConfigurations
    /// sets them, at start and after a reset: `true` (the emulator's default, to be observed)
    /// or `false` (the service's: a new account publishes none until switched on; SPEC R23).
    pub job_events: bool,
    /// The readings of SPEC §R the registry decides by ([`Policy`]; `--policy KNOB=VALUE`,
    /// [`set_knob`]). A state file records it; its journal's records replay only under the policy
    /// they were made under.
    pub policy: Policy,
    /// Where to keep the state across restarts: the snapshot's path; the journal segments are
    /// its siblings `PATH.{first record:020}.wal` ([`journal`](crate::journal)).
    pub state_file: Option<PathBuf>,
    /// A checkpoint (snapshot) is written after this many journal records, once the journal
    /// since the last one has also grown to `checkpoint_growth` percent of the last snapshot's
    /// size (so that a large state is not re-encoded for every few records: the cost of the
    /// checkpoints per record stays the same at any size, as Redis's
    /// `auto-aof-rewrite-percentage` keeps it) ...
    pub checkpoint_records: u64,
    /// ... (0: the records alone decide) ...
    pub checkpoint_growth: u32,
    /// ... or this long after the last one, whichever comes first.
    pub checkpoint_interval: Duration,
    /// Table caps.
    pub caps: Caps,
    /// Largest request body in bytes, but for `POST /_emulator/state`'s.
    pub body_limit: usize,
    /// Largest snapshot `POST /_emulator/state` accepts, in bytes (at most
    /// [`MAX_STATE_LIMIT`](crate::MAX_STATE_LIMIT); more stops the start).
    pub state_limit: usize,
    /// Most connections served at once (per listener); more wait in the listen backlog.
    pub max_connections: usize,
    /// Most MQTT connections the embedded broker holds at once, over its listeners; more are
    /// closed as they come. `None`: [`DEFAULT_MQTT_MAX_CONNECTIONS`](crate::DEFAULT_MQTT_MAX_CONNECTIONS), or fewer if the
    /// file-descriptor limit leaves fewer; a number that does not fit stops the start.
    pub mqtt_max_connections: Option<usize>,
    /// Most bytes of messages the embedded broker holds for its sessions ([`mqtt::budget`]).
    pub mqtt_max_held_bytes: usize,
    /// The longest an MQTT persistent session outlives its connection, in seconds: an MQTT
    /// 3.1.1 session exactly that long, an MQTT 5 session as long as it asks up to that (1 to
    /// [`mqtt::MAX_SESSION_EXPIRY`]).
    pub mqtt_session_expiry: u32,
    /// With the journal: most bytes of synced records its replica may have left to apply
    /// before the answers to changes wait for it ([`Journal::caught_up`](crate::journal::Journal::caught_up)).
    pub replica_lag_bytes: u64,
    /// Time to send a request's headers; also the longest an idle connection stays open.
    pub header_timeout: Duration,
    /// Time to send a request's body once its headers are in (longer: 408).
    pub body_timeout: Duration,
    /// Time a shutdown waits for the requests in flight before closing their connections.
    pub shutdown_timeout: Duration,
}

impl Config {
    /// Whether the embedded broker runs: some MQTT listener is asked for.
    pub(crate) fn serves_mqtt(&self) -> bool {
        self.mqtt_addr.is_some()
            || self.mqtts_addr.is_some()
            || self.mqtt_ws_addr.is_some()
            || self.mqtt_wss_addr.is_some()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 4588)),
            data_addr: None,
            mqtt_addr: None,
            mqtts_addr: None,
            mqtt_ws_addr: None,
            mqtt_wss_addr: None,
            mqtt_broker: None,
            mqtt_broker_session: None,
            tls_dir: std::env::temp_dir().join("iot-jobs-emulator-tls"),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            clock: ClockMode::System,
            deletion_delay: 0,
            job_events: true,
            policy: Policy::DEFAULT,
            state_file: None,
            checkpoint_records: DEFAULT_CHECKPOINT_RECORDS,
            checkpoint_growth: DEFAULT_CHECKPOINT_GROWTH,
            checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
            caps: Caps::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            state_limit: DEFAULT_STATE_LIMIT,
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            mqtt_max_connections: None,
            mqtt_max_held_bytes: DEFAULT_MQTT_MAX_HELD_BYTES,
            mqtt_session_expiry: mqtt::DEFAULT_SESSION_EXPIRY,
            replica_lag_bytes: DEFAULT_REPLICA_LAG_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// The knobs of [`Policy`] by the names `--policy` (and the Python module's `Policy`) give
/// them, each with the values it takes (SPEC §R).
pub const KNOBS: [(&str, &str); 12] = [
    ("delete_timed_out_without_force", "true|false (R1)"),
    ("delete_queued_without_force", "true|false (R2)"),
    ("force_cancel_escalates", "true|false (R3)"),
    ("version_bump", "EVERY_CHANGE|DEVICE_UPDATES_ONLY (R6)"),
    ("numbering", "REUSE_AFTER_DELETE|MONOTONIC (R7)"),
    ("device_may_skip_in_progress", "true|false (R9)"),
    ("remove_in_progress", "true|false (R10)"),
    ("data_plane_describes_terminal", "true|false (R11)"),
    ("pending_cap", "10|15 (R12)"),
    ("details_write", "REPLACE|MERGE (R14)"),
    ("notify_on", "MEMBERSHIP_CHANGE|EVERY_NON_TERMINAL_CHANGE (R15)"),
    ("unknown_thing", "EMPTY|NOT_FOUND (R19)"),
];

/// The values of a flag knob.
const FLAG: [(&str, bool); 2] = [("true", true), ("false", false)];

/// Sets one knob of `policy` from `KNOB=VALUE` (names and values: [`KNOBS`]).
///
/// # Errors
///
/// A message naming the knob or value and what is allowed; `policy` is unchanged.
pub fn set_knob(policy: &mut Policy, setting: &str) -> Result<(), String> {
    let (knob, value) = setting
        .split_once('=')
        .ok_or_else(|| format!("{setting:?} is not KNOB=VALUE (knobs: {})", knob_list()))?;
    let allowed = KNOBS
        .iter()
        .find(|(k, _)| *k == knob)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("{knob:?} is not a policy knob (knobs: {})", knob_list()))?;
    let bad = || format!("{knob} takes {allowed}, not {value:?}");
    let flag = |v: &str| FLAG.iter().find(|(n, _)| *n == v).map(|(_, b)| *b);
    let mut p = *policy;
    let set = match knob {
        "delete_timed_out_without_force" => flag(value).map(|v| p.delete_without_force.timed_out = v),
        "delete_queued_without_force" => flag(value).map(|v| p.delete_without_force.queued = v),
        "force_cancel_escalates" => flag(value).map(|v| p.force_cancel_escalates = v),
        "device_may_skip_in_progress" => flag(value).map(|v| p.device_may_skip_in_progress = v),
        "remove_in_progress" => flag(value).map(|v| p.remove_in_progress = v),
        "data_plane_describes_terminal" => flag(value).map(|v| p.data_plane_describes_terminal = v),
        "version_bump" => VersionBump::named(value).map(|v| p.version_bump = v),
        "numbering" => Numbering::named(value).map(|v| p.numbering = v),
        "pending_cap" => PendingCap::named(value).map(|v| p.pending_cap = v),
        "details_write" => DetailsWrite::named(value).map(|v| p.details_write = v),
        "notify_on" => NotifyOn::named(value).map(|v| p.notify_on = v),
        "unknown_thing" => UnknownThing::named(value).map(|v| p.unknown_thing = v),
        _ => None,
    };
    set.ok_or_else(bad)?;
    *policy = p;
    Ok(())
}

/// Every knob of `p` by name, with its value as [`set_knob`] takes it (`GET /_emulator/stats`).
pub fn knob_values(p: &Policy) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let values = [
        Value::from(p.delete_without_force.timed_out),
        Value::from(p.delete_without_force.queued),
        Value::from(p.force_cancel_escalates),
        Value::from(p.version_bump.name()),
        Value::from(p.numbering.name()),
        Value::from(p.device_may_skip_in_progress),
        Value::from(p.remove_in_progress),
        Value::from(p.data_plane_describes_terminal),
        Value::from(p.pending_cap.get()),
        Value::from(p.details_write.name()),
        Value::from(p.notify_on.name()),
        Value::from(p.unknown_thing.name()),
    ];
    KNOBS.iter().zip(values).map(|((k, _), v)| ((*k).to_owned(), v)).collect()
}

fn knob_list() -> String {
    KNOBS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_knob_is_set_by_its_name_and_nothing_else_changes() {
        let settings = [
            (
                "delete_timed_out_without_force=false",
                Policy {
                    delete_without_force: iot_jobs_core::DeleteWithoutForce {
                        timed_out: false,
                        ..Policy::DEFAULT.delete_without_force
                    },
                    ..Policy::DEFAULT
                },
            ),
            (
                "delete_queued_without_force=true",
                Policy {
                    delete_without_force: iot_jobs_core::DeleteWithoutForce {
                        queued: true,
                        ..Policy::DEFAULT.delete_without_force
                    },
                    ..Policy::DEFAULT
                },
            ),
            ("force_cancel_escalates=true", Policy { force_cancel_escalates: true, ..Policy::DEFAULT }),
            (
                "version_bump=DEVICE_UPDATES_ONLY",
                Policy { version_bump: VersionBump::DeviceUpdatesOnly, ..Policy::DEFAULT },
            ),
            ("numbering=MONOTONIC", Policy { numbering: Numbering::Monotonic, ..Policy::DEFAULT }),
            (
                "device_may_skip_in_progress=false",
                Policy { device_may_skip_in_progress: false, ..Policy::DEFAULT },
            ),
            ("remove_in_progress=false", Policy { remove_in_progress: false, ..Policy::DEFAULT }),
            (
                "data_plane_describes_terminal=true",
                Policy { data_plane_describes_terminal: true, ..Policy::DEFAULT },
            ),
            ("pending_cap=15", Policy { pending_cap: PendingCap::Fifteen, ..Policy::DEFAULT }),
            ("details_write=MERGE", Policy { details_write: DetailsWrite::Merge, ..Policy::DEFAULT }),
            (
                "notify_on=EVERY_NON_TERMINAL_CHANGE",
                Policy { notify_on: NotifyOn::EveryNonTerminalChange, ..Policy::DEFAULT },
            ),
            ("unknown_thing=NOT_FOUND", Policy { unknown_thing: UnknownThing::NotFound, ..Policy::DEFAULT }),
        ];
        assert_eq!(settings.len(), KNOBS.len());
        for (setting, want) in settings {
            let mut p = Policy::DEFAULT;
            set_knob(&mut p, setting).unwrap();
            assert_eq!(p, want, "{setting}");
            assert_ne!(p, Policy::DEFAULT, "{setting} changes its knob");
            // What the stats show is what the flag took.
            let (knob, value) = setting.split_once('=').unwrap();
            let shown = knob_values(&p)[knob].to_string();
            assert_eq!(shown.trim_matches('"'), value, "{setting}");
        }
    }

    #[test]
    fn a_bad_setting_names_what_is_allowed_and_changes_nothing() {
        let mut p = Policy::DEFAULT;
        for (setting, message) in [
            ("pending_cap", "\"pending_cap\" is not KNOB=VALUE (knobs: delete_timed_out_without_force, "),
            ("pending=10", "\"pending\" is not a policy knob (knobs: delete_timed_out_without_force, "),
            ("pending_cap=12", "pending_cap takes 10|15 (R12), not \"12\""),
            ("remove_in_progress=yes", "remove_in_progress takes true|false (R10), not \"yes\""),
            ("numbering=monotonic", "numbering takes REUSE_AFTER_DELETE|MONOTONIC (R7), not \"monotonic\""),
        ] {
            let e = set_knob(&mut p, setting).unwrap_err();
            assert!(e.starts_with(message), "{setting}: {e}");
            assert_eq!(p, Policy::DEFAULT);
        }
    }
}
