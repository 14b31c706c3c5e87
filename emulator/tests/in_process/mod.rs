//! An emulator in the test's own process, on a free loopback port with the manual clock: what the
//! HTTP and reliability tests share (each adds its own request helpers to `Emu`).

use iot_jobs_emulator::clock::ClockMode;
use iot_jobs_emulator::{Config, Server};

pub struct Emu {
    pub server: Server,
    pub url: String,
    pub http: reqwest::Client,
}

/// Starts an emulator with the configuration `f` leaves.
pub async fn start(f: impl FnOnce(&mut Config)) -> Emu {
    let mut config =
        Config { addr: "127.0.0.1:0".parse().unwrap(), clock: ClockMode::Manual, ..Config::default() };
    f(&mut config);
    let server = iot_jobs_emulator::start(config).await.unwrap();
    let url = format!("http://{}", server.addr);
    Emu { server, url, http: reqwest::Client::new() }
}
