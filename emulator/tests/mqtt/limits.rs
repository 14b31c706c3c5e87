//! The limits a client is held to: AWS IoT Core's on topics, filters and client ids, and the
//! broker's budget for the messages it holds (`--mqtt-max-held-bytes`).

use super::*;

/// AWS IoT Core's limits on what a client names (SPEC `lim-topic`; client ids of at most 128
/// bytes): a topic or filter of at most 256 bytes and 7 slashes (Basic Ingest's `$aws/rules/R/`
/// not counted). At the limits everything goes through; past them a publish closes its client
/// before anything is routed (its will published), a filter is refused in the SUBACK (the
/// others of the SUBSCRIBE granted), and a CONNECT with a longer client id or a will past them
/// is refused.
#[tokio::test]
async fn topics_filters_and_client_ids_are_held_to_aws_iot_core_limits() {
    let emu = emu().await;
    let mut watcher = connect("watcher", emu.mqtt).await;
    watcher.sub("lim/#").await;
    watcher.sub("$aws/rules/#").await;
    watcher.sub("gone/#").await;
    // `n` slashes under lim/, and a topic of `n` bytes.
    let slashes = |n: usize| format!("lim{}", "/l".repeat(n));
    let bytes = |n: usize| format!("lim/{}", "b".repeat(n - 4));
    let ingest = format!("$aws/rules/r/{}", slashes(7));
    let within = [slashes(7), bytes(256), ingest.clone()];
    let publisher = connect("publisher", emu.mqtt).await;
    for topic in &within {
        publisher.publish(topic, "in").await;
        assert_eq!(&watcher.next_on(topic).await.payload[..], b"in", "{topic}");
    }
    for (i, topic) in [slashes(8), bytes(257), format!("{ingest}/l")].iter().enumerate() {
        publish_raw_and_be_closed(emu.mqtt, &mut watcher, &format!("over-{i}"), topic).await;
    }
    // SUBSCRIBE: each filter on its own, granted (QoS 1) or refused (0x80).
    let mut s = connect_with_will(emu.mqtt, "subscriber", 30, "gone/sub", "bye").await;
    let filters =
        [slashes(8), slashes(7), format!("{}/+", slashes(7)), format!("{}/#", slashes(6)), bytes(257)];
    let mut body = vec![0, 7];
    for f in &filters {
        body.extend(mqtt_str(f));
        body.push(1);
    }
    s.write_all(&packet(0x82, &body)).await.unwrap();
    let mut ack = [0; 9];
    tokio::time::timeout(WAIT, s.read_exact(&mut ack)).await.unwrap().unwrap();
    assert_eq!(ack, [0x90, 7, 0, 7, 0x80, 1, 0x80, 1, 0x80]);
    // CONNECT: a client id of 128 bytes is taken, of 129 refused (3.1.1: identifier rejected).
    let (_s, ack) = connect_raw_with_will(emu.mqtt, &"c".repeat(128), 30, "gone/c", "x").await;
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let (mut s, ack) = connect_raw_with_will(emu.mqtt, &"c".repeat(129), 30, "gone/c", "x").await;
    assert_eq!(ack, [0x20, 2, 0, 2]);
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest)).await.expect("still open").unwrap();
    // A will past the limits is refused (3.1.1 has no code of its own for it: not authorized),
    // so it is never silently dropped at the close.
    let (_s, ack) = connect_raw_with_will(emu.mqtt, "willful", 30, &slashes(8), "x").await;
    assert_eq!(ack, [0x20, 2, 0, 5]);
    // Nothing past the limits reached the watcher (its own round trip comes after all of it).
    let seen: Vec<String> = watcher.drain().await.into_iter().map(|p| p.topic).collect();
    assert!(seen.is_empty(), "{seen:?}");
    emu.server.shutdown().await.unwrap();
}

/// A QoS 1 PUBLISH of `payload` to `topic`, packet id `pkid` (`v5`: with an empty property list).
fn publish_qos1(topic: &str, pkid: u16, payload: &[u8], v5: bool) -> Vec<u8> {
    let mut body = mqtt_str(topic);
    body.extend_from_slice(&pkid.to_be_bytes());
    if v5 {
        body.push(0);
    }
    body.extend_from_slice(payload);
    packet(0x32, &body)
}

