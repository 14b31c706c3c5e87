//! The connection task, driven over in-memory streams (tokio's paused clock where time
//! matters).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use rumqttc::mqttbytes::{self as m4, v4};
use rumqttc::v5::mqttbytes::QoS as m5q;
use tokio::io::AsyncWriteExt;

/// A client with no keep-alive that subscribes and then reads nothing: its connection
/// stops taking messages once [`OUT_HIGH`] bytes wait for it, and is closed when it has
/// taken nothing for [`WRITE_STALL`], not before (the clock is tokio's paused one).
#[tokio::test(start_paused = true)]
async fn a_client_that_reads_nothing_is_closed_after_the_write_stall() {
    let broker = Arc::new(Broker::default());
    let (mut client, task, _stop_tx) = serve(Arc::clone(&broker));
    // CONNECT (3.1.1, clean, keep-alive 0, client id "stuck"), SUBSCRIBE bulk/# at QoS 0.
    let connect = [0x10, 17, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 0, 0, 5, b's', b't', b'u', b'c', b'k'];
    let subscribe = [0x82, 11, 0, 1, 0, 6, b'b', b'u', b'l', b'k', b'/', b'#', 0];
    client.write_all(&connect).await.unwrap();
    client.write_all(&subscribe).await.unwrap();
    let mut acks = [0; 9];
    client.read_exact(&mut acks).await.unwrap();
    assert_eq!(acks, [0x20, 2, 0, 0, 0x90, 3, 0, 1, 0]);

    let start = tokio::time::Instant::now();
    let message = |i: u8| Message::new("bulk/x", vec![i; 100 * 1024], 0);
    for i in 0..8 {
        broker.publish(&message(i));
    }
    let end = task.await.unwrap();
    assert_eq!(end, Err(format!("the client took nothing for {} s", WRITE_STALL.as_secs())));
    let waited = start.elapsed();
    assert!(waited >= WRITE_STALL && waited < WRITE_STALL + Duration::from_secs(1), "{waited:?}");
    // Its session went with the connection (clean session).
    assert_eq!(broker.sessions(), 0);
    drop(client);
}

/// A connection task of `broker` over an in-memory stream (64 KiB each way), the client's
/// end of it, and the emulator's stop switch.
fn serve(
    broker: Arc<Broker>,
) -> (tokio::io::DuplexStream, tokio::task::JoinHandle<Result<(), String>>, watch::Sender<bool>) {
    let requests: Requests = Arc::new(|_, _| Box::pin(async { replies::Replies::default() }));
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (stop_tx, stop) = watch::channel(false);
    (client, tokio::spawn(connection(Box::new(server), broker, requests, stop)), stop_tx)
}

/// A 3.1.1 CONNECT (keep-alive 0) for client `id`, and a SUBSCRIBE (packet id 1) to
/// `filters` at QoS 1.
fn connect_and_subscribe(id: &str, filters: &[&str]) -> Vec<u8> {
    let mut out = connect_packet(id, true);
    out.extend(subscribe_packet(filters));
    out
}

/// A 3.1.1 CONNECT (keep-alive 0) for client `id`, of a clean session or not.
fn connect_packet(id: &str, clean: bool) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, if clean { 2 } else { 0 }, 0, 0];
    body.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
    body.extend_from_slice(id.as_bytes());
    frame(0x10, &body)
}

/// A packet: `header`, the remaining length (a variable byte integer), `body`.
fn frame(header: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut n = body.len();
    while n >= 128 {
        out.push(u8::try_from(n % 128).unwrap() | 0x80);
        n /= 128;
    }
    out.push(u8::try_from(n).unwrap());
    out.extend_from_slice(body);
    out
}

/// A SUBSCRIBE (packet id 1) to `filters` at QoS 1.
fn subscribe_packet(filters: &[&str]) -> Vec<u8> {
    let mut body = vec![0, 1];
    for f in filters {
        body.extend_from_slice(&u16::try_from(f.len()).unwrap().to_be_bytes());
        body.extend_from_slice(f.as_bytes());
        body.push(1);
    }
    frame(0x82, &body)
}

