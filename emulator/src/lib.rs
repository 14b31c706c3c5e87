//! A local AWS IoT Jobs endpoint (`iot` control plane and `iot-jobs-data` data plane) for the
//! AWS CLI and SDKs: a thin HTTP adapter over `iot-jobs-core`'s `Registry`. See README.md.

#![forbid(unsafe_code)]

pub mod clock;
mod config;
pub mod faults;
mod fds;
pub mod handlers;
mod http;
pub mod journal;
pub mod managed;
pub mod mqtt;
pub mod persist;
mod publish;
pub mod routing;
pub mod state;
mod uuid;
pub mod wire;

use iot_jobs_core::registry::MAX_ENTRIES;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::clock::{Clock, ClockMode};
pub use crate::config::{Config, KNOBS, set_knob};
use crate::faults::Effect;
use crate::http::{ConnLimits, spawn_listener};
use crate::journal::{Entry, Journal, Outcome, Ticket};
use crate::state::{Caps, State};
use crate::wire::Arns;

/// The largest request body accepted (1 MiB); a larger one gets 413.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// The largest snapshot `POST /_emulator/state` accepts, by default (512 MiB; a snapshot of
/// a million executions is 300–350 MB); a larger one gets 413.
pub const DEFAULT_STATE_LIMIT: usize = 512 << 20;

/// The largest [`Config::state_limit`]: an imported state is one journal record, and a record
/// holds at most 1 GiB, its header (the operation and the query, at most a few MiB) included.
pub const MAX_STATE_LIMIT: usize = journal::MAX_RECORD - (8 << 20);

/// Refuses a [`Config::state_limit`] of 0 or past [`MAX_STATE_LIMIT`], saying why (for `start`
/// and the `--max-state-bytes` flag alike).
pub fn check_state_limit(bytes: usize) -> Result<(), String> {
    if bytes == 0 {
        return Err("a state limit of 0 bytes would refuse every import".to_owned());
    }
    if bytes > MAX_STATE_LIMIT {
        return Err(format!(
            "a state limit of {bytes} bytes is more than {MAX_STATE_LIMIT} (an imported state is one \
             journal record)"
        ));
    }
    Ok(())
}

/// Whether `bytes` can be the request body limit: at least 1 (0 would refuse every request
/// with a body, `POST /_emulator/clock` included).
///
/// # Errors
/// Says why not.
pub fn check_body_limit(bytes: usize) -> Result<(), String> {
    if bytes == 0 {
        return Err("a body limit of 0 bytes would refuse every request with a body".to_owned());
    }
    Ok(())
}

/// Most connections served at once, by default; more wait in the listen backlog.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 512;

/// Most MQTT connections the embedded broker holds at once (over its listeners), by default;
/// lowered to fit under the file-descriptor limit (what HTTP and the emulator itself leave).
pub const DEFAULT_MQTT_MAX_CONNECTIONS: usize = 10_000;

/// Most bytes of messages the embedded broker holds for its sessions (queued, in flight,
/// retained; each copy counted whole), by default: past it, publishes are refused
/// ([`mqtt::budget`]).
pub const DEFAULT_MQTT_MAX_HELD_BYTES: usize = 1 << 30;

/// How long a client has to send a request's headers (and how long an idle connection stays
/// open), by default.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client has to send a request's body once its headers are in, by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a shutdown waits for the requests in flight, by default, before closing their
/// connections.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A checkpoint is written after this many journal records, by default.
pub const DEFAULT_CHECKPOINT_RECORDS: u64 = 100_000;

/// A checkpoint after `checkpoint_records` records waits, by default, until the journal since
/// the last one has grown to this percentage of the last snapshot's size.
pub const DEFAULT_CHECKPOINT_GROWTH: u32 = 100;

/// A checkpoint is written this long after the last one if anything changed, by default.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(300);

