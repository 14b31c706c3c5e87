//! MQTT 3.1.1 and MQTT 5 packets, read and written with `rumqttc`'s codecs and mapped to one set of
//! broker-side types, so that the broker speaks both versions through the same code.

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::mqttbytes::{self as m4};
use rumqttc::v5::mqttbytes::v5;
use rumqttc::v5::mqttbytes::{self as m5};

use super::budget::Charge;

mod check;

/// Topic aliases an MQTT 5 client may use (granted in CONNACK, MQTT-3.2.2.3.8).
pub const TOPIC_ALIAS_MAX: u16 = 32;

/// The protocol level a client connected with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// MQTT 3.1.1 (level 4).
    V4,
    /// MQTT 5 (level 5).
    V5,
}

/// One application message as the broker keeps and routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Topic name.
    pub topic: String,
    /// Payload bytes.
    pub payload: Bytes,
    /// 0 or 1 (a QoS 2 publish is taken in and routed as QoS 1).
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// MQTT 5 properties carried end to end (content type, response topic, correlation data,
    /// user properties, payload format); dropped for MQTT 3.1.1 receivers.
    pub properties: Option<Box<v5::PublishProperties>>,
    /// This copy's share of the broker's budget for held messages (none until a broker holds it).
    pub charge: Charge,
    /// When an MQTT 5 message with a Message Expiry Interval expires: a copy not yet sent by
    /// then is dropped (MQTT-3.3.2-5), and a copy sent earlier carries what is left of the
    /// interval (MQTT-3.3.2-6).
    pub expires: Option<Instant>,
    /// Whether this copy was sent to its session's client and not acknowledged: sent again, it
    /// carries DUP (MQTT-3.3.1-1); a copy never sent does not.
    pub sent: bool,
}

impl Message {
    /// A QoS `qos` message without properties.
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>, qos: u8) -> Self {
        Message {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain: false,
            properties: None,
            charge: Charge::default(),
            expires: None,
            sent: false,
        }
    }

    /// The message with its expiry interval, if its properties give one, counted from `now`.
    #[must_use]
    pub fn expiring(mut self, now: Instant) -> Self {
        let interval = self.properties.as_ref().and_then(|p| p.message_expiry_interval);
        self.expires = interval.and_then(|s| now.checked_add(Duration::from_secs(u64::from(s))));
        self
    }

    /// The seconds left of the message's expiry interval at `now` (`None`: it does not expire),
    /// rounded up: 0 only once it has expired.
    pub fn expiry_left(&self, now: Instant) -> Option<u32> {
        let left = self.expires?.saturating_duration_since(now);
        let secs = left.as_secs().saturating_add(u64::from(left.subsec_nanos() > 0));
        Some(u32::try_from(secs).unwrap_or(u32::MAX))
    }

    /// The bytes one copy of the message takes, its payload included.
    pub fn size(&self) -> usize {
        self.copy_size().saturating_add(self.payload.len())
    }

    /// The bytes each copy of the message takes of its own: all but its payload, which copies
    /// share (what the broker's budget charges a copy; the payload is charged once).
    pub fn copy_size(&self) -> usize {
        let properties = self.properties.as_deref().map_or(0, |p| {
            let pair = std::mem::size_of::<(String, String)>();
            [
                std::mem::size_of::<v5::PublishProperties>(),
                p.content_type.as_ref().map_or(0, String::len),
                p.response_topic.as_ref().map_or(0, String::len),
                p.correlation_data.as_ref().map_or(0, Bytes::len),
                p.subscription_identifiers.len().saturating_mul(std::mem::size_of::<usize>()),
            ]
            .into_iter()
            .chain(
                p.user_properties.iter().map(|(k, v)| pair.saturating_add(k.len()).saturating_add(v.len())),
            )
            .fold(0, usize::saturating_add)
        });
        [std::mem::size_of::<Self>(), self.topic.len(), properties].into_iter().fold(0, usize::saturating_add)
    }
}

/// A payload of its own: the codec's payload is a slice of the connection's read buffer and
/// would keep all of it alive for as long as the message is held.
fn own(payload: Bytes) -> Bytes {
    Bytes::copy_from_slice(&payload)
}