fn connect(persistent: bool) -> Connect {
    Connect {
        version: Version::V4,
        client_id: "c".into(),
        clean: !persistent,
        persistent,
        keep_alive: 0,
        will: None,
        receive_max: None,
        max_packet: None,
        session_expiry: None,
        will_exactly_once: false,
        will_delay: 0,
        auth_method: None,
    }
}

/// A resumed session's backlog (1,000 QoS 1 messages of 100 KiB: 100 MiB) is written as
/// the client takes it: at no point do more than [`OUT_HIGH`] bytes and one packet wait in
/// memory, and the client gets every message, in order, flagged as a redelivery. (The
/// connection once wrote the whole backlog into its buffer at once.)
#[tokio::test]
async fn a_backlog_is_written_as_the_client_takes_it() {
    let (mut client, server) = tokio::io::duplex(64 * 1024);
    let mut conn = Conn::new(Box::new(server), &connect(true), "c".into(), 1);
    let bound = OUT_HIGH + MAX_PACKET;
    for i in 0..1_000 {
        let redelivery = Message { sent: true, ..Message::new(format!("box/{i}"), vec![7; 100 * 1024], 1) };
        conn.send(redelivery).unwrap();
        assert!(conn.out.buf.len() <= bound, "{} bytes after {i}", conn.out.buf.len());
    }
    assert!(conn.waiting.len() >= 990, "{}", conn.waiting.len());
    let (mut got, mut bytes) = (Vec::new(), BytesMut::new());
    while got.len() < 1_000 {
        conn.out.write_now().unwrap();
        conn.feed();
        assert!(conn.out.buf.len() <= bound, "{} bytes after {} taken", conn.out.buf.len(), got.len());
        client.read_buf(&mut bytes).await.unwrap();
        while let Ok(p) = v4::Packet::read(&mut bytes, 1 << 20) {
            let v4::Packet::Publish(p) = p else { panic!("{p:?}") };
            assert!(p.dup && p.payload.len() == 100 * 1024, "{p:?}");
            got.push(p.topic);
        }
    }
    assert_eq!(got, (0..1_000).map(|i| format!("box/{i}")).collect::<Vec<_>>());
    assert_eq!((conn.waiting.len(), conn.inflight.len(), conn.out.buf.len()), (0, 1_000, 0));
}

/// A client that reads everything and acknowledges nothing, once a QoS 1 message is held
/// back behind its 1,000 in flight, is closed [`WRITE_STALL`] later: not at once, however
/// long it had been idle before, and not never. (It was once held open for ever, with its
/// messages.)
#[tokio::test(start_paused = true)]
async fn a_client_that_acknowledges_nothing_is_closed_after_the_write_stall() {
    let broker = Arc::new(Broker::default());
    let (mut client, task, _stop_tx) = serve(Arc::clone(&broker));
    client.write_all(&connect_and_subscribe("mute", &["box/#"])).await.unwrap();
    let mut acks = [0; 9];
    client.read_exact(&mut acks).await.unwrap();
    assert_eq!(acks, [0x20, 2, 0, 0, 0x90, 3, 0, 1, 1]);
    for i in 0..1_000 {
        broker.publish(&Message::new(format!("box/{i}"), "x", 1));
    }
    // Reads and discards everything, acknowledging nothing.
    let reader = count_publishes(client);
    // 1,000 in flight and nothing held back: nothing waits, so nothing is late.
    tokio::time::sleep(WRITE_STALL * 2).await;
    assert!(!task.is_finished());
    let start = tokio::time::Instant::now();
    broker.publish(&Message::new("box/1000", "x", 1));
    let end = tokio::time::timeout(WRITE_STALL * 2, task).await.expect("still open").unwrap();
    assert_eq!(end, Err(format!("the client took nothing for {} s", WRITE_STALL.as_secs())));
    assert_eq!(start.elapsed(), WRITE_STALL);
    // It was sent exactly its 1,000 in flight.
    assert_eq!(reader.await.unwrap(), 1_000);
}