/// The journal's replica may have this many bytes of synced records left to apply before the
/// answers to changes wait for it, by default (64 MiB: 200,000 updates of a few hundred bytes,
/// several seconds of a checkpoint at 1M executions).
pub const DEFAULT_REPLICA_LAG_BYTES: u64 = 64 << 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Shared by every request.
struct App {
    state: Mutex<State>,
    /// The write-ahead journal (with `--state-file`).
    journal: Option<Journal>,
    /// Wakes the system-clock task when a deadline may have changed.
    wake: Notify,
    body_limit: usize,
    /// The body limit of `POST /_emulator/state`.
    state_limit: usize,
    body_timeout: Duration,
    request_ids: AtomicU64,
    /// The region requests must be signed for (`--region`).
    region: String,
    /// The MQTT broker, if it runs.
    broker: Option<Arc<mqtt::Broker>>,
    /// Publishes the service's messages in the order of their changes (to the broker, and to
    /// an existing one in bridge mode).
    publisher: Arc<publish::Publisher>,
    /// The bound addresses, for DescribeEndpoint: HTTP (both planes) and MQTT (`HOST:PORT`).
    endpoints: std::sync::OnceLock<(SocketAddr, Option<String>)>,
    /// Injected faults (`/_emulator/faults`).
    faults: faults::Faults,
}

impl App {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs an operation under the lock at one time (the time its journal record keeps) and,
    /// if it changed the state, hands its record to the journal. Returns the outcome and the
    /// record's ticket, to wait for with [`App::durable`] before answering.
    fn run(&self, st: &mut State, entry: &Entry, data: &[u8]) -> (Outcome, Option<Ticket>) {
        let now = st.begin();
        let (outcome, changed) = journal::apply(st, entry, data);
        st.pin(None);
        let accepted = outcome.accepted();
        let seq = changed.then(|| self.commit(st, now, entry, accepted, data));
        if changed {
            self.wake.notify_one();
        }
        (outcome, seq.flatten())
    }

    /// After a change (with the lock held): numbers it and hands its record to the journal.
    fn commit(&self, st: &mut State, now: u64, entry: &Entry, accepted: bool, data: &[u8]) -> Option<Ticket> {
        st.generation = st.generation.saturating_add(1);
        let journal = self.journal.as_ref()?;
        Some(match journal::encode(st.generation, now, entry, accepted, data) {
            Ok(bytes) => journal.append(st.generation, &bytes),
            Err(e) => journal.refuse(format!("{e}; changes are refused until a restart")),
        })
    }

    /// Whether changes are refused (a journal write failed), and why.
    fn refused(&self) -> Option<String> {
        let failed = self.journal.as_ref()?.status().failed?;
        Some(failed.to_string())
    }

    /// `GET /_emulator/stats`' answer with the embedded broker's figures under `mqtt`, if it
    /// runs ([`mqtt::Broker::stats`]).
    fn with_broker_stats(&self, body: Vec<u8>) -> Vec<u8> {
        let Some(broker) = &self.broker else { return body };
        let Ok(serde_json::Value::Object(mut stats)) = serde_json::from_slice(&body) else { return body };
        stats.insert("mqtt".to_owned(), broker.stats());
        serde_json::to_vec(&stats).unwrap_or(body)
    }

    /// Forgets the broker's offline sessions and retained messages (`POST /_emulator/reset`).
    fn reset_broker(&self) {
        if let Some(broker) = &self.broker {
            broker.reset();
        }
    }

    /// Returns once the change with this ticket is on disk (writing it, and the others
    /// waiting, if no write is in progress: [`Journal::synced`]), and the replica is within
    /// its bound ([`Journal::caught_up`]). On a failed journal write: rolls the state back to
    /// what is on disk and returns the error (an error answer means nothing changed).
    async fn durable(self: &Arc<Self>, ticket: Option<Ticket>) -> Result<(), String> {
        let (Some(ticket), Some(journal)) = (ticket, &self.journal) else { return Ok(()) };
        match journal.synced(ticket).await {
            Ok(()) => {
                journal.caught_up().await;
                Ok(())
            }
            Err(e) => {
                let app = Arc::clone(self);
                let _ = tokio::task::spawn_blocking(move || app.roll_back()).await;
                Err(e)
            }
        }
    }

