//! The namespace-query fix as a strict client sees it. The client here is a
//! raw tokio-tungstenite Engine.IO 3 / Socket.IO 4 client that behaves the
//! way Postman is believed to (PROTOCOL.md §3.5): it sends
//! `40/chat?token=abc,` and accepts the CONNECT reply only if its namespace
//! is exactly `/chat`, then expects every later packet tagged `/chat`.
//! Through siogate it connects to every flavor; directly against the go
//! v1.0.1 stand-in it fails (the reply is `40/chat?token=abc`), and against
//! v1.4.3 the connection dies — the baseline the proxy fixes.

#[allow(unused_imports)] // each test binary uses a part of the shared harness
mod common;
mod proxy_harness;

use std::net::SocketAddr;
use std::time::Duration;

use common::gofixture::{GoFixture, GoVersion};
use common::node::Upstream;
use futures_util::{SinkExt, StreamExt};
use proxy_harness::{config, node_ws, spawn};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long the strict client waits for each expected frame.
const WAIT: Duration = Duration::from_secs(3);

/// The next text frame (Engine.IO heartbeats skipped), or why there is none.
async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Err("no frame in time".into()),
            Ok(Some(Ok(Message::Text(t)))) if t.as_str() == "2" || t.as_str() == "3" => continue,
            Ok(Some(Ok(Message::Text(t)))) => return Ok(t.as_str().to_owned()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) => return Err("connection closed".into()),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => return Err(format!("connection failed: {e}")),
        }
    }
}

async fn send(ws: &mut Ws, text: &str) -> Result<(), String> {
    ws.send(Message::text(text.to_owned()))
        .await
        .map_err(|e| format!("send {text:?}: {e}"))
}

/// Connects to `/chat` with a token and checks the replies strictly.
async fn strict_client(addr: SocketAddr) -> Result<(), String> {
    let url = format!("ws://{addr}/socket.io/?token=abc&EIO=3&transport=websocket");
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let open = next_text(&mut ws).await?;
    let json: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').ok_or("no open packet")?)
            .map_err(|e| format!("open packet {open:?}: {e}"))?;
    json["sid"].as_str().ok_or("open packet without sid")?;
    let root = next_text(&mut ws).await?;
    if root != "40" {
        return Err(format!("expected the root CONNECT `40`, got {root:?}"));
    }
    send(&mut ws, "40/chat?token=abc,").await?;
    let reply = next_text(&mut ws).await?;
    let nsp = reply
        .strip_prefix("40")
        .ok_or_else(|| format!("expected a CONNECT reply, got {reply:?}"))?;
    let nsp = nsp.strip_suffix(',').unwrap_or(nsp);
    if nsp != "/chat" {
        return Err(format!("CONNECT reply namespace {nsp:?} is not \"/chat\""));
    }
    send(&mut ws, "42/chat,7[\"echo\",\"strict\"]").await?;
    let ack = next_text(&mut ws).await?;
    let ack = ack.trim_end();
    if ack != "43/chat,7[\"strict\"]" {
        return Err(format!("ack {ack:?} is not tagged /chat"));
    }
    let _ = ws.close(None).await;
    Ok(())
}

#[tokio::test]
async fn strict_client_connects_through_siogate_to_every_go_flavor() {
    for (v, flavor) in [
        (GoVersion::V1_0_1, "go-legacy"),
        (GoVersion::V1_4_3, "go-1.4"),
        (GoVersion::V1_7_0, "go-modern"),
    ] {
        let fx = GoFixture::start(v).await;
        let proxy = spawn(config(flavor, &[format!("ws://{}", fx.addr)], |_| {})).await;
        let result = strict_client(proxy.addr).await;
        assert_eq!(result, Ok(()), "{flavor} through siogate");
        proxy.wait_idle().await;
    }
}

#[tokio::test]
async fn strict_client_connects_through_siogate_to_node_flavors() {
    for (major, flavor) in [(2, "node-v2"), (4, "v4")] {
        let up = Upstream::start(major).await;
        let proxy = spawn(config(flavor, &[node_ws(&up)], |_| {})).await;
        let result = strict_client(proxy.addr).await;
        assert_eq!(result, Ok(()), "{flavor} through siogate");
        proxy.wait_idle().await;
    }
}

#[tokio::test]
async fn strict_client_fails_directly_against_go_1_0_1_and_1_4_3() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let err = strict_client(fx.addr).await.unwrap_err();
    assert_eq!(
        err,
        "CONNECT reply namespace \"/chat?token=abc\" is not \"/chat\""
    );

    let fx = GoFixture::start(GoVersion::V1_4_3).await;
    let err = strict_client(fx.addr).await.unwrap_err();
    assert!(err.starts_with("connection"), "{err}");

    // The same client is fine against socket.io 2.5.0, which splits the query.
    let up = Upstream::start(2).await;
    let addr: SocketAddr = ([127, 0, 0, 1], up.port).into();
    assert_eq!(strict_client(addr).await, Ok(()));
}
