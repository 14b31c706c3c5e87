//! Packets that break MQTT's rules, over raw TCP: at CONNECT, a protocol level the broker does not
//! speak is answered with a 3.1.1 CONNACK 1, a malformed or rule-breaking MQTT 5 CONNECT with
//! CONNACK 0x81 or 0x82 and a 3.1.1 one with nothing; after CONNECT, MQTT 5 gets a DISCONNECT
//! 0x81 (malformed) or 0x82 (protocol error) and 3.1.1 nothing. Each closes the connection, and
//! the broker serves the next client.

use bytes::BytesMut;
use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode;

use super::*;

/// Sends `bytes` on a new connection and returns everything the server sent until it closed
/// the connection (which it must within [`WAIT`]).
async fn answer_then_close(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(WAIT, s.read_to_end(&mut got)).await;
    let read = read.unwrap_or_else(|_| panic!("{bytes:x?}: still open after {got:x?}"));
    assert!(read.is_ok() || !got.is_empty(), "{bytes:x?}: {read:?}");
    got
}

/// The MQTT 5 packets of `bytes`.
fn packets5(bytes: &[u8]) -> Vec<Packet5> {
    let mut rest = BytesMut::from(bytes);
    let mut got = Vec::new();
    while !rest.is_empty() {
        got.push(Packet5::read(&mut rest, None).unwrap());
    }
    got
}

/// The first byte of `bytes` and its fourth, the reason code when they are an MQTT 5 CONNACK.
fn connack_code(bytes: &[u8]) -> (Option<u8>, Option<u8>) {
    (bytes.first().copied(), bytes.get(3).copied())
}

#[tokio::test]
async fn a_connect_that_breaks_the_rules_is_refused_and_closed() {
    let emu = emu().await;
    let addr = emu.mqtt;
    // Protocol levels the broker does not speak: the 3.1.1 CONNACK, return code 1
    // (MQTT-3.1.2-2), whatever the level.
    for (name, level) in [("MQTT", 3), ("MQTT", 6), ("MQIsdp", 3)] {
        let got = answer_then_close(addr, &connect_packet(name, level, 0b10, &[], &["lvl"])).await;
        assert_eq!(got, [0x20, 2, 0, 1], "{name} {level}");
    }
    // Not MQTT at all (MQTT-3.1.2-1), and 3.1.1 CONNECT flags that break the rules: the reserved
    // bit (MQTT-3.1.2-3), a will QoS or retain without a will (-13, -15), a will of QoS 3 (-14), a
    // password without a user name (-22): closed without a word.
    let will = ["w", "w/t", "gone"];
    let silent = [
        connect_packet("MQTX", 4, 0b10, &[], &["x"]),
        connect_packet("MQTT", 4, 0b11, &[], &["x"]),
        connect_packet("MQTT", 4, 0b0000_1010, &[], &["x"]),
        connect_packet("MQTT", 4, 0b0010_0010, &[], &["x"]),
        connect_packet("MQTT", 4, 0b0001_1110, &[], &will),
        connect_packet("MQTT", 4, 0b0100_0010, &[], &["x", "secret"]),
    ];
    for bytes in &silent {
        assert_eq!(answer_then_close(addr, bytes).await, Vec::<u8>::new(), "{bytes:x?}");
    }
    // MQTT 5: a malformed CONNECT is answered 0x81; a Receive Maximum or Maximum Packet Size of 0
    // (properties 0x21 and 0x27) is a protocol error, 0x82.
    let got = answer_then_close(addr, &connect_packet("MQTT", 5, 0b11, &[], &["x"])).await;
    assert_eq!(connack_code(&got), (Some(0x20), Some(0x81)));
    let got = answer_then_close(addr, &connect_packet("MQTT", 5, 0b10, &[0x21, 0, 0], &["x"])).await;
    assert_eq!(connack_code(&got), (Some(0x20), Some(0x82)));
    let got = answer_then_close(addr, &connect_packet("MQTT", 5, 0b10, &[0x27, 0, 0, 0, 0], &["x"])).await;
    assert_eq!(connack_code(&got), (Some(0x20), Some(0x82)));
    // A property given twice, or a Request Problem Information other than 0 or 1: a protocol
    // error, 0x82 (MQTT 5 2.2.2.2, 3.1.2.11.7).
    for properties in [&[0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2][..], &[0x17, 2][..]] {
        let got = answer_then_close(addr, &connect_packet("MQTT", 5, 0b10, properties, &["x"])).await;
        assert_eq!(connack_code(&got), (Some(0x20), Some(0x82)), "{properties:x?}");
    }
    // A property a CONNECT has no place for (0x01, a will's Payload Format Indicator), or one
    // cut short by the property length: malformed, 0x81 (MQTT 5 2.2.2.2).
    for properties in [&[0x01, 1][..], &[0x21, 0][..], &[0x11, 0, 0, 0][..]] {
        let got = answer_then_close(addr, &connect_packet("MQTT", 5, 0b10, properties, &["x"])).await;
        assert_eq!(connack_code(&got), (Some(0x20), Some(0x81)), "{properties:x?}");
    }
    // Enhanced authentication (an Authentication Method, property 0x15), which the broker does
    // not offer: 0x8C, bad authentication method (MQTT 5 4.12).
    let mut method = vec![0x15];
    method.extend(mqtt_str("SCRAM-SHA-1"));
    let got = answer_then_close(addr, &connect_packet("MQTT", 5, 0b10, &method, &["x"])).await;
    assert_eq!(connack_code(&got), (Some(0x20), Some(0x8C)));
    // What is allowed at the edges: MQTT 5 takes a password without a user name, and a Receive
    // Maximum and a Maximum Packet Size of 1 (the CONNACK, then a PINGRESP).
    for (properties, fields) in
        [(&[][..], &["pw", "secret"][..]), (&[0x21, 0, 1, 0x27, 0, 0, 0, 1][..], &["rm"][..])]
    {
        let flags = if fields.len() == 2 { 0b0100_0010 } else { 0b10 };
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&connect_packet("MQTT", 5, flags, properties, fields)).await.unwrap();
        let (first, body) = read_packet(&mut s).await;
        assert_eq!((first, body.get(..2)), (0x20, Some(&[0, 0][..])), "{properties:x?}");
        s.write_all(&packet(0xC0, &[])).await.unwrap();
        assert_eq!(read_packet(&mut s).await, (0xD0, vec![]));
    }
    // A second CONNECT (MQTT-3.1.0-2): 3.1.1 is closed, MQTT 5 gets DISCONNECT 0x82.
    let got = answer_then_close(addr, &[hello(4, "twice4"), hello(4, "twice4")].concat()).await;
    assert_eq!(got, [0x20, 2, 0, 0]);
    let got = packets5(&answer_then_close(addr, &[hello(5, "twice5"), hello(5, "twice5")].concat()).await);
    assert!(
        matches!(got.last(), Some(Packet5::Disconnect(d)) if d.reason_code == DisconnectReasonCode::ProtocolError),
        "{got:?}"
    );
    // The broker still serves.
    let mut c = connect("after-bad-connects", addr).await;
    c.sub("still/#").await;
    c.publish("still/here", "yes").await;
    assert_eq!(&c.next_on("still/here").await.payload[..], b"yes");
    emu.server.shutdown().await.unwrap();
}

