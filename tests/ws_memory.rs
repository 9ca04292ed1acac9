//! Measures the memory of idle WebSocket sessions: RSS growth over 2000
//! sessions opened with raw sockets (so the client side adds only its
//! socket). Ignored by default because RSS is process-wide and noisy; run
//! `cargo test --release --test ws_memory -- --ignored --nocapture`.
mod common;

use common::core_server::{spawn, test_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A raw WebSocket handshake (no client-side library state), reading until
/// the open frame arrived.
async fn raw_ws(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 512];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") || !seen.windows(5).any(|w| w == b"\"sid\"") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn idle_websocket_session_memory() {
    let srv = spawn(test_config()).await;
    let n = 2000;
    let mut warm = Vec::new();
    for _ in 0..200 {
        warm.push(raw_ws(srv.addr).await);
    }
    let before = rss_bytes();
    let mut conns = Vec::new();
    for _ in 0..n {
        conns.push(raw_ws(srv.addr).await);
    }
    let after = rss_bytes();
    let per_session = after.saturating_sub(before) / n;
    println!("per idle websocket session: {per_session} bytes (client sockets included)");
    assert!(
        per_session <= 8 * 1024,
        "idle websocket sessions cost {per_session} bytes each"
    );
    drop(conns);
}
