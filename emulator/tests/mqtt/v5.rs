//! MQTT 5: flow control, topic aliases, session expiry (in CONNECT and in DISCONNECT) and shared
//! subscriptions.

use super::*;

/// An MQTT 5 client (rumqttc) of `emu` and what it receives, in order: each incoming packet, then
/// `Err` with the reason the connection ended (the loop stops there, or after its DISCONNECT).
pub(super) async fn connect5(
    emu: &Emu,
    id: &str,
    set: impl FnOnce(&mut rumqttc::v5::MqttOptions),
) -> (rumqttc::v5::AsyncClient, mpsc::UnboundedReceiver<Result<Packet5, String>>) {
    use rumqttc::v5::{AsyncClient as Client5, Event as Event5, MqttOptions as Options5};
    let mut o = Options5::new(id, emu.mqtt.ip().to_string(), emu.mqtt.port());
    o.set_keep_alive(Duration::from_secs(30));
    set(&mut o);
    let (client, mut eventloop) = Client5::new(o, 100);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event5::Incoming(p)) => {
                    let _ = tx.send(Ok(p));
                }
                Ok(Event5::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                Ok(Event5::Outgoing(_)) => {}
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
    });
    (client, rx)
}

/// The next packet `pick` keeps, skipping the others; panics if the connection ended first.
pub(super) async fn next5<T>(
    rx: &mut mpsc::UnboundedReceiver<Result<Packet5, String>>,
    pick: impl Fn(Packet5) -> Option<T>,
) -> T {
    loop {
        let got = tokio::time::timeout(WAIT, rx.recv()).await.expect("nothing received").expect("no more");
        if let Some(t) = pick(got.unwrap_or_else(|e| panic!("connection ended: {e}"))) {
            return t;
        }
    }
}

/// Why the connection of `rx` ended (what rumqttc says), skipping the packets before.
async fn ended5(rx: &mut mpsc::UnboundedReceiver<Result<Packet5, String>>) -> String {
    loop {
        match tokio::time::timeout(WAIT, rx.recv()).await.expect("still connected").expect("no end") {
            Ok(_) => {}
            Err(e) => return e,
        }
    }
}

pub(super) fn publish5(p: Packet5) -> Option<rumqttc::v5::mqttbytes::v5::Publish> {
    if let Packet5::Publish(p) = p { Some(p) } else { None }
}

pub(super) fn topic5(p: Packet5) -> Option<String> {
    publish5(p).map(|p| String::from_utf8(p.topic.to_vec()).unwrap())
}

pub(super) fn connack5(p: Packet5) -> Option<rumqttc::v5::mqttbytes::v5::ConnAck> {
    if let Packet5::ConnAck(a) = p { Some(a) } else { None }
}

pub(super) fn suback5(p: Packet5) -> Option<()> {
    matches!(p, Packet5::SubAck(_)).then_some(())
}

