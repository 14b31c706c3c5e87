//! The broker's state: sessions, subscriptions, retained messages and the routing of messages
//! to sessions. The connections it serves are [`super::connection`]'s.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::AbortHandle;

use super::budget::Budget;
use super::codec::{Connect, Grant, Message, RetainHandling, Subscription};
use super::filter;
use super::replies::Replies;
pub use super::retained::MAX_RETAINED;
use super::retained::Retained;
use super::routes::Routes;

mod deliver;
mod waiting;
use deliver::{deliver, log_dropped};
pub(super) use waiting::Waiting;

/// Largest packet in either direction: AWS IoT Core's 128 KiB payload plus room for the topic
/// and properties. A larger packet closes the connection that sent it.
pub const MAX_PACKET: usize = 128 * 1024 + 4096;
/// Most sessions (connected, or persistent and offline); a new client id beyond it is refused.
pub const MAX_SESSIONS: usize = 10_000;
/// Most QoS 1 messages kept for an offline persistent session (the oldest are dropped first).
pub const MAX_QUEUED: usize = 1_000;
/// Most subscriptions of one session.
const MAX_SUBSCRIPTIONS: usize = 1_000;
/// Most QoS 2 publishes of one session received and not yet released (PUBREC sent, PUBREL
/// awaited): as many as a session may have in flight the other way. A client with more is
/// closed.
pub const MAX_AWAITING_RELEASE: usize = 1_000;
/// The longest a persistent session outlives its connection by default, in seconds: AWS IoT
/// Core's default persistent session expiry period (one hour; an account may raise it to
/// seven days).
pub const DEFAULT_SESSION_EXPIRY: u32 = 3_600;
/// The longest persistent session expiry period AWS IoT Core takes: seven days.
pub const MAX_SESSION_EXPIRY: u32 = 7 * 24 * 3_600;
/// Most subscriptions of all sessions: AWS IoT Core's quota of subscriptions per account
/// (500,000 by default). It bounds what the routing tree takes (about 500 bytes each).
pub const MAX_ALL_SUBSCRIPTIONS: usize = 500_000;

/// Answers a publish to a jobs request topic: the replies for the publisher (SPEC §7: answers go
/// to the publishing client only), and how long they wait (an injected delay). It runs the
/// request and publishes what it caused.
pub type Requests = Arc<dyn Fn(String, Bytes) -> Pin<Box<dyn Future<Output = Replies> + Send>> + Send + Sync>;

/// What a connection's writer receives from the broker: a message routed to its session.
pub(super) type Deliver = Box<Message>;

/// How the broker reaches the connection serving a session.
pub(super) struct Link {
    /// The connection's id.
    pub id: u64,
    /// Its queue.
    pub tx: mpsc::UnboundedSender<Deliver>,
    /// What waits in the queue, and the most that may.
    pub waiting: Arc<Waiting>,
    /// Notified when the broker lets go of the connection because its queue is full (too slow
    /// to take its messages, [`Waiting`]): it then closes.
    pub cut: Arc<Notify>,
    /// Notified when another connection takes the session over (MQTT-3.1.4-2): the connection
    /// closes and gives the session back, however far behind its client is (it may have
    /// stopped reading its queue).
    pub taken: Arc<Notify>,
    /// Set by the connection once it has let go of its session ([`Broker::detach`]): every
    /// connection taking the session over waits for it ([`Broker::try_attach`]). A flag, not a
    /// notification: it wakes all of them, however late they started waiting.
    pub gone: Arc<watch::Sender<bool>>,
}

/// Why [`Broker::try_attach`] did not bind the session.
pub(super) enum Busy {
    /// The session table is full.
    Full,
    /// Another connection serves the session: it was told to close, and `gone` is set once it
    /// has given the session back, with what it had in flight.
    TakingOver(Arc<watch::Sender<bool>>),
}

/// One subscription's options, as the session keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Options {
    /// The QoS granted (0 or 1).
    pub qos: u8,
    /// MQTT 5 No Local: the session's own publishes are not routed to it by this subscription.
    pub no_local: bool,
    /// MQTT 5 Retain As Published: routed messages keep their retain flag.
    pub retain_as_published: bool,
}

