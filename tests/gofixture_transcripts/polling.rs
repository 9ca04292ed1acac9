//! Polling details beyond the recordings: go's UTF-8 byte lengths in both
//! framings, a JS client's UTF-16 length mis-framing a non-ASCII POST (which
//! wedges v1.0.1), the v1.0.1 empty GET body, and the polling → WebSocket
//! upgrade.

use super::*;

/// A raw polling session.
struct Poll {
    addr: std::net::SocketAddr,
    /// Handshake query plus `&sid=…`.
    query: String,
    binary: bool,
}

impl Poll {
    async fn open(fx: &GoFixture, b64: bool) -> (Poll, String) {
        let base = if b64 {
            "EIO=3&transport=polling&token=abc&b64=1"
        } else {
            "EIO=3&transport=polling&token=abc"
        };
        let hs = http(fx.addr, "GET", &format!("/socket.io/?{base}"), b"").await;
        let sid = sid_of(&hs);
        let poll = Poll {
            addr: fx.addr,
            query: format!("{base}&sid={sid}"),
            binary: !b64,
        };
        assert_eq!(poll.packets().await, ["40"]);
        (poll, sid)
    }

    async fn get(&self) -> HttpReply {
        http(
            self.addr,
            "GET",
            &format!("/socket.io/?{}", self.query),
            b"",
        )
        .await
    }

    /// One GET, strictly decoded (exact UTF-8 byte lengths).
    async fn packets(&self) -> Vec<String> {
        let r = self.get().await;
        assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
        decode_strict(&r.body, self.binary).unwrap_or_else(|| panic!("mis-framed: {:?}", r.body))
    }

    async fn post(&self, body: &[u8]) -> HttpReply {
        http(
            self.addr,
            "POST",
            &format!("/socket.io/?{}", self.query),
            body,
        )
        .await
    }
}

#[tokio::test]
async fn go_frames_non_ascii_polling_payloads_with_utf8_byte_lengths() {
    for v in GoVersion::ALL {
        for b64 in [false, true] {
            let fx = GoFixture::start(v).await;
            let (poll, _) = Poll::open(&fx, b64).await;
            assert_eq!(fx.push("€😀", None).await, 1);
            let reply = poll.get().await;
            let packets = decode_strict(&reply.body, !b64).expect("byte-length framing");
            assert_eq!(packets.len(), 1);
            let p = &packets[0];
            assert!(
                p.len() > p.encode_utf16().count(),
                "{p}: bytes must differ from UTF-16 units"
            );
            let head = if b64 {
                format!("{}:", p.len()).into_bytes()
            } else {
                xhr2_head(p.len())
            };
            assert!(
                reply.body.starts_with(&head),
                "{} b64={b64}: {:?}",
                v.label(),
                reply.body
            );
        }
    }
}

fn xhr2_head(len: usize) -> Vec<u8> {
    let mut h = vec![0u8];
    h.extend(len.to_string().bytes().map(|d| d - b'0'));
    h.push(0xff);
    h
}

#[tokio::test]
async fn utf16_length_from_a_js_client_misframes_the_post_and_wedges_1_0_1() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (poll, _) = Poll::open(&fx, true).await;
    let packet = "421[\"echo\",\"€\"]";
    let js_len = packet.encode_utf16().count();
    assert_ne!(js_len, packet.len());
    let reply = poll.post(format!("{js_len}:{packet}").as_bytes()).await;
    assert_eq!((reply.status, reply.body.as_slice()), (200, &b"ok"[..]));
    // The truncated event killed the socket loop; the engine still pongs.
    assert_eq!(poll.post(b"1:2").await.body, b"ok");
    assert_eq!(poll.packets().await, ["3"]);
    // The next message gets stuck: even pings go unanswered now.
    poll.post(b"16:422[\"echo\",\"x\"]").await;
    poll.post(b"1:2").await;
    let get = tokio::time::timeout(QUIET * 2, poll.get()).await;
    assert!(get.is_err(), "wedged session answered: {get:?}");
}

#[tokio::test]
async fn forced_empty_poll_gives_an_empty_200_body_on_1_0_1() {
    let fx = GoFixture::start(GoVersion::V1_0_1).await;
    let (poll, _) = Poll::open(&fx, false).await;
    fx.force_empty_poll();
    let r = poll.get().await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.content_type.as_deref(), Some("application/octet-stream"));
    // The session carries on.
    poll.post(b"1:2").await;
    assert_eq!(poll.packets().await, ["3"]);
}

#[tokio::test]
async fn one_packet_per_get_on_modern_all_queued_packets_per_get_on_1_0_1() {
    for (v, per_get) in [(GoVersion::V1_0_1, 2), (GoVersion::V1_7_0, 1)] {
        let fx = GoFixture::start(v).await;
        let (poll, _) = Poll::open(&fx, true).await;
        assert_eq!(fx.push("a", None).await, 1);
        assert_eq!(fx.push("b", None).await, 1);
        let first = poll.packets().await;
        assert_eq!(first.len(), per_get, "{}: {first:?}", v.label());
        if per_get == 1 {
            assert_eq!(poll.packets().await.len(), 1);
        }
    }
}

#[tokio::test]
async fn polling_session_upgrades_to_websocket_with_probe_and_noop() {
    for v in GoVersion::ALL {
        let fx = GoFixture::start(v).await;
        let (poll, sid) = Poll::open(&fx, true).await;
        let pending = tokio::spawn({
            let (addr, query) = (poll.addr, poll.query.clone());
            async move { http(addr, "GET", &format!("/socket.io/?{query}"), b"").await }
        });
        let mut ws = ws_connect(&fx.ws_url(&format!("EIO=3&transport=websocket&sid={sid}"))).await;
        roundtrip(&mut ws, "2probe", "3probe").await;
        let noop = tokio::time::timeout(WAIT, pending)
            .await
            .expect("GET released")
            .expect("GET task");
        assert_eq!(noop.body, b"1:6", "{}", v.label());
        ws_send(&mut ws, "5").await;
        let nl = if v == GoVersion::V1_0_1 { "" } else { "\n" };
        roundtrip(&mut ws, "421[\"echo\",\"up\"]", &format!("431[\"up\"]{nl}")).await;
        assert_eq!(
            poll.get().await.status,
            400,
            "{}: polling after upgrade",
            v.label()
        );
        assert_eq!(fx.open_websockets(), 1);
    }
}
