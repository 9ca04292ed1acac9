//! Client events: the built-in `join` / `leave` (when enabled, optionally
//! limited by a glob pattern), and everything else to the webhook.
//!
//! - `socket.emit("join", "room")` or `socket.emit("join", ["a", "b"])`
//!   (same for `leave`): every room must match the pattern (`*` any run,
//!   `?` one character) or none is joined. With an ack the client gets
//!   `[{"ok":true}]` or `[{"error":"<reason>"}]`.
//! - Other events (and join/leave when disabled) go to the webhook, whose
//!   reply becomes the ack (see [`super::webhook`]); a failed call acks
//!   `[{"error":"webhook error"}]`. Calls run concurrently with the
//!   session's later packets (bounded per session).
//! - Without a webhook the event is dropped; if the client asked for an ack
//!   it gets `[{"error":"no handler"}]`.
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use super::adapter::BroadcastOptions;
use super::backend::Conn;
use super::namespace::merge_query;
use super::{Hub, codec, webhook};
use crate::protocol::socketio::Message;
use crate::server::CloseReason;

/// Most rooms one join/leave event may name.
const MAX_ROOMS_PER_EVENT: usize = 64;
/// Longest room name accepted from a client.
const MAX_ROOM_LEN: usize = 256;

#[derive(Serialize)]
struct HookRequest<'a> {
    namespace: &'a str,
    socket: &'a str,
    event: &'a str,
    args: &'a [Value],
    claims: Option<&'a Value>,
    query: Map<String, Value>,
    auth: Option<Map<String, Value>>,
}

/// An EVENT or BINARY_EVENT on a connected namespace.
pub(super) async fn on_event(
    hub: &Arc<Hub>,
    conn: &mut Conn,
    msg: Message,
) -> Result<(), CloseReason> {
    let packet = &msg.packet;
    let nsp = packet.nsp_str();
    let ack_id = packet.ack_id;
    // The decoder validated the JSON; serde_json is stricter on a few inputs
    // JSON.parse accepts (lone surrogates, numbers beyond f64).
    let Ok(mut items) = serde_json::from_slice::<Vec<Value>>(&packet.data) else {
        ack_error(conn, nsp, ack_id, "unsupported payload");
        return Ok(());
    };
    if !msg.attachments.is_empty() {
        items
            .iter_mut()
            .for_each(|v| codec::inject_bin(v, &msg.attachments));
    }
    let name = match items.first() {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Ok(()),
    };
    let args = items.split_off(1);
    if hub.opts.join_leave && (name == "join" || name == "leave") {
        room_event(hub, conn, nsp, ack_id, name == "join", &args).await;
        return Ok(());
    }
    let Some(hook) = &hub.webhook else {
        ack_error(conn, nsp, ack_id, "no handler");
        return Ok(());
    };
    let handshake = conn.handshake.clone();
    let Some(socket) = conn.socket(nsp) else {
        return Ok(());
    };
    let body = HookRequest {
        namespace: nsp,
        socket: &socket.id,
        event: &name,
        args: &args,
        claims: socket.claims.as_deref(),
        query: without_token(merge_query(&handshake.query, socket.query.as_ref()).to_auth()),
        auth: socket.auth.clone().map(without_token),
    };
    let body = Bytes::from(serde_json::to_vec(&body).expect("JSON values serialize"));
    let slots = conn
        .webhook_slots
        .get_or_insert_with(|| Arc::new(Semaphore::new(hook.max_in_flight)))
        .clone();
    let Ok(permit) = slots.acquire_owned().await else {
        return Ok(());
    };
    let task_hub = hub.clone();
    let outbox = conn.outbox.clone();
    let nsp = nsp.to_string();
    hub.tasks.spawn(async move {
        let _permit = permit;
        let Some(hook) = &task_hub.webhook else {
            return;
        };
        let result = hook.call(body).await;
        if let Err(e) = &result {
            tracing::warn!(nsp, event = %name, error = %e, "webhook call failed");
        }
        let Some(id) = ack_id else {
            return;
        };
        let args = match result {
            Ok(reply) => webhook::reply_args(reply),
            Err(_) => vec![json!({"error": "webhook error"})],
        };
        let packet = codec::ack(&nsp, id, args).or_else(|e| {
            tracing::warn!(nsp, error = %e, "webhook reply cannot be sent as an ack");
            codec::ack(&nsp, id, vec![json!({"error": "webhook error"})])
        });
        if let Ok(packet) = packet {
            let _ = outbox.send(&packet);
        }
    });
    Ok(())
}

