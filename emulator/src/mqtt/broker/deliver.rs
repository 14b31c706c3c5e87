//! Handing a routed message to a session: to its connection's queue, or for QoS 1 to an
//! offline persistent session's queue within the budget; a connection too far behind is cut.

use tokio::sync::mpsc;

use super::{Budget, MAX_QUEUED, Message, Session};

/// Says how many copies of a message on `topic` the budget kept from offline sessions, if any:
/// those [`Budget::dropped`] counted since it said `before`. (Only a log: the count is in
/// `GET /_emulator/stats`.)
pub(super) fn log_dropped(budget: &Budget, topic: &str, before: u64) {
    let sessions = budget.dropped().saturating_sub(before);
    if sessions > 0 {
        tracing::warn!(
            topic,
            sessions,
            held = budget.held(),
            limit = budget.limit(),
            "the messages held for MQTT sessions are past --mqtt-max-held-bytes: not queued for offline sessions"
        );
    }
}

/// Hands a message to the session of `client`: to its connection, or, for QoS 1 on a
/// persistent offline session, to its queue, unless the budget is spent (the copy is then
/// dropped: what the broker holds stays bounded, as mosquitto's `max_queued_bytes` keeps it). A
/// connection too far behind is dropped (its task then closes it).
pub(super) fn deliver(client: &str, session: &mut Session, message: Message, budget: &Budget) {
    let Some(link) = session.connection.as_ref().filter(|_| !session.closing) else {
        return queue_new(session, message, budget);
    };
    let size = message.size();
    let refused = if link.waiting.admit(size) {
        let sent = link.tx.send(Box::new(message));
        sent.err().map(|mpsc::error::SendError(d)| {
            link.waiting.release(size);
            *d
        })
    } else {
        tracing::warn!(client, "an MQTT client is too slow to take its messages: closing it");
        Some(message)
    };
    if let Some(message) = refused {
        // The connection keeps the session until it gives it back with what it has in flight
        // (a client connecting again meanwhile waits for that): what comes until then waits in
        // the session's queue, after what the connection holds.
        link.cut.notify_one();
        session.closing = true;
        queue_new(session, message, budget);
    }
}

/// Queues a new copy for an offline session, unless the budget is spent: it is then dropped,
/// and counted.
fn queue_new(session: &mut Session, message: Message, budget: &Budget) {
    if session.persistent && message.qos > 0 && budget.over() {
        budget.drop_one();
        return;
    }
    queue(session, message, budget);
}

fn queue(session: &mut Session, message: Message, budget: &Budget) {
    if session.persistent && message.qos > 0 {
        if session.queued.len() >= MAX_QUEUED {
            session.queued.pop_front();
            budget.overflow(1);
        }
        session.queued.push_back(message);
    }
}
