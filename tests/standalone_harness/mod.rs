//! Drives standalone mode's [`Backend`] without sockets: a fake
//! [`ClientSink`] records what the server would send to the client, and
//! [`Client`] feeds client packets in as the server core would.
#![allow(dead_code)]

pub mod clients;
pub mod net;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use serde_json::Value;
use siogate::protocol::engineio::{self, Revision};
use siogate::protocol::socketio::connect::Query;
use siogate::server::{Backend, ClientSink, CloseReason, Handshake, SessionClosed, TransportKind};
use siogate::standalone::backend::Conn;
use siogate::standalone::{Options, Standalone, StandaloneBackend};

pub const API_TOKEN: &str = "test-token";

/// Records packets; closes itself when more than `capacity` are queued.
pub struct FakeSink {
    sid: String,
    capacity: usize,
    sent: Mutex<Vec<engineio::Packet>>,
    closed: Mutex<Option<CloseReason>>,
}

impl FakeSink {
    pub fn new(sid: &str, capacity: usize) -> Arc<FakeSink> {
        Arc::new(FakeSink {
            sid: sid.to_string(),
            capacity,
            sent: Mutex::default(),
            closed: Mutex::default(),
        })
    }

    /// Everything queued so far, drained: text messages as their text,
    /// binary messages as `bin[01 02]`.
    pub fn take(&self) -> Vec<String> {
        let packets = std::mem::take(&mut *self.sent.lock().unwrap());
        packets.into_iter().map(describe).collect()
    }

    pub fn closed(&self) -> Option<CloseReason> {
        self.closed.lock().unwrap().clone()
    }
}

fn describe(p: engineio::Packet) -> String {
    match p {
        engineio::Packet::Message(t) => String::from_utf8(t.to_vec()).unwrap(),
        engineio::Packet::Binary(b) => {
            let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("bin[{}]", hex.join(" "))
        }
        other => format!("{other:?}"),
    }
}

impl ClientSink for FakeSink {
    fn send(&self, packet: engineio::Packet) -> Result<(), SessionClosed> {
        if self.closed.lock().unwrap().is_some() {
            return Err(SessionClosed);
        }
        let mut sent = self.sent.lock().unwrap();
        if sent.len() >= self.capacity {
            drop(sent);
            self.close(CloseReason::QueueFull);
            return Err(SessionClosed);
        }
        sent.push(packet);
        Ok(())
    }

    fn close(&self, reason: CloseReason) {
        self.closed.lock().unwrap().get_or_insert(reason);
    }

    fn sid(&self) -> &str {
        &self.sid
    }
}

/// A gateway with a known API token and `f` applied to its options.
pub fn gateway(f: impl FnOnce(&mut Options)) -> Standalone {
    let mut opts = Options {
        api_token: API_TOKEN.into(),
        ..Options::default()
    };
    f(&mut opts);
    Standalone::new(opts).unwrap()
}

/// One fake client session.
pub struct Client {
    pub backend: StandaloneBackend,
    pub sink: Arc<FakeSink>,
    pub conn: Option<Conn>,
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Client {
    /// Opens a session: `eio` 3 (SIO4) or 4 (SIO5), with a handshake query.
    pub async fn open(gw: &Standalone, eio: Revision, query: &str) -> Client {
        Client::open_with_capacity(gw, eio, query, 1000).await
    }

    pub async fn open_with_capacity(
        gw: &Standalone,
        eio: Revision,
        query: &str,
        capacity: usize,
    ) -> Client {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sid = format!("eio{n:017}");
        let sink = FakeSink::new(&sid, capacity);
        let handshake = Arc::new(Handshake {
            sid,
            eio,
            transport: TransportKind::WebSocket,
            query: Query::parse(query),
            headers: http::HeaderMap::new(),
            remote: SocketAddr::from(([127, 0, 0, 1], 1)),
            secure: false,
        });
        let backend = gw.backend();
        let conn = backend
            .open(handshake, sink.clone())
            .await
            .expect("open accepted");
        Client {
            backend,
            sink,
            conn: Some(conn),
        }
    }

    pub fn eio_sid(&self) -> &str {
        self.sink.sid()
    }

    /// Feeds one text message (what follows the Engine.IO `4`).
    pub async fn send(&mut self, text: &str) -> Result<(), CloseReason> {
        let packet = engineio::Packet::Message(Bytes::from(text.to_string()));
        self.feed(packet).await
    }

    /// Feeds one binary message.
    pub async fn send_bin(&mut self, data: &[u8]) -> Result<(), CloseReason> {
        self.feed(engineio::Packet::Binary(Bytes::copy_from_slice(data)))
            .await
    }

    async fn feed(&mut self, packet: engineio::Packet) -> Result<(), CloseReason> {
        let conn = self.conn.as_mut().expect("session open");
        let result = self.backend.on_message(conn, packet).await;
        if let Err(reason) = &result {
            // As the core does: an error closes the session.
            let conn = self.conn.take().expect("session open");
            self.backend.on_close(conn, reason.clone()).await;
        }
        result
    }

    /// Closes the session as the core would.
    pub async fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.backend.on_close(conn, CloseReason::ClientClose).await;
        }
    }

    pub fn take(&self) -> Vec<String> {
        self.sink.take()
    }

    /// SIO5: the sid in the CONNECT reply among the packets taken.
    pub fn connect_sid(packets: &[String]) -> String {
        let reply = packets
            .iter()
            .find(|p| p.starts_with('0'))
            .expect("a CONNECT reply");
        let json = &reply[reply.find('{').expect("CONNECT data")..];
        let v: Value = serde_json::from_str(json).unwrap();
        v["sid"].as_str().unwrap().to_string()
    }
}

/// Calls the push API handler directly.
pub async fn api(gw: &Standalone, method: &str, path: &str, body: &str) -> (u16, Value) {
    api_with_token(gw, method, path, body, Some(API_TOKEN)).await
}

pub async fn api_with_token(
    gw: &Standalone,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req.body(Bytes::from(body.to_string())).unwrap();
    let resp: Response<Bytes> =
        tokio::time::timeout(Duration::from_secs(5), gw.push_api().handle(req))
            .await
            .expect("push API answered in time");
    let status = resp.status().as_u16();
    let body = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    (status, body)
}
