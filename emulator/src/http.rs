//! HTTP: the listener's accept loop (a connection cap, a header timeout, a graceful stop) and
//! the one service both planes and the admin API go through (route, read the body within its
//! limits, run the operation, answer once the change is durable).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as Ext};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::faults::Effect;
use crate::journal::{Entry, Outcome};
use crate::routing::{self, Op, Route};
use crate::wire::ApiError;
use crate::{App, Config, stopped};

/// Connection handling of a listener (from [`Config`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    max: usize,
    header_timeout: Duration,
    shutdown_timeout: Duration,
}

impl From<&Config> for ConnLimits {
    fn from(c: &Config) -> Self {
        ConnLimits {
            max: c.max_connections.clamp(1, Semaphore::MAX_PERMITS),
            header_timeout: c.header_timeout,
            shutdown_timeout: c.shutdown_timeout,
        }
    }
}

/// Accepts connections while fewer than `limits.max` are open (the others wait in the listen
/// backlog, holding no file descriptor of the emulator) and serves each with HTTP/1.1 and a
/// header read timeout. On stop: stops accepting, lets every connection finish the request in
/// flight, and closes what is still open after `limits.shutdown_timeout`.
pub(crate) fn spawn_listener(
    listener: TcpListener,
    app: Arc<App>,
    data_only: bool,
    mut stop: watch::Receiver<bool>,
    limits: ConnLimits,
) -> JoinHandle<()> {
    let router = Router::new().fallback(serve).with_state((app, data_only));
    let slots = Arc::new(Semaphore::new(limits.max));
    tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        let mut conns = JoinSet::new();
        // When the cap last held a connection back (the warning says so once a minute at most).
        let mut warned: Option<tokio::time::Instant> = None;
        loop {
            while conns.try_join_next().is_some() {}
            let free = Arc::clone(&slots).try_acquire_owned().ok();
            if free.is_none() && warned.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                warned = Some(tokio::time::Instant::now());
                tracing::warn!(
                    max_connections = limits.max,
                    "every connection this listener serves at once is open (--max-connections): \
                     new ones wait in the listen backlog until one closes"
                );
            }
            let slot = match free {
                Some(slot) => slot,
                None => tokio::select! {
                    s = Arc::clone(&slots).acquire_owned() => match s { Ok(s) => s, Err(_) => break },
                    () = stopped(&mut stop) => break,
                },
            };
            let stream = tokio::select! {
                r = listener.accept() => match r {
                    Ok((stream, _)) => {
                        // Small JSON answers: no Nagle delay on keep-alive connections.
                        let _ = stream.set_nodelay(true);
                        stream
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!("cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = stopped(&mut stop) => break,
            };
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            let service = TowerToHyperService::new(router.clone());
            // An answer marked [`Lost`] fails the service: hyper closes the connection without
            // writing anything.
            let service = hyper::service::service_fn(move |req| {
                let answer = hyper::service::Service::call(&service, req);
                async move {
                    let r = answer.await.unwrap_or_else(|never| match never {});
                    if r.extensions().get::<Lost>().is_some() { Err(Lost) } else { Ok(r) }
                }
            });
            let conn = http.serve_connection(TokioIo::new(stream), service);
            let conn = graceful.watch(conn);
            conns.spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("connection: {e}");
                }
                drop(slot);
            });
        }
        drop(listener);
        if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown()).await.is_err() {
            tracing::warn!(
                open = conns.len(),
                "connections still open {} ms after the shutdown began: closing them",
                limits.shutdown_timeout.as_millis()
            );
        }
        conns.shutdown().await;
    })
}

/// No answer: the mark of a request or answer an injected fault lost, whose connection is
/// closed without a response (the client sees the connection fail, as when a network drops it).
#[derive(Debug, Clone, Copy)]
struct Lost;

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer: an injected fault lost the request or its answer")
    }
}

impl std::error::Error for Lost {}

/// The answer that is none: its connection is closed ([`Lost`]).
fn lost() -> Response {
    let mut r = Response::new(Body::empty());
    r.extensions_mut().insert(Lost);
    r
}

/// The `x-amzn-RequestId` of this process's request number `n` ([`crate::uuid`]).
fn request_id(n: u64) -> String {
    static IDS: crate::uuid::Sequence = crate::uuid::Sequence::new();
    IDS.nth(n)
}

fn respond(status: u16, body: Vec<u8>, error: Option<&'static str>, n: u64) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&request_id(n)) {
        h.insert("x-amzn-RequestId", v);
    }
    if let Some(name) = error {
        h.insert("x-amzn-ErrorType", HeaderValue::from_static(name));
    }
    r
}

