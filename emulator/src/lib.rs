//! A local AWS IoT Jobs endpoint (`iot` control plane and `iot-jobs-data` data plane) for the
//! AWS CLI and SDKs: a thin HTTP adapter over `iot-jobs-core`'s `Registry`. See README.md.

#![forbid(unsafe_code)]

pub mod clock;
pub mod handlers;
pub mod mqtt;
pub mod persist;
pub mod routing;
pub mod state;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as Ext};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::clock::{Clock, ClockMode};
use crate::persist::Saver;
use crate::routing::{Op, Route};
use crate::state::{Caps, State};
use crate::wire::{ApiError, Arns};

/// The largest request body accepted (1 MiB); a larger one gets 413.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// How the emulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Both planes (and the admin API).
    pub addr: SocketAddr,
    /// Optional second listener: data plane only.
    pub data_addr: Option<SocketAddr>,
    /// The MQTT broker's listener (`None`: no broker).
    pub mqtt_addr: Option<SocketAddr>,
    /// Region in ARNs.
    pub region: String,
    /// Account in ARNs.
    pub account_id: String,
    /// System or manual clock.
    pub clock: ClockMode,
    /// Seconds a deleted job stays DELETION_IN_PROGRESS.
    pub deletion_delay: u64,
    /// Where to keep the state across restarts.
    pub state_file: Option<PathBuf>,
    /// Table caps.
    pub caps: Caps,
    /// Largest request body in bytes.
    pub body_limit: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 4588)),
            data_addr: None,
            mqtt_addr: None,
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            clock: ClockMode::System,
            deletion_delay: 0,
            state_file: None,
            caps: Caps::default(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Shared by every request.
struct App {
    state: Mutex<State>,
    saver: Option<Saver>,
    /// Wakes the system-clock task when a deadline may have changed.
    wake: Notify,
    body_limit: usize,
    request_ids: AtomicU64,
    /// The MQTT broker, if it runs.
    broker: Option<Arc<mqtt::Broker>>,
    /// The bound addresses, for DescribeEndpoint: HTTP (both planes) and MQTT.
    endpoints: std::sync::OnceLock<(SocketAddr, Option<SocketAddr>)>,
}

impl App {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// After a change (with the lock held): the bytes to save, if there is a state file.
    fn commit(&self, st: &mut State) -> Option<(u64, Result<Vec<u8>, String>)> {
        st.generation = st.generation.saturating_add(1);
        self.saver.as_ref().map(|_| (st.generation, persist::encode(st)))
    }

    /// Publishes event messages (after their change was saved).
    fn publish(&self, messages: Vec<mqtt::Message>) {
        if let Some(broker) = &self.broker {
            for m in &messages {
                broker.publish(m);
            }
        }
    }

    /// Saves off the async workers; returns an error message if the state could not be saved.
    async fn save(self: &Arc<Self>, pending: Option<(u64, Result<Vec<u8>, String>)>) -> Result<(), String> {
        let Some((generation, bytes)) = pending else { return Ok(()) };
        let bytes = bytes?;
        let app = Arc::clone(self);
        let res = tokio::task::spawn_blocking(move || app.saver.as_ref().map(|s| s.write(generation, bytes)))
            .await
            .map_err(|e| e.to_string())?;
        match res {
            Some(Err(e)) => Err(format!("cannot save the state file: {e}")),
            Some(Ok(())) | None => Ok(()),
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
    app: Arc<App>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Stops accepting, finishes the requests in flight, and saves the state.
    pub async fn shutdown(self) -> Result<(), BoxError> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let pending = {
            let mut st = self.app.lock();
            self.app.commit(&mut st)
        };
        self.app.save(pending).await?;
        Ok(())
    }
}

/// Loads the state, binds the listeners and starts serving.
pub async fn start(config: Config) -> Result<Server, BoxError> {
    let arns = Arns { region: config.region.clone(), account: config.account_id.clone() };
    let loaded = match &config.state_file {
        Some(path) => persist::load(path, config.caps, config.clock, arns.clone(), config.deletion_delay)?,
        None => None,
    };
    let restored = loaded.is_some();
    let mut state = loaded.unwrap_or_else(|| {
        State::new(config.caps, Clock::new(config.clock, None), arns, config.deletion_delay)
    });
    let mqtt_listener = match config.mqtt_addr {
        Some(a) => {
            Some(TcpListener::bind(a).await.map_err(|e| format!("cannot listen for MQTT on {a}: {e}"))?)
        }
        None => None,
    };
    let broker = mqtt_listener.as_ref().map(|_| Arc::new(mqtt::Broker::default()));
    if broker.is_some() {
        state.outbox = Some(Vec::new());
    }
    let app = Arc::new(App {
        state: Mutex::new(state),
        saver: config.state_file.clone().map(Saver::new),
        wake: Notify::new(),
        body_limit: config.body_limit,
        request_ids: AtomicU64::new(0),
        broker,
        endpoints: std::sync::OnceLock::new(),
    });
    if let Some(path) = &config.state_file {
        // Fails early on an unwritable path.
        let pending = {
            let mut st = app.lock();
            app.commit(&mut st)
        };
        app.save(pending).await?;
        tracing::info!(path = %path.display(), restored, "state file");
    }
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    tasks.push(spawn_listener(listener, Arc::clone(&app), false, stop_rx.clone()));
    let data_addr = match config.data_addr {
        Some(a) => {
            let l = TcpListener::bind(a).await?;
            let a = l.local_addr()?;
            tasks.push(spawn_listener(l, Arc::clone(&app), true, stop_rx.clone()));
            Some(a)
        }
        None => None,
    };
    let mqtt_addr = match (mqtt_listener, &app.broker) {
        (Some(l), Some(broker)) => {
            let a = l.local_addr()?;
            let requests = mqtt_requests(Arc::clone(&app));
            tasks.push(tokio::spawn(mqtt::broker::serve(l, Arc::clone(broker), requests, stop_rx.clone())));
            Some(a)
        }
        _ => None,
    };
    let _ = app.endpoints.set((addr, mqtt_addr));
    if config.clock == ClockMode::System {
        tasks.push(tokio::spawn(clock_task(Arc::clone(&app), stop_rx)));
    }
    Ok(Server { addr, data_addr, mqtt_addr, app, stop, tasks })
}

/// The broker's hook for `$aws/things/…` publishes: runs a jobs request like an HTTP data-plane
/// call (due transitions first, one registry call, the change saved), then publishes the events
/// it caused and returns the answer for the publisher (SPEC §7.1: after the change is durable).
fn mqtt_requests(app: Arc<App>) -> mqtt::Requests {
    Arc::new(move |topic, payload| {
        let app = Arc::clone(&app);
        Box::pin(async move {
            if mqtt::jobs::route(&topic) == mqtt::jobs::Route::Other {
                return Vec::new();
            }
            let (outcome, pending, events, now) = {
                let mut st = app.lock();
                let ticked = st.tick();
                let outcome = mqtt::jobs::answer(&mut st, &topic, &payload);
                let changed = ticked || outcome.as_ref().is_some_and(|o| o.changed);
                let pending = if changed { app.commit(&mut st) } else { None };
                (outcome, pending, st.take_messages(), st.now())
            };
            if pending.is_some() {
                app.wake.notify_one();
            }
            let saved = app.save(pending).await;
            app.publish(events);
            let Some(outcome) = outcome else { return Vec::new() };
            tracing::debug!(topic, reply = outcome.reply.topic, "MQTT request");
            match saved {
                Ok(()) => vec![outcome.reply],
                Err(m) => {
                    tracing::error!("{m}");
                    vec![outcome.internal_error(&m, now)]
                }
            }
        })
    })
}

fn spawn_listener(
    listener: TcpListener,
    app: Arc<App>,
    data_only: bool,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let router = Router::new().fallback(serve).with_state((app, data_only));
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
            tracing::error!("listener failed: {e}");
        }
    })
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
        let (pending, events) = {
            let mut st = app.lock();
            let changed = st.tick();
            idle = !changed;
            (if changed { app.commit(&mut st) } else { None }, st.take_messages())
        };
        if let Err(e) = app.save(pending).await {
            tracing::error!("{e}");
        }
        app.publish(events);
    }
}