    /// `GET /_emulator/state` with the journal: due transitions are applied (and journalled)
    /// first, as for any operation; then the journal's replica encodes the state once it holds
    /// every change made before (see [`Journal::export`]). The live state's lock is held only
    /// for the transitions, not for the encoding. `None`: no journal, or it cannot (it
    /// failed, or its replica did; logged): the caller encodes the live state.
    async fn export(self: &Arc<Self>) -> Option<Vec<u8>> {
        let journal = self.journal.as_ref()?;
        if self.refused().is_some() {
            return None;
        }
        let (ticket, events) = {
            let mut st = self.lock();
            let (_, ticket) = self.run(&mut st, &Entry::Tick, &[]);
            (ticket.unwrap_or_else(|| journal.position()), self.publisher.take(&mut st))
        };
        if let Err(e) = self.durable(Some(ticket)).await {
            tracing::error!("{e}");
            events.release(false);
            return None;
        }
        events.release(true);
        match journal.export(ticket).await {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                tracing::warn!("the state is exported from the live copy: {e}");
                None
            }
        }
    }

    /// After a failed journal write: puts the state back to the records on disk (once: the
    /// first request to get here does it). Every later change is refused.
    fn roll_back(&self) {
        let Some(journal) = &self.journal else { return };
        let mut st = self.lock();
        let durable = journal.status().durable;
        if st.generation <= durable {
            return;
        }
        let mode = if matches!(st.clock, Clock::System) { ClockMode::System } else { ClockMode::Manual };
        let recovered = journal::recover(
            journal.base(),
            st.caps,
            mode,
            st.arns.clone(),
            st.deletion_delay,
            *st.registry.policy(),
            journal::Mode::UpTo(durable),
        );
        match recovered {
            Ok(back) => {
                let back = back.unwrap_or_else(|| {
                    State::with_policy(
                        st.caps,
                        Clock::new(mode, st.clock.saved()),
                        st.arns.clone(),
                        st.deletion_delay,
                        *st.registry.policy(),
                    )
                });
                st.replace(back.registry, back.meta);
                st.clock = back.clock;
                st.generation = durable;
                if let Some(out) = &mut st.outbox {
                    out.clear();
                }
                self.wake.notify_one();
                tracing::warn!(
                    durable,
                    "state rolled back to the changes on disk in {}",
                    journal.base().display()
                );
            }
            // Not expected (the files were readable at start): the state keeps the changes
            // that were refused; every later change is refused anyway.
            Err(e) => tracing::error!("cannot roll back to the changes on disk: {e}"),
        }
    }

    /// Writes a checkpoint: the journal's replica writes the snapshot of the records up to
    /// the last one, and deletes the segments it covers; the records after it go to a new
    /// segment. The lock is held only to hand the rotation over in record order: requests do
    /// not wait for the checkpoint.
    async fn checkpoint(self: &Arc<Self>) -> Result<(), String> {
        let Some(journal) = &self.journal else { return Ok(()) };
        let (seq, ticket) = {
            let st = self.lock();
            let status = journal.status();
            if status.failed.is_some() || st.generation <= status.checkpointed {
                return Ok(());
            }
            (st.generation, journal.rotate(st.generation.saturating_add(1)))
        };
        // The rotation is done by the next leader of the journal's writes: this task, if no
        // request is writing.
        journal.synced(ticket).await?;
        journal.checkpointed(seq, ticket).await?;
        tracing::debug!(seq, "checkpoint written to {}", journal.base().display());
        Ok(())
    }
}

/// How long after a failed checkpoint the next one is tried (at most).
const CHECKPOINT_RETRY: Duration = Duration::from_secs(10);

