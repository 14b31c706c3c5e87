//! The crate's device agent (`iot_jobs_core::agent`, sans-IO) over a real MQTT connection: it
//! connects to a broker (this emulator's, or any that serves the AWS IoT Jobs topics), runs every
//! job it is given and reports it SUCCEEDED, printing the traffic.
//!
//! ```sh
//! cargo run -p iot-jobs-emulator                       # in one terminal
//! cargo run -p iot-jobs-emulator --example device_mqtt -- --thing dev1
//! # in a third, with the AWS CLI (see the README):
//! aws iot create-thing --thing-name dev1 --endpoint-url http://127.0.0.1:4588
//! aws iot create-job --job-id fw-1 --document '{"op":"install"}' \
//!     --targets arn:aws:iot:us-east-1:123456789012:thing/dev1 --endpoint-url http://127.0.0.1:4588
//! ```
//!
//! Options: `--broker HOST:PORT` (default `127.0.0.1:1883`), `--thing NAME` (default `dev1`),
//! `--jobs N` (leave after N jobs finished; default: run until killed), `--seconds S` (give up
//! after S seconds with exit code 1; default: never), `--rx-max BYTES` (the client's largest
//! incoming packet: rumqttc closes the connection on a larger one, as a device with a fixed
//! receive buffer would fail on it; default 10 KiB), `--response-timeout S` (the agent's wait for a
//! reply before it asks again; default 30). A job whose document the client cannot receive is
//! reported REJECTED.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use iot_jobs_core::agent::{Agent, AgentEvent, Config, MAX_TRANSMIT_LEN};
use iot_jobs_core::{ExecutionStatus, StatusDetails, ThingName, Timestamp};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS, RecvTimeoutError};

fn now() -> Timestamp {
    Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let broker = arg("--broker").unwrap_or_else(|| "127.0.0.1:1883".to_owned());
    let thing = arg("--thing").unwrap_or_else(|| "dev1".to_owned());
    let jobs: Option<usize> = arg("--jobs").map(|n| n.parse().expect("--jobs N"));
    let deadline =
        arg("--seconds").map(|s| Instant::now() + Duration::from_secs(s.parse().expect("--seconds S")));
    let (host, port) = broker.rsplit_once(':').expect("--broker HOST:PORT");
    let rx_max: usize = arg("--rx-max").map_or(10 * 1024, |n| n.parse().expect("--rx-max BYTES"));
    let response_timeout_secs: u64 =
        arg("--response-timeout").map_or(30, |s| s.parse().expect("--response-timeout S"));

    let mut options = MqttOptions::new(format!("device-{thing}"), host, port.parse().expect("a port"));
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(rx_max, MAX_TRANSMIT_LEN + 64);
    let (client, mut connection) = Client::new(options, 64);
    let config = Config { response_timeout_secs, ..Config::DEFAULT };
    let mut agent: Agent<4096> = Agent::new(&ThingName::new(&thing).expect("a thing name"), None, config);
    let mut buf = [0u8; 256];
    let filters: Vec<String> =
        agent.subscriptions().map(|f| f.write_to(&mut buf).expect("a topic filter").to_owned()).collect();
    let subscribe = |client: &Client| {
        for filter in &filters {
            println!("SUBSCRIBE {filter}");
            client.subscribe(filter, QoS::AtLeastOnce).expect("subscribe");
        }
    };
    subscribe(&client);
    let mut connected = false;

    let mut finished = 0usize;
    let mut out = vec![0u8; MAX_TRANSMIT_LEN];
    loop {
        // What the agent wants to send, then what the application must do.
        while let Some(t) = agent.poll_transmit(now(), &mut out) {
            println!("→ {} {}", t.topic, String::from_utf8_lossy(t.payload));
            client.publish(t.topic, QoS::AtLeastOnce, false, t.payload.to_vec()).expect("publish");
        }
        while let Some(event) = agent.poll_event() {
            let report = match event {
                AgentEvent::Run { job_id, execution_number, document, .. } => {
                    println!(
                        "[app] run {job_id} (execution {execution_number}): {}",
                        String::from_utf8_lossy(document)
                    );
                    Some(ExecutionStatus::Succeeded)
                }
                AgentEvent::DocumentTooLarge { job_id, len, capacity, .. } => {
                    println!("[app] {job_id}: a document of {len} bytes does not fit {capacity}");
                    Some(ExecutionStatus::Rejected)
                }
                AgentEvent::MessageTooLarge { job_id, len, .. } => {
                    match len {
                        Some(len) => {
                            println!("[app] {job_id}: its document never arrived (a message of {len} bytes)")
                        }
                        None => println!(
                            "[app] {job_id}: its document never arrived (its message went unanswered)"
                        ),
                    }
                    Some(ExecutionStatus::Rejected)
                }
                AgentEvent::Finished { job_id, status, .. } => {
                    println!("[app] {job_id} is done: {status}");
                    finished += 1;
                    None
                }
                other => {
                    println!("[app] {other:?}");
                    None
                }
            };
            if let Some(status) = report {
                let details = [("by", "iot-jobs-core agent")];
                agent
                    .report(status, Some(&StatusDetails::new(&details).unwrap()))
                    .expect("a job to report on");
            }
        }
        if jobs.is_some_and(|n| finished >= n) && agent.is_idle() {
            println!("done: {finished} jobs");
            return;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            eprintln!("gave up after --seconds with {finished} jobs finished");
            std::process::exit(1);
        }
        let wait = agent.poll_timeout().map_or(Duration::from_millis(500), |t| {
            Duration::from_secs(t.secs().saturating_sub(now().secs())).min(Duration::from_millis(500))
        });
        match connection.recv_timeout(wait) {
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                println!("← {} {}", p.topic, String::from_utf8_lossy(&p.payload));
                if let Err(e) = agent.handle(now(), &p.topic, &p.payload) {
                    println!("  (ignored by the agent: {e})");
                }
            }
            // A new session after a lost connection: subscribe again, then the agent resends or
            // checks its job (the first connection needs neither).
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                if connected {
                    subscribe(&client);
                    agent.reconnected();
                }
                connected = true;
            }
            Ok(Ok(_)) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Err(e)) => {
                eprintln!("connection: {e}; retrying");
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        agent.handle_timeout(now());
    }
}
