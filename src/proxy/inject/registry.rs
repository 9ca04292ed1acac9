//! The proxy-side index of injectable sessions: namespace → sessions and,
//! per namespace, room → sessions. A session is listed for a namespace
//! from its CONNECT reply until it leaves that namespace or ends. Entries
//! hold the session weakly, so a forgotten one can never keep a session
//! alive; sessions still remove themselves (see `member`).
//!
//! # Locking
//! One `std::sync::Mutex`, held only to update the maps or to collect the
//! recipients of a broadcast. Delivery happens after it is released, so a
//! session's own lock (taken by `Recipient::deliver`, and held while the
//! session joins or leaves here) is never taken under this one.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::cluster::wire::Targets;
use crate::protocol::engineio;

/// A session pushes can be injected into.
pub trait Recipient: Send + Sync {
    /// Queues `packets` (a Socket.IO packet and its attachments, for the
    /// client namespace `nsp`) for the client, with nothing else between
    /// them; false when the session is closed, no longer in `nsp`, or its
    /// queue overflowed (the core then closes it). Must not block.
    fn deliver(&self, nsp: &str, packets: &[engineio::Packet]) -> bool;
}

/// Identifies one session in the registry.
pub type MemberId = u64;

struct Entry {
    recipient: Weak<dyn Recipient>,
    rooms: Vec<String>,
}

#[derive(Default)]
struct Namespace {
    members: HashMap<MemberId, Entry>,
    rooms: HashMap<String, HashSet<MemberId>>,
}

