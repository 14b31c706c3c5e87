//! The codec's tests: valid packets of both versions read back, mutated ones refused without a
//! panic, what a held message owns and is charged, and the refusals' reason codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// Valid packets of both versions, each with the version it is read with (`None`: the
/// CONNECT that starts a connection), every field and property filled in.
fn valid_packets() -> Vec<(Option<Version>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut push4 = |version, p: v4::Packet| {
        let mut b = BytesMut::new();
        p.write(&mut b, MAX).unwrap();
        out.push((version, b.to_vec()));
    };
    let mut connect = v4::Connect::new("device-1");
    connect.last_will = Some(v4::LastWill::new("w/t", "gone", m4::QoS::AtLeastOnce, true));
    connect.login = Some(v4::Login::new("user", "pass"));
    push4(None, v4::Packet::Connect(connect));
    let v4 = Some(Version::V4);
    let mut publish = v4::Publish::new("$aws/things/t/jobs/get", m4::QoS::AtLeastOnce, vec![b'{', b'}']);
    publish.pkid = 7;
    push4(v4, v4::Packet::Publish(publish));
    let mut subscribe = v4::Subscribe::new("$aws/things/+/jobs/#", m4::QoS::AtLeastOnce);
    subscribe.pkid = 8;
    push4(v4, v4::Packet::Subscribe(subscribe));
    let mut unsubscribe = v4::Unsubscribe::new("a/#");
    unsubscribe.pkid = 9;
    push4(v4, v4::Packet::Unsubscribe(unsubscribe));
    push4(v4, v4::Packet::PubAck(v4::PubAck::new(3)));
    push4(v4, v4::Packet::PingReq);

    let mut push5 = |version, p: v5::Packet| {
        let mut b = BytesMut::new();
        p.write(&mut b, None).unwrap();
        out.push((version, b.to_vec()));
    };
    let properties = v5::ConnectProperties {
        session_expiry_interval: Some(60),
        receive_maximum: Some(5),
        max_packet_size: Some(4096),
        topic_alias_max: Some(3),
        request_response_info: Some(1),
        request_problem_info: Some(1),
        user_properties: vec![("k".into(), "v".into())],
        authentication_method: Some("m".into()),
        authentication_data: Some(Bytes::from_static(b"d")),
    };
    let connect = v5::Connect {
        keep_alive: 30,
        client_id: "device-5".into(),
        clean_start: false,
        properties: Some(properties),
    };
    let will = v5::LastWill {
        topic: Bytes::from_static(b"w/t"),
        message: Bytes::from_static(b"gone"),
        qos: m5::QoS::AtLeastOnce,
        retain: false,
        properties: Some(v5::LastWillProperties {
            delay_interval: Some(1),
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(5),
            content_type: Some("text/plain".into()),
            response_topic: Some("r/t".into()),
            correlation_data: Some(Bytes::from_static(b"c")),
            user_properties: vec![("a".into(), "b".into())],
        }),
    };
    let login = v5::Login { username: "user".into(), password: "pass".into() };
    push5(None, v5::Packet::Connect(connect, Some(will), Some(login)));
    let v5 = Some(Version::V5);
    let properties = v5::PublishProperties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(3),
        topic_alias: Some(2),
        response_topic: Some("r/t".into()),
        correlation_data: Some(Bytes::from_static(b"x")),
        user_properties: vec![("u".into(), "v".into())],
        subscription_identifiers: Vec::new(),
        content_type: Some("application/json".into()),
    };
    push5(
        v5,
        v5::Packet::Publish(v5::Publish {
            dup: false,
            qos: m5::QoS::AtLeastOnce,
            retain: true,
            topic: Bytes::from_static(b"$aws/things/t/jobs/j/update"),
            pkid: 7,
            payload: Bytes::from_static(b"{\"status\":\"SUCCEEDED\"}"),
            properties: Some(properties),
        }),
    );
    let properties = v5::SubscribeProperties { id: None, user_properties: vec![("a".into(), "b".into())] };
    let mut subscribe =
        v5::Subscribe::new(v5::Filter::new("$share/g/a/+", m5::QoS::AtLeastOnce), Some(properties));
    subscribe.pkid = 4;
    push5(v5, v5::Packet::Subscribe(subscribe));
    let mut unsubscribe = v5::Unsubscribe::new("a/#", None);
    unsubscribe.pkid = 5;
    push5(v5, v5::Packet::Unsubscribe(unsubscribe));
    let properties = v5::PubAckProperties { reason_string: Some("ok".into()), user_properties: vec![] };
    push5(
        v5,
        v5::Packet::PubAck(v5::PubAck {
            pkid: 3,
            reason: v5::PubAckReason::Success,
            properties: Some(properties),
        }),
    );
    let properties = v5::DisconnectProperties {
        session_expiry_interval: Some(4),
        reason_string: Some("bye".into()),
        user_properties: vec![],
        server_reference: None,
    };
    push5(
        v5,
        v5::Packet::Disconnect(v5::Disconnect {
            reason_code: v5::DisconnectReasonCode::DisconnectWithWillMessage,
            properties: Some(properties),
        }),
    );
    out
}

