//! Bridge mode: the emulator as a client of an existing broker (mosquitto, EMQX, HiveMQ, …)
//! instead of, or beside, the embedded one.
//!
//! The bridge connects with MQTT 5 (rumqttc's client), subscribes to [`REQUESTS`] at QoS 1 with
//! the no-local option (so that it does not receive its own answers), and hands every publish
//! to the same jobs adapter as the embedded broker ([`Requests`]). The answers (`/accepted`,
//! `/rejected`) and every notification and event are published to the broker at QoS 1, which
//! delivers them to each subscriber at the QoS of its subscription. Unlike the embedded broker
//! (and AWS IoT Core), an answer therefore reaches every client subscribed to its topic, not
//! only the client that asked.
//!
//! Requests are acknowledged once answered (an answer held back by an injected delay: once the
//! request is carried out), and at most [`RECEIVE_MAXIMUM`] unacknowledged QoS 1 requests are in
//! flight from the broker, so a broker faster than the emulator is held back by MQTT's own flow
//! control. Requests of one thing are answered in the order they arrived (they go to one of
//! [`WORKERS`] queues chosen by the thing name), delayed answers included ([`replies`]);
//! different things run side by side.
//!
//! When the broker goes away, the bridge reconnects with exponential backoff (from
//! [`MIN_BACKOFF`] to [`MAX_BACKOFF`]), logs both events, and subscribes again. Messages
//! published meanwhile wait in the client's queue (up to [`QUEUE`]); beyond it they are dropped
//! and logged. Those that were in flight or queued when the connection was lost are published
//! again on the next one (QoS 1: at least once). A request received on a connection that is gone
//! is answered but not acknowledged on the next one, where its packet id may name another
//! message (in a resumed session the broker delivers it again, below).
//!
//! By default each connection is a clean session under a client id of its own process, so the
//! requests devices publish while the bridge is away (the broker restarting, the emulator
//! restarting) reach no one. With a [`Session`] (`--mqtt-broker-session`), the bridge connects
//! under a fixed client id with `clean_start = false` and a session expiry: the broker keeps its
//! subscription while it is away and holds the QoS 1 requests published meanwhile (up to the
//! broker's own queue limit, mosquitto's `max_queued_messages`), and delivers them when the
//! bridge, or a restarted emulator with the same id, comes back. The broker also delivers again,
//! marked DUP, the requests it had sent and not seen acknowledged. When the session resumes in
//! the same emulator, a redelivered request the bridge had received and not yet acknowledged is
//! acknowledged without being answered again (its packet id cannot name another message until
//! the broker has the acknowledgement): a request is carried out once across a lost connection.
//! A stopping bridge takes no new request and finishes, answers and acknowledges the ones it has
//! taken before it disconnects ([`run`]), and closes the connection only once the broker has
//! read all of it and closed its side, so the broker delivers to a restarted emulator only
//! requests that were not carried out. Only a request whose acknowledgement left just before
//! the loss, or one carried out by an emulator that was killed or did not finish stopping in
//! time, can be carried out twice (QoS 1 is at least once; answers carry the request's
//! `clientToken`).

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, Publish, RetainForwardRule, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, ClientError, Event, EventLoop, MqttOptions, Request};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::broker::{MAX_PACKET, Requests};
use super::codec::Message;
use super::replies::{self, Late};

/// The filter the bridge subscribes to: every topic under a thing's jobs namespace (requests,
/// and topics that name no operation, which are answered `InvalidTopic`).
pub const REQUESTS: &str = "$aws/things/+/jobs/#";
/// Most unacknowledged QoS 1 requests the broker may send the bridge (MQTT 5 receive maximum).
pub const RECEIVE_MAXIMUM: u16 = 256;
/// Queues of requests answered side by side (one thing's requests always go to the same one).
pub const WORKERS: usize = 8;
/// Messages the client holds for the broker; while the broker is away, later ones are dropped.
pub const QUEUE: usize = 10_000;
/// The first wait before reconnecting.
pub const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two connection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Keep-alive asked of the broker.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// The least time a stopping bridge waits to hand its last messages to the broker and see it
/// close the connection, even when the shutdown timeout has run out.
const FLUSH: Duration = Duration::from_secs(1);
/// Requests waiting in one worker's queue; QoS 1 requests are bounded by [`RECEIVE_MAXIMUM`]
/// anyway, so only a flood of QoS 0 requests can fill it (they are then dropped, as QoS 0 allows).
const WORKER_QUEUE: usize = RECEIVE_MAXIMUM as usize * 4;