struct Session {
    subscriptions: BTreeMap<String, Options>,
    /// The connection serving the session.
    connection: Option<Link>,
    persistent: bool,
    /// How long a persistent session outlives its connection: the client's interval (MQTT 5)
    /// up to the broker's longest, or the broker's longest (MQTT 3.1.1).
    expiry: Duration,
    /// The packet ids of the QoS 2 publishes received and not yet released (MQTT-4.3.3-2): a
    /// publish sent again with one of them is acknowledged, not taken again. The connection
    /// holds them while it serves the session.
    awaiting_release: HashSet<u16>,
    /// The connection that left the session offline last (its expiry timer's key).
    left_by: u64,
    /// Whether the connection serving the session was told to close as too slow: it still
    /// serves the session until it gives it back ([`Broker::detach`]), but what is routed to
    /// the session meanwhile waits in its queue.
    closing: bool,
    /// QoS 1 messages for the session while it is offline, and those unacknowledged when the
    /// connection closed.
    queued: VecDeque<Message>,
    /// The MQTT 5 Will Delay Interval of the connection serving the session (zero: none).
    will_delay: Duration,
    /// The will of the connection that left the session, while its delay runs: published when
    /// it is due or the session ends, whichever comes first, and never if a connection takes the
    /// session back before (MQTT-3.1.3-9). Charged to the budget.
    will: Option<Message>,
    /// The tasks that end the session and publish its will when they are due
    /// ([`Broker::arm`]): aborted when a connection takes the session back, so that a client
    /// that comes and goes does not leave a sleeping task behind per visit.
    timers: Vec<AbortHandle>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, Session>,
    /// Every session's subscriptions, by topic level: what routing looks at. Each session's
    /// `subscriptions` is filed here, and nothing else.
    routes: Routes,
    /// Per shared subscription (`$share/{group}/{filter}`), how many messages it has handed out:
    /// the next goes to the member after (round robin). A group's turn goes with its last
    /// member's subscription.
    shared_turns: HashMap<String, usize>,
}

/// An MQTT 3.1.1 and 5 broker, QoS 0 and 1 (QoS 2 publishes are taken in and routed as QoS 1).
pub struct Broker {
    inner: Mutex<Inner>,
    /// The retained messages, apart from `inner` so that a SUBSCRIBE's look-up in them holds up
    /// only retained publishes, not every other client's. A retained publish takes this lock
    /// before `inner`'s, and holds both while it routes; a SUBSCRIBE reads it across filing its
    /// subscriptions and looking up what they match: so each retained message reaches a new
    /// subscription once, routed or retained, never both nor neither.
    retained: RwLock<Retained>,
    /// The next connection's id.
    pub(super) next_id: AtomicU64,
    /// A permit per connection: at most `max_connections` at once.
    pub(super) connections: Arc<Semaphore>,
    /// The cap, as the refusals' log says it.
    pub(super) max_connections: usize,
    /// The longest a persistent session outlives its connection, in seconds.
    pub(super) session_expiry: u32,
    /// What the messages held for sessions take, and the most they may.
    pub(super) budget: Arc<Budget>,
    /// The most messages and bytes that may wait for one connection ([`Waiting`]).
    pub(super) waiting_limits: (usize, usize),
}

impl Default for Broker {
    /// A broker of [`crate::DEFAULT_MQTT_MAX_CONNECTIONS`] connections that holds at most
    /// [`crate::DEFAULT_MQTT_MAX_HELD_BYTES`] of messages.
    fn default() -> Self {
        Broker::new(crate::DEFAULT_MQTT_MAX_CONNECTIONS, crate::DEFAULT_MQTT_MAX_HELD_BYTES)
    }
}

/// What a connection leaves behind when it gives its session back ([`Broker::detach`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Left {
    /// How long the session may stay offline ([`Broker::expire`] then), if it stays.
    pub expires: Option<Duration>,
    /// When the will the session keeps is due ([`Broker::will_due`] then), if it keeps one.
    pub will_due: Option<Duration>,
}

/// What a session brings to the connection that takes it.
pub(super) struct Resumed {
    /// Whether a session was present (CONNACK's Session Present).
    pub present: bool,
    /// The messages queued for it while it was offline, unacknowledged ones first.
    pub backlog: VecDeque<Message>,
    /// Its QoS 2 publishes awaiting PUBREL.
    pub awaiting_release: HashSet<u16>,
    /// How long it outlives the connection, in seconds, when that is not what an MQTT 5 client
    /// asked for (CONNACK's Session Expiry Interval).
    pub expiry_told: Option<u32>,
}

