//! Bridge mode (`--mqtt-broker`): the emulator as an MQTT 5 client of a stand-in broker
//! ([`Peer`]): its acknowledgements, its persistent session, its stop.

use super::*;

/// The broker's side of one MQTT 5 connection from the bridge (a stand-in broker that does
/// exactly what a test needs).
struct Peer {
    s: TcpStream,
    buf: bytes::BytesMut,
}

impl Peer {
    /// Accepts the bridge's connection and answers its CONNECT.
    async fn accept(l: &tokio::net::TcpListener) -> Peer {
        Peer::accept_session(l, false, None).await.0
    }

    /// Accepts the bridge's connection and answers its CONNECT, saying whether a session of
    /// its client id was present, and with the broker's receive maximum if given; returns the
    /// CONNECT too.
    async fn accept_session(
        l: &tokio::net::TcpListener,
        session_present: bool,
        receive_max: Option<u16>,
    ) -> (Peer, rumqttc::v5::mqttbytes::v5::Connect) {
        use rumqttc::v5::mqttbytes::v5::{ConnAck, ConnAckProperties, ConnectReturnCode};
        let (s, _) = tokio::time::timeout(WAIT, l.accept()).await.expect("no connection").unwrap();
        let mut peer = Peer { s, buf: bytes::BytesMut::new() };
        let Some(Packet5::Connect(connect, ..)) = peer.read(WAIT).await else { panic!("no CONNECT") };
        let properties = receive_max.map(|r| ConnAckProperties {
            session_expiry_interval: None,
            receive_max: Some(r),
            max_qos: None,
            retain_available: None,
            max_packet_size: None,
            assigned_client_identifier: None,
            topic_alias_max: None,
            reason_string: None,
            user_properties: Vec::new(),
            wildcard_subscription_available: None,
            subscription_identifiers_available: None,
            shared_subscription_available: None,
            server_keep_alive: None,
            response_information: None,
            server_reference: None,
            authentication_method: None,
            authentication_data: None,
        });
        let connack = ConnAck { session_present, code: ConnectReturnCode::Success, properties };
        peer.write(Packet5::ConnAck(connack)).await;
        (peer, connect)
    }

