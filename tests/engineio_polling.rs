//! Engine.IO long-polling against the server core (EIO3 and EIO4): the
//! handshake bytes, POST/GET round trips, batching, b64, JSONP, heartbeats
//! and the HTTP errors of PROTOCOL.md §1.2.
mod common;

use std::time::Duration;

use bytes::Bytes;
use common::core_server::{spawn, test_config, within};
use common::echo_backend::Event;
use common::http_client::{Poller, get, open_json, raw_request, readable, request};
use siogate::config::ServerConfig;
use siogate::protocol::engineio::Packet;
use siogate::server::CloseReason;

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[tokio::test]
async fn eio3_handshake_is_length_prefixed_open_packet() {
    let mut srv = spawn(test_config()).await;
    let (p, resp) = Poller::open(srv.addr, 3, "").await;
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    let expected = format!(
        r#"0{{"sid":"{}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}}"#,
        p.sid
    );
    assert_eq!(resp.text(), format!("{}:{expected}", utf16_len(&expected)));
    assert_eq!(p.sid.len(), 20);
    srv.expect(
        "open",
        |e| matches!(e, Event::Open { sid, .. } if *sid == p.sid),
    )
    .await;
}

#[tokio::test]
async fn eio3_handshake_carries_packets_sent_during_open() {
    let srv = spawn(test_config()).await;
    let (_, resp) = Poller::open(srv.addr, 3, "&greet=1").await;
    let body = resp.text();
    assert!(body.starts_with("97:0{"), "{body}");
    assert!(body.ends_with("}2:40"), "{body}");
}

#[tokio::test]
async fn eio4_handshake_is_bare_open_packet_with_max_payload() {
    let mut srv = spawn(test_config()).await;
    let (p, resp) = Poller::open(srv.addr, 4, "&token=abc").await;
    assert_eq!(
        resp.text(),
        format!(
            r#"0{{"sid":"{}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#,
            p.sid
        )
    );
    let open = srv
        .expect("open", |e| matches!(e, Event::Open { .. }))
        .await;
    assert_eq!(
        open,
        Event::Open {
            sid: p.sid.clone(),
            query: vec![("token".into(), "abc".into())]
        }
    );
}

#[tokio::test]
async fn eio4_post_then_get_round_trips_a_message() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    let post = p.post("4hello").await;
    assert_eq!((post.status, post.text()), (200, "ok"));
    assert_eq!(
        srv.message(&p.sid).await,
        Packet::Message(Bytes::from_static(b"hello"))
    );
    assert_eq!(p.get().await.text(), "4hello");
}

#[tokio::test]
async fn queued_packets_are_batched_into_one_response() {
    let srv = spawn(test_config()).await;
    let (p4, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(p4.post("4a\x1e4b\x1e4c").await.text(), "ok");
    assert_eq!(p4.get().await.text(), "4a\x1e4b\x1e4c");

    let (p3, _) = Poller::open(srv.addr, 3, "").await;
    assert_eq!(p3.post("2:4a15:42[\"ping2\",\"€\"]").await.text(), "ok");
    assert_eq!(p3.get().await.text(), "2:4a15:42[\"ping2\",\"€\"]");
}

#[tokio::test]
async fn eio3_binary_uses_xhr2_framing_unless_b64() {
    let srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    // The same binary message twice: once answered in b64 text, once in XHR2.
    assert_eq!(p.post("10:b4AQIDBA==").await.text(), "ok");
    let text = p.get_with("&b64=1").await;
    assert_eq!(text.text(), "10:b4AQIDBA==");
    let xhr2 = &[0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03, 0x04];
    let post = p
        .post_with(
            "",
            &[("content-type", "application/octet-stream")],
            Bytes::from_static(xhr2),
        )
        .await;
    assert_eq!(post.text(), "ok");
    let bin = p.get().await;
    assert_eq!(bin.header("content-type"), Some("application/octet-stream"));
    assert_eq!(&bin.body[..], xhr2);
}

#[tokio::test]
async fn eio4_binary_is_base64_in_text() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(p.post("bAQID").await.text(), "ok");
    assert_eq!(
        srv.message(&p.sid).await,
        Packet::Binary(Bytes::from_static(&[1, 2, 3]))
    );
    assert_eq!(p.get().await.text(), "bAQID");
}

