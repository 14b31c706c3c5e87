//! One task per client connection: CONNECT, the packet loop, keep-alive, backpressure towards a
//! client that reads slowly, and the end of the connection (its will, its session detached).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf};
use tokio::sync::{Notify, mpsc, watch};

use super::broker::{
    Broker, Busy, Deliver, Link, MAX_AWAITING_RELEASE, MAX_PACKET, MAX_QUEUED, MAX_RETAINED, Requests,
    Waiting,
};
use super::codec::{self, Connect, Incoming, Message, Outgoing, ReadError, Refusal, Version};
use super::replies::{self, Late};
use super::{filter, jobs};

/// The longest keep-alive, in seconds: AWS IoT Core's, which is also what it takes for a
/// keep-alive of 0 (none).
const MAX_KEEP_ALIVE: u16 = 1_200;
/// How long a new connection may take to send CONNECT.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes waiting for a client beyond which its connection reads and routes nothing more until
/// the client takes some: what it sends waits in TCP, what it is sent waits in its queue.
const OUT_HIGH: usize = 64 * 1024;
/// How long a client may take none of the bytes waiting for it, or acknowledge none of the
/// messages it has in flight while others wait behind them, before it is closed (whatever its
/// keep-alive: it still sends, and is heard).
const WRITE_STALL: Duration = Duration::from_secs(60);
/// How long the last packets to a closing connection (a DISCONNECT, a refusing CONNACK) may
/// take to be written.
const CLOSE_FLUSH: Duration = Duration::from_secs(5);
/// How long the DISCONNECT to a connection taken over (MQTT 5) may take to be written: the
/// client taking its session waits for it.
const TAKEN_OVER_FLUSH: Duration = Duration::from_secs(1);
/// How long the transport's own close of an ending connection may take (a TLS close_notify, a
/// WebSocket Close frame).
const CLOSE_TRANSPORT: Duration = Duration::from_secs(1);
/// How long a connection taking a session over waits for the one it replaces to give the
/// session back: that one's last packet may take [`TAKEN_OVER_FLUSH`].
const TAKEOVER_WAIT: Duration = Duration::from_secs(6);

/// A client's byte stream: TCP, TLS over TCP, or WebSocket.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Stream = Box<dyn Io>;

mod listen;
mod out;
pub use listen::{Transport, serve};
use out::Out;

/// Resolves once the emulator stops (the guard `wait_for` returns is not `Send`: dropped here).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One client connection's state.
struct Conn {
    reader: ReadHalf<Stream>,
    version: Version,
    client: String,
    /// This connection's id (sessions know which connection serves them by it).
    id: u64,
    out: Out,
    next_pkid: u16,
    /// QoS 1 messages sent and not yet acknowledged, by packet id, each with its place in the
    /// order they were sent (packet ids wrap, so theirs is not it).
    inflight: BTreeMap<u16, (u64, Message)>,
    /// How many QoS 1 messages were sent: the place of the next in `inflight`.
    sent: u64,
    /// QoS 1 messages held back while `inflight` is at the client's receive maximum, in order.
    held: VecDeque<Message>,
    /// Messages not looked at yet, in order: they wait while [`OUT_HIGH`] bytes wait for the
    /// client. With `held`, at most [`MAX_WAITING`].
    waiting: VecDeque<Message>,
    /// Most unacknowledged QoS 1 messages the client takes (MQTT 5 receive maximum, at most
    /// [`MAX_INFLIGHT`]).
    receive_max: usize,
    /// Largest packet the client takes (MQTT 5 maximum packet size, at most [`MAX_PACKET`]).
    max_packet: usize,
    /// The client's topic aliases (MQTT 5), at most [`codec::TOPIC_ALIAS_MAX`].
    aliases: HashMap<u16, String>,
    /// The session's QoS 2 publishes taken in and not yet released by PUBREL (MQTT-4.3.3-2),
    /// at most [`MAX_AWAITING_RELEASE`].
    awaiting_release: HashSet<u16>,
    /// Notified when the broker lets go of this connection (see [`Link::cut`]).
    cut: Arc<Notify>,
    /// Notified when another connection takes the session over (see [`Link::taken`]).
    taken: Arc<Notify>,
    /// Set once this connection has given its session back (see [`Link::gone`]).
    gone: Arc<watch::Sender<bool>>,
    /// Answers to the client's requests held back by an injected delay, at most
    /// [`replies::MAX_LATE`] (lost if the connection closes first).
    late: Late,
}

