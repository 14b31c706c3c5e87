//! The frame checks, packet by packet.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

/// A frame: the first byte, the remaining length (one byte: short bodies only), the body.
fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first, u8::try_from(body.len()).unwrap()];
    out.extend_from_slice(body);
    out
}

fn kind(r: Result<(), ReadError>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(ReadError::Malformed(_)) => "malformed",
        Err(ReadError::Protocol(_)) => "protocol",
        Err(ReadError::UnsupportedLevel(_)) => "level",
        Err(e) => panic!("{e:?}"),
    }
}

fn connect(name: &[u8], level: u8, flags: u8) -> Vec<u8> {
    let mut body = u16::try_from(name.len()).unwrap().to_be_bytes().to_vec();
    body.extend_from_slice(name);
    body.extend_from_slice(&[level, flags, 0, 30]);
    frame(0x10, &body)
}

#[test]
fn connect_names_levels_and_flags() {
    /// Protocol name, level, connect flags, the version already connected, the outcome.
    type Case = (&'static [u8], u8, u8, Option<Version>, &'static str);
    let cases: [Case; 14] = [
        (b"MQTT", 4, 0b10, None, "ok"),
        (b"MQTT", 5, 0b10, None, "ok"),
        (b"MQTT", 3, 0b10, None, "level"),
        (b"MQTT", 6, 0b10, None, "level"),
        (b"MQIsdp", 3, 0b10, None, "level"),
        (b"MQTX", 4, 0b10, None, "malformed"),
        (b"MQTT", 4, 0b11, None, "malformed"),
        (b"MQTT", 4, 0b0001_0000, None, "malformed"),
        (b"MQTT", 4, 0b0010_0000, None, "malformed"),
        (b"MQTT", 4, 0b0001_1100, None, "malformed"),
        (b"MQTT", 4, 0b0100_0010, None, "malformed"),
        (b"MQTT", 5, 0b0100_0010, None, "ok"),
        (b"MQTT", 4, 0b1100_1110, None, "ok"),
        (b"MQTT", 4, 0b10, Some(Version::V4), "protocol"),
    ];
    for (name, level, flags, version, want) in cases {
        let got = kind(check(&connect(name, level, flags), version));
        assert_eq!(got, want, "{name:?} {level} {flags:#010b} {version:?}");
    }
    // Flags on the fixed header of a CONNECT.
    let mut c = connect(b"MQTT", 4, 0b10);
    c[0] = 0x11;
    assert_eq!(kind(check(&c, None)), "malformed");
}

#[test]
fn fixed_header_flags_qos_dup_and_packet_ids() {
    let v4 = Some(Version::V4);
    let publish = |first: u8, pkid: u16| {
        let mut body = vec![0, 1, b't'];
        body.extend_from_slice(&pkid.to_be_bytes());
        frame(first, &body)
    };
    let cases = [
        (publish(0x30, 1), "ok"),
        (publish(0x32, 1), "ok"),
        (publish(0x3C, 1), "ok"),
        (publish(0x38, 1), "malformed"),
        (publish(0x36, 1), "malformed"),
        (publish(0x32, 0), "protocol"),
        (publish(0x30, 0), "ok"),
        (frame(0x40, &[0, 1]), "ok"),
        (frame(0x41, &[0, 1]), "malformed"),
        (frame(0x62, &[0, 1]), "ok"),
        (frame(0x60, &[0, 1]), "malformed"),
        (frame(0xC0, &[]), "ok"),
        (frame(0xC1, &[]), "malformed"),
        (frame(0xE0, &[]), "ok"),
        (frame(0xE8, &[]), "malformed"),
        (frame(0x00, &[]), "malformed"),
        (frame(0xF0, &[]), "malformed"),
    ];
    for (bytes, want) in cases {
        assert_eq!(kind(check(&bytes, v4)), want, "{bytes:x?}");
    }
    // AUTH is MQTT 5's, and a protocol error there, short form or long: no CONNECT named an
    // Authentication Method (one is refused).
    for body in [&[][..], &[0x18, 0]] {
        assert_eq!(kind(check(&frame(0xF0, body), Some(Version::V5))), "protocol", "AUTH {body:x?}");
    }
}

