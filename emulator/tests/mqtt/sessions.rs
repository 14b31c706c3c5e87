//! Exactly-once delivery (QoS 2 over 3.1.1, refused over 5), MQTT 5 subscription options (No
//! Local, Retain As Published, Retain Handling), client ids and session expiry, and what
//! `POST /_emulator/reset` does to the broker.

use rumqttc::v5::mqttbytes::v5::{Filter, RetainForwardRule};

use super::v5::{connack5, connect5, next5, publish5, suback5, topic5};
use super::*;

/// A raw 3.1.1 CONNECT of `client` (CleanSession `clean`, keep-alive 30 s) and its CONNACK.
async fn connect_raw(addr: SocketAddr, client: &str, clean: bool) -> (TcpStream, [u8; 4]) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, if clean { 0b10 } else { 0 }, 0, 30];
    body.extend(mqtt_str(client));
    s.write_all(&packet(0x10, &body)).await.unwrap();
    let mut ack = [0; 4];
    tokio::time::timeout(WAIT, s.read_exact(&mut ack)).await.unwrap().unwrap();
    (s, ack)
}

/// A raw QoS 2 PUBLISH (3.1.1), sent again (`dup`) or not.
fn publish_qos2(topic: &str, pkid: u16, payload: &[u8], dup: bool) -> Vec<u8> {
    let mut body = mqtt_str(topic);
    body.extend_from_slice(&pkid.to_be_bytes());
    body.extend_from_slice(payload);
    packet(if dup { 0x3C } else { 0x34 }, &body)
}

/// The next packet of `s`, within [`WAIT`].
async fn next_raw(s: &mut TcpStream) -> (u8, Vec<u8>) {
    tokio::time::timeout(WAIT, read_packet(s)).await.expect("nothing received")
}

/// Whether the server closes `s` (reads to its end) within [`WAIT`].
async fn closed(s: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open");
    assert!(read.is_ok() || rest.is_empty(), "{read:?}");
    rest
}

/// MQTT-4.3.3-2: a QoS 2 publish sent again before its PUBREL (a client that did not hear the
/// PUBREC) is acknowledged again and taken once: subscribers get one copy and a jobs request runs
/// once. After PUBREL the packet id is free for a new message. A persistent session keeps the
/// ids awaiting release across connections.
#[tokio::test]
async fn a_qos2_publish_sent_again_before_its_pubrel_is_taken_once() {
    let emu = emu().await;
    emu.create_job("j1", &["dev"]).await;
    let mut watcher = connect("q2-watcher", emu.mqtt).await;
    watcher.sub("q2/#").await;
    watcher.drain().await;
    let (mut s, ack) = connect_raw(emu.mqtt, "q2-raw", true).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    s.write_all(&publish_qos2("q2/a", 7, b"one", false)).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x50, vec![0, 7]));
    s.write_all(&publish_qos2("q2/a", 7, b"one", true)).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x50, vec![0, 7]));
    s.write_all(&packet(0x62, &[0, 7])).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x70, vec![0, 7]));
    // Released: the same id is a new message.
    s.write_all(&publish_qos2("q2/a", 7, b"two", false)).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x50, vec![0, 7]));
    // A jobs request sent twice runs once: one answer, then the two PUBRECs and nothing between.
    let topic = "$aws/things/dev/jobs/start-next";
    s.write_all(&publish_qos2(topic, 8, b"{}", false)).await.unwrap();
    let (first, body) = next_raw(&mut s).await;
    assert_eq!(first & 0xF0, 0x30, "the answer");
    assert!(body.windows(b"start-next/accepted".len()).any(|w| w == b"start-next/accepted"));
    assert_eq!(next_raw(&mut s).await, (0x50, vec![0, 8]));
    s.write_all(&publish_qos2(topic, 8, b"{}", true)).await.unwrap();
    s.write_all(&packet(0xC0, &[])).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x50, vec![0, 8]));
    assert_eq!(next_raw(&mut s).await, (0xD0, vec![]), "no second answer");
    // A PUBREL of an id that awaits nothing is still completed (3.1.1 has no reason codes).
    s.write_all(&packet(0x62, &[0, 99])).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x70, vec![0, 99]));
    // A persistent session: PUBREC heard, connection lost, PUBLISH sent again on the next one.
    let (mut p, ack) = connect_raw(emu.mqtt, "q2-persistent", false).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    p.write_all(&publish_qos2("q2/b", 9, b"three", false)).await.unwrap();
    assert_eq!(next_raw(&mut p).await, (0x50, vec![0, 9]));
    drop(p);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mut p, ack) = connect_raw(emu.mqtt, "q2-persistent", false).await;
    assert_eq!(ack, [0x20, 2, 1, 0], "session present");
    p.write_all(&publish_qos2("q2/b", 9, b"three", true)).await.unwrap();
    assert_eq!(next_raw(&mut p).await, (0x50, vec![0, 9]));
    p.write_all(&packet(0x62, &[0, 9])).await.unwrap();
    assert_eq!(next_raw(&mut p).await, (0x70, vec![0, 9]));
    let got: Vec<(String, Vec<u8>)> =
        watcher.drain().await.into_iter().map(|m| (m.topic, m.payload.to_vec())).collect();
    let want = [("q2/a", &b"one"[..]), ("q2/a", b"two"), ("q2/b", b"three")];
    assert_eq!(got, want.map(|(t, p)| (t.to_owned(), p.to_vec())));
    // The job was started once: its execution is IN_PROGRESS at version 2.
    let ex = emu.ctl("GET", "/things/dev/jobs/j1", json!({})).await;
    assert_eq!(ex["execution"]["status"], "IN_PROGRESS");
    assert_eq!(ex["execution"]["versionNumber"], 2);
    emu.server.shutdown().await.unwrap();
}

