//! The single-node [`Adapter`]: per namespace, the sockets of this process
//! and their [`RoomIndex`], behind one `std` lock (never held across an
//! `.await`). Broadcasts queue the one encoded packet for each recipient
//! (a reference-count bump, no re-encoding).
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{AckOutcome, Adapter, AdapterFuture, BroadcastOptions, BroadcastPacket, SocketInfo};
use crate::standalone::codec::EventPayload;
use crate::standalone::rooms::RoomIndex;
use crate::standalone::socket::LocalSocket;

#[derive(Default)]
struct Nsp {
    sockets: HashMap<Arc<str>, LocalSocket>,
    rooms: RoomIndex,
}

/// In-memory adapter for a single node. Never fails.
#[derive(Default)]
pub struct LocalAdapter {
    nsps: RwLock<HashMap<Arc<str>, Nsp>>,
}

impl LocalAdapter {
    pub fn new() -> LocalAdapter {
        LocalAdapter::default()
    }

    /// The sockets matching `opts` (cloned handles, lock released).
    pub(super) fn targets(&self, opts: &BroadcastOptions) -> Vec<LocalSocket> {
        let nsps = self.nsps.read().unwrap_or_else(|e| e.into_inner());
        let Some(nsp) = nsps.get(opts.nsp.as_str()) else {
            return Vec::new();
        };
        nsp.rooms
            .select(opts.selector())
            .iter()
            .filter_map(|id| nsp.sockets.get(id).cloned())
            .collect()
    }

    /// Queues `packet` for every matching socket; returns how many took it.
    /// Sends are non-blocking and never call back into the adapter, so they
    /// run under the read lock (no per-recipient handle clones).
    pub(super) fn send_to_matching(
        &self,
        opts: &BroadcastOptions,
        packet: &BroadcastPacket,
    ) -> usize {
        let nsps = self.nsps.read().unwrap_or_else(|e| e.into_inner());
        let Some(nsp) = nsps.get(opts.nsp.as_str()) else {
            return 0;
        };
        let sel = opts.selector();
        if sel.rooms.is_empty() && sel.except.is_empty() && sel.socket.is_none() {
            return nsp.sockets.values().filter(|s| s.send(packet)).count();
        }
        nsp.rooms
            .select(sel)
            .iter()
            .filter_map(|id| nsp.sockets.get(id))
            .filter(|s| s.send(packet))
            .count()
    }

    /// Applies `f` to the room index of `opts.nsp` for each matching socket.
    fn for_matching(&self, opts: &BroadcastOptions, f: impl Fn(&mut RoomIndex, &str)) -> usize {
        let mut nsps = self.nsps.write().unwrap_or_else(|e| e.into_inner());
        let Some(nsp) = nsps.get_mut(opts.nsp.as_str()) else {
            return 0;
        };
        let ids = nsp.rooms.select(opts.selector());
        for id in &ids {
            f(&mut nsp.rooms, id);
        }
        ids.len()
    }

    /// Joins (or leaves) `rooms` for every matching socket; returns how
    /// many matched.
    pub(super) fn update_rooms(
        &self,
        opts: &BroadcastOptions,
        rooms: &[String],
        join: bool,
    ) -> usize {
        self.for_matching(opts, |idx, id| {
            for room in rooms {
                if join {
                    idx.join(id, room);
                } else {
                    idx.leave(id, room);
                }
            }
        })
    }

    /// Disconnects every matching socket; returns how many matched.
    pub(super) fn disconnect_matching(
        &self,
        opts: &BroadcastOptions,
        close_session: bool,
    ) -> usize {
        let targets = self.targets(opts);
        for socket in &targets {
            // Remove first so no broadcast reaches it after its `41`.
            self.remove(&socket.nsp, &socket.id);
            socket.kick(close_session);
        }
        targets.len()
    }

    /// Whether a socket of `nsp` on this node is in `room` (or is `room`).
    pub(super) fn has_room(&self, nsp: &str, room: &str) -> bool {
        let nsps = self.nsps.read().unwrap_or_else(|e| e.into_inner());
        nsps.get(nsp).is_some_and(|n| n.rooms.has_room(room))
    }

