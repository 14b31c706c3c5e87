//! The broker as an MQTT broker: wildcards and retained messages, persistent sessions, wills,
//! keep-alives, QoS 2 publishes taken in at QoS 1, and bad input that closes its client only.

use super::*;

#[tokio::test]
async fn wildcards_retained_messages_and_the_dollar_rule() {
    let emu = emu().await;
    let mut all = connect("all", emu.mqtt).await;
    all.sub("#").await;
    all.sub("+/things/+/jobs/get").await;
    let mut jobs = connect("jobs", emu.mqtt).await;
    jobs.sub("$aws/things/+/jobs/#").await;
    jobs.sub("sensors/+/temp").await;
    let p = connect("pub", emu.mqtt).await;
    p.client.publish("sensors/a/temp", QoS::AtLeastOnce, true, "21").await.unwrap();
    p.publish("$aws/things/t1/jobs/get", "{}").await;
    assert_eq!(&jobs.next_on("sensors/a/temp").await.payload[..], b"21");
    assert_eq!(jobs.next_on("$aws/things/t1/jobs/get").await.qos, QoS::AtLeastOnce);
    assert_eq!(&all.next_on("sensors/a/temp").await.payload[..], b"21");
    // MQTT-4.7.2-1: `#` and `+/…` do not match `$aws/…`.
    let seen: Vec<String> = all.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.iter().all(|t| !t.starts_with('$')), "{seen:?}");
    // A later subscriber to the exact topic gets the retained message, flagged as retained; one
    // to a wildcard filter does not (AWS IoT Core, DG-MQTT "Retained messages"), and `#` does
    // not match its parent level (`sensors/a/temp/#` is not `sensors/a/temp`).
    let mut wild = connect("wild", emu.mqtt).await;
    wild.sub("sensors/#").await;
    wild.sub("sensors/a/temp/#").await;
    let mut late = connect("late", emu.mqtt).await;
    late.sub("sensors/a/temp").await;
    let r = late.next_on("sensors/a/temp").await;
    assert!(r.retain);
    assert_eq!(&r.payload[..], b"21");
    assert!(wild.drain().await.iter().all(|p| p.topic != "sensors/a/temp"));
    p.publish("sensors/a/temp", "22").await;
    let live = wild.next_on("sensors/a/temp").await;
    assert!(!live.retain && &live.payload[..] == b"22");
    assert!(wild.drain().await.is_empty(), "one copy: sensors/#, not sensors/a/temp/#");
    // An empty retained payload clears it.
    p.client.publish("sensors/a/temp", QoS::AtLeastOnce, true, "").await.unwrap();
    let mut later = connect("later", emu.mqtt).await;
    later.sub("sensors/a/temp").await;
    assert!(later.drain().await.iter().all(|p| p.topic != "sensors/a/temp"));
    // A retained request is run, routed without the flag and not kept: a later subscriber to
    // the thing's jobs topics is not handed a stale request.
    let mut requester = connect("requester", emu.mqtt).await;
    requester.client.publish("$aws/things/t1/jobs/get", QoS::AtLeastOnce, true, "{}").await.unwrap();
    assert_eq!(requester.json_on("$aws/things/t1/jobs/get/accepted").await["queuedJobs"], json!([]));
    assert!(!jobs.next_on("$aws/things/t1/jobs/get").await.retain);
    let mut latest = connect("latest", emu.mqtt).await;
    latest.sub("$aws/things/t1/jobs/get").await;
    let handed: Vec<String> = latest.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(!handed.contains(&"$aws/things/t1/jobs/get".to_owned()), "{handed:?}");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn persistent_sessions_keep_subscriptions_and_qos1_messages() {
    let emu = emu().await;
    let o = offline_session(emu.mqtt, "keeper", "box/#").await;
    let p = connect("sender", emu.mqtt).await;
    p.publish("box/1", "kept").await;
    p.client.publish("box/2", QoS::AtMostOnce, false, "dropped").await.unwrap();
    let mut p = p;
    p.drain().await;
    let mut back = connect_with(o).await;
    let got = back.next_on("box/1").await;
    assert_eq!(&got.payload[..], b"kept");
    // The subscription survived: a new message arrives without subscribing again.
    p.publish("box/3", "new").await;
    assert_eq!(&back.next_on("box/3").await.payload[..], b"new");
    // A clean session starts empty.
    let mut clean = connect("keeper", emu.mqtt).await;
    p.publish("box/4", "x").await;
    assert!(clean.drain().await.iter().all(|m| m.topic != "box/4"));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_will_is_published_when_a_client_vanishes() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("status/#").await;
    // A raw 3.1.1 CONNECT with a will on status/dev, then the socket is dropped.
    let s = connect_with_will(emu.mqtt, "vanisher", 60, "status/dev", "gone").await;
    drop(s);
    assert_eq!(&watcher.next_on("status/dev").await.payload[..], b"gone");
    emu.server.shutdown().await.unwrap();
}