/// The broker's CONNACK tells an MQTT 5 client its Maximum QoS is 1 (MQTT-3.2.2-9): a QoS 2
/// publish is then a DISCONNECT 0x9B, QoS not supported (MQTT-3.2.2-11), and a will of QoS 2 a
/// CONNACK 0x9B (MQTT-3.2.2-12). Nothing of either is routed.
#[tokio::test]
async fn an_mqtt5_client_asking_for_qos2_is_refused() {
    let emu = emu().await;
    let mut watcher = connect("q2-5-watcher", emu.mqtt).await;
    watcher.sub("q2/#").await;
    watcher.drain().await;
    let connect5_raw = |flags: u8, will: bool| {
        let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 5, flags, 0, 30, 0];
        body.extend(mqtt_str("q2-5"));
        if will {
            body.push(0);
            body.extend(mqtt_str("q2/will"));
            body.extend(mqtt_str("bye"));
        }
        packet(0x10, &body)
    };
    // A will of QoS 2 (flags: will QoS 2, will, clean start).
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    s.write_all(&connect5_raw(0b0001_0110, true)).await.unwrap();
    let (first, body) = next_raw(&mut s).await;
    assert_eq!((first, body.get(..2)), (0x20, Some(&[0, 0x9B][..])));
    closed(&mut s).await;
    // A QoS 2 publish.
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    s.write_all(&connect5_raw(0b10, false)).await.unwrap();
    let (first, body) = next_raw(&mut s).await;
    assert_eq!((first, body.get(..2)), (0x20, Some(&[0, 0][..])));
    let mut publish = mqtt_str("q2/five");
    publish.extend_from_slice(&[0, 1, 0]);
    publish.extend_from_slice(b"x");
    s.write_all(&packet(0x34, &publish)).await.unwrap();
    let (first, body) = next_raw(&mut s).await;
    assert_eq!((first, body.first()), (0xE0, Some(&0x9B)));
    closed(&mut s).await;
    assert!(watcher.drain().await.is_empty());
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 subscription options: No Local keeps a client's own publishes from the subscription
/// (MQTT-3.8.3-3); Retain As Published keeps the retain flag of what is routed (MQTT-3.3.1-12,
/// -13); Retain Handling sends the retained messages at every SUBSCRIBE (0), only for a new
/// subscription (1) or never (2) (MQTT-3.3.1-9 to -11).
#[tokio::test]
async fn mqtt5_subscription_options_are_honoured() {
    let emu = emu().await;
    fn filter(path: &str, set: impl FnOnce(&mut Filter)) -> Filter {
        let mut f = Filter::new(path, Q5::AtLeastOnce);
        set(&mut f);
        f
    }
    let other = connect("opt-other", emu.mqtt).await;
    // No Local.
    let (me, mut rx) = connect5(&emu, "opt-me", |_| {}).await;
    next5(&mut rx, connack5).await;
    me.subscribe_many([filter("opt/nl", |f| f.nolocal = true), filter("opt/all", |_| {})]).await.unwrap();
    next5(&mut rx, suback5).await;
    me.publish("opt/nl", Q5::AtLeastOnce, false, "mine").await.unwrap();
    me.publish("opt/all", Q5::AtLeastOnce, false, "mine").await.unwrap();
    // Routed in the order published: were "opt/nl" sent back, it would come first.
    let named = |p: rumqttc::v5::mqttbytes::v5::Publish| {
        (String::from_utf8(p.topic.to_vec()).unwrap(), String::from_utf8(p.payload.to_vec()).unwrap())
    };
    assert_eq!(named(next5(&mut rx, publish5).await), ("opt/all".into(), "mine".into()));
    other.publish("opt/nl", "theirs").await;
    assert_eq!(named(next5(&mut rx, publish5).await), ("opt/nl".into(), "theirs".into()));
    // Retain As Published: the same retained publish, to a subscription that keeps the flag and
    // one that does not.
    let (keep, mut keep_rx) = connect5(&emu, "opt-keep", |_| {}).await;
    next5(&mut keep_rx, connack5).await;
    keep.subscribe_many([filter("opt/rap", |f| f.preserve_retain = true)]).await.unwrap();
    next5(&mut keep_rx, suback5).await;
    me.subscribe_many([filter("opt/rap", |_| {})]).await.unwrap();
    next5(&mut rx, suback5).await;
    other.client.publish("opt/rap", QoS::AtLeastOnce, true, "r").await.unwrap();
    assert!(next5(&mut keep_rx, publish5).await.retain);
    assert!(!next5(&mut rx, publish5).await.retain);
    // Retain Handling, with a retained message on opt/rh/x: after each SUBACK, the retained
    // message or, if none is sent, the marker published next.
    other.client.publish("opt/rh/x", QoS::AtLeastOnce, true, "kept").await.unwrap();
    let (rh, mut rh_rx) = connect5(&emu, "opt-rh", |_| {}).await;
    next5(&mut rh_rx, connack5).await;
    rh.subscribe_many([filter("opt/rh/marker", |_| {})]).await.unwrap();
    next5(&mut rh_rx, suback5).await;
    let mut first_after = async |f: Filter| {
        rh.subscribe_many([f]).await.unwrap();
        next5(&mut rh_rx, suback5).await;
        other.publish("opt/rh/marker", "m").await;
        let p = next5(&mut rh_rx, publish5).await;
        let topic = String::from_utf8(p.topic.to_vec()).unwrap();
        if topic != "opt/rh/marker" {
            assert_eq!(next5(&mut rh_rx, topic5).await, "opt/rh/marker");
        }
        topic
    };
    let rule = |r: RetainForwardRule| move |f: &mut Filter| f.retain_forward_rule = r;
    use RetainForwardRule::{Never, OnEverySubscribe, OnNewSubscribe};
    // (Exact filters: a wildcard one gets no retained message at all, AWS IoT Core.)
    assert_eq!(first_after(filter("opt/rh/x", rule(OnNewSubscribe))).await, "opt/rh/x");
    assert_eq!(first_after(filter("opt/rh/x", rule(OnNewSubscribe))).await, "opt/rh/marker");
    assert_eq!(first_after(filter("opt/rh/x", rule(Never))).await, "opt/rh/marker");
    assert_eq!(first_after(filter("opt/rh/x", rule(OnEverySubscribe))).await, "opt/rh/x");
    assert_eq!(first_after(filter("opt/rh/x", rule(OnEverySubscribe))).await, "opt/rh/x");
    assert_eq!(first_after(filter("opt/rh/+", rule(OnEverySubscribe))).await, "opt/rh/marker");
    emu.server.shutdown().await.unwrap();
}