/// `--mqtt-broker`: `mqtt://[USER[:PASSWORD]@]HOST[:PORT]` (port 1883 by default).
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name and password, percent-decoded.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for BrokerUrl {
    // The password is not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.credentials.as_ref().map(|(u, _)| u.as_str());
        f.debug_struct("BrokerUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &user)
            .finish()
    }
}

impl BrokerUrl {
    /// `HOST:PORT`, as DescribeEndpoint answers it (IPv6 in brackets).
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mqtt://{}", self.endpoint())
    }
}

impl FromStr for BrokerUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = "a broker URL such as mqtt://127.0.0.1:1883 or mqtt://user:password@broker.example:1883";
        let Some(rest) = s.strip_prefix("mqtt://") else {
            return Err(if s.starts_with("mqtts://") {
                format!("{s:?}: mqtts:// is not supported yet; give {usage}")
            } else {
                format!("{s:?} is not {usage}")
            });
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(format!("{s:?}: a broker URL has no path, query or fragment; give {usage}"));
        }
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |v: &str| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8()
                        .map(|c| c.into_owned())
                        .map_err(|_| format!("{s:?}: the user name or password is not UTF-8 once decoded"))
                };
                (Some((decode(user)?, decode(password)?)), hostport)
            }
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let Some((host, after)) = v6.split_once(']') else {
                return Err(format!("{s:?}: an IPv6 address needs its closing ']'"));
            };
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() || host.contains(['[', ']', '@']) {
            return Err(format!("{s:?} names no valid host; give {usage}"));
        }
        let port = match port {
            None => 1883,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return Err(format!("{s:?}: the port must be 1 to 65535")),
            },
        };
        Ok(BrokerUrl { host: host.to_owned(), port, credentials })
    }
}

/// `--mqtt-broker-session`: a persistent session on the broker (see the [module](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The bridge's MQTT client id; no other client of the broker may use it (the broker would
    /// close one connection for the other).
    pub client_id: String,
    /// Seconds the broker keeps the session after the bridge disconnects (MQTT 5 session expiry
    /// interval; `u32::MAX`: it never expires).
    pub expiry: u32,
}

impl Session {
    /// Longest client id taken, in bytes (MQTT allows 65,535; brokers take far fewer).
    pub const MAX_CLIENT_ID: usize = 256;
    /// The session expiry by default: an hour.
    pub const DEFAULT_EXPIRY: u32 = 3600;

    /// A session under `client_id`, kept `expiry` seconds: refused, with the reason, for an
    /// empty or over-long client id, one with control characters (MQTT strings exclude U+0000
    /// and brokers refuse the rest), or an expiry of 0 (the broker would end the session at
    /// every disconnection: that is the clean session of the default).
    pub fn new(client_id: &str, expiry: u32) -> Result<Session, String> {
        if client_id.is_empty() || client_id.len() > Self::MAX_CLIENT_ID {
            return Err(format!(
                "the bridge's client id must be 1 to {} bytes long (got {})",
                Self::MAX_CLIENT_ID,
                client_id.len()
            ));
        }
        if client_id.chars().any(char::is_control) {
            return Err(format!("the bridge's client id {client_id:?} has a control character"));
        }
        if expiry == 0 {
            return Err("a session expiry of 0 seconds ends the session at every disconnection; \
                        leave out --mqtt-broker-session for a clean session"
                .to_owned());
        }
        Ok(Session { client_id: client_id.to_owned(), expiry })
    }
}

/// The publishing half of the bridge, kept by the emulator to publish events.
#[derive(Clone)]
pub struct Bridge {
    client: AsyncClient,
}

impl Bridge {
    /// The client for `url` and its event loop, in `session` if given (else a clean session
    /// under a client id of this process); nothing is connected until [`run`] polls it.
    pub fn new(url: &BrokerUrl, session: Option<&Session>) -> (Bridge, EventLoop) {
        let client_id = match session {
            Some(s) => s.client_id.clone(),
            None => format!("iot-jobs-emulator-{}", std::process::id()),
        };
        let mut options = MqttOptions::new(client_id, &url.host, url.port);
        options
            .set_keep_alive(KEEP_ALIVE)
            .set_clean_start(session.is_none())
            .set_session_expiry_interval(session.map(|s| s.expiry))
            .set_manual_acks(true)
            .set_receive_maximum(Some(RECEIVE_MAXIMUM))
            .set_max_packet_size(u32::try_from(MAX_PACKET).ok())
            .set_request_channel_capacity(QUEUE);
        // Answers are small and latency-bound: no Nagle delay behind an acknowledgement.
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        options.set_network_options(network);
        if let Some((user, password)) = &url.credentials {
            options.set_credentials(user, password);
        }
        let (client, eventloop) = AsyncClient::new(options, QUEUE);
        (Bridge { client }, eventloop)
    }