/// An MQTT 5 DISCONNECT may leave out its properties, and its reason code too (MQTT 5
/// 3.14.2.1, 3.14.2.2.1), as paho-mqtt and mosquitto's clients send it: a normal one drops the
/// will (MQTT-3.14.4-3), 0x04 publishes it. (Both short forms were read as malformed: the will
/// went out at every clean disconnect.)
#[tokio::test]
async fn a_short_mqtt5_disconnect_drops_the_will_unless_it_asks_for_it() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("status/#").await;
    let forms: [(&str, &[u8]); 3] =
        [("bare", &[0xE0, 0x00]), ("reason", &[0xE0, 0x01, 0x00]), ("with-will", &[0xE0, 0x01, 0x04])];
    for (client, disconnect) in forms {
        let mut body = mqtt_str("MQTT");
        // Level 5, a will at QoS 0 and a clean start, keep-alive 30 s, no properties.
        body.extend_from_slice(&[5, 0b0000_0110, 0, 30, 0]);
        body.extend(mqtt_str(client));
        body.push(0); // the will's properties
        body.extend(mqtt_str(&format!("status/{client}")));
        body.extend(mqtt_str("gone"));
        let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
        s.write_all(&packet(0x10, &body)).await.unwrap();
        let (first, ack) = read_packet(&mut s).await;
        assert_eq!((first, ack.get(..2)), (0x20, Some(&[0, 0][..])), "{client}");
        s.write_all(disconnect).await.unwrap();
        let mut rest = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open").unwrap();
        // The broker closes without a word of its own (no DISCONNECT 0x81, malformed packet).
        assert!(rest.is_empty(), "{client}: {rest:02x?}");
    }
    // The wills come in connection order: the last one's arrival orders the others before it.
    assert_eq!(&watcher.next_on("status/with-will").await.payload[..], b"gone");
    let seen: Vec<String> = watcher.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.is_empty(), "{seen:?}");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_input_closes_that_client_only() {
    let emu = emu().await;
    let mut good = connect("good", emu.mqtt).await;
    good.sub("still/+").await;
    let bad_inputs: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\n\r\n",
        &[0x10, 0xff, 0xff, 0xff, 0xff, 0x7f], // malformed remaining length
        &[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 9, 2, 0, 60, 0, 0], // protocol level 9
        &[0x30, 0x03, 0, 1],                   // PUBLISH before CONNECT
        &[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 0, 0x30, 0x05, 0, 0xff, 0xfe, b'x', b'y'],
    ];
    for input in bad_inputs {
        let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
        s.write_all(input).await.unwrap();
        let mut sink = Vec::new();
        // The server closes the connection (after a CONNACK where CONNECT was valid).
        let read = tokio::time::timeout(WAIT, s.read_to_end(&mut sink)).await;
        assert!(read.is_ok(), "not closed after {input:?}");
    }
    // An oversized payload closes its sender only.
    let big = connect("big", emu.mqtt).await;
    big.client.publish("still/big", QoS::AtMostOnce, false, vec![b'x'; 300 * 1024]).await.unwrap();
    // A flood of small messages from one client is taken in order.
    let flood = connect("flood", emu.mqtt).await;
    for i in 0..500 {
        flood.client.publish("still/flood", QoS::AtMostOnce, false, i.to_string()).await.unwrap();
    }
    flood.publish("still/last", "end").await;
    assert_eq!(&good.next_on("still/last").await.payload[..], b"end");
    let seen = good.drain().await;
    assert!(seen.iter().all(|m| m.topic != "still/big"));
    // The broker and the good client go on.
    let p = connect("after", emu.mqtt).await;
    p.publish("still/alive", "yes").await;
    assert_eq!(&good.next_on("still/alive").await.payload[..], b"yes");
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_silent_client_is_closed_after_one_and_a_half_keep_alives() {
    let emu = emu().await;
    let mut watcher = connect("ka-watcher", emu.mqtt).await;
    watcher.sub("ka/#").await;
    // CONNECT with keep-alive 1 s and a will on ka/gone, then silence.
    let mut s = connect_with_will(emu.mqtt, "sleeper", 1, "ka/gone", "timed out").await;
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("not closed").unwrap();
    assert!(rest.is_empty(), "nothing after the CONNACK before the close: {rest:?}");
    assert_eq!(&watcher.next_on("ka/gone").await.payload[..], b"timed out");
    emu.server.shutdown().await.unwrap();
}

