//! Requests between nodes on `<prefix>-request#<nsp>#` and their answers on
//! `<prefix>-response#<nsp>#`, as `@socket.io/redis-adapter` 8.x sends
//! them: JSON objects `{uid, requestId, type, ...}`, except a broadcast with
//! ack (type 7) and its acks (type 9), which are msgpack. The emitter sends
//! join/leave/disconnect/server-side-emit requests with neither `uid` nor
//! `requestId`: they are applied and never answered.
//!
//! siogate adds one field the Node adapter ignores: answers to join, leave
//! and disconnect requests that carry a `requestId` report how many local
//! sockets matched (`count`), so the push API can return a cluster-wide
//! total.
use rmpv::Value as Mp;
use serde_json::{Value as Json, json};

use super::{
    SioPacket, Targets, WireError, decode_packet, decode_targets, encode_targets, field,
    packet_to_msgpack, read_msgpack, value,
};

/// The `type` of a request or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
}

impl RequestType {
    pub fn from_code(code: u64) -> Option<RequestType> {
        use RequestType::*;
        Some(match code {
            0 => Sockets,
            1 => AllRooms,
            2 => RemoteJoin,
            3 => RemoteLeave,
            4 => RemoteDisconnect,
            5 => RemoteFetch,
            6 => ServerSideEmit,
            7 => Broadcast,
            8 => BroadcastClientCount,
            9 => BroadcastAck,
            _ => return None,
        })
    }
}

/// One request. Fields not used by a type are empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub kind: RequestType,
    /// The sending node; `None` from the emitter.
    pub uid: Option<String>,
    /// Set when the sender waits for answers.
    pub request_id: Option<String>,
    /// Which sockets (join, leave, disconnect, fetch, broadcast).
    pub targets: Targets,
    /// Rooms to join or leave.
    pub rooms: Vec<String>,
    /// Disconnect: close the whole connection.
    pub close: bool,
    /// Broadcast with ack: the event to send.
    pub packet: Option<SioPacket>,
    /// Broadcast with ack: how long the sender waits (`flags.timeout`, ms).
    pub timeout_ms: Option<u64>,
    /// Server-side emit: the arguments.
    pub data: Option<Json>,
}

impl Request {
    pub fn new(
        kind: RequestType,
        uid: &str,
        request_id: Option<String>,
        targets: Targets,
    ) -> Request {
        Request {
            kind,
            uid: Some(uid.to_string()),
            request_id,
            targets,
            rooms: Vec::new(),
            close: false,
            packet: None,
            timeout_ms: None,
            data: None,
        }
    }
}

/// A socket in a fetch answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSocket {
    pub id: String,
    /// Its rooms as Node lists them (including its own id).
    pub rooms: Vec<String>,
}

/// One answer. Fields not used by its request's type are empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub request_id: String,
    /// Set for broadcast-with-ack answers (8, 9) and server-side-emit acks.
    pub kind: Option<RequestType>,
    /// Fetch answers (type 5; type 0 lists bare ids).
    pub sockets: Option<Vec<RemoteSocket>>,
    /// Room names (type 1).
    pub rooms: Vec<String>,
    /// siogate: sockets matched by a join/leave/disconnect.
    pub count: Option<u64>,
    /// Type 8: how many clients the event went to.
    pub client_count: Option<u64>,
    /// Type 9: the client's ack arguments.
    pub ack_args: Vec<Json>,
}

impl Response {
    pub fn new(request_id: &str) -> Response {
        Response {
            request_id: request_id.to_string(),
            kind: None,
            sockets: None,
            rooms: Vec::new(),
            count: None,
            client_count: None,
            ack_args: Vec::new(),
        }
    }
}

