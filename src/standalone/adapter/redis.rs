//! The Redis cluster [`Adapter`]: a [`LocalAdapter`] for the sockets of this
//! node, plus Redis pub/sub in the wire format of socket.io's Redis adapter
//! ([`crate::cluster::wire`]), so siogate nodes, Node socket.io servers with
//! `@socket.io/redis-adapter` and `@socket.io/redis-emitter` backends can
//! share one cluster.
//!
//! - Broadcasts are published first, then delivered locally; other nodes
//!   skip their own messages by uid, so every matching socket gets a push
//!   once. A push to one socket of this node stays local. The count returned
//!   is this node's recipients (other nodes do not report theirs).
//! - Join, leave and disconnect apply locally and, unless they targeted a
//!   socket found here, go to the other nodes as requests whose answers
//!   (counted against `PUBSUB NUMSUB` of the namespace's request channel)
//!   are summed; a node that does not answer within the request timeout
//!   (a Node server, which never answers these) is left out of the count.
//! - Listings (`fetch_sockets`, `rooms`) gather every node's answer and fail
//!   with [`AdapterError::Timeout`] when one is missing at the deadline.
//! - While Redis is unreachable every cluster operation fails with
//!   [`AdapterError::Unavailable`]; the link reconnects and re-subscribes.
//!
//! A namespace's channels are subscribed when its first local socket
//! connects or when this node first sends it a request, and kept after.
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::local::LocalAdapter;
use super::{
    AckOutcome, Adapter, AdapterError, AdapterFuture, BroadcastOptions, BroadcastPacket, SocketInfo,
};
use crate::cluster::redis::{ClusterError, LinkOptions, RedisLink, node_uid};
use crate::cluster::requests::Pending;
use crate::cluster::wire::request::{Request, RequestType};
use crate::cluster::wire::{self, Channels, SioPacket, Targets};
use crate::standalone::codec::EventPayload;
use crate::standalone::socket::LocalSocket;

/// How to reach Redis and how long to wait for other nodes.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://[:password@]host:port[/db]`.
    pub url: String,
    /// Channel key prefix. Default `socket.io` (the Node adapter's).
    pub prefix: String,
    /// How long to wait for other nodes' answers. Default 5 s (Node's
    /// `requestsTimeout`).
    pub request_timeout: Duration,
    pub link: LinkOptions,
}

impl RedisOptions {
    pub fn new(url: impl Into<String>) -> RedisOptions {
        RedisOptions {
            url: url.into(),
            prefix: wire::DEFAULT_PREFIX.into(),
            request_timeout: Duration::from_secs(5),
            link: LinkOptions::default(),
        }
    }
}

/// The cluster adapter. Create with [`RedisAdapter::start`].
pub struct RedisAdapter {
    shared: Arc<Shared>,
}

/// State shared with the Redis message handler (`redis_inbound`).
pub(super) struct Shared {
    pub(super) opts: RedisOptions,
    /// This node's id in broadcasts and requests.
    pub(super) uid: String,
    pub(super) local: LocalAdapter,
    pub(super) pending: Arc<Pending>,
    /// Namespaces whose channels are subscribed.
    pub(super) subscribed: Mutex<HashSet<String>>,
    link: OnceLock<RedisLink>,
    pub(super) this: Weak<Shared>,
    /// Answers being published, acks being awaited.
    pub(super) tasks: TaskTracker,
}

impl RedisAdapter {
    /// Starts the Redis link (without waiting for Redis) and the adapter.
    /// The link's task stops when `stop` is cancelled.
    pub fn start(
        opts: RedisOptions,
        stop: CancellationToken,
    ) -> Result<RedisAdapter, ClusterError> {
        let shared = Arc::new_cyclic(|this| Shared {
            uid: node_uid(),
            local: LocalAdapter::new(),
            pending: Pending::new(),
            subscribed: Mutex::new(HashSet::new()),
            link: OnceLock::new(),
            this: this.clone(),
            tasks: TaskTracker::new(),
            opts,
        });
        let link = RedisLink::start(
            &shared.opts.url,
            shared.opts.link.clone(),
            shared.clone(),
            stop,
        )?;
        let _ = shared.link.set(link);
        Ok(RedisAdapter { shared })
    }

    /// The Redis link (state for readiness and metrics).
    pub fn link(&self) -> Option<&RedisLink> {
        self.shared.link.get()
    }

    /// This node's uid on the wire.
    pub fn uid(&self) -> &str {
        &self.shared.uid
    }
}

impl From<ClusterError> for AdapterError {
    fn from(e: ClusterError) -> AdapterError {
        AdapterError::Unavailable(e.to_string())
    }
}

impl Shared {
    pub(super) fn link(&self) -> Result<&RedisLink, AdapterError> {
        self.link
            .get()
            .ok_or_else(|| AdapterError::Unavailable("Redis link not started".into()))
    }

    pub(super) fn channels(&self, nsp: &str) -> Channels {
        Channels::new(&self.opts.prefix, nsp)
    }

