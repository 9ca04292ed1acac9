//! Leg behaviour against a scripted WebSocket peer on loopback: open packet
//! with go's trailing newline, heartbeats of both revisions, the EIO3 binary
//! type byte, refusal mapping and the goodbye on cancel.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::config::UpstreamUrl;

const STEP: Duration = Duration::from_secs(5);

type PeerWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

fn opts() -> DialOptions {
    DialOptions {
        connect_timeout: STEP,
        handshake_timeout: Duration::from_secs(2),
        tls: None,
        max_message_bytes: 1 << 20,
    }
}

/// A one-connection WebSocket peer; returns its URL and the accepted socket.
async fn peer() -> (Target, tokio::task::JoinHandle<(PeerWs, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let uri = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let seen = uri.clone();
        // The callback type is tungstenite's; its error variant is what it is.
        #[allow(clippy::result_large_err)]
        let cb = move |req: &http::Request<()>, resp| {
            *seen.lock().expect("lock") = req.uri().to_string();
            Ok(resp)
        };
        let ws = tokio_tungstenite::accept_hdr_async(stream, cb)
            .await
            .expect("ws accept");
        let uri = uri.lock().expect("lock").clone();
        (ws, uri)
    });
    let url: UpstreamUrl = format!("ws://{addr}").parse().expect("url");
    (Target::socketio(&url), task)
}

