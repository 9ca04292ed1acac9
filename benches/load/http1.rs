//! One keep-alive HTTP/1.1 connection (hyper's low-level client) for the
//! polling clients and the push API caller: a request goes out, the whole
//! body comes back. No pool: each caller owns its connections, so a long
//! poll never blocks a POST. A connection the server closed while idle
//! (Node closes keep-alive connections after 5 s) is reopened before the
//! next request, as a browser would.
use anyhow::{Result, bail};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use std::sync::Arc;

use crate::client::{Sources, tcp};

/// A keep-alive connection to 127.0.0.1:`port`.
pub struct HttpConn {
    send: SendRequest<Full<Bytes>>,
    host: String,
    port: u16,
    sources: Arc<Sources>,
    /// Whether a request went out on this connection already.
    used: bool,
}

impl HttpConn {
    pub async fn connect(port: u16, sources: &Arc<Sources>) -> Result<Self> {
        Ok(HttpConn {
            send: open(port, sources).await?,
            host: format!("127.0.0.1:{port}"),
            port,
            sources: sources.clone(),
            used: false,
        })
    }

    /// Sends one request and returns the status and the whole body. A
    /// request on a reused connection that fails at the connection level
    /// (the server closed it as the request went out) is sent once more on
    /// a new connection, as browsers do.
    pub async fn request(
        &mut self,
        method: Method,
        path_and_query: &str,
        bearer: Option<&str>,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let reused = self.used;
        self.used = true;
        match self
            .send_once(&method, path_and_query, bearer, body.clone())
            .await
        {
            Err(e) if reused && e.downcast_ref::<hyper::Error>().is_some() => {
                self.send = open(self.port, &self.sources).await?;
                self.send_once(&method, path_and_query, bearer, body).await
            }
            r => r,
        }
    }

    async fn send_once(
        &mut self,
        method: &Method,
        path_and_query: &str,
        bearer: Option<&str>,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let mut req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(http::header::HOST, &self.host);
        if let Some(token) = bearer {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if !body.is_empty() {
            // The push API takes JSON; Engine.IO polling bodies are text.
            let kind = if bearer.is_some() {
                "application/json"
            } else {
                "text/plain;charset=UTF-8"
            };
            req = req.header(http::header::CONTENT_TYPE, kind);
        }
        let req = req.body(Full::new(body))?;
        if self.send.is_closed() || self.send.ready().await.is_err() {
            self.send = open(self.port, &self.sources).await?;
            self.send.ready().await?;
        }
        let resp = self.send.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// A request that must answer 200.
    pub async fn ok(
        &mut self,
        method: Method,
        path_and_query: &str,
        bearer: Option<&str>,
        body: Bytes,
    ) -> Result<Bytes> {
        let (status, body) = self.request(method, path_and_query, bearer, body).await?;
        if status != StatusCode::OK {
            bail!(
                "{path_and_query}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(body)
    }
}

async fn open(port: u16, sources: &Sources) -> Result<SendRequest<Full<Bytes>>> {
    let stream = tcp(port, sources).await?;
    let (send, conn) = http1::handshake(TokioIo::new(stream)).await?;
    // The driver ends with the connection (when `send` drops or the peer
    // closes); its error, if any, surfaces on the next request.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}