/// MQTT-3.1.3-8: a 3.1.1 client with an empty client id must ask for a clean session; one that
/// does not is refused with CONNACK 0x02 (identifier rejected) and closed. With a clean
/// session it gets an id of the broker's.
#[tokio::test]
async fn an_empty_client_id_needs_a_clean_session_in_mqtt_3_1_1() {
    let emu = emu().await;
    let (mut s, ack) = connect_raw(emu.mqtt, "", false).await;
    assert_eq!(ack, [0x20, 2, 0, 2]);
    assert!(closed(&mut s).await.is_empty());
    let (mut s, ack) = connect_raw(emu.mqtt, "", true).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    s.write_all(&packet(0xC0, &[])).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0xD0, vec![]));
    // No session stayed behind for the refused client.
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await;
    assert_eq!(stats["mqtt"]["sessions"], 1);
    emu.server.shutdown().await.unwrap();
}

/// An emulator whose persistent sessions outlive their connection by at most `secs` seconds.
async fn emu_with_session_expiry(secs: u32) -> Emu {
    start(|c| c.mqtt_session_expiry = secs).await
}

/// `--mqtt-session-expiry`: a 3.1.1 persistent session ends that long after its connection
/// (before, it stayed until the emulator stopped), and an MQTT 5 session asks for at most that:
/// a client that asked for more (0xFFFFFFFF included) is told the interval in its CONNACK
/// (MQTT-3.2.2.3.2); one that asked for less is told nothing.
#[tokio::test]
async fn persistent_sessions_end_after_the_session_expiry() {
    let emu = emu_with_session_expiry(1).await;
    let o = offline_session(emu.mqtt, "px", "px/#").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await;
    assert_eq!(stats["mqtt"]["sessions"], 0, "the session expired");
    let (_s, ack) = connect_raw(emu.mqtt, o.client_id().as_str(), false).await;
    assert_eq!(ack, [0x20, 2, 0, 0], "no session present");
    emu.server.shutdown().await.unwrap();
    // Outside 1 s to seven days, the emulator does not start (the CLI refuses it too).
    for secs in [0, 7 * 24 * 3600 + 1] {
        let config = Config { mqtt_session_expiry: secs, ..Config::default() };
        let e = iot_jobs_emulator::start(config).await.err().expect("started");
        assert!(e.to_string().contains("mqtt_session_expiry"), "{e}");
    }
    // Seven days is the longest, and is taken.
    emu_with_session_expiry(7 * 24 * 3600).await.server.shutdown().await.unwrap();
    let emu = emu_with_session_expiry(600).await;
    for (asked, told) in [(u32::MAX, Some(600)), (601, Some(600)), (600, None), (30, None)] {
        let (_c, mut rx) = connect5(&emu, &format!("se-{asked}"), |o| {
            o.set_clean_start(false).set_session_expiry_interval(Some(asked));
        })
        .await;
        let ack = next5(&mut rx, connack5).await;
        assert_eq!(ack.properties.unwrap().session_expiry_interval, told, "asked {asked}");
    }
    emu.server.shutdown().await.unwrap();
}