/// An ACK or BINARY_ACK from the client on a connected namespace: resolves
/// the push API's pending "emit with ack" (unknown ids are ignored, as Node
/// does).
pub(super) fn on_ack(conn: &mut Conn, msg: Message) {
    let packet = &msg.packet;
    let (Some(id), Some(socket)) = (packet.ack_id, conn.socket(packet.nsp_str())) else {
        return;
    };
    let Ok(mut args) = serde_json::from_slice::<Vec<Value>>(&packet.data) else {
        return;
    };
    if !msg.attachments.is_empty() {
        args.iter_mut()
            .for_each(|v| codec::inject_bin(v, &msg.attachments));
    }
    if !socket.shared.resolve_ack(id, args) {
        tracing::trace!(id, "ack for nothing pending, ignored");
    }
}

/// The built-in `join` / `leave`.
async fn room_event(
    hub: &Hub,
    conn: &mut Conn,
    nsp: &str,
    ack_id: Option<u64>,
    join: bool,
    args: &[Value],
) {
    let rooms = match room_args(args, hub.opts.join_pattern.as_deref()) {
        Ok(rooms) => rooms,
        Err(reason) => return ack_error(conn, nsp, ack_id, &reason),
    };
    let Some(socket) = conn.socket(nsp) else {
        return;
    };
    let opts = BroadcastOptions::socket(nsp, &*socket.id);
    let result = if join {
        hub.adapter.add_rooms(opts, rooms).await
    } else {
        hub.adapter.del_rooms(opts, rooms).await
    };
    match result {
        Ok(_) => ack(conn, nsp, ack_id, vec![json!({"ok": true})]),
        Err(e) => ack_error(conn, nsp, ack_id, &e.to_string()),
    }
}

/// The rooms named by a join/leave event's first arg, checked against the
/// pattern.
fn room_args(args: &[Value], pattern: Option<&str>) -> Result<Vec<String>, String> {
    let rooms: Vec<String> = match args.first() {
        Some(Value::String(room)) => vec![room.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("rooms must be strings")?,
        _ => return Err("expected a room or an array of rooms".into()),
    };
    if rooms.is_empty() || rooms.len() > MAX_ROOMS_PER_EVENT {
        return Err(format!("expected 1 to {MAX_ROOMS_PER_EVENT} rooms"));
    }
    for room in &rooms {
        if room.is_empty() || room.len() > MAX_ROOM_LEN {
            return Err(format!("room names must be 1 to {MAX_ROOM_LEN} bytes"));
        }
        if pattern.is_some_and(|p| !glob_match(p, room)) {
            return Err(format!("room not allowed: {room}"));
        }
    }
    Ok(rooms)
}

fn without_token(mut map: Map<String, Value>) -> Map<String, Value> {
    map.remove("token");
    map
}

fn ack_error(conn: &Conn, nsp: &str, ack_id: Option<u64>, reason: &str) {
    ack(conn, nsp, ack_id, vec![json!({ "error": reason })]);
}

fn ack(conn: &Conn, nsp: &str, ack_id: Option<u64>, args: Vec<Value>) {
    let Some(id) = ack_id else {
        return;
    };
    if let Ok(packet) = codec::ack(nsp, id, args) {
        // A full queue closes the session.
        let _ = conn.outbox.send(&packet);
    }
}

/// Glob matching: `*` matches any run of characters (also empty), `?`
/// exactly one; everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it currently covers up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_a_shell() {
        let cases = [
            ("user:*", "user:42", true),
            ("user:*", "user:", true),
            ("user:*", "users:1", false),
            ("*", "", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*:news", "eu:news", true),
            ("*:news", "eu:news2", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("é*", "été", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob_match(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn room_args_accept_a_string_or_an_array() {
        assert_eq!(room_args(&[json!("a")], None), Ok(vec!["a".to_string()]));
        assert_eq!(
            room_args(&[json!(["a", "b"])], None),
            Ok(vec!["a".to_string(), "b".to_string()])
        );
        assert!(room_args(&[], None).is_err());
        assert!(room_args(&[json!(5)], None).is_err());
        assert!(room_args(&[json!([])], None).is_err());
        assert!(room_args(&[json!(["a", 1])], None).is_err());
        assert!(room_args(&[json!("")], None).is_err());
    }

    #[test]
    fn room_args_enforce_the_pattern_for_every_room() {
        let p = Some("user:*");
        assert!(room_args(&[json!(["user:1", "user:2"])], p).is_ok());
        assert_eq!(
            room_args(&[json!(["user:1", "admin"])], p),
            Err("room not allowed: admin".to_string())
        );
    }
}