impl Broker {
    /// A broker that holds at most `max_connections` connections at once (at least 1; more are
    /// closed as they come) and `max_held_bytes` of messages for its sessions (the budget of
    /// [`super::budget`]).
    pub fn new(max_connections: usize, max_held_bytes: usize) -> Self {
        let max = max_connections.clamp(1, Semaphore::MAX_PERMITS);
        Broker {
            session_expiry: DEFAULT_SESSION_EXPIRY,
            inner: Mutex::default(),
            retained: RwLock::default(),
            next_id: AtomicU64::new(1),
            connections: Arc::new(Semaphore::new(max)),
            max_connections: max,
            budget: Budget::new(max_held_bytes),
            waiting_limits: (waiting::MAX_WAITING_MESSAGES, waiting::MAX_WAITING_BYTES),
        }
    }

    /// The same broker, whose connections may have at most `messages` messages and `bytes`
    /// bytes waiting for them ([`Waiting`]; tests make them small).
    #[cfg(test)]
    #[must_use]
    pub fn with_waiting_limits(mut self, messages: usize, bytes: usize) -> Self {
        self.waiting_limits = (messages, bytes);
        self
    }

    /// The same broker, whose persistent sessions outlive their connection by at most `secs`
    /// seconds (1 to [`MAX_SESSION_EXPIRY`]; [`DEFAULT_SESSION_EXPIRY`] otherwise): an MQTT 3.1.1
    /// session by exactly that, an MQTT 5 session by what it asks up to that.
    #[must_use]
    pub fn with_session_expiry(mut self, secs: u32) -> Self {
        self.session_expiry = secs.clamp(1, MAX_SESSION_EXPIRY);
        self
    }

    /// The interval a session of `requested` seconds gets (`None`: MQTT 3.1.1, the longest).
    fn expiry(&self, requested: Option<u32>) -> u32 {
        requested.map_or(self.session_expiry, |r| r.min(self.session_expiry))
    }

    /// Forgets every session that no connection serves and every retained message (`POST
    /// /_emulator/reset`). Connected clients keep their connections and sessions: a test that
    /// resets the emulator does not lose its own clients. The wills the forgotten sessions kept
    /// while their delay ran are forgotten with them, not published.
    pub fn reset(&self) {
        let mut retained = self.retained_write();
        let mut inner = self.lock();
        let offline: Vec<String> =
            inner.sessions.iter().filter(|(_, s)| s.connection.is_none()).map(|(c, _)| c.clone()).collect();
        for client in &offline {
            inner.end(client);
        }
        *retained = Retained::default();
    }

    /// The broker's figures for `GET /_emulator/stats`: its sessions, subscriptions and retained
    /// messages, and the bytes of messages it holds, beside their caps.
    pub fn stats(&self) -> serde_json::Value {
        let retained = {
            let mut retained = self.retained_write();
            retained.remove_expired(std::time::Instant::now());
            retained.len()
        };
        let inner = self.lock();
        serde_json::json!({
            "sessions": inner.sessions.len(),
            "maxSessions": MAX_SESSIONS,
            "subscriptions": inner.routes.len(),
            "maxSubscriptions": MAX_ALL_SUBSCRIPTIONS,
            "retained": retained,
            "maxRetained": MAX_RETAINED,
            "heldBytes": self.budget.held(),
            "maxHeldBytes": self.budget.limit(),
            "droppedCopies": self.budget.dropped(),
            "droppedQueued": self.budget.overflowed(),
        })
    }

    /// Whether a copy of `message` fits in the budget: a client's publish is taken only then.
    pub(super) fn room_for(&self, message: &Message) -> bool {
        self.budget.room(message.size())
    }
}

impl Inner {
    /// Ends `client`'s session, its subscriptions with it.
    fn end(&mut self, client: &str) {
        if let Some(session) = self.sessions.remove(client) {
            for f in session.subscriptions.keys() {
                file_out(&mut self.routes, &mut self.shared_turns, f, client);
            }
        }
    }
}

