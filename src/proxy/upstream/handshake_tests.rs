//! The upgrade exchange against a scripted peer on an in-memory stream:
//! a good 101 (with frames right behind it, and split into single bytes),
//! and every bad answer as its own error, never a panic.
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

const STEP: Duration = Duration::from_secs(5);

/// Reads the request head the client sent; returns it as text.
async fn read_request(peer: &mut DuplexStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = peer.read(&mut byte).await.expect("read request");
        assert_eq!(
            n,
            1,
            "request ended early: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("ascii request")
}

fn key_of(request: &str) -> String {
    request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("key header")
        .to_owned()
}

fn accept_101(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
}

/// Runs the client against a peer that answers with `answer(key)`, sent in
/// chunks of `chunk` bytes, then closes its side.
async fn exchange(
    answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
    chunk: usize,
) -> (Result<Vec<u8>, HandshakeError>, String) {
    let (mut client, mut peer) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let request = read_request(&mut peer).await;
        let bytes = answer(&key_of(&request));
        for part in bytes.chunks(chunk.max(1)) {
            if peer.write_all(part).await.is_err() {
                break;
            }
        }
        let _ = peer.shutdown().await;
        (request, peer)
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("x-forwarded-for"),
        HeaderValue::from_static("10.1.2.3"),
    );
    let headers = HeaderBlock::from(&headers);
    let upgrade = client_upgrade(
        &mut client,
        "gw:8000",
        "/socket.io/?EIO=4&transport=websocket",
        &headers,
    );
    let result = tokio::time::timeout(STEP, upgrade).await.expect("no hang");
    let (request, _peer) = tokio::time::timeout(STEP, server)
        .await
        .expect("peer in time")
        .expect("peer task");
    (result, request)
}

#[tokio::test]
async fn a_101_with_the_right_accept_key_upgrades_and_keeps_the_frames_behind_it() {
    let (result, request) = exchange(
        |key| {
            let mut out = accept_101(key).into_bytes();
            out.extend_from_slice(b"\x81\x02hi");
            out
        },
        usize::MAX,
    )
    .await;
    assert_eq!(result.expect("upgraded"), b"\x81\x02hi");
    assert!(
        request
            .starts_with("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: gw:8000\r\n"),
        "{request}"
    );
    for line in [
        "Upgrade: websocket\r\n",
        "Connection: Upgrade\r\n",
        "Sec-WebSocket-Version: 13\r\n",
        "x-forwarded-for: 10.1.2.3\r\n",
    ] {
        assert!(request.contains(line), "{line:?} missing in {request}");
    }
}

#[tokio::test]
async fn a_head_arriving_byte_by_byte_is_found() {
    let (result, _) = exchange(|key| accept_101(key).into_bytes(), 1).await;
    assert_eq!(result.expect("upgraded"), b"");
}

#[tokio::test]
async fn a_refusal_keeps_its_status() {
    let (result, _) = exchange(
        |_| b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n".to_vec(),
        usize::MAX,
    )
    .await;
    assert!(
        matches!(result, Err(HandshakeError::Status(403))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_wrong_accept_key_is_refused() {
    let (result, _) = exchange(
        |_| accept_101("c29tZSBvdGhlciBrZXk=").into_bytes(),
        usize::MAX,
    )
    .await;
    assert!(
        matches!(result, Err(HandshakeError::WrongAccept)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_101_without_the_upgrade_headers_is_refused() {
    type Answer = fn(&str) -> String;
    let cases: [(&str, Answer); 4] = [
        ("no accept", |_| {
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".into()
        }),
        ("no upgrade", |k| {
            accept_101(k).replace("Upgrade: websocket\r\n", "")
        }),
        ("no connection", |k| {
            accept_101(k).replace("Connection: Upgrade\r\n", "Connection: close\r\n")
        }),
        ("extension", |k| {
            accept_101(k).replace(
                "\r\n\r\n",
                "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            )
        }),
    ];
    for (what, answer) in cases {
        let (result, _) = exchange(move |k| answer(k).into_bytes(), usize::MAX).await;
        assert!(
            matches!(result, Err(HandshakeError::Invalid(_))),
            "{what}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_oversized_head_is_refused_at_the_limit() {
    let (result, _) = exchange(
        |key| {
            let mut out = accept_101(key).replace("\r\n\r\n", "\r\n");
            while out.len() < 2 * MAX_RESPONSE_HEAD {
                out.push_str("X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
            }
            out.into_bytes()
        },
        1000,
    )
    .await;
    assert!(
        matches!(
            result,
            Err(HandshakeError::TooLarge {
                limit: MAX_RESPONSE_HEAD
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_truncated_head_is_an_error() {
    let (result, _) = exchange(
        |_| b"HTTP/1.1 101 Switching Protocols\r\nUpgr".to_vec(),
        usize::MAX,
    )
    .await;
    assert!(
        matches!(result, Err(HandshakeError::Truncated { got: 38 })),
        "{result:?}"
    );
    let (result, _) = exchange(|_| Vec::new(), usize::MAX).await;
    assert!(
        matches!(result, Err(HandshakeError::Truncated { got: 0 })),
        "{result:?}"
    );
}

#[tokio::test]
async fn garbage_and_too_many_headers_are_malformed() {
    let (result, _) = exchange(|_| b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), usize::MAX).await;
    assert!(
        matches!(result, Err(HandshakeError::Malformed(_))),
        "{result:?}"
    );
    let (result, _) = exchange(
        |key| {
            let extra = "\r\nX-A: b".repeat(MAX_HEADERS + 1);
            accept_101(key)
                .replace("\r\n\r\n", &format!("{extra}\r\n\r\n"))
                .into_bytes()
        },
        usize::MAX,
    )
    .await;
    let Err(HandshakeError::Malformed(why)) = &result else {
        panic!("{result:?}");
    };
    assert!(why.contains("too many headers"), "{why}");
}

#[tokio::test]
async fn a_target_that_would_split_the_request_is_not_sent() {
    let (mut client, _peer) = tokio::io::duplex(1024);
    for (host, target) in [
        ("gw:1", "/a b"),
        ("gw:1", "/a\r\nX: y"),
        ("gw:1", "no-slash"),
        ("gw\r\n:1", "/"),
    ] {
        let result = client_upgrade(&mut client, host, target, &HeaderBlock::default()).await;
        assert!(
            matches!(result, Err(HandshakeError::BadTarget(_))),
            "{host:?} {target:?}: {result:?}"
        );
    }
}