/// What a client's CONNECT asked for.
#[derive(Debug, Clone)]
pub struct Connect {
    pub version: Version,
    pub client_id: String,
    /// 3.1.1 `cleanSession` / 5 `cleanStart`.
    pub clean: bool,
    /// Whether the session outlives the connection (3.1.1: not clean; 5: session expiry > 0).
    pub persistent: bool,
    pub keep_alive: u16,
    pub will: Option<Message>,
    /// MQTT 5 receive maximum: most unacknowledged QoS 1 publishes the client takes at once.
    pub receive_max: Option<u16>,
    /// MQTT 5 maximum packet size the client takes.
    pub max_packet: Option<u32>,
    /// MQTT 5 session expiry interval in seconds, as the client sent it (0 when it sent none;
    /// `0xFFFFFFFF`: never); `None` for MQTT 3.1.1, whose persistent sessions expire after the
    /// broker's longest interval.
    pub session_expiry: Option<u32>,
    /// Whether the will asks for QoS 2, which an MQTT 5 client is refused (the broker's Maximum
    /// QoS is 1); a 3.1.1 will of QoS 2 is published at QoS 1.
    pub will_exactly_once: bool,
    /// The MQTT 5 Will Delay Interval in seconds (0 when none, and in MQTT 3.1.1): how long after
    /// the connection ends its will waits, and is dropped if the session is taken back meanwhile.
    pub will_delay: u32,
    /// The MQTT 5 Authentication Method asked for (enhanced authentication), if any.
    pub auth_method: Option<String>,
}

/// What a SUBSCRIBE asks for one topic filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub filter: String,
    /// The QoS asked for (the broker grants at most 1).
    pub qos: u8,
    /// MQTT 5 No Local: the client's own publishes are not sent to it (MQTT-3.8.3-3).
    pub no_local: bool,
    /// MQTT 5 Retain As Published: messages keep their retain flag when routed to this
    /// subscription (MQTT-3.3.1-12, -13).
    pub retain_as_published: bool,
    /// MQTT 5 Retain Handling: whether the retained messages it matches are sent now.
    pub retain_handling: RetainHandling,
}

impl Subscription {
    /// A subscription with MQTT 3.1.1's options (and MQTT 5's defaults).
    pub fn new(filter: impl Into<String>, qos: u8) -> Self {
        Subscription {
            filter: filter.into(),
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::Always,
        }
    }
}

/// MQTT 5 Retain Handling (3.8.3.1): when a SUBSCRIBE gets the retained messages it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetainHandling {
    /// 0: at every SUBSCRIBE (MQTT-3.3.1-9; MQTT 3.1.1's only behaviour).
    Always,
    /// 1: only when the subscription did not exist (MQTT-3.3.1-10).
    IfNew,
    /// 2: never (MQTT-3.3.1-11).
    Never,
}

/// A packet from a client, once connected.
#[derive(Debug)]
pub enum Incoming {
    Connect(Connect),
    Publish {
        message: Message,
        pkid: u16,
        exactly_once: bool,
        /// MQTT 5 topic alias (1 to [`TOPIC_ALIAS_MAX`] when valid): with a topic, it names that
        /// topic from now on; with an empty topic, it stands for the topic it names.
        alias: Option<u16>,
    },
    PubAck(u16),
    /// A QoS 2 release: answered with PUBCOMP.
    PubRel(u16),
    Subscribe {
        pkid: u16,
        filters: Vec<Subscription>,
    },
    Unsubscribe {
        pkid: u16,
        filters: Vec<String>,
    },
    PingReq,
    /// `with_will`: MQTT 5 reason 0x04 (disconnect with will message). `session_expiry`: the
    /// MQTT 5 session expiry interval it sets, in seconds, if it carries one (3.14.2.2.2).
    Disconnect {
        with_will: bool,
        session_expiry: Option<u32>,
    },
    /// A packet a server never receives (CONNACK, SUBACK, …) or a QoS 2 packet of a flow the
    /// broker does not start (PUBREC, PUBCOMP).
    Unexpected(&'static str),
}

/// Why a connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The broker has no room for it (3.1.1: server unavailable, 5: 0x88).
    Unavailable,
    /// It asks for what a client may not do (3.1.1: not authorized, 5: 0x87).
    NotAuthorized,
    /// Its client id is longer than AWS IoT Core takes (3.1.1: identifier rejected, 5: 0x85).
    ClientIdInvalid,
    /// Its will's topic is not one a client may publish to (3.1.1: not authorized, having no
    /// code of its own; 5: 0x90, topic name invalid).
    WillTopicInvalid,
    /// Its will asks for QoS 2, more than the broker's Maximum QoS (MQTT 5 only: 0x9B, QoS not
    /// supported, MQTT-3.2.2-12).
    QosNotSupported,
    /// It asks for a protocol level the broker does not speak: always a 3.1.1 CONNACK, return
    /// code 1, unacceptable protocol version (MQTT-3.1.2-2), as the client's level is unknown.
    UnsupportedLevel,
    /// It is malformed (MQTT 5 only: 0x81; a 3.1.1 connection is closed without a CONNACK).
    Malformed,
    /// It breaks a rule of the protocol (MQTT 5 only: 0x82; 3.1.1 is closed without a CONNACK).
    ProtocolError,
    /// It asks for enhanced authentication, which the broker does not offer (MQTT 5 only:
    /// 0x8C, bad authentication method, MQTT 5 4.12).
    BadAuthMethod,
}

