//! Dialing an upstream: TCP connect (+ TLS for `wss://`) within the connect
//! timeout, then the WebSocket upgrade to
//! `<path>?EIO=<3|4>&transport=websocket[&<query>]` within the handshake
//! timeout (our own client handshake, [`super::handshake`], so the
//! connection's read buffer is the small one configured here). The request carries the client's `Cookie`, `Authorization`,
//! `User-Agent` and `Origin` and adds `X-Forwarded-For`/`-Proto`/`-Host`
//! ([`forwarded_headers`]), so a legacy app that reads them keeps working.
use std::sync::Arc;
use std::time::Duration;

use http::header::{
    AUTHORIZATION, COOKIE, HOST, HeaderMap, HeaderName, HeaderValue, ORIGIN, USER_AGENT,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::LegError;
use super::handshake::{HandshakeError, HeaderBlock, client_upgrade};
use crate::config::UpstreamUrl;
use crate::protocol::engineio::Revision;
use crate::server::Handshake;

/// A byte stream a WebSocket can run on (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The WebSocket to an upstream.
pub type UpstreamWs = WebSocketStream<Box<dyn Io>>;

/// tungstenite's read buffer per upstream socket (its default of 128 KiB
/// would dominate the memory of a proxied session). tungstenite zero-fills
/// it, so all of it is resident in every leg; it is also the largest single
/// read, so a message of n KiB takes about n reads. 1 KiB, as on the
/// client side (`transport::websocket::READ_BUFFER_BYTES`), holds typical
/// Socket.IO messages in one read.
const READ_BUFFER_BYTES: usize = 1024;

/// Where a leg goes: the upstream and the HTTP path on it (the Socket.IO
/// path of its URL, or the raw Engine.IO path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: UpstreamUrl,
    pub path: String,
}

impl Target {
    /// The upstream's Socket.IO path.
    pub fn socketio(url: &UpstreamUrl) -> Target {
        Target {
            url: url.clone(),
            path: url.path.clone(),
        }
    }

    /// The request target (path and query) of an Engine.IO WebSocket
    /// handshake.
    pub fn request_target(&self, eio: Revision, query: &str) -> String {
        let eio = match eio {
            Revision::V3 => 3,
            Revision::V4 => 4,
        };
        let mut uri = format!("{}?EIO={eio}&transport=websocket", self.path);
        if !query.is_empty() {
            uri.push('&');
            uri.push_str(query);
        }
        uri
    }
}

/// Timeouts, TLS and WebSocket limits for every dial of one proxy.
#[derive(Clone)]
pub struct DialOptions {
    /// TCP connect (+ TLS handshake).
    pub connect_timeout: Duration,
    /// WebSocket upgrade + Engine.IO open packet.
    pub handshake_timeout: Duration,
    /// For `wss://` upstreams; `None` refuses them.
    pub tls: Option<Arc<ClientConfig>>,
    /// Largest message accepted from an upstream.
    pub max_message_bytes: usize,
}

impl std::fmt::Debug for DialOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DialOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("tls", &self.tls.is_some())
            .field("max_message_bytes", &self.max_message_bytes)
            .finish()
    }
}

impl DialOptions {
    fn ws_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(0)
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_message_bytes))
    }
}

/// Connects and upgrades; the Engine.IO open packet is read by the caller.
pub async fn dial(
    target: &Target,
    eio: Revision,
    query: &str,
    headers: &HeaderBlock,
    opts: &DialOptions,
) -> Result<UpstreamWs, LegError> {
    let mut stream = tokio::time::timeout(opts.connect_timeout, connect(&target.url, opts))
        .await
        .map_err(|_| LegError::Timeout("upstream connect"))??;
    let request_target = target.request_target(eio, query);
    let host = target.url.authority();
    let upgrade = client_upgrade(&mut stream, &host, &request_target, headers);
    let rest = match tokio::time::timeout(opts.handshake_timeout, upgrade).await {
        Err(_) => return Err(LegError::Timeout("upstream handshake")),
        Ok(Err(HandshakeError::Status(status))) => return Err(LegError::Refused { status }),
        Ok(Err(e)) => return Err(LegError::Handshake(e)),
        Ok(Ok(rest)) => rest,
    };
    let config = Some(opts.ws_config());
    Ok(if rest.is_empty() {
        WebSocketStream::from_raw_socket(stream, Role::Client, config).await
    } else {
        WebSocketStream::from_partially_read(stream, rest, Role::Client, config).await
    })
}