/// An error answer: its shape in the body, and the exception's name in `x-amzn-ErrorType` and
/// its message in `x-amzn-ErrorMessage` (the AWS SDK for Go v1 reads the message only from there
/// when the type header is present; a message that is not a valid header value is left out).
fn error(e: &ApiError, request_id: u64) -> Response {
    let mut r = respond(e.status, e.body(), Some(e.name), request_id);
    if let Ok(v) = HeaderValue::from_str(&e.message) {
        r.headers_mut().insert("x-amzn-ErrorMessage", v);
    }
    r
}

/// The most bytes a request's body may have, and the flag that sets it.
#[derive(Debug, Clone, Copy)]
struct BodyLimit {
    bytes: usize,
    flag: &'static str,
}

/// Reads a request body of at most `limit` bytes within `timeout`. A declared
/// `Content-Length` over the limit is refused before anything is read (so a client that sent
/// `Expect: 100-continue` gets 413, not `100 Continue`); a body that grows over the limit is
/// 413; a body that cannot be read (malformed chunked encoding, a connection closed early) is
/// 400; a body not in within `timeout` is 408. With a 413, the body not read is handed back, to
/// be drained while the answer goes out (see [`drain`]).
async fn read_body(
    headers: &axum::http::HeaderMap,
    mut body: Body,
    BodyLimit { bytes: limit, flag }: BodyLimit,
    timeout: Duration,
) -> Result<axum::body::Bytes, (ApiError, Option<Body>)> {
    let too_large = || {
        let m = format!("the request body is larger than {limit} bytes ({flag})");
        ApiError::new(413, "RequestEntityTooLargeException", m, iot_jobs_core::ErrorCode::InvalidRequest)
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err((too_large(), Some(body)));
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut bytes = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, http_body_util::BodyExt::frame(&mut body)).await {
            Ok(None) => return Ok(bytes.into()),
            Ok(Some(Ok(frame))) => {
                let Some(data) = frame.data_ref() else { continue };
                if bytes.len().saturating_add(data.len()) > limit {
                    return Err((too_large(), Some(body)));
                }
                bytes.extend_from_slice(data);
            }
            Ok(Some(Err(e))) => {
                return Err((ApiError::invalid(format!("the request body cannot be read: {e}")), None));
            }
            Err(_) => {
                let m = format!("the request body was not received within {} ms", timeout.as_millis());
                return Err((
                    ApiError::new(
                        408,
                        "RequestTimeoutException",
                        m,
                        iot_jobs_core::ErrorCode::InvalidRequest,
                    ),
                    None,
                ));
            }
        }
    }
}

/// Reads and drops what a client still sends of a refused body (at most `cap` bytes, for at
/// most `timeout`) while its 413 goes out: closing a connection with unread data resets it, and
/// a client that writes its whole body before reading (most do) would lose the answer. Not for
/// `Expect: 100-continue`, whose client sends nothing more (reading would send `100 Continue`).
fn drain(mut body: Body, timeout: Duration, cap: usize) {
    tokio::spawn(async move {
        let mut seen = 0usize;
        let _ = tokio::time::timeout(timeout, async {
            while let Some(Ok(frame)) = http_body_util::BodyExt::frame(&mut body).await {
                seen = seen.saturating_add(frame.data_ref().map_or(0, axum::body::Bytes::len));
                if seen > cap {
                    break;
                }
            }
        })
        .await;
    });
}

/// DescribeEndpoint: this emulator's own addresses as `HOST:PORT` (the MQTT broker for
/// `iot:Data-ATS` and `iot:Data`, the default; the HTTP endpoint for `iot:Jobs` and
/// `iot:CredentialProvider`).
fn describe_endpoint(app: &App, query: &[(String, String)], host: Option<&str>) -> Result<Vec<u8>, ApiError> {
    let kind = query.iter().find(|(k, _)| k == "endpointType").map_or("iot:Data", |(_, v)| v.as_str());
    let Some((http, mqtt)) = app.endpoints.get() else {
        return Err(ApiError::unavailable("the emulator is starting"));
    };
    let address = match kind {
        "iot:Data-ATS" | "iot:Data" => reachable(
            mqtt.as_deref().ok_or_else(|| ApiError::invalid("the MQTT broker is off (--mqtt-addr off)"))?,
            host,
        ),
        "iot:Jobs" | "iot:CredentialProvider" => reachable(&http.to_string(), host),
        other => {
            return Err(ApiError::invalid(format!(
                "endpointType must be iot:Data, iot:Data-ATS, iot:CredentialProvider or iot:Jobs, not {other:?}"
            )));
        }
    };
    Ok(serde_json::json!({ "endpointAddress": address }).to_string().into_bytes())
}