#[tokio::test]
async fn jsonp_wraps_get_and_decodes_form_post() {
    let mut srv = spawn(test_config()).await;
    let resp = get(srv.addr, "/socket.io/?EIO=3&transport=polling&j=0").await;
    assert_eq!(
        resp.header("content-type"),
        Some("text/javascript; charset=UTF-8")
    );
    let body = resp.text();
    assert!(
        body.starts_with("___eio[0](\"97:0{\\\"sid\\\":\\\""),
        "{body}"
    );
    assert!(body.ends_with("\");"), "{body}");
    let sid = open_json(body.replace("\\\"", "\"").as_bytes())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = Poller {
        addr: srv.addr,
        eio: 3,
        sid,
    };
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    // d=5:4a\nbc — the newline pre-escaped by the client as backslash-n.
    let post = p.post_with("&j=0", &headers, "d=5%3A4a%5Cnbc").await;
    assert_eq!(post.text(), "ok");
    assert_eq!(
        srv.message(&p.sid).await,
        Packet::Message(Bytes::from_static(b"a\nbc"))
    );
    assert_eq!(p.get_with("&j=0").await.text(), "___eio[0](\"5:4a\\nbc\");");
}

#[tokio::test]
async fn second_pending_poll_is_rejected_with_400_and_closes_eio4_session() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    let a = p.spawn_get();
    let b = p.spawn_get();
    // Whichever GET arrives second is refused at once; the session then
    // closes and the pending one is answered with the close packet.
    let (a, b) = within(async { (a.await.unwrap(), b.await.unwrap()) }).await;
    let (refused, pending) = if a.status == 400 { (a, b) } else { (b, a) };
    assert_eq!(refused.status, 400);
    assert_eq!(refused.text(), r#"{"code":3,"message":"Bad request"}"#);
    assert_eq!((pending.status, pending.text()), (200, "1"));
    assert!(matches!(
        srv.closed(&p.sid).await,
        CloseReason::ProtocolError(_)
    ));
}

#[tokio::test]
async fn unknown_sid_is_400_code_1() {
    let srv = spawn(test_config()).await;
    let resp = get(srv.addr, "/socket.io/?EIO=4&transport=polling&sid=nope").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
}