    pub(super) fn insert(&self, socket: LocalSocket, rooms: Vec<String>) {
        let mut nsps = self.nsps.write().unwrap_or_else(|e| e.into_inner());
        let nsp = nsps.entry(socket.nsp.clone()).or_default();
        nsp.rooms.add_socket(socket.id.clone());
        for room in &rooms {
            nsp.rooms.join(&socket.id, room);
        }
        nsp.sockets.insert(socket.id.clone(), socket);
    }

    pub(super) fn remove(&self, nsp: &str, sid: &str) -> Option<LocalSocket> {
        let mut nsps = self.nsps.write().unwrap_or_else(|e| e.into_inner());
        let state = nsps.get_mut(nsp)?;
        state.rooms.remove_socket(sid);
        let socket = state.sockets.remove(sid);
        if state.sockets.is_empty() {
            nsps.remove(nsp);
        }
        socket
    }

    pub(super) fn list(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        let nsps = self.nsps.read().unwrap_or_else(|e| e.into_inner());
        let Some(nsp) = nsps.get(opts.nsp.as_str()) else {
            return Vec::new();
        };
        let mut out: Vec<SocketInfo> = nsp
            .rooms
            .select(opts.selector())
            .iter()
            .map(|id| SocketInfo {
                id: id.to_string(),
                rooms: nsp.rooms.rooms_of(id),
            })
            .collect();
        out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        out
    }

    pub(super) fn room_sizes(&self, nsp: &str) -> BTreeMap<String, usize> {
        let nsps = self.nsps.read().unwrap_or_else(|e| e.into_inner());
        nsps.get(nsp)
            .map(|n| n.rooms.room_sizes())
            .unwrap_or_default()
    }
}

impl Adapter for LocalAdapter {
    fn add_socket(&self, socket: LocalSocket, rooms: Vec<String>) -> AdapterFuture<'_, ()> {
        Box::pin(async move {
            self.insert(socket, rooms);
            Ok(())
        })
    }

    fn del_socket(&self, nsp: Arc<str>, sid: Arc<str>) -> AdapterFuture<'_, ()> {
        Box::pin(async move {
            self.remove(&nsp, &sid);
            Ok(())
        })
    }

    fn broadcast(
        &self,
        opts: BroadcastOptions,
        packet: BroadcastPacket,
    ) -> AdapterFuture<'_, usize> {
        Box::pin(async move { Ok(self.send_to_matching(&opts, &packet)) })
    }

    fn emit_with_ack(
        &self,
        opts: BroadcastOptions,
        payload: EventPayload,
        timeout: Duration,
    ) -> AdapterFuture<'_, AckOutcome> {
        Box::pin(async move {
            if opts.socket.is_none() {
                return Ok(AckOutcome::NoSocket);
            }
            let Some(socket) = self.targets(&opts).into_iter().next() else {
                return Ok(AckOutcome::NoSocket);
            };
            Ok(socket.emit_with_ack(&payload, timeout).await)
        })
    }

    fn add_rooms(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, usize> {
        Box::pin(async move { Ok(self.update_rooms(&opts, &rooms, true)) })
    }

    fn del_rooms(&self, opts: BroadcastOptions, rooms: Vec<String>) -> AdapterFuture<'_, usize> {
        Box::pin(async move { Ok(self.update_rooms(&opts, &rooms, false)) })
    }

    fn disconnect_sockets(
        &self,
        opts: BroadcastOptions,
        close_session: bool,
    ) -> AdapterFuture<'_, usize> {
        Box::pin(async move { Ok(self.disconnect_matching(&opts, close_session)) })
    }

    fn fetch_sockets(&self, opts: BroadcastOptions) -> AdapterFuture<'_, Vec<SocketInfo>> {
        Box::pin(async move { Ok(self.list(&opts)) })
    }

    fn rooms(&self, nsp: String) -> AdapterFuture<'_, BTreeMap<String, usize>> {
        Box::pin(async move { Ok(self.room_sizes(&nsp)) })
    }
}