impl Broker {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn retained_read(&self) -> RwLockReadGuard<'_, Retained> {
        self.retained.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn retained_write(&self) -> RwLockWriteGuard<'_, Retained> {
        self.retained.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many sessions there are, connected or not.
    #[cfg(test)]
    pub(super) fn sessions(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether a message on `topic` would reach a session: one, connected or not, has a
    /// subscription whose filter matches it. (The service renders only what someone receives.)
    pub fn wants(&self, topic: &str) -> bool {
        let inner = self.lock();
        let mut wanted = false;
        inner.routes.matching(topic, |f, client| {
            wanted = wanted || inner.sessions.get(client).is_some_and(|s| s.subscriptions.contains_key(f));
        });
        wanted
    }

    /// Routes `message`, which the service publishes, to every session with a matching
    /// subscription, at the lower of the two QoS, and keeps it if it is retained (an empty
    /// retained payload clears the topic).
    pub fn publish(&self, message: &Message) {
        self.publish_from(message, None);
    }

    /// The same for a message that client `from` published (its will included): No Local
    /// subscriptions of that client do not get it (MQTT-3.8.3-3).
    pub(super) fn publish_from(&self, message: &Message, from: Option<&str>) {
        // Each copy held for a session or the retained store is charged to the budget, and
        // their payload once.
        let size = message.copy_size();
        let payload = self.budget.charged_payload(&message.payload);
        let copy = |qos: u8, retain: bool| Message {
            qos,
            retain,
            charge: self.budget.charge(size),
            payload: payload.clone(),
            ..message.clone()
        };
        // Held until the message is routed (the lock order: retained, then inner).
        let _retained = message.retain.then(|| {
            let mut retained = self.retained_write();
            retained.set(message, || copy(message.qos, true));
            retained
        });
        let mut inner = self.lock();
        let Inner { sessions, routes, shared_turns, .. } = &mut *inner;
        let dropped = self.budget.dropped();
        // Per client, the highest QoS its matching plain subscriptions grant, and whether one of
        // them keeps the retain flag (MQTT 5 Retain As Published; otherwise it is cleared,
        // MQTT-3.3.1-9/-12); per shared subscription (MQTT 5 §4.8.2: `$share/{group}/{filter}`),
        // its members.
        let mut plain: HashMap<&str, (u8, bool)> = HashMap::new();
        let mut groups: BTreeMap<&str, Vec<(&str, u8, bool)>> = BTreeMap::new();
        routes.matching(&message.topic, |f, client| {
            let Some(session) = sessions.get(client) else { return };
            let Some(o) = session.subscriptions.get(f) else { return };
            if filter::shared(f).is_some() {
                groups.entry(f).or_default().push((client, o.qos, session.connection.is_some()));
            } else if !(o.no_local && from == Some(client)) {
                let (q, keep) = plain.entry(client).or_insert((o.qos, o.retain_as_published));
                *q = (*q).max(o.qos);
                *keep = *keep || o.retain_as_published;
            }
        });
        // (What is collected names the routes' strings, not the sessions, which it then changes.)
        let chosen: Vec<(&str, &str, u8)> = groups
            .into_iter()
            .filter_map(|(group, mut members)| {
                // Round robin over the members in client-id order, among the connected ones
                // when there are any (an offline persistent member keeps QoS 1 messages).
                members.sort_unstable();
                if members.iter().any(|m| m.2) {
                    members.retain(|m| m.2);
                }
                let turn = shared_turns.get(group).copied().unwrap_or(0);
                let (client, q, _) = members.get(turn % members.len().max(1))?;
                Some((group, *client, *q))
            })
            .collect();
        for (group, client, q) in chosen {
            let turn = shared_turns.entry(group.to_owned()).or_insert(0);
            *turn = turn.wrapping_add(1);
            if let Some(session) = sessions.get_mut(client) {
                deliver(client, session, copy(q.min(message.qos), false), &self.budget);
            }
        }
        for (client, (q, keep)) in plain {
            if let Some(session) = sessions.get_mut(client) {
                // Delivered to existing subscriptions with the retain flag cleared (MQTT-3.3.1-9),
                // unless one asked to keep it (MQTT-3.3.1-13).
                deliver(client, session, copy(q.min(message.qos), keep && message.retain), &self.budget);
            }
        }
        log_dropped(&self.budget, &message.topic, dropped);
    }

    /// The QoS a session's subscriptions grant on `topic`, if any.
    pub(super) fn grant(&self, client: &str, topic: &str) -> Option<u8> {
        let inner = self.lock();
        let session = inner.sessions.get(client)?;
        session
            .subscriptions
            .iter()
            .filter(|(f, _)| filter::subscription_matches(topic, f))
            .map(|(_, o)| o.qos)
            .max()
    }
}

/// Takes `client`'s subscription `f` out of the routes, and the turn of its share group with
/// the group's last member. (The turns were once swept by a look at every subscription of every
/// session on each publish once they passed 10,000: a client holding 11,000 groups slowed every
/// other client's publishes 50-fold; BENCHMARKS §7.)
fn file_out(routes: &mut Routes, shared_turns: &mut HashMap<String, usize>, f: &str, client: &str) {
    if routes.remove(f, client) {
        shared_turns.remove(f);
    }
}

impl Broker {
    /// Binds a session to a new connection, taking it from the connection that serves it, if
    /// any, at once (that connection's messages in flight are then lost to the session). Returns
    /// what the session brings, or `None` when the session table is full.
    pub(super) fn attach(&self, client: &str, link: Link, connect: &Connect) -> Option<Resumed> {
        self.bind(client, link, connect, true).ok()
    }