/// The same over MQTT 5 (a receive maximum of 10): the client is told why it is closed, after
/// what was written for it (DISCONNECT 0x97, quota exceeded; it once got no DISCONNECT).
#[tokio::test(start_paused = true)]
async fn an_mqtt5_client_that_acknowledges_nothing_is_told_why_it_is_closed() {
    let broker = Arc::new(Broker::default());
    let (mut client, task, _stop_tx) = serve(Arc::clone(&broker));
    // CONNECT (5, clean, keep-alive 0, Receive Maximum 10, client id "ackn"), SUBSCRIBE q/# QoS 1.
    let mut packets = frame(0x10, b"\x00\x04MQTT\x05\x02\x00\x00\x03\x21\x00\x0a\x00\x04ackn");
    packets.extend(frame(0x82, b"\x00\x01\x00\x00\x03q/#\x01"));
    client.write_all(&packets).await.unwrap();
    // Subscribed (the task runs while this one sleeps).
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(broker.stats()["subscriptions"], 1);
    for i in 0..11 {
        broker.publish(&Message::new(format!("q/{i}"), "x", 1));
    }
    let read = tokio::spawn(async move {
        let mut bytes = Vec::new();
        let _ = client.read_to_end(&mut bytes).await;
        bytes
    });
    let end = tokio::time::timeout(WRITE_STALL * 2, task).await.expect("still open").unwrap();
    assert_eq!(end, Err(format!("the client took nothing for {} s", WRITE_STALL.as_secs())));
    let bytes = read.await.unwrap();
    let at = bytes.windows(3).rposition(|w| w[0] == 0xE0 && w[2] == 0x97).expect("a DISCONNECT");
    assert!(bytes.len() - at < 128, "the DISCONNECT is the last packet");
}

/// A client further behind than the broker's queue for it is let go and closed at once:
/// one that reads nothing (once 64 KiB wait for it, the 1,024 messages its queue takes here;
/// by default [`Waiting`]'s 20,000), and one that reads everything and acknowledges nothing
/// (1,000 in flight, 1,000 held back, then its queue).
#[tokio::test]
async fn a_client_further_behind_than_its_queue_is_closed_as_too_slow() {
    let broker = Arc::new(Broker::default().with_waiting_limits(1_024, usize::MAX));
    let (mut deaf, deaf_task, _stop_deaf) = serve(Arc::clone(&broker));
    let mut packets = connect_packet("deaf", true);
    packets.extend(subscribe_packet(&["q0/#"]));
    deaf.write_all(&packets).await.unwrap();
    let mut acks = [0; 9];
    deaf.read_exact(&mut acks).await.unwrap();
    for i in 0..1_200 {
        broker.publish(&Message::new(format!("q0/{i}"), vec![0; 1024], 0));
        tokio::task::yield_now().await;
    }
    let end = tokio::time::timeout(Duration::from_secs(10), deaf_task).await.expect("still open");
    assert_eq!(end.unwrap(), Err("closed as too slow to take its messages".to_owned()));

    let (mut mute, mute_task, _stop_mute) = serve(Arc::clone(&broker));
    mute.write_all(&connect_and_subscribe("mute", &["q1/#"])).await.unwrap();
    mute.read_exact(&mut acks).await.unwrap();
    let reader = count_publishes(mute);
    for i in 0..3_100 {
        broker.publish(&Message::new(format!("q1/{i}"), "x", 1));
        tokio::task::yield_now().await;
    }
    let end = tokio::time::timeout(Duration::from_secs(10), mute_task).await.expect("still open");
    assert_eq!(end.unwrap(), Err("closed as too slow to take its messages".to_owned()));
    assert_eq!(reader.await.unwrap(), 1_000);
}

