#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use super::*;
use crate::mqtt::codec::Version;

fn connect(client: &str, clean: bool, persistent: bool) -> Connect {
    Connect {
        version: Version::V4,
        client_id: client.into(),
        clean,
        persistent,
        keep_alive: 60,
        will: None,
        receive_max: None,
        max_packet: None,
        session_expiry: None,
        will_exactly_once: false,
        will_delay: 0,
        auth_method: None,
    }
}

fn link(id: u64) -> (Link, mpsc::UnboundedReceiver<Deliver>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let notify = || Arc::new(Notify::new());
    let waiting = Arc::new(Waiting::new(64, usize::MAX));
    (Link { id, tx, waiting, cut: notify(), taken: notify(), gone: Arc::new(watch::Sender::new(false)) }, rx)
}

/// The routing index holds exactly the sessions' subscriptions.
fn assert_routes_mirror_sessions(broker: &Broker) {
    let inner = broker.lock();
    let want: BTreeSet<(String, String)> = inner
        .sessions
        .iter()
        .flat_map(|(c, s)| s.subscriptions.keys().map(|f| (f.clone(), c.clone())))
        .collect();
    assert_eq!(inner.routes.len(), want.len());
    assert_eq!(inner.routes.all(), want);
    // A share group's turn is kept only while the group has a member.
    for group in inner.shared_turns.keys() {
        assert!(want.iter().any(|(f, _)| f == group), "the turn of {group}, which nobody holds");
    }
}

fn subscribe(broker: &Broker, client: &str, filters: &[&str]) {
    let filters = filters.iter().map(|f| Subscription::new(*f, 1)).collect();
    broker.subscribe(client, filters, 0);
}

/// A broker with one clean session, `client`, subscribed to `filters`, and what it is handed.
fn subscribed(client: &str, filters: &[&str]) -> (Arc<Broker>, mpsc::UnboundedReceiver<Deliver>) {
    let broker = Arc::new(Broker::default());
    let (l, rx) = link(1);
    broker.attach(client, l, &connect(client, true, false)).unwrap();
    subscribe(&broker, client, filters);
    (broker, rx)
}

/// What `rx` was handed: (topic, QoS, retain) of each message.
fn handed(rx: &mut mpsc::UnboundedReceiver<Deliver>) -> Vec<(String, u8, bool)> {
    let mut got = Vec::new();
    while let Ok(m) = rx.try_recv() {
        got.push((m.topic, m.qos, m.retain));
    }
    got
}

/// A plain subscription gets a message at the lower QoS of the two, its retain flag cleared
/// (MQTT-3.3.1-9), once however many of its filters match, at the highest QoS they grant;
/// a share group hands each message to its members in turn, in client-id order.
#[test]
fn routing_grants_the_lower_qos_and_shares_in_turn() {
    let broker = Broker::default();
    let mut rxs = Vec::new();
    for (i, client) in ["m1", "m2", "m3"].into_iter().enumerate() {
        let (l, rx) = link(u64::try_from(i).unwrap());
        broker.attach(client, l, &connect(client, true, false)).unwrap();
        broker.subscribe(client, vec![Subscription::new("$share/g/s/+", 1), Subscription::new("p/#", 0)], 0);
        rxs.push(rx);
    }
    broker.subscribe("m1", vec![Subscription::new("p/+", 1)], 0);
    let mut retained = Message::new("p/x", "m", 1);
    retained.retain = true;
    broker.publish(&retained);
    let got: Vec<_> = rxs.iter_mut().map(handed).collect();
    let p = |q| vec![("p/x".to_owned(), q, false)];
    assert_eq!(got, [p(1), p(0), p(0)]);
    for i in 0..4 {
        broker.publish(&Message::new(format!("s/{i}"), "m", 1));
    }
    let got: Vec<Vec<String>> =
        rxs.iter_mut().map(|rx| handed(rx).into_iter().map(|m| m.0).collect()).collect();
    assert_eq!(got, [vec!["s/0", "s/3"], vec!["s/1"], vec!["s/2"]]);
}

/// A share group's turn goes with the subscription of its last member, whichever way it
/// goes (an unsubscribe, a session's end, a clean start), and not before.
#[test]
fn a_share_groups_turn_goes_with_its_last_member() {
    let broker = Broker::default();
    let mut rxs = Vec::new();
    for (i, client) in ["m1", "m2", "m3"].into_iter().enumerate() {
        let (l, rx) = link(u64::try_from(i).unwrap());
        broker.attach(client, l, &connect(client, true, false)).unwrap();
        subscribe(&broker, client, &["$share/g/t", "$share/h/t"]);
        rxs.push(rx);
    }
    broker.publish(&Message::new("t", "m", 1));
    let turns = |broker: &Broker| broker.lock().shared_turns.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(turns(&broker), ["$share/g/t".to_owned(), "$share/h/t".to_owned()].into());
    broker.unsubscribe("m1", &["$share/g/t".to_owned()]);
    broker.lock().end("m2");
    assert_eq!(turns(&broker).len(), 2);
    assert_routes_mirror_sessions(&broker);
    // m3, g's last member, unsubscribes: g's turn goes; h keeps m1's.
    broker.unsubscribe("m3", &["$share/g/t".to_owned()]);
    assert_eq!(turns(&broker), ["$share/h/t".to_owned()].into());
    broker.lock().end("m3");
    // m1 starts clean: its subscriptions, h's last, go, and h's turn with them.
    let (l, _rx) = link(9);
    broker.attach("m1", l, &connect("m1", true, false)).unwrap();
    assert!(turns(&broker).is_empty());
    assert_routes_mirror_sessions(&broker);
}

