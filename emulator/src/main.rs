//! `iot-jobs-emulator`: see README.md.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::state::Caps;
use iot_jobs_emulator::{
    Config, DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_STATE_LIMIT, check_body_limit, check_state_limit,
};

/// A local AWS IoT Jobs endpoint (iot + iot-jobs-data) for the AWS CLI and SDKs.
#[derive(Debug, Parser)]
// `--max-jobs -1` is a value of the flag, refused by its parser naming it, not an unknown `-1`.
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Address for both planes and the admin API (loopback by default).
    #[arg(long, default_value = "127.0.0.1:4588")]
    addr: SocketAddr,
    /// Optional second address that serves only the data plane (iot-jobs-data).
    #[arg(long)]
    data_addr: Option<SocketAddr>,
    /// The embedded MQTT broker's address (MQTT 3.1.1 and 5, plain TCP), or `off` [default:
    /// 127.0.0.1:1883, or off with --mqtt-broker].
    #[arg(long, value_parser = parse_mqtt_addr)]
    mqtt_addr: Option<MqttAddr>,
    /// Bridge mode: serve the jobs device API on an existing broker (mosquitto, EMQX, HiveMQ,
    /// ...) as its MQTT 5 client, `mqtt://[USER[:PASSWORD]@]HOST[:PORT]`. The embedded broker
    /// is then off unless --mqtt-addr is given.
    #[arg(long)]
    mqtt_broker: Option<iot_jobs_emulator::mqtt::bridge::BrokerUrl>,
    /// Bridge mode with a persistent session under this MQTT client id: the broker holds the
    /// requests devices publish while the emulator is away or restarting, and delivers them when
    /// it comes back with the same id [default: a clean session per connection].
    #[arg(long, requires = "mqtt_broker")]
    mqtt_broker_session: Option<String>,
    /// Seconds the broker keeps that session after the emulator disconnects (4294967295: for
    /// ever).
    #[arg(long, requires = "mqtt_broker_session", default_value_t = iot_jobs_emulator::mqtt::bridge::Session::DEFAULT_EXPIRY)]
    mqtt_broker_session_expiry: u32,
    /// An address for MQTT over TLS with client certificates, as AWS IoT Core serves devices
    /// (e.g. 127.0.0.1:8883); off unless given.
    #[arg(long)]
    mqtts_addr: Option<SocketAddr>,
    /// An address for MQTT over WebSocket, served on ws://ADDR/mqtt as AWS IoT Core serves it on
    /// wss://ENDPOINT/mqtt (e.g. 127.0.0.1:8083); off unless given.
    #[arg(long)]
    mqtt_ws_addr: Option<SocketAddr>,
    /// An address for MQTT over WebSocket over TLS, wss://ADDR/mqtt, with the server certificate
    /// of --tls-dir and no client certificate (AWS IoT Core authenticates these by a SigV4
    /// signature, which is not checked) (e.g. 127.0.0.1:8443); off unless given.
    #[arg(long)]
    mqtt_wss_addr: Option<SocketAddr>,
    /// Where the TLS listener's CA, server and device certificates are (written at first start;
    /// default: iot-jobs-emulator-tls in the system's temporary directory).
    #[arg(long)]
    tls_dir: Option<std::path::PathBuf>,
    /// Region used in ARNs (an AWS region's shape, such as us-east-1).
    #[arg(long, default_value = "us-east-1", value_parser = parse_region)]
    region: String,
    /// Account id used in ARNs (12 digits).
    #[arg(long, default_value = "123456789012", value_parser = parse_account)]
    account_id: String,
    /// `system`, or `manual` (moves only by POST /_emulator/clock).
    #[arg(long, value_enum, default_value = "system")]
    clock: ClockMode,
    /// Seconds a deleted job stays DELETION_IN_PROGRESS.
    #[arg(long, default_value_t = 0)]
    deletion_delay: u64,
    /// `on`: JOB and JOB_EXECUTION events are published until UpdateEventConfigurations
    /// switches them off; `off`: AWS's default, none until switched on (at start and after a
    /// reset).
    #[arg(long, default_value = "on", value_name = "on|off", value_parser = parse_switch, action = clap::ArgAction::Set)]
    job_events: bool,
    /// Set one reading of SPEC §R (repeatable), by the name the Python module's Policy gives
    /// it: delete_timed_out_without_force, delete_queued_without_force, force_cancel_escalates,
    /// device_may_skip_in_progress, remove_in_progress, data_plane_describes_terminal
    /// (true|false); version_bump (EVERY_CHANGE|DEVICE_UPDATES_ONLY), numbering
    /// (REUSE_AFTER_DELETE|MONOTONIC), pending_cap (10|15), details_write (REPLACE|MERGE),
    /// notify_on (MEMBERSHIP_CHANGE|EVERY_NON_TERMINAL_CHANGE), unknown_thing
    /// (EMPTY|NOT_FOUND). A state file records it: a start under another policy is refused while
    /// its journal holds changes to replay.
    #[arg(long = "policy", value_name = "KNOB=VALUE")]
    policy: Vec<String>,
    /// Keep the state across restarts: PATH is the snapshot, and every change is appended to
    /// the journal segments PATH.<first record>.wal (synced before the change is answered)
    /// until the next checkpoint rewrites the snapshot. A state file of an earlier version
    /// loads as the snapshot.
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Stop as on SIGTERM once standard input reaches its end: a parent that starts the
    /// emulator with a pipe to its standard input and keeps the pipe open gets it stopped
    /// however the parent ends (killed included), since the pipe closes with it.
    #[arg(long)]
    stop_on_stdin_eof: bool,
    /// Write a checkpoint (the snapshot) after this many journalled changes ...
    #[arg(long, default_value_t = iot_jobs_emulator::DEFAULT_CHECKPOINT_RECORDS, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_records: u64,
    /// ... once the journal since the last checkpoint has also grown to this percentage of the
    /// snapshot's size (0: the changes alone decide), ...
    #[arg(long, default_value_t = iot_jobs_emulator::DEFAULT_CHECKPOINT_GROWTH)]
    checkpoint_growth: u32,
    /// ... or this many seconds after the last one, whichever comes first.
    #[arg(long, default_value_t = iot_jobs_emulator::DEFAULT_CHECKPOINT_INTERVAL.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_seconds: u64,
    /// Most bytes of synced journal records the checkpoints' replica may have left to apply;
    /// past it, the answers to changes wait until it catches up (a checkpoint of a large state
    /// slows it down for seconds).
    #[arg(long, default_value_t = iot_jobs_emulator::DEFAULT_REPLICA_LAG_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
    replica_lag_bytes: u64,
    /// error, warn, info, debug (debug logs every request and every notification), trace or off;
    /// or tracing directives (`iot_jobs_emulator=debug,info`).
    #[arg(long, default_value = "info", value_parser = parse_log_level)]
    log_level: String,
    /// Most jobs (including those being deleted).
    #[arg(long, default_value_t = 100_000)]
    max_jobs: usize,
    /// Most things.
    #[arg(long, default_value_t = 100_000)]
    max_things: usize,
    /// Most job executions.
    #[arg(long, default_value_t = 1_000_000)]
    max_executions: usize,
    /// Most executions with a non-empty statusDetails map.
    #[arg(long, default_value_t = 100_000)]
    max_status_details: usize,
    /// Most thing groups.
    #[arg(long, default_value_t = 100_000)]
    max_thing_groups: usize,
    /// Largest request body in bytes (larger: 413), but for POST /_emulator/state's.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT, value_parser = body_limit)]
    max_body_bytes: usize,
    /// Largest snapshot POST /_emulator/state loads, in bytes (larger: 413); at most
    /// 1,065,353,216 (an imported state is one journal record, of at most 1 GiB).
    #[arg(long, default_value_t = DEFAULT_STATE_LIMIT, value_parser = state_limit)]
    max_state_bytes: usize,
    /// Most connections served at once per listener; more wait in the listen backlog. The
    /// emulator raises its file-descriptor limit (`ulimit -n`) to what the caps need, up to the
    /// hard limit, and does not start if they do not fit.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Most MQTT connections the embedded broker holds at once, over all its listeners (TCP,
    /// TLS, WebSocket); more are closed as they come. Default: 10,000, or what the file-descriptor
    /// limit leaves after HTTP (with a warning); a number that does not fit stops the start.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    mqtt_max_connections: Option<u32>,
    /// Most bytes of messages the embedded broker holds for its sessions: queued for offline
    /// persistent sessions, on their way to clients or awaiting their acknowledgement, and
    /// retained, each copy counted with its topic, payload and properties. Past it, a client's
    /// publish is refused (MQTT 5: PUBACK 0x97, quota exceeded; otherwise the connection is
    /// closed) and offline sessions get no new messages, until what is held is delivered.
    #[arg(long, default_value_t = iot_jobs_emulator::DEFAULT_MQTT_MAX_HELD_BYTES as u64, value_parser = clap::value_parser!(u64).range(1..))]
    mqtt_max_held_bytes: u64,
    /// The longest an MQTT persistent session outlives its connection, in seconds (AWS IoT
    /// Core's persistent session expiry period: one hour by default, up to seven days): an
    /// MQTT 3.1.1 session with CleanSession 0 exactly that long, an MQTT 5 session as long as
    /// its Session Expiry Interval asks, up to that.
    #[arg(long, default_value_t = iot_jobs_emulator::mqtt::DEFAULT_SESSION_EXPIRY, value_parser = clap::value_parser!(u32).range(1..=i64::from(iot_jobs_emulator::mqtt::MAX_SESSION_EXPIRY)))]
    mqtt_session_expiry: u32,
    /// Milliseconds a client has to send a request's headers (also the longest an idle
    /// connection stays open).
    #[arg(long, default_value_t = millis(DEFAULT_HEADER_TIMEOUT), value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's body once its headers are in (longer: 408).
    #[arg(long, default_value_t = millis(DEFAULT_BODY_TIMEOUT), value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_ms: u64,
    /// Milliseconds SIGTERM or Ctrl-C waits for the requests in flight before closing their
    /// connections and saving the state.
    #[arg(long, default_value_t = millis(DEFAULT_SHUTDOWN_TIMEOUT))]
    shutdown_timeout_ms: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // (parse_log_level has checked it: the fallback is never taken.)
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours on a terminal, unless NO_COLOR is set to anything (no-color.org).
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut policy = iot_jobs_core::Policy::DEFAULT;
    let mut given = std::collections::BTreeSet::new();
    for setting in &args.policy {
        let knob = setting.split_once('=').map_or(setting.as_str(), |(k, _)| k);
        let checked = if given.insert(knob) {
            iot_jobs_emulator::set_knob(&mut policy, setting)
        } else {
            Err(format!("{knob} is given twice"))
        };
        if let Err(e) = checked {
            eprintln!("iot-jobs-emulator: --policy: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    let mqtt_broker_session = match &args.mqtt_broker_session {
        Some(id) => {
            match iot_jobs_emulator::mqtt::bridge::Session::new(id, args.mqtt_broker_session_expiry) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("iot-jobs-emulator: --mqtt-broker-session: {e}");
                    return std::process::ExitCode::from(2);
                }
            }
        }
        None => None,
    };
    let config = Config {
        addr: args.addr,
        data_addr: args.data_addr,
        mqtt_addr: match (args.mqtt_addr, &args.mqtt_broker) {
            (Some(MqttAddr(a)), _) => a,
            (None, Some(_)) => None,
            (None, None) => Some(SocketAddr::from(([127, 0, 0, 1], 1883))),
        },
        mqtt_broker: args.mqtt_broker.clone(),
        mqtt_broker_session,
        mqtts_addr: args.mqtts_addr,
        mqtt_ws_addr: args.mqtt_ws_addr,
        mqtt_wss_addr: args.mqtt_wss_addr,
        tls_dir: args.tls_dir.unwrap_or_else(|| Config::default().tls_dir),
        region: args.region.clone(),
        account_id: args.account_id,
        clock: args.clock,
        deletion_delay: args.deletion_delay,
        job_events: args.job_events,
        policy,
        state_file: args.state_file,
        checkpoint_records: args.checkpoint_records,
        checkpoint_growth: args.checkpoint_growth,
        checkpoint_interval: Duration::from_secs(args.checkpoint_seconds),
        replica_lag_bytes: args.replica_lag_bytes,
        caps: Caps {
            jobs: args.max_jobs,
            things: args.max_things,
            executions: args.max_executions,
            status_details: args.max_status_details,
            thing_groups: args.max_thing_groups,
        },
        body_limit: args.max_body_bytes,
        state_limit: args.max_state_bytes,
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        mqtt_max_connections: args.mqtt_max_connections.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        mqtt_max_held_bytes: usize::try_from(args.mqtt_max_held_bytes).unwrap_or(usize::MAX),
        mqtt_session_expiry: args.mqtt_session_expiry,
        header_timeout: Duration::from_millis(args.header_timeout_ms),
        body_timeout: Duration::from_millis(args.body_timeout_ms),
        shutdown_timeout: Duration::from_millis(args.shutdown_timeout_ms),
    };
    let config_tls_dir = config.tls_dir.clone();
    let signals = Signals::install(args.stop_on_stdin_eof);
    let server = match iot_jobs_emulator::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("iot-jobs-emulator: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}", server.addr);
    // What a client on this machine connects to: a listener on every interface by loopback.
    let local = |a: std::net::SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            std::net::SocketAddr::from(([127, 0, 0, 1], a.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        std::net::IpAddr::V4(_) | std::net::IpAddr::V6(_) => a,
    };
    let local_url = format!("http://{}", local(server.addr));
    let mut out = std::io::stdout().lock();
    let _ =
        writeln!(out, "iot-jobs-emulator listening on {url} (iot and iot-jobs-data, clock {:?})", args.clock);
    if let Some(d) = server.data_addr {
        let _ = writeln!(out, "data plane only (iot-jobs-data) on http://{d}");
    }
    if let Some(m) = server.mqtt_addr {
        let _ = writeln!(
            out,
            "MQTT broker (3.1.1 and 5, jobs device API on $aws/things/THING/jobs/...) on mqtt://{m}\n  \
             mosquitto_sub -h {h} -p {p} -t '$aws/things/+/jobs/#' -t '$aws/events/#' -v",
            h = local(m).ip(),
            p = m.port()
        );
    }
    if let Some(b) = &args.mqtt_broker {
        let _ = writeln!(
            out,
            "MQTT bridge: jobs device API served on the broker at {b} (reconnecting whenever it goes away{session})\n  \
             mosquitto_sub -h {h} -p {p} -t '$aws/things/+/jobs/#' -t '$aws/events/#' -v",
            h = b.host,
            p = b.port,
            session = match &args.mqtt_broker_session {
                Some(id) => format!(
                    "; persistent session {id:?}, kept {}s while away",
                    args.mqtt_broker_session_expiry
                ),
                None => String::new(),
            }
        );
    }
    if let Some(m) = server.mqtt_ws_addr {
        let _ = writeln!(
            out,
            "MQTT over WebSocket (subprotocol mqtt) on ws://{m}{}",
            iot_jobs_emulator::mqtt::websocket::PATH
        );
    }
    if let Some(m) = server.mqtt_wss_addr {
        let _ = writeln!(
            out,
            "MQTT over WebSocket over TLS (server certificate signed by {dir}/ca.pem) on wss://{m}{}",
            iot_jobs_emulator::mqtt::websocket::PATH,
            dir = config_tls_dir.display()
        );
    }
    if let Some(m) = server.mqtts_addr {
        let _ = writeln!(
            out,
            "MQTT over TLS (client certificates signed by {dir}/ca.pem; a device's: client.pem, client.key) on mqtts://{m}",
            dir = config_tls_dir.display()
        );
    }
    let _ = writeln!(
        out,
        "Point the AWS CLI or boto3 at it with any credentials:\n  \
         export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={region}\n  \
         export AWS_ENDPOINT_URL={local_url}\n  \
         (both planes; or AWS_ENDPOINT_URL_IOT and AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE, not \
         AWS_ENDPOINT_URL_IOT_JOBS_DATA, which the CLI ignores and goes to AWS)\n  \
         aws iot list-jobs --endpoint-url {local_url}\n  \
         aws iot-jobs-data get-pending-job-executions --thing-name THING --endpoint-url {local_url}\n  \
         boto3.client(\"iot\", endpoint_url=\"{local_url}\", region_name=\"{region}\")\n  \
         boto3.client(\"iot-jobs-data\", endpoint_url=\"{local_url}\", region_name=\"{region}\")",
        region = args.region
    );
    let _ = out.flush();
    drop(out);
    let mut signals = signals;
    signals.next().await;
    // After the first stop event, only a signal counts (standard input's end does not), and only
    // one a second or more later: a supervisor that closes standard input and sends SIGTERM at
    // once (the Python package's `stop()`), or a terminal that delivers one Ctrl-C as SIGINT
    // to a whole process group, asks for one graceful stop.
    signals.stdin_eof = None;
    let began = std::time::Instant::now();
    let second = async {
        loop {
            signals.next().await;
            if began.elapsed() >= Duration::from_secs(1) {
                return;
            }
        }
    };
    tracing::info!("shutting down (a second SIGINT or SIGTERM, a second or more later, stops at once)");
    tokio::select! {
        stopped = server.shutdown() => match stopped {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("iot-jobs-emulator: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        () = second => {
            // Every acknowledged change is in the journal (or, without a state file, nothing is
            // kept anyway); the requests still in flight were not acknowledged.
            eprintln!(
                "iot-jobs-emulator: stopped by a second signal without waiting for open connections \
                 or a final checkpoint (a state file's journal is replayed at the next start)"
            );
            // Not a return: the runtime's drop would wait for the tasks the stop left.
            std::process::exit(130)
        }
    }
}

/// `--mqtt-addr`: an address or `off`.
#[derive(Debug, Clone, Copy)]
struct MqttAddr(Option<SocketAddr>);

/// `--max-state-bytes`: a byte count the library takes ([`check_state_limit`]).
fn state_limit(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{s:?} is not a byte count: {e}"))?;
    check_state_limit(n)?;
    Ok(n)
}

/// `--max-body-bytes`: a byte count the library takes ([`check_body_limit`]).
fn body_limit(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{s:?} is not a byte count: {e}"))?;
    check_body_limit(n)?;
    Ok(n)
}

fn parse_region(s: &str) -> Result<String, String> {
    iot_jobs_emulator::wire::check_region(s).map(|()| s.to_owned())
}

/// `on` or `off`.
fn parse_switch(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?} is neither `on` nor `off`")),
    }
}

