//! The rules of a whole frame that `rumqttc`'s parsers do not hold a client to: the fixed
//! header's flags, the packet identifiers, the CONNECT flags and protocol level, the subscription
//! options, every string field (UTF-8 without U+0000, MQTT-1.5.3-1, -2 in 3.1.1 and 1.5.4 in 5),
//! and in MQTT 5 the encoding of lengths and every property list (each property where its packet
//! has a place for it, once, with a value in its range). Checked on the raw bytes
//! before the frame is parsed; what the walk here cannot read (a frame cut short) is left to the
//! parser, which refuses it.

use super::{ReadError, Version};

/// Why a walk stopped before the end of the frame.
enum Stop {
    /// The frame ends before a field it announces: left to the parser.
    Short,
    /// The frame breaks a rule.
    Bad(ReadError),
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        Stop::Bad(e)
    }
}

type Walk<T> = Result<T, Stop>;

/// A frame's bytes after its fixed header, read front to back.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn u8(&mut self) -> Walk<u8> {
        let (first, rest) = self.0.split_first().ok_or(Stop::Short)?;
        self.0 = rest;
        Ok(*first)
    }

    fn u16(&mut self) -> Walk<u16> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }

    fn bytes(&mut self, n: usize) -> Walk<&'a [u8]> {
        let (taken, rest) = self.0.split_at_checked(n).ok_or(Stop::Short)?;
        self.0 = rest;
        Ok(taken)
    }

    /// A string or binary field: its 2-byte length, then its bytes.
    fn field(&mut self) -> Walk<&'a [u8]> {
        let n = self.u16()?;
        self.bytes(usize::from(n))
    }

    /// A UTF-8 string field (MQTT 1.5.4): its length, then UTF-8 without U+0000.
    fn string(&mut self, name: &str) -> Walk<&'a str> {
        let bytes = self.field()?;
        Ok(utf8(bytes, name)?)
    }

    /// A variable byte integer (MQTT 5 1.5.5), at most 4 bytes, and whether it is in its
    /// shortest form: more bytes than needed end in a byte of 0.
    fn varint_as_sent(&mut self) -> Walk<(usize, bool)> {
        let mut value = 0_usize;
        for (n, shift) in [0_u32, 7, 14, 21].into_iter().enumerate() {
            let b = self.u8()?;
            value |= usize::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok((value, n == 0 || b != 0));
            }
        }
        Err(malformed("a variable byte integer of more than 4 bytes (MQTT 5 1.5.5)").into())
    }

    /// A variable byte integer of MQTT 5, in its shortest form (MQTT-1.5.5-1).
    fn varint(&mut self) -> Walk<usize> {
        match self.varint_as_sent()? {
            (value, true) => Ok(value),
            (_, false) => Err(overlong().into()),
        }
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

fn overlong() -> ReadError {
    malformed("a variable byte integer in more bytes than its value needs (MQTT-1.5.5-1)")
}

/// Checks the whole frame at the head of `frame`, from a client that connected with `version`
/// (`None`: the CONNECT that starts the connection).
pub(super) fn check(frame: &[u8], version: Option<Version>) -> Result<(), ReadError> {
    match walk(frame, version) {
        Ok(()) | Err(Stop::Short) => Ok(()),
        Err(Stop::Bad(e)) => Err(e),
    }
}

fn walk(frame: &[u8], version: Option<Version>) -> Walk<()> {
    let mut header = Body(frame);
    let first = header.u8()?;
    let (len, shortest) = header.varint_as_sent()?;
    let body = header.bytes(len)?;
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
        ))
        .into());
    }
    let mut body = Body(body);
    let version = match (kind, version) {
        (1, None) => connect(&mut body, shortest)?,
        (1, Some(_)) => return Err(protocol("a second CONNECT (MQTT-3.1.0-2)").into()),
        (0, _) => return Err(malformed("packet type 0, which is reserved").into()),
        (15, Some(Version::V4)) => return Err(malformed("packet type 15, which MQTT 3.1.1 reserves").into()),
        (_, None) => return Ok(()),
        (_, Some(v)) => v,
    };
    // MQTT 3.1.1 asks for no shortest form (its 2.2.3 only describes the encoding).
    if version == Version::V5 && !shortest {
        return Err(overlong().into());
    }
    match (kind, version) {
        (3, v) => publish(flags, &mut body, v),
        (4..=7, Version::V5) => acknowledgement(&mut body),
        (8, v) => subscribe(&mut body, v),
        (10, v) => unsubscribe(&mut body, v),
        (14, Version::V5) => disconnect(&mut body),
        // The CONNECT named no Authentication Method (one is refused: MQTT 5 4.12), so there is
        // no exchange for an AUTH to be part of.
        (15, Version::V5) => {
            Err(protocol("an AUTH packet, when CONNECT named no Authentication Method (MQTT 5 4.12)").into())
        }
        _ => Ok(()),
    }
}