/// An offline session keeps [`MAX_QUEUED`] QoS 1 messages: what it drops (the oldest, as new
/// ones come) is counted (`droppedQueued` in the stats), as is what a connection that lets go
/// of its session brings back past that (the newest then go; a gateway's report: neither
/// showed anywhere).
#[test]
fn what_a_full_offline_queue_drops_is_counted() {
    let broker = Broker::default();
    let (l, mut rx) = link(1);
    broker.attach("gw", l, &connect("gw", false, true)).unwrap();
    subscribe(&broker, "gw", &["n/+"]);
    broker.detach("gw", 1, Vec::new(), HashSet::new(), None, &mut rx);
    for i in 0..MAX_QUEUED + 5 {
        broker.publish(&Message::new(format!("n/{i}"), "x", 1));
    }
    let first = broker.lock().sessions.get("gw").unwrap().queued.front().map(|m| m.topic.clone());
    assert_eq!(first.as_deref(), Some("n/5"));
    assert_eq!(broker.budget.overflowed(), 5);
    assert_eq!(broker.stats()["droppedQueued"], 5);
    // Back, then gone with 3 unacknowledged in flight and 1,000 more routed: the session keeps
    // the first 1,000 in order and drops the 3 newest.
    let (l, mut rx) = link(2);
    let Resumed { backlog, .. } = broker.attach("gw", l, &connect("gw", false, true)).unwrap();
    let unacked: Vec<Message> = backlog.into_iter().take(3).collect();
    for i in 0..MAX_QUEUED {
        broker.publish(&Message::new(format!("n/again-{i}"), "x", 1));
    }
    broker.detach("gw", 2, unacked, HashSet::new(), None, &mut rx);
    let topics = |i: usize| broker.lock().sessions.get("gw").unwrap().queued.get(i).map(|m| m.topic.clone());
    assert_eq!(broker.lock().sessions.get("gw").unwrap().queued.len(), MAX_QUEUED);
    assert_eq!((topics(0).unwrap(), topics(MAX_QUEUED - 1).unwrap()), ("n/5".into(), "n/again-996".into()));
    assert_eq!(broker.budget.overflowed(), 8);
}

/// Every copy the broker keeps is charged its size, and given back when it goes: queued for
/// an offline session, on its way to a connection, retained. A copy for an offline session
/// past the budget is not kept; the room for a client's publish is what a copy would need.
#[test]
fn the_budget_charges_every_copy_held_and_queues_nothing_past_it() {
    let m = |t: &str, qos| Message::new(t, vec![7; 1000], qos);
    let size = m("a/1", 1).size();
    assert!(size > 1000 + 3, "{size}");
    let broker = Broker::new(10, 3 * size);
    let offline = |client: &str, id: u64| {
        let (l, mut rx) = link(id);
        broker.attach(client, l, &connect(client, false, true)).unwrap();
        subscribe(&broker, client, &[&format!("{client}/+")]);
        broker.detach(client, id, Vec::new(), HashSet::new(), None, &mut rx);
    };
    offline("a", 1);
    offline("b", 2);
    broker.publish(&m("a/1", 1));
    broker.publish(&m("b/1", 1));
    assert_eq!(broker.budget.held(), 2 * size);
    assert!(broker.room_for(&m("x/x", 1)));
    // a's second copy fits; b's would pass the limit: b gets none.
    broker.publish(&m("a/2", 1));
    broker.publish(&m("b/2", 1));
    assert_eq!(broker.budget.held(), 3 * size);
    assert!(!broker.room_for(&m("x/x", 1)));
    let queued = |c: &str| -> Vec<String> {
        broker.lock().sessions.get(c).unwrap().queued.iter().map(|m| m.topic.clone()).collect()
    };
    assert_eq!(queued("a"), ["a/1", "a/2"]);
    assert_eq!(queued("b"), ["b/1"]);
    assert_eq!(broker.budget.dropped(), 1);
    // b comes back: its queue goes to its connection, charged as before, and a connected
    // session gets its copy whatever the budget; an offline one does not.
    let (l, mut rx) = link(3);
    let Resumed { backlog, .. } = broker.attach("b", l, &connect("b", false, true)).unwrap();
    assert_eq!(broker.budget.held(), 3 * size);
    broker.publish(&m("b/3", 1));
    assert_eq!(handed(&mut rx), [("b/3".to_owned(), 1, false)]);
    broker.publish(&m("a/3", 1));
    assert_eq!(queued("a"), ["a/1", "a/2"]);
    assert_eq!(broker.budget.dropped(), 2);
    // A QoS 0 copy is never queued offline: not one the budget dropped.
    broker.publish(&m("a/0", 0));
    assert_eq!(broker.budget.dropped(), 2);
    drop(backlog);
    assert_eq!(broker.budget.held(), 2 * size);
    // A retained copy is held, and its copies for a subscriber charged again, but not their
    // payload, which they share.
    let mut kept = Message::new("r", vec![1; 10], 0);
    kept.retain = true;
    broker.publish(&kept);
    assert_eq!(broker.budget.held(), 2 * size + kept.size());
    let (_, matched) = broker.subscribe("b", vec![Subscription::new("r", 0)], 10);
    assert_eq!(broker.budget.held(), 2 * size + kept.size() + kept.copy_size());
    drop(matched);
    // Clearing the retained topic gives its copy back; b's copy of the clearing message is
    // on its way to b's connection until taken.
    kept.payload = Bytes::new();
    broker.publish(&kept);
    assert_eq!(broker.budget.held(), 2 * size + kept.size());
    assert_eq!(handed(&mut rx), [("r".to_owned(), 0, false)]);
    broker.expire("a", 1);
    assert_eq!(broker.budget.held(), 0);
}