/// Namespace → sessions, room → sessions. See the module docs.
#[derive(Default)]
pub struct Registry {
    nsps: Mutex<HashMap<String, Namespace>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Namespace>> {
        // Updates are whole map operations; nothing is left half-done.
        self.nsps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lists session `id` in `nsp` with `rooms` (replacing an earlier entry
    /// of the same session). True if `nsp` had no session before.
    pub fn join(
        &self,
        nsp: &str,
        id: MemberId,
        recipient: Weak<dyn Recipient>,
        rooms: Vec<String>,
    ) -> bool {
        let mut nsps = self.lock();
        let fresh = !nsps.contains_key(nsp);
        let ns = nsps.entry(nsp.to_owned()).or_default();
        if let Some(old) = ns.members.remove(&id) {
            forget_rooms(&mut ns.rooms, id, &old.rooms);
        }
        for room in &rooms {
            ns.rooms.entry(room.clone()).or_default().insert(id);
        }
        ns.members.insert(id, Entry { recipient, rooms });
        fresh
    }

    /// Removes session `id` from `nsp` (nothing if it is not there); a
    /// namespace without sessions is dropped.
    pub fn leave(&self, nsp: &str, id: MemberId) {
        let mut nsps = self.lock();
        let Some(ns) = nsps.get_mut(nsp) else { return };
        if let Some(old) = ns.members.remove(&id) {
            forget_rooms(&mut ns.rooms, id, &old.rooms);
        }
        if ns.members.is_empty() {
            nsps.remove(nsp);
        }
    }

    /// The live sessions of `nsp` that `targets` selects: in any of its
    /// rooms (all when there are none), in none of its except rooms. A
    /// broadcast to one socket id selects nobody: proxied sessions have no
    /// adapter socket ids.
    pub fn recipients(&self, nsp: &str, targets: &Targets) -> Vec<Arc<dyn Recipient>> {
        let nsps = self.lock();
        let Some(ns) = nsps.get(nsp) else {
            return Vec::new();
        };
        if targets.socket.is_some() {
            return Vec::new();
        }
        let excluded = |id: &MemberId| {
            targets
                .except
                .iter()
                .any(|r| ns.rooms.get(r).is_some_and(|m| m.contains(id)))
        };
        let chosen: Vec<MemberId> = if targets.rooms.is_empty() {
            ns.members.keys().copied().collect()
        } else {
            let mut ids: HashSet<MemberId> = HashSet::new();
            for room in &targets.rooms {
                if let Some(members) = ns.rooms.get(room) {
                    ids.extend(members);
                }
            }
            ids.into_iter().collect()
        };
        chosen
            .into_iter()
            .filter(|id| !excluded(id))
            .filter_map(|id| ns.members.get(&id)?.recipient.upgrade())
            .collect()
    }

    /// Whether any session of `nsp` is in `room` (to skip room channels
    /// nobody here listens to before decoding).
    pub fn has_room(&self, nsp: &str, room: &str) -> bool {
        self.lock()
            .get(nsp)
            .is_some_and(|ns| ns.rooms.contains_key(room))
    }

    /// Whether `nsp` has any session.
    pub fn has_nsp(&self, nsp: &str) -> bool {
        self.lock().contains_key(nsp)
    }

    /// Listed (session, namespace) pairs, over all namespaces.
    pub fn len(&self) -> usize {
        self.lock().values().map(|ns| ns.members.len()).sum()
    }

    /// Whether no session is listed.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

fn forget_rooms(index: &mut HashMap<String, HashSet<MemberId>>, id: MemberId, rooms: &[String]) {
    for room in rooms {
        if let Some(members) = index.get_mut(room) {
            members.remove(&id);
            if members.is_empty() {
                index.remove(room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Recipient for Fake {
        fn deliver(&self, _: &str, _: &[engineio::Packet]) -> bool {
            true
        }
    }

    fn targets(rooms: &[&str], except: &[&str]) -> Targets {
        Targets {
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            except: except.iter().map(|r| r.to_string()).collect(),
            ..Targets::default()
        }
    }

    fn add(reg: &Registry, nsp: &str, id: MemberId, rooms: &[&str]) -> (bool, Arc<dyn Recipient>) {
        let r: Arc<dyn Recipient> = Arc::new(Fake);
        let rooms = rooms.iter().map(|r| r.to_string()).collect();
        (reg.join(nsp, id, Arc::downgrade(&r), rooms), r)
    }

    #[test]
    fn rooms_and_except_select_sessions() {
        let reg = Registry::default();
        let (first, _a) = add(&reg, "/chat", 1, &["user:42"]);
        let (second, _b) = add(&reg, "/chat", 2, &["user:7"]);
        let (_, _c) = add(&reg, "/other", 3, &["user:42"]);
        assert!(first && !second);
        let n = |t: &Targets| reg.recipients("/chat", t).len();
        assert_eq!(n(&targets(&[], &[])), 2);
        assert_eq!(n(&targets(&["user:42"], &[])), 1);
        assert_eq!(n(&targets(&["user:42", "user:7"], &["user:7"])), 1);
        assert_eq!(n(&targets(&[], &["user:42"])), 1);
        assert_eq!(n(&targets(&["nobody"], &[])), 0);
        let one_socket = Targets {
            socket: Some("x".into()),
            ..Targets::default()
        };
        assert_eq!(n(&one_socket), 0);
        assert!(reg.has_room("/chat", "user:7") && !reg.has_room("/chat", "user:9"));
    }

    #[test]
    fn leaving_empties_the_registry() {
        let reg = Registry::default();
        let (_, _a) = add(&reg, "/chat", 1, &["user:42"]);
        let (_, _b) = add(&reg, "/", 1, &[]);
        // Joining again replaces the rooms.
        let (_, _c) = add(&reg, "/chat", 1, &["user:9"]);
        assert!(!reg.has_room("/chat", "user:42"));
        assert_eq!(reg.len(), 2);
        reg.leave("/chat", 1);
        reg.leave("/chat", 1);
        reg.leave("/", 1);
        assert!(reg.is_empty() && !reg.has_nsp("/chat"));
    }

    #[test]
    fn dropped_sessions_are_not_recipients() {
        let reg = Registry::default();
        let (_, a) = add(&reg, "/chat", 1, &[]);
        drop(a);
        assert!(reg.recipients("/chat", &targets(&[], &[])).is_empty());
    }
}
