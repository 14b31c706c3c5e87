//! MQTT over WebSocket (MQTT 3.1.1 §6, MQTT 5 §6), as AWS IoT Core serves it on the path
//! `/mqtt`: the HTTP upgrade, which must offer the `mqtt` subprotocol (MQTT-6.0.0-3) and gets it
//! back (MQTT-6.0.0-4), and then the MQTT bytes in binary frames, any number of packets or part
//! of one per frame (MQTT-6.0.0-2), read and written as a byte stream by the connection task.
//!
//! The query string AWS IoT Core reads (a SigV4 signature, a custom authorizer's parameters) is
//! taken and not checked, as the emulator checks no credentials anywhere.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use super::broker::MAX_PACKET;

/// The path clients connect to: AWS IoT Core's.
pub const PATH: &str = "/mqtt";

/// The subprotocol of MQTT over WebSocket (MQTT-6.0.0-3).
const SUBPROTOCOL: &str = "mqtt";

/// Completes the WebSocket handshake of a new connection (over TCP, or TLS for `wss://`): `Err`
/// (the client answered 400 or 404 and closed) for a request that is not an MQTT upgrade on
/// [`PATH`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> Result<Bytestream<S>, tungstenite::Error> {
    // A frame or a message carries at most a few packets' worth: one largest packet and its
    // frame, plus room for a client that sends a few packets per frame.
    let config = WebSocketConfig::default()
        .max_message_size(Some(4 * MAX_PACKET))
        .max_frame_size(Some(4 * MAX_PACKET));
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, upgrade, Some(config)).await?;
    Ok(Bytestream::new(ws))
}

/// The answer to an upgrade request: the `mqtt` subprotocol on [`PATH`], or a refusal that says
/// why.
#[allow(clippy::result_large_err, reason = "the signature tungstenite's handshake callback has")]
fn upgrade(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    let refuse = |status: StatusCode, why: String| {
        let mut refusal = ErrorResponse::new(Some(why));
        *refusal.status_mut() = status;
        refusal
    };
    if request.uri().path() != PATH {
        let why = format!("MQTT over WebSocket is served on {PATH}, not {}", request.uri().path());
        return Err(refuse(StatusCode::NOT_FOUND, why));
    }
    let offered = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL);
    if !offered {
        let why = format!("the {SUBPROTOCOL:?} subprotocol was not offered (MQTT-6.0.0-3)");
        return Err(refuse(StatusCode::BAD_REQUEST, why));
    }
    response.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static(SUBPROTOCOL));
    Ok(response)
}

/// A WebSocket connection as the byte stream MQTT runs over: what is read is the binary frames'
/// bytes, in order; each write is sent as one binary frame.
pub struct Bytestream<S> {
    ws: WebSocketStream<S>,
    /// What the last binary frame brought that was not read yet.
    unread: Bytes,
}

impl<S> Bytestream<S> {
    /// The byte stream over `ws`, a server's connection or a client's (the load generator's).
    pub fn new(ws: WebSocketStream<S>) -> Self {
        Bytestream { ws, unread: Bytes::new() }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Bytestream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.unread.is_empty() {
                let n = self.unread.len().min(buf.remaining());
                buf.put_slice(&self.unread.split_to(n));
                return Poll::Ready(Ok(()));
            }
            // The pings are answered, and a close is returned, by the WebSocket layer itself.
            match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(bytes))) => self.unread = bytes,
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(())),
                Some(Ok(Message::Text(_))) => {
                    let why = "a text frame: MQTT is sent in binary frames only (MQTT-6.0.0-1)";
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, why)));
                }
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Bytestream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Ready once the frame written before is on its way: at most one frame waits here.
        ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(io::Error::other)?;
        Pin::new(&mut self.ws)
            .start_send(Message::Binary(Bytes::copy_from_slice(buf)))
            .map_err(io::Error::other)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_flush(cx).map_err(io::Error::other)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.ws).poll_close(cx).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tokio_tungstenite::tungstenite::http;

    fn request(path: &str, protocols: Option<&str>) -> Request {
        let mut r = http::Request::builder().uri(path);
        if let Some(p) = protocols {
            r = r.header("Sec-WebSocket-Protocol", p);
        }
        r.body(()).unwrap()
    }

    /// The upgrade is answered with the `mqtt` subprotocol on `/mqtt` whatever the query string
    /// (AWS IoT Core's SigV4 parameters); another path is 404, no `mqtt` among the offered
    /// subprotocols 400.
    #[test]
    fn the_upgrade_takes_mqtt_on_its_path() {
        for (path, protocols, status) in [
            ("/mqtt", Some("mqtt"), None),
            ("/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab", Some("mqttv3.1, mqtt"), None),
            ("/", Some("mqtt"), Some(404)),
            ("/mqtt/x", Some("mqtt"), Some(404)),
            ("/mqtt", None, Some(400)),
            ("/mqtt", Some("mqttv3.1"), Some(400)),
        ] {
            match upgrade(&request(path, protocols), Response::new(())) {
                Ok(r) => {
                    assert_eq!(status, None, "{path} {protocols:?}");
                    assert_eq!(r.headers()["sec-websocket-protocol"], "mqtt");
                }
                Err(r) => {
                    assert_eq!(Some(r.status().as_u16()), status, "{path} {protocols:?}: {:?}", r.body())
                }
            }
        }
    }
}