fn respond(status: u16, body: Vec<u8>, error: Option<&'static str>, request_id: u64) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!("{request_id:016x}")) {
        h.insert("x-amzn-RequestId", v);
    }
    if let Some(name) = error {
        h.insert("x-amzn-ErrorType", HeaderValue::from_static(name));
    }
    r
}

fn error(e: &ApiError, request_id: u64) -> Response {
    respond(e.status, e.body(), Some(e.name), request_id)
}

/// DescribeEndpoint: this emulator's own addresses as `HOST:PORT` (the MQTT broker for
/// `iot:Data-ATS` and `iot:Data`, the default; the HTTP endpoint for `iot:Jobs` and
/// `iot:CredentialProvider`).
fn describe_endpoint(app: &App, query: &[(String, String)]) -> Result<Vec<u8>, ApiError> {
    let kind = query.iter().find(|(k, _)| k == "endpointType").map_or("iot:Data", |(_, v)| v.as_str());
    let Some(&(http, mqtt)) = app.endpoints.get() else {
        return Err(ApiError::unavailable("the emulator is starting"));
    };
    let address = match kind {
        "iot:Data-ATS" | "iot:Data" => {
            mqtt.ok_or_else(|| ApiError::invalid("the MQTT broker is off (--mqtt-addr off)"))?
        }
        "iot:Jobs" | "iot:CredentialProvider" => http,
        other => {
            return Err(ApiError::invalid(format!(
                "endpointType must be iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs, not {other:?}"
            )));
        }
    };
    Ok(serde_json::json!({ "endpointAddress": address.to_string() }).to_string().into_bytes())
}