/// `POST /_emulator/reset` forgets the broker's offline sessions (their subscriptions and queued
/// messages) and its retained messages; connected clients keep their connection and session.
#[tokio::test]
async fn reset_forgets_offline_sessions_and_retained_messages() {
    let emu = emu().await;
    let o = offline_session(emu.mqtt, "rs-away", "rs/#").await;
    let mut live = connect("rs-live", emu.mqtt).await;
    live.sub("rs/#").await;
    live.client.publish("rs/kept", QoS::AtLeastOnce, true, "r").await.unwrap();
    live.next_on("rs/kept").await;
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await;
    assert_eq!((stats["mqtt"]["sessions"].clone(), stats["mqtt"]["retained"].clone()), (json!(2), json!(1)));
    emu.ctl("POST", "/_emulator/reset", json!({})).await;
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await;
    assert_eq!((stats["mqtt"]["sessions"].clone(), stats["mqtt"]["retained"].clone()), (json!(1), json!(0)));
    // The connected client still has its subscription.
    live.publish("rs/after", "a").await;
    assert_eq!(&live.next_on("rs/after").await.payload[..], b"a");
    // The offline session is gone: no session present, nothing queued, no retained message.
    let (tx, mut present) = mpsc::unbounded_channel();
    let (client, mut eventloop) = AsyncClient::new(o, 10);
    tokio::spawn(async move {
        while let Ok(e) = eventloop.poll().await {
            let _ = tx.send(e);
        }
    });
    let first = tokio::time::timeout(WAIT, present.recv()).await.unwrap().unwrap();
    let Event::Incoming(Packet::ConnAck(ack)) = first else { panic!("{first:?}") };
    assert!(!ack.session_present);
    client.subscribe("rs/#", QoS::AtLeastOnce).await.unwrap();
    live.publish("rs/marker", "m").await;
    loop {
        let e = tokio::time::timeout(WAIT, present.recv()).await.unwrap().unwrap();
        if let Event::Incoming(Packet::Publish(p)) = e {
            assert_eq!(p.topic, "rs/marker", "nothing retained or queued comes first");
            break;
        }
    }
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 Message Expiry Interval: a copy not sent before its interval runs out is dropped, from
/// an offline session's queue and from the retained store (MQTT-3.3.2-5); one sent later
/// carries what is left of its interval (MQTT-3.3.2-6). A queued copy never sent before comes
/// without DUP (MQTT-3.3.1-1).
#[tokio::test]
async fn messages_expire_as_their_interval_says() {
    use rumqttc::v5::mqttbytes::v5::PublishProperties;
    let emu = emu().await;
    let session = |o: &mut rumqttc::v5::MqttOptions| {
        o.set_clean_start(false).set_session_expiry_interval(Some(600));
    };
    let (away, mut rx) = connect5(&emu, "mx-away", session).await;
    next5(&mut rx, connack5).await;
    away.subscribe("mx/#", Q5::AtLeastOnce).await.unwrap();
    next5(&mut rx, suback5).await;
    away.disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (publisher, mut prx) = connect5(&emu, "mx-pub", |_| {}).await;
    next5(&mut prx, connack5).await;
    let expiring = |secs| PublishProperties { message_expiry_interval: Some(secs), ..Default::default() };
    for (topic, secs, retain) in [("mx/short", 1, false), ("mx/long", 600, false), ("mx/kept", 1, true)] {
        publisher.publish_with_properties(topic, Q5::AtLeastOnce, retain, "x", expiring(secs)).await.unwrap();
    }
    publisher.publish("mx/plain", Q5::AtLeastOnce, false, "x").await.unwrap();
    // Waits for the 1 s intervals to run out (a timer: there is no event to wait for).
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (_away, mut rx) = connect5(&emu, "mx-away", session).await;
    assert!(next5(&mut rx, connack5).await.session_present);
    let long = next5(&mut rx, publish5).await;
    assert_eq!((&long.topic[..], long.dup), (&b"mx/long"[..], false));
    let left = long.properties.unwrap().message_expiry_interval.unwrap();
    assert!((590..=598).contains(&left), "{left} s left of 600 after 2.2 s");
    let plain = next5(&mut rx, publish5).await;
    assert_eq!(&plain.topic[..], b"mx/plain", "mx/short and mx/kept expired in the queue");
    assert!(plain.properties.is_none_or(|p| p.message_expiry_interval.is_none()));
    // The expired retained message is not sent to a new subscription.
    let (fresh, mut frx) = connect5(&emu, "mx-fresh", |_| {}).await;
    next5(&mut frx, connack5).await;
    fresh.subscribe("mx/#", Q5::AtLeastOnce).await.unwrap();
    next5(&mut frx, suback5).await;
    publisher.publish("mx/marker", Q5::AtLeastOnce, false, "m").await.unwrap();
    assert_eq!(next5(&mut frx, topic5).await, "mx/marker");
    // And it is gone from the store: its place and its bytes are given back.
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await["mqtt"].clone();
    assert_eq!(stats["retained"], 0, "{stats}");
    emu.server.shutdown().await.unwrap();
}

/// At most 1,000 QoS 2 publishes of a session may await their PUBREL: the next one closes the
/// client (3.1.1 has no refusal of a publish), and a PUBREL frees a place.
#[tokio::test]
async fn at_most_1000_qos2_publishes_await_their_release() {
    let emu = emu().await;
    let (mut s, ack) = connect_raw(emu.mqtt, "q2-many", true).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let publishes: Vec<u8> = (1..=1_000).flat_map(|id| publish_qos2("q2/many", id, b"x", false)).collect();
    s.write_all(&publishes).await.unwrap();
    for id in 1..=1_000_u16 {
        assert_eq!(next_raw(&mut s).await, (0x50, id.to_be_bytes().to_vec()));
    }
    // One released, one more taken; then the next is one too many.
    s.write_all(&packet(0x62, &[0, 1])).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x70, vec![0, 1]));
    s.write_all(&publish_qos2("q2/many", 1_001, b"x", false)).await.unwrap();
    assert_eq!(next_raw(&mut s).await, (0x50, 1_001_u16.to_be_bytes().to_vec()));
    s.write_all(&publish_qos2("q2/many", 1_002, b"x", false)).await.unwrap();
    assert!(closed(&mut s).await.is_empty());
    emu.server.shutdown().await.unwrap();
}