/// Decodes a request (JSON when it starts with `{`, else msgpack).
pub fn decode_request(msg: &[u8]) -> Result<Request, WireError> {
    let v = read_any(msg)?;
    let code = field(&v, "type")
        .and_then(Mp::as_u64)
        .ok_or(WireError::Malformed("type"))?;
    let kind = RequestType::from_code(code).ok_or(WireError::Malformed("type"))?;
    let opts = field(&v, "opts");
    let mut targets = opts.map(decode_targets).unwrap_or_default();
    if let Some(sid) = field(&v, "sid").and_then(Mp::as_str) {
        // The adapter's older single-socket form: {sid, room}.
        targets.socket = Some(sid.to_string());
    }
    let mut rooms = strings(field(&v, "rooms"));
    if let Some(room) = field(&v, "room").and_then(Mp::as_str) {
        rooms.push(room.to_string());
    }
    let packet = match (kind, field(&v, "packet")) {
        (RequestType::Broadcast, Some(p)) => {
            let nsp = field(p, "nsp").and_then(Mp::as_str).unwrap_or("/");
            Some(decode_packet(p, nsp)?)
        }
        (RequestType::Broadcast, None) => return Err(WireError::Malformed("packet")),
        _ => None,
    };
    let timeout_ms = opts
        .and_then(|o| field(o, "flags"))
        .and_then(|f| field(f, "timeout"))
        .and_then(Mp::as_u64);
    let data = field(&v, "data").map(to_json_value).transpose()?;
    Ok(Request {
        kind,
        uid: field(&v, "uid").and_then(Mp::as_str).map(str::to_string),
        request_id: request_id(&v),
        targets,
        rooms,
        close: field(&v, "close").and_then(Mp::as_bool).unwrap_or(false),
        packet,
        timeout_ms,
        data,
    })
}

/// Encodes a request as the Node adapter would.
pub fn encode_request(r: &Request) -> Result<Vec<u8>, WireError> {
    if r.kind == RequestType::Broadcast {
        return encode_broadcast_request(r);
    }
    let targets = &r.targets;
    let opts = json!({
        "rooms": rooms_or_socket(targets),
        "except": targets.except,
    });
    let mut obj = serde_json::Map::new();
    if let Some(uid) = &r.uid {
        obj.insert("uid".into(), json!(uid));
    }
    if let Some(id) = &r.request_id {
        obj.insert("requestId".into(), json!(id));
    }
    obj.insert("type".into(), json!(r.kind as u8));
    obj.insert("opts".into(), opts);
    if let (Some(sid), false) = (&targets.socket, targets.rooms.is_empty()) {
        obj["opts"]["siogate:socket"] = json!(sid);
    }
    match r.kind {
        RequestType::RemoteJoin | RequestType::RemoteLeave => {
            obj.insert("rooms".into(), json!(r.rooms));
        }
        RequestType::RemoteDisconnect => {
            obj.insert("close".into(), json!(r.close));
        }
        RequestType::ServerSideEmit => {
            obj.insert("data".into(), r.data.clone().unwrap_or(json!([])));
        }
        _ => {}
    }
    Ok(serde_json::to_vec(&obj).expect("a JSON map always serializes"))
}

fn encode_broadcast_request(r: &Request) -> Result<Vec<u8>, WireError> {
    let packet = r.packet.as_ref().ok_or(WireError::Malformed("packet"))?;
    let (kind, nsp, _, data) = packet_to_msgpack(packet)?;
    let mut opts = encode_targets(&r.targets);
    if let (Mp::Map(fields), Some(ms)) = (&mut opts, r.timeout_ms) {
        for (k, v) in fields.iter_mut() {
            if k.as_str() == Some("flags") {
                *v = Mp::Map(vec![(Mp::from("timeout"), Mp::from(ms))]);
            }
        }
    }
    let msg = Mp::Map(vec![
        (Mp::from("uid"), Mp::from(r.uid.as_deref().unwrap_or(""))),
        (
            Mp::from("requestId"),
            Mp::from(r.request_id.as_deref().unwrap_or("")),
        ),
        (Mp::from("type"), Mp::from(RequestType::Broadcast as u8)),
        (
            Mp::from("packet"),
            Mp::Map(vec![
                (Mp::from("type"), Mp::from(kind)),
                (Mp::from("data"), data),
                (Mp::from("nsp"), Mp::from(nsp.as_str())),
            ]),
        ),
        (Mp::from("opts"), opts),
    ]);
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &msg).expect("writing to a Vec cannot fail");
    Ok(out)
}

