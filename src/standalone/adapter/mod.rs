//! The [`Adapter`] trait: every operation that may concern sockets on other
//! nodes (broadcast, room membership, disconnects, listings) goes through it.
//!
//! [`local::LocalAdapter`] keeps everything in this process.
//! [`redis::RedisAdapter`] (cluster mode) keeps a local adapter for the
//! sockets connected to this node and forwards the rest over Redis
//! (`redis_inbound` handles what other nodes send, `redis_remote` the
//! requests this node sends them), so the trait assumes nothing local:
//! every method is async and fallible, and all inputs are owned and
//! serializable ([`BroadcastOptions`],
//! [`BroadcastPacket`]). Registering a socket ([`Adapter::add_socket`]) is part
//! of the trait because a cluster adapter must subscribe to the rooms of its
//! local sockets. The trait is object safe (`Arc<dyn Adapter>`), so the mode
//! can pick an implementation from the config at runtime; futures are boxed,
//! which costs one allocation per call, not per recipient.
pub mod local;
pub mod redis;
mod redis_inbound;
mod redis_remote;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::codec::EventPayload;
use super::rooms::Selector;
pub use super::socket::AckOutcome;
use super::socket::LocalSocket;

/// The future returned by every [`Adapter`] method.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AdapterError>> + Send + 'a>>;

/// An adapter operation failed. The local adapter never fails; a cluster
/// adapter fails when its backing service is unreachable, and callers must
/// report that (the push API answers 503) rather than drop the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The cluster transport is down.
    #[error("adapter unavailable: {0}")]
    Unavailable(String),
    /// Other nodes did not answer in time.
    #[error("adapter request timed out")]
    Timeout,
}

/// Which sockets an operation applies to, in one namespace.
///
/// Matching sockets: those of `nsp`; if `rooms` is not empty, only those in
/// at least one of them; if `socket` is set, only that one; minus those in
/// any room of `except`. Every socket is implicitly in a room named after
/// its id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastOptions {
    pub nsp: String,
    pub rooms: Vec<String>,
    pub except: Vec<String>,
    pub socket: Option<String>,
}

impl BroadcastOptions {
    /// Every socket of `nsp`.
    pub fn namespace(nsp: impl Into<String>) -> BroadcastOptions {
        BroadcastOptions {
            nsp: nsp.into(),
            ..BroadcastOptions::default()
        }
    }

    /// One socket of `nsp`.
    pub fn socket(nsp: impl Into<String>, sid: impl Into<String>) -> BroadcastOptions {
        BroadcastOptions {
            nsp: nsp.into(),
            socket: Some(sid.into()),
            ..BroadcastOptions::default()
        }
    }

    /// The filter part, borrowed for [`super::rooms::RoomIndex::select`].
    pub fn selector(&self) -> Selector<'_> {
        Selector {
            rooms: &self.rooms,
            except: &self.except,
            socket: self.socket.as_deref(),
        }
    }
}

/// A Socket.IO packet encoded once for all recipients: the packet text
/// (what follows the Engine.IO `4`) and its binary attachments, which go out
/// right after it as Engine.IO binary messages. Cloning only bumps reference
/// counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BroadcastPacket {
    pub text: Bytes,
    pub attachments: Vec<Bytes>,
}

/// A socket as listed by [`Adapter::fetch_sockets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The id the client sees as `socket.id`.
    pub id: String,
    /// Its explicit rooms, sorted (its implicit own-id room is not listed).
    pub rooms: Vec<String>,
}

/// Cluster-aware operations on the sockets of every namespace.
pub trait Adapter: Send + Sync + 'static {
    /// Registers a socket that just connected to this node, already in
    /// `rooms` (e.g. from its token) when it becomes visible.
    fn add_socket(&self, socket: LocalSocket, rooms: Vec<String>) -> AdapterFuture<'_, ()>;

    /// Forgets a socket of this node (it left or its session closed).
    fn del_socket(&self, nsp: Arc<str>, sid: Arc<str>) -> AdapterFuture<'_, ()>;

    /// Sends `packet` to the matching sockets. Returns how many sockets it
    /// was queued for (a recipient whose queue overflowed is not counted).
    fn broadcast(
        &self,
        opts: BroadcastOptions,
        packet: BroadcastPacket,
    ) -> AdapterFuture<'_, usize>;

    /// Sends an event asking for an ack to the one socket `opts` selects
    /// (`opts.socket` must be set) and waits for its ack, at most `timeout`.
    fn emit_with_ack(
        &self,
        opts: BroadcastOptions,
        payload: EventPayload,
        timeout: Duration,
    ) -> AdapterFuture<'_, AckOutcome>;

    /// Puts the matching sockets in `rooms`. Returns how many matched.
    fn add_rooms(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, usize>;

    /// Takes the matching sockets out of `rooms`. Returns how many matched.
    fn del_rooms(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, usize>;

    /// Disconnects the matching sockets from their namespace (the client
    /// gets `41<nsp>,`), or closes their whole Engine.IO session when
    /// `close_session` is set. Returns how many matched.
    fn disconnect_sockets(
        &self,
        opts: BroadcastOptions,
        close_session: bool,
    ) -> AdapterFuture<'_, usize>;

    /// Lists the matching sockets with their rooms.
    fn fetch_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<SocketInfo>>;

    /// Every explicit room of `nsp` with its number of sockets.
    fn rooms(&self, nsp: String) -> AdapterFuture<'_, BTreeMap<String, usize>>;
}