const MAX: usize = 4096;

/// A SUBACK says why a filter was refused in MQTT 5 (invalid 0x8F, quota exceeded 0x97,
/// unspecified 0x80); 3.1.1 has 0x80 for all; a PUBACK or PUBREC over quota says 0x97; a
/// PUBCOMP of a PUBREL that awaits nothing says 0x92 (3.1.1: a plain PUBCOMP); a will of QoS 2
/// is refused with 0x9B (3.1.1 takes it at QoS 1, and would say not authorized); a CONNACK
/// tells an MQTT 5 client the session expiry the server uses when it is not the client's.
#[test]
fn refusals_are_written_with_their_reason_codes() {
    let written = |packet: Outgoing, version| {
        let mut out = BytesMut::new();
        write(packet, version, &mut out, MAX).unwrap();
        out.to_vec()
    };
    let grants = vec![Grant::Qos(1), Grant::Invalid, Grant::Quota, Grant::Unspecified];
    let suback = |version| written(Outgoing::SubAck { pkid: 5, grants: grants.clone() }, version);
    assert_eq!(suback(Version::V4), [0x90, 6, 0, 5, 1, 0x80, 0x80, 0x80]);
    assert_eq!(suback(Version::V5), [0x90, 7, 0, 5, 0, 1, 0x8F, 0x97, 0x80]);
    let over = |exactly_once, version| written(Outgoing::OverQuota { pkid: 9, exactly_once }, version);
    assert_eq!(over(false, Version::V5), [0x40, 4, 0, 9, 0x97, 0]);
    assert_eq!(over(true, Version::V5), [0x50, 4, 0, 9, 0x97, 0]);
    assert_eq!(over(false, Version::V4), Vec::<u8>::new());
    let not_found = |version| written(Outgoing::PubCompNotFound(5), version);
    assert_eq!(not_found(Version::V5), [0x70, 4, 0, 5, 0x92, 0]);
    assert_eq!(not_found(Version::V4), [0x70, 2, 0, 5]);
    assert_eq!(written(Outgoing::Refuse(Refusal::QosNotSupported), Version::V5), [0x20, 3, 0, 0x9B, 0]);
    let connack = |session_expiry| {
        let out =
            Outgoing::ConnAck { session_present: false, assigned_id: None, keep_alive: None, session_expiry };
        let bytes = written(out, Version::V5);
        let mut buf = BytesMut::from(&bytes[..]);
        let Ok(v5::Packet::ConnAck(ack)) = v5::Packet::read(&mut buf, None) else { panic!("{bytes:?}") };
        ack.properties.unwrap().session_expiry_interval
    };
    assert_eq!(connack(Some(3600)), Some(3600));
    assert_eq!(connack(None), None);
}

