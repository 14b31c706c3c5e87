//! MQTT over WebSocket (`--mqtt-ws-addr`, `ws://ADDR/mqtt`): the upgrade with the `mqtt`
//! subprotocol, MQTT packets in binary frames however they are cut, the jobs device API and
//! routing to and from clients on plain TCP, and the refusals.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use super::*;

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// A WebSocket to `path` on `addr`, offering `protocol` (as the `Sec-WebSocket-Protocol`
/// header): the stream and the subprotocol the server chose, or the handshake's error.
async fn upgrade(
    addr: SocketAddr,
    path: &str,
    protocol: Option<&str>,
) -> Result<(Ws, Option<String>), tungstenite::Error> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(p) = protocol {
        request.headers_mut().insert("sec-websocket-protocol", p.parse().unwrap());
    }
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, response) = tokio_tungstenite::client_async(request, tcp).await?;
    let chosen = response.headers().get("sec-websocket-protocol").map(|v| v.to_str().unwrap().to_owned());
    Ok((ws, chosen))
}

/// The MQTT packets the server sends on `ws` until `n` have come, as (first byte, body); frames
/// may carry several packets or part of one.
async fn packets<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    bytes: &mut Vec<u8>,
    n: usize,
) -> Vec<(u8, Vec<u8>)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut got = Vec::new();
    loop {
        while let Some((first, body, used)) = split_packet(bytes) {
            got.push((first, body));
            bytes.drain(..used);
            if got.len() == n {
                return got;
            }
        }
        match tokio::time::timeout(WAIT, ws.next()).await.expect("nothing received") {
            Some(Ok(Message::Binary(b))) => bytes.extend_from_slice(&b),
            other => panic!("{other:?}"),
        }
    }
}

/// The first whole packet of `bytes`: its first byte, its body and its length.
fn split_packet(bytes: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let (mut len, mut shift, mut at) = (0_usize, 0, 1);
    loop {
        let b = *bytes.get(at)?;
        len |= usize::from(b & 0x7F) << shift;
        shift += 7;
        at += 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    let body = bytes.get(at..at + len)?.to_vec();
    Some((bytes[0], body, at + len))
}

#[tokio::test]
async fn mqtt_over_websocket_serves_devices_like_tcp() {
    let emu = start(|c| c.mqtt_ws_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr = emu.server.mqtt_ws_addr.unwrap();
    emu.create_job("ws-job", &["ws-thing"]).await;
    let (mut ws, chosen) =
        upgrade(addr, "/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256", Some("mqtt")).await.unwrap();
    assert_eq!(chosen.as_deref(), Some("mqtt"), "MQTT-6.0.0-4");
    // A CONNECT cut across two frames, the second of which also carries a SUBSCRIBE
    // (MQTT-6.0.0-2).
    let hello = hello(4, "ws-thing");
    let mut subscribe = vec![0, 1];
    subscribe.extend(mqtt_str("$aws/things/ws-thing/jobs/get/accepted"));
    subscribe.push(1);
    subscribe.extend(mqtt_str("plain/#"));
    subscribe.push(1);
    let (head, tail) = hello.split_at(5);
    ws.send(Message::binary(head.to_vec())).await.unwrap();
    ws.send(Message::binary([tail, &packet(0x82, &subscribe)].concat())).await.unwrap();
    let mut bytes = Vec::new();
    let got = packets(&mut ws, &mut bytes, 2).await;
    assert_eq!(got, [(0x20, vec![0, 0]), (0x90, vec![0, 1, 1, 1])]);
    // The jobs device API answers over it.
    let mut get = mqtt_str("$aws/things/ws-thing/jobs/get");
    get.extend_from_slice(b"{\"clientToken\":\"ws\"}");
    ws.send(Message::binary(packet(0x30, &get))).await.unwrap();
    let (first, body) = packets(&mut ws, &mut bytes, 1).await.remove(0);
    assert_eq!(first & 0xF0, 0x30);
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("\"jobId\":\"ws-job\"") && text.contains("\"clientToken\":\"ws\""), "{text}");
    // A client on plain TCP reaches it, and it reaches the plain client.
    let mut plain = connect("ws-plain", emu.mqtt).await;
    plain.sub("plain/#").await;
    plain.publish("plain/from-tcp", "t").await;
    let (first, body) = packets(&mut ws, &mut bytes, 1).await.remove(0);
    assert_eq!(first & 0xF0, 0x30);
    assert!(body.ends_with(b"t") && body.windows(14).any(|w| w == b"plain/from-tcp"), "{body:x?}");
    let mut from_ws = mqtt_str("plain/from-ws");
    from_ws.extend_from_slice(b"w");
    ws.send(Message::binary(packet(0x30, &from_ws))).await.unwrap();
    assert_eq!(&plain.next_on("plain/from-ws").await.payload[..], b"w");
    // (and, subscribed to it, it hears its own publish)
    let mut echo = mqtt_str("plain/from-ws");
    echo.push(b'w');
    assert_eq!(packets(&mut ws, &mut bytes, 1).await, [(0x30, echo)]);
    // The largest payload AWS IoT Core takes (128 KiB) both ways.
    let big = vec![7_u8; 128 * 1024];
    plain.publish("plain/big", big.clone()).await;
    let (_, body) = packets(&mut ws, &mut bytes, 1).await.remove(0);
    assert!(body.ends_with(&big) && body.len() == big.len() + 13, "{}", body.len());
    let mut big_ws = mqtt_str("plain/big-ws");
    big_ws.extend_from_slice(&big);
    ws.send(Message::binary(packet(0x30, &big_ws))).await.unwrap();
    assert_eq!(plain.next_on("plain/big-ws").await.payload.len(), big.len());
    assert_eq!(packets(&mut ws, &mut bytes, 1).await.remove(0).1, big_ws);
    // Two of them in one frame, larger than one packet may be.
    let two = [packet(0x30, &big_ws), packet(0x30, &big_ws)].concat();
    ws.send(Message::binary(two)).await.unwrap();
    for _ in 0..2 {
        assert_eq!(plain.next_on("plain/big-ws").await.payload.len(), big.len());
        assert_eq!(packets(&mut ws, &mut bytes, 1).await.remove(0).1, big_ws);
    }
    // A PINGREQ in a frame of its own is answered; a text frame closes the connection
    // (MQTT-6.0.0-1), with a WebSocket Close frame.
    ws.send(Message::binary(vec![0xC0, 0])).await.unwrap();
    assert_eq!(packets(&mut ws, &mut bytes, 1).await, [(0xD0, vec![])]);
    ws.send(Message::text("\u{10}")).await.unwrap();
    let end = tokio::time::timeout(WAIT, async {
        let mut closed = false;
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => panic!("answered {b:x?}"),
                Some(Ok(Message::Close(_))) => closed = true,
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return closed,
            }
        }
    });
    assert!(end.await.expect("still open"), "no Close frame");
    emu.server.shutdown().await.unwrap();
}

