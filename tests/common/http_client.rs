//! A minimal HTTP/1.1 test client over hyper (one connection per request,
//! so concurrent requests never queue behind each other), and a polling
//! helper that remembers a session's sid.
#![allow(dead_code)]

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::core_server::within;

/// A received response with its body read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a fresh connection; the whole exchange is bounded by `STEP`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    pq: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Resp {
    within(request_unbounded(addr, method, pq, headers, body.into())).await
}

/// Like [`request`] without the deadline (for requests that are meant to hang).
pub async fn request_unbounded(
    addr: SocketAddr,
    method: &str,
    pq: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Resp {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
            .await
            .expect("http handshake");
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(pq)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = sender
        .send_request(req.body(Full::new(body)).expect("request"))
        .await
        .expect("response");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

pub async fn get(addr: SocketAddr, pq: &str) -> Resp {
    request(addr, "GET", pq, &[], Bytes::new()).await
}

/// A polling session opened by [`Poller::open`].
#[derive(Debug, Clone)]
pub struct Poller {
    pub addr: SocketAddr,
    pub eio: u8,
    pub sid: String,
}

impl Poller {
    /// Handshake GET with `EIO=<eio>&transport=polling<extra>`; returns the
    /// session and the raw handshake response.
    pub async fn open(addr: SocketAddr, eio: u8, extra: &str) -> (Poller, Resp) {
        let resp = get(
            addr,
            &format!("/socket.io/?EIO={eio}&transport=polling{extra}"),
        )
        .await;
        assert_eq!(
            resp.status,
            200,
            "handshake failed: {}",
            String::from_utf8_lossy(&resp.body)
        );
        let sid = open_json(&resp.body)["sid"]
            .as_str()
            .expect("sid in open packet")
            .to_owned();
        (Poller { addr, eio, sid }, resp)
    }

    pub fn url(&self, extra: &str) -> String {
        format!(
            "/socket.io/?EIO={}&transport=polling&sid={}{extra}",
            self.eio, self.sid
        )
    }

    pub async fn get(&self) -> Resp {
        get(self.addr, &self.url("")).await
    }

    pub async fn get_with(&self, extra: &str) -> Resp {
        get(self.addr, &self.url(extra)).await
    }

    /// A GET that may wait (used for concurrent-GET tests).
    pub fn spawn_get(&self) -> tokio::task::JoinHandle<Resp> {
        let (addr, url) = (self.addr, self.url(""));
        tokio::spawn(async move { request_unbounded(addr, "GET", &url, &[], Bytes::new()).await })
    }

    pub async fn post(&self, body: impl Into<Bytes>) -> Resp {
        self.post_with("", &[("content-type", "text/plain;charset=UTF-8")], body)
            .await
    }

    pub async fn post_with(
        &self,
        extra: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Resp {
        request(self.addr, "POST", &self.url(extra), headers, body).await
    }
}

/// The JSON object of the open packet found in a handshake body (any framing).
pub fn open_json(body: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(body);
    let start = text.find("0{").expect("open packet in body") + 1;
    let mut it =
        serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde_json::Value>();
    it.next().expect("open JSON").expect("valid open JSON")
}

/// Writes a bare HTTP/1.1 request on a new connection and returns the
/// socket unread (for tests that drop a request mid-flight).
pub async fn raw_request(addr: SocketAddr, method: &str, pq: &str) -> TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = within(TcpStream::connect(addr)).await.expect("connect");
    let head = format!("{method} {pq} HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 0\r\n\r\n");
    within(s.write_all(head.as_bytes()))
        .await
        .expect("write request");
    s
}

/// Waits until `s` has bytes to read (the response started).
pub async fn readable(s: &TcpStream) {
    s.readable().await.expect("readable");
}