/// When checkpoints are written: after `records` journal records once the journal has grown
/// by `growth` percent of the last snapshot, or `interval` after the last one.
#[derive(Clone, Copy)]
struct CheckpointPolicy {
    records: u64,
    growth: u32,
    interval: Duration,
}

/// Writes checkpoints as `policy` says (if anything changed), off the request path.
async fn checkpoint_task(app: Arc<App>, mut stop: watch::Receiver<bool>, policy: CheckpointPolicy) {
    let CheckpointPolicy { records, growth, interval } = policy;
    let mut last = tokio::time::Instant::now();
    let mut retry = None;
    // The journal's size at the last checkpoint.
    let mut bytes_at_last = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let Some(status) = app.journal.as_ref().map(Journal::status) else { return };
        let behind = app.lock().generation.saturating_sub(status.checkpointed);
        if retry.is_some_and(|at| tokio::time::Instant::now() < at) {
            continue;
        }
        let grown = u128::from(status.journal_bytes.saturating_sub(bytes_at_last));
        let grown_enough = grown * 100 >= u128::from(growth) * u128::from(status.snapshot_bytes);
        if (behind >= records.max(1) && grown_enough) || (behind > 0 && last.elapsed() >= interval) {
            bytes_at_last = status.journal_bytes;
            // After a failed checkpoint (logged), the next one waits a while.
            retry = app.checkpoint().await.err().map(|e| {
                tracing::error!("{e}; the next checkpoint is tried in {:?}", CHECKPOINT_RETRY.min(interval));
                tokio::time::Instant::now() + CHECKPOINT_RETRY.min(interval)
            });
            last = tokio::time::Instant::now();
        }
    }
}

/// A running emulator.
pub struct Server {
    /// Where both planes are served.
    pub addr: SocketAddr,
    /// Where the data plane alone is served, if asked for.
    pub data_addr: Option<SocketAddr>,
    /// Where the MQTT broker listens, if it runs.
    pub mqtt_addr: Option<SocketAddr>,
    /// Where the MQTT broker listens over TLS, if asked for.
    pub mqtts_addr: Option<SocketAddr>,
    /// Where the MQTT broker listens over WebSocket (`ws://ADDR/mqtt`), if asked for.
    pub mqtt_ws_addr: Option<SocketAddr>,
    /// Where the MQTT broker listens over WebSocket over TLS (`wss://ADDR/mqtt`), if asked for.
    pub mqtt_wss_addr: Option<SocketAddr>,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The state file's lock ([`persist::lock`]), held as long as the server is.
    _lock: Option<std::fs::File>,
}

impl Server {
    /// The journal (with `--state-file`), for tests.
    #[doc(hidden)]
    pub fn journal(&self) -> Option<&Journal> {
        self.app.journal.as_ref()
    }

    /// The live state encoded as `GET /_emulator/state` answers it without a journal (under
    /// the lock), for tests to compare the replica's with.
    #[doc(hidden)]
    pub fn live_state(&self) -> Result<Vec<u8>, String> {
        persist::encode(&self.app.lock())
    }

    /// Stops accepting, finishes the requests in flight, and saves the state.
    pub async fn shutdown(self) -> Result<(), BoxError> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        // A last checkpoint, so that the next start replays nothing; the journal is empty then.
        let Some(journal) = &self.app.journal else { return Ok(()) };
        let written = self.app.checkpoint().await;
        journal.close();
        written?;
        let (failed, generation) = (journal.status().failed, self.app.lock().generation);
        if let Some(cause) = failed {
            // No last checkpoint (the journal's records replay at the next start): the stop
            // says why changes were refused, and fails.
            return Err(format!(
                "the journal of {} failed, and changes were refused since: {cause}",
                journal.base().display()
            )
            .into());
        }
        if journal.status().checkpointed == generation {
            for (_, path) in journal::segments(journal.base())? {
                journal::remove_segment(&path)?;
            }
            persist::sync_dir(journal.base())?;
        }
        Ok(())
    }
}

