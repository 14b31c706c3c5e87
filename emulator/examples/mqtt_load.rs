//! A load generator for device round trips over MQTT (used by `benches/emulators/mqtt_run.sh`):
//! DEVICES devices, each its own MQTT 3.1.1 connection (rumqttc) on thing `tN`, in a loop of
//! StartNext then UpdateJobExecution `{"status":"IN_PROGRESS"}` on `job1`, each request waiting
//! for its `/accepted` (a `/rejected` or 10 s of silence is an error). Prints one line:
//! `RESULT requests=… errors=… secs=… req_per_s=… p50_ms=… p99_ms=…`.
//!
//! ```sh
//! cargo run --release -p iot-jobs-emulator --example mqtt_load -- 127.0.0.1:1883 64 5
//! cargo run --release -p iot-jobs-emulator --example mqtt_load -- ws://127.0.0.1:8080 64 5
//! ```
//!
//! A `ws://HOST:PORT` target is reached over MQTT over WebSocket (`/mqtt`, the `mqtt`
//! subprotocol): each device's rumqttc connection goes to a loopback port of its own, whose bytes
//! this process carries in binary frames (the emulator's `Bytestream`, client side), since
//! rumqttc has no WebSocket transport without a feature the emulator does not enable. The
//! relay's work is the generator's: it adds to the generator's CPU, not the server's.

use std::time::{Duration, Instant};

use iot_jobs_emulator::mqtt::websocket::{Bytestream, PATH};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const ANSWER: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: mqtt_load [ws://]HOST:PORT DEVICES SECONDS";
    let (Some(addr), Some(devices), Some(secs)) = (args.get(1), args.get(2), args.get(3)) else {
        return Err(usage.into());
    };
    let websocket = addr.strip_prefix("ws://");
    let (host, port) = websocket.unwrap_or(addr).rsplit_once(':').ok_or(usage)?;
    let port: u16 = port.parse()?;
    let devices: usize = devices.parse()?;
    let secs: f64 = secs.parse()?;
    let mut ready = Vec::new();
    for i in 0..devices {
        ready.push(match websocket {
            Some(server) => device("127.0.0.1", relay(server).await?, i).await?,
            None => device(host, port, i).await?,
        });
    }
    // Everyone is connected and subscribed: the clock starts now.
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = ready.into_iter().map(|d| tokio::spawn(run(d, until))).collect();
    let (mut latencies, mut errors) = (Vec::new(), 0_u64);
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let pct = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "RESULT requests={} errors={errors} secs={secs:.1} req_per_s={:.0} p50_ms={:.2} p99_ms={:.2}",
        latencies.len(),
        latencies.len() as f64 / secs,
        pct(50),
        pct(99)
    );
    Ok(())
}

struct Device {
    client: AsyncClient,
    thing: String,
    /// Whether each answer was `/accepted`.
    answers: mpsc::UnboundedReceiver<bool>,
}

/// A loopback port whose first connection is carried to `server` over MQTT over WebSocket.
async fn relay(server: &str) -> Result<u16, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let mut request = format!("ws://{server}{PATH}").into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
    let tcp = TcpStream::connect(server).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(request, tcp).await?;
    let mut remote = Bytestream::new(ws);
    tokio::spawn(async move {
        if let Ok((mut local, _)) = listener.accept().await {
            let _ = local.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut local, &mut remote).await;
        }
    });
    Ok(port)
}

async fn device(host: &str, port: u16, i: usize) -> Result<Device, Box<dyn std::error::Error>> {
    let thing = format!("t{i}");
    let mut o = MqttOptions::new(format!("load-{thing}-{}", std::process::id()), host, port);
    o.set_keep_alive(Duration::from_secs(60));
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    let (client, mut eventloop) = AsyncClient::new(o, 16);
    eventloop.network_options = network;
    let (tx, answers) = mpsc::unbounded_channel();
    let (subscribed_tx, mut subscribed) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(e) = eventloop.poll().await {
            match e {
                Event::Incoming(Packet::Publish(p)) => {
                    let _ = tx.send(p.topic.ends_with("/accepted"));
                }
                Event::Incoming(Packet::SubAck(_)) => {
                    let _ = subscribed_tx.send(());
                }
                _ => {}
            }
        }
    });
    let base = format!("$aws/things/{thing}/jobs");
    client
        .subscribe_many([
            rumqttc::SubscribeFilter::new(format!("{base}/start-next/+"), QoS::AtLeastOnce),
            rumqttc::SubscribeFilter::new(format!("{base}/job1/update/+"), QoS::AtLeastOnce),
        ])
        .await?;
    tokio::time::timeout(ANSWER, subscribed.recv()).await?.ok_or("no SUBACK")?;
    Ok(Device { client, thing, answers })
}

async fn run(mut d: Device, until: Instant) -> (Vec<Duration>, u64) {
    let base = format!("$aws/things/{}/jobs", d.thing);
    let requests = [
        (format!("{base}/start-next"), "{}"),
        (format!("{base}/job1/update"), r#"{"status":"IN_PROGRESS"}"#),
    ];
    let (mut latencies, mut errors) = (Vec::new(), 0);
    while Instant::now() < until {
        for (topic, body) in &requests {
            let t0 = Instant::now();
            if d.client.publish(topic.as_str(), QoS::AtLeastOnce, false, *body).await.is_err() {
                errors += 1;
                continue;
            }
            match tokio::time::timeout(ANSWER, d.answers.recv()).await {
                Ok(Some(true)) => latencies.push(t0.elapsed()),
                _ => errors += 1,
            }
        }
    }
    let _ = d.client.disconnect().await;
    (latencies, errors)
}
