//! The rules of a whole frame that `rumqttc`'s parsers do not hold a client to: the fixed
//! header's flags, the packet identifiers, the CONNECT flags and protocol level, and the
//! subscription options. Checked on the raw bytes before the frame is parsed; what the walk
//! here cannot read (a frame cut short) is left to the parser, which refuses it.

use super::{ReadError, Version};

/// A frame's bytes after its fixed header, read front to back.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(taken)
    }

    /// A string or binary field: its 2-byte length, then its bytes.
    fn field(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.bytes(usize::from(n))
    }

    /// A variable byte integer (MQTT 5 1.5.5), at most 4 bytes.
    fn varint(&mut self) -> Option<usize> {
        let mut value = 0_usize;
        for shift in [0_u32, 7, 14, 21] {
            let b = self.u8()?;
            value |= usize::from(b & 0x7F).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// Skips an MQTT 5 property list: its length, then that many bytes.
    fn properties(&mut self) -> Option<()> {
        let n = self.varint()?;
        self.bytes(n).map(|_| ())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn malformed(why: impl Into<String>) -> ReadError {
    ReadError::Malformed(why.into())
}

fn protocol(why: impl Into<String>) -> ReadError {
    ReadError::Protocol(why.into())
}

/// Checks the whole frame at the head of `frame`, from a client that connected with `version`
/// (`None`: the CONNECT that starts the connection).
pub(super) fn check(frame: &[u8], version: Option<Version>) -> Result<(), ReadError> {
    let mut header = Body(frame);
    let (Some(first), Some(len)) = (header.u8(), header.varint()) else { return Ok(()) };
    let Some(body) = header.bytes(len) else { return Ok(()) };
    let (kind, flags) = (first >> 4, first & 0x0F);
    // MQTT 2.1.3: the flags each packet type must carry (PUBLISH's are its own).
    let required = match kind {
        3 => None,
        6 | 8 | 10 => Some(0b0010),
        _ => Some(0),
    };
    if required.is_some_and(|r| r != flags) {
        return Err(malformed(format!(
            "packet type {kind} with fixed-header flags {flags:#06b} (MQTT 2.1.3)"
        )));
    }
    let mut body = Body(body);
    match (kind, version) {
        (1, None) => connect(&mut body).unwrap_or(Ok(())),
        (1, Some(_)) => Err(protocol("a second CONNECT (MQTT-3.1.0-2)")),
        (3, Some(_)) => publish(flags, &mut body),
        (8, Some(v)) => subscribe(&mut body, v).unwrap_or(Ok(())),
        (10, Some(v)) => packet_id(&mut body, v, "n UNSUBSCRIBE").unwrap_or(Ok(())),
        (0, _) => Err(malformed("packet type 0, which is reserved")),
        (15, Some(Version::V4)) => Err(malformed("packet type 15, which MQTT 3.1.1 reserves")),
        _ => Ok(()),
    }
}

/// A CONNECT's protocol name and level and its flags (MQTT-3.1.2-1 to -3, -11 to -15, -22).
/// `None`: cut short (the parser refuses it).
fn connect(body: &mut Body<'_>) -> Option<Result<(), ReadError>> {
    let name = body.field()?;
    let level = body.u8()?;
    let version = match (name, level) {
        (b"MQTT", 4) => Version::V4,
        (b"MQTT", 5) => Version::V5,
        (b"MQTT", _) | (b"MQIsdp", _) => {
            return Some(Err(ReadError::UnsupportedLevel(format!(
                "protocol level {level} (MQTT-3.1.2-2: 4, MQTT 3.1.1, and 5 are spoken)"
            ))));
        }
        _ => {
            let name = String::from_utf8_lossy(name);
            return Some(Err(malformed(format!("protocol name {name:?} (MQTT-3.1.2-1)"))));
        }
    };
    let flags = body.u8()?;
    let will = flags & 0b0000_0100 != 0;
    let will_qos = (flags >> 3) & 0b11;
    let will_retain = flags & 0b0010_0000 != 0;
    let (password, user) = (flags & 0b0100_0000 != 0, flags & 0b1000_0000 != 0);
    Some(if flags & 1 != 0 {
        Err(malformed("the CONNECT flags' reserved bit is set (MQTT-3.1.2-3)"))
    } else if !will && (will_qos != 0 || will_retain) {
        Err(malformed("a will QoS or will retain without a will (MQTT-3.1.2-13, -15)"))
    } else if will_qos == 3 {
        Err(malformed("a will of QoS 3 (MQTT-3.1.2-14)"))
    } else if version == Version::V4 && password && !user {
        Err(malformed("a password without a user name (MQTT-3.1.2-22)"))
    } else {
        Ok(())
    })
}

/// A PUBLISH's QoS, DUP flag and packet id (MQTT-3.3.1-2, -4, MQTT-2.2.1-3).
fn publish(flags: u8, body: &mut Body<'_>) -> Result<(), ReadError> {
    let (dup, qos) = (flags & 0b1000 != 0, (flags >> 1) & 0b11);
    if qos == 3 {
        return Err(malformed("a PUBLISH of QoS 3 (MQTT-3.3.1-4)"));
    }
    if qos == 0 && dup {
        return Err(malformed("a QoS 0 PUBLISH with DUP set (MQTT-3.3.1-2)"));
    }
    if qos > 0 && body.field().and_then(|_| body.u16()) == Some(0) {
        return Err(protocol("a QoS 1 or 2 PUBLISH with packet id 0 (MQTT-2.2.1-3)"));
    }
    Ok(())
}

/// The packet id of a SUBSCRIBE or UNSUBSCRIBE, not 0, and that a topic filter follows its MQTT 5
/// properties; `None`: cut short.
fn packet_id(body: &mut Body<'_>, version: Version, packet: &str) -> Option<Result<(), ReadError>> {
    if body.u16()? == 0 {
        return Some(Err(protocol(format!("a{packet} with packet id 0 (MQTT-2.2.1-3)"))));
    }
    if version == Version::V5 {
        body.properties()?;
    }
    if body.is_empty() {
        return Some(Err(protocol(format!("a{packet} with no topic filter (MQTT-3.8.3-3, MQTT-3.10.3-2)"))));
    }
    Some(Ok(()))
}

/// A SUBSCRIBE's packet id, filters and subscription options (MQTT-3.8.3-4, -5; MQTT 5 3.8.3.1:
/// Maximum QoS 3 and Retain Handling 3 are protocol errors there).
fn subscribe(body: &mut Body<'_>, version: Version) -> Option<Result<(), ReadError>> {
    if let Err(e) = packet_id(body, version, " SUBSCRIBE")? {
        return Some(Err(e));
    }
    while !body.is_empty() {
        let filter = body.field()?;
        let options = body.u8()?;
        let reserved = match version {
            Version::V4 => 0b1111_1100,
            Version::V5 => 0b1100_0000,
        };
        let refusal = if options & reserved != 0 {
            Some(malformed(format!("subscription options {options:#010b} set reserved bits (MQTT-3.8.3-5)")))
        } else if options & 0b11 == 3 && version == Version::V4 {
            Some(malformed("a subscription of QoS 3 (MQTT-3.8.3-4)"))
        } else if options & 0b11 == 3 {
            Some(protocol("a subscription of Maximum QoS 3 (MQTT 5 3.8.3.1)"))
        } else if (options >> 4) & 0b11 == 3 {
            Some(protocol("Retain Handling 3 (MQTT 5 3.8.3.1)"))
        } else if options & 0b100 != 0 && filter.starts_with(b"$share/") {
            Some(protocol("No Local on a shared subscription (MQTT 5 MQTT-3.8.3-4)"))
        } else {
            None
        };
        if let Some(e) = refusal {
            return Some(Err(e));
        }
    }
    Some(Ok(()))
}

#[cfg(test)]
mod tests {
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
        assert_eq!(kind(check(&frame(0xF0, &[0]), Some(Version::V5))), "ok", "AUTH is MQTT 5's");
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

    /// Frames cut short, or with lengths past their end, are left to the parser.
    #[test]
    fn what_cannot_be_walked_is_left_to_the_parser() {
        for bytes in [vec![], vec![0x82], vec![0x82, 5, 0, 1], frame(0x82, &[0, 1, 0, 9, b'a'])] {
            assert_eq!(kind(check(&bytes, Some(Version::V4))), "ok", "{bytes:x?}");
        }
        assert_eq!(kind(check(&frame(0x10, &[0, 4, b'M']), None)), "ok");
    }
}