/// The connection caps of `config` fitted under the file-descriptor limit, raised as far as
/// they need ([`fds`]); returns the broker's cap.
fn fit_connections(config: &Config) -> Result<usize, String> {
    let caps = fds::Caps {
        http: config.max_connections,
        http_listeners: if config.data_addr.is_some() { 2 } else { 1 },
        mqtt: config.serves_mqtt().then_some(config.mqtt_max_connections),
    };
    let (soft, hard) = fds::raise(caps.needed());
    let mqtt = caps.fit(soft, hard)?;
    if caps.mqtt == Some(None) && mqtt < DEFAULT_MQTT_MAX_CONNECTIONS {
        tracing::warn!(
            limit = soft,
            "the file-descriptor limit leaves room for {mqtt} MQTT connections (not \
             {DEFAULT_MQTT_MAX_CONNECTIONS}): more are refused; raise it (ulimit -n) for more"
        );
    }
    Ok(mqtt)
}

/// Loads the state, binds the listeners and starts serving.
pub async fn start(mut config: Config) -> Result<Server, BoxError> {
    config.state_file = config.state_file.as_deref().map(persist::resolve).transpose()?;
    let arns = Arns::new(&config.region, &config.account_id)?;
    check_caps(config.caps)?;
    if !(1..=mqtt::MAX_SESSION_EXPIRY).contains(&config.mqtt_session_expiry) {
        return Err(format!(
            "mqtt_session_expiry is {} s: it must be 1 to {} (seven days)",
            config.mqtt_session_expiry,
            mqtt::MAX_SESSION_EXPIRY
        )
        .into());
    }
    check_state_limit(config.state_limit)?;
    check_body_limit(config.body_limit)?;
    // Two listeners of the emulator's on one address: say which flags clash, not only that the
    // address is in use (port 0 picks a free port for each).
    let clashes = [
        ("--data-addr", config.data_addr),
        ("--mqtt-addr", config.mqtt_addr),
        ("--mqtts-addr", config.mqtts_addr),
        ("--mqtt-ws-addr", config.mqtt_ws_addr),
        ("--mqtt-wss-addr", config.mqtt_wss_addr),
    ];
    let mut taken = vec![("--addr", config.addr)];
    for (name, a) in clashes {
        let Some(a) = a.filter(|a| a.port() != 0) else { continue };
        if let Some((other, _)) = taken.iter().find(|(_, t)| *t == a) {
            return Err(format!(
                "{name} and {other} are both {a}: each listener needs an address of its own"
            )
            .into());
        }
        taken.push((name, a));
    }
    let mqtt_max_connections = fit_connections(&config)?;
    // Everything that can fail for want of a resource (the state file's lock, the addresses)
    // is taken before the state file is read: a start that fails changes no file.
    let lock = config.state_file.as_deref().map(persist::lock).transpose()?;
    let bind = |a: SocketAddr| async move {
        TcpListener::bind(a).await.map_err(|e| format!("cannot listen on {a}: {e}"))
    };
    let listener = bind(config.addr).await?;
    let data_listener = match config.data_addr {
        Some(a) => Some(bind(a).await?),
        None => None,
    };
    // Each MQTT listener asked for, bound, with what MQTT runs over on it (a TLS one's
    // certificates written first if `tls_dir` lacks them).
    use mqtt::connection::Transport;
    type MakeTransport = fn(&std::path::Path, std::net::IpAddr) -> Result<Transport, String>;
    let tls_dir = config.tls_dir.as_path();
    let mqtt_listen = |a: Option<SocketAddr>, transport: MakeTransport| async move {
        let Some(a) = a else { return Ok::<_, String>(None) };
        let l = TcpListener::bind(a).await.map_err(|e| format!("cannot listen for MQTT on {a}: {e}"))?;
        Ok(Some((l, transport(tls_dir, a.ip())?)))
    };
    let mqtt_listener = mqtt_listen(config.mqtt_addr, |_, _| Ok(Transport::Tcp)).await?;
    let mqtts_listener =
        mqtt_listen(config.mqtts_addr, |dir, ip| Ok(Transport::Tls(mqtt::tls::acceptor(dir, ip)?))).await?;
    let mqtt_ws_listener = mqtt_listen(config.mqtt_ws_addr, |_, _| Ok(Transport::WebSocket)).await?;
    let mqtt_wss_listener = mqtt_listen(config.mqtt_wss_addr, |dir, ip| {
        Ok(Transport::SecureWebSocket(mqtt::tls::acceptor_without_client_certificates(dir, ip)?))
    })
    .await?;
    let loaded = match &config.state_file {
        Some(path) => journal::recover_from(
            path,
            config.caps,
            config.clock,
            arns.clone(),
            config.deletion_delay,
            config.policy,
            journal::Mode::Start,
        )?,
        None => None,
    };
    let restored = loaded.is_some();
    // The records replayed after the snapshot stay in their segments until a checkpoint.
    let (loaded, checkpointed) = match loaded {
        Some((st, seq)) => (Some(st), seq),
        None => (None, 0),
    };
    let mut state = loaded.unwrap_or_else(|| {
        State::with_policy(
            config.caps,
            Clock::new(config.clock, None),
            arns,
            config.deletion_delay,
            config.policy,
        )
    });
    state.job_events = config.job_events;
    let broker = config.serves_mqtt().then(|| {
        let broker = mqtt::Broker::new(mqtt_max_connections, config.mqtt_max_held_bytes);
        Arc::new(broker.with_session_expiry(config.mqtt_session_expiry))
    });
    let bridge = config
        .mqtt_broker
        .as_ref()
        .map(|url| mqtt::bridge::Bridge::new(url, config.mqtt_broker_session.as_ref()));
    if broker.is_some() || bridge.is_some() {
        state.outbox = Some(Vec::new());
    }
    // A bridge forwards every event; the embedded broker alone needs only those it routes.
    if bridge.is_none() {
        state.audience.clone_from(&broker);
    }
    let journal = config
        .state_file
        .as_ref()
        .map(|p| Journal::open(p, checkpointed, state.replica(), config.replica_lag_bytes))
        .transpose()?;
    let app = Arc::new(App {
        state: Mutex::new(state),
        journal,
        wake: Notify::new(),
        body_limit: config.body_limit,
        state_limit: config.state_limit,
        body_timeout: config.body_timeout,
        request_ids: AtomicU64::new(0),
        region: config.region.clone(),
        publisher: publish::Publisher::new(broker.clone(), bridge.as_ref().map(|(b, _)| b.clone())),
        broker,
        endpoints: std::sync::OnceLock::new(),
        faults: faults::Faults::default(),
    });
    if let Some(path) = &config.state_file {
        persist::remove_stale_temps(path);
        if !path.exists() {
            // The first snapshot (fails early on a path that cannot be written).
            persist::write_atomically(path, &persist::encode(&app.lock())?)?;
        }
        tracing::info!(path = %path.display(), restored, "state file");
    }
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let addr = listener.local_addr()?;
    let conn = ConnLimits::from(&config);
    tasks.push(spawn_listener(listener, Arc::clone(&app), false, stop_rx.clone(), conn));
    let data_addr = match data_listener {
        Some(l) => {
            let a = l.local_addr()?;
            tasks.push(spawn_listener(l, Arc::clone(&app), true, stop_rx.clone(), conn));
            Some(a)
        }
        None => None,
    };
    let mut serve_mqtt = |(l, transport): (TcpListener, Transport)| -> Result<SocketAddr, BoxError> {
        let a = l.local_addr()?;
        if let Some(broker) = &app.broker {
            let requests = mqtt_requests(Arc::clone(&app));
            tasks.push(tokio::spawn(mqtt::connection::serve(
                l,
                transport,
                Arc::clone(broker),
                requests,
                stop_rx.clone(),
            )));
        }
        Ok(a)
    };
    let mqtt_addr = mqtt_listener.map(&mut serve_mqtt).transpose()?;
    let mqtts_addr = mqtts_listener.map(&mut serve_mqtt).transpose()?;
    let mqtt_ws_addr = mqtt_ws_listener.map(&mut serve_mqtt).transpose()?;
    let mqtt_wss_addr = mqtt_wss_listener.map(&mut serve_mqtt).transpose()?;
    if let (Some((b, eventloop)), Some(url)) = (bridge, &config.mqtt_broker) {
        let requests = mqtt_requests(Arc::clone(&app));
        // A stopping bridge finishes the requests it has taken within the shutdown timeout.
        let drain = config.shutdown_timeout;
        let bridged = mqtt::bridge::run(b, eventloop, url.clone(), requests, stop_rx.clone(), drain);
        tasks.push(tokio::spawn(bridged));
    }
    // Devices reach the jobs API on the embedded broker if it runs, else on the bridged one.
    let mqtt_endpoint = mqtt_addr
        .or(mqtts_addr)
        .or(mqtt_wss_addr)
        .or(mqtt_ws_addr)
        .map(|a| a.to_string())
        .or_else(|| config.mqtt_broker.as_ref().map(mqtt::bridge::BrokerUrl::endpoint));
    let _ = app.endpoints.set((addr, mqtt_endpoint));
    if config.state_file.is_some() {
        let policy = CheckpointPolicy {
            records: config.checkpoint_records,
            growth: config.checkpoint_growth,
            interval: config.checkpoint_interval,
        };
        tasks.push(tokio::spawn(checkpoint_task(Arc::clone(&app), stop_rx.clone(), policy)));
    }
    if config.clock == ClockMode::System {
        tasks.push(tokio::spawn(clock_task(Arc::clone(&app), stop_rx)));
    }
    Ok(Server {
        addr,
        data_addr,
        mqtt_addr,
        mqtts_addr,
        mqtt_ws_addr,
        mqtt_wss_addr,
        app,
        stop,
        tasks,
        _lock: lock,
    })
}