/// A packet to a client.
#[derive(Debug, Clone)]
pub enum Outgoing {
    ConnAck {
        session_present: bool,
        assigned_id: Option<String>,
        /// MQTT 5 Server Keep Alive: the keep-alive the server uses, when not the client's.
        keep_alive: Option<u16>,
        /// MQTT 5 Session Expiry Interval: the interval the server uses, when not the client's
        /// (MQTT-3.2.2.3.2).
        session_expiry: Option<u32>,
    },
    /// CONNACK refusing the connection.
    Refuse(Refusal),
    Publish {
        message: Message,
        pkid: u16,
        dup: bool,
    },
    PubAck(u16),
    PubRec(u16),
    PubComp(u16),
    /// The PUBCOMP of a PUBREL whose packet id awaits no release (MQTT 5: reason 0x92, packet
    /// identifier not found; 3.1.1 has no reason codes: a plain PUBCOMP).
    PubCompNotFound(u16),
    /// MQTT 5 only: the PUBACK (PUBREC for QoS 2) of a publish not taken, reason code 0x97,
    /// quota exceeded (3.1.1 has no refusal of a publish: its connection is closed instead).
    OverQuota {
        pkid: u16,
        exactly_once: bool,
    },
    /// One grant per filter.
    SubAck {
        pkid: u16,
        grants: Vec<Grant>,
    },
    /// Per filter, whether the session had that subscription (MQTT 5: 0x00, or 0x11, no
    /// subscription existed).
    UnsubAck {
        pkid: u16,
        existed: Vec<bool>,
    },
    PingResp,
    /// MQTT 5 only (3.1.1 servers just close): the reason code.
    Disconnect(v5::DisconnectReasonCode),
}

/// A SUBACK's answer to one topic filter (3.1.1 has one refusal, 0x80, for all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Subscribed at this QoS.
    Qos(u8),
    /// Not a topic filter the broker takes (MQTT 5: 0x8F, topic filter invalid).
    Invalid,
    /// The session's or the broker's subscriptions are at their cap (MQTT 5: 0x97, quota
    /// exceeded).
    Quota,
    /// The session was taken over meanwhile (MQTT 5: 0x80, unspecified error).
    Unspecified,
}

/// Why reading failed: the connection is closed.
#[derive(Debug)]
pub enum ReadError {
    /// More bytes are needed (not an error).
    Incomplete,
    /// A packet larger than the limit.
    TooLarge(usize),
    /// Anything else malformed (MQTT 5: reason 0x81).
    Malformed(String),
    /// A rule of the protocol broken by a well-formed packet (MQTT 5: reason 0x82).
    Protocol(String),
    /// A CONNECT of a protocol level the broker does not speak.
    UnsupportedLevel(String),
    /// MQTT 5: what the broker said in CONNACK it does not take (the DISCONNECT's reason code).
    Unsupported { code: v5::DisconnectReasonCode, why: String },
}

fn qos4(q: m4::QoS) -> u8 {
    match q {
        m4::QoS::AtMostOnce => 0,
        m4::QoS::AtLeastOnce | m4::QoS::ExactlyOnce => 1,
    }
}