    /// Subscribes the namespace's broadcast pattern and request/response
    /// channels once.
    pub(super) async fn ensure_nsp(&self, nsp: &str) -> Result<(), AdapterError> {
        let fresh = self
            .subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(nsp.to_string());
        if !fresh {
            return Ok(());
        }
        let ch = self.channels(nsp);
        let channels = [
            ch.request().to_string(),
            ch.response().to_string(),
            ch.response_for(&self.uid),
        ];
        self.link()?.ensure(&channels, &[ch.pattern()]).await?;
        Ok(())
    }

    async fn broadcast(
        &self,
        opts: BroadcastOptions,
        packet: BroadcastPacket,
    ) -> Result<usize, AdapterError> {
        let link = self.link()?;
        if opts.socket.is_some() && opts.rooms.is_empty() {
            let n = self.local.send_to_matching(&opts, &packet);
            if n > 0
                || self
                    .local
                    .has_room(&opts.nsp, opts.socket.as_deref().unwrap_or_default())
            {
                return Ok(n);
            }
        }
        let targets = targets(&opts);
        let packet_out = SioPacket {
            text: packet.text.clone(),
            attachments: packet.attachments.clone(),
        };
        let msg = wire::encode_broadcast(&self.uid, &packet_out, &targets)
            .map_err(|e| AdapterError::Unavailable(format!("cannot encode for Redis: {e}")))?;
        let wire_rooms = match (&opts.socket, opts.rooms.is_empty()) {
            (Some(sid), true) => std::slice::from_ref(sid),
            _ => &opts.rooms[..],
        };
        let channel = self.channels(&opts.nsp).for_rooms(wire_rooms).into_owned();
        link.publish(&channel, msg).await?;
        Ok(self.local.send_to_matching(&opts, &packet))
    }
}

/// Adapter options as wire targets.
pub(super) fn targets(opts: &BroadcastOptions) -> Targets {
    Targets {
        rooms: opts.rooms.clone(),
        except: opts.except.clone(),
        socket: opts.socket.clone(),
        volatile: false,
    }
}

fn rooms_request(
    kind: RequestType,
    uid: &str,
    opts: &BroadcastOptions,
    rooms: Vec<String>,
) -> Request {
    let mut req = Request::new(kind, uid, None, targets(opts));
    req.rooms = rooms;
    req
}

impl Adapter for RedisAdapter {
    fn add_socket(&self, socket: LocalSocket, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        Box::pin(async move {
            if let Err(e) = self.shared.ensure_nsp(&socket.nsp).await {
                // Kept for the next (re)subscribe: the socket still works locally.
                tracing::warn!(nsp = %socket.nsp, error = %e, "cluster subscribe failed");
            }
            self.shared.local.insert(socket, rooms);
            Ok(())
        })
    }

    fn del_socket(&self, nsp: Arc<str>, sid: Arc<str>) -> AdapterFuture<'_, ()> {
        Box::pin(async move {
            self.shared.local.remove(&nsp, &sid);
            Ok(())
        })
    }

    fn broadcast(
        &self,
        opts: BroadcastOptions,
        packet: BroadcastPacket,
    ) -> AdapterFuture<'_, usize> {
        Box::pin(self.shared.broadcast(opts, packet))
    }

    fn emit_with_ack(
        &self,
        opts: BroadcastOptions,
        payload: EventPayload,
        timeout: Duration,
    ) -> AdapterFuture<'_, AckOutcome> {
        Box::pin(self.shared.emit_with_ack(opts, payload, timeout))
    }

    fn add_rooms(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, usize> {
        let req = rooms_request(
            RequestType::RemoteJoin,
            &self.shared.uid,
            &opts,
            rooms.clone(),
        );
        Box::pin(self.shared.apply(opts, req, move |o| {
            self.shared.local.update_rooms(o, &rooms, true)
        }))
    }

    fn del_rooms(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, usize> {
        let req = rooms_request(
            RequestType::RemoteLeave,
            &self.shared.uid,
            &opts,
            rooms.clone(),
        );
        Box::pin(self.shared.apply(opts, req, move |o| {
            self.shared.local.update_rooms(o, &rooms, false)
        }))
    }

    fn disconnect_sockets(
        &self,
        opts: BroadcastOptions,
        close_session: bool,
    ) -> AdapterFuture<'_, usize> {
        let mut req = Request::new(
            RequestType::RemoteDisconnect,
            &self.shared.uid,
            None,
            targets(&opts),
        );
        req.close = close_session;
        Box::pin(self.shared.apply(opts, req, move |o| {
            self.shared.local.disconnect_matching(o, close_session)
        }))
    }

    fn fetch_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<SocketInfo>> {
        Box::pin(self.shared.fetch(opts))
    }

    fn rooms(&self, nsp: String) -> AdapterFuture<'_, BTreeMap<String, usize>> {
        Box::pin(self.shared.rooms(nsp))
    }
}
