//! The push API: JSON over HTTP for backends, under a prefix (default
//! `/api/v1/`), every request with `Authorization: Bearer <token>` (compared
//! in constant time).
//!
//! | route | body / query | reply |
//! |---|---|---|
//! | `POST emit` | `{"namespace":"/chat","event":"news","args":[…],"rooms":["r1"],"except":["r2"],"socket":"<id>"}` | `{"delivered":N}` |
//! | `POST rooms/join`, `POST rooms/leave` | `{"namespace","socket","rooms":[…]}` | `{"sockets":N}` |
//! | `POST disconnect` | `{"namespace","socket","close":false}` | `{"disconnected":N}` |
//! | `GET sockets` | `?namespace=/chat` | `{"sockets":[{"id","rooms":[…]}]}` |
//! | `GET rooms` | `?namespace=/chat` | `{"rooms":{"r1":N}}` |
//!
//! `namespace` defaults to `/`; `rooms`, `except`, `socket` are optional
//! filters (see [`BroadcastOptions`]); `socket` is the id the client sees as
//! `socket.id`. In `args`, `{"$bin":"<base64>"}` is sent as a binary
//! attachment (at most 10). With `"ack":true` (and `socket` set) the event
//! asks the client for an ack and the reply waits for it (`timeout_ms`,
//! default 5000, at most 120000): `{"delivered":1,"ack":[…]}`, or 504 when
//! none comes; binary ack args come back as `{"$bin":…}`. `close:true`
//! closes the client's whole session instead of leaving the namespace
//! (`41/nsp,`). Errors: 401 `{"error":"unauthorized"}`, 400
//! `{"error":"<reason>"}`, 404, 405, 413 (body over the limit), 503 when the
//! adapter fails, 504 when an awaited ack does not come. The packet of an
//! emit is encoded once and shared by every recipient.
//!
//! ```text
//! T="Authorization: Bearer $TOKEN"; J="Content-Type: application/json"; A=http://127.0.0.1:3000/api/v1
//! curl -H "$T" -H "$J" -d '{"namespace":"/chat","event":"news","args":["hi"],"rooms":["r1"],"except":["r2"]}' $A/emit
//! curl -H "$T" -H "$J" -d '{"event":"file","args":[{"$bin":"AQID"}],"socket":"<id>"}' $A/emit
//! curl -H "$T" -H "$J" -d '{"event":"ask","args":[1],"socket":"<id>","ack":true,"timeout_ms":3000}' $A/emit
//! curl -H "$T" -H "$J" -d '{"namespace":"/chat","socket":"<id>","rooms":["r1"]}' $A/rooms/join
//! curl -H "$T" -H "$J" -d '{"namespace":"/chat","socket":"<id>","rooms":["r1"]}' $A/rooms/leave
//! curl -H "$T" -H "$J" -d '{"namespace":"/chat","socket":"<id>","close":false}' $A/disconnect
//! curl -H "$T" "$A/sockets?namespace=/chat"
//! curl -H "$T" "$A/rooms?namespace=/chat"
//! ```
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::Hub;
use super::adapter::{AckOutcome, AdapterError, BroadcastOptions};
use super::codec::EventPayload;
use crate::protocol::socketio::RESERVED_EVENTS;
use crate::protocol::socketio::connect::Query;

/// The push API handler. Cheap to clone.
#[derive(Clone)]
pub struct PushApi {
    pub(crate) hub: Arc<Hub>,
}

/// Handles one push API request (see the module docs). The same as
/// [`PushApi::handle`].
pub async fn handle(api: &PushApi, req: Request<Bytes>) -> Response<Bytes> {
    api.handle(req).await
}

enum ApiError {
    Unauthorized,
    BadRequest(String),
    NotFound,
    MethodNotAllowed(&'static str),
    Unavailable(AdapterError),
    /// An emit with ack got no ack.
    NoAck(String),
}

type ApiResult = Result<Value, ApiError>;

impl PushApi {
    /// The path prefix, e.g. `/api/v1/`.
    pub fn prefix(&self) -> &str {
        &self.hub.opts.api_prefix
    }