/// `GET /_emulator/health` (and `HEAD`), for readiness and liveness probes: answered without the
/// state's lock, so a long import or export does not hold it up. 200 `{"status": "ok"}` while
/// changes are taken; 503 `{"status": "failing", "reason": ...}` once a journal write failed and
/// every change is refused until a restart. (While a state file is recovered at start nothing
/// is answered yet: a probe's connection waits.)
fn health(app: &App, id: u64) -> Response {
    let (status, body) = match app.refused() {
        None => (200, serde_json::json!({ "status": "ok" })),
        Some(reason) => (503, serde_json::json!({ "status": "failing", "reason": reason })),
    };
    respond(status, body.to_string().into_bytes(), None, id)
}

/// `address` as the client can reach it: a listener on every interface (`0.0.0.0`, `::`) is
/// named by the host the request was sent to (its `Host`), which reaches this machine, else by
/// the loopback address; any other address as it is (a bridged broker's name included).
fn reachable(address: &str, host: Option<&str>) -> String {
    match address.parse::<std::net::SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() => {
            let loopback = if a.is_ipv6() { "[::1]" } else { "127.0.0.1" };
            format!("{}:{}", host.filter(|h| !h.is_empty()).unwrap_or(loopback), a.port())
        }
        Ok(_) | Err(_) => address.to_owned(),
    }
}

/// The headers of an answer that a browser page may read (CORS): what the AWS SDK for
/// JavaScript reads of an answer.
const EXPOSED: &str = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date";

/// Every request, and CORS around it so that a page in a browser may call the emulator (the AWS
/// SDK for JavaScript v3 there): a preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`) is allowed for any origin, method and header; any other
/// request with an `Origin` gets its answer with `Access-Control-Allow-Origin: *`.
async fn serve(ext: Ext<(Arc<App>, bool)>, req: Request) -> Response {
    let cors = req.headers().contains_key(header::ORIGIN);
    if cors
        && req.method() == axum::http::Method::OPTIONS
        && let Some(method) = req.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD).cloned()
    {
        let mut r = Response::new(Body::empty());
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, method);
        let asked = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or(HeaderValue::from_static("*")));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        return r;
    }
    let mut r = answer(ext, req).await;
    if cors {
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
    }
    r
}

