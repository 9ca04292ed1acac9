//! Engine.IO over WebSocket against the server core (EIO3 and EIO4):
//! WebSocket-only handshakes, echo of text and binary frames, size limits,
//! heartbeats, the bounded queue, Origin checks, extra routes and shutdown.
mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::core_server::{spawn, spawn_with_routes, test_config, within};
use common::echo_backend::Event;
use common::http_client::get;
use common::ws_client::{
    connect, next, next_text, open_sid, send_binary, send_text, try_connect, until_close,
};
use siogate::config::ServerConfig;
use siogate::protocol::engineio::Packet;
use siogate::server::{CloseReason, Routes};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn eio4_websocket_only_session_starts_with_open_frame() {
    let mut srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 4, "&token=t").await;
    let open = next_text(&mut ws).await;
    let sid = open_sid(&open);
    assert_eq!(
        open,
        format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        )
    );
    let event = srv
        .expect("open", |e| matches!(e, Event::Open { .. }))
        .await;
    assert_eq!(
        event,
        Event::Open {
            sid,
            query: vec![("token".into(), "t".into())]
        }
    );
}

#[tokio::test]
async fn eio3_websocket_open_is_followed_by_packets_sent_during_open() {
    let srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 3, "&greet=1").await;
    let open = next_text(&mut ws).await;
    assert!(open.starts_with(r#"0{"sid":""#), "{open}");
    assert!(
        open.ends_with(r#""upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#),
        "{open}"
    );
    assert_eq!(next_text(&mut ws).await, "40");
}

#[tokio::test]
async fn text_messages_echo_in_both_revisions() {
    let mut srv = spawn(test_config()).await;
    for eio in [3, 4] {
        let mut ws = connect(srv.addr, eio, "").await;
        let sid = open_sid(&next_text(&mut ws).await);
        send_text(&mut ws, "42[\"ping\",\"€\"]").await;
        assert_eq!(next_text(&mut ws).await, "42[\"ping\",\"€\"]");
        assert_eq!(
            srv.message(&sid).await,
            Packet::Message(Bytes::from("2[\"ping\",\"€\"]"))
        );
    }
}

#[tokio::test]
async fn eio3_binary_frames_carry_type_byte() {
    let mut srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 3, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    send_binary(&mut ws, &[0x04, 1, 2, 3]).await;
    assert_eq!(next(&mut ws).await, Message::binary(vec![0x04, 1, 2, 3]));
    assert_eq!(
        srv.message(&sid).await,
        Packet::Binary(Bytes::from_static(&[1, 2, 3]))
    );
}

#[tokio::test]
async fn eio4_binary_frames_are_raw() {
    let mut srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 4, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    send_binary(&mut ws, &[1, 2, 3]).await;
    assert_eq!(next(&mut ws).await, Message::binary(vec![1, 2, 3]));
    assert_eq!(
        srv.message(&sid).await,
        Packet::Binary(Bytes::from_static(&[1, 2, 3]))
    );
}

#[tokio::test]
async fn vector_51_oversize_websocket_message_closes_with_1009() {
    let mut srv = spawn(ServerConfig {
        max_payload_bytes: 1000,
        ..test_config()
    })
    .await;
    let mut ws = connect(srv.addr, 4, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    send_text(&mut ws, &format!("4{}", "x".repeat(2000))).await;
    let (_, frame) = until_close(&mut ws).await;
    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Size));
    assert!(matches!(
        srv.closed(&sid).await,
        CloseReason::ProtocolError(_)
    ));
}

#[tokio::test]
async fn client_close_packet_ends_the_session() {
    let mut srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 4, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    send_text(&mut ws, "1").await;
    assert_eq!(srv.closed(&sid).await, CloseReason::ClientClose);
    until_close(&mut ws).await;
}

#[tokio::test]
async fn slow_client_is_disconnected_when_queue_full_while_others_keep_working() {
    let mut srv = spawn(ServerConfig {
        max_queue_packets: 16,
        ..test_config()
    })
    .await;
    let mut slow = connect(srv.addr, 4, "").await;
    let slow_sid = open_sid(&next_text(&mut slow).await);
    let mut fine = connect(srv.addr, 4, "").await;
    next_text(&mut fine).await;
    // 64 KiB messages fill the socket buffers of a client that never reads;
    // then the bounded queue overflows.
    send_text(&mut slow, "4flood:2000:65536").await;
    assert_eq!(srv.closed(&slow_sid).await, CloseReason::QueueFull);
    send_text(&mut fine, "4still fine").await;
    assert_eq!(next_text(&mut fine).await, "4still fine");
}

#[tokio::test]
async fn disallowed_origin_is_refused_with_403() {
    let cfg = ServerConfig {
        cors_origins: vec!["https://app.example".into()],
        ..test_config()
    };
    let srv = spawn(cfg).await;
    let err = try_connect(srv.addr, 4, "", &[("origin", "https://evil.example")])
        .await
        .err();
    match err {
        Some(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected an HTTP 403, got {other:?}"),
    }
    let mut ok = try_connect(srv.addr, 4, "", &[("origin", "https://app.example")])
        .await
        .expect("allowed origin");
    assert!(next_text(&mut ok).await.starts_with("0{"));
}

#[tokio::test]
async fn rejected_handshake_is_an_http_error() {
    let srv = spawn(test_config()).await;
    match try_connect(srv.addr, 4, "&reject=1", &[]).await.err() {
        Some(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 403);
            assert_eq!(
                resp.body().as_deref(),
                Some(&br#"{"code":4,"message":"Forbidden"}"#[..])
            );
        }
        other => panic!("expected an HTTP 403, got {other:?}"),
    }
}

#[tokio::test]
async fn websocket_transport_without_upgrade_headers_is_400() {
    let srv = spawn(test_config()).await;
    let resp = get(srv.addr, "/socket.io/?EIO=4&transport=websocket").await;
    assert_eq!(
        (resp.status, resp.text()),
        (400, r#"{"code":3,"message":"Bad request"}"#)
    );
}

#[tokio::test]
async fn extra_routes_share_the_listener() {
    let routes: Routes = Arc::new(|req| {
        Box::pin(async move {
            let status = if req.uri().path() == "/api/v1/ping" {
                200
            } else {
                404
            };
            let mut resp =
                http::Response::new(siogate::server::Body::new(Bytes::from_static(b"pong")));
            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap();
            resp
        })
    });
    let srv = spawn_with_routes(test_config(), Some(routes)).await;
    let resp = get(srv.addr, "/api/v1/ping").await;
    assert_eq!((resp.status, resp.text()), (200, "pong"));
    assert_eq!(get(srv.addr, "/api/v1/other").await.status, 404);
    let mut ws = connect(srv.addr, 4, "").await;
    assert!(next_text(&mut ws).await.starts_with("0{"));
}

#[tokio::test]
async fn shutdown_sends_close_packet_and_stops_accepting() {
    let mut srv = spawn(test_config()).await;
    let mut ws = connect(srv.addr, 3, "").await;
    let sid = open_sid(&next_text(&mut ws).await);
    srv.shutdown().await;
    let (seen, frame) = until_close(&mut ws).await;
    assert_eq!(seen, vec![Message::text("1")]);
    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Away));
    assert_eq!(srv.closed(&sid).await, CloseReason::Shutdown);
    assert!(
        within(tokio::net::TcpStream::connect(srv.addr))
            .await
            .is_err(),
        "listener closed"
    );
}