/// A SUBSCRIBE of packet id `pkid` with `filters` and their options byte (`v5`: an empty
/// property list after the id), with the fixed header `first`.
fn subscribe(first: u8, pkid: u16, v5: bool, filters: &[(&str, u8)]) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    if v5 {
        body.push(0);
    }
    for (f, options) in filters {
        body.extend(mqtt_str(f));
        body.push(*options);
    }
    packet(first, &body)
}

/// An UNSUBSCRIBE of packet id `pkid` and `filters`, with the fixed header `first`.
fn unsubscribe(first: u8, pkid: u16, v5: bool, filters: &[&str]) -> Vec<u8> {
    let mut body = pkid.to_be_bytes().to_vec();
    if v5 {
        body.push(0);
    }
    for f in filters {
        body.extend(mqtt_str(f));
    }
    packet(first, &body)
}

/// A PUBLISH of QoS and flags `first` to `bad/t`, packet id `pkid` when QoS > 0.
fn publish(first: u8, pkid: u16, v5: bool) -> Vec<u8> {
    let mut body = mqtt_str("bad/t");
    if first & 0b0110 != 0 {
        body.extend_from_slice(&pkid.to_be_bytes());
    }
    if v5 {
        body.push(0);
    }
    body.extend_from_slice(b"x");
    packet(first, &body)
}