/// An MQTT 5 will carries its properties (content type, user properties, message expiry,
/// counted from when it is published) as a publish would.
#[tokio::test]
async fn an_mqtt5_will_carries_its_properties() {
    let emu = emu().await;
    let (watcher, mut rx) = connect5(&emu, "will5-watcher", |_| {}).await;
    next5(&mut rx, connack5).await;
    watcher.subscribe("gone5/#", Q5::AtLeastOnce).await.unwrap();
    next5(&mut rx, suback5).await;
    let mut will_properties = vec![0x03];
    will_properties.extend(mqtt_str("application/json"));
    will_properties.push(0x26);
    will_properties.extend(mqtt_str("k"));
    will_properties.extend(mqtt_str("v"));
    will_properties.extend_from_slice(&[0x02, 0, 0, 2, 0x58, 0x18, 0, 0, 0, 5]);
    // Flags: will QoS 1, will, clean start.
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 5, 0b0000_1110, 0, 30, 0];
    body.extend(mqtt_str("will5"));
    body.push(u8::try_from(will_properties.len()).unwrap());
    body.extend(will_properties);
    body.extend(mqtt_str("gone5/will5"));
    body.extend(mqtt_str("{\"bye\":1}"));
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    s.write_all(&packet(0x10, &body)).await.unwrap();
    assert_eq!(next_raw(&mut s).await.0, 0x20);
    drop(s);
    let will = next5(&mut rx, publish5).await;
    assert_eq!((&will.topic[..], &will.payload[..]), (&b"gone5/will5"[..], &b"{\"bye\":1}"[..]));
    let p = will.properties.unwrap();
    assert_eq!(p.content_type.as_deref(), Some("application/json"));
    assert_eq!(p.user_properties, [("k".to_owned(), "v".to_owned())]);
    assert!(p.message_expiry_interval.is_some_and(|s| (595..=600).contains(&s)), "{p:?}");
    emu.server.shutdown().await.unwrap();
}