#[tokio::test]
async fn unknown_transport_is_400_code_0() {
    let srv = spawn(test_config()).await;
    let resp = get(srv.addr, "/socket.io/?EIO=4&transport=carrier-pigeon").await;
    assert_eq!(
        (resp.status, resp.text()),
        (400, r#"{"code":0,"message":"Transport unknown"}"#)
    );
}

#[tokio::test]
async fn handshake_errors_use_engineio_codes() {
    let srv = spawn(test_config()).await;
    let post = request(
        srv.addr,
        "POST",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        "4x",
    )
    .await;
    assert_eq!(
        (post.status, post.text()),
        (400, r#"{"code":2,"message":"Bad handshake method"}"#)
    );
    let v5 = get(srv.addr, "/socket.io/?EIO=5&transport=polling").await;
    assert_eq!(
        (v5.status, v5.text()),
        (
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        )
    );
    let rejected = get(srv.addr, "/socket.io/?EIO=4&transport=polling&reject=1").await;
    assert_eq!(
        (rejected.status, rejected.text()),
        (403, r#"{"code":4,"message":"Forbidden"}"#)
    );
    assert_eq!(get(srv.addr, "/elsewhere").await.status, 404);
}

#[tokio::test]
async fn malformed_post_is_400_and_closes_the_session() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    // PROTOCOL.md §5 row 48: the declared length is one too many.
    let post = p
        .post(r#"43:451-3["bin",{"_placeholder":true,"num":0}]"#)
        .await;
    assert_eq!(
        (post.status, post.text()),
        (400, r#"{"code":3,"message":"Bad request"}"#)
    );
    assert!(matches!(
        srv.closed(&p.sid).await,
        CloseReason::ProtocolError(_)
    ));
    assert_eq!(p.get().await.text(), "1:1", "the next poll is told goodbye");
    let after = p.get().await;
    assert_eq!(
        (after.status, after.text()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#)
    );
}

#[tokio::test]
async fn vector_51_oversize_polling_post_is_413() {
    let cfg = ServerConfig {
        max_payload_bytes: 1000,
        ..test_config()
    };
    let srv = spawn(cfg).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    let big = format!("4{}", "x".repeat(2000));
    assert_eq!(p.post(big).await.status, 413);
    let small = p.post("4fits").await;
    assert_eq!(small.status, 200, "the session survives a refused body");
}

/// An EIO3 GET known to be pending on the server: of two concurrent GETs
/// the later one is refused (EIO3 keeps the session), the other waits.
async fn pending_eio3_get(p: &Poller) -> tokio::task::JoinHandle<common::http_client::Resp> {
    let mut a = p.spawn_get();
    let mut b = p.spawn_get();
    let (refused, pending) = within(async {
        tokio::select! {
            r = &mut a => (r.unwrap(), b),
            r = &mut b => (r.unwrap(), a),
        }
    })
    .await;
    assert_eq!(
        (refused.status, refused.text()),
        (400, r#"{"code":3,"message":"Bad request"}"#)
    );
    pending
}

#[tokio::test]
async fn client_close_answers_pending_poll_with_noop() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    let pending = pending_eio3_get(&p).await;
    assert_eq!(p.post("1:1").await.text(), "ok");
    assert_eq!(srv.closed(&p.sid).await, CloseReason::ClientClose);
    assert_eq!(within(pending).await.unwrap().text(), "1:6");
    assert_eq!(p.get().await.status, 400);
}

#[tokio::test]
async fn backend_close_tells_the_poller_goodbye() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 4, "").await;
    assert_eq!(p.post("4close").await.text(), "ok");
    assert_eq!(
        srv.closed(&p.sid).await,
        CloseReason::Backend("asked to close".into())
    );
    assert_eq!(p.get().await.text(), "1");
}

#[tokio::test]
async fn queue_overflow_closes_a_non_polling_client() {
    let mut srv = spawn(ServerConfig {
        max_queue_packets: 8,
        ..test_config()
    })
    .await;
    let (idle, _) = Poller::open(srv.addr, 4, "").await;
    let (busy, _) = Poller::open(srv.addr, 4, "").await;
    let overflows = || {
        siogate::metrics::global()
            .queue_overflows
            .get(siogate::metrics::Queue::Client)
    };
    let before = overflows();
    assert_eq!(idle.post("4flood:20:10").await.text(), "ok");
    assert_eq!(srv.closed(&idle.sid).await, CloseReason::QueueFull);
    // Counted once (process-wide counter: other tests of this binary never
    // overflow a queue); later pushes to the closed session are not.
    assert_eq!(overflows() - before, 1);
    assert_eq!(busy.post("4alive").await.text(), "ok");
    assert_eq!(busy.get().await.text(), "4alive");
}

#[tokio::test]
async fn cors_echoes_allowed_origin_and_refuses_others() {
    let cfg = ServerConfig {
        cors_origins: vec!["https://app.example".into()],
        ..test_config()
    };
    let srv = spawn(cfg).await;
    let url = "/socket.io/?EIO=4&transport=polling";
    let ok = request(
        srv.addr,
        "GET",
        url,
        &[("origin", "https://app.example")],
        "",
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(ok.header("access-control-allow-credentials"), Some("true"));
    let pre = request(
        srv.addr,
        "OPTIONS",
        url,
        &[
            ("origin", "https://app.example"),
            ("access-control-request-headers", "content-type"),
        ],
        "",
    )
    .await;
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(
        pre.header("access-control-allow-methods")
            .unwrap_or("")
            .contains("POST")
    );
    let bad = request(
        srv.addr,
        "GET",
        url,
        &[("origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(
        (bad.status, bad.text()),
        (403, r#"{"code":4,"message":"Forbidden"}"#)
    );
    assert_eq!(bad.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn shutdown_answers_pending_poll_with_close() {
    let mut srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    let pending = pending_eio3_get(&p).await;
    srv.shutdown().await;
    assert_eq!(srv.closed(&p.sid).await, CloseReason::Shutdown);
    let resp = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.text(), "1:1");
}

#[tokio::test]
async fn aborted_poll_does_not_block_the_next_one() {
    let srv = spawn(test_config()).await;
    let (p, _) = Poller::open(srv.addr, 3, "").await;
    // Two raw GETs: the one answered first was refused (400); the other is
    // pending. The client then goes away without waiting for it.
    let a = raw_request(srv.addr, "GET", &p.url("")).await;
    let b = raw_request(srv.addr, "GET", &p.url("")).await;
    let pending = within(async {
        tokio::select! {
            _ = readable(&a) => b,
            _ = readable(&b) => a,
        }
    })
    .await;
    drop(pending);
    // The server notices the closed connection and accepts a new poll.
    // (Until it has, a new GET is refused or the pong goes to the dead one,
    // so retry within a deadline.)
    let deadline = tokio::time::Instant::now() + common::core_server::STEP;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a new poll was never accepted"
        );
        let get = p.spawn_get();
        assert_eq!(p.post("1:2").await.text(), "ok");
        match tokio::time::timeout(Duration::from_millis(500), get).await {
            Ok(Ok(resp)) if resp.status == 200 => {
                assert!(resp.text().starts_with("1:3"), "{}", resp.text());
                break;
            }
            Ok(Ok(resp)) => assert_eq!(resp.status, 400),
            Ok(Err(e)) => panic!("poll task failed: {e}"),
            Err(_) => {}
        }
    }
}