/// Most topic filters in one SUBSCRIBE: AWS IoT Core's quota (not adjustable).
const MAX_FILTERS: usize = 8;
/// Longest client id, in bytes: AWS IoT Core's limit (not adjustable).
const MAX_CLIENT_ID: usize = 128;

/// Why a CONNECT is refused, if it is: a client id longer than AWS IoT Core takes, an empty
/// one for a 3.1.1 session that outlives the connection (MQTT-3.1.3-8), or a will that could
/// never be published (refused now rather than dropped at the close), would publish what only
/// the service publishes (see `handle`), or asks an MQTT 5 broker of Maximum QoS 1 for QoS 2
/// (MQTT-3.2.2-12).
fn refusal(connect: &Connect) -> Option<(Refusal, String)> {
    if connect.client_id.len() > MAX_CLIENT_ID {
        return Some((Refusal::ClientIdInvalid, format!("a client id of {} bytes", connect.client_id.len())));
    }
    if connect.version == Version::V4 && connect.client_id.is_empty() && !connect.clean {
        return Some((Refusal::ClientIdInvalid, "an empty client id with CleanSession 0".to_owned()));
    }
    if connect.receive_max == Some(0) || connect.max_packet == Some(0) {
        // MQTT 5 3.1.2.11.3, 3.1.2.11.4: a Receive Maximum or Maximum Packet Size of 0.
        return Some((Refusal::ProtocolError, "a Receive Maximum or Maximum Packet Size of 0".to_owned()));
    }
    if let Some(method) = &connect.auth_method {
        // MQTT 5 4.12: an Authentication Method the server does not support is refused, and
        // the connection closed (AWS IoT Core authenticates by certificate, SigV4 or a custom
        // authorizer's user name and password, never by an AUTH exchange).
        return Some((Refusal::BadAuthMethod, format!("enhanced authentication {method:?}")));
    }
    if connect.version == Version::V5 && connect.will_exactly_once {
        return Some((Refusal::QosNotSupported, "a will of QoS 2 (the Maximum QoS is 1)".to_owned()));
    }
    let w = connect.will.as_ref()?;
    if !filter::valid_topic(&w.topic) {
        return Some((Refusal::WillTopicInvalid, bad_topic("a will", &w.topic)));
    }
    (jobs::route(&w.topic) == jobs::Route::ServiceOnly).then(|| {
        (Refusal::NotAuthorized, format!("a will on {:?}, which only the service publishes", w.topic))
    })
}

/// The error of `what` (a publish, a will) on `topic`, which is not [`filter::valid_topic`].
fn bad_topic(what: &str, topic: &str) -> String {
    format!(
        "{what} to {topic:?}, not a topic a client may publish to (no wildcard or NUL, at most {} bytes and {} slashes)",
        filter::MAX_TOPIC_BYTES,
        filter::MAX_TOPIC_SLASHES
    )
}
/// Most unacknowledged QoS 1 messages per connection.
const MAX_INFLIGHT: usize = 1_000;
/// Most messages waiting to be written to one client: a whole retained store for one filter
/// and a whole offline backlog. A client further behind is closed.
const MAX_WAITING: usize = MAX_RETAINED + MAX_QUEUED;

impl Conn {
    fn new(stream: Stream, connect: &Connect, client: String, id: u64) -> Self {
        let (reader, half) = tokio::io::split(stream);
        Conn {
            reader,
            version: connect.version,
            client,
            id,
            out: Out { half, buf: BytesMut::new(), unflushed: false },
            next_pkid: 1,
            inflight: BTreeMap::new(),
            sent: 0,
            held: VecDeque::new(),
            waiting: VecDeque::new(),
            receive_max: connect.receive_max.map_or(MAX_INFLIGHT, |r| usize::from(r).min(MAX_INFLIGHT)),
            max_packet: connect
                .max_packet
                .and_then(|m| usize::try_from(m).ok())
                .map_or(MAX_PACKET, |m| m.min(MAX_PACKET)),
            aliases: HashMap::new(),
            awaiting_release: HashSet::new(),
            cut: Arc::new(Notify::new()),
            taken: Arc::new(Notify::new()),
            gone: Arc::new(watch::Sender::new(false)),
            late: Late::default(),
        }
    }