/// Decodes an answer (JSON or msgpack).
pub fn decode_response(msg: &[u8]) -> Result<Response, WireError> {
    let v = read_any(msg)?;
    let mut r = Response::new(&request_id(&v).ok_or(WireError::Malformed("requestId"))?);
    r.kind = field(&v, "type")
        .and_then(Mp::as_u64)
        .and_then(RequestType::from_code);
    if let Some(Mp::Array(items)) = field(&v, "sockets") {
        r.sockets = Some(
            items
                .iter()
                .filter_map(|s| match s {
                    Mp::String(id) => Some(RemoteSocket {
                        id: id.as_str()?.to_string(),
                        rooms: Vec::new(),
                    }),
                    other => Some(RemoteSocket {
                        id: field(other, "id")?.as_str()?.to_string(),
                        rooms: strings(field(other, "rooms")),
                    }),
                })
                .collect(),
        );
    }
    r.rooms = strings(field(&v, "rooms"));
    r.count = field(&v, "count").and_then(Mp::as_u64);
    r.client_count = field(&v, "clientCount").and_then(Mp::as_u64);
    if r.kind == Some(RequestType::BroadcastAck) {
        r.ack_args = match field(&v, "siogate:args").map(to_json_value).transpose()? {
            Some(Json::Array(args)) => args,
            _ => field(&v, "packet")
                .map(to_json_value)
                .transpose()?
                .into_iter()
                .collect(),
        };
    }
    Ok(r)
}

/// Encodes an answer: msgpack for broadcast acks (type 9), else JSON.
pub fn encode_response(r: &Response) -> Vec<u8> {
    if r.kind == Some(RequestType::BroadcastAck) {
        let args = Json::Array(r.ack_args.clone());
        let first = r.ack_args.first().cloned().unwrap_or(Json::Null);
        let msg = Mp::Map(vec![
            (Mp::from("type"), Mp::from(RequestType::BroadcastAck as u8)),
            (Mp::from("requestId"), Mp::from(r.request_id.as_str())),
            (Mp::from("packet"), value::from_json(&first, &[])),
            (Mp::from("siogate:args"), value::from_json(&args, &[])),
        ]);
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &msg).expect("writing to a Vec cannot fail");
        return out;
    }
    let mut obj = serde_json::Map::new();
    obj.insert("requestId".into(), json!(r.request_id));
    if let Some(kind) = r.kind {
        obj.insert("type".into(), json!(kind as u8));
    }
    if let Some(sockets) = &r.sockets {
        let sockets: Vec<Json> = sockets
            .iter()
            .map(|s| json!({"id": s.id, "handshake": {}, "rooms": s.rooms, "data": {}}))
            .collect();
        obj.insert("sockets".into(), Json::Array(sockets));
    }
    if !r.rooms.is_empty() {
        obj.insert("rooms".into(), json!(r.rooms));
    }
    if let Some(n) = r.count {
        obj.insert("count".into(), json!(n));
    }
    if let Some(n) = r.client_count {
        obj.insert("clientCount".into(), json!(n));
    }
    serde_json::to_vec(&obj).expect("a JSON map always serializes")
}

/// `rooms` on the wire: one socket alone is the room named after it.
fn rooms_or_socket(t: &Targets) -> Vec<String> {
    match (&t.socket, t.rooms.is_empty()) {
        (Some(sid), true) => vec![sid.clone()],
        _ => t.rooms.clone(),
    }
}

fn read_any(msg: &[u8]) -> Result<Mp, WireError> {
    if msg.first() == Some(&b'{') {
        let json: Json = serde_json::from_slice(msg).map_err(|_| WireError::InvalidJson)?;
        Ok(value::from_json(&json, &[]))
    } else {
        read_msgpack(msg)
    }
}

fn request_id(v: &Mp) -> Option<String> {
    match field(v, "requestId")? {
        Mp::String(s) => s.as_str().map(str::to_string),
        Mp::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

fn strings(v: Option<&Mp>) -> Vec<String> {
    v.and_then(Mp::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A msgpack value as plain JSON (binary as placeholders; the attachments
/// are dropped: these fields are read by siogate, not relayed).
fn to_json_value(v: &Mp) -> Result<Json, WireError> {
    let mut text = Vec::new();
    value::to_json(v, &mut text, &mut Vec::new())?;
    serde_json::from_slice(&text).map_err(|_| WireError::InvalidJson)
}
