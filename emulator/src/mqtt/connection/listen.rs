//! The listeners: accepting connections within the broker's cap, and the transport each runs
//! over (TCP, TLS, WebSocket, WebSocket over TLS) before its connection task starts.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::super::websocket;
use super::{Broker, CONNECT_TIMEOUT, Requests, Stream, connection, stopped};

/// What MQTT runs over on a listener.
#[derive(Clone)]
pub enum Transport {
    Tcp,
    /// TLS, client certificates required.
    Tls(TlsAcceptor),
    /// WebSocket ([`websocket`]).
    WebSocket,
    /// WebSocket over TLS, no client certificate asked for.
    SecureWebSocket(TlsAcceptor),
}

/// Accepts clients until `stop`, over `transport`.
pub async fn serve(
    listener: TcpListener,
    transport: Transport,
    broker: Arc<Broker>,
    requests: Requests,
    mut stop: watch::Receiver<bool>,
) {
    // Refusals since the last warning: a flood of connections is logged once a second.
    let mut refused = 0_u64;
    let mut warned: Option<tokio::time::Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("MQTT accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => return,
        };
        let Ok(permit) = Arc::clone(&broker.connections).try_acquire_owned() else {
            // Closed at once: the client sees the connection end before its CONNACK.
            refused = refused.saturating_add(1);
            if warned.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(
                    refused,
                    "{} MQTT connections are open, the most the broker holds (--mqtt-max-connections): closing new ones",
                    broker.max_connections
                );
                refused = 0;
                warned = Some(tokio::time::Instant::now());
            }
            continue;
        };
        let (b, r, s, transport) =
            (Arc::clone(&broker), Arc::clone(&requests), stop.clone(), transport.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            // The transport's handshakes, all within the time a client has to connect.
            let handshakes = async {
                Ok::<Stream, String>(match transport {
                    Transport::Tcp => Box::new(stream),
                    Transport::Tls(tls) => {
                        Box::new(tls.accept(stream).await.map_err(|e| format!("TLS: {e}"))?)
                    }
                    Transport::WebSocket => {
                        Box::new(websocket::accept(stream).await.map_err(|e| format!("WebSocket: {e}"))?)
                    }
                    Transport::SecureWebSocket(tls) => {
                        let tls = tls.accept(stream).await.map_err(|e| format!("TLS: {e}"))?;
                        Box::new(websocket::accept(tls).await.map_err(|e| format!("WebSocket: {e}"))?)
                    }
                })
            };
            let stream = match tokio::time::timeout(CONNECT_TIMEOUT, handshakes).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return tracing::debug!(%peer, "MQTT handshake failed: {e}"),
                Err(_) => return tracing::debug!(%peer, "MQTT handshake not finished in time"),
            };
            match connection(stream, b, r, s).await {
                Ok(()) => tracing::debug!(%peer, "MQTT client left"),
                Err(e) => tracing::debug!(%peer, "MQTT connection closed: {e}"),
            }
        });
    }
}