    /// Queues `message` for the broker without waiting (at QoS 1 unless it is QoS 0); a message
    /// that finds the queue full is dropped and logged.
    pub fn publish(&self, message: &Message) {
        let qos = if message.qos == 0 { QoS::AtMostOnce } else { QoS::AtLeastOnce };
        let r = self.client.try_publish_with_properties(
            message.topic.clone(),
            qos,
            message.retain,
            message.payload.clone(),
            message.properties.as_deref().cloned().unwrap_or_default(),
        );
        if let Err(e) = r {
            tracing::warn!(topic = message.topic, "MQTT bridge: a message for the broker is dropped: {e}");
        }
    }

    /// Publishes an answer, waiting for room in the client's queue.
    async fn answer(&self, message: Message) -> Result<(), ClientError> {
        // At QoS 1: the broker delivers it at each subscription's QoS.
        self.client.publish_bytes(message.topic, QoS::AtLeastOnce, false, message.payload).await
    }
}

/// Which connection to the broker is current: it grows each time one is lost. A request is
/// acknowledged only on the connection it came on (its packet id is that connection's).
#[derive(Clone, Default)]
struct Generation(Arc<Mutex<u64>>);

impl Generation {
    fn get(&self) -> u64 {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Acknowledges `p`, received on connection `generation`, if that connection is still the
    /// current one; waits for room in the client's queue. Returns whether it was acknowledged.
    async fn ack(&self, client: &AsyncClient, generation: u64, p: &Publish) -> bool {
        loop {
            {
                // Checked and queued under the lock: the connection cannot be declared lost in
                // between (see `lost`).
                let current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
                if *current != generation {
                    return false;
                }
                match client.try_ack(p) {
                    Ok(()) => return true,
                    Err(ClientError::TryRequest(_)) => {}
                    Err(e) => {
                        tracing::warn!("MQTT bridge: cannot acknowledge a request: {e}");
                        return false;
                    }
                }
            }
            // The queue is full: the event loop empties it.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The connection of `eventloop` was lost: from now on no acknowledgement of a request it
    /// brought is queued, and those queued since the loss are dropped (rumqttc's `clean` drops
    /// acknowledgements and keeps the rest). Returns the publishes that were in flight or queued,
    /// to publish again once connected.
    fn lost(&self, eventloop: &mut EventLoop) -> Vec<Request> {
        let mut current = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *current = current.wrapping_add(1);
        eventloop.clean();
        eventloop.pending.drain(..).filter(|r| matches!(r, Request::Publish(_))).collect()
    }
}

/// Drives the connection until `stop`: connects and reconnects with backoff, subscribes after
/// every connection, and answers the jobs requests it receives with `requests`.
///
/// On `stop` it takes no new request, and lets the workers finish the ones they hold (for at
/// most `drain`) while it goes on handing their answers and acknowledgements to the broker; then
/// it disconnects, and reads until the broker closes the connection. So on a connection that
/// outlives the stop, every request is either carried out and acknowledged, or neither: a
/// persistent session's broker delivers the rest again to the next bridge, which carries them
/// out once.
pub async fn run(
    bridge: Bridge,
    mut eventloop: EventLoop,
    url: BrokerUrl,
    requests: Requests,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let hasher = RandomState::new();
    let generation = Generation::default();
    let mut working = JoinSet::new();
    let workers: Vec<mpsc::Sender<Received>> = (0..WORKERS)
        .map(|_| {
            let (tx, rx) = mpsc::channel(WORKER_QUEUE);
            working.spawn(worker(rx, bridge.clone(), requests.clone(), generation.clone()));
            tx
        })
        .collect();
    // Publishes in flight or queued when the last connection was lost, for the next one.
    let mut unsent: Vec<Request> = Vec::new();
    // The packet ids of the QoS 1 requests of this session received and not yet acknowledged
    // (until rumqttc writes the PUBACK): a DUP request with one of them, in a resumed session, is
    // a request the bridge already has.
    let mut unacked: HashSet<u16> = HashSet::new();
    let mut backoff = MIN_BACKOFF;
    let mut connected = false;
    let mut failures = 0_u64;
    loop {
        let event = tokio::select! {
            e = eventloop.poll() => e,
            () = stopped(&mut stop) => break,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                if !ack.session_present {
                    // A new session: its packet ids name nothing received before.
                    unacked.clear();
                }
                // In a resumed session the subscription is there already, and the requests the
                // broker held follow at once; subscribing again is harmless and covers a broker
                // that lost the session.
                tracing::info!(
                    broker = %url,
                    after_failures = failures,
                    session_present = ack.session_present,
                    "MQTT bridge connected; subscribing to {REQUESTS}"
                );
                connected = true;
                failures = 0;
                backoff = MIN_BACKOFF;
                // `lost` took what rumqttc held for the old connection; it goes out again.
                if !unsent.is_empty() {
                    tracing::info!(
                        messages = unsent.len(),
                        "MQTT bridge: publishing again what the lost connection had not delivered"
                    );
                    eventloop.pending.extend(unsent.drain(..));
                }
                let client = bridge.client.clone();
                // Not awaited here: the event loop must go on polling for the SUBSCRIBE to leave.
                tokio::spawn(async move {
                    let filter = Filter {
                        path: REQUESTS.to_owned(),
                        qos: QoS::AtLeastOnce,
                        nolocal: true,
                        preserve_retain: false,
                        retain_forward_rule: RetainForwardRule::Never,
                    };
                    if let Err(e) = client.subscribe_many([filter]).await {
                        tracing::error!("MQTT bridge: cannot subscribe to {REQUESTS}: {e}");
                    }
                });
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                for code in &ack.return_codes {
                    match code {
                        SubscribeReasonCode::Success(q) => {
                            // The bridge serves from here on: a request published before this
                            // SUBACK is not delivered to it (tests and users wait for this line).
                            tracing::info!(granted = ?q, "MQTT bridge subscribed to {REQUESTS}; serving requests");
                        }
                        refused => tracing::error!(
                            broker = %url,
                            "MQTT bridge: the broker refused the subscription to {REQUESTS} ({refused:?}): no jobs request will be answered"
                        ),
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                // A DUP whose id is still unacknowledged is the same message again: it goes to
                // the queue of its first delivery, behind it, to be acknowledged only.
                let again = p.qos != QoS::AtMostOnce && !unacked.insert(p.pkid) && p.dup;
                let shard = thing_of(&p.topic).map_or(0, |t| hasher.hash_one(t));
                let index = usize::try_from(shard % WORKERS as u64).unwrap_or(0);
                let Some(tx) = workers.get(index) else { continue };
                if let Err(e) = tx.try_send(Received { generation: generation.get(), publish: p, again }) {
                    // Only QoS 0 requests can get here (see WORKER_QUEUE).
                    tracing::warn!("MQTT bridge: too many requests waiting: one is dropped ({e})");
                }
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::PubAck(pkid))) => {
                unacked.remove(&pkid);
            }
            Ok(Event::Incoming(Packet::Disconnect(d))) => {
                tracing::warn!(broker = %url, reason = ?d.reason_code, "MQTT bridge: the broker closed the connection");
            }
            Ok(_) => {}
            Err(e) => {
                unsent.extend(generation.lost(&mut eventloop));
                unsent.truncate(QUEUE);
                if connected {
                    tracing::warn!(broker = %url, "MQTT bridge: connection lost ({e}); reconnecting");
                } else if failures == 0 {
                    tracing::warn!(broker = %url, "MQTT bridge: cannot connect ({e}); retrying with backoff up to {MAX_BACKOFF:?}");
                } else {
                    tracing::debug!(broker = %url, failures, "MQTT bridge: cannot connect ({e})");
                }
                connected = false;
                failures = failures.saturating_add(1);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = stopped(&mut stop) => break,
                }
                backoff = backoff.saturating_mul(2).min(MAX_BACKOFF);
            }
        }
    }
    let deadline = Instant::now() + drain;
    // The workers end once their queues are empty.
    drop(workers);
    // Requests that came while stopping: neither carried out nor acknowledged.
    let mut left = 0_u64;
    if connected && finish(&mut eventloop, &mut working, deadline, &mut left).await {
        // The DISCONNECT goes out behind the messages already queued, and the broker closes the
        // connection once it has read it. The bridge reads until then: closing first, with bytes
        // of the broker's unread (it delivers requests until it reads the DISCONNECT), resets
        // the connection, and a broker that meets the reset while it is behind drops the rest of
        // what the bridge sent, acknowledgements included (mosquitto fails its next write and
        // closes), so it would deliver requests already carried out again.
        let _ = bridge.client.try_disconnect();
        let _ = tokio::time::timeout_at(deadline.max(Instant::now() + FLUSH), async {
            while let Ok(e) = eventloop.poll().await {
                if matches!(e, Event::Incoming(Packet::Publish(_))) {
                    left = left.saturating_add(1);
                }
            }
        })
        .await;
    }
    if left > 0 {
        tracing::info!(
            requests = left,
            "MQTT bridge: requests that came while stopping are left unacknowledged (a persistent session delivers them again)"
        );
    }
}

/// Polls `eventloop` until every worker in `working` has ended (or `deadline` has come), so that
/// the answers and acknowledgements they queue reach the broker; requests that come meanwhile
/// are neither carried out nor acknowledged (counted in `left`). Returns whether the connection
/// is still up.
async fn finish(
    eventloop: &mut EventLoop,
    working: &mut JoinSet<()>,
    deadline: Instant,
    left: &mut u64,
) -> bool {
    let ended = async { while working.join_next().await.is_some() {} };
    tokio::pin!(ended);
    let deadline = tokio::time::sleep_until(deadline);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut ended => break true,
            () = &mut deadline => {
                tracing::warn!(
                    "MQTT bridge: requests still being carried out when the shutdown timeout ran out; disconnecting without their acknowledgements"
                );
                break true;
            }
            e = eventloop.poll() => match e {
                Ok(Event::Incoming(Packet::Publish(_))) => *left = left.saturating_add(1),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("MQTT bridge: connection lost while stopping ({e})");
                    break false;
                }
            },
        }
    }
}