/// A persistent session taken over by a new connection (the client reconnected before the broker
/// noticed the old one was gone) keeps what the old connection had in flight: the QoS 1 message
/// it sent and never had acknowledged comes again, with DUP, on the new connection
/// (MQTT-4.4.0-1), and a QoS 2 publish it took in and has not had released is not taken again.
#[tokio::test]
async fn a_session_taken_over_keeps_what_the_old_connection_had_in_flight() {
    let emu = emu().await;
    let (mut old, ack) = connect_raw(emu.mqtt, "tk", false).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let mut subscribe = vec![0, 1];
    subscribe.extend(mqtt_str("tk/#"));
    subscribe.push(1);
    old.write_all(&packet(0x82, &subscribe)).await.unwrap();
    assert_eq!(next_raw(&mut old).await, (0x90, vec![0, 1, 1]));
    old.write_all(&publish_qos2("tk/in", 5, b"once", false)).await.unwrap();
    assert_eq!(next_raw(&mut old).await, (0x50, vec![0, 5]));
    assert_eq!(next_raw(&mut old).await.0, 0x32, "its own publish, routed back at QoS 1");
    // The old connection now has one message in flight (its own, unacknowledged) and one QoS 2
    // publish awaiting release; the client comes back on a new connection.
    let (mut new, ack) = connect_raw(emu.mqtt, "tk", false).await;
    assert_eq!(ack, [0x20, 2, 1, 0], "session present");
    let (first, body) = next_raw(&mut new).await;
    assert_eq!(first, 0x3A, "the message in flight again: QoS 1 and DUP");
    assert_eq!(&body[..7], &[0, 5, b't', b'k', b'/', b'i', b'n']);
    s_ack(&mut new, &body).await;
    new.write_all(&publish_qos2("tk/in", 5, b"once", true)).await.unwrap();
    new.write_all(&packet(0xC0, &[])).await.unwrap();
    assert_eq!(next_raw(&mut new).await, (0x50, vec![0, 5]), "acknowledged, not taken again");
    assert_eq!(next_raw(&mut new).await, (0xD0, vec![]));
    // The old connection was closed (3.1.1 has no DISCONNECT from the server).
    assert!(closed(&mut old).await.is_empty());
    emu.server.shutdown().await.unwrap();
}