    /// Whether `path` belongs to the push API (for routing on a shared listener).
    pub fn matches(&self, path: &str) -> bool {
        path.starts_with(self.prefix())
    }

    /// Largest request body to read before calling [`PushApi::handle`].
    pub fn max_body_bytes(&self) -> usize {
        self.hub.opts.max_api_body_bytes
    }

    /// Handles one request whose body has been read.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let result = self.route(&req).await;
        match result {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(e) => error_response(e),
        }
    }

    async fn route(&self, req: &Request<Bytes>) -> ApiResult {
        let Some(route) = req.uri().path().strip_prefix(self.prefix()) else {
            return Err(ApiError::NotFound);
        };
        if !self.authorized(req) {
            return Err(ApiError::Unauthorized);
        }
        let (allowed, post) = match route {
            "emit" | "rooms/join" | "rooms/leave" | "disconnect" => ("POST", true),
            "sockets" | "rooms" => ("GET", false),
            _ => return Err(ApiError::NotFound),
        };
        let method_ok = if post {
            req.method() == Method::POST
        } else {
            req.method() == Method::GET || req.method() == Method::HEAD
        };
        if !method_ok {
            return Err(ApiError::MethodNotAllowed(allowed));
        }
        match route {
            "emit" => self.emit(parse(req.body())?).await,
            "rooms/join" => self.rooms_op(parse(req.body())?, true).await,
            "rooms/leave" => self.rooms_op(parse(req.body())?, false).await,
            "disconnect" => self.disconnect(parse(req.body())?).await,
            "sockets" => self.sockets(namespace_param(req)?).await,
            _ => self.rooms(namespace_param(req)?).await,
        }
    }

    fn authorized(&self, req: &Request<Bytes>) -> bool {
        let expected = self.hub.opts.api_token.as_bytes();
        let Some(value) = req.headers().get(header::AUTHORIZATION) else {
            return false;
        };
        let value = value.as_bytes();
        let (scheme, token) = value.split_at(value.len().min(7));
        !expected.is_empty()
            && scheme.eq_ignore_ascii_case(b"bearer ")
            && bool::from(token.ct_eq(expected))
    }

    fn check_namespace(&self, nsp: &str) -> Result<(), ApiError> {
        if self.hub.namespaces.allows(nsp) {
            Ok(())
        } else {
            Err(ApiError::BadRequest(format!("unknown namespace: {nsp}")))
        }
    }

