//! Namespaces: the registry (a configured list, or any name), and the
//! CONNECT / DISCONNECT / CONNECT_ERROR exchanges of standalone mode.
//!
//! Wire behaviour mirrors Node socket.io 2.5.0 for SIO4 clients and 4.x for
//! SIO5 clients (PROTOCOL.md §2.4, §2.5, §2.7):
//! - SIO4: the root is connected implicitly at the handshake; a namespace
//!   CONNECT carries its query in the nsp (`40/chat?token=abc,`), which is
//!   stripped, merged over the handshake query (nsp wins) and answered with
//!   the bare path (`40/chat,`); errors are `44/chat,"reason"`; a repeated
//!   CONNECT is answered again (the root: not at all); packets for namespaces
//!   that are not connected are ignored.
//! - SIO5: every namespace needs a CONNECT, answered `40/chat,{"sid":…}`;
//!   the nsp is verbatim (a `?` makes it unknown); errors are
//!   `44/chat,{"message":"reason"}`; a duplicate CONNECT, a CONNECT_ERROR
//!   from the client, or any other packet for a namespace that is not
//!   connected closes the session.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use serde_json::{Map, Value};

use super::backend::Conn;
use super::socket::Socket;
use super::{Hub, StandaloneError};
use crate::protocol::socketio::connect::{Query, Target};
use crate::protocol::socketio::{Packet, PacketKind, Revision};
use crate::server::CloseReason;

/// The message of a CONNECT_ERROR for a namespace that does not exist.
pub const INVALID_NAMESPACE: &str = "Invalid namespace";

/// Which namespaces clients may connect to. `/` always exists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NamespacePolicy {
    /// Any name that starts with `/` and has no `?` (created on first use).
    #[default]
    Any,
    /// Only these (plus `/`).
    List(Vec<String>),
}

/// One namespace: its name and its server → client ack id counter (shared
/// by its sockets, as Node does).
#[derive(Debug)]
pub struct Namespace {
    name: Arc<str>,
    ack_ids: AtomicU64,
}