/// Acknowledges the QoS 1 PUBLISH of `body` (topic, then packet id).
async fn s_ack(s: &mut TcpStream, body: &[u8]) {
    let topic = usize::from(u16::from_be_bytes([body[0], body[1]]));
    s.write_all(&packet(0x40, &body[2 + topic..4 + topic])).await.unwrap();
}

/// A raw MQTT 5 CONNECT of `client` (Clean Start `clean`, a Session Expiry Interval of `expiry`
/// seconds) with a QoS 0 will of `late/{client}` and a Will Delay Interval of `delay` seconds;
/// the stream once its CONNACK has been read, and whether it says the session was present.
async fn connect_will_delay(
    addr: SocketAddr,
    client: &str,
    clean: bool,
    expiry: u32,
    delay: u32,
) -> (TcpStream, bool) {
    let mut body =
        vec![0, 4, b'M', b'Q', b'T', b'T', 5, 0b100 | if clean { 0b10 } else { 0 }, 0, 30, 5, 0x11];
    body.extend_from_slice(&expiry.to_be_bytes());
    body.extend(mqtt_str(client));
    body.push(5);
    body.push(0x18);
    body.extend_from_slice(&delay.to_be_bytes());
    body.extend(mqtt_str(&format!("late/{client}")));
    body.extend(mqtt_str("gone"));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&packet(0x10, &body)).await.unwrap();
    let (first, ack) = next_raw(&mut s).await;
    assert_eq!((first, ack.get(1)), (0x20, Some(&0)), "{client}: {ack:x?}");
    (s, ack.first() == Some(&1))
}

/// An MQTT 5 will waits its Will Delay Interval after the connection ends, and is not published
/// at all if the client takes its session back meanwhile (MQTT-3.1.3-9); it goes at once when a
/// clean start ends the session, and when the session expires first it goes then (MQTT 5
/// 3.1.2.5: the delay or the session's end, whichever comes first).
#[tokio::test]
async fn an_mqtt5_will_waits_its_delay_unless_the_session_is_taken_back() {
    let emu = emu().await;
    let (watcher, mut rx) = connect5(&emu, "late-watcher", |_| {}).await;
    next5(&mut rx, connack5).await;
    watcher.subscribe("late/#", Q5::AtLeastOnce).await.unwrap();
    next5(&mut rx, suback5).await;
    // Taken back within its 2 s: never published.
    let (s, _) = connect_will_delay(emu.mqtt, "a", true, 60, 2).await;
    let a_left = tokio::time::Instant::now();
    drop(s);
    let (_a, present) = connect_will_delay(emu.mqtt, "a", false, 60, 2).await;
    assert!(present, "the session was kept");
    // A clean start ends the session: its will goes at once, not in 60 s.
    let (s, _) = connect_will_delay(emu.mqtt, "b", true, 60, 60).await;
    drop(s);
    let (_b, present) = connect_will_delay(emu.mqtt, "b", true, 60, 60).await;
    assert!(!present);
    assert_eq!(next5(&mut rx, topic5).await, "late/b");
    // Its delay runs out: published 1 s after the connection ended.
    let (s, _) = connect_will_delay(emu.mqtt, "c", true, 60, 1).await;
    let c_left = tokio::time::Instant::now();
    drop(s);
    assert_eq!(next5(&mut rx, topic5).await, "late/c");
    assert!(c_left.elapsed() >= Duration::from_secs(1), "{:?}", c_left.elapsed());
    // The session ends first (1 s): published then, not in 60 s.
    let (s, _) = connect_will_delay(emu.mqtt, "d", true, 1, 60).await;
    let d_left = tokio::time::Instant::now();
    drop(s);
    assert_eq!(next5(&mut rx, topic5).await, "late/d");
    assert!(d_left.elapsed() >= Duration::from_secs(1), "{:?}", d_left.elapsed());
    // Well after a's delay: what comes next is this, not a's will.
    tokio::time::sleep_until(a_left + Duration::from_secs(3)).await;
    watcher.publish("late/end", Q5::AtLeastOnce, false, "end").await.unwrap();
    assert_eq!(next5(&mut rx, topic5).await, "late/end");
    emu.server.shutdown().await.unwrap();
}