/// After CONNECT: fixed-header flags (MQTT 2.1.3), DUP on QoS 0 (MQTT-3.3.1-2), QoS 3 (-4),
/// subscription options' reserved bits and (3.1.1) QoS 3 (MQTT-3.8.3-4, -5) are malformed: MQTT 5
/// gets DISCONNECT 0x81. A subscription of Maximum QoS 3 in MQTT 5 (3.8.3.1), packet id 0 (MQTT-2.2.1-3), a SUBSCRIBE or UNSUBSCRIBE with no filter
/// (MQTT-3.8.3-3, MQTT-3.10.3-2), Retain Handling 3 and No Local on a shared subscription (MQTT 5
/// 3.8.3.1, MQTT-3.8.3-4) and a client's PUBLISH with a Subscription Identifier (MQTT-3.3.4-6)
/// are protocol errors: 0x82; a SUBSCRIBE with one is 0xA1, subscription identifiers not
/// supported, as CONNACK said. A 3.1.1 client is closed without a word.
/// Nothing of any of them is routed, and the broker serves the next client.
#[tokio::test]
async fn a_packet_that_breaks_the_rules_after_connect_closes_the_client() {
    use DisconnectReasonCode::{
        MalformedPacket as M, ProtocolError as P, SubscriptionIdentifiersNotSupported as I,
    };
    let emu = emu().await;
    let mut watcher = connect("bad-watcher", emu.mqtt).await;
    watcher.sub("bad/#").await;
    watcher.drain().await;
    let cases = |v5: bool| {
        let mut cases = vec![
            ("SUBSCRIBE flags 0", subscribe(0x80, 1, v5, &[("bad/#", 1)]), M),
            ("UNSUBSCRIBE flags 0", unsubscribe(0xA0, 1, v5, &["bad/#"]), M),
            ("PUBREL flags 0", packet(0x60, &[0, 1]), M),
            ("PUBACK flags 1", packet(0x41, &[0, 1]), M),
            ("PINGREQ flags 1", packet(0xC1, &[]), M),
            ("QoS 0 with DUP", publish(0x38, 0, v5), M),
            ("QoS 3", publish(0x36, 1, v5), M),
            // Malformed in 3.1.1 (MQTT-3.8.3-4), a protocol error in MQTT 5 (3.8.3.1).
            ("subscription QoS 3", subscribe(0x82, 1, v5, &[("bad/#", 3)]), if v5 { P } else { M }),
            ("PUBLISH id 0", publish(0x32, 0, v5), P),
            ("SUBSCRIBE id 0", subscribe(0x82, 0, v5, &[("bad/#", 1)]), P),
            ("UNSUBSCRIBE id 0", unsubscribe(0xA2, 0, v5, &["bad/#"]), P),
            ("SUBSCRIBE without filters", subscribe(0x82, 1, v5, &[]), P),
            ("UNSUBSCRIBE without filters", unsubscribe(0xA2, 1, v5, &[]), P),
        ];
        if v5 {
            // A Subscription Identifier (property 0x0B) in a client's PUBLISH (MQTT-3.3.4-6), or
            // in a SUBSCRIBE when CONNACK said none are taken (3.8.2.1.2: 0xA1).
            let mut with_id = mqtt_str("bad/t");
            with_id.extend_from_slice(&[0, 1, 2, 0x0B, 1, b'x']);
            let mut subscribe_with_id = vec![0, 1, 2, 0x0B, 1];
            subscribe_with_id.extend(mqtt_str("bad/#"));
            subscribe_with_id.push(1);
            // A property given twice, a Response Topic with a wildcard (MQTT 5 2.2.2.2,
            // MQTT-3.3.2-14), an AUTH when CONNECT named no Authentication Method (4.12); a length
            // in more bytes than it needs (MQTT-1.5.5-1).
            let with_properties = |properties: &[u8]| {
                let mut body = mqtt_str("bad/t");
                body.extend_from_slice(&[0, 1, u8::try_from(properties.len()).unwrap()]);
                body.extend_from_slice(properties);
                body.push(b'x');
                packet(0x32, &body)
            };
            let twice = [[0x03].as_slice(), &mqtt_str("a"), &[0x03], &mqtt_str("b")].concat();
            let wildcard = [[0x08].as_slice(), &mqtt_str("bad/+")].concat();
            cases.extend([
                ("a Content Type twice", with_properties(&twice), P),
                ("a Response Topic with a wildcard", with_properties(&wildcard), P),
                ("AUTH", packet(0xF0, &[]), P),
                ("an overlong remaining length", vec![0xC0, 0x80, 0], M),
                ("PUBLISH with a Subscription Identifier", packet(0x32, &with_id), P),
                ("SUBSCRIBE with a Subscription Identifier", packet(0x82, &subscribe_with_id), I),
                ("reserved option bits", subscribe(0x82, 1, v5, &[("bad/#", 0b0100_0001)]), M),
                ("Retain Handling 3", subscribe(0x82, 1, v5, &[("bad/#", 0b11_0001)]), P),
                (
                    "No Local on a shared subscription",
                    subscribe(0x82, 1, v5, &[("$share/g/bad/#", 0b101)]),
                    P,
                ),
            ]);
        } else {
            cases.push(("reserved option bits", subscribe(0x82, 1, v5, &[("bad/#", 0b101)]), M));
        }
        cases
    };
    for (what, bytes, _) in cases(false) {
        let got = answer_then_close(emu.mqtt, &[hello(4, "bad4"), bytes].concat()).await;
        assert_eq!(got, [0x20, 2, 0, 0], "3.1.1 {what}: the CONNACK and nothing more");
    }
    for (what, bytes, code) in cases(true) {
        let got = packets5(&answer_then_close(emu.mqtt, &[hello(5, "bad5"), bytes].concat()).await);
        let ended = match got.as_slice() {
            [Packet5::ConnAck(_), Packet5::Disconnect(d)] => d.reason_code,
            other => panic!("5 {what}: {other:?}"),
        };
        assert_eq!(ended, code, "5 {what}");
    }
    // Nothing was routed, and the broker still serves.
    assert!(watcher.drain().await.is_empty());
    watcher.publish("bad/ok", "fine").await;
    assert_eq!(&watcher.next_on("bad/ok").await.payload[..], b"fine");
    emu.server.shutdown().await.unwrap();
}