/// A string field: its 2-byte length, then its bytes.
fn field(s: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(s.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// A property list: its length (one byte), then `properties`.
fn list(properties: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::try_from(properties.len()).unwrap()];
    out.extend_from_slice(properties);
    out
}

/// Properties as a client writes them: an id, then its value's bytes.
fn props(parts: &[(u8, &[u8])]) -> Vec<u8> {
    parts.iter().flat_map(|(id, value)| [&[*id][..], value].concat()).collect()
}

/// Every MQTT 5 property list a client sends is walked: a property where its packet has no
/// place for it, a value running past the list, a string that is not UTF-8 or holds U+0000
/// and a length not in its shortest form are malformed; a property given twice (but a User
/// Property), a flag other than 0 or 1 and a Response Topic with a wildcard are protocol
/// errors (MQTT 5 2.2.2.2, 1.5.4, 1.5.5, 3.3.2.3.5).
#[test]
fn mqtt5_property_lists() {
    let v5 = Some(Version::V5);
    let user = [&field(b"k")[..], &field(b"v")].concat();
    let publish =
        |properties: &[u8]| frame(0x32, &[&field(b"t")[..], &[0, 1], &list(properties), b"x"].concat());
    let connect = |properties: &[u8], will: Option<&[u8]>| {
        let flags = if will.is_some() { 0b0110 } else { 0b0010 };
        let mut body = [&field(b"MQTT")[..], &[5, flags, 0, 30], &list(properties), &field(b"id")].concat();
        if let Some(w) = will {
            body.extend([&list(w)[..], &field(b"w/t"), &field(b"gone")].concat());
        }
        frame(0x10, &body)
    };
    let cases: Vec<(&str, Vec<u8>, Option<Version>, &str)> = vec![
        ("PUBLISH, no properties", publish(&[]), v5, "ok"),
        (
            "PUBLISH, all it may hold",
            publish(&props(&[
                (0x01, &[1]),
                (0x02, &[0, 0, 0, 9]),
                (0x03, &field(b"json")),
                (0x08, &field(b"r/t")),
                (0x09, &field(&[0, 0xFF])),
                (0x23, &[0, 1]),
                (0x26, &user),
                (0x26, &user),
            ])),
            v5,
            "ok",
        ),
        ("Payload Format Indicator 2", publish(&props(&[(0x01, &[2])])), v5, "protocol"),
        (
            "Content Type twice",
            publish(&props(&[(0x03, &field(b"a")), (0x03, &field(b"b"))])),
            v5,
            "protocol",
        ),
        (
            "Message Expiry Interval twice",
            publish(&props(&[(0x02, &[0; 4]), (0x02, &[0; 4])])),
            v5,
            "protocol",
        ),
        ("Response Topic r/+", publish(&props(&[(0x08, &field(b"r/+"))])), v5, "protocol"),
        ("Response Topic #", publish(&props(&[(0x08, &field(b"#"))])), v5, "protocol"),
        ("Session Expiry in a PUBLISH", publish(&props(&[(0x11, &[0; 4])])), v5, "malformed"),
        ("an unknown property", publish(&props(&[(0x7F, &[0])])), v5, "malformed"),
        ("a value past the list", publish(&[0x02, 0, 0]), v5, "malformed"),
        ("Content Type with U+0000", publish(&props(&[(0x03, &field(b"a\0"))])), v5, "malformed"),
        ("Content Type not UTF-8", publish(&props(&[(0x03, &field(&[0xC3]))])), v5, "malformed"),
        (
            "User Property key not UTF-8",
            publish(&props(&[(0x26, &[&field(&[0xFF])[..], &field(b"v")].concat())])),
            v5,
            "malformed",
        ),
        (
            "an overlong property length",
            frame(0x32, &[&field(b"t")[..], &[0, 1, 0x80, 0], b"x"].concat()),
            v5,
            "malformed",
        ),
        (
            "CONNECT, all it may hold",
            connect(
                &props(&[
                    (0x11, &[0, 0, 0, 1]),
                    (0x17, &[0]),
                    (0x19, &[1]),
                    (0x21, &[0, 9]),
                    (0x22, &[0, 9]),
                    (0x27, &[0, 0, 1, 0]),
                    (0x26, &user),
                    (0x26, &user),
                ]),
                Some(&props(&[(0x18, &[0, 0, 0, 5]), (0x01, &[0]), (0x08, &field(b"r"))])),
            ),
            None,
            "ok",
        ),
        ("Request Problem Information 2", connect(&props(&[(0x17, &[2])]), None), None, "protocol"),
        ("Request Response Information 2", connect(&props(&[(0x19, &[2])]), None), None, "protocol"),
        (
            "Receive Maximum twice",
            connect(&props(&[(0x21, &[0, 5]), (0x21, &[0, 6])]), None),
            None,
            "protocol",
        ),
        ("a Topic Alias in a CONNECT", connect(&props(&[(0x23, &[0, 1])]), None), None, "malformed"),
        (
            "Will Delay Interval twice",
            connect(&[], Some(&props(&[(0x18, &[0; 4]), (0x18, &[0; 4])]))),
            None,
            "protocol",
        ),
        (
            "a will's Response Topic a/#",
            connect(&[], Some(&props(&[(0x08, &field(b"a/#"))]))),
            None,
            "protocol",
        ),
        (
            "Will Delay Interval in the CONNECT's own list",
            connect(&props(&[(0x18, &[0; 4])]), None),
            None,
            "malformed",
        ),
        ("PUBACK, short", frame(0x40, &[0, 1]), v5, "ok"),
        ("PUBACK, a reason code only", frame(0x40, &[0, 1, 0x10]), v5, "ok"),
        (
            "PUBACK, a Reason String",
            frame(0x40, &[&[0, 1, 0][..], &list(&props(&[(0x1F, &field(b"r"))]))].concat()),
            v5,
            "ok",
        ),
        (
            "PUBREL, a Reason String twice",
            frame(
                0x62,
                &[&[0, 1, 0][..], &list(&props(&[(0x1F, &field(b"r")), (0x1F, &field(b"s"))]))].concat(),
            ),
            v5,
            "protocol",
        ),
        ("PUBCOMP, bytes after the properties", frame(0x70, &[0, 1, 0, 0, 9]), v5, "malformed"),
        (
            "DISCONNECT, Session Expiry",
            frame(0xE0, &[&[0][..], &list(&props(&[(0x11, &[0, 0, 0, 1])]))].concat()),
            v5,
            "ok",
        ),
        (
            "DISCONNECT, Session Expiry twice",
            frame(0xE0, &[&[0][..], &list(&props(&[(0x11, &[0; 4]), (0x11, &[0; 4])]))].concat()),
            v5,
            "protocol",
        ),
        (
            "DISCONNECT, Receive Maximum",
            frame(0xE0, &[&[0][..], &list(&props(&[(0x21, &[0, 1])]))].concat()),
            v5,
            "malformed",
        ),
        (
            "UNSUBSCRIBE, a User Property",
            frame(0xA2, &[&[0, 1][..], &list(&props(&[(0x26, &user)])), &field(b"a")].concat()),
            v5,
            "ok",
        ),
        (
            "UNSUBSCRIBE, a Subscription Identifier",
            frame(0xA2, &[&[0, 1][..], &list(&props(&[(0x0B, &[1])])), &field(b"a")].concat()),
            v5,
            "malformed",
        ),
        (
            "SUBSCRIBE, an overlong Subscription Identifier",
            frame(0x82, &[&[0, 1][..], &list(&[0x0B, 0x81, 0]), &field(b"a"), &[1]].concat()),
            v5,
            "malformed",
        ),
        ("PINGREQ, an overlong remaining length", vec![0xC0, 0x80, 0], v5, "malformed"),
        ("PINGREQ, the same in 3.1.1", vec![0xC0, 0x80, 0], Some(Version::V4), "ok"),
    ];
    for (what, bytes, version, want) in cases {
        assert_eq!(kind(check(&bytes, version)), want, "{what}: {bytes:x?}");
    }
    // An MQTT 5 CONNECT's remaining length in more bytes than needed is malformed; 3.1.1's
    // is not.
    for (level, want) in [(5, "malformed"), (4, "ok")] {
        let body =
            [&field(b"MQTT")[..], &[level, 0b10, 0, 30], if level == 5 { &[0] } else { &[] }, &field(b"id")]
                .concat();
        let bytes = [&[0x10, 0x80 | u8::try_from(body.len()).unwrap(), 0][..], &body].concat();
        assert_eq!(kind(check(&bytes, None)), want, "level {level}");
    }
}

#[test]
fn subscribe_and_unsubscribe_ids_filters_and_options() {
    let subscribe = |first: u8, pkid: u16, v5: bool, filters: &[(&str, u8)]| {
        let mut body = pkid.to_be_bytes().to_vec();
        if v5 {
            body.push(0);
        }
        for (f, o) in filters {
            body.extend_from_slice(&u16::try_from(f.len()).unwrap().to_be_bytes());
            body.extend_from_slice(f.as_bytes());
            body.push(*o);
        }
        frame(first, &body)
    };
    let (v4, v5) = (Some(Version::V4), Some(Version::V5));
    let cases = [
        (subscribe(0x82, 1, false, &[("a", 1)]), v4, "ok"),
        (subscribe(0x80, 1, false, &[("a", 1)]), v4, "malformed"),
        (subscribe(0x82, 0, false, &[("a", 1)]), v4, "protocol"),
        (subscribe(0x82, 1, false, &[]), v4, "protocol"),
        (subscribe(0x82, 1, false, &[("a", 1), ("b", 3)]), v4, "malformed"),
        (subscribe(0x82, 1, false, &[("a", 0b100)]), v4, "malformed"),
        (subscribe(0x82, 1, true, &[("a", 0b10_1101)]), v5, "ok"),
        (subscribe(0x82, 1, true, &[("a", 0b0100_0001)]), v5, "malformed"),
        (subscribe(0x82, 1, true, &[("a", 0b11_0001)]), v5, "protocol"),
        (subscribe(0x82, 1, true, &[("a", 3)]), v5, "protocol"),
        (subscribe(0x82, 1, true, &[("$share/g/a", 0b101)]), v5, "protocol"),
        (subscribe(0x82, 1, true, &[("$share/g/a", 0b1001)]), v5, "ok"),
        (subscribe(0x82, 1, true, &[]), v5, "protocol"),
        (frame(0xA2, &[0, 1, 0, 1, b'a']), v4, "ok"),
        (frame(0xA0, &[0, 1, 0, 1, b'a']), v4, "malformed"),
        (frame(0xA2, &[0, 0, 0, 1, b'a']), v4, "protocol"),
        (frame(0xA2, &[0, 1]), v4, "protocol"),
        (frame(0xA2, &[0, 1, 0]), v5, "protocol"),
        (frame(0xA2, &[0, 1, 0, 0, 1, b'a']), v5, "ok"),
    ];
    for (bytes, version, want) in cases {
        assert_eq!(kind(check(&bytes, version)), want, "{bytes:x?} {version:?}");
    }
}

/// Every string field a client sends is UTF-8 without U+0000, in both versions: a topic name,
/// a topic filter (subscribed or unsubscribed), a client id, a will topic, a user name. The
/// will payload and the password are binary.
#[test]
fn string_fields_are_utf8_without_nul() {
    let string = |s: &[u8]| {
        let mut out = u16::try_from(s.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(s);
        out
    };
    for (version, properties) in [(Version::V4, &[][..]), (Version::V5, &[0][..])] {
        let level = if version == Version::V5 { 5 } else { 4 };
        let publish = |topic: &[u8]| frame(0x30, &[&string(topic)[..], properties, b"x"].concat());
        let subscribe =
            |filter: &[u8]| frame(0x82, &[&[0, 1][..], properties, &string(filter), &[1]].concat());
        let unsubscribe =
            |filter: &[u8]| frame(0xA2, &[&[0, 1][..], properties, &string(b"a"), &string(filter)].concat());
        // Flags: user name, password, will, clean session.
        let connect = |id: &[u8], will_topic: &[u8], user: &[u8]| {
            let head = [&string(b"MQTT")[..], &[level, 0b1100_0110, 0, 30], properties].concat();
            let will = [properties, &string(will_topic), &string(b"\0\xFF")].concat();
            frame(0x10, &[&head[..], &string(id), &will, &string(user), &string(b"\0\xFF")].concat())
        };
        let connected = Some(version);
        let cases = [
            (publish("a/é/ü".as_bytes()), connected, "ok"),
            (publish(b"a\0b"), connected, "malformed"),
            (publish(b"a\xC3"), connected, "malformed"),
            (subscribe("a/+/é".as_bytes()), connected, "ok"),
            (subscribe(b"a/\0"), connected, "malformed"),
            (subscribe(b"\xFF/#"), connected, "malformed"),
            (unsubscribe(b"b/#"), connected, "ok"),
            (unsubscribe(b"b\0"), connected, "malformed"),
            (unsubscribe(b"b\xC3"), connected, "malformed"),
            (connect(b"id", b"w/t", "usér".as_bytes()), None, "ok"),
            (connect(b"i\0d", b"w/t", b"u"), None, "malformed"),
            (connect(b"\xC3", b"w/t", b"u"), None, "malformed"),
            (connect(b"id", b"w/\0", b"u"), None, "malformed"),
            (connect(b"id", b"w/t", b"u\0"), None, "malformed"),
            (connect(b"id", b"w/t", b"\xFFu"), None, "malformed"),
        ];
        for (bytes, connected, want) in cases {
            assert_eq!(kind(check(&bytes, connected)), want, "{version:?} {bytes:x?}");
        }
    }
}

/// Frames cut short, or with lengths past their end, are left to the parser.
#[test]
fn what_cannot_be_walked_is_left_to_the_parser() {
    for bytes in [vec![], vec![0x82], vec![0x82, 5, 0, 1], frame(0x82, &[0, 1, 0, 9, b'a'])] {
        assert_eq!(kind(check(&bytes, Some(Version::V4))), "ok", "{bytes:x?}");
    }
    assert_eq!(kind(check(&frame(0x10, &[0, 4, b'M']), None)), "ok");
}