impl Namespace {
    fn new(name: &str) -> Namespace {
        Namespace {
            name: Arc::from(name),
            ack_ids: AtomicU64::new(0),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    /// The next ack id for a server → client event.
    pub fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// The namespaces of this node.
#[derive(Debug)]
pub struct Registry {
    any: bool,
    max_dynamic: usize,
    fixed: HashMap<String, Arc<Namespace>>,
    dynamic: RwLock<HashMap<String, Arc<Namespace>>>,
}

impl Registry {
    /// Checks the configured names (`/` prefix, no `?` or `,`).
    pub fn new(policy: &NamespacePolicy, max_dynamic: usize) -> Result<Registry, StandaloneError> {
        let mut fixed = HashMap::from([("/".to_string(), Arc::new(Namespace::new("/")))]);
        if let NamespacePolicy::List(names) = policy {
            for name in names {
                if !valid_name(name) {
                    return Err(StandaloneError::InvalidNamespace(name.clone()));
                }
                fixed.insert(name.clone(), Arc::new(Namespace::new(name)));
            }
        }
        Ok(Registry {
            any: matches!(policy, NamespacePolicy::Any),
            max_dynamic,
            fixed,
            dynamic: RwLock::default(),
        })
    }

    /// Whether clients may use `name`.
    pub fn allows(&self, name: &str) -> bool {
        self.fixed.contains_key(name) || (self.any && valid_name(name))
    }

    /// The namespace `name`, created on first use under [`NamespacePolicy::Any`]
    /// (at most `max_dynamic` of them; later names are refused).
    pub fn get(&self, name: &str) -> Option<Arc<Namespace>> {
        if let Some(ns) = self.fixed.get(name) {
            return Some(ns.clone());
        }
        if !self.any || !valid_name(name) {
            return None;
        }
        if let Some(ns) = self
            .dynamic
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Some(ns.clone());
        }
        let mut dynamic = self.dynamic.write().unwrap_or_else(|e| e.into_inner());
        if dynamic.len() >= self.max_dynamic && !dynamic.contains_key(name) {
            tracing::warn!(nsp = name, "dynamic namespace limit reached");
            return None;
        }
        Some(
            dynamic
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(Namespace::new(name)))
                .clone(),
        )
    }
}

fn valid_name(name: &str) -> bool {
    name.starts_with('/') && !name.contains(['?', ',']) && name.len() <= 256
}

/// A client CONNECT.
pub(super) async fn on_connect(
    hub: &Hub,
    conn: &mut Conn,
    packet: &Packet,
) -> Result<(), CloseReason> {
    match conn.rev {
        Revision::V4 => connect_v4(hub, conn, packet.nsp_str()).await,
        Revision::V5 => connect_v5(hub, conn, packet).await,
    }
}

async fn connect_v4(hub: &Hub, conn: &mut Conn, raw_nsp: &str) -> Result<(), CloseReason> {
    let target = Target::parse(raw_nsp);
    let path = target.path.as_str();
    if conn.socket(path).is_some() {
        // Node 2.5.0 sends nothing for an explicit root CONNECT; repeat the
        // reply for a namespace so the client is not left waiting.
        if path != "/" {
            send(conn, &connected(Revision::V4, path, ""));
        }
        return Ok(());
    }
    let query = merge_query(&conn.handshake.query, target.query.as_ref());
    let token = query.get("token").map(str::to_owned);
    establish(
        hub,
        conn,
        path,
        token.as_deref(),
        nsp_extra(target.query, None),
    )
    .await;
    Ok(())
}

async fn connect_v5(hub: &Hub, conn: &mut Conn, packet: &Packet) -> Result<(), CloseReason> {
    let nsp = packet.nsp_str();
    if conn.socket(nsp).is_some() {
        return Err(CloseReason::ProtocolError(format!(
            "duplicate CONNECT for namespace {nsp}"
        )));
    }
    // The decoder checked that a CONNECT payload is absent or an object.
    let auth: Option<Map<String, Value>> = if packet.data.is_empty() {
        None
    } else {
        serde_json::from_slice(&packet.data).ok()
    };
    let token = auth
        .as_ref()
        .and_then(|a| a.get("token"))
        .and_then(Value::as_str)
        .or_else(|| conn.handshake.query.get("token"))
        .map(str::to_owned);
    establish(hub, conn, nsp, token.as_deref(), nsp_extra(None, auth)).await;
    Ok(())
}

/// The SIO4 namespace query or the SIO5 auth object, kept for the webhook.
pub(super) struct Extra {
    pub query: Option<Query>,
    pub auth: Option<Map<String, Value>>,
}

fn nsp_extra(query: Option<Query>, auth: Option<Map<String, Value>>) -> Extra {
    Extra {
        query: query.filter(|q| !q.is_empty()),
        auth,
    }
}

/// Connects the session to `nsp` if it exists and the token passes, and
/// answers the client either way. Used for SIO4's implicit root too.
pub(super) async fn establish(
    hub: &Hub,
    conn: &mut Conn,
    nsp: &str,
    token: Option<&str>,
    extra: Extra,
) {
    let rev = conn.rev;
    let Some(ns) = hub.namespaces.get(nsp) else {
        send(conn, &connect_error(rev, nsp, INVALID_NAMESPACE));
        return;
    };
    let claims = match &hub.auth {
        None => None,
        Some(auth) => match auth.verify(token) {
            Ok(claims) => claims,
            Err(e) => {
                tracing::debug!(nsp, error = %e, "connect refused");
                send(conn, &connect_error(rev, nsp, &e.to_string()));
                return;
            }
        },
    };
    let rooms = claims.as_ref().map(|c| c.rooms.clone()).unwrap_or_default();
    let mut socket = Socket::new(rev, ns, conn.outbox.eio_sid(), claims.map(|c| c.raw));
    socket.query = extra.query;
    socket.auth = extra.auth;
    if let Err(e) = hub
        .adapter
        .add_socket(socket.handle(&conn.outbox), rooms)
        .await
    {
        tracing::warn!(nsp, error = %e, "connect failed");
        send(conn, &connect_error(rev, nsp, &e.to_string()));
        return;
    }
    let reply = connected(rev, nsp, &socket.id);
    conn.insert(socket);
    send(conn, &reply);
}

/// A client DISCONNECT: the socket leaves its namespace (no reply).
pub(super) async fn on_disconnect(
    hub: &Hub,
    conn: &mut Conn,
    packet: &Packet,
) -> Result<(), CloseReason> {
    let nsp = packet.nsp_str();
    match conn.remove(nsp) {
        Some(socket) => {
            release(hub, &socket).await;
            Ok(())
        }
        None => conn.not_connected(nsp),
    }
}

/// Drops a socket from the adapter (its session left or closed).
pub(super) async fn release(hub: &Hub, socket: &Socket) {
    socket.shared.drop_pending();
    if let Err(e) = hub
        .adapter
        .del_socket(socket.nsp.name_arc(), socket.id.clone())
        .await
    {
        tracing::warn!(nsp = socket.nsp.name(), error = %e, "adapter failed to drop socket");
    }
}

/// `40<nsp>,` (SIO4) or `40<nsp>,{"sid":"…"}` (SIO5).
pub fn connected(rev: Revision, nsp: &str, sid: &str) -> Packet {
    let data = match rev {
        Revision::V4 => Bytes::new(),
        Revision::V5 => Bytes::from(serde_json::json!({ "sid": sid }).to_string()),
    };
    Packet::new(PacketKind::Connect, 0, nsp, None, data)
}

/// `44<nsp>,"message"` (SIO4 ERROR) or `44<nsp>,{"message":"…"}` (SIO5).
pub fn connect_error(rev: Revision, nsp: &str, message: &str) -> Packet {
    let data = match rev {
        Revision::V4 => Value::String(message.to_string()),
        Revision::V5 => serde_json::json!({ "message": message }),
    };
    Packet::new(
        PacketKind::ConnectError,
        0,
        nsp,
        None,
        Bytes::from(data.to_string()),
    )
}

/// Node 2.x's `{...handshake query, ...nsp query}`: keys of the nsp query
/// replace those of the handshake query.
pub fn merge_query(handshake: &Query, nsp: Option<&Query>) -> Query {
    let Some(nsp) = nsp else {
        return handshake.clone();
    };
    let mut pairs: Vec<(String, String)> = handshake
        .0
        .iter()
        .filter(|(k, _)| nsp.get(k).is_none())
        .cloned()
        .collect();
    pairs.extend(nsp.0.iter().cloned());
    Query(pairs)
}

fn send(conn: &Conn, packet: &Packet) {
    // A full queue closes the session; nothing more to do here.
    let _ = conn.outbox.send_packet(packet);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_match_node_on_the_wire() {
        let text = |p: Packet| String::from_utf8(p.encode().to_vec()).unwrap();
        assert_eq!(text(connected(Revision::V4, "/", "x")), "0");
        assert_eq!(text(connected(Revision::V4, "/chat", "x")), "0/chat,");
        assert_eq!(
            text(connected(Revision::V5, "/chat", "abc")),
            r#"0/chat,{"sid":"abc"}"#
        );
        assert_eq!(
            text(connect_error(Revision::V4, "/nope", INVALID_NAMESPACE)),
            r#"4/nope,"Invalid namespace""#
        );
        assert_eq!(
            text(connect_error(Revision::V5, "/nope", INVALID_NAMESPACE)),
            r#"4/nope,{"message":"Invalid namespace"}"#
        );
        assert_eq!(
            text(connect_error(Revision::V5, "/", "bad")),
            r#"4{"message":"bad"}"#
        );
    }

    #[test]
    fn nsp_query_wins_over_handshake_query() {
        let hs = Query::parse("token=old&a=1&token=older");
        let nsp = Query::parse("token=new&b=2");
        let merged = merge_query(&hs, Some(&nsp));
        assert_eq!(merged, Query::parse("a=1&token=new&b=2"));
        assert_eq!(merge_query(&hs, None), hs);
    }

    #[test]
    fn registry_list_policy_knows_only_its_names_and_root() {
        let reg = Registry::new(&NamespacePolicy::List(vec!["/chat".into()]), 10).unwrap();
        assert!(reg.get("/").is_some());
        assert!(reg.get("/chat").is_some());
        assert!(reg.get("/nope").is_none());
        assert!(reg.allows("/chat") && !reg.allows("/nope"));
    }

    #[test]
    fn registry_any_policy_refuses_queries_and_caps_dynamic_names() {
        let reg = Registry::new(&NamespacePolicy::Any, 2).unwrap();
        assert!(reg.get("/chat?token=abc").is_none());
        assert!(reg.get("chat").is_none());
        let a = reg.get("/a").unwrap();
        a.next_ack_id();
        assert_eq!(reg.get("/a").unwrap().next_ack_id(), 1, "same namespace");
        assert!(reg.get("/b").is_some());
        assert!(reg.get("/c").is_none(), "over the cap");
        assert!(reg.get("/a").is_some(), "existing still found");
    }

    #[test]
    fn registry_rejects_bad_configured_names() {
        for bad in ["chat", "/a?b", "/a,b"] {
            let policy = NamespacePolicy::List(vec![bad.into()]);
            assert!(Registry::new(&policy, 1).is_err(), "{bad}");
        }
    }
}