fn qos5(q: m5::QoS) -> u8 {
    match q {
        m5::QoS::AtMostOnce => 0,
        m5::QoS::AtLeastOnce | m5::QoS::ExactlyOnce => 1,
    }
}

fn to_qos4(q: u8) -> m4::QoS {
    if q == 0 { m4::QoS::AtMostOnce } else { m4::QoS::AtLeastOnce }
}

fn to_qos5(q: u8) -> m5::QoS {
    if q == 0 { m5::QoS::AtMostOnce } else { m5::QoS::AtLeastOnce }
}

fn utf8(b: Bytes) -> Result<String, ReadError> {
    String::from_utf8(b.to_vec()).map_err(|_| ReadError::Malformed("a topic is not UTF-8".into()))
}

/// The protocol version of the CONNECT packet at the head of `buf`, if it is one the broker
/// speaks (its first 9 bytes are enough when its remaining length takes one).
pub fn connect_version(buf: &[u8]) -> Option<Version> {
    // Fixed header: the type byte, then 1 to 4 bytes of remaining length; then the protocol
    // name ("MQTT", with its 2-byte length) and the level.
    let len_bytes = buf.iter().skip(1).take(4).position(|b| b & 0x80 == 0)?.checked_add(1)?;
    let start = len_bytes.checked_add(1)?;
    let name = buf.get(start..start.checked_add(6)?)?;
    if name != b"\x00\x04MQTT" {
        return None;
    }
    match buf.get(start.checked_add(6)?) {
        Some(4) => Some(Version::V4),
        Some(5) => Some(Version::V5),
        _ => None,
    }
}

/// Whether `buf` starts with a whole frame of at most `max` bytes.
fn frame(buf: &BytesMut, max: usize) -> Result<(), ReadError> {
    match m4::check(buf.iter(), max) {
        Ok(_) => Ok(()),
        Err(m4::Error::InsufficientBytes(_)) => Err(ReadError::Incomplete),
        Err(m4::Error::PayloadSizeLimitExceeded(n)) => Err(ReadError::TooLarge(n)),
        Err(e) => Err(ReadError::Malformed(e.to_string())),
    }
}

/// Reads the next packet from `buf` (consuming it), or `Incomplete`.
///
/// `version` is `None` before CONNECT: the first packet must be a CONNECT of level 4 or 5.
pub fn read(buf: &mut BytesMut, connected: Option<Version>, max: usize) -> Result<Incoming, ReadError> {
    if connected.is_none() && buf.first().is_some_and(|b| b >> 4 != 1) {
        return Err(ReadError::Malformed("the first packet is not CONNECT".into()));
    }
    // A whole frame first (the same framing in both versions): any error the codec reports for a
    // whole frame, "too short" included, is a malformed packet.
    frame(buf, max)?;
    check::check(buf, connected)?;
    let version = match connected {
        Some(v) => v,
        None => connect_version(buf).ok_or_else(|| ReadError::Malformed("not an MQTT CONNECT".into()))?,
    };
    // The codecs are third-party parsers of untrusted bytes: a panic in one closes this
    // connection only, like any other malformed packet (none is known: see the tests).
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_frame(buf, version, max)));
    parsed.unwrap_or_else(|_| Err(ReadError::Malformed("malformed packet".into())))
}

/// Reads the whole frame at the head of `buf` with `version`'s codec.
fn read_frame(buf: &mut BytesMut, version: Version, max: usize) -> Result<Incoming, ReadError> {
    match version {
        Version::V4 => read4(buf, max),
        Version::V5 => read5(buf, max),
    }
}