    /// Sends an answer to one of the client's requests, at the QoS of the client's subscription
    /// to its topic, 0 if none (SPEC §7: answers reach the publishing client, subscribed or not).
    fn answer(&mut self, broker: &Broker, mut reply: Message) -> Result<(), String> {
        reply.qos = broker.grant(&self.client, &reply.topic).unwrap_or(0);
        self.send(reply)
    }

    fn write(&mut self, packet: Outgoing) {
        if let Err(e) = codec::write(packet, self.version, &mut self.out.buf, MAX_PACKET) {
            tracing::warn!(client = self.client, "an MQTT packet cannot be sent: {e}");
        }
    }

    /// Sends a message: written at once, unless [`OUT_HIGH`] bytes already wait for the client
    /// (then it waits its turn), or it is QoS 1 and the client has its receive maximum in
    /// flight (then it is held back until an acknowledgement, MQTT-3.3.4-9; QoS 0 goes on,
    /// as MQTT-4.9.0-2 allows).
    fn send(&mut self, message: Message) -> Result<(), String> {
        if self.held.len().saturating_add(self.waiting.len()) >= MAX_WAITING {
            return Err(format!("more than {MAX_WAITING} messages wait for the client"));
        }
        if self.waiting.is_empty() && self.room() {
            self.dispatch(message);
        } else {
            self.waiting.push_back(message);
        }
        Ok(())
    }

    /// Whether fewer than [`OUT_HIGH`] bytes wait for the client: more may be written.
    fn room(&self) -> bool {
        self.out.buf.len() < OUT_HIGH
    }

    /// Writes a message, or holds it back if it is QoS 1 and cannot be in flight yet.
    fn dispatch(&mut self, message: Message) {
        if message.qos > 0 && (!self.held.is_empty() || self.inflight.len() >= self.receive_max) {
            self.held.push_back(message);
        } else {
            self.write_message(message);
        }
    }

    /// Writes what the client has room for, in order: held-back messages while it has room in
    /// flight, then the waiting ones.
    fn feed(&mut self) {
        while self.room() && self.inflight.len() < self.receive_max {
            let Some(m) = self.held.pop_front() else { break };
            self.write_message(m);
        }
        while self.room() {
            let Some(m) = self.waiting.pop_front() else { break };
            self.dispatch(m);
        }
    }

    /// Writes a message at its QoS (a packet id and an in-flight entry for QoS 1); one larger
    /// than the client's maximum packet size is discarded, as if delivered (MQTT-3.1.2-25), and
    /// so is one whose expiry interval ran out before it was first sent (MQTT-3.3.2-5); one sent
    /// carries what is left of its interval (MQTT-3.3.2-6).
    fn write_message(&mut self, mut message: Message) {
        let dup = message.sent;
        if let Some(left) = message.expiry_left(std::time::Instant::now()) {
            if left == 0 && !dup {
                tracing::debug!(client = self.client, topic = message.topic, "an expired message is dropped");
                return;
            }
            if let Some(p) = message.properties.as_mut() {
                p.message_expiry_interval = Some(left.max(1));
            }
        }
        let topic = message.topic.clone();
        let pkid = if message.qos == 0 {
            0
        } else {
            let mut pkid = self.next_pkid;
            while pkid == 0 || self.inflight.contains_key(&pkid) {
                pkid = pkid.wrapping_add(1);
            }
            self.next_pkid = pkid.wrapping_add(1);
            // Sent from now on: whatever becomes of it, it goes again with DUP (MQTT-3.3.1-1).
            self.inflight.insert(pkid, (self.sent, Message { sent: true, ..message.clone() }));
            self.sent = self.sent.wrapping_add(1);
            pkid
        };
        let packet = Outgoing::Publish { message, pkid, dup: dup && pkid != 0 };
        if let Err(e) = codec::write(packet, self.version, &mut self.out.buf, self.max_packet) {
            tracing::debug!(
                client = self.client,
                topic,
                max_packet = self.max_packet,
                "a message the client cannot take (over the Maximum Packet Size the client gave) is discarded: {e}"
            );
            self.inflight.remove(&pkid);
        }
    }

    /// An acknowledgement: frees its slot for the next held-back message.
    fn acked(&mut self, pkid: u16) {
        self.inflight.remove(&pkid);
        self.feed();
    }

