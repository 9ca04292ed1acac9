//! The client side of the WebSocket opening handshake (RFC 6455 §4.1) for
//! upstream legs: one `GET … Upgrade: websocket` request written in one go,
//! then the response head read into a small buffer that grows only as far
//! as [`MAX_RESPONSE_HEAD`], parsed with `httparse`, and checked: status
//! 101, `Upgrade: websocket`, a `Connection` that lists `upgrade`, the
//! `Sec-WebSocket-Accept` derived from our key, and no extension we did not
//! offer. Bytes that arrived after the head (the upstream's first frames,
//! often in the same segment as the 101) are handed back for the WebSocket.
//!
//! Why not tungstenite's client handshake: it reads into a 4 KiB buffer and
//! hands that allocation over as the connection's read buffer, whatever the
//! configured size, which was the largest single item of a proxied
//! session's memory (BENCHMARKS.md). Here the head buffer is dropped once
//! the handshake is done. Timeouts are the caller's (the whole exchange
//! runs under the dial's handshake timeout).
use http::HeaderMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Largest response head accepted (status line, headers, blank line).
pub const MAX_RESPONSE_HEAD: usize = 8 * 1024;

/// Most response headers accepted.
const MAX_HEADERS: usize = 32;

/// The head buffer's first size; typical upgrade responses fit.
const FIRST_READ: usize = 512;

/// Why an upstream's WebSocket upgrade failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The upstream answered with another status than 101 (a refusal such
    /// as 403 from go's `AllowRequest`, or an error page).
    #[error("upstream answered the upgrade with HTTP {0}")]
    Status(u16),
    /// The response head is not valid HTTP/1.x.
    #[error("malformed upgrade response: {0}")]
    Malformed(String),
    /// A 101 whose headers do not complete a WebSocket upgrade.
    #[error("invalid upgrade response: {0}")]
    Invalid(&'static str),
    /// `Sec-WebSocket-Accept` is not the one derived from our key.
    #[error("Sec-WebSocket-Accept does not match the request key")]
    WrongAccept,
    /// No end of the response head within [`MAX_RESPONSE_HEAD`] bytes.
    #[error("upgrade response head exceeds {limit} bytes")]
    TooLarge { limit: usize },
    /// The connection ended before the response head did.
    #[error("connection closed after {got} bytes, before the end of the upgrade response")]
    Truncated { got: usize },
    /// The request target cannot be sent as is.
    #[error("invalid request target {0:?}")]
    BadTarget(String),
    /// Reading or writing the socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Extra request headers, encoded once as the `name: value\r\n` lines they
/// go out as: a session keeps them for every leg it may open, and one
/// exact-size allocation is ~100 bytes where a `HeaderMap` took ~300.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderBlock(Box<[u8]>);

impl From<&HeaderMap> for HeaderBlock {
    fn from(headers: &HeaderMap) -> HeaderBlock {
        let mut out = Vec::new();
        // `HeaderValue`s never hold CR, LF or NUL, so they go out verbatim.
        for (name, value) in headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        HeaderBlock(out.into_boxed_slice())
    }
}

/// Upgrades `stream` to a WebSocket: `host` is the `Host` header,
/// `target` the request target (path and query), `headers` are sent as
/// well. Returns the bytes read past the response head.
pub async fn client_upgrade<S>(
    stream: &mut S,
    host: &str,
    target: &str,
    headers: &HeaderBlock,
) -> Result<Vec<u8>, HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let key = generate_key();
    let request = encode_request(host, target, headers, &key)?;
    stream.write_all(&request).await?;
    stream.flush().await?;
    drop(request);
    let (head, mut buf) = read_head(stream, MAX_RESPONSE_HEAD).await?;
    check_response(&buf[..head], &key)?;
    Ok(buf.split_off(head))
}

/// The request bytes. The target must be a valid origin-form path and
/// query (it is built from configuration and the client's query, so this
/// also keeps CR/LF out of the request line).
fn encode_request(
    host: &str,
    target: &str,
    headers: &HeaderBlock,
    key: &str,
) -> Result<Vec<u8>, HandshakeError> {
    if !target.starts_with('/') || target.parse::<http::uri::PathAndQuery>().is_err() {
        return Err(HandshakeError::BadTarget(target.to_owned()));
    }
    if host.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(HandshakeError::BadTarget(host.to_owned()));
    }
    let mut out = Vec::with_capacity(160 + target.len() + host.len() + headers.0.len());
    for part in [
        "GET ",
        target,
        " HTTP/1.1\r\nHost: ",
        host,
        "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ",
        key,
        "\r\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(&headers.0);
    out.extend_from_slice(b"\r\n");
    Ok(out)
}

/// Reads until the blank line that ends the head; returns the head's
/// length and everything read (head and what followed it).
async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    limit: usize,
) -> Result<(usize, Vec<u8>), HandshakeError> {
    let mut buf: Vec<u8> = Vec::with_capacity(FIRST_READ.min(limit));
    loop {
        // Doubling, but never past `limit` (below it here: see the end).
        if buf.len() == buf.capacity() {
            buf.reserve_exact(buf.len().min(limit - buf.len()).max(1));
        }
        let scan_from = buf.len().saturating_sub(3);
        let n = stream.read_buf(&mut buf).await?;
        if n == 0 {
            return Err(HandshakeError::Truncated { got: buf.len() });
        }
        if let Some(at) = memchr::memmem::find(&buf[scan_from..], b"\r\n\r\n") {
            let end = scan_from + at + 4;
            if end > limit {
                return Err(HandshakeError::TooLarge { limit });
            }
            return Ok((end, buf));
        }
        if buf.len() >= limit {
            return Err(HandshakeError::TooLarge { limit });
        }
    }
}

/// Checks a complete response head against the request key.
fn check_response(head: &[u8], key: &str) -> Result<(), HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(HandshakeError::Malformed("incomplete head".into()));
        }
        Err(e) => return Err(HandshakeError::Malformed(e.to_string())),
    }
    let status = resp.code.unwrap_or(0);
    if status != 101 {
        return Err(HandshakeError::Status(status));
    }
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    if !header("upgrade").is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"websocket")) {
        return Err(HandshakeError::Invalid("no `Upgrade: websocket`"));
    }
    let lists_upgrade = header("connection").is_some_and(|v| {
        v.split(|&b| b == b',')
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"upgrade"))
    });
    if !lists_upgrade {
        return Err(HandshakeError::Invalid("no `Connection: upgrade`"));
    }
    if header("sec-websocket-extensions").is_some() {
        return Err(HandshakeError::Invalid("an extension that was not offered"));
    }
    match header("sec-websocket-accept") {
        None => Err(HandshakeError::Invalid("no Sec-WebSocket-Accept")),
        Some(v) if v.trim_ascii() == derive_accept_key(key.as_bytes()).as_bytes() => Ok(()),
        Some(_) => Err(HandshakeError::WrongAccept),
    }
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