    /// Binds a session to a new connection, unless another connection serves it: that one is
    /// then told to close (MQTT-3.1.4-2), and the caller waits for it to give the session back
    /// (with the messages it had in flight and the QoS 2 publishes awaiting release, which
    /// the session then brings, MQTT-4.4.0-1) before trying again.
    pub(super) fn try_attach(&self, client: &str, link: Link, connect: &Connect) -> Result<Resumed, Busy> {
        self.bind(client, link, connect, false)
    }

    fn bind(&self, client: &str, link: Link, connect: &Connect, force: bool) -> Result<Resumed, Busy> {
        let mut inner = self.lock();
        if inner.sessions.len() >= MAX_SESSIONS && !inner.sessions.contains_key(client) {
            return Err(Busy::Full);
        }
        let Inner { sessions, routes, shared_turns, .. } = &mut *inner;
        let session = sessions.entry(client.to_owned()).or_insert_with(|| Session {
            subscriptions: BTreeMap::new(),
            connection: None,
            persistent: false,
            expiry: Duration::ZERO,
            awaiting_release: HashSet::new(),
            left_by: 0,
            closing: false,
            queued: VecDeque::new(),
            will_delay: Duration::ZERO,
            will: None,
            timers: Vec::new(),
        });
        if let Some(old) = &session.connection {
            // MQTT-3.1.4-2: the existing connection with this client id is closed.
            old.taken.notify_one();
            if !force {
                return Err(Busy::TakingOver(Arc::clone(&old.gone)));
            }
        }
        let present = !connect.clean && (session.persistent || session.connection.is_some());
        session.connection = None;
        session.timers.drain(..).for_each(|t| t.abort());
        // A will whose delay runs is dropped when the session is taken back, and published
        // when a clean start ends the session (MQTT 5 3.1.2.5, MQTT-3.1.3-9).
        let ended_will = session.will.take().filter(|_| !present);
        if !present {
            for f in std::mem::take(&mut session.subscriptions).keys() {
                file_out(routes, shared_turns, f, client);
            }
            session.queued.clear();
            session.awaiting_release.clear();
        }
        let expiry = self.expiry(connect.session_expiry);
        session.persistent = connect.persistent;
        session.expiry = Duration::from_secs(u64::from(expiry));
        session.connection = Some(link);
        session.closing = false;
        session.will_delay = Duration::from_secs(u64::from(connect.will_delay));
        let resumed = Resumed {
            present,
            backlog: std::mem::take(&mut session.queued),
            awaiting_release: std::mem::take(&mut session.awaiting_release),
            expiry_told: connect.session_expiry.filter(|r| *r > expiry).map(|_| expiry),
        };
        drop(inner);
        if let Some(will) = ended_will {
            self.publish_will(client, will);
        }
        Ok(resumed)
    }

    /// Unbinds a closed connection: a clean session goes; a persistent one keeps its
    /// subscriptions and gets the unacknowledged messages back first in its queue.
    ///
    /// `rx` is the connection's queue: what it still holds (routed, never sent) is kept too; it
    /// is read with the lock held, so that nothing is routed to it meanwhile.
    ///
    /// `awaiting_release` are the connection's QoS 2 publishes not yet released: a persistent
    /// session keeps them for the next connection.
    ///
    /// `will` is the connection's will, if it is to be published: at once, or, when the
    /// connection's CONNECT gave it a Will Delay Interval and the session stays, kept with the
    /// session until it is due ([`Broker::will_due`]) or the session ends.
    ///
    /// Returns how long the session may stay offline, if it stays, and when its will is due.
    pub(super) fn detach(
        &self,
        client: &str,
        id: u64,
        unacked: Vec<Message>,
        awaiting_release: HashSet<u16>,
        will: Option<Message>,
        rx: &mut mpsc::UnboundedReceiver<Deliver>,
    ) -> Left {
        let mut inner = self.lock();
        let (left, will) = match inner.sessions.get_mut(client) {
            Some(session) if session.connection.as_ref().is_none_or(|l| l.id == id) => {
                let (left, will) = self.leave(session, id, unacked, awaiting_release, will, rx);
                if left.expires.is_none() {
                    inner.end(client);
                }
                (left, will)
            }
            // Another connection took the session at once ([`Broker::attach`]), or it is gone.
            _ => (Left::default(), will),
        };
        drop(inner);
        if let Some(will) = will {
            self.publish_will(client, will);
        }
        left
    }