/// A queue past its bytes is past its limit too: a client that reads nothing is closed once
/// 64 KiB wait for it and 256 KiB more in its queue, whatever the count; an MQTT 5 client is
/// told why (DISCONNECT 0x97, quota exceeded), after what was written for it.
#[tokio::test]
async fn a_queue_past_its_bytes_closes_the_client_saying_why() {
    let broker = Arc::new(Broker::default().with_waiting_limits(usize::MAX, 256 * 1024));
    let (client, task, _stop) = serve(Arc::clone(&broker));
    let (rd, mut wr) = tokio::io::split(client);
    let mut connect = frame(0x10, b"\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x04deaf");
    connect.extend(frame(0x82, b"\x00\x01\x00\x00\x04q2/#\x00"));
    wr.write_all(&connect).await.unwrap();
    for i in 0..400 {
        broker.publish(&Message::new(format!("q2/{i}"), vec![0; 1024], 0));
        tokio::task::yield_now().await;
    }
    let read = tokio::spawn(async move {
        let mut rd = rd;
        let mut bytes = Vec::new();
        let _ = rd.read_to_end(&mut bytes).await;
        bytes
    });
    let end = tokio::time::timeout(Duration::from_secs(10), task).await.expect("still open");
    assert_eq!(end.unwrap(), Err("closed as too slow to take its messages".to_owned()));
    let bytes = read.await.unwrap();
    // DISCONNECT, reason 0x97, and its properties (a Reason String): the last packet.
    let at = bytes.windows(3).rposition(|w| w[0] == 0xE0 && w[2] == 0x97).expect("a DISCONNECT");
    assert!(bytes.len() - at < 128, "the DISCONNECT is the last packet");
}

/// A burst routed to a client at once waits in its queue, however long, within the queue's
/// limits: one change of the lifecycle can notify a gateway subscribed to
/// `$aws/things/+/jobs/notify-next` once per thing, under one lock, before the client's
/// connection can take any. A client that reads takes all of it and stays connected (a
/// gateway's report: past 1,024 such messages it was closed as too slow and got none).
#[tokio::test]
async fn a_burst_of_many_messages_reaches_a_client_that_reads_them() {
    let broker = Arc::new(Broker::default());
    let (client, task, stop) = serve(Arc::clone(&broker));
    let (mut rd, mut wr) = tokio::io::split(client);
    wr.write_all(&connect_and_subscribe("gateway", &["burst/#"])).await.unwrap();
    let mut acks = [0; 9];
    rd.read_exact(&mut acks).await.unwrap();
    // 5,000 without a yield: the connection's task runs only once all are routed.
    for i in 0..5_000 {
        broker.publish(&Message::new(format!("burst/{i}"), vec![b'x'; 300], 0));
    }
    let mut bytes = BytesMut::new();
    let mut got = 0;
    while got < 5_000 {
        let read = tokio::time::timeout(Duration::from_secs(10), rd.read_buf(&mut bytes)).await;
        assert!(read.expect("every message in time").unwrap() > 0, "closed after {got}");
        got += publishes(&mut bytes).len();
    }
    assert_eq!(got, 5_000);
    assert!(!task.is_finished(), "closed: {:?}", task.await);
    stop.send(true).unwrap();
    assert_eq!(task.await.unwrap(), Ok(()));
}

/// A client that reads slowly and pings is alive: while 64 KiB wait for it, its pings are
/// still read, so its keep-alive (30 s) does not expire.
#[tokio::test(start_paused = true)]
async fn a_slow_reader_that_pings_is_kept() {
    let broker = Arc::new(Broker::default());
    let (client, task, stop) = serve(Arc::clone(&broker));
    let (mut rd, mut wr) = tokio::io::split(client);
    let mut packets = connect_packet("slow", true);
    packets[11] = 30;
    packets.extend(subscribe_packet(&["big/#"]));
    wr.write_all(&packets).await.unwrap();
    let mut acks = [0; 9];
    rd.read_exact(&mut acks).await.unwrap();
    for i in 0..3 {
        broker.publish(&Message::new(format!("big/{i}"), vec![0; 100 * 1024], 0));
    }
    let mut chunk = vec![0; 4096];
    for second in (5..=150).step_by(5) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        rd.read_exact(&mut chunk).await.unwrap();
        if second % 20 == 0 {
            wr.write_all(&[0xC0, 0]).await.unwrap();
        }
    }
    assert!(!task.is_finished(), "closed: {:?}", task.await);
    stop.send(true).unwrap();
    assert_eq!(task.await.unwrap(), Ok(()));
}

