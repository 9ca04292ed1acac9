//! The sockets one server core accepts on: a plain HTTP listener, an HTTPS
//! listener (TLS terminated here, with a handshake timeout), or both side
//! by side. Either way every connection reaches the same context, so
//! sessions opened over HTTP and HTTPS share one registry.
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// An HTTPS listener: the socket, the acceptor (certificates may be swapped
/// underneath it) and how long a client may take to finish its handshake.
pub struct TlsListener {
    pub listener: TcpListener,
    pub acceptor: TlsAcceptor,
    pub handshake_timeout: Duration,
}

/// What [`crate::server::serve`] accepts on. Built from a `TcpListener`
/// (plain HTTP, the historical form), a [`TlsListener`], or both.
pub struct Listeners {
    plain: Option<TcpListener>,
    tls: Option<TlsListener>,
}

impl From<TcpListener> for Listeners {
    fn from(listener: TcpListener) -> Self {
        Listeners {
            plain: Some(listener),
            tls: None,
        }
    }
}

impl From<TlsListener> for Listeners {
    fn from(tls: TlsListener) -> Self {
        Listeners {
            plain: None,
            tls: Some(tls),
        }
    }
}

/// A connection just accepted, before any byte is read.
pub(super) enum Accepted {
    Plain(TcpStream),
    Tls(TcpStream, TlsAcceptor, Duration),
}

/// Why a TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("tls handshake timed out after {0:?}")]
    Timeout(Duration),
    #[error("tls handshake failed: {0}")]
    Failed(io::Error),
}

impl Listeners {
    /// Plain HTTP on `plain` and HTTPS on `tls`.
    pub fn both(plain: TcpListener, tls: TlsListener) -> Self {
        Listeners {
            plain: Some(plain),
            tls: Some(tls),
        }
    }

    /// The plain HTTP address, if there is a plain listener.
    pub fn plain_addr(&self) -> Option<SocketAddr> {
        self.plain.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The HTTPS address, if there is a TLS listener.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().and_then(|t| t.listener.local_addr().ok())
    }

    /// The next connection on either listener. Accept errors are handled
    /// here (logged, with a short back-off for resource exhaustion).
    pub(super) async fn accept(&self) -> (Accepted, SocketAddr) {
        loop {
            let result = tokio::select! {
                r = accept_plain(self.plain.as_ref()) => r,
                r = accept_tls(self.tls.as_ref()) => r,
            };
            match result {
                Ok(accepted) => return accepted,
                Err(e) => super::accept_error(e).await,
            }
        }
    }
}

async fn accept_plain(listener: Option<&TcpListener>) -> io::Result<(Accepted, SocketAddr)> {
    let Some(l) = listener else {
        return std::future::pending().await;
    };
    let (stream, peer) = l.accept().await?;
    Ok((Accepted::Plain(stream), peer))
}

async fn accept_tls(tls: Option<&TlsListener>) -> io::Result<(Accepted, SocketAddr)> {
    let Some(t) = tls else {
        return std::future::pending().await;
    };
    let (stream, peer) = t.listener.accept().await?;
    Ok((
        Accepted::Tls(stream, t.acceptor.clone(), t.handshake_timeout),
        peer,
    ))
}

/// Completes the server side of a TLS handshake within `limit`, counting
/// the outcome in `siogate_tls_handshakes_total`.
pub(super) async fn handshake(
    stream: TcpStream,
    acceptor: &TlsAcceptor,
    limit: Duration,
) -> Result<TlsStream<TcpStream>, HandshakeError> {
    use crate::metrics::Outcome;
    let (result, outcome) = match tokio::time::timeout(limit, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => (Ok(tls), Outcome::Ok),
        Ok(Err(e)) => (Err(HandshakeError::Failed(e)), Outcome::Error),
        Err(_) => (Err(HandshakeError::Timeout(limit)), Outcome::Timeout),
    };
    crate::metrics::global().tls_handshakes.inc(outcome);
    result
}

/// Request extension present on every request that arrived over TLS (the
/// handshake records it as `Handshake::secure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure;