async fn next_text(ws: &mut PeerWs) -> String {
    loop {
        match tokio::time::timeout(STEP, ws.next())
            .await
            .expect("frame in time")
        {
            Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Dials a scripted peer that answers with `first` (normally an open
/// packet); returns the leg's result, the peer socket and the URI it saw.
async fn open_leg(
    rev: Revision,
    query: &str,
    first: &str,
) -> (Result<Leg, LegError>, PeerWs, String) {
    let (target, accept) = peer().await;
    let (headers, o) = (HeaderBlock::default(), opts());
    let connect = Leg::connect(&target, rev, query, &headers, &o);
    let (leg, (ws, uri)) = tokio::join!(connect, async {
        let (mut ws, uri) = accept.await.expect("peer");
        ws.send(Message::text(first)).await.expect("send open");
        (ws, uri)
    });
    (leg, ws, uri)
}

/// How the leg task `run` ended (within [`STEP`]).
async fn ended(run: tokio::task::JoinHandle<LegEnd>) -> LegEnd {
    tokio::time::timeout(STEP, run)
        .await
        .expect("ends")
        .expect("join")
}

const GO_OPEN: &str =
    "0{\"sid\":\"1\",\"upgrades\":[],\"pingInterval\":100,\"pingTimeout\":60000}\n";

#[tokio::test]
async fn eio3_leg_accepts_go_open_pings_and_answers_server_pings() {
    let (leg, mut ws, uri) = open_leg(Revision::V3, "token=abc", GO_OPEN).await;
    let leg = leg.expect("leg opens");
    assert_eq!(leg.open().sid, "1");
    assert_eq!(uri, "/socket.io/?EIO=3&transport=websocket&token=abc");

    let (tx, rx) = outbox::channel(8);
    let cancel = CancellationToken::new();
    let (got_tx, mut got) = tokio::sync::mpsc::unbounded_channel();
    // 'static for the spawned task (a test leaks one small struct).
    let traffic: &'static LegTraffic = Box::leak(Box::default());
    let run = tokio::spawn(leg.run(rx, cancel.clone(), Some(traffic), move |p| {
        let _ = got_tx.send(p);
    }));
    // The leg pings on its own (interval 100 ms) …
    assert_eq!(next_text(&mut ws).await, "2");
    // … answers go's server ping, trailing newline trimmed …
    ws.send(Message::text("2\n")).await.expect("send");
    let mut texts = vec![next_text(&mut ws).await, next_text(&mut ws).await];
    texts.sort();
    assert!(texts.contains(&"3".to_owned()), "{texts:?}");
    // … relays messages both ways, binary with the EIO3 type byte.
    ws.send(Message::text("42/chat?token=abc,[\"x\"]\n"))
        .await
        .expect("send");
    ws.send(Message::binary(vec![4u8, 9, 8]))
        .await
        .expect("send");
    let first = tokio::time::timeout(STEP, got.recv())
        .await
        .expect("in time");
    assert_eq!(
        first,
        Some(Packet::Message(Bytes::from_static(
            b"2/chat?token=abc,[\"x\"]\n"
        )))
    );
    let second = tokio::time::timeout(STEP, got.recv())
        .await
        .expect("in time");
    assert_eq!(second, Some(Packet::Binary(Bytes::from_static(&[9, 8]))));
    tx.push([
        Packet::Message(Bytes::from_static(b"2[\"up\"]")),
        Packet::Binary(Bytes::from_static(&[1, 2])),
    ])
    .expect("queue");
    loop {
        match tokio::time::timeout(STEP, ws.next()).await.expect("frame") {
            Some(Ok(Message::Text(t))) if t.as_str() == "42[\"up\"]" => break,
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    }
    loop {
        match tokio::time::timeout(STEP, ws.next()).await.expect("frame") {
            Some(Ok(Message::Binary(b))) => {
                assert_eq!(&b[..], &[4, 1, 2]);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    }
    // Cancel: the upstream hears `1`, then a close frame.
    cancel.cancel();
    let end = ended(run).await;
    assert_eq!(end, LegEnd::Closed);
    // Messages and attachments counted with their payload (go's `\n`
    // included, the EIO3 type byte not); heartbeats and the goodbye not.
    use crate::metrics::Direction::{In, Out};
    let inbound = "2/chat?token=abc,[\"x\"]\n".len() as u64 + 2;
    assert_eq!((traffic.messages(In), traffic.bytes(In)), (2, inbound));
    let outbound = "2[\"up\"]".len() as u64 + 2;
    assert_eq!((traffic.messages(Out), traffic.bytes(Out)), (2, outbound));
    let mut saw_close_packet = false;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(STEP, ws.next()).await {
        match m {
            Message::Text(t) if t.as_str() == "1" => saw_close_packet = true,
            Message::Close(_) => break,
            _ => {}
        }
    }
    assert!(saw_close_packet);
}

#[tokio::test]
async fn eio4_leg_answers_pings_and_fails_when_the_server_goes_silent() {
    let open = "0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":100,\"pingTimeout\":100,\"maxPayload\":1000000}";
    let (leg, mut ws, _) = open_leg(Revision::V4, "", open).await;
    let leg = leg.expect("leg opens");
    let (_tx, rx) = outbox::channel(1);
    let run = tokio::spawn(leg.run(rx, CancellationToken::new(), None, |_| {}));
    ws.send(Message::text("2")).await.expect("ping");
    assert_eq!(next_text(&mut ws).await, "3");
    // No further ping: the leg gives up after interval + timeout.
    let end = ended(run).await;
    assert_eq!(end, LegEnd::Failed("upstream heartbeat timeout"));
}

#[tokio::test]
async fn an_upstream_that_stops_reading_fills_the_bounded_queue() {
    let open = "0{\"sid\":\"a\",\"upgrades\":[],\"pingInterval\":60000,\"pingTimeout\":60000}";
    let (leg, _ws, _) = open_leg(Revision::V4, "", open).await; // the peer never reads
    let (tx, rx) = outbox::channel(4);
    let cancel = CancellationToken::new();
    let run = tokio::spawn(
        leg.expect("leg opens")
            .run(rx, cancel.clone(), None, |_| {}),
    );
    let big = Bytes::from(vec![b'a'; 256 * 1024]);
    let filled = tokio::time::timeout(STEP, async {
        loop {
            match tx.push([Packet::Message(big.clone())]) {
                Ok(()) => tokio::task::yield_now().await,
                Err(refused) => return refused,
            }
        }
    })
    .await
    .expect("the queue fills once the socket is full");
    assert_eq!(filled, outbox::Refused::Full);
    // Cancelled while a write is stuck: it ends at once, without a goodbye.
    cancel.cancel();
    let end = ended(run).await;
    assert_eq!(end, LegEnd::Closed);
}

#[tokio::test]
async fn http_refusal_and_missing_open_are_errors() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await;
    });
    let url: UpstreamUrl = format!("ws://{addr}").parse().expect("url");
    let err = Leg::connect(
        &Target::socketio(&url),
        Revision::V3,
        "",
        &HeaderBlock::default(),
        &opts(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, LegError::Refused { status: 403 }), "{err}");
    assert!(err.is_refusal());

    let (leg, _ws, _) = open_leg(Revision::V3, "", "40").await;
    assert!(matches!(leg.unwrap_err(), LegError::BadOpen));
}

#[test]
fn trim_strips_go_newlines_only_at_the_edges() {
    assert_eq!(trim(Bytes::from_static(b"probe\n")), "probe");
    assert_eq!(trim(Bytes::from_static(b"\n")), "");
    assert_eq!(trim(Bytes::from_static(b"a b")), "a b");
}
