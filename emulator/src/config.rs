//! How the emulator runs: [`Config`], every listener, cap, timeout and policy of a server, with
//! the defaults of `iot-jobs-emulator` without flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