/// `--mqtt-max-held-bytes`: the messages the broker holds for sessions (here, an offline
/// session's queue) are bounded. A 3.1.1 client whose publish would pass the budget is closed
/// before anything of it is routed; an MQTT 5 client is told in its PUBACK (0x97, quota
/// exceeded) and stays connected. Once the session takes its messages, publishes go through.
#[tokio::test]
async fn a_broker_past_its_budget_for_held_messages_takes_no_publish() {
    const LIMIT: usize = 64 * 1024;
    let config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_addr: Some("127.0.0.1:0".parse().unwrap()),
        clock: ClockMode::Manual,
        mqtt_max_held_bytes: LIMIT,
        ..Config::default()
    };
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let addr = server.mqtt_addr.unwrap();
    let emu =
        Emu { mqtt: addr, url: format!("http://{}", server.addr), server, http: reqwest::Client::new() };
    let o = offline_session(addr, "hoarder", "h/#").await;

    // Copies of 10 KiB and their topic and bookkeeping (under 700 bytes): 6 fit in 64 KiB.
    let payload = vec![b'p'; 10 * 1024];
    let mut watcher = connect("watcher", addr).await;
    watcher.sub("gone/#").await;
    let mut s = connect_with_will(addr, "pub4", 30, "gone/pub4", "bye").await;
    let mut acked = 0u16;
    loop {
        s.write_all(&publish_qos1(&format!("h/{acked}"), acked + 1, &payload, false)).await.unwrap();
        let mut ack = [0; 4];
        match tokio::time::timeout(WAIT, s.read_exact(&mut ack)).await.expect("neither acked nor closed") {
            Ok(_) => assert_eq!(ack, [0x40, 2, 0, u8::try_from(acked + 1).unwrap()]),
            Err(_) => break,
        }
        acked += 1;
        assert!(acked <= 6, "more than 6 copies of 10 KiB taken in 64 KiB");
    }
    assert_eq!(acked, 6);
    assert_eq!(&watcher.next_on("gone/pub4").await.payload[..], b"bye");
    // `/_emulator/stats` shows what is held: the 6 copies and nothing of the refused publish.
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await["mqtt"].clone();
    let held = stats["heldBytes"].as_u64().unwrap();
    assert!((6 * 10 * 1024..=64 * 1024).contains(&held), "{stats}");
    assert_eq!(stats["maxHeldBytes"], 64 * 1024, "{stats}");
    assert_eq!(stats["droppedCopies"], 0, "{stats}");
    assert_eq!((&stats["subscriptions"], &stats["retained"]), (&json!(2), &json!(0)), "{stats}");

    // MQTT 5: refused in the PUBACK, and the connection stays; at QoS 0, which has no
    // acknowledgement, the client is told in a DISCONNECT.
    let connect5 = |client: &'static str| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut connect = mqtt_str("MQTT");
        connect.extend_from_slice(&[5, 0x02, 0, 30, 0]);
        connect.extend_from_slice(&mqtt_str(client));
        s.write_all(&packet(0x10, &connect)).await.unwrap();
        assert_eq!(read_packet(&mut s).await.0, 0x20);
        s
    };
    let mut q0 = connect5("pub5-q0").await;
    let mut body = mqtt_str("h/refused");
    body.push(0);
    body.extend_from_slice(&payload);
    q0.write_all(&packet(0x30, &body)).await.unwrap();
    let (first, body) = read_packet(&mut q0).await;
    assert_eq!((first, body.first()), (0xE0, Some(&0x97)));
    let mut s = connect5("pub5").await;
    s.write_all(&publish_qos1("h/refused", 9, &payload, true)).await.unwrap();
    let (first, body) = read_packet(&mut s).await;
    assert_eq!((first, &body[..3]), (0x40, &[0, 9, 0x97][..]));
    s.write_all(&[0xC0, 0]).await.unwrap();
    assert_eq!(read_packet(&mut s).await, (0xD0, Vec::new()));

    // The session takes its 6 messages (rumqttc acknowledges them, before its next request):
    // there is room again, and the refused publishes (h/6, h/refused) were never routed.
    let mut hoarder = connect_with(o).await;
    for i in 0..6 {
        assert_eq!(hoarder.next_on(&format!("h/{i}")).await.payload.len(), payload.len());
    }
    let routed = |got: Vec<rumqttc::Publish>| -> Vec<String> {
        got.into_iter().map(|p| p.topic).filter(|t| t.starts_with("h/")).collect()
    };
    assert_eq!(routed(hoarder.drain().await), Vec::<String>::new());
    s.write_all(&publish_qos1("h/again", 10, &payload, true)).await.unwrap();
    let (first, body) = read_packet(&mut s).await;
    assert_eq!((first, &body[..2]), (0x40, &[0, 10][..]));
    assert!(body.get(2).is_none_or(|r| *r == 0), "{body:?}");
    assert_eq!(hoarder.next_on("h/again").await.payload.len(), payload.len());
    assert_eq!(routed(hoarder.drain().await), Vec::<String>::new());
    // Everything delivered and acknowledged: nothing held.
    let stats = emu.ctl("GET", "/_emulator/stats", json!({})).await["mqtt"].clone();
    assert_eq!(stats["heldBytes"], 0, "{stats}");
    emu.server.shutdown().await.unwrap();
}