/// The copies of one publish share its payload, and the budget counts it once: a large
/// message for many offline sessions takes its payload and a copy's own bytes per session,
/// and all of it comes back when the last copy goes.
#[test]
fn copies_of_a_publish_are_charged_their_payload_once() {
    let message = Message::new("fan/t", vec![7; 100_000], 1);
    // Room for the payload and 100 copies, not for 2 payloads.
    let broker = Broker::new(10, message.size() + 99 * message.copy_size());
    assert!(2 * message.size() > broker.budget.limit());
    for i in 0..100_u64 {
        let client = format!("s{i}");
        let (l, mut rx) = link(i);
        broker.attach(&client, l, &connect(&client, false, true)).unwrap();
        subscribe(&broker, &client, &["fan/t"]);
        broker.detach(&client, i, Vec::new(), HashSet::new(), None, &mut rx);
    }
    broker.publish(&message);
    assert_eq!(broker.budget.held(), message.size() + 99 * message.copy_size());
    assert_eq!(broker.budget.dropped(), 0);
    let queued = |c: &str| broker.lock().sessions.get(c).map(|s| s.queued.len());
    assert_eq!((queued("s0"), queued("s99")), (Some(1), Some(1)));
    for i in 0..99 {
        broker.expire(&format!("s{i}"), i);
    }
    assert_eq!(broker.budget.held(), message.size());
    broker.expire("s99", 99);
    assert_eq!(broker.budget.held(), 0);
}

/// A session takes at most MAX_SUBSCRIPTIONS filters and all sessions MAX_ALL_SUBSCRIPTIONS
/// (AWS IoT Core's quota per account): past either a new filter is refused as over quota,
/// one already held is granted again, and an invalid one is refused as invalid.
#[test]
fn subscriptions_are_capped_per_session_and_in_all() {
    let broker = Broker::default();
    let per = MAX_SUBSCRIPTIONS;
    let sessions = MAX_ALL_SUBSCRIPTIONS / per;
    for i in 0..sessions {
        let client = format!("c{i}");
        let (l, _rx) = link(u64::try_from(i).unwrap());
        broker.attach(&client, l, &connect(&client, true, false)).unwrap();
        let filters = (0..per).map(|j| Subscription::new(format!("t/{i}/{j}"), 1)).collect();
        let (grants, _) = broker.subscribe(&client, filters, 0);
        assert!(grants.iter().all(|g| *g == Grant::Qos(1)), "{client}");
    }
    let refused = |client: &str, f: &str| broker.subscribe(client, vec![Subscription::new(f, 0)], 0).0;
    assert_eq!(refused("c0", "t/0/more"), [Grant::Quota]);
    assert_eq!(refused("c0", "t/0/0"), [Grant::Qos(0)]);
    assert_eq!(refused("c0", "t/#/x"), [Grant::Invalid]);
    // A session below its own cap meets the cap on all.
    let (l, _rx) = link(u64::MAX);
    broker.attach("late", l, &connect("late", true, false)).unwrap();
    assert_eq!(refused("late", "late/1"), [Grant::Quota]);
    // Room again once a subscription goes.
    broker.unsubscribe("c1", &["t/1/0".to_owned()]);
    assert_eq!(refused("late", "late/1"), [Grant::Qos(0)]);
    assert_eq!(refused("late", "late/2"), [Grant::Quota]);
    assert_eq!(refused("gone", "x"), [Grant::Unspecified]);
}

/// A SUBSCRIBE's look-up in the retained messages (here: the store held for reading) holds
/// up no publish that is not retained: such a publish takes only the broker's lock.
#[test]
fn a_look_up_in_the_retained_messages_holds_up_no_other_publish() {
    let (broker, mut rx) = subscribed("s", &["t"]);
    let looking_up = broker.retained_read();
    let (done, published) = std::sync::mpsc::channel();
    let publisher = Arc::clone(&broker);
    // (Not joined: on a failure it would wait for the store forever.)
    std::thread::spawn(move || {
        publisher.publish(&Message::new("t", "m", 0));
        done.send(()).unwrap();
    });
    assert!(published.recv_timeout(Duration::from_secs(30)).is_ok(), "the publish waited for the look-up");
    drop(looking_up);
    assert_eq!(handed(&mut rx), [("t".to_owned(), 0, false)]);
}

/// A retained publish racing a SUBSCRIBE reaches the new subscription once: as the retained
/// message it finds, or routed after it, never both and never neither. (Sessions subscribe
/// one after the other while the messages are published, each at another moment.)
#[test]
fn a_retained_publish_racing_a_subscribe_reaches_it_once() {
    const N: u32 = 60;
    const SESSIONS: u64 = 40;
    for round in 0..50 {
        let broker = Arc::new(Broker::default());
        let mut rxs = Vec::new();
        for i in 0..SESSIONS {
            let (l, rx) = link(i);
            broker.attach(&format!("s{i}"), l, &connect(&format!("s{i}"), true, false)).unwrap();
            rxs.push(rx);
        }
        let start = Arc::new(std::sync::Barrier::new(2));
        let (publisher, go) = (Arc::clone(&broker), Arc::clone(&start));
        let publishing = std::thread::spawn(move || {
            go.wait();
            for i in 0..N {
                publisher.publish(&Message { retain: true, ..Message::new("r", i.to_string(), 1) });
                std::thread::yield_now();
            }
        });
        start.wait();
        let found: Vec<Vec<Message>> = (0..SESSIONS)
            .map(|i| broker.subscribe(&format!("s{i}"), vec![Subscription::new("r", 1)], 10).1)
            .collect();
        publishing.join().unwrap();
        let number = |m: &Message| std::str::from_utf8(&m.payload).unwrap().parse::<u32>().unwrap();
        for (i, (found, rx)) in found.iter().zip(&mut rxs).enumerate() {
            let first = match found.as_slice() {
                [] => 0,
                [m] => number(m) + 1,
                more => panic!("{} retained messages for one topic", more.len()),
            };
            let mut routed = Vec::new();
            while let Ok(m) = rx.try_recv() {
                routed.push(number(&m));
            }
            assert_eq!(routed, (first..N).collect::<Vec<_>>(), "round {round}, session {i}");
        }
    }
}