/// A persistent session's client that comes and goes leaves no task behind: each visit's
/// session expiry timer (an hour by default) is aborted when the next connection takes the
/// session back. (Each one slept out its hour: about 575 bytes a visit, 60 MB after 80,000.)
#[tokio::test]
async fn a_client_that_comes_and_goes_leaves_no_timer_behind() {
    let emu = emu().await;
    let alive = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let visit = |present: bool| async move {
        let (mut s, ack) = connect_raw(emu.mqtt, "comer", false).await;
        assert_eq!(ack, [0x20, 2, u8::from(present), 0]);
        s.write_all(&[0xE0, 0]).await.unwrap();
        closed(&mut s).await;
    };
    visit(false).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = alive();
    for _ in 0..200 {
        visit(true).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = alive();
    assert!(after <= before + 10, "{before} tasks alive before 200 visits, {after} after");
    emu.server.shutdown().await.unwrap();
}

/// The next packet of `s`, or `None` once the server has closed it; within [`WAIT`].
async fn packet_or_end(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut b = [0; 1];
    match tokio::time::timeout(WAIT, s.peek(&mut b)).await.expect("neither a packet nor the end") {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(next_raw(s).await),
    }
}

/// Several connections taking one session over at once get it in turn, each with what the one
/// before had in flight (MQTT-4.4.0-1): the connection that lets go wakes every one waiting,
/// and each tries again. (It woke one: the others waited out the 6 s fallback and took the
/// session at once, and what their predecessor had in flight was lost.)
#[tokio::test]
async fn connections_taking_a_session_over_at_once_each_bring_what_was_in_flight() {
    let emu = emu().await;
    let addr = emu.mqtt;
    let (mut first, ack) = connect_raw(addr, "storm", false).await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let mut subscribe = 1u16.to_be_bytes().to_vec();
    subscribe.extend(mqtt_str("storm/t"));
    subscribe.push(1);
    first.write_all(&packet(0x82, &subscribe)).await.unwrap();
    assert_eq!(next_raw(&mut first).await.0, 0x90);
    let sender = connect("sender", addr).await;
    sender.publish("storm/t", "kept").await;
    // In flight: sent at QoS 1 and never acknowledged, by this connection or any that follows.
    assert_eq!(next_raw(&mut first).await.0, 0x32);
    let takers: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async move {
                let (mut s, ack) = connect_raw(addr, "storm", false).await;
                assert_eq!(ack, [0x20, 2, 1, 0]);
                // Each gets the message again (DUP) or is taken over before it is sent.
                match packet_or_end(&mut s).await {
                    Some((first, body)) => {
                        assert_eq!(first, 0x3A, "{body:02x?}");
                        assert!(body.ends_with(b"kept"), "{body:02x?}");
                        Some(s)
                    }
                    None => None,
                }
            })
        })
        .collect();
    assert_eq!(packet_or_end(&mut first).await, None);
    let mut holding = Vec::new();
    for t in takers {
        holding.extend(t.await.unwrap());
    }
    // The one that holds the session at the end hears what comes next; the others were closed.
    sender.publish("storm/t", "after").await;
    let mut heard = 0;
    for mut s in holding {
        if let Some((first, body)) = packet_or_end(&mut s).await {
            assert_eq!(first & 0xF0, 0x30, "{body:02x?}");
            heard += 1;
        }
    }
    assert_eq!(heard, 1);
    emu.server.shutdown().await.unwrap();
}