    /// [`Broker::detach`] of a session the connection still serves: returns what it leaves, and
    /// the will to publish at once.
    fn leave(
        &self,
        session: &mut Session,
        id: u64,
        unacked: Vec<Message>,
        awaiting_release: HashSet<u16>,
        will: Option<Message>,
        rx: &mut mpsc::UnboundedReceiver<Deliver>,
    ) -> (Left, Option<Message>) {
        session.connection = None;
        session.closing = false;
        session.left_by = id;
        if session.persistent {
            // In the order they were routed: what the connection had (in flight, then waiting),
            // what its queue still holds, then what the session queued after it was cut.
            let mut held: Vec<Message> = unacked;
            while let Ok(d) = rx.try_recv() {
                if d.qos > 0 {
                    held.push(*d);
                }
            }
            for m in held.into_iter().rev() {
                session.queued.push_front(m);
            }
            let past = session.queued.len().saturating_sub(MAX_QUEUED);
            session.queued.truncate(MAX_QUEUED);
            self.budget.overflow(past);
            session.awaiting_release = awaiting_release;
            let expires = Some(session.expiry);
            let delay = session.will_delay.min(session.expiry);
            match will {
                // Kept while its delay runs, if the budget has room for it (otherwise it goes
                // at once: the wills kept stay within what the broker may hold).
                Some(w) if !delay.is_zero() && self.budget.room(w.size()) => {
                    let payload = self.budget.charged_payload(&w.payload);
                    session.will = Some(Message { charge: self.budget.charge(w.copy_size()), payload, ..w });
                    (Left { expires, will_due: Some(delay) }, None)
                }
                will => (Left { expires, will_due: None }, will),
            }
        } else {
            (Left { expires: None, will_due: None }, will)
        }
    }

    /// Keeps the tasks of `timers`, which end `client`'s session or publish its will when due,
    /// with the session that connection `left_by` left, so that a connection taking it back
    /// aborts them; if one took it back already (or the session is gone), they are aborted now.
    pub(super) fn arm(&self, client: &str, left_by: u64, timers: Vec<AbortHandle>) {
        let mut inner = self.lock();
        match inner.sessions.get_mut(client).filter(|s| s.connection.is_none() && s.left_by == left_by) {
            Some(session) => session.timers.extend(timers),
            None => timers.iter().for_each(AbortHandle::abort),
        }
    }

    /// Publishes the will kept with `client`'s session, unless a connection took the session
    /// back since connection `left_by` left it: its Will Delay Interval has run out.
    pub(super) fn will_due(&self, client: &str, left_by: u64) {
        let mut inner = self.lock();
        let will = inner
            .sessions
            .get_mut(client)
            .filter(|s| s.connection.is_none() && s.left_by == left_by)
            .and_then(|s| s.will.take());
        drop(inner);
        if let Some(will) = will {
            self.publish_will(client, will);
        }
    }

    /// Publishes `client`'s will, its Message Expiry Interval counted from now (MQTT 5 3.1.3.2.4).
    fn publish_will(&self, client: &str, will: Message) {
        self.publish_from(&will.expiring(std::time::Instant::now()), Some(client));
    }

    /// Applies the session expiry interval of a DISCONNECT from connection `id` (MQTT 5
    /// 3.14.2.2.2): 0 ends the session with the connection, more keeps it that long, up to the
    /// broker's longest. Returns `false`, changing nothing, for a session whose CONNECT asked
    /// for none (interval 0): setting one then is a protocol error.
    pub(super) fn set_expiry(&self, client: &str, id: u64, secs: u32) -> bool {
        let expiry = self.expiry(Some(secs));
        let mut inner = self.lock();
        let Some(session) = inner.sessions.get_mut(client) else { return true };
        if session.connection.as_ref().is_some_and(|l| l.id != id) {
            return true;
        }
        if !session.persistent && secs != 0 {
            return false;
        }
        session.persistent = secs > 0;
        session.expiry = Duration::from_secs(u64::from(expiry));
        true
    }

