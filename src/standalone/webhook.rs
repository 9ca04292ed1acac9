//! The backend webhook: client events (other than the built-in join/leave)
//! are POSTed as JSON to a configured `http://` or `https://` URL, and the
//! JSON reply becomes the client's ack. `https://` verifies the server
//! against the system roots or a configured CA file (`crate::tls::client`).
//!
//! Request body: `{"namespace","socket","event","args","claims","query","auth"}`
//! (`claims` is the verified token's claims or null; `query` the handshake
//! query merged with an SIO4 namespace query; `auth` the SIO5 CONNECT auth
//! object or null; binary args as `{"$bin":"<base64>"}`). Optional
//! `Authorization: Bearer <token>` when configured. Reply: any 2xx with a
//! JSON body (an array → the ack's args, anything else → its single arg,
//! empty body → no args; `{"$bin":…}` values become binary attachments).
//! Other statuses, bad JSON, a body over the limit, or no answer within the
//! timeout are errors. Connections are pooled (hyper-util's client).
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::StandaloneError;

/// Webhook settings.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// `http://host:port/path` or `https://…`.
    pub url: String,
    /// For `https://`: PEM file of the CA certificates that verify the
    /// webhook server instead of the system roots. Default none.
    pub ca_file: Option<std::path::PathBuf>,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub bearer_token: Option<String>,
    /// Whole-call timeout. Default 5 s.
    pub timeout: Duration,
    /// Calls in flight per client session; more wait (only that client is
    /// slowed down). Default 16.
    pub max_in_flight_per_session: usize,
    /// Largest reply body accepted. Default 1 MB.
    pub max_response_bytes: usize,
}

impl WebhookOptions {
    pub fn new(url: impl Into<String>) -> WebhookOptions {
        WebhookOptions {
            url: url.into(),
            ca_file: None,
            bearer_token: None,
            timeout: Duration::from_secs(5),
            max_in_flight_per_session: 16,
            max_response_bytes: 1_000_000,
        }
    }
}

/// Why a webhook call failed (logged; the client gets a generic error ack).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook timed out")]
    Timeout,
    #[error("webhook request failed: {0}")]
    Request(String),
    #[error("webhook answered HTTP {0}")]
    Status(u16),
    #[error("webhook reply is not JSON or too large")]
    BadReply,
}

/// A configured webhook.
pub struct Webhook {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    auth: Option<HeaderValue>,
    timeout: Duration,
    max_response_bytes: usize,
    pub(super) max_in_flight: usize,
}

impl Webhook {
    pub fn new(opts: &WebhookOptions) -> Result<Webhook, StandaloneError> {
        let bad = |why: &str| StandaloneError::InvalidWebhook(format!("{}: {why}", opts.url));
        let uri: Uri = opts.url.parse().map_err(|_| bad("not a URL"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("must be an http:// or https:// URL")),
        };
        if uri.host().is_none() {
            return Err(bad("must be an http:// or https:// URL"));
        }
        let auth = opts
            .bearer_token
            .as_ref()
            .map(|t| HeaderValue::try_from(format!("Bearer {t}")))
            .transpose()
            .map_err(|_| bad("bearer token is not a valid header value"))?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(opts.timeout));
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let tls = if https {
            let roots = match &opts.ca_file {
                Some(path) => crate::tls::client::load_pem(path),
                None => Ok(crate::tls::client::system_roots()),
            };
            roots.and_then(crate::tls::client::client_config)
        } else {
            // Never used for http:// (no certificate is ever checked).
            crate::tls::client::builder().map(|b| {
                Arc::new(
                    b.with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                )
            })
        }
        .map_err(|e| bad(&e))?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Webhook {
            client,
            uri,
            auth,
            timeout: opts.timeout,
            max_response_bytes: opts.max_response_bytes,
            max_in_flight: opts.max_in_flight_per_session.max(1),
        })
    }

    /// POSTs `body` (JSON) and returns the reply's JSON (`None` if empty).
    pub async fn call(&self, body: Bytes) -> Result<Option<Value>, WebhookError> {
        tokio::time::timeout(self.timeout, self.call_inner(body))
            .await
            .map_err(|_| WebhookError::Timeout)?
    }

    async fn call_inner(&self, body: Bytes) -> Result<Option<Value>, WebhookError> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(auth) = &self.auth {
            req = req.header(header::AUTHORIZATION, auth.clone());
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| WebhookError::Request(e.to_string()))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| WebhookError::Request(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(WebhookError::Status(status.as_u16()));
        }
        let bytes = Limited::new(resp.into_body(), self.max_response_bytes)
            .collect()
            .await
            .map_err(|_| WebhookError::BadReply)?
            .to_bytes();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| WebhookError::BadReply)
    }
}

/// The ack args for a webhook reply: an array is the args, an empty body
/// is no args, anything else (`null` included) is one arg.
pub fn reply_args(reply: Option<Value>) -> Vec<Value> {
    match reply {
        None => Vec::new(),
        Some(Value::Array(args)) => args,
        Some(other) => vec![other],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reply_shapes_map_to_ack_args() {
        assert_eq!(
            reply_args(Some(json!([1, "a"]))),
            vec![json!(1), json!("a")]
        );
        assert_eq!(
            reply_args(Some(json!({"ok": true}))),
            vec![json!({"ok": true})]
        );
        assert_eq!(reply_args(Some(json!(null))), vec![json!(null)]);
        assert!(reply_args(None).is_empty());
    }

    #[test]
    fn only_http_and_https_urls_are_accepted() {
        assert!(Webhook::new(&WebhookOptions::new("http://127.0.0.1:9/hook")).is_ok());
        for bad in ["ftp://x", "not a url", "/relative", "ws://x/hook"] {
            assert!(Webhook::new(&WebhookOptions::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn https_with_an_unreadable_ca_file_names_it() {
        let opts = WebhookOptions {
            ca_file: Some("/nonexistent/hook-ca.pem".into()),
            ..WebhookOptions::new("https://127.0.0.1:9/hook")
        };
        let err = Webhook::new(&opts).err().expect("refused").to_string();
        assert!(err.contains("/nonexistent/hook-ca.pem"), "{err}");
    }
}