/// The upgrade is refused on another path (404) and without the `mqtt` subprotocol (400,
/// MQTT-6.0.0-3); a client that sends no upgrade at all is closed; the listener still serves.
#[tokio::test]
async fn a_websocket_upgrade_that_is_not_mqtts_is_refused() {
    let emu = start(|c| c.mqtt_ws_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr = emu.server.mqtt_ws_addr.unwrap();
    for (path, protocol, status) in
        [("/", Some("mqtt"), 404), ("/mqtt", None, 400), ("/mqtt", Some("wamp"), 400)]
    {
        match upgrade(addr, path, protocol).await {
            Err(tungstenite::Error::Http(r)) => {
                assert_eq!(r.status().as_u16(), status, "{path} {protocol:?}")
            }
            other => panic!("{path} {protocol:?}: {:?}", other.map(|(_, p)| p)),
        }
    }
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(&hello(4, "x")).await.unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, raw.read_to_end(&mut rest)).await.expect("still open");
    assert!(read.is_err() || !rest.starts_with(&[0x20]), "MQTT without the upgrade: {rest:x?}");
    assert!(upgrade(addr, "/mqtt", Some("mqtt")).await.is_ok());
    emu.server.shutdown().await.unwrap();
}

/// `wss://ADDR/mqtt` (`--mqtt-wss-addr`): the server certificate of the TLS directory, no client
/// certificate asked for, then the same MQTT over WebSocket.
#[tokio::test]
async fn mqtt_over_websocket_over_tls_asks_for_no_client_certificate() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;

    let dir = std::env::temp_dir().join(format!("iot-jobs-mqtt-wss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let emu = start(|c| {
        c.mqtt_wss_addr = Some("127.0.0.1:0".parse().unwrap());
        c.tls_dir = dir.clone();
    })
    .await;
    let addr = emu.server.mqtt_wss_addr.unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(dir.join("ca.pem")).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    let mut request = format!("wss://{addr}/mqtt").into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", "mqtt".parse().unwrap());
    let (mut ws, response) = tokio_tungstenite::client_async(request, tls).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "mqtt");
    ws.send(Message::binary([hello(5, "wss-client"), vec![0xC0, 0]].concat())).await.unwrap();
    let mut bytes = Vec::new();
    let got = packets(&mut ws, &mut bytes, 2).await;
    assert_eq!((got[0].0, &got[0].1[..2]), (0x20, &[0, 0][..]), "an MQTT 5 CONNACK, accepted");
    assert_eq!(got[1], (0xD0, vec![]));
    emu.server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A broker served over WebSocket alone runs, and is the one DescribeEndpoint names for devices;
/// with no MQTT listener at all, none runs.
#[tokio::test]
async fn describe_endpoint_names_the_websocket_listener_when_it_is_the_only_one() {
    let server = iot_jobs_emulator::start(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        mqtt_ws_addr: Some("127.0.0.1:0".parse().unwrap()),
        clock: ClockMode::Manual,
        ..Config::default()
    })
    .await
    .unwrap();
    let ws = server.mqtt_ws_addr.unwrap();
    assert_eq!(server.mqtt_addr, None);
    let emu = Emu { mqtt: ws, url: format!("http://{}", server.addr), server, http: reqwest::Client::new() };
    let got = emu.ctl("GET", "/endpoint?endpointType=iot:Data-ATS", json!({})).await;
    assert_eq!(got["endpointAddress"], ws.to_string());
    let handshake = tokio::time::timeout(WAIT, upgrade(ws, "/mqtt", Some("mqtt"))).await;
    let (mut socket, _) = handshake.expect("no handshake: no broker serves the listener").unwrap();
    socket.send(Message::binary(hello(4, "ws-only"))).await.unwrap();
    assert_eq!(packets(&mut socket, &mut Vec::new(), 1).await, [(0x20, vec![0, 0])]);
    assert!(emu.ctl("GET", "/_emulator/stats", json!({})).await["mqtt"].is_object());
    emu.server.shutdown().await.unwrap();
    let server = iot_jobs_emulator::start(Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        clock: ClockMode::Manual,
        ..Config::default()
    })
    .await
    .unwrap();
    let emu = Emu { mqtt: ws, url: format!("http://{}", server.addr), server, http: reqwest::Client::new() };
    assert!(emu.ctl("GET", "/_emulator/stats", json!({})).await.get("mqtt").is_none(), "no broker");
    emu.server.shutdown().await.unwrap();
}
