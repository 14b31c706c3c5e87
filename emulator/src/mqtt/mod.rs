//! The MQTT side of the emulator: a broker in the emulator's process (MQTT 3.1.1 and 5, QoS 0
//! and 1, retained messages, clean and persistent sessions, wills, keep-alive, wildcards with
//! the `$` rule) that any client may use for any topic, the jobs device API on
//! `$aws/things/T/jobs/…` (SPEC §7.1, §7.3) and the publishing of the registry's notifications
//! and events (SPEC §7.2, §7.4). In bridge mode ([`bridge`]) the same jobs adapter serves
//! devices connected to an existing broker, as one of its clients.
//!
//! The broker is written here over `rumqttc`'s packet codecs: the established broker crates
//! either refuse `$`-prefixed topics (rumqttd) or add minutes to every clean build (rmqtt, about
//! 270 crates); see the emulator's README.

pub mod bridge;
pub mod broker;
pub mod budget;
pub mod codec;
pub mod connection;
pub mod events;
pub mod filter;
pub mod jobs;
pub mod replies;
mod retained;
mod routes;
pub mod tls;
pub mod websocket;

pub use broker::{Broker, DEFAULT_SESSION_EXPIRY, MAX_SESSION_EXPIRY, Requests};
pub use codec::Message;
pub use replies::Replies;