/// Every request: route, read the body, run the operation under the lock, save, render.
async fn serve(Ext((app, data_only)): Ext<(Arc<App>, bool)>, req: Request) -> Response {
    let id = app.request_ids.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let service = routing::signed_service(auth, &query);
    let Some(segs) = routing::segments(path) else {
        return error(&ApiError::invalid("the path is not valid UTF-8 after percent-decoding"), id);
    };
    let op = match routing::route(method, &segs, &query, service.as_deref(), data_only) {
        Route::Op(op) => op,
        Route::MethodNotAllowed => {
            let m = format!("{method} is not allowed on {path}");
            return error(&ApiError::unknown_operation(405, m), id);
        }
        Route::NotFound => {
            let plane = if data_only { "iot-jobs-data" } else { "iot or iot-jobs-data" };
            let m = format!("no {plane} operation matches {method} {path}");
            return error(&ApiError::unknown_operation(404, m), id);
        }
        Route::UnknownService(s) => {
            let m = format!("this endpoint serves the iot and iot-jobs-data services, not {s:?}");
            return error(&ApiError::unknown_operation(404, m), id);
        }
    };
    if op == Op::DescribeEndpoint {
        return match describe_endpoint(&app, &query) {
            Ok(body) => respond(200, body, None, id),
            Err(e) => error(&e, id),
        };
    }
    let body = match axum::body::to_bytes(body, app.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            let m = format!("the request body is larger than {} bytes", app.body_limit);
            let e = ApiError::new(
                413,
                "RequestEntityTooLargeException",
                m,
                iot_jobs_core::ErrorCode::InvalidRequest,
            );
            return error(&e, id);
        }
    };
    let (result, pending, events) = {
        let mut st = app.lock();
        // Due transitions first, so that the operation sees them.
        let ticked = st.tick();
        let result = handlers::handle(&mut st, &op, &query, &body);
        let changed = ticked || result.as_ref().is_ok_and(|r| r.changed);
        (result, if changed { app.commit(&mut st) } else { None }, st.take_messages())
    };
    if pending.is_some() {
        app.wake.notify_one();
    }
    let saved = app.save(pending).await;
    app.publish(events);
    let response = match (result, saved) {
        (Ok(reply), Ok(())) => respond(200, reply.body, None, id),
        (Err(e), _) => error(&e, id),
        (Ok(_), Err(m)) => {
            tracing::error!("{m}");
            error(&ApiError::unavailable(m), id)
        }
    };
    tracing::debug!(op = op.name(), status = response.status().as_u16(), "{method} {path}");
    response
}