    /// Ends a session whose expiry interval ran out, unless a connection took it back since
    /// connection `left_by` left it (MQTT-3.1.2-23 for the session expiry interval).
    ///
    /// A will still kept with the session is published: the session ended before its delay did.
    pub(super) fn expire(&self, client: &str, left_by: u64) {
        let mut inner = self.lock();
        if !inner.sessions.get(client).is_some_and(|s| s.connection.is_none() && s.left_by == left_by) {
            return;
        }
        let will = inner.sessions.get_mut(client).and_then(|s| s.will.take());
        inner.end(client);
        drop(inner);
        tracing::debug!(client, "MQTT session expired");
        if let Some(will) = will {
            self.publish_will(client, will);
        }
    }

    /// Adds subscriptions; returns the grants and the retained messages they match, at most
    /// `room` + 1 of them (more than `room` is more than the client may have waiting).
    pub(super) fn subscribe(
        &self,
        client: &str,
        filters: Vec<Subscription>,
        room: usize,
    ) -> (Vec<Grant>, Vec<Message>) {
        let retained = self.retained_read();
        let mut inner = self.lock();
        let Inner { sessions, routes, .. } = &mut *inner;
        // A session taken over meanwhile: nothing is granted (the connection is closing).
        let Some(session) = sessions.get_mut(client) else {
            return (vec![Grant::Unspecified; filters.len()], Vec::new());
        };
        let mut grants = Vec::with_capacity(filters.len());
        // The granted filters that get retained messages, looked up once `inner` is let go.
        let mut looked_up = Vec::new();
        for s in filters {
            let f = s.filter;
            if !filter::valid_subscription(&f) {
                grants.push(Grant::Invalid);
                continue;
            }
            let existed = session.subscriptions.contains_key(&f);
            let full =
                session.subscriptions.len() >= MAX_SUBSCRIPTIONS || routes.len() >= MAX_ALL_SUBSCRIPTIONS;
            if full && !existed {
                grants.push(Grant::Quota);
                continue;
            }
            let q = s.qos.min(1);
            routes.insert(&f, client);
            // No retained messages for a shared subscription (MQTT 5 §4.8.2), nor where Retain
            // Handling says not (MQTT-3.3.1-10, -11), nor for a filter with a wildcard: AWS IoT
            // Core delivers a retained message only to a subscription to its exact topic
            // (DG-MQTT, "Retained messages"; MQTT lets a broker send every match).
            let wants_retained = match s.retain_handling {
                RetainHandling::Always => true,
                RetainHandling::IfNew => !existed,
                RetainHandling::Never => false,
            };
            if filter::shared(&f).is_none() && !f.contains(['+', '#']) && wants_retained {
                looked_up.push((f.clone(), q));
            }
            let options =
                Options { qos: q, no_local: s.no_local, retain_as_published: s.retain_as_published };
            session.subscriptions.insert(f, options);
            grants.push(Grant::Qos(q));
        }
        drop(inner);
        let mut matched = Vec::new();
        for (f, q) in looked_up {
            let left = room.saturating_add(1).saturating_sub(matched.len());
            let now = std::time::Instant::now();
            let live = retained.matching(&f).filter(|m| m.expiry_left(now) != Some(0));
            for m in live.take(left) {
                // At the lower QoS of the two; the store's copies carry the retain flag.
                matched.push(Message { qos: m.qos.min(q), ..m.clone() });
            }
        }
        (grants, matched)
    }

    /// Removes subscriptions; returns, per filter, whether the session had it.
    pub(super) fn unsubscribe(&self, client: &str, filters: &[String]) -> Vec<bool> {
        let mut inner = self.lock();
        let Inner { sessions, routes, shared_turns, .. } = &mut *inner;
        let Some(session) = sessions.get_mut(client) else { return vec![false; filters.len()] };
        let mut existed = Vec::with_capacity(filters.len());
        for f in filters {
            let had = session.subscriptions.remove(f).is_some();
            if had {
                file_out(routes, shared_turns, f, client);
            }
            existed.push(had);
        }
        existed
    }
}

#[cfg(test)]
mod tests;