    /// What a persistent session keeps of a closing connection's messages: those in flight, in
    /// the order they were sent (MQTT-4.6.0-1: they are sent again in that order), then the QoS 1
    /// messages that waited and were never written, marked sent if they were redeliveries.
    fn unacked(&mut self) -> Vec<Message> {
        let mut inflight: Vec<(u64, Message)> = std::mem::take(&mut self.inflight).into_values().collect();
        inflight.sort_unstable_by_key(|(place, _)| *place);
        let mut unacked: Vec<Message> = inflight.into_iter().map(|(_, m)| m).collect();
        let unsent = self.held.drain(..).chain(self.waiting.drain(..));
        unacked.extend(unsent.filter(|m| m.qos > 0));
        unacked
    }

    /// Writes the last packets of a connection that is closing, for at most [`CLOSE_FLUSH`].
    async fn flush(&mut self) -> Result<(), String> {
        self.flush_within(CLOSE_FLUSH).await
    }

    /// Writes the last packets of a connection that is closing, for at most `limit`.
    async fn flush_within(&mut self, limit: Duration) -> Result<(), String> {
        match tokio::time::timeout(limit, self.out.write_all()).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!("the last packets were not taken in {} s", limit.as_secs())),
        }
    }
}

/// Reads CONNECT within [`CONNECT_TIMEOUT`]. A CONNECT refused as it is read is answered (a
/// protocol level the broker does not speak: a 3.1.1 CONNACK 1; a malformed MQTT 5 CONNECT or
/// one breaking a rule: CONNACK 0x81 or 0x82; a 3.1.1 one: nothing) and the connection closed.
async fn read_connect(stream: &mut Stream, buf: &mut BytesMut) -> Result<Connect, String> {
    let read = async {
        loop {
            // Known before the codec takes the frame out of `buf`.
            let version = codec::connect_version(buf);
            let (refusal, why) = match codec::read(buf, None, MAX_PACKET) {
                Ok(Incoming::Connect(c)) => return Ok(c),
                Ok(_) => return Err("the first packet is not CONNECT".to_owned()),
                Err(ReadError::Incomplete) => {
                    if stream.read_buf(buf).await.map_err(|e| e.to_string())? == 0 {
                        return Err("closed before CONNECT".into());
                    }
                    continue;
                }
                Err(ReadError::UnsupportedLevel(e)) => (Some((Refusal::UnsupportedLevel, Version::V4)), e),
                Err(ReadError::Malformed(e)) => (version.map(|v| (Refusal::Malformed, v)), e),
                Err(ReadError::Protocol(e) | ReadError::Unsupported { why: e, .. }) => {
                    (version.map(|v| (Refusal::ProtocolError, v)), e)
                }
                Err(ReadError::TooLarge(n)) => {
                    (version.map(|v| (Refusal::Malformed, v)), format!("a CONNECT of {n} bytes"))
                }
            };
            let answer = refusal.filter(|(r, v)| *v == Version::V5 || *r == Refusal::UnsupportedLevel);
            if let Some((refusal, version)) = answer {
                let mut out = BytesMut::new();
                if codec::write(Outgoing::Refuse(refusal), version, &mut out, MAX_PACKET).is_ok() {
                    let written = tokio::time::timeout(CLOSE_FLUSH, stream.write_all(&out)).await;
                    if matches!(written, Ok(Ok(()))) {
                        let _ = tokio::time::timeout(CLOSE_FLUSH, stream.flush()).await;
                    }
                }
            }
            return Err(format!("CONNECT refused: {why}"));
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, read).await.map_err(|_| "no CONNECT in time".to_owned())?
}

/// How a connection ended.
enum End {
    /// DISCONNECT (the will is published only when MQTT 5 asked for it).
    Disconnect { with_will: bool },
    /// Another connection took the session.
    TakenOver,
    /// The emulator is stopping.
    Stop,
}

async fn connection(
    mut stream: Stream,
    broker: Arc<Broker>,
    requests: Requests,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut buf = BytesMut::with_capacity(4096);
    let connect = read_connect(&mut stream, &mut buf).await?;
    let id = broker.next_id.fetch_add(1, Ordering::Relaxed);
    let assigned = connect.client_id.is_empty().then(|| format!("emulator-{id}"));
    let client = assigned.clone().unwrap_or_else(|| connect.client_id.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    let (messages, bytes) = broker.waiting_limits;
    let waiting = Arc::new(Waiting::new(messages, bytes));
    let mut inbox = Inbox { rx, waiting: Arc::clone(&waiting) };
    let mut conn = Conn::new(stream, &connect, client, id);
    let refusal = refusal(&connect);
    if let Some((refusal, why)) = refusal {
        conn.write(Outgoing::Refuse(refusal));
        conn.flush().await?;
        return Err(why);
    }
    let link = || Link {
        id,
        tx: tx.clone(),
        waiting: Arc::clone(&waiting),
        cut: Arc::clone(&conn.cut),
        taken: Arc::clone(&conn.taken),
        gone: Arc::clone(&conn.gone),
    };
    // The connection that serves the session gives it back with what it had in flight, and
    // the session is tried again: another connection taking it over at the same time may have
    // got it first, and is then taken over in turn. A session not given back within the time
    // is taken at once, and what its connection had in flight is lost.
    let deadline = tokio::time::Instant::now() + TAKEOVER_WAIT;
    let attached = loop {
        match broker.try_attach(&conn.client, link(), &connect) {
            Err(Busy::TakingOver(gone)) => {
                let mut let_go = gone.subscribe();
                if tokio::time::timeout_at(deadline, let_go.wait_for(|gone| *gone)).await.is_err() {
                    tracing::warn!(client = conn.client, "the connection taken over did not let go in time");
                    break broker.attach(&conn.client, link(), &connect);
                }
            }
            Err(Busy::Full) => break None,
            Ok(resumed) => break Some(resumed),
        }
    };
    // Only the broker's link may keep the queue open: when it lets go, the queue closes.
    drop(tx);
    let Some(resumed) = attached else {
        conn.write(Outgoing::Refuse(Refusal::Unavailable));
        conn.flush().await?;
        return Err("too many sessions".into());
    };
    let present = resumed.present;
    conn.awaiting_release = resumed.awaiting_release;
    tracing::debug!(client = conn.client, version = ?connect.version, present, "MQTT client connected");
    // A keep-alive of 0 or over 1,200 s is 1,200 s, as on AWS IoT Core (an MQTT 5 client is told
    // so, MQTT-3.2.2-21): no client is held for ever, or for a day, after it went silent.
    let keep_alive = match connect.keep_alive {
        0 => MAX_KEEP_ALIVE,
        k => k.min(MAX_KEEP_ALIVE),
    };
    let told = (keep_alive != connect.keep_alive).then_some(keep_alive);
    conn.write(Outgoing::ConnAck {
        session_present: present,
        assigned_id: assigned,
        keep_alive: told,
        session_expiry: resumed.expiry_told,
    });
    let mut result = Ok(());
    for m in resumed.backlog {
        if let Err(e) = conn.send(m) {
            result = Err(e);
        }
    }
    let keep_alive = Duration::from_millis(u64::from(keep_alive).saturating_mul(1500));
    let end = match result {
        Ok(()) => run(&mut conn, &mut buf, &mut inbox, &broker, &requests, &mut stop, keep_alive).await,
        Err(e) => Err(e),
    };
    let unacked = conn.unacked();
    let awaiting_release = std::mem::take(&mut conn.awaiting_release);
    let will = match &end {
        Ok(End::Disconnect { with_will: false }) | Ok(End::Stop) => None,
        Ok(End::Disconnect { with_will: true }) | Ok(End::TakenOver) | Err(_) => connect.will,
    };
    let left = broker.detach(&conn.client, id, unacked, awaiting_release, will, &mut inbox.rx);
    // The connections taking the session over wait for this.
    conn.gone.send_replace(true);
    let mut timers = Vec::new();
    for (after, due) in
        [(left.expires, Broker::expire as fn(&Broker, &str, u64)), (left.will_due, Broker::will_due)]
    {
        if let Some(after) = after {
            let (b, client) = (Arc::clone(&broker), conn.client.clone());
            let task = tokio::spawn(async move {
                tokio::time::sleep(after).await;
                due(&b, &client, id);
            });
            timers.push(task.abort_handle());
        }
    }
    if !timers.is_empty() {
        broker.arm(&conn.client, id, timers);
    }
    if let (Ok(End::Stop), Version::V5) = (&end, conn.version) {
        conn.write(Outgoing::Disconnect(DisconnectReasonCode::ServerShuttingDown));
        let _ = conn.flush().await;
    }
    // The transport's own close: TCP's FIN, TLS's close_notify, WebSocket's Close frame (a
    // browser client otherwise sees code 1006, abnormal closure), within the time a last
    // packet may take.
    let _ = tokio::time::timeout(CLOSE_TRANSPORT, conn.out.half.shutdown()).await;
    end.map(|_| ())
}

async fn run(
    conn: &mut Conn,
    buf: &mut BytesMut,
    inbox: &mut Inbox,
    broker: &Broker,
    requests: &Requests,
    stop: &mut watch::Receiver<bool>,
    keep_alive: Duration,
) -> Result<End, String> {
    let mut last_read = tokio::time::Instant::now();
    // Since when the client has taken nothing of what waits for it: reset by any bytes it takes
    // (an acknowledgement that lets a held-back message go shows as that message's bytes), and
    // while nothing waits.
    let mut last_taken = last_read;
    // Whether anything waited for the client at the end of the last turn.
    let mut owed = false;
    loop {
        // Every whole packet already read (CONNECT may have come with more behind it), while
        // the client takes what it is sent and answers held back have room.
        while conn.room() && !conn.late.full() {
            let packet = match codec::read(buf, Some(conn.version), MAX_PACKET) {
                Ok(p) => p,
                Err(ReadError::Incomplete) => break,
                Err(ReadError::TooLarge(n)) => {
                    conn.write(Outgoing::Disconnect(DisconnectReasonCode::PacketTooLarge));
                    let _ = conn.flush().await;
                    return Err(format!("a packet of {n} bytes is larger than {MAX_PACKET}"));
                }
                Err(ReadError::Malformed(e)) => {
                    conn.write(Outgoing::Disconnect(DisconnectReasonCode::MalformedPacket));
                    let _ = conn.flush().await;
                    return Err(format!("malformed packet: {e}"));
                }
                // `UnsupportedLevel` is a CONNECT's only, and a CONNECT here is a second one,
                // refused as `Protocol` before its level is read: the arm cannot be taken.
                Err(ReadError::Protocol(e) | ReadError::UnsupportedLevel(e)) => {
                    conn.write(Outgoing::Disconnect(DisconnectReasonCode::ProtocolError));
                    let _ = conn.flush().await;
                    return Err(format!("protocol error: {e}"));
                }
                Err(ReadError::Unsupported { code, why }) => {
                    conn.write(Outgoing::Disconnect(code));
                    let _ = conn.flush().await;
                    return Err(why);
                }
            };
            match handle(conn, packet, broker, requests).await {
                Ok(None) => {}
                Ok(Some(end)) => {
                    let _ = conn.flush().await;
                    return Ok(end);
                }
                Err(e) => {
                    // The DISCONNECT (MQTT 5 reason) written for a protocol error, if any.
                    let _ = conn.flush().await;
                    return Err(e);
                }
            }
        }
        if conn.out.write_now().map_err(|e| e.to_string())? {
            last_taken = tokio::time::Instant::now();
        }
        conn.feed();
        let writing = conn.out.pending();
        let was_owed = owed;
        owed = writing || !conn.held.is_empty() || !conn.waiting.is_empty();
        if !(owed && was_owed) {
            // Nothing waits, or it began to wait this turn: the client's time starts now.
            last_taken = tokio::time::Instant::now();
        }
        // Too many bytes wait for the client: nothing more is read from it until it reads
        // (its packets wait in `buf`, up to one largest packet, then in TCP). Nothing more is
        // routed to it while it is full (messages waiting their turn mean it is), or while it
        // has as many held back as it may have in flight: the broker's queue for it holds
        // them, and lets go of a client that lets that fill (`cut`: it is closed as too slow).
        let full = !conn.room();
        let behind = full || conn.held.len() >= MAX_INFLIGHT;
        let reading = !(full || conn.late.full()) || buf.len() < MAX_PACKET;
        tokio::select! {
            r = future::poll_fn(|cx| conn.out.poll_progress(cx)), if writing => {
                r.map_err(|e| e.to_string())?;
                last_taken = tokio::time::Instant::now();
            }
            r = conn.reader.read_buf(buf), if reading => {
                if r.map_err(|e| e.to_string())? == 0 {
                    return Err("the client closed the connection".into());
                }
                last_read = tokio::time::Instant::now();
            }
            d = inbox.recv(), if !behind => match d {
                Some(m) => conn.send(*m)?,
                None => return Err(too_slow(conn).await),
            },
            // Heard however far behind the client is: the connection taking the session over
            // waits for this one to give it back.
            () = conn.taken.notified() => {
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::SessionTakenOver));
                let _ = conn.flush_within(TAKEN_OVER_FLUSH).await;
                return Ok(End::TakenOver);
            }
            () = tokio::time::sleep_until(last_read + keep_alive) => return Err("keep-alive expired".into()),
            () = tokio::time::sleep_until(last_taken + WRITE_STALL), if owed => {
                // MQTT 5 is told why, after what waits for it (which it is not taking).
                quota_exceeded(conn).await;
                return Err(format!("the client took nothing for {} s", WRITE_STALL.as_secs()));
            }
            () = replies::until(conn.late.due()) => {
                for reply in conn.late.take_due(tokio::time::Instant::now()) {
                    conn.answer(broker, reply)?;
                }
            }
            () = conn.cut.notified() => return Err(too_slow(conn).await),
            () = stopped(stop) => return Ok(End::Stop),
        }
    }
}