/// A request from the broker, for a worker.
struct Received {
    /// The connection it came on.
    generation: u64,
    publish: Publish,
    /// A delivery again, in a resumed session, of a request received before and not yet
    /// acknowledged: acknowledged, not answered.
    again: bool,
}

/// Answers one queue of requests in order; each is acknowledged after its answer is queued (or
/// held back by an injected delay: [`Late`]), if the connection it came on (`generation`) is
/// still the current one. Once the queue is closed, the answers held go out at their time.
async fn worker(mut rx: mpsc::Receiver<Received>, bridge: Bridge, requests: Requests, current: Generation) {
    let mut late = Late::default();
    loop {
        let received = tokio::select! {
            r = rx.recv(), if !late.full() => r,
            () = replies::until(late.due()) => {
                send(&bridge, late.take_due(Instant::now())).await;
                continue;
            }
        };
        let Some(Received { generation, publish: p, again }) = received else { break };
        if again {
            tracing::debug!(
                pkid = p.pkid,
                "MQTT bridge: a request delivered again is acknowledged, not carried out again"
            );
        } else {
            answer(&bridge, &requests, &p, &mut late).await;
        }
        if p.qos != QoS::AtMostOnce && !current.ack(&bridge.client, generation, &p).await {
            tracing::debug!(pkid = p.pkid, "MQTT bridge: a request of a lost connection is not acknowledged");
        }
    }
    while let Some(due) = late.due() {
        tokio::time::sleep_until(due).await;
        send(&bridge, late.take_due(due)).await;
    }
}