    async fn emit(&self, body: EmitBody) -> ApiResult {
        self.check_namespace(&body.namespace)?;
        if body.event.is_empty() {
            return Err(ApiError::BadRequest("event must not be empty".into()));
        }
        if RESERVED_EVENTS.contains(&body.event.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "reserved event name: {}",
                body.event
            )));
        }
        let payload = EventPayload::new(&body.event, body.args)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let packet = payload.packet(&body.namespace, None);
        let ack = body.ack;
        let opts = BroadcastOptions {
            nsp: body.namespace,
            rooms: body.rooms,
            except: body.except,
            socket: body.socket,
        };
        if ack {
            return self.emit_with_ack(opts, payload, body.timeout_ms).await;
        }
        let delivered = self.hub.adapter.broadcast(opts, packet).await?;
        Ok(json!({ "delivered": delivered }))
    }

    async fn emit_with_ack(
        &self,
        opts: BroadcastOptions,
        payload: EventPayload,
        timeout_ms: Option<u64>,
    ) -> ApiResult {
        if opts.socket.is_none() {
            return Err(ApiError::BadRequest(r#""ack": true needs "socket""#.into()));
        }
        // Default and largest wait: `[standalone] push_ack_timeout_ms`,
        // `max_push_ack_timeout_ms`.
        let o = &self.hub.opts;
        let max = o.max_push_ack_timeout;
        let timeout = timeout_ms.map_or(o.push_ack_timeout, Duration::from_millis);
        if timeout.is_zero() || timeout > max {
            return Err(ApiError::BadRequest(format!(
                "timeout_ms must be 1 to {}",
                max.as_millis()
            )));
        }
        match self
            .hub
            .adapter
            .emit_with_ack(opts, payload, timeout)
            .await?
        {
            AckOutcome::NoSocket => Ok(json!({ "delivered": 0 })),
            AckOutcome::Acked(args) => Ok(json!({ "delivered": 1, "ack": args })),
            AckOutcome::TimedOut => Err(ApiError::NoAck(format!(
                "no ack within {} ms",
                timeout.as_millis()
            ))),
            AckOutcome::Disconnected => Err(ApiError::NoAck(
                "the socket disconnected before acking".into(),
            )),
        }
    }

    async fn rooms_op(&self, body: RoomsBody, join: bool) -> ApiResult {
        self.check_namespace(&body.namespace)?;
        if body.rooms.iter().any(String::is_empty) {
            return Err(ApiError::BadRequest("room names must not be empty".into()));
        }
        let opts = BroadcastOptions::socket(body.namespace, body.socket);
        let n = if join {
            self.hub.adapter.add_rooms(opts, body.rooms).await?
        } else {
            self.hub.adapter.del_rooms(opts, body.rooms).await?
        };
        Ok(json!({ "sockets": n }))
    }

    async fn disconnect(&self, body: DisconnectBody) -> ApiResult {
        self.check_namespace(&body.namespace)?;
        let opts = BroadcastOptions::socket(body.namespace, body.socket);
        let n = self
            .hub
            .adapter
            .disconnect_sockets(opts, body.close)
            .await?;
        Ok(json!({ "disconnected": n }))
    }

    async fn sockets(&self, nsp: String) -> ApiResult {
        self.check_namespace(&nsp)?;
        let sockets = self
            .hub
            .adapter
            .fetch_sockets(BroadcastOptions::namespace(nsp))
            .await?;
        Ok(json!({ "sockets": sockets }))
    }

    async fn rooms(&self, nsp: String) -> ApiResult {
        self.check_namespace(&nsp)?;
        let rooms: BTreeMap<String, usize> = self.hub.adapter.rooms(nsp).await?;
        Ok(json!({ "rooms": rooms }))
    }
}

impl From<AdapterError> for ApiError {
    fn from(e: AdapterError) -> ApiError {
        ApiError::Unavailable(e)
    }
}

fn root() -> String {
    "/".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitBody {
    #[serde(default = "root")]
    namespace: String,
    event: String,
    #[serde(default)]
    args: Vec<Value>,
    #[serde(default)]
    rooms: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    socket: Option<String>,
    #[serde(default)]
    ack: bool,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoomsBody {
    #[serde(default = "root")]
    namespace: String,
    socket: String,
    rooms: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisconnectBody {
    #[serde(default = "root")]
    namespace: String,
    socket: String,
    #[serde(default)]
    close: bool,
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::BadRequest(
            "empty body: expected a JSON object".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))
}

fn namespace_param(req: &Request<Bytes>) -> Result<String, ApiError> {
    let query = Query::parse(req.uri().query().unwrap_or(""));
    Ok(query.get("namespace").unwrap_or("/").to_string())
}

fn json_response(status: StatusCode, body: &Value) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(e: ApiError) -> Response<Bytes> {
    let (status, message) = match &e {
        ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized".to_string()),
        ApiError::BadRequest(reason) => (StatusCode::BAD_REQUEST, reason.clone()),
        ApiError::NotFound => (StatusCode::NOT_FOUND, "not found".to_string()),
        ApiError::MethodNotAllowed(_) => (
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed".to_string(),
        ),
        ApiError::Unavailable(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        ApiError::NoAck(reason) => (StatusCode::GATEWAY_TIMEOUT, reason.clone()),
    };
    let mut resp = json_response(status, &json!({ "error": message }));
    match e {
        ApiError::Unauthorized => {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ApiError::MethodNotAllowed(allow) => {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        _ => {}
    }
    resp
}

/// A 413 reply for a body over [`PushApi::max_body_bytes`].
pub fn too_large() -> Response<Bytes> {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        &json!({ "error": "body too large" }),
    )
}

/// A 400 reply with `reason`.
pub fn bad_request(reason: &str) -> Response<Bytes> {
    error_response(ApiError::BadRequest(reason.to_string()))
}