fn read4(buf: &mut BytesMut, max: usize) -> Result<Incoming, ReadError> {
    let packet = v4::Packet::read(buf, max).map_err(|e| ReadError::Malformed(e.to_string()))?;
    Ok(match packet {
        v4::Packet::Connect(c) => Incoming::Connect(Connect {
            version: Version::V4,
            persistent: !c.clean_session,
            receive_max: None,
            max_packet: None,
            session_expiry: None,
            will_exactly_once: false,
            will_delay: 0,
            auth_method: None,
            clean: c.clean_session,
            keep_alive: c.keep_alive,
            will: c.last_will.map(|w| Message {
                topic: w.topic,
                payload: own(w.message),
                qos: qos4(w.qos),
                retain: w.retain,
                properties: None,
                charge: Charge::default(),
                expires: None,
                sent: false,
            }),
            client_id: c.client_id,
        }),
        v4::Packet::Publish(p) => Incoming::Publish {
            exactly_once: p.qos == m4::QoS::ExactlyOnce,
            message: Message {
                topic: p.topic,
                payload: own(p.payload),
                qos: qos4(p.qos),
                retain: p.retain,
                properties: None,
                charge: Charge::default(),
                expires: None,
                sent: false,
            },
            pkid: p.pkid,
            alias: None,
        },
        v4::Packet::PubAck(a) => Incoming::PubAck(a.pkid),
        v4::Packet::PubRel(r) => Incoming::PubRel(r.pkid),
        v4::Packet::Subscribe(s) => Incoming::Subscribe {
            pkid: s.pkid,
            filters: s.filters.into_iter().map(|f| Subscription::new(f.path, qos4(f.qos))).collect(),
        },
        v4::Packet::Unsubscribe(u) => Incoming::Unsubscribe { pkid: u.pkid, filters: u.topics },
        v4::Packet::PingReq => Incoming::PingReq,
        v4::Packet::Disconnect => Incoming::Disconnect { with_will: false, session_expiry: None },
        v4::Packet::ConnAck(_) => Incoming::Unexpected("CONNACK"),
        v4::Packet::PubRec(_) => Incoming::Unexpected("PUBREC"),
        v4::Packet::PubComp(_) => Incoming::Unexpected("PUBCOMP"),
        v4::Packet::SubAck(_) => Incoming::Unexpected("SUBACK"),
        v4::Packet::UnsubAck(_) => Incoming::Unexpected("UNSUBACK"),
        v4::Packet::PingResp => Incoming::Unexpected("PINGRESP"),
    })
}