/// A CONNECT's protocol name and level and its flags (MQTT-3.1.2-1 to -3, -11 to -15, -22), its
/// client id, will topic and user name, and in MQTT 5 its properties and its will's; the version
/// it asks for.
fn connect(body: &mut Body<'_>, shortest: bool) -> Walk<Version> {
    let name = body.field()?;
    let level = body.u8()?;
    let version = match (name, level) {
        (b"MQTT", 4) => Version::V4,
        (b"MQTT", 5) => Version::V5,
        (b"MQTT", _) | (b"MQIsdp", _) => {
            return Err(ReadError::UnsupportedLevel(format!(
                "protocol level {level} (MQTT-3.1.2-2: 4, MQTT 3.1.1, and 5 are spoken)"
            ))
            .into());
        }
        _ => {
            let name = String::from_utf8_lossy(name);
            return Err(malformed(format!("protocol name {name:?} (MQTT-3.1.2-1)")).into());
        }
    };
    if version == Version::V5 && !shortest {
        return Err(overlong().into());
    }
    let flags = body.u8()?;
    let will = flags & 0b0000_0100 != 0;
    let will_qos = (flags >> 3) & 0b11;
    let will_retain = flags & 0b0010_0000 != 0;
    let (password, user) = (flags & 0b0100_0000 != 0, flags & 0b1000_0000 != 0);
    let refusal = if flags & 1 != 0 {
        Some("the CONNECT flags' reserved bit is set (MQTT-3.1.2-3)")
    } else if !will && (will_qos != 0 || will_retain) {
        Some("a will QoS or will retain without a will (MQTT-3.1.2-13, -15)")
    } else if will_qos == 3 {
        Some("a will of QoS 3 (MQTT-3.1.2-14)")
    } else if version == Version::V4 && password && !user {
        Some("a password without a user name (MQTT-3.1.2-22)")
    } else {
        None
    };
    if let Some(why) = refusal {
        return Err(malformed(why).into());
    }
    let _keep_alive = body.u16()?;
    if version == Version::V5 {
        properties(body, Holder::Connect)?;
    }
    body.string("Client Identifier")?;
    if will {
        if version == Version::V5 {
            properties(body, Holder::Will)?;
        }
        body.string("Will Topic")?;
        let _will_payload = body.field()?;
    }
    if user {
        body.string("User Name")?;
    }
    Ok(version)
}

/// A PUBLISH's QoS, DUP flag, topic name and packet id (MQTT-3.3.1-2, -4, MQTT-2.2.1-3), and its
/// MQTT 5 properties.
fn publish(flags: u8, body: &mut Body<'_>, version: Version) -> Walk<()> {
    let (dup, qos) = (flags & 0b1000 != 0, (flags >> 1) & 0b11);
    if qos == 3 {
        return Err(malformed("a PUBLISH of QoS 3 (MQTT-3.3.1-4)").into());
    }
    if qos == 0 && dup {
        return Err(malformed("a QoS 0 PUBLISH with DUP set (MQTT-3.3.1-2)").into());
    }
    body.string("Topic Name")?;
    if qos > 0 && body.u16()? == 0 {
        return Err(protocol("a QoS 1 or 2 PUBLISH with packet id 0 (MQTT-2.2.1-3)").into());
    }
    if version == Version::V5 {
        properties(body, Holder::Publish)?;
    }
    Ok(())
}

/// An MQTT 5 PUBACK, PUBREC, PUBREL or PUBCOMP: a packet id, then a reason code and properties,
/// each of which may be left out (MQTT 5 3.4.2.1), and nothing after them.
fn acknowledgement(body: &mut Body<'_>) -> Walk<()> {
    let _pkid = body.u16()?;
    reason_and_properties(body, Holder::Acknowledgement)
}