/// MQTT 5 flow control towards a client: no more unacknowledged QoS 1 publishes than its receive
/// maximum (the rest wait for acknowledgements, in order), and no packet larger than its maximum
/// packet size (such a message is discarded, MQTT-3.1.2-25; the client stays connected).
#[tokio::test]
async fn an_mqtt5_clients_receive_maximum_and_maximum_packet_size_are_respected() {
    let emu = emu().await;
    // rumqttc ends the connection on a packet over the size it announced: the test then fails.
    let (client, mut rx) = connect5(&emu, "slow5", |o| {
        o.set_manual_acks(true).set_receive_maximum(Some(2)).set_max_packet_size(Some(512));
    })
    .await;
    client.subscribe("rm/#", Q5::AtLeastOnce).await.unwrap();
    next5(&mut rx, suback5).await;
    let publisher = connect("fast", emu.mqtt).await;
    for t in ["rm/1", "rm/2", "rm/3", "rm/4"] {
        publisher.publish(t, t).await;
    }
    publisher.publish("rm/big", vec![b'x'; 1000]).await;
    publisher.publish("rm/5", "rm/5").await;
    // QoS 0 is not held back: once it arrives, everything before it was routed.
    publisher.client.publish("rm/ping", QoS::AtMostOnce, false, "ping").await.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(next5(&mut rx, publish5).await);
    }
    let topics: Vec<&[u8]> = held.iter().map(|p| &p.topic[..]).collect();
    assert_eq!(topics, [&b"rm/1"[..], b"rm/2", b"rm/ping"], "two QoS 1 publishes in flight at most");
    // Each acknowledgement lets the next one through; rm/big (over 512 bytes) never comes.
    let mut unacked: Vec<_> = held.into_iter().filter(|p| &p.topic[..] != b"rm/ping").collect();
    let mut later = Vec::new();
    while later.len() < 3 {
        client.ack(&unacked.remove(0)).await.unwrap();
        let p = next5(&mut rx, publish5).await;
        later.push(String::from_utf8(p.topic.to_vec()).unwrap());
        unacked.push(p);
    }
    assert_eq!(later, ["rm/3", "rm/4", "rm/5"]);
    for p in unacked {
        client.ack(&p).await.unwrap();
    }
    publisher.client.publish("rm/ping", QoS::AtMostOnce, false, "ping").await.unwrap();
    assert_eq!(
        next5(&mut rx, topic5).await,
        "rm/ping",
        "rm/big was discarded and the client is still connected"
    );
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 topic aliases from a client: granted in CONNACK, set by a publish with a topic, used by
/// a publish with an empty topic (routed and answered as the full topic); an alias naming no
/// topic closes that client.
#[tokio::test]
async fn an_mqtt5_clients_topic_aliases_are_resolved() {
    use rumqttc::v5::mqttbytes::v5::PublishProperties;
    let emu = emu().await;
    let mut watcher = connect("watch-alias", emu.mqtt).await;
    watcher.sub("ta/#").await;
    let (client, mut rx) = connect5(&emu, "dev-alias", |_| {}).await;
    let granted = next5(&mut rx, connack5).await.properties.and_then(|p| p.topic_alias_max);
    assert_eq!(granted, Some(32));
    let alias = |a| PublishProperties { topic_alias: Some(a), ..Default::default() };
    let jobs = "$aws/things/dev-alias/jobs/get";
    for (topic, payload, a) in [
        ("ta/sensor", "one", 1),
        ("", "two", 1),
        (jobs, r#"{"clientToken":"a1"}"#, 2),
        ("", r#"{"clientToken":"a2"}"#, 2),
    ] {
        client.publish_with_properties(topic, Q5::AtLeastOnce, false, payload, alias(a)).await.unwrap();
    }
    assert_eq!(&watcher.next_on("ta/sensor").await.payload[..], b"one");
    assert_eq!(&watcher.next_on("ta/sensor").await.payload[..], b"two");
    // The answers go to the publisher, on the full topic.
    for token in ["a1", "a2"] {
        let p = next5(&mut rx, publish5).await;
        assert_eq!(&p.topic[..], format!("{jobs}/accepted").as_bytes());
        assert_eq!(serde_json::from_slice::<Value>(&p.payload).unwrap()["clientToken"], token);
    }
    // An alias that names no topic yet: a protocol error, that client is closed with its reason
    // (rumqttc reports the server's DISCONNECT as the error that ends its loop).
    client.publish_with_properties("", Q5::AtLeastOnce, false, "x", alias(3)).await.unwrap();
    let end = loop {
        match tokio::time::timeout(WAIT, rx.recv()).await.unwrap() {
            Some(Err(e)) => break e,
            Some(Ok(_)) => {}
            None => panic!("closed without a DISCONNECT"),
        }
    };
    assert!(end.contains("Server sent disconnect") && end.contains("code 'ProtocolError'"), "{end}");
    // The others go on.
    watcher.publish("ta/after", "ok").await;
    assert_eq!(&watcher.next_on("ta/after").await.payload[..], b"ok");
    emu.server.shutdown().await.unwrap();
}

/// An MQTT 5 persistent session ends once its session expiry interval has run out offline; a
/// longer one is still there, with the QoS 1 message it was sent meanwhile.
#[tokio::test]
async fn an_mqtt5_session_ends_after_its_expiry_interval() {
    let emu = emu().await;
    let open = async |id: &str, expiry: u32| {
        let (client, mut rx) = connect5(&emu, id, |o| {
            o.set_clean_start(false).set_session_expiry_interval(Some(expiry));
        })
        .await;
        let present = next5(&mut rx, connack5).await.session_present;
        (client, present, rx)
    };
    for (id, expiry) in [("exp-short", 1), ("exp-long", 600)] {
        let (client, present, mut rx) = open(id, expiry).await;
        assert!(!present);
        client.subscribe("se/#", Q5::AtLeastOnce).await.unwrap();
        next5(&mut rx, suback5).await;
        client.disconnect().await.unwrap();
    }
    let publisher = connect("se-pub", emu.mqtt).await;
    publisher.publish("se/while-away", "x").await;
    // Waits for the short interval to run out (a timer: there is no event to wait for).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (short, present, mut short_rx) = open("exp-short", 1).await;
    assert!(!present, "the 1 s session expired");
    let (_long, present, mut long_rx) = open("exp-long", 600).await;
    assert!(present);
    assert_eq!(next5(&mut long_rx, topic5).await, "se/while-away");
    // The expired session lost its subscription and its message: only what it subscribes to now.
    short.subscribe("se/now", Q5::AtLeastOnce).await.unwrap();
    next5(&mut short_rx, suback5).await;
    publisher.publish("se/now", "y").await;
    assert_eq!(next5(&mut short_rx, topic5).await, "se/now");
    emu.server.shutdown().await.unwrap();
}

/// A raw MQTT 5 client of `emu`: CONNECT (clean start off; session expiry `expiry`, none when
/// 0; a will on `will`, if any), SUBSCRIBE `filter` at QoS 1, then DISCONNECT carrying the
/// session expiry `disconnect_expiry`. Returns every packet the server sent until it closed.
async fn disconnect_with_expiry(
    emu: &Emu,
    id: &str,
    expiry: u32,
    will: Option<&str>,
    filter: &str,
    disconnect_expiry: u32,
) -> Vec<Packet5> {
    use bytes::BytesMut;
    use rumqttc::v5::mqttbytes::v5::{
        Connect, ConnectProperties, Disconnect, DisconnectProperties, DisconnectReasonCode, Filter, LastWill,
        Subscribe,
    };
    let mut out = BytesMut::new();
    let properties = ConnectProperties {
        session_expiry_interval: (expiry > 0).then_some(expiry),
        ..ConnectProperties::new()
    };
    let connect = Connect {
        keep_alive: 30,
        client_id: id.to_owned(),
        clean_start: false,
        properties: Some(properties),
    };
    let will = will.map(|t| LastWill::new(t, "gone", Q5::AtLeastOnce, false, None));
    connect.write(&will, &None, &mut out).unwrap();
    let mut subscribe = Subscribe::new(Filter::new(filter, Q5::AtLeastOnce), None);
    subscribe.pkid = 1;
    subscribe.write(&mut out).unwrap();
    let properties = DisconnectProperties {
        session_expiry_interval: Some(disconnect_expiry),
        reason_string: None,
        user_properties: Vec::new(),
        server_reference: None,
    };
    let disconnect =
        Disconnect { reason_code: DisconnectReasonCode::NormalDisconnection, properties: Some(properties) };
    disconnect.write(&mut out).unwrap();
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    s.write_all(&out).await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("not closed").unwrap();
    let mut rest = BytesMut::from(&rest[..]);
    let mut got = Vec::new();
    while !rest.is_empty() {
        got.push(Packet5::read(&mut rest, None).unwrap());
    }
    got
}

/// MQTT 5 3.14.2.2.2: the session expiry interval of a DISCONNECT replaces the CONNECT's: 0 ends
/// the session with the connection, a longer one keeps it past the CONNECT's interval.
#[tokio::test]
async fn a_disconnect_sets_the_session_expiry() {
    let emu = emu().await;
    let publisher = connect("sx-pub", emu.mqtt).await;
    // 600 s in CONNECT, 0 in DISCONNECT: the session ends now.
    let got = disconnect_with_expiry(&emu, "sx-end", 600, None, "sx/end", 0).await;
    assert!(matches!(got[..], [Packet5::ConnAck(_), Packet5::SubAck(_)]), "{got:?}");
    // 1 s in CONNECT, 600 s in DISCONNECT: the session outlives the 1 s.
    disconnect_with_expiry(&emu, "sx-keep", 1, None, "sx/keep", 600).await;
    publisher.publish("sx/keep", "kept").await;
    publisher.publish("sx/end", "lost").await;
    // Past the CONNECT's 1 s (a timer: there is no event to wait for).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let open = async |id: &str| {
        let (client, mut rx) = connect5(&emu, id, |o| {
            o.set_clean_start(false).set_session_expiry_interval(Some(600));
        })
        .await;
        let present = next5(&mut rx, connack5).await.session_present;
        (client, present, rx)
    };
    let (_keep, present, mut keep_rx) = open("sx-keep").await;
    assert!(present, "the DISCONNECT's 600 s kept the session");
    assert_eq!(next5(&mut keep_rx, topic5).await, "sx/keep");
    let (_end, present, _) = open("sx-end").await;
    assert!(!present, "the DISCONNECT's 0 ended the session");
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 3.14.2.2.2: a DISCONNECT that sets an expiry on a session whose CONNECT had none is a
/// protocol error: the server answers DISCONNECT 0x82, and the will goes out (it was not a valid
/// DISCONNECT); the session still ends with the connection.
#[tokio::test]
async fn a_disconnect_giving_a_session_an_expiry_it_had_none_of_is_a_protocol_error() {
    use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;
    let emu = emu().await;
    let mut watcher = connect("sx-watcher", emu.mqtt).await;
    watcher.sub("sx/will").await;
    let got = disconnect_with_expiry(&emu, "sx-bad", 0, Some("sx/will"), "sx/bad", 60).await;
    let [Packet5::ConnAck(_), Packet5::SubAck(_), Packet5::Disconnect(d)] = &got[..] else {
        panic!("{got:?}")
    };
    assert_eq!(d.reason_code, DisconnectReasonCode::ProtocolError);
    assert_eq!(&watcher.next_on("sx/will").await.payload[..], b"gone");
    let (_c, mut rx) = connect5(&emu, "sx-bad", |o| {
        o.set_clean_start(false).set_session_expiry_interval(Some(600));
    })
    .await;
    assert!(!next5(&mut rx, connack5).await.session_present);
    emu.server.shutdown().await.unwrap();
}

/// Shared subscriptions (`$share/{group}/{filter}`, MQTT 5 §4.8.2, taken from 3.1.1 clients as
/// AWS IoT Core does): each message goes to one member of each group, in turn; other groups and
/// plain subscriptions get their own copies; a shared subscription gets no retained message.
#[tokio::test]
async fn a_shared_subscription_hands_each_message_to_one_member_in_turn() {
    let emu = emu().await;
    let publisher = connect("sh-pub", emu.mqtt).await;
    publisher.client.publish("sh/retained", QoS::AtLeastOnce, true, "old").await.unwrap();
    let mut members = Vec::new();
    for id in ["sh-m1", "sh-m2", "sh-m3"] {
        let c = connect(id, emu.mqtt).await;
        c.sub("$share/g/sh/+").await;
        members.push(c);
    }
    let mut other = connect("sh-other", emu.mqtt).await;
    other.sub("$share/h/sh/#").await;
    let mut plain = connect("sh-plain", emu.mqtt).await;
    plain.sub("sh/retained").await;
    plain.sub("sh/+").await;
    // A round trip: both subscriptions are in place before anything is published.
    let early: Vec<String> = plain.drain().await.into_iter().map(|p| p.topic).collect();
    assert_eq!(early, ["sh/retained"], "a plain subscription to its exact topic gets the retained one");
    let mut publisher = publisher;
    for i in 0..6 {
        publisher.publish(&format!("sh/{i}"), "x").await;
    }
    // The publisher's round trip comes after its publishes are routed.
    publisher.drain().await;
    let topics = |got: Vec<rumqttc::Publish>| -> Vec<String> {
        got.into_iter().map(|p| p.topic).filter(|t| t.starts_with("sh/")).collect()
    };
    let mut seen = Vec::new();
    for m in &mut members {
        let got = topics(m.drain().await);
        assert_eq!(got.len(), 2, "{got:?}");
        seen.extend(got);
    }
    seen.sort();
    let all: Vec<String> = (0..6).map(|i| format!("sh/{i}")).collect();
    assert_eq!(seen, all, "each message to exactly one member of the group");
    assert_eq!(topics(other.drain().await), all, "another group gets its own copy of each");
    assert_eq!(topics(plain.drain().await), all);
    emu.server.shutdown().await.unwrap();
}

/// Answers, notifications and events are reserved topics that clients subscribe to and only the
/// service publishes (DG-TOPICS): a client that publishes to one is disconnected (MQTT 5: reason
/// 0x87, not authorized) before anything is routed, and its will goes out; a CONNECT with a will
/// on one is refused (3.1.1: return code 5; 5: 0x87) and leaves no session. Requests, and topics
/// outside the jobs namespace, are routed as before.
#[tokio::test]
async fn a_client_that_publishes_what_only_the_service_publishes_is_disconnected() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("$aws/things/+/jobs/#").await;
    watcher.sub("$aws/events/#").await;
    watcher.sub("gone/#").await;
    for (i, topic) in [
        "$aws/things/t1/jobs/notify-next",
        "$aws/things/t1/jobs/notify",
        "$aws/things/t1/jobs/get/accepted",
        "$aws/things/t1/jobs/j1/update/rejected",
        "$aws/things/t1/jobs/notify-namespace-ns",
        "$aws/events/job/j1/completed",
        "$aws/events/jobExecution/j1/succeeded",
    ]
    .into_iter()
    .enumerate()
    {
        // 3.1.1: the connection is closed, and the will published.
        publish_raw_and_be_closed(emu.mqtt, &mut watcher, &format!("spoof-{i}"), topic).await;
    }
    // MQTT 5: DISCONNECT 0x87 first.
    let (c5, mut rx5) = connect5(&emu, "spoof-5", |_| {}).await;
    next5(&mut rx5, connack5).await;
    c5.publish("$aws/things/t1/jobs/notify-next", Q5::AtLeastOnce, false, "{}").await.unwrap();
    let ended = ended5(&mut rx5).await;
    assert!(ended.contains("code 'NotAuthorized'"), "{ended}");
    // A will on such a topic is refused at CONNECT.
    let topic = "$aws/things/t1/jobs/notify";
    let (_s, ack) = connect_raw_with_will(emu.mqtt, "willful", 30, topic, "{}").await;
    assert_eq!(ack, [0x20, 2, 0, 5], "3.1.1 CONNACK: not authorized");
    let will = |o: &mut rumqttc::v5::MqttOptions| {
        o.set_last_will(rumqttc::v5::mqttbytes::v5::LastWill::new(topic, "{}", Q5::AtMostOnce, false, None));
    };
    let (_c5, mut rx5) = connect5(&emu, "willful-5", will).await;
    let ended = ended5(&mut rx5).await;
    assert!(ended.contains("return code: `NotAuthorized`"), "{ended}");
    // Nothing of it reached the watcher; a request still does, and is answered.
    let mut p = connect("fine", emu.mqtt).await;
    let (accepted, _) = p.request("$aws/things/t1/jobs/get", r#"{"clientToken":"c"}"#).await;
    assert!(accepted);
    // (The watcher's own drain request is routed to it too; the answers go to the publishers.)
    let mut seen: Vec<String> = watcher.drain().await.into_iter().map(|p| p.topic).collect();
    seen.sort();
    assert_eq!(seen, ["$aws/things/drain/jobs/get", "$aws/things/t1/jobs/get"]);
    emu.server.shutdown().await.unwrap();
}

/// AWS IoT Core's limits, as an MQTT 5 client hears of them (the reason codes of AWS IoT Core's
/// table): a publish past 256 bytes or 7 slashes gets DISCONNECT 0x90 (topic name invalid), such
/// a filter 0x8F (topic filter invalid) in the SUBACK, a client id over 128 bytes CONNACK 0x85
/// (client identifier not valid), and a will past the limits CONNACK 0x90.
#[tokio::test]
async fn an_mqtt5_client_is_told_which_aws_iot_core_limit_it_passed() {
    use rumqttc::v5::mqttbytes::v5::SubscribeReasonCode as Code;
    let emu = emu().await;
    let over = format!("lim{}", "/l".repeat(8));
    let (c5, mut rx5) = connect5(&emu, "limits-5", |_| {}).await;
    next5(&mut rx5, connack5).await;
    let filters = [over.clone(), format!("lim{}", "/l".repeat(7)), format!("lim/{}", "b".repeat(253))];
    let filters = filters.map(|f| rumqttc::v5::mqttbytes::v5::Filter::new(f, Q5::AtLeastOnce));
    c5.subscribe_many(filters).await.unwrap();
    let codes =
        next5(&mut rx5, |p| if let Packet5::SubAck(a) = p { Some(a.return_codes) } else { None }).await;
    assert_eq!(codes, [Code::TopicFilterInvalid, Code::Success(Q5::AtLeastOnce), Code::TopicFilterInvalid]);
    c5.publish(over.as_str(), Q5::AtLeastOnce, false, "x").await.unwrap();
    let ended = ended5(&mut rx5).await;
    assert!(ended.contains("code 'TopicNameInvalid'"), "{ended}");
    let (_c5, mut rx5) = connect5(&emu, &"c".repeat(129), |_| {}).await;
    let ended = ended5(&mut rx5).await;
    assert!(ended.contains("return code: `ClientIdentifierNotValid`"), "{ended}");
    let will = |o: &mut rumqttc::v5::MqttOptions| {
        o.set_last_will(rumqttc::v5::mqttbytes::v5::LastWill::new(&over, "{}", Q5::AtMostOnce, false, None));
    };
    let (_c5, mut rx5) = connect5(&emu, "willful-5", will).await;
    let ended = ended5(&mut rx5).await;
    assert!(ended.contains("return code: `TopicNameInvalid`"), "{ended}");
    emu.server.shutdown().await.unwrap();
}