/// The broker's hook for `$aws/things/…` publishes: runs a jobs request like an HTTP data-plane
/// call (due transitions first, one registry call, the change saved), then publishes the events
/// it caused and returns the answer for the publisher (SPEC §7.1: after the change is durable),
/// or none, or a late one, as an injected fault has it.
fn mqtt_requests(app: Arc<App>) -> mqtt::Requests {
    Arc::new(move |topic, payload| {
        let app = Arc::clone(&app);
        Box::pin(async move {
            if matches!(mqtt::jobs::route(&topic), mqtt::jobs::Route::ServiceOnly | mqtt::jobs::Route::Other)
            {
                return mqtt::Replies::default();
            }
            let after = match mqtt::jobs::fault(&app.faults, &topic) {
                Some(Effect::Refuse(e)) => {
                    let now = app.lock().now();
                    return vec![mqtt::jobs::refusal(&topic, &payload, &e, now)].into();
                }
                Some(Effect::LoseRequest) => {
                    tracing::debug!(topic, "MQTT request lost by an injected fault: not run, not answered");
                    return mqtt::Replies::default();
                }
                after => after,
            };
            let entry = Entry::Mqtt { topic };
            let (outcome, pending, events, now) = {
                let mut st = app.lock();
                let (outcome, seq) = app.run(&mut st, &entry, &payload);
                let Outcome::Mqtt(outcome) = outcome else { return mqtt::Replies::default() };
                (outcome, seq, app.publisher.take(&mut st), st.now())
            };
            let saved = app.durable(pending).await;
            // A failed save rolled the change back: its events never happened.
            events.release(saved.is_ok());
            let Some(outcome) = outcome else { return mqtt::Replies::default() };
            tracing::debug!(reply = outcome.reply.topic, "MQTT request");
            let reply = match saved {
                Ok(()) => outcome.reply,
                Err(m) => {
                    tracing::error!("{m}");
                    outcome.internal_error(&m, now)
                }
            };
            match after {
                Some(Effect::LoseReply) => {
                    tracing::debug!(reply = reply.topic, "MQTT answer lost by an injected fault");
                    mqtt::Replies::default()
                }
                Some(Effect::Delay(delay)) => mqtt::Replies { messages: vec![reply], delay },
                Some(Effect::Refuse(_) | Effect::LoseRequest) | None => vec![reply].into(),
            }
        })
    })
}