/// A SUBSCRIBE gets the retained messages its filters match at the lower QoS of the two,
/// with the retain flag set (MQTT-3.3.1-8), each filter its own copy (MQTT-3.8.4-4); a
/// shared subscription gets none.
#[test]
fn retained_messages_come_at_the_lower_qos_with_the_retain_flag() {
    let broker = Broker::default();
    for (t, qos) in [("r/1", 1), ("r/0", 0)] {
        broker.publish(&Message { retain: true, ..Message::new(t, "m", qos) });
    }
    let (l, _rx) = link(1);
    broker.attach("s", l, &connect("s", true, false)).unwrap();
    let got = |filters: &[(&str, u8)]| -> Vec<(String, u8, bool)> {
        let filters = filters.iter().map(|(f, q)| Subscription::new(*f, *q)).collect();
        broker.subscribe("s", filters, 10).1.into_iter().map(|m| (m.topic, m.qos, m.retain)).collect()
    };
    let at = |t: &str, q| (t.to_owned(), q, true);
    assert_eq!(got(&[("r/0", 0), ("r/1", 0)]), [at("r/0", 0), at("r/1", 0)]);
    assert_eq!(got(&[("r/0", 1), ("r/1", 1)]), [at("r/0", 0), at("r/1", 1)]);
    // Only a subscription to the exact topic gets it (AWS IoT Core, DG-MQTT "Retained
    // messages"): a wildcard filter gets later messages, not the retained one.
    assert_eq!(got(&[("r/1", 1), ("r/#", 1)]), [at("r/1", 1)]);
    assert_eq!(got(&[("r/+", 1), ("#", 1), ("+/1", 1)]), []);
    assert_eq!(got(&[("$share/g/r/1", 1)]), []);
}

/// A SUBSCRIBE's retained messages are looked up to `room` + 1 at most: one more than the
/// client may have waiting, which its connection then refuses (closing it) without the copies.
/// With exact filters only and at most 8 of them, this happens only to a client whose queue is
/// nearly full.
#[test]
fn retained_messages_of_a_subscribe_stop_one_past_the_room() {
    let broker = Broker::default();
    for t in ["r/0", "r/1", "r/2"] {
        broker.publish(&Message { retain: true, ..Message::new(t, "m", 1) });
    }
    let (l, _rx) = link(1);
    broker.attach("s", l, &connect("s", true, false)).unwrap();
    let filters = || ["r/0", "r/1", "r/2"].map(|f| Subscription::new(f, 1)).into();
    assert_eq!(broker.subscribe("s", filters(), 1).1.len(), 2);
    assert_eq!(broker.subscribe("s", filters(), 0).1.len(), 1);
    assert_eq!(broker.subscribe("s", filters(), 3).1.len(), 3);
}

/// At most MAX_RETAINED topics keep a retained message: past it a new topic's is routed
/// and not kept, a kept topic's is replaced, and a cleared one makes room.
#[test]
fn retained_messages_are_capped_by_topic() {
    let broker = Broker::default();
    let retained = |t: &str, payload: &'static str| Message { retain: true, ..Message::new(t, payload, 0) };
    for i in 0..MAX_RETAINED {
        broker.publish(&retained(&format!("r/{i}"), "m"));
    }
    let kept = |t: &str| broker.retained_read().get(t).map(|m| m.payload.clone());
    broker.publish(&retained("r/new", "m"));
    assert_eq!(kept("r/new"), None);
    broker.publish(&retained("r/0", "again"));
    assert_eq!(kept("r/0").as_deref(), Some(&b"again"[..]));
    broker.publish(&retained("r/1", ""));
    broker.publish(&retained("r/new", "m"));
    assert_eq!(kept("r/new").as_deref(), Some(&b"m"[..]));
    assert_eq!(broker.retained_read().len(), MAX_RETAINED);
}

/// A session expires only if no connection took it back since the one that left it.
#[test]
fn an_expiry_spares_a_session_taken_back() {
    let broker = Broker::default();
    let (l, mut rx) = link(1);
    broker.attach("p", l, &connect("p", false, true)).unwrap();
    broker.detach("p", 1, Vec::new(), HashSet::new(), None, &mut rx);
    let (l, _rx) = link(2);
    broker.attach("p", l, &connect("p", false, true)).unwrap();
    broker.expire("p", 1);
    assert_eq!(broker.sessions(), 1);
}