fn read5(buf: &mut BytesMut, max: usize) -> Result<Incoming, ReadError> {
    let limit = u32::try_from(max).unwrap_or(u32::MAX);
    // A DISCONNECT may leave out its reason code (Remaining Length 0: 0x00, normal
    // disconnection, MQTT 5 3.14.2.1) and its properties (Remaining Length 1: none, 3.14.2.2.1),
    // as paho-mqtt and mosquitto's clients send it; the codec reads only the long form, so
    // the short ones are read as it: a normal DISCONNECT must drop the will (MQTT-3.14.4-3).
    if let [0xE0, len @ (0 | 1), rest @ ..] = buf.as_ref() {
        let reason = if *len == 1 { rest.first().copied().unwrap_or(0) } else { 0 };
        let frame = 2 + usize::from(*len);
        let mut long = BytesMut::from(&[0xE0, 0x02, reason, 0x00][..]);
        buf.advance(frame);
        return read5(&mut long, max);
    }
    let packet = v5::Packet::read(buf, Some(limit)).map_err(|e| ReadError::Malformed(e.to_string()))?;
    Ok(match packet {
        v5::Packet::Connect(c, will, _login) => {
            let expiry = c.properties.as_ref().and_then(|p| p.session_expiry_interval).unwrap_or(0);
            let will_exactly_once = will.as_ref().is_some_and(|w| w.qos == m5::QoS::ExactlyOnce);
            let will_delay = will.as_ref().and_then(|w| w.properties.as_ref()?.delay_interval).unwrap_or(0);
            let will = match will {
                Some(w) => Some(Message {
                    topic: utf8(w.topic)?,
                    payload: own(w.message),
                    qos: qos5(w.qos),
                    retain: w.retain,
                    // What a publish carries, as the will's properties say it (its Will Delay
                    // Interval is the session's: `Connect::will_delay`).
                    properties: w.properties.map(|p| {
                        Box::new(v5::PublishProperties {
                            payload_format_indicator: p.payload_format_indicator,
                            message_expiry_interval: p.message_expiry_interval,
                            topic_alias: None,
                            response_topic: p.response_topic,
                            correlation_data: p.correlation_data.map(own),
                            user_properties: p.user_properties,
                            subscription_identifiers: Vec::new(),
                            content_type: p.content_type,
                        })
                    }),
                    charge: Charge::default(),
                    // Counted from when the will is published (`Message::expiring`).
                    expires: None,
                    sent: false,
                }),
                None => None,
            };
            Incoming::Connect(Connect {
                version: Version::V5,
                client_id: c.client_id,
                clean: c.clean_start,
                persistent: expiry > 0,
                keep_alive: c.keep_alive,
                will,
                receive_max: c.properties.as_ref().and_then(|p| p.receive_maximum),
                max_packet: c.properties.as_ref().and_then(|p| p.max_packet_size),
                session_expiry: Some(expiry),
                will_exactly_once,
                will_delay,
                auth_method: c.properties.as_ref().and_then(|p| p.authentication_method.clone()),
            })
        }
        v5::Packet::Publish(p) => {
            let alias = p.properties.as_ref().and_then(|p| p.topic_alias);
            if p.properties.as_ref().is_some_and(|p| !p.subscription_identifiers.is_empty()) {
                return Err(ReadError::Protocol(
                    "a PUBLISH from a client with a Subscription Identifier (MQTT-3.3.4-6)".into(),
                ));
            }
            let properties = p.properties.map(|mut props| {
                props.topic_alias = None;
                props.correlation_data = props.correlation_data.map(own);
                Box::new(props)
            });
            Incoming::Publish {
                exactly_once: p.qos == m5::QoS::ExactlyOnce,
                message: Message {
                    topic: utf8(p.topic)?,
                    payload: own(p.payload),
                    qos: qos5(p.qos),
                    retain: p.retain,
                    properties,
                    charge: Charge::default(),
                    expires: None,
                    sent: false,
                }
                .expiring(Instant::now()),
                pkid: p.pkid,
                alias,
            }
        }
        v5::Packet::PubAck(a) => Incoming::PubAck(a.pkid),
        v5::Packet::PubRel(r) => Incoming::PubRel(r.pkid),
        v5::Packet::Subscribe(s) if s.properties.as_ref().is_some_and(|p| p.id.is_some()) => {
            // CONNACK says Subscription Identifier Available 0 (MQTT 5 3.8.2.1.2).
            return Err(ReadError::Unsupported {
                code: v5::DisconnectReasonCode::SubscriptionIdentifiersNotSupported,
                why: "a SUBSCRIBE with a Subscription Identifier, which the broker does not take".into(),
            });
        }
        v5::Packet::Subscribe(s) => Incoming::Subscribe {
            pkid: s.pkid,
            filters: s
                .filters
                .into_iter()
                .map(|f| Subscription {
                    filter: f.path,
                    qos: qos5(f.qos),
                    no_local: f.nolocal,
                    retain_as_published: f.preserve_retain,
                    retain_handling: match f.retain_forward_rule {
                        v5::RetainForwardRule::OnEverySubscribe => RetainHandling::Always,
                        v5::RetainForwardRule::OnNewSubscribe => RetainHandling::IfNew,
                        v5::RetainForwardRule::Never => RetainHandling::Never,
                    },
                })
                .collect(),
        },
        v5::Packet::Unsubscribe(u) => Incoming::Unsubscribe { pkid: u.pkid, filters: u.filters },
        v5::Packet::PingReq(_) => Incoming::PingReq,
        v5::Packet::Disconnect(d) => Incoming::Disconnect {
            with_will: d.reason_code == v5::DisconnectReasonCode::DisconnectWithWillMessage,
            session_expiry: d.properties.and_then(|p| p.session_expiry_interval),
        },
        v5::Packet::Auth(_) => Incoming::Unexpected("AUTH"),
        v5::Packet::ConnAck(_) => Incoming::Unexpected("CONNACK"),
        v5::Packet::PubRec(_) => Incoming::Unexpected("PUBREC"),
        v5::Packet::PubComp(_) => Incoming::Unexpected("PUBCOMP"),
        v5::Packet::SubAck(_) => Incoming::Unexpected("SUBACK"),
        v5::Packet::UnsubAck(_) => Incoming::Unexpected("UNSUBACK"),
        v5::Packet::PingResp(_) => Incoming::Unexpected("PINGRESP"),
    })
}

/// Appends `packet` in `version`'s encoding to `out`; a packet that cannot be written (larger
/// than `max`) is an error and nothing is written.
pub fn write(packet: Outgoing, version: Version, out: &mut BytesMut, max: usize) -> Result<(), String> {
    match version {
        Version::V4 => write4(packet, out, max),
        Version::V5 => write5(packet, out, max),
    }
}