/// A DISCONNECT carries its reason as a Reason String where the client's Maximum Packet Size
/// leaves room for it, and is the reason code alone where it does not (MQTT-3.14.2-3); the
/// client reads it either way.
#[test]
fn a_disconnect_drops_its_reason_string_past_the_clients_maximum_packet_size() {
    let code = v5::DisconnectReasonCode::KeepAliveTimeout;
    let written = |max| {
        let mut out = BytesMut::new();
        write(Outgoing::Disconnect(code), Version::V5, &mut out, max).map(|()| out.to_vec())
    };
    let long = written(MAX).unwrap();
    assert!(long.len() > 3, "{long:02x?}");
    let mut buf = BytesMut::from(&long[..]);
    let Ok(v5::Packet::Disconnect(d)) = v5::Packet::read(&mut buf, None) else { panic!("{long:02x?}") };
    assert_eq!(
        (d.reason_code, d.properties.unwrap().reason_string.as_deref()),
        (code, Some("KeepAliveTimeout"))
    );
    assert_eq!(written(long.len()).unwrap(), long);
    for max in [3, long.len() - 1] {
        assert_eq!(written(max).unwrap(), [0xE0, 0x01, 0x8D], "{max}");
    }
    // Not even that fits: nothing is written, and the caller is told.
    assert!(written(2).is_err());
}

/// What the broker's budget charges: each copy the message, its topic and its properties (their
/// box, strings, pairs and identifiers); the payload the copies share once.
#[test]
fn a_messages_size_counts_its_topic_payload_and_properties() {
    let plain = Message::new("t/1", vec![0; 100], 1);
    let base = std::mem::size_of::<Message>();
    assert_eq!((plain.size(), plain.copy_size()), (base + 3 + 100, base + 3));
    let with = Message {
        properties: Some(Box::new(v5::PublishProperties {
            payload_format_indicator: Some(1),
            message_expiry_interval: Some(60),
            topic_alias: None,
            response_topic: Some("r".repeat(5)),
            correlation_data: Some(Bytes::from(vec![1; 7])),
            user_properties: vec![("k".into(), "vv".into()), ("kk".into(), "v".into())],
            subscription_identifiers: vec![1, 2],
            content_type: Some("c".repeat(11)),
        })),
        ..plain.clone()
    };
    let boxed = std::mem::size_of::<v5::PublishProperties>();
    let pair = std::mem::size_of::<(String, String)>();
    let ids = 2 * std::mem::size_of::<usize>();
    assert_eq!(with.size(), plain.size() + boxed + 5 + 7 + 11 + 2 * (3 + pair) + ids);
    assert_eq!(with.copy_size(), with.size() - 100);
}

/// A message read from a connection's buffer owns its bytes: its payload, a will's and a
/// correlation datum are copies, not slices that would keep the whole buffer alive while the
/// message is held.
#[test]
fn a_message_read_owns_its_bytes() {
    let packets = valid_packets();
    let mut owned = 0;
    for (version, bytes) in &packets {
        let mut buf = BytesMut::from(&bytes[..]);
        buf.reserve(64 * 1024);
        let range = buf.as_ptr_range();
        let outside = |b: &Bytes| b.is_empty() || !range.contains(&b.as_ptr());
        let held: Vec<Bytes> = match read(&mut buf, *version, MAX).unwrap() {
            Incoming::Publish { message, .. } => {
                let correlation = message.properties.and_then(|p| p.correlation_data);
                [Some(message.payload), correlation].into_iter().flatten().collect()
            }
            Incoming::Connect(c) => c.will.map(|w| w.payload).into_iter().collect(),
            _ => continue,
        };
        for b in &held {
            assert!(outside(b), "{bytes:?}: {b:?} is a slice of the read buffer");
            owned += 1;
        }
    }
    assert!(owned >= 5, "payloads, wills and correlation data looked at: {owned}");
}