/// Whatever ends or clears a session (a clean session's close, a clean start over a
/// persistent one, an expiry, an unsubscribe) takes its subscriptions out of the routing
/// index, and routing then reaches exactly the sessions subscribed.
#[test]
fn the_routing_index_follows_every_session() {
    let broker = Broker::default();
    let (a, mut a_rx) = link(1);
    broker.attach("a", a, &connect("a", true, false)).unwrap();
    subscribe(&broker, "a", &["x/+", "x/y", "$share/g/x/#", "bad/#/x"]);
    let (b, _b_rx) = link(2);
    broker.attach("b", b, &connect("b", false, true)).unwrap();
    subscribe(&broker, "b", &["x/#", "z"]);
    assert_routes_mirror_sessions(&broker);
    broker.unsubscribe("a", &["x/+".to_owned(), "never".to_owned()]);
    assert_routes_mirror_sessions(&broker);
    // One copy for a's plain subscription x/y, one for its share group (it is the only
    // member); x/z is now only the group's.
    broker.publish(&Message::new("x/y", "m", 1));
    broker.publish(&Message::new("x/z", "m", 1));
    let copy = |t: &str| (t.to_owned(), 1, false);
    assert_eq!(handed(&mut a_rx), [copy("x/y"), copy("x/y"), copy("x/z")]);
    // a's clean session ends with its connection.
    broker.detach("a", 1, Vec::new(), HashSet::new(), None, &mut a_rx);
    assert_routes_mirror_sessions(&broker);
    // b's persistent session keeps its subscriptions offline, and queues what they match.
    let (_, mut b_rx) = link(2);
    broker.detach("b", 2, Vec::new(), HashSet::new(), None, &mut b_rx);
    assert_routes_mirror_sessions(&broker);
    broker.publish(&Message::new("x/1", "m", 1));
    assert_eq!(broker.lock().sessions.get("b").unwrap().queued.len(), 1);
    // A clean start over it clears them; an expiry ends it.
    let (b, _b_rx) = link(3);
    broker.attach("b", b, &connect("b", true, true)).unwrap();
    assert_routes_mirror_sessions(&broker);
    subscribe(&broker, "b", &["q"]);
    broker.detach("b", 3, Vec::new(), HashSet::new(), None, &mut b_rx);
    assert_routes_mirror_sessions(&broker);
    broker.expire("b", 3);
    assert_eq!(broker.sessions(), 0);
    assert!(broker.lock().routes.is_empty());
}

/// A persistent session outlives its connection by the broker's interval (MQTT 3.1.1) or the
/// client's up to it (MQTT 5, `0xFFFFFFFF` included, which is told back); it keeps its QoS 2
/// publishes awaiting release for the next connection, and a clean start forgets them.
#[test]
fn sessions_expire_within_the_brokers_interval_and_keep_what_awaits_release() {
    let broker = Broker::new(10, 1 << 20).with_session_expiry(60);
    let v5 = |client: &str, asked: u32| Connect {
        version: Version::V5,
        persistent: asked > 0,
        session_expiry: Some(asked),
        ..connect(client, false, asked > 0)
    };
    for (connect, after, told) in [
        (connect("a", false, true), Some(60), None),
        (v5("a", u32::MAX), Some(60), Some(60)),
        (v5("a", 61), Some(60), Some(60)),
        (v5("a", 59), Some(59), None),
        (v5("a", 0), None, None),
        (connect("a", true, false), None, None),
    ] {
        let (l, mut rx) = link(1);
        let resumed = broker.attach("a", l, &connect).unwrap();
        assert_eq!(resumed.expiry_told, told, "{connect:?}");
        let left = broker.detach("a", 1, Vec::new(), HashSet::new(), None, &mut rx);
        assert_eq!(left.expires, after.map(Duration::from_secs), "{connect:?}");
        broker.expire("a", 1);
    }
    let (l, mut rx) = link(2);
    broker.attach("p", l, &connect("p", false, true)).unwrap();
    broker.detach("p", 2, Vec::new(), HashSet::from([7, 9]), None, &mut rx);
    let (l, mut rx) = link(3);
    let resumed = broker.attach("p", l, &connect("p", false, true)).unwrap();
    assert_eq!(resumed.awaiting_release, HashSet::from([7, 9]));
    broker.detach("p", 3, Vec::new(), HashSet::from([4]), None, &mut rx);
    let (l, _rx) = link(4);
    let resumed = broker.attach("p", l, &connect("p", true, true)).unwrap();
    assert!(!resumed.present && resumed.awaiting_release.is_empty());
}

/// A reset ends the sessions no connection serves and empties the retained store; connected
/// sessions keep their subscriptions.
#[test]
fn a_reset_forgets_offline_sessions_and_retained_messages() {
    let broker = Broker::default();
    let mut receivers = Vec::new();
    for (client, id) in [("live", 1), ("away", 2)] {
        let (l, rx) = link(id);
        receivers.push(rx);
        broker.attach(client, l, &connect(client, false, true)).unwrap();
        subscribe(&broker, client, &["t/#"]);
    }
    broker.detach("away", 2, Vec::new(), HashSet::new(), None, receivers.last_mut().unwrap());
    broker.publish(&Message { retain: true, ..Message::new("t/r", "m", 1) });
    assert_eq!((broker.sessions(), broker.retained_read().len()), (2, 1));
    broker.reset();
    assert_eq!((broker.sessions(), broker.retained_read().len()), (1, 0));
    assert!(broker.lock().sessions.contains_key("live"));
    assert_routes_mirror_sessions(&broker);
}

/// A connection taking a session over is told to wait for the one serving it, which is told to
/// close; once that one gives the session back, what it had in flight and awaiting release is
/// the new connection's. (`attach` takes it at once, as a last resort.)
#[test]
fn a_session_taken_over_comes_with_what_the_old_connection_held() {
    let broker = Broker::default();
    let (old, mut old_rx) = link(1);
    let taken = Arc::clone(&old.taken);
    broker.attach("t", old, &connect("t", false, true)).unwrap();
    let (new, _new_rx) = link(2);
    let Err(Busy::TakingOver(_)) = broker.try_attach("t", new, &connect("t", false, true)) else {
        panic!("taken at once");
    };
    assert!(
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async { tokio::time::timeout(Duration::from_secs(1), taken.notified()).await.is_ok() }),
        "the old connection was told"
    );
    let in_flight = Message { sent: true, ..Message::new("t/1", "m", 1) };
    broker.detach("t", 1, vec![in_flight], HashSet::from([5]), None, &mut old_rx);
    let (new, _new_rx) = link(2);
    let Ok(resumed) = broker.try_attach("t", new, &connect("t", false, true)) else { panic!("still busy") };
    assert!(resumed.present);
    assert_eq!(resumed.backlog.iter().map(|m| (&m.topic[..], m.sent)).collect::<Vec<_>>(), [("t/1", true)]);
    assert_eq!(resumed.awaiting_release, HashSet::from([5]));
}