fn parse_account(s: &str) -> Result<String, String> {
    iot_jobs_emulator::wire::check_account(s).map(|()| s.to_owned())
}

/// A level, or directives with a target (`target=level`, comma-separated): a lone word that is
/// not a level would be read as a target and silence every log.
fn parse_log_level(s: &str) -> Result<String, String> {
    const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];
    let directive_ok = |d: &str| LEVELS.contains(&d.to_ascii_lowercase().as_str()) || d.contains('=');
    if s.is_empty() || !s.split(',').all(directive_ok) {
        return Err(format!(
            "{s:?} is not a log level (error, warn, info, debug, trace, off) or target=level directives"
        ));
    }
    tracing_subscriber::EnvFilter::try_new(s).map(|_| s.to_owned()).map_err(|e| e.to_string())
}

fn parse_mqtt_addr(s: &str) -> Result<MqttAddr, String> {
    if s == "off" {
        return Ok(MqttAddr(None));
    }
    s.parse()
        .map(|a| MqttAddr(Some(a)))
        .map_err(|e| format!("{e} (an address such as 127.0.0.1:1883, or off)"))
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment this is made (before the address is
/// printed, so a supervisor that signals as soon as it reads it gets a graceful stop), and with
/// `--stop-on-stdin-eof` the end of standard input.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
    /// Ends when standard input reaches its end (or cannot be read).
    stdin_eof: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Signals {
    fn install(stop_on_stdin_eof: bool) -> Self {
        // A thread of its own: a blocking read of a pipe is not cancellable, and the process
        // exits without waiting for it.
        let stdin_eof = stop_on_stdin_eof.then(|| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                // Reads to the end (or the first error) and drops what it reads.
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = tx.send(());
            });
            rx
        });
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams =
                signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
            Signals { streams: streams.ok(), stdin_eof }
        }
        #[cfg(not(unix))]
        {
            Signals { stdin_eof }
        }
    }

    /// Returns at the next signal (or, the first time, at the end of standard input).
    async fn next(&mut self) {
        let stdin_eof = &mut self.stdin_eof;
        let eof = async {
            match stdin_eof {
                Some(rx) => {
                    let _ = rx.await;
                    *stdin_eof = None;
                    tracing::info!("standard input closed (--stop-on-stdin-eof)");
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.streams {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
                () = eof => {}
            }
            return;
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = eof => {}
        }
    }
}