/// Refuses caps whose tables cannot be allocated: the registry's index (two buckets of four
/// bytes per job, thing and execution) is allocated when the registry is made, so a cap too
/// large for the memory is a clear error at start instead of an abort.
fn check_caps(caps: Caps) -> Result<(), String> {
    let each = [
        ("--max-jobs", caps.jobs),
        ("--max-things", caps.things),
        ("--max-executions", caps.executions),
        ("--max-status-details", caps.status_details),
    ];
    if let Some((flag, cap)) = each.into_iter().find(|(_, cap)| *cap > MAX_ENTRIES) {
        return Err(format!(
            "{flag} {cap}: more than the {MAX_ENTRIES} entries a table of the registry can hold: lower it"
        ));
    }
    let flags = "--max-jobs, --max-things and --max-executions";
    // `index_buckets` saturates: caps whose sum does not fit are too large to count.
    let buckets = Some(caps.storage().index_buckets()).filter(|n| *n != usize::MAX);
    let bytes = buckets.and_then(|n| n.checked_mul(std::mem::size_of::<u32>()));
    let (Some(buckets), Some(bytes)) = (buckets, bytes) else {
        return Err(format!("the caps ({flags}) are too large to count: lower them"));
    };
    let too_large = |available: &str| {
        format!(
            "the caps ({flags}: {} + {} + {}) need an index of {bytes} bytes allocated at start, \
             more than {available}: lower them",
            caps.jobs, caps.things, caps.executions
        )
    };
    if let Some(total) = physical_memory()
        && u64::try_from(bytes).unwrap_or(u64::MAX) > total
    {
        return Err(too_large(&format!("the {total} bytes of memory of this machine")));
    }
    let mut probe: Vec<u32> = Vec::new();
    probe.try_reserve_exact(buckets).map_err(|_| too_large("the allocator can give"))?;
    Ok(())
}