/// The messages the broker routed to a connection, counted out as the connection takes them.
struct Inbox {
    rx: mpsc::UnboundedReceiver<Deliver>,
    waiting: Arc<Waiting>,
}

impl Inbox {
    async fn recv(&mut self) -> Option<Deliver> {
        let m = self.rx.recv().await?;
        self.waiting.release(m.size());
        Some(m)
    }
}

/// Closes a client the broker let go of as too slow (its queue past [`Waiting`]'s limits):
/// MQTT 5 is told why, after what waits for it.
async fn too_slow(conn: &mut Conn) -> String {
    quota_exceeded(conn).await;
    "closed as too slow to take its messages".into()
}

/// Tells an MQTT 5 client it is closed for what it left waiting (DISCONNECT 0x97, quota
/// exceeded), after what waits for it, within [`CLOSE_FLUSH`] (3.1.1 has no server DISCONNECT).
async fn quota_exceeded(conn: &mut Conn) {
    if conn.version == Version::V5 {
        conn.write(Outgoing::Disconnect(DisconnectReasonCode::QuotaExceeded));
        let _ = conn.flush_within(CLOSE_FLUSH).await;
    }
}

/// One packet from a connected client; `Some` ends the connection normally.
async fn handle(
    conn: &mut Conn,
    packet: Incoming,
    broker: &Broker,
    requests: &Requests,
) -> Result<Option<End>, String> {
    match packet {
        Incoming::Connect(_) => {
            conn.write(Outgoing::Disconnect(DisconnectReasonCode::ProtocolError));
            return Err("a second CONNECT (MQTT-3.1.0-2)".into());
        }
        Incoming::Publish { mut message, pkid, exactly_once, alias } => {
            if exactly_once {
                if conn.version == Version::V5 {
                    // MQTT-3.2.2-11: CONNACK said Maximum QoS 1.
                    conn.write(Outgoing::Disconnect(DisconnectReasonCode::QoSNotSupported));
                    return Err("a QoS 2 publish (the Maximum QoS is 1)".into());
                }
                if conn.awaiting_release.contains(&pkid) {
                    // MQTT-4.3.3-2: sent again before its PUBREL; taken once already.
                    conn.write(Outgoing::PubRec(pkid));
                    return Ok(None);
                }
                if conn.awaiting_release.len() >= MAX_AWAITING_RELEASE {
                    return Err(format!(
                        "more than {MAX_AWAITING_RELEASE} QoS 2 publishes awaiting their PUBREL"
                    ));
                }
            }
            // MQTT 5 topic aliases (MQTT-3.3.2-8 to -12): this connection's own table.
            if let Some(a) = alias {
                if a == 0 || a > codec::TOPIC_ALIAS_MAX {
                    conn.write(Outgoing::Disconnect(DisconnectReasonCode::TopicAliasInvalid));
                    return Err(format!("topic alias {a} (1 to {} granted)", codec::TOPIC_ALIAS_MAX));
                }
                if message.topic.is_empty() {
                    let Some(topic) = conn.aliases.get(&a) else {
                        conn.write(Outgoing::Disconnect(DisconnectReasonCode::ProtocolError));
                        return Err(format!("topic alias {a} names no topic yet"));
                    };
                    message.topic.clone_from(topic);
                }
            }
            if !filter::valid_topic(&message.topic) {
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::TopicNameInvalid));
                return Err(bad_topic("a publish", &message.topic));
            }
            let route = jobs::route(&message.topic);
            if matches!(route, jobs::Route::Request(_) | jobs::Route::Invalid(_)) {
                // A request is run once, not state: kept as a retained message it would reach
                // every later subscriber to the thing's jobs topics as a stale request.
                message.retain = false;
            }
            if route == jobs::Route::ServiceOnly {
                // DG-TOPICS: "unsupported publish or subscribe operations to reserved topics can
                // result in a terminated connection"; a client that could publish answers,
                // notifications or events would show other devices what the service never said.
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::NotAuthorized));
                return Err(format!("a publish to {:?}, which only the service publishes", message.topic));
            }
            if let Some(a) = alias {
                conn.aliases.insert(a, message.topic.clone());
            }
            if !broker.room_for(&message) {
                // A copy would carry the messages held for sessions past the budget (`budget`):
                // nothing of this publish is taken. An MQTT 5 client is told in the
                // acknowledgement and may try again; 3.1.1 has no refusal of a publish but
                // closing the connection.
                let why = format!(
                    "a publish to {:?} refused: the messages held for sessions take {} bytes, and \
                     --mqtt-max-held-bytes is {}",
                    message.topic,
                    broker.budget.held(),
                    broker.budget.limit()
                );
                if conn.version == Version::V5 && message.qos > 0 {
                    tracing::warn!(client = conn.client, "{why}");
                    conn.write(Outgoing::OverQuota { pkid, exactly_once });
                    return Ok(None);
                }
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::QuotaExceeded));
                return Err(why);
            }
            broker.publish_from(&message, Some(&conn.client));
            if message.topic.starts_with("$aws/things/") {
                let replies = requests(message.topic.clone(), message.payload.clone()).await;
                for reply in conn.late.hold(replies) {
                    conn.answer(broker, reply)?;
                }
            }
            match (message.qos, exactly_once) {
                (0, _) => {}
                (_, true) => {
                    conn.awaiting_release.insert(pkid);
                    conn.write(Outgoing::PubRec(pkid));
                }
                (_, false) => conn.write(Outgoing::PubAck(pkid)),
            }
        }
        Incoming::PubAck(pkid) => conn.acked(pkid),
        Incoming::PubRel(pkid) => {
            if conn.awaiting_release.remove(&pkid) {
                conn.write(Outgoing::PubComp(pkid));
            } else {
                conn.write(Outgoing::PubCompNotFound(pkid));
            }
        }
        Incoming::Subscribe { pkid, filters } => {
            if filters.len() > MAX_FILTERS {
                // AWS IoT Core disconnects a client that asks for more (its quota of subscriptions
                // per SUBSCRIBE request); here it also bounds the retained messages one packet
                // makes the broker look through.
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::QuotaExceeded));
                return Err(format!(
                    "a SUBSCRIBE with {} topic filters (AWS IoT Core takes at most {MAX_FILTERS})",
                    filters.len()
                ));
            }
            let room = MAX_WAITING.saturating_sub(conn.held.len().saturating_add(conn.waiting.len()));
            let (grants, retained) = broker.subscribe(&conn.client, filters, room);
            conn.write(Outgoing::SubAck { pkid, grants });
            if retained.len() > room {
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::QuotaExceeded));
                // Each filter gets its own copy of what it matches (MQTT-3.8.4-4 reads a
                // SUBSCRIBE as one per filter); overlapping filters could ask for any number.
                return Err(format!(
                    "a SUBSCRIBE matched more retained messages than the {MAX_WAITING} a client may have waiting"
                ));
            }
            for m in retained {
                conn.send(m)?;
            }
        }
        Incoming::Unsubscribe { pkid, filters } => {
            let existed = broker.unsubscribe(&conn.client, &filters);
            conn.write(Outgoing::UnsubAck { pkid, existed });
        }
        Incoming::PingReq => conn.write(Outgoing::PingResp),
        Incoming::Disconnect { with_will, session_expiry } => {
            if let Some(secs) = session_expiry
                && !broker.set_expiry(&conn.client, conn.id, secs)
            {
                // MQTT 5 3.14.2.2.2: from 0 in CONNECT to non-zero is a Protocol Error, and the
                // packet is not a valid DISCONNECT (the will is published).
                conn.write(Outgoing::Disconnect(DisconnectReasonCode::ProtocolError));
                return Err("a DISCONNECT set a session expiry on a session that had none".into());
            }
            return Ok(Some(End::Disconnect { with_will }));
        }
        Incoming::Unexpected(name) => {
            conn.write(Outgoing::Disconnect(DisconnectReasonCode::ProtocolError));
            return Err(format!("a {name} packet from a client"));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