    /// The next packet, or `None` when the connection closes or nothing comes within `wait`.
    async fn read(&mut self, wait: Duration) -> Option<Packet5> {
        use rumqttc::v5::mqttbytes::v5::{Disconnect, DisconnectReasonCode};
        loop {
            // A DISCONNECT without a body means a normal disconnection (MQTT 5 §3.14.2.1), but
            // rumqttc's reader asks every packet but the pings for one.
            if self.buf.starts_with(&[0xe0, 0]) {
                let _ = self.buf.split_to(2);
                let normal = DisconnectReasonCode::NormalDisconnection;
                return Some(Packet5::Disconnect(Disconnect { reason_code: normal, properties: None }));
            }
            match Packet5::read(&mut self.buf, None) {
                Ok(p) => return Some(p),
                Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(e) => panic!("the bridge sent a malformed packet: {e}"),
            }
            match tokio::time::timeout(wait, self.s.read_buf(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    async fn write(&mut self, p: Packet5) {
        assert!(self.try_write(p).await, "the bridge closed the connection");
    }

    /// Writes `p`; false if the bridge has closed the connection.
    async fn try_write(&mut self, p: Packet5) -> bool {
        let mut out = bytes::BytesMut::new();
        p.write(&mut out, None).unwrap();
        self.s.write_all(&out).await.is_ok()
    }

    /// Reads until `wait` passes with nothing new, answering SUBSCRIBE and QoS 1 PUBLISH as a
    /// broker does; returns everything read.
    async fn serve(&mut self, wait: Duration) -> Vec<Packet5> {
        self.serve_acking(wait, true).await
    }

    /// The same; QoS 1 PUBLISHes are acknowledged only if `ack_publishes`. As a broker does, it
    /// stops at a DISCONNECT, and closes the connection then or when a write fails (mosquitto
    /// reads nothing more of a connection it cannot write to).
    async fn serve_acking(&mut self, wait: Duration, ack_publishes: bool) -> Vec<Packet5> {
        use rumqttc::v5::mqttbytes::v5::{PubAck, PubAckReason, SubAck, SubscribeReasonCode};
        let mut got = Vec::new();
        while let Some(p) = self.read(wait).await {
            let written = match &p {
                Packet5::Subscribe(s) => {
                    let return_codes = vec![SubscribeReasonCode::Success(Q5::AtLeastOnce); s.filters.len()];
                    self.try_write(Packet5::SubAck(SubAck { pkid: s.pkid, return_codes, properties: None }))
                        .await
                }
                Packet5::Publish(p) if p.qos == Q5::AtLeastOnce && ack_publishes => {
                    let ack = PubAck { pkid: p.pkid, reason: PubAckReason::Success, properties: None };
                    self.try_write(Packet5::PubAck(ack)).await
                }
                _ => true,
            };
            let end = matches!(p, Packet5::Disconnect(..));
            got.push(p);
            if end || !written {
                let _ = self.s.shutdown().await;
                break;
            }
        }
        got
    }

    /// Serves (as [`Peer::serve`]) on a task of its own, to the bridge's DISCONNECT: the broker
    /// while the emulator stops.
    fn serving(mut self) -> tokio::task::JoinHandle<Vec<Packet5>> {
        tokio::spawn(async move { self.serve(WAIT).await })
    }
}

/// Whether the bridge disconnected, in what it sent (`got`).
fn disconnected(got: &[Packet5]) -> bool {
    got.iter().any(|p| matches!(p, Packet5::Disconnect(..)))
}

fn request5(pkid: u16) -> Packet5 {
    let mut p = rumqttc::v5::mqttbytes::v5::Publish::new(
        "$aws/things/bridged/jobs/get",
        Q5::AtLeastOnce,
        format!(r#"{{"clientToken":"r{pkid}"}}"#),
        None,
    );
    p.pkid = pkid;
    Packet5::Publish(p)
}

/// An update of thing `bridged`'s execution of `job1` to IN_PROGRESS, client token `u{pkid}`,
/// marked DUP if `dup`.
fn update5(pkid: u16, dup: bool) -> Packet5 {
    let mut p = rumqttc::v5::mqttbytes::v5::Publish::new(
        "$aws/things/bridged/jobs/job1/update",
        Q5::AtLeastOnce,
        format!(r#"{{"status":"IN_PROGRESS","clientToken":"u{pkid}"}}"#),
        None,
    );
    p.pkid = pkid;
    p.dup = dup;
    Packet5::Publish(p)
}

/// A listener for the bridge to connect to, played by [`Peer`], and an emulator's configuration
/// bridged to it (no embedded broker, the manual clock).
async fn fake_broker() -> (tokio::net::TcpListener, Config) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: None,
        mqtt_broker: Some(format!("mqtt://127.0.0.1:{port}").parse().unwrap()),
        clock: ClockMode::Manual,
        ..Config::default()
    };
    (listener, config)
}

/// An emulator started with `config` (a [`fake_broker`]'s), and job `job1` for thing `bridged`.
async fn bridged_with_job(config: Config) -> Emu {
    // Only for the `Emu` helpers; the bridge serves the requests.
    let config = Config { mqtt_addr: Some("127.0.0.1:0".parse().unwrap()), ..config };
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let emu = Emu {
        mqtt: server.mqtt_addr.unwrap(),
        url: format!("http://{}", server.addr),
        server,
        http: reqwest::Client::new(),
    };
    emu.create_job("job1", &["bridged"]).await;
    emu
}

/// The packet ids of the PUBACKs in `got`, in order.
fn acks(got: &[Packet5]) -> Vec<u16> {
    got.iter()
        .filter_map(|p| match p {
            Packet5::PubAck(a) => Some(a.pkid),
            _ => None,
        })
        .collect()
}

/// `request5(pkid)` was answered (accepted, with its client token) and acknowledged, and it
/// alone, in what the bridge sent (`got`).
fn assert_answered_and_acknowledged(got: &[Packet5], pkid: u16) {
    assert_eq!(acks(got), [pkid], "{got:?}");
    let answered = got.iter().any(|p| match p {
        Packet5::Publish(p) => {
            p.topic == "$aws/things/bridged/jobs/get/accepted"
                && serde_json::from_slice::<Value>(&p.payload).unwrap()["clientToken"] == format!("r{pkid}")
        }
        _ => false,
    });
    assert!(answered, "{got:?}");
}

/// Bridge mode: a request that came on a connection since lost is answered, but its
/// acknowledgement does not go out on the next connection, where its packet id means another
/// message or none; requests on the new connection are acknowledged as usual.
#[tokio::test]
async fn the_bridge_acknowledges_a_request_only_on_the_connection_it_came_on() {
    let (listener, config) = fake_broker().await;
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let mut first = Peer::accept(&listener).await;
    let got = first.serve(Duration::from_millis(300)).await;
    assert!(got.iter().any(|p| matches!(p, Packet5::Subscribe(_))), "{got:?}");
    // As many requests as the bridge takes unacknowledged, then the connection is gone.
    for pkid in 1..=256 {
        first.write(request5(pkid)).await;
    }
    drop(first);
    let mut second = Peer::accept(&listener).await;
    let got = second.serve(Duration::from_millis(1500)).await;
    let stale = acks(&got);
    assert!(stale.is_empty(), "acknowledgements of the lost connection's requests: {stale:?}");
    // A request on this connection is answered and acknowledged with its own packet id.
    second.write(request5(7)).await;
    let got = second.serve(Duration::from_millis(500)).await;
    assert_answered_and_acknowledged(&got, 7);
    let serving = second.serving();
    server.shutdown().await.unwrap();
    assert!(disconnected(&serving.await.unwrap()));
}

/// Bridge mode with `--mqtt-broker-session`: the bridge asks the broker for a persistent
/// session (its fixed client id, `clean_start = false`, the session expiry) and answers the
/// requests the broker held for it as soon as the session resumes; without one it asks for a
/// clean session under a client id of its process, with no expiry.
#[tokio::test]
async fn the_bridge_resumes_a_persistent_session_and_answers_what_the_broker_held() {
    use iot_jobs_emulator::mqtt::bridge::Session;
    let (listener, config) = fake_broker().await;
    let bridged = |mqtt_broker_session: Option<Session>| Config { mqtt_broker_session, ..config.clone() };
    let clean = iot_jobs_emulator::start(bridged(None)).await.unwrap();
    let (peer, connect) = Peer::accept_session(&listener, false, None).await;
    assert!(connect.clean_start, "{connect:?}");
    assert!(connect.client_id.starts_with("iot-jobs-emulator-"), "{connect:?}");
    assert_eq!(connect.properties.and_then(|p| p.session_expiry_interval), None);
    // (Stopped before it has read the CONNACK, the bridge closes without a DISCONNECT.)
    let _serving = peer.serving();
    clean.shutdown().await.unwrap();

    let session = Session::new("emulator-under-test", 120).unwrap();
    let server = iot_jobs_emulator::start(bridged(Some(session))).await.unwrap();
    let (mut peer, connect) = Peer::accept_session(&listener, true, None).await;
    assert!(!connect.clean_start, "{connect:?}");
    assert_eq!(connect.client_id, "emulator-under-test");
    assert_eq!(connect.properties.and_then(|p| p.session_expiry_interval), Some(120));
    // The broker delivers what it held right after the CONNACK, before any SUBACK.
    peer.write(request5(3)).await;
    let got = peer.serve(Duration::from_millis(500)).await;
    assert_answered_and_acknowledged(&got, 3);
    let serving = peer.serving();
    server.shutdown().await.unwrap();
    assert!(disconnected(&serving.await.unwrap()));
}

/// Bridge mode with a persistent session: when the session resumes, the broker delivers again
/// (DUP) the requests it has not seen acknowledged; those the bridge had already received are
/// acknowledged and not carried out a second time, so each update counts once.
#[tokio::test]
async fn a_resumed_session_carries_out_a_request_delivered_again_once() {
    use std::collections::BTreeSet;
    let (listener, config) = fake_broker().await;
    let config = Config {
        mqtt_broker_session: Some(iot_jobs_emulator::mqtt::bridge::Session::new("once", 60).unwrap()),
        ..config
    };
    let emu = bridged_with_job(config).await;
    const N: u16 = 64;
    // A broker that takes 8 unacknowledged messages and acknowledges none of the answers: the
    // bridge's acknowledgements of the requests queue behind its 9th answer.
    let (mut first, _) = Peer::accept_session(&listener, false, Some(8)).await;
    first.serve(Duration::from_millis(300)).await;
    for pkid in 1..=N {
        first.write(update5(pkid, false)).await;
    }
    let got = first.serve_acking(Duration::from_millis(500), false).await;
    let acked: BTreeSet<u16> = acks(&got).into_iter().collect();
    drop(first);
    // The session resumes; the broker delivers again what it did not see acknowledged.
    let (mut second, _) = Peer::accept_session(&listener, true, None).await;
    let again: Vec<u16> = (1..=N).filter(|p| !acked.contains(p)).collect();
    assert!(again.len() > N as usize / 2, "acknowledged on the first connection: {acked:?}");
    for &pkid in &again {
        second.write(update5(pkid, true)).await;
    }
    let got = second.serve(Duration::from_millis(1500)).await;
    let acked_again: BTreeSet<u16> = acks(&got).into_iter().collect();
    assert_eq!(acked_again, again.iter().copied().collect(), "{got:?}");
    // Version 1 when queued, one more per update carried out: N updates, each once.
    let execution = emu.ctl("GET", "/things/bridged/jobs/job1", json!({})).await;
    assert_eq!(execution["execution"]["versionNumber"], 1 + u64::from(N), "{execution}");
    let serving = second.serving();
    emu.server.shutdown().await.unwrap();
    assert!(disconnected(&serving.await.unwrap()));
}

/// Bridge mode: a stopping emulator carries out and acknowledges every request its bridge has
/// taken before it disconnects, and leaves the rest neither carried out nor acknowledged, so a
/// persistent session's broker can deliver those again to the next emulator and none runs twice.
/// Here the broker is behind: it reads nothing for a second after the stop and goes on
/// delivering requests meanwhile. The bridge closes the connection only after the broker has,
/// so the broker reads every acknowledgement. (A bridge that closed at once, with requests
/// unread, reset the connection: mosquitto met the reset at its next PUBACK, read nothing more,
/// and delivered the requests whose acknowledgements it had not read, already carried out, to
/// the next emulator.)
#[tokio::test]
async fn a_stopping_bridge_acknowledges_exactly_the_requests_it_carried_out() {
    use std::collections::BTreeSet;
    let (dir, path) = state_path("bridge-stop");
    let (listener, config) = fake_broker().await;
    let config = Config { state_file: Some(path.clone()), ..config };
    let emu = bridged_with_job(config).await;
    let mut peer = Peer::accept(&listener).await;
    peer.serve(Duration::from_millis(300)).await;
    // One thing's updates, carried out one after another (each synced to the journal); the
    // stop comes while they are, and more updates come after it, within the receive maximum.
    let mut pkid = 0;
    while pkid < 128 {
        pkid += 1;
        peer.write(update5(pkid, false)).await;
    }
    let stopping = tokio::spawn(emu.server.shutdown());
    let busy = tokio::time::Instant::now() + Duration::from_secs(1);
    while tokio::time::Instant::now() < busy && pkid < 228 {
        pkid += 1;
        if !peer.try_write(update5(pkid, false)).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = peer.serve(WAIT).await;
    stopping.await.unwrap().unwrap();
    assert!(disconnected(&got), "no DISCONNECT: {got:?}");
    let acked: BTreeSet<u16> = acks(&got).into_iter().collect();
    let answered: BTreeSet<u16> = got
        .iter()
        .filter_map(|p| match p {
            Packet5::Publish(p) if p.topic == "$aws/things/bridged/jobs/job1/update/accepted" => {
                let token = serde_json::from_slice::<Value>(&p.payload).unwrap()["clientToken"].clone();
                token.as_str().and_then(|t| t.strip_prefix('u')).map(|n| n.parse().unwrap())
            }
            _ => None,
        })
        .collect();
    assert_eq!(answered, acked);
    // What the state file keeps: version 1 when queued, one more per update carried out.
    let saved = recovered(&path);
    let carried_out = saved_execution(&saved, "job1", "bridged").version().get().saturating_sub(1);
    assert_eq!(carried_out, acked.len() as u64, "acknowledged: {} of {pkid}", acked.len());
    assert!(!acked.is_empty(), "{got:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The client token of a bridge's answer on `topic`, if `p` is one.
fn token_on(p: &Packet5, topic: &str) -> Option<String> {
    match p {
        Packet5::Publish(p) if p.topic == topic => {
            let answer: Value = serde_json::from_slice(&p.payload).unwrap();
            answer["clientToken"].as_str().map(str::to_owned)
        }
        _ => None,
    }
}

/// Bridge mode with injected faults: a delayed answer goes out no sooner than asked, after the
/// request's acknowledgement, and the answer to a later request of the same thing waits behind
/// it; a lost reply is acknowledged and never published, and its update is made.
#[tokio::test]
async fn the_bridge_answers_late_or_not_at_all_as_a_fault_asks() {
    let (listener, config) = fake_broker().await;
    let emu = bridged_with_job(config).await;
    let mut peer = Peer::accept(&listener).await;
    peer.serve(Duration::from_millis(300)).await;
    let fault = json!({"delayMs": 400, "operations": ["GetPendingJobExecutions"], "count": 1});
    emu.ctl("POST", "/_emulator/faults", fault).await;
    let asked = tokio::time::Instant::now();
    peer.write(request5(1)).await;
    peer.write(request5(2)).await;
    let (mut got, mut answers) = (Vec::new(), Vec::new());
    while answers.len() < 2 {
        let p = peer.read(WAIT).await.expect("no answer");
        if let Some(token) = token_on(&p, "$aws/things/bridged/jobs/get/accepted") {
            answers.push((token, asked.elapsed()));
        }
        got.push(p);
    }
    assert_eq!(acks(&got), [1, 2], "acknowledged before the delayed answer: {got:?}");
    let [(first, late), (second, _)] = &answers[..] else { panic!("{answers:?}") };
    assert_eq!((first.as_str(), second.as_str()), ("r1", "r2"), "in the order of the requests");
    assert!(*late >= Duration::from_millis(400), "{late:?}");

    let fault = json!({"drop": "reply", "operations": ["UpdateJobExecution"], "thing": "bridged"});
    emu.ctl("POST", "/_emulator/faults", fault).await;
    peer.write(update5(3, false)).await;
    peer.write(request5(4)).await;
    let got = peer.serve(Duration::from_millis(500)).await;
    assert_eq!(acks(&got), [3, 4], "{got:?}");
    let got_on = |topic: &str| got.iter().filter_map(|p| token_on(p, topic)).collect::<Vec<_>>();
    assert_eq!(got_on("$aws/things/bridged/jobs/get/accepted"), ["r4"], "{got:?}");
    let update = "$aws/things/bridged/jobs/job1/update";
    assert!(
        got_on(&format!("{update}/accepted")).is_empty() && got_on(&format!("{update}/rejected")).is_empty()
    );
    let execution = emu.ctl("GET", "/things/bridged/jobs/job1", json!({})).await;
    assert_eq!(execution["execution"]["status"], "IN_PROGRESS", "{execution}");
    let serving = peer.serving();
    emu.server.shutdown().await.unwrap();
    assert!(disconnected(&serving.await.unwrap()));
}
