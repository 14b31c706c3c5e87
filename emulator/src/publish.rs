//! The service's MQTT messages, published in the order of the changes that caused them.
//!
//! A change's messages are taken under the state lock, so in the order of the changes, and
//! published once the change is saved, by the request that waits for it. The requests one
//! group commit saves resume in any order: so a batch goes out only after every batch taken
//! before it has settled (published, or dropped with a change that was rolled back). One device
//! thus hears its `notify-next` in the order its head changed, as MQTT orders one publisher's
//! messages per topic (3.1.1 and 5 §4.6), whichever request finishes first.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::mqtt::bridge::Bridge;
use crate::mqtt::{Broker, Message};
use crate::state::State;

/// Where the service's messages go: the embedded broker, an existing one (bridge mode), or
/// both.
pub struct Publisher {
    broker: Option<Arc<Broker>>,
    bridge: Option<Bridge>,
    /// The place the next batch taken gets: counted apart from `order`, so that the state's lock,
    /// held while a batch is taken, never waits for batches being published.
    taken: AtomicU64,
    order: Mutex<Order>,
}

/// The batches settled and not yet published.
#[derive(Default)]
struct Order {
    /// The place of the next batch to publish.
    next: u64,
    /// Settled batches waiting for one before them, by place (an empty one was dropped).
    settled: BTreeMap<u64, Vec<Message>>,
}

/// The messages of one change, to release once the change is saved or rolled back.
pub struct Batch {
    publisher: Arc<Publisher>,
    /// Its place in the order; `None`: nothing to publish, or released.
    place: Option<u64>,
    messages: Vec<Message>,
}

impl Publisher {
    /// A publisher to `broker` and `bridge`.
    pub fn new(broker: Option<Arc<Broker>>, bridge: Option<Bridge>) -> Arc<Self> {
        Arc::new(Publisher { broker, bridge, taken: AtomicU64::new(0), order: Mutex::default() })
    }

    fn lock(&self) -> MutexGuard<'_, Order> {
        self.order.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the messages of the change just made. Call it with the state lock held, so that
    /// batches are numbered in the order of their changes.
    pub fn take(self: &Arc<Self>, st: &mut State) -> Batch {
        let messages = st.take_messages();
        let place = (!messages.is_empty()).then(|| self.taken.fetch_add(1, Ordering::Relaxed));
        Batch { publisher: Arc::clone(self), place, messages }
    }

    /// Files the batch at `place` and publishes every settled one from the next place on,
    /// in order, until one that has not settled. The lock is held while they are handed over,
    /// so that no later batch overtakes them.
    fn settle(&self, place: u64, messages: Vec<Message>) {
        let mut order = self.lock();
        order.settled.insert(place, messages);
        loop {
            let next = order.next;
            let Some(messages) = order.settled.remove(&next) else { break };
            order.next = next.saturating_add(1);
            for m in &messages {
                if let Some(broker) = &self.broker {
                    broker.publish(m);
                }
                if let Some(bridge) = &self.bridge {
                    bridge.publish(m);
                }
            }
        }
    }
}

impl Batch {
    /// Publishes the messages (`saved`: the change is on disk) once every batch taken before
    /// has settled, or drops them (the change was rolled back: its events never happened).
    pub fn release(mut self, saved: bool) {
        if let Some(place) = self.place.take() {
            let messages = if saved { std::mem::take(&mut self.messages) } else { Vec::new() };
            self.publisher.settle(place, messages);
        }
    }
}

impl Drop for Batch {
    /// A batch dropped unreleased (a task that held it was aborted at shutdown; an HTTP request
    /// saves and releases in a task of its own, which a client that goes away does not cancel):
    /// its messages are dropped, and the batches after it go on.
    fn drop(&mut self) {
        if let Some(place) = self.place.take() {
            self.publisher.settle(place, Vec::new());
        }
    }
}
