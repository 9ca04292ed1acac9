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
use crate::cluster::wire::request::{self, Request, RequestType, Response};
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
    async fn ensure_nsp(&self, nsp: &str) -> Result<(), AdapterError> {
        let fresh = self
            .subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(nsp.to_string());
        if !fresh {
            return Ok(());
        }
        let ch = self.channels(nsp);
        let channels = [ch.request().to_string(), ch.response().to_string()];
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

    /// Sends `req` to the other nodes of `nsp` and feeds each answer to
    /// `fold` until it returns true or every node answered. Returns false
    /// when the deadline came first.
    async fn gather(
        &self,
        nsp: &str,
        mut req: Request,
        mut fold: impl FnMut(Response) -> bool,
    ) -> Result<bool, AdapterError> {
        let link = self.link()?;
        self.ensure_nsp(nsp).await?;
        let ch = self.channels(nsp);
        // This node is one of the request channel's subscribers.
        let expected = link.numsub(ch.request()).await?.saturating_sub(1);
        if expected == 0 {
            return Ok(true);
        }
        let mut waiter = self.pending.open();
        req.request_id = Some(waiter.id.clone());
        let msg = request::encode_request(&req)
            .map_err(|e| AdapterError::Unavailable(format!("cannot encode for Redis: {e}")))?;
        link.publish(ch.request(), msg).await?;
        let deadline = tokio::time::Instant::now() + self.opts.request_timeout;
        for _ in 0..expected {
            let Some(answer) = waiter.next_until(deadline).await else {
                return Ok(false);
            };
            if fold(answer) {
                break;
            }
        }
        Ok(true)
    }

    /// Join, leave or disconnect: here first, then on the other nodes.
    async fn apply(
        &self,
        opts: BroadcastOptions,
        req: Request,
        local: impl FnOnce(&BroadcastOptions) -> usize,
    ) -> Result<usize, AdapterError> {
        self.link()?;
        let mut n = local(&opts);
        if opts.socket.is_some() && n > 0 {
            return Ok(n);
        }
        let one_socket = opts.socket.is_some();
        let complete = self
            .gather(&opts.nsp, req, |answer| {
                n += answer.count.unwrap_or(0) as usize;
                one_socket && n > 0
            })
            .await?;
        if !complete {
            tracing::debug!(nsp = %opts.nsp, "some nodes did not answer in time");
        }
        Ok(n)
    }

    async fn fetch(&self, opts: BroadcastOptions) -> Result<Vec<SocketInfo>, AdapterError> {
        let mut all = self.local.list(&opts);
        let req = Request::new(RequestType::RemoteFetch, &self.uid, None, targets(&opts));
        let complete = self
            .gather(&opts.nsp, req, |answer| {
                let sockets = answer.sockets.unwrap_or_default();
                all.extend(sockets.into_iter().map(|s| {
                    let mut rooms: Vec<String> =
                        s.rooms.into_iter().filter(|r| *r != s.id).collect();
                    rooms.sort_unstable();
                    SocketInfo { id: s.id, rooms }
                }));
                false
            })
            .await?;
        if !complete {
            return Err(AdapterError::Timeout);
        }
        all.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        all.dedup_by(|a, b| a.id == b.id);
        Ok(all)
    }

    async fn emit_with_ack(
        &self,
        opts: BroadcastOptions,
        payload: EventPayload,
        timeout: Duration,
    ) -> Result<AckOutcome, AdapterError> {
        if opts.socket.is_none() {
            return Ok(AckOutcome::NoSocket);
        }
        if let Some(socket) = self.local.targets(&opts).into_iter().next() {
            return Ok(socket.emit_with_ack(&payload, timeout).await);
        }
        let link = self.link()?;
        self.ensure_nsp(&opts.nsp).await?;
        let ch = self.channels(&opts.nsp);
        let expected = link.numsub(ch.request()).await?.saturating_sub(1);
        if expected == 0 {
            return Ok(AckOutcome::NoSocket);
        }
        let mut waiter = self.pending.open();
        let mut req = Request::new(
            RequestType::Broadcast,
            &self.uid,
            Some(waiter.id.clone()),
            targets(&opts),
        );
        let packet = payload.packet(&opts.nsp, None);
        req.packet = Some(SioPacket {
            text: packet.text,
            attachments: packet.attachments,
        });
        req.timeout_ms = Some(timeout.as_millis().try_into().unwrap_or(u64::MAX));
        let msg = request::encode_request(&req)
            .map_err(|e| AdapterError::Unavailable(format!("cannot encode for Redis: {e}")))?;
        link.publish(ch.request(), msg).await?;
        let deadline = tokio::time::Instant::now() + timeout;
        let (mut counts, mut clients) = (0usize, 0u64);
        while let Some(answer) = waiter.next_until(deadline).await {
            match answer.kind {
                Some(RequestType::BroadcastAck) => return Ok(AckOutcome::Acked(answer.ack_args)),
                Some(RequestType::BroadcastClientCount) => {
                    counts += 1;
                    clients += answer.client_count.unwrap_or(0);
                    if counts == expected && clients == 0 {
                        return Ok(AckOutcome::NoSocket);
                    }
                }
                _ => {}
            }
        }
        Ok(if clients > 0 {
            AckOutcome::TimedOut
        } else {
            AckOutcome::NoSocket
        })
    }

    async fn rooms(&self, nsp: String) -> Result<BTreeMap<String, usize>, AdapterError> {
        let mut sizes = self.local.room_sizes(&nsp);
        let req = Request::new(
            RequestType::RemoteFetch,
            &self.uid,
            None,
            Targets::default(),
        );
        let complete = self
            .gather(&nsp, req, |answer| {
                for s in answer.sockets.unwrap_or_default() {
                    for room in s.rooms.into_iter().filter(|r| *r != s.id) {
                        *sizes.entry(room).or_default() += 1;
                    }
                }
                false
            })
            .await?;
        if !complete {
            return Err(AdapterError::Timeout);
        }
        Ok(sizes)
    }
}

/// Adapter options as wire targets.
fn targets(opts: &BroadcastOptions) -> Targets {
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