/// A client that sends without reading, while 64 KiB wait for it, is held back by TCP once
/// one largest packet of what it sent waits to be read: its pings cannot fill the
/// emulator's memory.
#[tokio::test]
async fn a_client_that_sends_without_reading_is_held_back() {
    let broker = Arc::new(Broker::default());
    let (mut client, _task, _stop) = serve(Arc::clone(&broker));
    client.write_all(&connect_and_subscribe("pusher", &["big/#"])).await.unwrap();
    let mut acks = [0; 9];
    client.read_exact(&mut acks).await.unwrap();
    for i in 0..3 {
        broker.publish(&Message::new(format!("big/{i}"), vec![0; 100 * 1024], 0));
    }
    // 1 MiB of PINGREQs: the stream (64 KiB each way) and one largest packet take less.
    let pings = [0xC0_u8, 0].repeat(512 * 1024);
    let sent = tokio::time::timeout(Duration::from_secs(2), client.write_all(&pings)).await;
    assert!(sent.is_err(), "1 MiB was taken from a client that reads nothing");
}

/// A client with a keep-alive of 0 (none) is held to AWS IoT Core's 1,200 s: one that sends
/// half a packet and falls silent is closed at 1.5 × 1,200 s, not kept, with its buffer, for
/// ever.
#[tokio::test(start_paused = true)]
async fn a_keep_alive_of_zero_is_taken_as_1200_seconds() {
    let broker = Arc::new(Broker::default());
    let (mut client, task, _stop_tx) = serve(Arc::clone(&broker));
    let packets = connect_and_subscribe("half", &["a"]);
    // CONNECT (16 bytes), then 3 of the SUBSCRIBE's 9 bytes.
    client.write_all(&packets[..19]).await.unwrap();
    let mut ack = [0; 4];
    client.read_exact(&mut ack).await.unwrap();
    assert_eq!(ack, [0x20, 2, 0, 0]);
    let start = tokio::time::Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(3_600), task).await.expect("still open").unwrap();
    assert_eq!(end, Err("keep-alive expired".to_owned()));
    assert_eq!(start.elapsed().as_secs(), 1_800);
}

/// MQTT 5 clients are told the keep-alive the broker uses when it is not theirs (Server Keep
/// Alive, MQTT-3.2.2-21): 0 and anything over 1,200 s become 1,200 s.
#[tokio::test]
async fn an_mqtt5_client_is_told_the_keep_alive_it_gets() {
    use rumqttc::v5::mqttbytes::v5 as p5;
    for (asked, told) in [(0, Some(1_200)), (5_000, Some(1_200)), (1_200, None), (7, None)] {
        let broker = Arc::new(Broker::default());
        let (mut client, task, stop_tx) = serve(broker);
        let connect =
            p5::Connect { keep_alive: asked, client_id: "ka5".into(), clean_start: true, properties: None };
        let mut bytes = BytesMut::new();
        p5::Packet::Connect(connect, None, None).write(&mut bytes, None).unwrap();
        client.write_all(&bytes).await.unwrap();
        let mut got = BytesMut::new();
        let ack = loop {
            client.read_buf(&mut got).await.unwrap();
            match p5::Packet::read(&mut got, None) {
                Ok(p5::Packet::ConnAck(a)) => break a,
                Ok(p) => panic!("{p:?}"),
                Err(_) => {}
            }
        };
        assert_eq!(ack.code, p5::ConnectReturnCode::Success);
        assert_eq!(ack.properties.and_then(|p| p.server_keep_alive), told, "asked for {asked}");
        stop_tx.send(true).unwrap();
        assert_eq!(task.await.unwrap(), Ok(()));
    }
}