/// MQTT 5 UNSUBACK says, per filter, whether the subscription existed (0x00) or not (0x11).
#[tokio::test]
async fn an_unsuback_says_which_subscriptions_existed() {
    let emu = emu().await;
    let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
    let packets = [
        hello(5, "unsub"),
        subscribe(0x82, 1, true, &[("u/a", 1)]),
        unsubscribe(0xA2, 2, true, &["u/a", "u/b", "u/a"]),
    ];
    s.write_all(&packets.concat()).await.unwrap();
    assert_eq!(read_packet(&mut s).await.0, 0x20);
    assert_eq!(read_packet(&mut s).await, (0x90, vec![0, 1, 0, 1]));
    assert_eq!(read_packet(&mut s).await, (0xB0, vec![0, 2, 0, 0x00, 0x11, 0x11]));
    emu.server.shutdown().await.unwrap();
}

/// A SUBSCRIBE refused for one bad filter subscribes to none of them, a persistent session's
/// included: nothing published meanwhile is queued for it. A session whose SUBSCRIBE was taken
/// gets the same message, so the check is not vacuous.
#[tokio::test]
async fn a_refused_subscribe_leaves_a_persistent_session_subscribed_to_nothing() {
    let emu = emu().await;
    let persistent = |id: &str| connect_packet("MQTT", 4, 0, &[], &[id]);
    for (id, filters, refused) in
        [("refused", &[("chk/kept", 1), ("chk/bad", 3)][..], true), ("taken", &[("chk/kept", 1)][..], false)]
    {
        let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
        s.write_all(&persistent(id)).await.unwrap();
        assert_eq!(read_packet(&mut s).await, (0x20, vec![0, 0]), "{id}");
        s.write_all(&subscribe(0x82, 1, false, filters)).await.unwrap();
        if refused {
            let mut rest = Vec::new();
            let read = tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open");
            assert!(read.is_err() || rest.is_empty(), "{id}: {rest:x?}");
        } else {
            assert_eq!(read_packet(&mut s).await, (0x90, vec![0, 1, 1]), "{id}");
            s.write_all(&packet(0xE0, &[])).await.unwrap();
        }
    }
    // Routed once both sessions are offline: the watcher hearing it means it was routed.
    let mut watcher = connect("chk-watcher", emu.mqtt).await;
    watcher.sub("chk/#").await;
    watcher.publish("chk/kept", "meanwhile").await;
    assert_eq!(&watcher.next_on("chk/kept").await.payload[..], b"meanwhile");
    for (id, queued) in [("refused", false), ("taken", true)] {
        let mut s = TcpStream::connect(emu.mqtt).await.unwrap();
        s.write_all(&persistent(id)).await.unwrap();
        assert_eq!(read_packet(&mut s).await, (0x20, vec![1, 0]), "{id}: the session is present");
        s.write_all(&packet(0xC0, &[])).await.unwrap();
        let (first, body) = read_packet(&mut s).await;
        if queued {
            assert_eq!(first & 0xF0, 0x30, "{id}: {first:#x} {body:x?}");
            assert!(body.ends_with(b"meanwhile"), "{id}: {body:x?}");
        } else {
            assert_eq!((first, body), (0xD0, vec![]), "{id}: nothing queued before the PINGRESP");
        }
    }
    emu.server.shutdown().await.unwrap();
}