/// Every request: route, read the body, run the operation under the lock, save, render.
async fn answer(Ext((app, data_only)): Ext<(Arc<App>, bool)>, req: Request) -> Response {
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
    let scope = routing::signed_scope(auth, &query);
    // A request that names no operation is logged here (the others below, with their status).
    let refused = |e: ApiError| {
        tracing::debug!(status = e.status, request_id = request_id(id), "{method} {path}: {}", e.message);
        error(&e, id)
    };
    let Some(segs) = routing::segments(path) else {
        return refused(ApiError::invalid("the path is not valid UTF-8 after percent-decoding"));
    };
    let admin = !data_only && segs.first().map(String::as_str) == Some("_emulator");
    if admin && segs.len() == 2 && segs.get(1).map(String::as_str) == Some("health") {
        return match method {
            "GET" | "HEAD" => health(&app, id),
            _ => refused(ApiError::unknown_operation(405, format!("{method} is not allowed on {path}"))),
        };
    }
    if let Some(s) = &scope
        && s.region != app.region
        && !admin
    {
        // As AWS answers a request signed for another region than the endpoint's.
        let m = format!(
            "Credential should be scoped to a valid region, not '{}': this emulator serves {} (--region)",
            s.region, app.region
        );
        return refused(ApiError::new(
            403,
            "InvalidSignatureException",
            m,
            iot_jobs_core::ErrorCode::InvalidRequest,
        ));
    }
    let service = scope.map(|s| s.service);
    let op = match routing::route(method, &segs, &query, service.as_deref(), data_only) {
        Route::Op(op) => op,
        Route::MethodNotAllowed => {
            return refused(ApiError::unknown_operation(405, format!("{method} is not allowed on {path}")));
        }
        Route::NotFound => {
            let plane = if data_only { "iot-jobs-data" } else { "iot or iot-jobs-data" };
            return refused(ApiError::unknown_operation(
                404,
                format!("no {plane} operation matches {method} {path}"),
            ));
        }
        Route::UnknownService(s) => {
            let m = format!("this endpoint serves the iot and iot-jobs-data services, not {s:?}");
            return refused(ApiError::unknown_operation(404, m));
        }
    };
    if op == Op::DescribeEndpoint {
        let host = parts.uri.host().map(str::to_owned).or_else(|| {
            let h = parts.headers.get(header::HOST)?.to_str().ok()?;
            h.parse::<axum::http::uri::Authority>().ok().map(|a| a.host().to_owned())
        });
        return match describe_endpoint(&app, &query, host.as_deref()) {
            Ok(body) => respond(200, body, None, id),
            Err(e) => error(&e, id),
        };
    }
    let limit = if op == Op::ImportState {
        BodyLimit { bytes: app.state_limit, flag: "--max-state-bytes" }
    } else {
        BodyLimit { bytes: app.body_limit, flag: "--max-body-bytes" }
    };
    let body = match read_body(&parts.headers, body, limit, app.body_timeout).await {
        Ok(b) => b,
        Err((e, rest)) => {
            let expects = parts.headers.get(header::EXPECT).is_some();
            if let (Some(rest), false) = (rest, expects) {
                drain(rest, app.body_timeout, limit.bytes.saturating_mul(8));
            }
            let mut r = error(&e, id);
            // The rest of the body is not read: the connection cannot carry another request.
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    // Injected faults are the process's: answered here, without the state's lock.
    match op {
        Op::GetFaults => return respond(200, faults_body(&app.faults.list()), None, id),
        Op::SetFaults => {
            return match app.faults.add(&body) {
                Ok(faults) => respond(200, faults_body(&faults), None, id),
                Err(e) => error(&e, id),
            };
        }
        Op::ClearFaults => {
            app.faults.clear();
            return respond(200, faults_body(&[]), None, id);
        }
        _ => {}
    }
    let after = match app.faults.take(op.name(), op.plane().into(), op.thing()) {
        Some(Effect::Refuse(e)) => {
            tracing::debug!(
                op = op.name(),
                status = e.status,
                request_id = request_id(id),
                "{method} {path}: injected fault"
            );
            return error(&e, id);
        }
        Some(Effect::LoseRequest) => {
            tracing::debug!(
                op = op.name(),
                request_id = request_id(id),
                "{method} {path}: injected fault: lost, not run"
            );
            return lost();
        }
        after => after,
    };
    let response = run(&app, op, query, &body, id, (method, path)).await;
    match after {
        Some(Effect::LoseReply) => {
            tracing::debug!(
                request_id = request_id(id),
                "{method} {path}: injected fault: the answer is lost"
            );
            lost()
        }
        Some(Effect::Delay(d)) => {
            // The change is made (and saved) already: a client that goes away meanwhile loses
            // only the answer.
            tokio::time::sleep(d).await;
            response
        }
        Some(Effect::Refuse(_) | Effect::LoseRequest) | None => response,
    }
}

/// Runs an operation of the registry under the lock, saves it, renders its answer.
async fn run(
    app: &Arc<App>,
    op: Op,
    query: Vec<(String, String)>,
    body: &[u8],
    id: u64,
    (method, path): (&str, &str),
) -> Response {
    // With the journal, the export is encoded by its replica, without the lock.
    if op == Op::ExportState
        && let Some(body) = app.export().await
    {
        return respond(200, body, None, id);
    }
    if method != "GET"
        && let Some(m) = app.refused()
    {
        return error(&ApiError::unavailable(m), id);
    }
    let entry = Entry::Http { op, query };
    let (result, pending, events) = {
        let mut st = app.lock();
        let (outcome, seq) = app.run(&mut st, &entry, body);
        let result = match outcome {
            Outcome::Http(r) => r,
            _ => Err(ApiError::unavailable("not an HTTP operation")),
        };
        (result, seq, app.publisher.take(&mut st))
    };
    let Entry::Http { op, .. } = &entry else {
        return error(&ApiError::unavailable("not an HTTP operation"), id);
    };
    // In a task of its own: a client that goes away drops this future, and the change it made
    // is saved all the same, so its messages must go out all the same. A failed save rolled the
    // change back: its events never happened.
    let saving = Arc::clone(app);
    let saved = tokio::spawn(async move {
        let saved = saving.durable(pending).await;
        events.release(saved.is_ok());
        saved
    })
    .await
    .unwrap_or_else(|e| Err(format!("the save of this change failed: {e}")));
    if *op == Op::Reset && result.is_ok() && saved.is_ok() {
        app.reset_broker();
        app.faults.clear();
    }
    let response = match (result, saved) {
        (Ok(reply), Ok(())) if *op == Op::Stats => respond(200, app.with_broker_stats(reply.body), None, id),
        (Ok(reply), Ok(())) => respond(200, reply.body, None, id),
        (Err(e), _) => error(&e, id),
        (Ok(_), Err(m)) => {
            tracing::error!("{m}");
            error(&ApiError::unavailable(m), id)
        }
    };
    tracing::debug!(
        op = op.name(),
        status = response.status().as_u16(),
        request_id = request_id(id),
        "{method} {path}"
    );
    response
}

/// `{"faults": [...]}`: the faults waiting.
fn faults_body(faults: &[crate::faults::Fault]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "faults": faults })).unwrap_or_default()
}
