//! The connection-level limits of `[server.limits]`, kept out of the accept
//! loop: `max_connections` / `max_connections_per_ip` (a TCP connection
//! over a limit is closed at accept, before a byte is read, so a flood costs
//! no task and no buffer; an admitted socket carries its slot in
//! [`Counted`]) and the refusal log of `header_read_timeout_ms`.
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::limits::counter::Over;
use crate::limits::{Counter, Permit, Refusal, refused};

/// A slot for a new TCP connection from `ip`, or None (refusal logged).
pub fn admit_connection(connections: &Counter, ip: IpAddr) -> Option<Permit> {
    match connections.acquire(ip) {
        Ok(permit) => Some(permit),
        Err(over) => {
            let kind = match over {
                Over::Global => Refusal::Connections,
                Over::PerIp => Refusal::ConnectionsPerIp,
            };
            refused(kind, Some(ip));
            None
        }
    }
}

/// A client socket that holds its connection slot: the slot is freed when
/// the socket is dropped, so a connection upgraded to WebSocket (which
/// outlives hyper's connection future) keeps counting.
pub struct Counted<S> {
    stream: S,
    _permit: Permit,
}

impl<S> Counted<S> {
    pub fn new(stream: S, permit: Permit) -> Counted<S> {
        Counted {
            stream,
            _permit: permit,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Logs how a connection ended with an error; a header read timeout (a
/// slow or silent client) is a limit refusal.
pub fn connection_error(e: &hyper::Error, ip: IpAddr) {
    if e.is_timeout() {
        refused(Refusal::HandshakeTimeout, Some(ip));
    } else {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