/// Hostile bytes: 200,000 mutations of valid packets of both versions (1 to 4 bytes
/// replaced, bits flipped, bytes cut or inserted, or set to 0, 0x7F, 0x80, 0xFF) are each
/// read or refused, without a panic in the third-party codecs (read here without the
/// `catch_unwind` that guards the broker), and a packet read takes exactly its frame from
/// the buffer, so the next packet starts where it should.
#[test]
fn mutated_packets_are_read_or_refused_without_a_panic() {
    let packets = valid_packets();
    for (version, bytes) in &packets {
        let mut buf = BytesMut::from(&bytes[..]);
        assert!(read(&mut buf, *version, MAX).is_ok() && buf.is_empty(), "{bytes:?}");
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state >> 32).unwrap()
    };
    let (mut read_ok, mut refused) = (0, 0);
    for _ in 0..200_000 {
        let (version, packet) = &packets[next() % packets.len()];
        let mut bytes = packet.clone();
        for _ in 0..1 + next() % 4 {
            let at = next() % bytes.len();
            let byte = u8::try_from(next() & 0xFF).unwrap();
            match next() % 5 {
                0 => bytes[at] = byte,
                1 => bytes[at] ^= 1 << (next() % 8),
                2 if bytes.len() > 2 => drop(bytes.remove(at.max(2))),
                3 => bytes.insert(at, byte),
                _ => bytes[at] = [0, 0x7F, 0x80, 0xFF][next() % 4],
            }
        }
        let mut buf = BytesMut::from(&bytes[..]);
        let frame_len = m4::check(buf.iter(), MAX).ok().map(|h| h.frame_length());
        let before = buf.len();
        // The raw checks see every mutation, whatever the parser then makes of it.
        let _ = check::check(&buf, *version);
        let result = match version.or_else(|| connect_version(&buf)) {
            Some(v) => frame(&buf, MAX).and_then(|()| read_frame(&mut buf, v, MAX)),
            None => Err(ReadError::Malformed("level".into())),
        };
        match result {
            Ok(_) => {
                read_ok += 1;
                assert_eq!(Some(before - buf.len()), frame_len, "{bytes:?}");
            }
            Err(_) => refused += 1,
        }
    }
    // Both outcomes are exercised, not only one.
    assert!(read_ok > 20_000 && refused > 20_000, "{read_ok} read, {refused} refused");
}

/// What is left of a message's expiry interval is rounded up to whole seconds: 0 only once it
/// has run out, so a message is never taken as expired early, and none is left for a message
/// that does not expire.
#[test]
fn the_seconds_left_of_an_expiry_are_rounded_up() {
    let now = Instant::now();
    let at =
        |ms: u64| Message { expires: Some(now + Duration::from_millis(ms)), ..Message::new("t", "m", 1) };
    let left: Vec<Option<u32>> =
        [0, 1, 500, 1_000, 1_001, 2_500].iter().map(|ms| at(*ms).expiry_left(now)).collect();
    assert_eq!(left, [Some(0), Some(1), Some(1), Some(1), Some(2), Some(3)]);
    assert_eq!(at(0).expiry_left(now + Duration::from_secs(5)), Some(0));
    assert_eq!(Message::new("t", "m", 1).expiry_left(now), None);
}

/// An MQTT 5 DISCONNECT without its properties (Remaining Length 1) or without its reason code
/// too (0), as paho-mqtt and mosquitto's clients send it, is read as the long form: 0x00 is a
/// normal disconnection (the will is dropped), 0x04 keeps the will. An unknown reason code is
/// still malformed, and the packet after it in the buffer is left for the next read.
#[test]
fn a_short_mqtt5_disconnect_is_read_with_its_defaults() {
    let v5 = Some(Version::V5);
    let disconnect = |bytes: &[u8]| {
        let mut buf = BytesMut::from(bytes);
        let got = read(&mut buf, v5, MAX);
        (got, buf.to_vec())
    };
    for (bytes, will) in
        [(&[0xE0, 0x00][..], false), (&[0xE0, 0x01, 0x00], false), (&[0xE0, 0x01, 0x04], true)]
    {
        let mut with_ping = bytes.to_vec();
        with_ping.extend_from_slice(&[0xC0, 0x00]);
        match disconnect(&with_ping) {
            (Ok(Incoming::Disconnect { with_will, session_expiry: None }), rest) => {
                assert_eq!(with_will, will, "{bytes:02x?}");
                assert_eq!(rest, [0xC0, 0x00], "{bytes:02x?}");
            }
            other => panic!("{bytes:02x?}: {other:?}"),
        }
    }
    assert!(matches!(disconnect(&[0xE0, 0x01, 0x03]), (Err(ReadError::Malformed(_)), _)));
    // The long forms are read as before.
    assert!(matches!(
        disconnect(&[0xE0, 0x02, 0x04, 0x00]),
        (Ok(Incoming::Disconnect { with_will: true, .. }), _)
    ));
    // MQTT 3.1.1's DISCONNECT has no body.
    let mut buf = BytesMut::from(&[0xE0, 0x00][..]);
    assert!(matches!(
        read(&mut buf, Some(Version::V4), MAX),
        Ok(Incoming::Disconnect { with_will: false, .. })
    ));
}