/// The machine's memory in bytes, where the system says (`MemTotal` in `/proc/meminfo`).
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Returns once `stop` is set.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// With the system clock: sleeps until the registry's next deadline and applies what is due.
async fn clock_task(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let mut idle = false;
    loop {
        let wait = {
            let st = app.lock();
            let now = st.now().secs();
            st.registry
                .next_deadline()
                .map_or(Duration::from_secs(3600), |d| Duration::from_secs(d.secs().saturating_sub(now)))
        };
        // A deadline that stays due after a tick that did nothing must not spin.
        let wait = if idle && wait.is_zero() { Duration::from_secs(1) } else { wait };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = app.wake.notified() => { idle = false; continue; }
            _ = stop.wait_for(|s| *s) => return,
        }
        if app.refused().is_some() {
            // The state stays as it is on disk until a restart.
            idle = true;
            continue;
        }
        let (pending, events) = {
            let mut st = app.lock();
            let before = st.generation;
            let (_, seq) = app.run(&mut st, &Entry::Tick, &[]);
            idle = st.generation == before;
            (seq, app.publisher.take(&mut st))
        };
        let saved = app.durable(pending).await;
        if let Err(e) = &saved {
            tracing::error!("{e}");
        }
        events.release(saved.is_ok());
    }
}