/// A client that subscribes and then reads nothing while 32 MiB are published to it is held
/// to its keep-alive like a silent one: closed, its will published, the broker unharmed.
/// (The broker once waited on its writes to such a client forever, deaf to the keep-alive.)
#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_one_and_a_half_keep_alives() {
    let emu = emu().await;
    let mut watcher = connect("stuck-watcher", emu.mqtt).await;
    watcher.sub("stuck/#").await;
    let mut s = connect_with_will(emu.mqtt, "stuck", 1, "stuck/gone", "stopped reading").await;
    // SUBSCRIBE bulk/# at QoS 0; its SUBACK is the last thing it reads.
    s.write_all(&[0x82, 11, 0, 1, 0, 6, b'b', b'u', b'l', b'k', b'/', b'#', 0]).await.unwrap();
    let mut ack = [0; 5];
    s.read_exact(&mut ack).await.unwrap();
    assert_eq!(ack, [0x90, 3, 0, 1, 0]);
    let publisher = connect("bulk-publisher", emu.mqtt).await;
    for _ in 0..256 {
        publisher.client.publish("bulk/x", QoS::AtMostOnce, false, vec![b'x'; 128 * 1024]).await.unwrap();
    }
    assert_eq!(&watcher.next_on("stuck/gone").await.payload[..], b"stopped reading");
    publisher.publish("stuck/after", "yes").await;
    assert_eq!(&watcher.next_on("stuck/after").await.payload[..], b"yes");
    drop(s);
    emu.server.shutdown().await.unwrap();
}

/// More retained messages than a client has room for in flight (1,000 unacknowledged, and
/// 1,000 more held back behind them) all reach a client that subscribes to them at QoS 1, in
/// order, and it stays connected. (The broker once wrote them all at once and closed the client
/// at the 2,001st.) Only exact filters get retained messages (AWS IoT Core), at most 8 to a
/// SUBSCRIBE and 1,000 to a session: 992 topics, subscribed 8 at a time without waiting.
#[tokio::test]
async fn a_subscription_gets_every_retained_message_however_many() {
    let emu = emu().await;
    let mut p = connect("retainer", emu.mqtt).await;
    p.client.publish("elsewhere/0", QoS::AtLeastOnce, true, "not for fleet/#").await.unwrap();
    for i in 0..992 {
        p.client.publish(format!("fleet/{i:04}"), QoS::AtLeastOnce, true, format!("{i}")).await.unwrap();
    }
    p.drain().await;
    let mut c = connect("fleet-reader", emu.mqtt).await;
    let expected: Vec<String> = (0..992).map(|i| format!("fleet/{i:04}")).collect();
    for eight in expected.chunks(8) {
        let filters = eight.iter().map(|t| rumqttc::SubscribeFilter::new(t.clone(), QoS::AtLeastOnce));
        c.client.subscribe_many(filters).await.unwrap();
    }
    // A wildcard subscription too: it gets no retained copy (AWS IoT Core), live ones later.
    c.sub("fleet/#").await;
    let mut topics = Vec::new();
    while topics.len() < 992 {
        let m = tokio::time::timeout(WAIT, c.rx.recv())
            .await
            .expect("retained messages stopped")
            .unwrap_or_else(|| panic!("closed after {} retained messages", topics.len()));
        assert!(m.retain && m.qos == QoS::AtLeastOnce, "{m:?}");
        topics.push(m.topic);
    }
    assert_eq!(topics, expected);
    // Only what the filter matches: elsewhere/0 never comes (checked after a round trip).
    // Still connected, and routed messages come after the retained ones.
    p.publish("fleet/new", "live").await;
    assert_eq!(&c.next_on("fleet/new").await.payload[..], b"live");
    let (ok, _) = c.request("$aws/things/fleet-reader/jobs/get", "{}").await;
    assert!(ok);
    assert!(c.drain().await.iter().all(|m| m.topic != "elsewhere/0"));
    emu.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_qos2_publish_is_taken_in_and_routed_at_qos1() {
    let emu = emu().await;
    let mut sub = connect("q2-sub", emu.mqtt).await;
    sub.client.subscribe("q2/#", QoS::ExactlyOnce).await.unwrap();
    sub.drain().await;
    let p = connect("q2-pub", emu.mqtt).await;
    p.client.publish("q2/a", QoS::ExactlyOnce, false, "once").await.unwrap();
    let got = sub.next_on("q2/a").await;
    assert_eq!((&got.payload[..], got.qos), (&b"once"[..], QoS::AtLeastOnce));
    emu.server.shutdown().await.unwrap();
}