/// A connection cut as too slow keeps its session until it gives it back: a client connecting
/// again meanwhile waits for it, and then gets, in the order they were routed, what the slow
/// connection's queue held and what came after the cut. (The session once let go of the
/// connection at the cut: a new one took the session at once and what the old queue held was
/// lost.)
#[test]
fn a_session_cut_as_too_slow_is_taken_over_with_everything_routed_to_it() {
    let broker = Broker::default();
    let (old, mut old_rx) = link(1);
    let cut = Arc::clone(&old.cut);
    broker.attach("s", old, &connect("s", false, true)).unwrap();
    subscribe(&broker, "s", &["t/#"]);
    // The link's queue takes 64: the 65th cuts the connection, and it and the rest wait.
    for i in 0..70 {
        broker.publish(&Message::new(format!("t/{i}"), "m", 1));
    }
    assert!(
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async { tokio::time::timeout(Duration::from_secs(1), cut.notified()).await.is_ok() })
    );
    let (new, _new_rx) = link(2);
    let Err(Busy::TakingOver(_)) = broker.try_attach("s", new, &connect("s", false, true)) else {
        panic!("the session was let go at the cut");
    };
    broker.detach("s", 1, Vec::new(), HashSet::new(), None, &mut old_rx);
    let (new, _new_rx) = link(2);
    let Ok(resumed) = broker.try_attach("s", new, &connect("s", false, true)) else { panic!("still busy") };
    let topics: Vec<String> = resumed.backlog.iter().map(|m| m.topic.clone()).collect();
    assert_eq!(topics, (0..70).map(|i| format!("t/{i}")).collect::<Vec<_>>());
}

/// A will with a Will Delay Interval is kept with its session, charged to the budget: due, it
/// is published unless a connection took the session back (MQTT-3.1.3-9); a clean start or the
/// session's expiry publishes it at once; a reset forgets it; a session that does not stay, a
/// delay of 0 or a budget without room for it publishes it at once.
#[test]
fn a_will_with_a_delay_is_kept_with_its_session_until_it_is_due() {
    let broker = Broker::new(10, 4_000);
    let (l, mut watcher) = link(100);
    broker.attach("w", l, &connect("w", true, false)).unwrap();
    subscribe(&broker, "w", &["late/#"]);
    let delayed = |client: &str, delay: u32| Connect {
        will: Some(Message::new(format!("late/{client}"), "gone", 1)),
        will_delay: delay,
        ..connect(client, false, true)
    };
    // Leaves with its will, taken back or not; what the watcher was handed.
    let leave = |client: &str, id: u64, delay: u32, watcher: &mut mpsc::UnboundedReceiver<Deliver>| {
        let (l, mut rx) = link(id);
        broker.attach(client, l, &delayed(client, delay)).unwrap();
        let will = delayed(client, delay).will;
        let left = broker.detach(client, id, Vec::new(), HashSet::new(), will, &mut rx);
        (left, handed(watcher))
    };
    let late = |client: &str| vec![(format!("late/{client}"), 1, false)];
    let held = broker.budget.held();
    // Due: published. The session's expiry bounds the delay.
    let (left, now) = leave("a", 1, 30, &mut watcher);
    assert_eq!(
        left,
        Left { expires: Some(Duration::from_secs(3600)), will_due: Some(Duration::from_secs(30)) }
    );
    assert!(now.is_empty());
    let size = Message::new("late/a", "gone", 1).size();
    assert_eq!(broker.budget.held() - held, size, "the will kept is charged, payload and copy");
    broker.will_due("a", 1);
    assert_eq!(handed(&mut watcher), late("a"));
    assert_eq!(broker.budget.held(), held);
    let (left, _) = leave("a", 2, u32::MAX, &mut watcher);
    assert_eq!(left.will_due, Some(Duration::from_secs(3600)));
    // Taken back before it is due: never published.
    let (l, _rx) = link(3);
    broker.attach("a", l, &connect("a", false, true)).unwrap();
    broker.will_due("a", 2);
    assert_eq!(handed(&mut watcher), []);
    // Taken back and left again: the first delay's end is not the second will's.
    leave("h", 11, 30, &mut watcher);
    leave("h", 12, 30, &mut watcher);
    broker.will_due("h", 11);
    assert_eq!(handed(&mut watcher), []);
    broker.will_due("h", 12);
    assert_eq!(handed(&mut watcher), late("h"));
    // A clean start ends the session: published then.
    leave("b", 4, 30, &mut watcher);
    let (l, _rx) = link(5);
    broker.attach("b", l, &connect("b", true, false)).unwrap();
    assert_eq!(handed(&mut watcher), late("b"));
    broker.will_due("b", 4);
    assert_eq!(handed(&mut watcher), []);
    // The session expires first: published then.
    leave("c", 6, 30, &mut watcher);
    broker.expire("c", 6);
    assert_eq!(handed(&mut watcher), late("c"));
    // A reset forgets it with the session.
    leave("d", 7, 30, &mut watcher);
    broker.reset();
    broker.will_due("d", 7);
    assert_eq!(handed(&mut watcher), []);
    // At once: no delay; a session that ends with the connection; no room in the budget.
    let (left, now) = leave("e", 8, 0, &mut watcher);
    assert_eq!((left.will_due, now), (None, late("e")));
    let (l, mut rx) = link(9);
    broker.attach("f", l, &Connect { persistent: false, ..delayed("f", 30) }).unwrap();
    let left = broker.detach("f", 9, Vec::new(), HashSet::new(), delayed("f", 30).will, &mut rx);
    assert_eq!((left, handed(&mut watcher)), (Left::default(), late("f")));
    let big = Connect { will: Some(Message::new("late/g", vec![0; 5_000], 1)), ..delayed("g", 30) };
    let (l, mut rx) = link(10);
    broker.attach("g", l, &big).unwrap();
    let left = broker.detach("g", 10, Vec::new(), HashSet::new(), big.will.clone(), &mut rx);
    assert_eq!((left.will_due, handed(&mut watcher)), (None, late("g")));
}