/// An MQTT 5 DISCONNECT: a reason code and properties, each of which may be left out (MQTT 5
/// 3.14.2.1), and nothing after them.
fn disconnect(body: &mut Body<'_>) -> Walk<()> {
    reason_and_properties(body, Holder::Disconnect)
}

/// A reason code and properties that end the packet, each of which may be left out (the parser
/// checks the reason code).
fn reason_and_properties(body: &mut Body<'_>, holder: Holder) -> Walk<()> {
    if body.is_empty() {
        return Ok(());
    }
    let _reason = body.u8()?;
    if body.is_empty() {
        return Ok(());
    }
    properties(body, holder)?;
    if body.is_empty() {
        Ok(())
    } else {
        Err(malformed(format!("bytes after the properties of {} (MQTT 5 2.2.2.1)", holder.name())).into())
    }
}

/// The packet id of a SUBSCRIBE or UNSUBSCRIBE, not 0, its MQTT 5 properties, and that a topic
/// filter follows them.
fn packet_id(body: &mut Body<'_>, version: Version, holder: Holder) -> Walk<()> {
    let packet = holder.name();
    if body.u16()? == 0 {
        return Err(protocol(format!("{packet} with packet id 0 (MQTT-2.2.1-3)")).into());
    }
    if version == Version::V5 {
        properties(body, holder)?;
    }
    if body.is_empty() {
        return Err(protocol(format!("{packet} with no topic filter (MQTT-3.8.3-3, MQTT-3.10.3-2)")).into());
    }
    Ok(())
}

/// A SUBSCRIBE's packet id, filters and subscription options (MQTT-3.8.3-4, -5; MQTT 5 3.8.3.1:
/// Maximum QoS 3 and Retain Handling 3 are protocol errors there).
fn subscribe(body: &mut Body<'_>, version: Version) -> Walk<()> {
    packet_id(body, version, Holder::Subscribe)?;
    while !body.is_empty() {
        let filter = body.string("Topic Filter")?;
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
        } else if options & 0b100 != 0 && filter.starts_with("$share/") {
            Some(protocol("No Local on a shared subscription (MQTT 5 MQTT-3.8.3-4)"))
        } else {
            None
        };
        if let Some(e) = refusal {
            return Err(e.into());
        }
    }
    Ok(())
}

/// An UNSUBSCRIBE's packet id, its MQTT 5 properties and its filters, each a UTF-8 string.
fn unsubscribe(body: &mut Body<'_>, version: Version) -> Walk<()> {
    packet_id(body, version, Holder::Unsubscribe)?;
    while !body.is_empty() {
        body.string("Topic Filter")?;
    }
    Ok(())
}

/// What holds an MQTT 5 property list that a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Connect,
    Will,
    Publish,
    /// PUBACK, PUBREC, PUBREL, PUBCOMP.
    Acknowledgement,
    Subscribe,
    Unsubscribe,
    Disconnect,
}

impl Holder {
    fn name(self) -> &'static str {
        match self {
            Holder::Connect => "a CONNECT",
            Holder::Will => "a will",
            Holder::Publish => "a PUBLISH",
            Holder::Acknowledgement => "a PUBACK, PUBREC, PUBREL or PUBCOMP",
            Holder::Subscribe => "a SUBSCRIBE",
            Holder::Unsubscribe => "an UNSUBSCRIBE",
            Holder::Disconnect => "a DISCONNECT",
        }
    }
}

/// How a property's value is written (MQTT 5 2.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// A byte that is 0 or 1.
    Flag,
    U16,
    U32,
    Varint,
    Utf8,
    Binary,
    /// Two UTF-8 strings; the one property that may be given more than once in a packet.
    Pair,
}