fn write4(packet: Outgoing, out: &mut BytesMut, max: usize) -> Result<(), String> {
    let p = match packet {
        Outgoing::ConnAck { session_present, .. } => {
            v4::Packet::ConnAck(v4::ConnAck::new(v4::ConnectReturnCode::Success, session_present))
        }
        Outgoing::Refuse(why) => {
            let code = match why {
                Refusal::Unavailable => v4::ConnectReturnCode::ServiceUnavailable,
                Refusal::NotAuthorized
                | Refusal::WillTopicInvalid
                | Refusal::QosNotSupported
                | Refusal::Malformed
                | Refusal::ProtocolError
                | Refusal::BadAuthMethod => v4::ConnectReturnCode::NotAuthorized,
                Refusal::UnsupportedLevel => v4::ConnectReturnCode::RefusedProtocolVersion,
                Refusal::ClientIdInvalid => v4::ConnectReturnCode::BadClientId,
            };
            v4::Packet::ConnAck(v4::ConnAck::new(code, false))
        }
        Outgoing::Publish { message, pkid, dup } => v4::Packet::Publish(v4::Publish {
            dup,
            qos: to_qos4(message.qos),
            retain: message.retain,
            topic: message.topic,
            pkid,
            payload: message.payload,
        }),
        Outgoing::PubAck(pkid) => v4::Packet::PubAck(v4::PubAck::new(pkid)),
        Outgoing::PubRec(pkid) => v4::Packet::PubRec(v4::PubRec::new(pkid)),
        Outgoing::PubComp(pkid) | Outgoing::PubCompNotFound(pkid) => {
            v4::Packet::PubComp(v4::PubComp::new(pkid))
        }
        Outgoing::SubAck { pkid, grants } => v4::Packet::SubAck(v4::SubAck::new(
            pkid,
            grants
                .into_iter()
                .map(|g| match g {
                    Grant::Qos(q) => v4::SubscribeReasonCode::Success(to_qos4(q)),
                    Grant::Invalid | Grant::Quota | Grant::Unspecified => v4::SubscribeReasonCode::Failure,
                })
                .collect(),
        )),
        Outgoing::UnsubAck { pkid, .. } => v4::Packet::UnsubAck(v4::UnsubAck::new(pkid)),
        Outgoing::PingResp => v4::Packet::PingResp,
        Outgoing::Disconnect(_) | Outgoing::OverQuota { .. } => return Ok(()),
    };
    p.write(out, max).map(|_| ()).map_err(|e| e.to_string())
}