/// A SUBSCRIBE with more than 8 topic filters closes the client, as AWS IoT Core does, with
/// nothing subscribed (MQTT 5: DISCONNECT 0x97, quota exceeded); 8 are granted.
#[tokio::test]
async fn a_subscribe_with_more_than_8_filters_closes_the_client() {
    use rumqttc::v5::mqttbytes::v5 as p5;
    let broker = Arc::new(Broker::default());
    let nine: Vec<String> = (0..9).map(|i| format!("f/{i}")).collect();
    let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
    let (mut client, task, _stop) = serve(Arc::clone(&broker));
    client.write_all(&connect_and_subscribe("nine", &nine)).await.unwrap();
    assert_eq!(
        task.await.unwrap(),
        Err("a SUBSCRIBE with 9 topic filters (AWS IoT Core takes at most 8)".to_owned())
    );
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, [0x20, 2, 0, 0], "a CONNACK, no SUBACK");
    assert_eq!(broker.sessions(), 0);

    // MQTT 5, a persistent session: closed with 0x97, and nothing subscribed.
    let (mut client, task, _stop) = serve(Arc::clone(&broker));
    let properties =
        p5::ConnectProperties { session_expiry_interval: Some(60), ..p5::ConnectProperties::new() };
    let connect = p5::Connect {
        keep_alive: 30,
        client_id: "nine5".into(),
        clean_start: true,
        properties: Some(properties),
    };
    let filters = nine.iter().map(|f| p5::Filter::new(*f, m5q::AtLeastOnce));
    let mut bytes = BytesMut::new();
    p5::Packet::Connect(connect, None, None).write(&mut bytes, None).unwrap();
    let mut subscribe = p5::Subscribe::new_many(filters, None);
    subscribe.pkid = 1;
    p5::Packet::Subscribe(subscribe).write(&mut bytes, None).unwrap();
    client.write_all(&bytes).await.unwrap();
    assert!(task.await.unwrap().is_err());
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    let mut got = BytesMut::from(&got[..]);
    assert!(matches!(p5::Packet::read(&mut got, None), Ok(p5::Packet::ConnAck(_))));
    let Ok(p5::Packet::Disconnect(d)) = p5::Packet::read(&mut got, None) else { panic!("no DISCONNECT") };
    assert_eq!(d.reason_code, p5::DisconnectReasonCode::QuotaExceeded);
    assert_eq!(broker.grant("nine5", "f/0"), None);

    // 8 are granted.
    let (mut client, task, stop) = serve(Arc::clone(&broker));
    client.write_all(&connect_and_subscribe("eight", &nine[..8])).await.unwrap();
    let mut acks = [0; 16];
    client.read_exact(&mut acks).await.unwrap();
    assert_eq!(acks, [0x20, 2, 0, 0, 0x90, 10, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    stop.send(true).unwrap();
    assert_eq!(task.await.unwrap(), Ok(()));
}

/// Reads `from` to its end (or an error) and counts the publishes it carried.
fn count_publishes(mut from: impl AsyncRead + Unpin + Send + 'static) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut bytes = BytesMut::new();
        while from.read_buf(&mut bytes).await.unwrap_or(0) > 0 {}
        publishes(&mut bytes).len()
    })
}

/// The publishes in `bytes` (3.1.1), as (topic, dup, QoS); stops at the first other packet.
fn publishes(bytes: &mut BytesMut) -> Vec<(String, bool, m4::QoS)> {
    let mut out = Vec::new();
    while let Ok(v4::Packet::Publish(p)) = v4::Packet::read(bytes, 1 << 20) {
        out.push((p.topic, p.dup, p.qos));
    }
    out
}