/// A client whose matching subscriptions differ gets one copy: at the highest QoS they grant
/// ([`Broker::grant`] says which, for the answers to its jobs requests), its retain flag kept if
/// one of them asked for it (MQTT 5 Retain As Published).
#[test]
fn overlapping_subscriptions_grant_their_highest_qos_and_keep_the_retain_flag_if_one_asks() {
    let broker = Broker::default();
    let (l, mut rx) = link(1);
    broker.attach("c", l, &connect("c", true, false)).unwrap();
    let as_published = Subscription { retain_as_published: true, ..Subscription::new("r/#", 0) };
    broker.subscribe("c", vec![as_published, Subscription::new("r/+", 1), Subscription::new("q/+", 0)], 0);
    assert_eq!(
        [
            broker.grant("c", "r/x"),
            broker.grant("c", "q/x"),
            broker.grant("c", "s/x"),
            broker.grant("d", "r/x")
        ],
        [Some(1), Some(0), None, None]
    );
    broker.publish(&Message { retain: true, ..Message::new("r/x", "m", 1) });
    broker.publish(&Message { retain: true, ..Message::new("q/x", "m", 1) });
    assert_eq!(handed(&mut rx), [("r/x".to_owned(), 1, true), ("q/x".to_owned(), 0, false)]);
}

/// The session table is full at [`MAX_SESSIONS`]: a new client id is refused, a client with a
/// session still gets it back.
#[test]
fn a_full_session_table_refuses_new_clients_only() {
    let broker = Broker::new(10, 1 << 20);
    let mut links = Vec::new();
    for i in 0..MAX_SESSIONS {
        let (l, rx) = link(u64::try_from(i).unwrap());
        links.push(rx);
        broker.attach(&format!("s{i}"), l, &connect(&format!("s{i}"), false, true)).unwrap();
    }
    let (l, _rx) = link(1_000_000);
    assert!(broker.attach("new", l, &connect("new", false, true)).is_none());
    let (l, _rx) = link(1_000_001);
    assert!(broker.attach("s7", l, &connect("s7", false, true)).is_some());
    assert_eq!(broker.sessions(), MAX_SESSIONS);
}

/// What a persistent session keeps of its connection's queue when the connection closes: the
/// QoS 1 messages, not the QoS 0 ones (MQTT-3.1.2-5 asks only for QoS 1 and 2).
#[test]
fn a_closing_connections_queue_leaves_its_qos1_messages_to_the_session() {
    let broker = Broker::default();
    let (l, mut rx) = link(1);
    broker.attach("z", l, &connect("z", false, true)).unwrap();
    broker.subscribe("z", vec![Subscription::new("z/#", 1)], 0);
    broker.publish(&Message::new("z/0", "m", 0));
    broker.publish(&Message::new("z/1", "m", 1));
    broker.detach("z", 1, Vec::new(), HashSet::new(), None, &mut rx);
    let (l, _rx) = link(2);
    let resumed = broker.attach("z", l, &connect("z", false, true)).unwrap();
    assert_eq!(resumed.backlog.iter().map(|m| &m.topic[..]).collect::<Vec<_>>(), ["z/1"]);
}

/// An MQTT 5 DISCONNECT with a Session Expiry Interval of 0 ends a persistent session with its
/// connection (MQTT 5 3.14.2.2.2); one of more keeps it that long.
#[test]
fn a_disconnect_sets_the_session_expiry() {
    let broker = Broker::new(10, 1 << 20).with_session_expiry(600);
    let v5 = Connect { version: Version::V5, session_expiry: Some(60), ..connect("e", false, true) };
    for (id, secs, expires) in [(1, 0, None), (2, 30, Some(Duration::from_secs(30)))] {
        let (l, mut rx) = link(id);
        broker.attach("e", l, &v5).unwrap();
        assert!(broker.set_expiry("e", id, secs));
        let left = broker.detach("e", id, Vec::new(), HashSet::new(), None, &mut rx);
        assert_eq!((left.expires, broker.sessions()), (expires, usize::from(expires.is_some())), "{secs}");
    }
}

/// A connection whose session another took at once ([`Broker::attach`], after the wait for it ran
/// out) gives back nothing when it closes: the session stays the new connection's, and what the
/// old one held is not the session's.
#[test]
fn a_connection_whose_session_was_taken_leaves_it_alone() {
    let broker = Broker::default();
    let (old, mut old_rx) = link(1);
    broker.attach("t", old, &connect("t", false, true)).unwrap();
    let (new, mut new_rx) = link(2);
    broker.attach("t", new, &connect("t", false, true)).unwrap();
    subscribe(&broker, "t", &["t/#"]);
    let stale = Message { sent: true, ..Message::new("t/stale", "m", 1) };
    let left = broker.detach("t", 1, vec![stale], HashSet::new(), None, &mut old_rx);
    assert_eq!(left, Left::default());
    broker.publish(&Message::new("t/1", "m", 1));
    assert_eq!(handed(&mut new_rx), [("t/1".to_owned(), 1, false)]);
    let (l, _rx) = link(3);
    let Err(Busy::TakingOver(_)) = broker.try_attach("t", l, &connect("t", false, true)) else {
        panic!("the session was let go");
    };
}