fn write5(packet: Outgoing, out: &mut BytesMut, max: usize) -> Result<(), String> {
    let disconnect = if let Outgoing::Disconnect(reason) = &packet { Some(*reason) } else { None };
    let p = match packet {
        Outgoing::ConnAck { session_present, assigned_id, keep_alive, session_expiry } => {
            v5::Packet::ConnAck(v5::ConnAck {
                session_present,
                code: v5::ConnectReturnCode::Success,
                properties: Some(v5::ConnAckProperties {
                    session_expiry_interval: session_expiry,
                    receive_max: None,
                    max_qos: Some(1),
                    retain_available: Some(1),
                    max_packet_size: u32::try_from(max).ok(),
                    assigned_client_identifier: assigned_id,
                    topic_alias_max: Some(TOPIC_ALIAS_MAX),
                    reason_string: None,
                    user_properties: Vec::new(),
                    wildcard_subscription_available: Some(1),
                    subscription_identifiers_available: Some(0),
                    shared_subscription_available: Some(1),
                    server_keep_alive: keep_alive,
                    response_information: None,
                    server_reference: None,
                    authentication_method: None,
                    authentication_data: None,
                }),
            })
        }
        Outgoing::Refuse(why) => v5::Packet::ConnAck(v5::ConnAck {
            session_present: false,
            code: match why {
                Refusal::Unavailable => v5::ConnectReturnCode::ServerUnavailable,
                Refusal::NotAuthorized => v5::ConnectReturnCode::NotAuthorized,
                Refusal::ClientIdInvalid => v5::ConnectReturnCode::ClientIdentifierNotValid,
                Refusal::WillTopicInvalid => v5::ConnectReturnCode::TopicNameInvalid,
                Refusal::QosNotSupported => v5::ConnectReturnCode::QoSNotSupported,
                Refusal::UnsupportedLevel => v5::ConnectReturnCode::UnsupportedProtocolVersion,
                Refusal::Malformed => v5::ConnectReturnCode::MalformedPacket,
                Refusal::ProtocolError => v5::ConnectReturnCode::ProtocolError,
                Refusal::BadAuthMethod => v5::ConnectReturnCode::BadAuthenticationMethod,
            },
            properties: None,
        }),
        Outgoing::Publish { message, pkid, dup } => v5::Packet::Publish(v5::Publish {
            dup,
            qos: to_qos5(message.qos),
            retain: message.retain,
            topic: Bytes::from(message.topic.into_bytes()),
            pkid,
            payload: message.payload,
            properties: message.properties.map(|p| *p),
        }),
        Outgoing::PubAck(pkid) => v5::Packet::PubAck(v5::PubAck::new(pkid, None)),
        Outgoing::PubRec(pkid) => v5::Packet::PubRec(v5::PubRec::new(pkid, None)),
        Outgoing::PubComp(pkid) => v5::Packet::PubComp(v5::PubComp::new(pkid, None)),
        Outgoing::PubCompNotFound(pkid) => v5::Packet::PubComp(v5::PubComp {
            pkid,
            reason: v5::PubCompReason::PacketIdentifierNotFound,
            properties: None,
        }),
        Outgoing::OverQuota { pkid, exactly_once: false } => {
            v5::Packet::PubAck(v5::PubAck { pkid, reason: v5::PubAckReason::QuotaExceeded, properties: None })
        }
        Outgoing::OverQuota { pkid, exactly_once: true } => {
            v5::Packet::PubRec(v5::PubRec { pkid, reason: v5::PubRecReason::QuotaExceeded, properties: None })
        }
        Outgoing::SubAck { pkid, grants } => v5::Packet::SubAck(v5::SubAck {
            pkid,
            return_codes: grants
                .into_iter()
                .map(|g| match g {
                    Grant::Qos(q) => v5::SubscribeReasonCode::Success(to_qos5(q)),
                    Grant::Invalid => v5::SubscribeReasonCode::TopicFilterInvalid,
                    Grant::Quota => v5::SubscribeReasonCode::QuotaExceeded,
                    Grant::Unspecified => v5::SubscribeReasonCode::Unspecified,
                })
                .collect(),
            properties: None,
        }),
        Outgoing::UnsubAck { pkid, existed } => {
            v5::Packet::UnsubAck(v5::UnsubAck {
                pkid,
                reasons: existed
                    .into_iter()
                    .map(|e| {
                        if e {
                            v5::UnsubAckReason::Success
                        } else {
                            v5::UnsubAckReason::NoSubscriptionExisted
                        }
                    })
                    .collect(),
                properties: None,
            })
        }
        Outgoing::PingResp => v5::Packet::PingResp(v5::PingResp),
        Outgoing::Disconnect(reason) => {
            // With a reason code and no properties, rumqttc 0.25 writes a remaining length of 1
            // and then two bytes (a malformed packet); a Reason String (allowed on DISCONNECT
            // whatever the client asked, MQTT 5 3.14.2.2.3) makes it well-formed.
            let properties = v5::DisconnectProperties {
                session_expiry_interval: None,
                reason_string: Some(format!("{reason:?}")),
                user_properties: Vec::new(),
                server_reference: None,
            };
            v5::Packet::Disconnect(v5::Disconnect { reason_code: reason, properties: Some(properties) })
        }
    };
    let limit = u32::try_from(max).unwrap_or(u32::MAX);
    match (p.write(out, Some(limit)), disconnect) {
        (Ok(_), _) => Ok(()),
        // No Reason String where it would take the DISCONNECT past the client's Maximum Packet
        // Size (MQTT-3.14.2-3): the reason code alone, Remaining Length 1 (MQTT 5 3.14.2.1),
        // written here since rumqttc writes that form malformed.
        (Err(_), Some(reason)) if max >= 3 => {
            out.extend_from_slice(&[0xE0, 0x01, reason as u8]);
            Ok(())
        }
        (Err(e), _) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