/// The properties a client may send (MQTT 5 2.2.2.2's table, less those only a server sends):
/// the name, how the value is written, and what may hold it.
fn property(id: usize) -> Option<(&'static str, Value, &'static [Holder])> {
    use Holder::{Acknowledgement as Ack, Connect, Disconnect, Publish, Subscribe, Unsubscribe, Will};
    const ALL: &[Holder] = &[Connect, Will, Publish, Ack, Subscribe, Unsubscribe, Disconnect];
    Some(match id {
        0x01 => ("Payload Format Indicator", Value::Flag, &[Publish, Will]),
        0x02 => ("Message Expiry Interval", Value::U32, &[Publish, Will]),
        0x03 => ("Content Type", Value::Utf8, &[Publish, Will]),
        0x08 => ("Response Topic", Value::Utf8, &[Publish, Will]),
        0x09 => ("Correlation Data", Value::Binary, &[Publish, Will]),
        0x0B => ("Subscription Identifier", Value::Varint, &[Publish, Subscribe]),
        0x11 => ("Session Expiry Interval", Value::U32, &[Connect, Disconnect]),
        0x15 => ("Authentication Method", Value::Utf8, &[Connect]),
        0x16 => ("Authentication Data", Value::Binary, &[Connect]),
        0x17 => ("Request Problem Information", Value::Flag, &[Connect]),
        0x18 => ("Will Delay Interval", Value::U32, &[Will]),
        0x19 => ("Request Response Information", Value::Flag, &[Connect]),
        0x1C => ("Server Reference", Value::Utf8, &[Disconnect]),
        0x1F => ("Reason String", Value::Utf8, &[Ack, Disconnect]),
        0x21 => ("Receive Maximum", Value::U16, &[Connect]),
        0x22 => ("Topic Alias Maximum", Value::U16, &[Connect]),
        0x23 => ("Topic Alias", Value::U16, &[Publish]),
        0x26 => ("User Property", Value::Pair, ALL),
        0x27 => ("Maximum Packet Size", Value::U32, &[Connect]),
        _ => return None,
    })
}

/// An MQTT 5 property list held by `holder`: its length, then each property ([`property_in`]).
/// A value that runs past the list's length is malformed (not a frame cut short).
fn properties(body: &mut Body<'_>, holder: Holder) -> Walk<()> {
    let n = body.varint()?;
    let mut list = Body(body.bytes(n)?);
    let mut seen = 0_u64;
    while !list.is_empty() {
        property_in(&mut list, holder, &mut seen).map_err(|stop| match stop {
            Stop::Short => Stop::Bad(malformed(format!(
                "a property of {} runs past its property length (MQTT 5 2.2.2.1)",
                holder.name()
            ))),
            bad @ Stop::Bad(_) => bad,
        })?;
    }
    Ok(())
}

/// The next property of a list held by `holder`: one where `holder` has a place for it (MQTT 5
/// 2.2.2.2: malformed otherwise), not in `seen` unless it is a User Property (a protocol error
/// otherwise), with a value in its range.
fn property_in(list: &mut Body<'_>, holder: Holder, seen: &mut u64) -> Walk<()> {
    let id = list.varint()?;
    let Some((name, value, _)) = property(id).filter(|(_, _, h)| h.contains(&holder)) else {
        return Err(malformed(format!(
            "property {id:#04x} in {}, which has no place for it (MQTT 5 2.2.2.2)",
            holder.name()
        ))
        .into());
    };
    let bit = 1_u64 << (id % 64);
    if value != Value::Pair && *seen & bit != 0 {
        return Err(protocol(format!("{name} given twice in {} (MQTT 5 2.2.2.2)", holder.name())).into());
    }
    *seen |= bit;
    match value {
        Value::Flag => {
            let v = list.u8()?;
            if v > 1 {
                return Err(protocol(format!("{name} {v} in {} (MQTT 5: 0 or 1)", holder.name())).into());
            }
        }
        Value::U16 => {
            list.u16()?;
        }
        Value::U32 => {
            list.bytes(4)?;
        }
        Value::Varint => {
            list.varint()?;
        }
        Value::Binary => {
            list.field()?;
        }
        Value::Utf8 => {
            let s = utf8(list.field()?, name)?;
            if id == 0x08 && s.contains(['+', '#']) {
                return Err(
                    protocol(format!("a Response Topic with a wildcard, {s:?} (MQTT-3.3.2-14)")).into()
                );
            }
        }
        Value::Pair => {
            utf8(list.field()?, name)?;
            utf8(list.field()?, name)?;
        }
    }
    Ok(())
}

/// A string: UTF-8 (MQTT-1.5.4-1) without U+0000 (MQTT-1.5.4-2; MQTT-1.5.3-1 and -2 in 3.1.1).
fn utf8<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, ReadError> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.contains('\0') => Ok(s),
        Ok(_) => Err(malformed(format!("a {name} with U+0000 (MQTT-1.5.4-2)"))),
        Err(_) => Err(malformed(format!("a {name} that is not UTF-8 (MQTT-1.5.4-1)"))),
    }
}

#[cfg(test)]
mod tests;