/// TCP, then TLS for `wss://`.
async fn connect(url: &UpstreamUrl, opts: &DialOptions) -> Result<Box<dyn Io>, LegError> {
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((host, url.port))
        .await
        .map_err(|source| LegError::Connect {
            addr: url.authority(),
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    if !url.tls {
        return Ok(Box::new(tcp));
    }
    let Some(config) = opts.tls.clone() else {
        return Err(LegError::Tls(
            "wss:// upstream without a TLS configuration".into(),
        ));
    };
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| LegError::Tls(format!("server name {host:?}: {e}")))?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| LegError::Tls(e.to_string()))?;
    Ok(Box::new(tls))
}

/// The headers an upstream handshake carries for a client: `Cookie`,
/// `Authorization`, `User-Agent` and `Origin` copied; `X-Forwarded-For` is
/// the client's list plus its address; `X-Forwarded-Proto` the client's
/// scheme; `X-Forwarded-Host` the `Host` the client asked for.
pub fn forwarded_headers(hs: &Handshake) -> HeaderMap {
    // Collected first so the map is allocated at its final size: it lives as
    // long as the session, and `HeaderMap::new()` grows to 8 slots (~0.6 KiB)
    // on the first insert.
    let mut pairs: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(8);
    for name in [COOKIE, AUTHORIZATION, USER_AGENT, ORIGIN] {
        for value in hs.headers.get_all(&name) {
            pairs.push((name.clone(), value.clone()));
        }
    }
    let xff = HeaderName::from_static("x-forwarded-for");
    let mut chain: Vec<&str> = hs
        .headers
        .get_all(&xff)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = hs.remote.ip().to_string();
    chain.push(&ip);
    if let Ok(v) = HeaderValue::from_str(&chain.join(", ")) {
        pairs.push((xff, v));
    }
    let proto = if hs.secure { "https" } else { "http" };
    pairs.push((
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static(proto),
    ));
    if let Some(host) = hs.headers.get(HOST) {
        pairs.push((HeaderName::from_static("x-forwarded-host"), host.clone()));
    }
    let mut out = HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        out.append(name, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::socketio::connect::Query;
    use crate::server::TransportKind;

    fn handshake(headers: &[(&str, &str)]) -> Handshake {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        Handshake {
            sid: "s".into(),
            eio: Revision::V3,
            transport: TransportKind::Polling,
            query: Query::default(),
            headers: map,
            remote: "10.1.2.3:5555".parse().expect("addr"),
            secure: false,
        }
    }

    #[test]
    fn request_target_carries_revision_transport_and_query() {
        let url: UpstreamUrl = "ws://10.0.0.5:8000".parse().expect("url");
        let t = Target::socketio(&url);
        assert_eq!(
            t.request_target(Revision::V3, "token=abc"),
            "/socket.io/?EIO=3&transport=websocket&token=abc"
        );
        let url: UpstreamUrl = "wss://gw:443/push/".parse().expect("url");
        assert_eq!(
            Target::socketio(&url).request_target(Revision::V4, ""),
            "/push/?EIO=4&transport=websocket"
        );
    }

    #[test]
    fn forwarded_headers_copy_identity_and_append_the_client_address() {
        let hs = handshake(&[
            ("cookie", "a=1"),
            ("authorization", "Bearer t"),
            ("user-agent", "ua"),
            ("origin", "http://app"),
            ("host", "gw.example:3000"),
            ("x-forwarded-for", "192.0.2.1"),
            ("accept", "*/*"),
        ]);
        let h = forwarded_headers(&hs);
        assert_eq!(h["cookie"], "a=1");
        assert_eq!(h["authorization"], "Bearer t");
        assert_eq!(h["user-agent"], "ua");
        assert_eq!(h["origin"], "http://app");
        assert_eq!(h["x-forwarded-for"], "192.0.2.1, 10.1.2.3");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "gw.example:3000");
        assert!(h.get("accept").is_none());
    }

    #[test]
    fn forwarded_for_starts_a_chain_when_the_client_sent_none() {
        let h = forwarded_headers(&handshake(&[]));
        assert_eq!(h["x-forwarded-for"], "10.1.2.3");
        assert!(h.get("x-forwarded-host").is_none());
    }

    #[tokio::test]
    async fn refused_connection_is_a_connect_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let url: UpstreamUrl = format!("ws://{addr}").parse().expect("url");
        let opts = DialOptions {
            connect_timeout: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(2),
            tls: None,
            max_message_bytes: 1 << 20,
        };
        let Err(err) = dial(
            &Target::socketio(&url),
            Revision::V3,
            "",
            &HeaderBlock::default(),
            &opts,
        )
        .await
        else {
            panic!("dial to a closed port succeeded");
        };
        assert!(matches!(err, LegError::Connect { .. }), "{err}");
    }
}
