//! A connection's outgoing side: the bytes waiting for the client, written as the stream takes
//! them.

use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};
use std::{future, io};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncWrite, WriteHalf};

use super::Stream;

/// A connection's outgoing side: the bytes waiting to be written and the stream's write half.
pub(super) struct Out {
    pub(super) half: WriteHalf<Stream>,
    /// Bytes waiting to be written.
    pub(super) buf: BytesMut,
    /// Written since the stream's last flush (TLS holds the bytes of a record until flushed).
    pub(super) unflushed: bool,
}

impl Out {
    /// Whether anything waits to be written or flushed.
    pub(super) fn pending(&self) -> bool {
        !self.buf.is_empty() || self.unflushed
    }

    /// Writes what the stream takes and flushes once everything is written: `Ready` after any
    /// progress, `Pending` when the stream takes nothing now.
    pub(super) fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.buf.is_empty() {
            let n = ready!(Pin::new(&mut self.half).poll_write(cx, &self.buf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.buf.advance(n);
            self.unflushed = true;
            return Poll::Ready(Ok(()));
        }
        if self.unflushed {
            ready!(Pin::new(&mut self.half).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Writes what the stream takes now, without waiting; returns whether it took anything.
    pub(super) fn write_now(&mut self) -> io::Result<bool> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut took = false;
        while self.pending() {
            match self.poll_progress(&mut cx) {
                Poll::Ready(r) => r?,
                Poll::Pending => break,
            }
            took = true;
        }
        Ok(took)
    }

    /// Writes everything, waiting as long as the stream needs.
    pub(super) async fn write_all(&mut self) -> io::Result<()> {
        while self.pending() {
            future::poll_fn(|cx| self.poll_progress(cx)).await?;
        }
        Ok(())
    }
}