/// What the service renders follows the subscriptions: a message is wanted while a session,
/// connected or offline, has a filter that matches its topic; `#` and `+` at the first level
/// do not match a `$aws` topic (MQTT-4.7.2-1).
#[test]
fn a_topic_is_wanted_while_a_session_subscribes_to_it() {
    let broker = Broker::default();
    let next = "$aws/things/t1/jobs/notify-next";
    assert!(!broker.wants(next));
    let (l, mut rx) = link(1);
    broker.attach("p", l, &connect("p", false, true)).unwrap();
    subscribe(&broker, "p", &["#", "+/things/t1/jobs/notify-next", "$aws/things/t2/jobs/notify-next"]);
    assert!(!broker.wants(next));
    subscribe(&broker, "p", &["$aws/things/+/jobs/notify-next"]);
    assert!(broker.wants(next));
    assert!(!broker.wants("$aws/things/t1/jobs/notify"));
    // Offline, the persistent session still queues what its subscriptions match.
    broker.detach("p", 1, Vec::new(), HashSet::new(), None, &mut rx);
    assert!(broker.wants(next));
    assert_eq!(broker.unsubscribe("p", &["$aws/things/+/jobs/notify-next".to_owned()]), [true]);
    assert!(!broker.wants(next));
    assert!(broker.wants("$aws/things/t2/jobs/notify-next"));
    broker.reset();
    assert!(!broker.wants("$aws/things/t2/jobs/notify-next"));
}

/// With the embedded broker as its audience, the state keeps for publishing only the events
/// some session subscribes to; with none (a bridge), every event.
#[test]
fn the_state_keeps_only_the_messages_a_session_receives() {
    use crate::clock::{Clock, ClockMode};
    use crate::routing::Op;
    use crate::state::{Caps, State};
    use crate::wire::Arns;

    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    let caps = Caps { jobs: 4, things: 4, executions: 8, status_details: 4, thing_groups: 4 };
    let published = |audience: Option<Arc<Broker>>| {
        let mut st = State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns.clone(), 3);
        st.outbox = Some(Vec::new());
        st.audience = audience;
        for t in ["t1", "t2"] {
            crate::handlers::handle(&mut st, &Op::CreateThing { thing: t.into() }, &[], b"{}").unwrap();
        }
        let job = br#"{"targets":["arn:aws:iot:us-east-1:123456789012:thing/t1",
            "arn:aws:iot:us-east-1:123456789012:thing/t2"],"document":"{}"}"#;
        crate::handlers::handle(&mut st, &Op::CreateJob { job: "j".into() }, &[], job).unwrap();
        let mut topics: Vec<String> = st.take_messages().into_iter().map(|m| m.topic).collect();
        topics.sort();
        topics
    };
    let broker = Arc::new(Broker::default());
    assert_eq!(published(Some(broker.clone())), Vec::<String>::new());
    let (l, _rx) = link(1);
    broker.attach("d", l, &connect("d", true, false)).unwrap();
    subscribe(&broker, "d", &["$aws/things/t1/jobs/notify-next"]);
    assert_eq!(published(Some(broker)), ["$aws/things/t1/jobs/notify-next"]);
    let every = [
        "$aws/things/t1/jobs/notify",
        "$aws/things/t1/jobs/notify-next",
        "$aws/things/t2/jobs/notify",
        "$aws/things/t2/jobs/notify-next",
    ];
    assert_eq!(published(None), every);
}

/// The service's batches go out in the order of their changes, whichever is released first;
/// a batch of a change rolled back, or dropped unreleased, holds up none after it.
#[test]
fn batches_are_published_in_the_order_of_their_changes() {
    use crate::clock::{Clock, ClockMode};
    use crate::publish::Publisher;
    use crate::routing::Op;
    use crate::state::{Caps, State};
    use crate::wire::Arns;

    let (broker, mut rx) = subscribed("d", &["$aws/things/+/jobs/notify-next"]);
    let publisher = Publisher::new(Some(broker.clone()), None);
    let arns = Arns { region: "us-east-1".into(), account: "123456789012".into() };
    let caps = Caps { jobs: 8, things: 8, executions: 8, status_details: 4, thing_groups: 4 };
    let mut st = State::new(caps, Clock::new(ClockMode::Manual, Some(0)), arns, 3);
    st.outbox = Some(Vec::new());
    st.audience = Some(broker);
    // A job for a new thing: one notify-next, one batch.
    let mut change = |thing: &str| {
        crate::handlers::handle(&mut st, &Op::CreateThing { thing: thing.into() }, &[], b"{}").unwrap();
        let job = format!(
            r#"{{"targets":["arn:aws:iot:us-east-1:123456789012:thing/{thing}"],"document":"{{}}"}}"#
        );
        crate::handlers::handle(&mut st, &Op::CreateJob { job: format!("j-{thing}") }, &[], job.as_bytes())
            .unwrap();
        publisher.take(&mut st)
    };
    let next = |t: &str| (format!("$aws/things/{t}/jobs/notify-next"), 1, false);
    let (a, b, c) = (change("a"), change("b"), change("c"));
    c.release(true);
    b.release(true);
    assert_eq!(handed(&mut rx), []);
    a.release(true);
    assert_eq!(handed(&mut rx), [next("a"), next("b"), next("c")]);
    let (e, f, g) = (change("e"), change("f"), change("g"));
    g.release(true);
    e.release(false);
    assert_eq!(handed(&mut rx), []);
    drop(f);
    assert_eq!(handed(&mut rx), [next("g")]);
}