/// A client that reads everything and acknowledges one message every 30 s, while messages
/// are held back behind its 1,000 in flight, is making progress: it is not closed at
/// [`WRITE_STALL`], and gets every message.
#[tokio::test(start_paused = true)]
async fn a_client_that_acknowledges_slowly_is_kept() {
    let broker = Arc::new(Broker::default());
    let (mut client, task, stop) = serve(Arc::clone(&broker));
    client.write_all(&connect_and_subscribe("slow-ack", &["box/#"])).await.unwrap();
    let mut acks = [0; 9];
    client.read_exact(&mut acks).await.unwrap();
    for i in 0..1_005 {
        broker.publish(&Message::new(format!("box/{i}"), "x", 1));
    }
    let (rd, mut wr) = tokio::io::split(client);
    let reader = count_publishes(rd);
    for pkid in 1..=5 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        wr.write_all(&[0x40, 2, 0, pkid]).await.unwrap();
    }
    tokio::time::sleep(WRITE_STALL * 2).await;
    assert!(!task.is_finished(), "closed: {:?}", task.await);
    stop.send(true).unwrap();
    assert_eq!(task.await.unwrap(), Ok(()));
    drop(wr);
    assert_eq!(reader.await.unwrap(), 1_005);
}

/// The messages still waiting when a persistent session's connection ends go back to the
/// session, after those in flight and in order, QoS 1 only, and are delivered when it resumes:
/// those sent before with DUP, the one never sent without (MQTT-3.3.1-1).
#[tokio::test]
async fn what_waits_at_a_close_goes_back_to_a_persistent_session() {
    let broker = Arc::new(Broker::default());
    for (topic, qos) in [("r/a", 1), ("r/b", 1), ("r/c", 0), ("r/d", 1)] {
        broker.publish(&Message { retain: true, ..Message::new(topic, vec![1; 100 * 1024], qos) });
    }
    // r/a is written, r/b goes in flight once the stream has taken 64 KiB, r/c and r/d wait.
    let (mut client, task, _stop) = serve(Arc::clone(&broker));
    let mut packets = connect_packet("keep", false);
    packets.extend(subscribe_packet(&["r/a", "r/b", "r/c", "r/d"]));
    client.write_all(&packets).await.unwrap();
    let mut acks = [0; 12];
    client.read_exact(&mut acks).await.unwrap();
    drop(client);
    assert!(task.await.unwrap().is_err());

    let (mut client, _task, _stop) = serve(Arc::clone(&broker));
    client.write_all(&connect_packet("keep", false)).await.unwrap();
    let mut bytes = BytesMut::new();
    let read = async {
        while bytes.len() < 4 + 3 * (100 * 1024 + 11) {
            client.read_buf(&mut bytes).await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("fewer than 3 messages");
    assert_eq!(&bytes.split_to(4)[..], [0x20, 2, 1, 0], "the session is present");
    let got = publishes(&mut bytes);
    let expected: Vec<_> = [("r/a", true), ("r/b", true), ("r/d", false)]
        .map(|(t, dup)| (t.to_owned(), dup, m4::QoS::AtLeastOnce))
        .into();
    assert_eq!(got, expected);
}

/// A publish past AWS IoT Core's topic limits ends its connection with an error that names the
/// topic and the limits (what the log shows), and a CONNECT with a will past them or a client
/// id over 128 bytes is refused with one that says which.
#[tokio::test]
async fn a_name_past_the_limits_ends_the_connection_saying_which() {
    let topic = format!("x{}", "/l".repeat(8));
    let (mut client, task, _stop) = serve(Arc::new(Broker::default()));
    client.write_all(&connect_packet("limits", true)).await.unwrap();
    let mut body = u16::try_from(topic.len()).unwrap().to_be_bytes().to_vec();
    body.extend_from_slice(topic.as_bytes());
    client.write_all(&frame(0x30, &body)).await.unwrap();
    let want = format!(
        "a publish to {topic:?}, not a topic a client may publish to (no wildcard or NUL, at most 256 bytes and 7 slashes)"
    );
    assert_eq!(task.await.unwrap(), Err(want));

    let (mut client, task, _stop) = serve(Arc::new(Broker::default()));
    client.write_all(&connect_packet(&"c".repeat(129), true)).await.unwrap();
    assert_eq!(task.await.unwrap(), Err("a client id of 129 bytes".to_owned()));
    let mut ack = [0; 4];
    client.read_exact(&mut ack).await.unwrap();
    assert_eq!(ack, [0x20, 2, 0, 2]);
}

/// A session taken over from a connection whose client reads nothing (so that it has stopped
/// taking messages from its queue) is given back at once, with what that connection had: the
/// new connection gets every message, in order, those sent before with DUP. (The old
/// connection once heard of the takeover only through its queue, which it no longer read: the
/// new one waited [`TAKEOVER_WAIT`], took the session without them, and they were lost.)
#[tokio::test(start_paused = true)]
async fn a_session_taken_from_a_connection_that_reads_nothing_comes_back_whole() {
    let broker = Arc::new(Broker::default());
    let (mut old, old_task, _stop_old) = serve(Arc::clone(&broker));
    let mut packets = connect_packet("deaf-tk", false);
    packets.extend(subscribe_packet(&["tk/#"]));
    old.write_all(&packets).await.unwrap();
    let mut acks = [0; 9];
    old.read_exact(&mut acks).await.unwrap();
    assert_eq!(acks, [0x20, 2, 0, 0, 0x90, 3, 0, 1, 1]);
    // 64 KiB in the stream and 64 KiB waiting: the old connection takes no more from its queue.
    for i in 0..8 {
        broker.publish(&Message::new(format!("tk/{i}"), vec![0; 100 * 1024], 1));
        tokio::task::yield_now().await;
    }
    let start = tokio::time::Instant::now();
    let (new, new_task, _stop_new) = serve(Arc::clone(&broker));
    let (mut rd, mut wr) = tokio::io::split(new);
    wr.write_all(&connect_packet("deaf-tk", false)).await.unwrap();
    let mut ack = [0; 4];
    rd.read_exact(&mut ack).await.unwrap();
    assert_eq!(ack, [0x20, 2, 1, 0], "the session was present");
    assert!(start.elapsed() < TAKEOVER_WAIT, "{:?}", start.elapsed());
    let mut bytes = BytesMut::new();
    let mut got = Vec::new();
    while got.len() < 8 {
        tokio::time::timeout(Duration::from_secs(1), rd.read_buf(&mut bytes))
            .await
            .expect("no more")
            .unwrap();
        got.extend(publishes(&mut bytes));
    }
    let topics: Vec<&str> = got.iter().map(|(t, _, _)| &t[..]).collect();
    assert_eq!(topics, (0..8).map(|i| format!("tk/{i}")).collect::<Vec<_>>());
    let dups: Vec<bool> = got.iter().map(|(_, dup, _)| *dup).collect();
    assert!(dups[0] && dups.windows(2).all(|w| w[0] || !w[1]), "sent before first, with DUP: {dups:?}");
    assert_eq!(old_task.await.unwrap(), Ok(()));
    drop((old, wr));
    new_task.abort();
}

/// A closing connection hands its messages in flight back in the order they were sent, across
/// the wrap of packet ids, so that they are sent again in that order (MQTT-4.6.0-1); those
/// never written follow. (They were handed back by packet id: 1 and 2 came before 65534.)
#[tokio::test]
async fn messages_in_flight_go_back_in_the_order_they_were_sent() {
    let (_client, server) = tokio::io::duplex(64 * 1024);
    let mut conn = Conn::new(Box::new(server), &connect(true), "c".into(), 1);
    conn.next_pkid = 65_534;
    conn.receive_max = 4;
    for i in 0..6 {
        conn.send(Message::new(format!("w/{i}"), "m", 1)).unwrap();
    }
    assert_eq!(conn.inflight.keys().copied().collect::<Vec<_>>(), [1, 2, 65_534, 65_535]);
    let back: Vec<(String, bool)> = conn.unacked().into_iter().map(|m| (m.topic, m.sent)).collect();
    let want: Vec<(String, bool)> = (0..6).map(|i| (format!("w/{i}"), i < 4)).collect();
    assert_eq!(back, want);
}