/// Carries out the request `p` and queues its answers (or holds them in `late`).
async fn answer(bridge: &Bridge, requests: &Requests, p: &Publish, late: &mut Late) {
    match std::str::from_utf8(&p.topic) {
        Ok(topic) => {
            let replies = requests(topic.to_owned(), Bytes::clone(&p.payload)).await;
            send(bridge, late.hold(replies)).await;
        }
        // Not expected from a conforming broker (MQTT-1.5.4-1).
        Err(_) => tracing::warn!("MQTT bridge: a publish whose topic is not UTF-8 is ignored"),
    }
}

/// Queues answers for the broker.
async fn send(bridge: &Bridge, replies: Vec<Message>) {
    for reply in replies {
        if let Err(e) = bridge.answer(reply).await {
            tracing::warn!("MQTT bridge: an answer cannot be queued: {e}");
        }
    }
}

/// The thing name of `$aws/things/THING/…`.
fn thing_of(topic: &[u8]) -> Option<&[u8]> {
    let rest = topic.strip_prefix(b"$aws/things/")?;
    rest.split(|b| *b == b'/').next()
}

/// Resolves once the emulator stops.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_are_parsed_or_refused_with_a_reason() {
        let u: BrokerUrl = "mqtt://127.0.0.1:1884".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.host.as_str(), u.port, u.credentials), ("127.0.0.1", 1884, None));
        let u: BrokerUrl = "mqtt://broker.local".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.host.as_str(), u.port), ("broker.local", 1883));
        let u: BrokerUrl = "mqtt://dev%40x:p%3Ass@[::1]:2000/".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.host.as_str(), u.port), ("::1", 2000));
        assert_eq!(u.credentials, Some(("dev@x".to_owned(), "p:ss".to_owned())));
        assert_eq!(u.endpoint(), "[::1]:2000");
        assert!(!format!("{u:?}").contains("p:ss"));
        for (bad, why) in [
            ("127.0.0.1:1883", "is not"),
            ("mqtts://h:8883", "not supported"),
            ("mqtt://", "no valid host"),
            ("mqtt://:1883", "no valid host"),
            ("mqtt://h:0", "port"),
            ("mqtt://h:70000", "port"),
            ("mqtt://h:x", "port"),
            ("mqtt://h:1883/path", "no path"),
            ("mqtt://[::1:1883", "closing"),
        ] {
            match bad.parse::<BrokerUrl>() {
                Ok(u) => panic!("{bad} parsed as {u:?}"),
                Err(e) => assert!(e.contains(why), "{bad}: {e}"),
            }
        }
    }

    #[test]
    fn sessions_are_refused_with_a_reason() {
        let s = Session::new("emulator-1", 60).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.client_id.as_str(), s.expiry), ("emulator-1", 60));
        assert!(Session::new(&"x".repeat(Session::MAX_CLIENT_ID), u32::MAX).is_ok());
        for (id, expiry, why) in [
            ("", 60, "1 to 256 bytes"),
            (&*"x".repeat(Session::MAX_CLIENT_ID + 1), 60, "(got 257)"),
            ("a\0b", 60, "control character"),
            ("a\nb", 60, "control character"),
            ("ok", 0, "expiry of 0"),
        ] {
            match Session::new(id, expiry) {
                Ok(s) => panic!("{id:?}, {expiry}: taken as {s:?}"),
                Err(e) => assert!(e.contains(why), "{id:?}, {expiry}: {e}"),
            }
        }
    }

    /// A stop waits for the workers until its deadline and no longer: a worker that never ends
    /// is left (the bridge aborts it when it ends), and the connection is reported up, so the
    /// bridge still disconnects. Tokio's clock is paused: it moves only when every task waits.
    #[tokio::test(start_paused = true)]
    async fn a_stop_waits_for_its_workers_until_the_shutdown_timeout_and_no_longer() {
        // A listener that never answers: the event loop waits for a CONNACK that never comes.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut options = MqttOptions::new("stopping", addr.ip().to_string(), addr.port());
        options.set_connection_timeout(3600);
        let (_client, mut eventloop) = AsyncClient::new(options, 8);
        let mut working = JoinSet::new();
        working.spawn(std::future::pending::<()>());
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut left = 0;
        assert!(finish(&mut eventloop, &mut working, deadline, &mut left).await);
        assert_eq!(Instant::now(), deadline);
        assert_eq!(working.len(), 1, "the worker is left running, not awaited");

        // Workers that end first end the stop at once.
        let mut working = JoinSet::new();
        working.spawn(tokio::time::sleep(Duration::from_secs(2)));
        let start = Instant::now();
        assert!(finish(&mut eventloop, &mut working, start + Duration::from_secs(10), &mut left).await);
        assert_eq!(left, 0, "no request came");
        assert_eq!(Instant::now(), start + Duration::from_secs(2));
        assert!(working.is_empty());
    }

    #[test]
    fn requests_of_one_thing_share_a_queue_key() {
        assert_eq!(thing_of(b"$aws/things/dev-1/jobs/start-next"), Some(&b"dev-1"[..]));
        assert_eq!(thing_of(b"$aws/things/dev-1/jobs/j/update"), Some(&b"dev-1"[..]));
        assert_eq!(thing_of(b"sensors/dev-1"), None);
    }
}
