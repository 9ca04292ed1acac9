//! The room ↔ socket index of one namespace on one node: which sockets are
//! in which rooms, and the selection of broadcast targets. Pure data, no I/O.
//!
//! Like Node socket.io, every socket is implicitly in a room named after its
//! own id (so `rooms: ["<sid>"]` reaches that socket). That room is not
//! stored: a room name equal to the id of an indexed socket simply selects
//! it, which keeps an idle socket at one map entry and keeps those private
//! rooms out of room listings.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A socket id as the client sees it (`socket.id`), shared between maps.
pub type SocketId = Arc<str>;

/// Which sockets a broadcast or a room operation applies to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selector<'a> {
    /// Sockets in at least one of these rooms; empty means every socket.
    pub rooms: &'a [String],
    /// Minus the sockets in any of these rooms.
    pub except: &'a [String],
    /// Only this socket (still subject to `rooms` and `except`).
    pub socket: Option<&'a str>,
}

/// Room membership of the sockets of one namespace.
#[derive(Debug, Default)]
pub struct RoomIndex {
    rooms: HashMap<Arc<str>, HashSet<SocketId>>,
    sockets: HashMap<SocketId, HashSet<Arc<str>>>,
}

impl RoomIndex {
    /// Adds a socket that is in no (explicit) room yet. Idempotent.
    pub fn add_socket(&mut self, id: SocketId) {
        self.sockets.entry(id).or_default();
    }

    /// Removes a socket and its memberships. Returns false if unknown.
    pub fn remove_socket(&mut self, id: &str) -> bool {
        let Some(rooms) = self.sockets.remove(id) else {
            return false;
        };
        for room in rooms {
            self.drop_member(&room, id);
        }
        true
    }

    /// Whether the socket is indexed.
    pub fn contains(&self, id: &str) -> bool {
        self.sockets.contains_key(id)
    }

    /// Whether some socket is in `room`, or `room` is a socket's own id.
    pub fn has_room(&self, room: &str) -> bool {
        self.rooms.contains_key(room) || self.sockets.contains_key(room)
    }

    /// Number of sockets.
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Whether there are no sockets.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// Puts the socket in `room`. Returns false if the socket is unknown.
    pub fn join(&mut self, id: &str, room: &str) -> bool {
        let Some((sid, rooms)) = self.sockets.get_key_value(id) else {
            return false;
        };
        if rooms.contains(room) {
            return true;
        }
        let sid = sid.clone();
        let room: Arc<str> = match self.rooms.get_key_value(room) {
            Some((name, _)) => name.clone(),
            None => Arc::from(room),
        };
        self.rooms.entry(room.clone()).or_default().insert(sid);
        if let Some(rooms) = self.sockets.get_mut(id) {
            rooms.insert(room);
        }
        true
    }

    /// Takes the socket out of `room`. Returns false if the socket is unknown.
    pub fn leave(&mut self, id: &str, room: &str) -> bool {
        let Some(rooms) = self.sockets.get_mut(id) else {
            return false;
        };
        if rooms.remove(room) {
            self.drop_member(room, id);
        }
        true
    }

    /// The explicit rooms of a socket, sorted (empty if unknown).
    pub fn rooms_of(&self, id: &str) -> Vec<String> {
        let mut rooms: Vec<String> = self
            .sockets
            .get(id)
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        rooms.sort_unstable();
        rooms
    }

    /// Every explicit room with its number of sockets.
    pub fn room_sizes(&self) -> BTreeMap<String, usize> {
        self.rooms
            .iter()
            .map(|(room, members)| (room.to_string(), members.len()))
            .collect()
    }

    /// The ids of the sockets matching `sel`, each once, in no particular order.
    pub fn select(&self, sel: Selector<'_>) -> Vec<SocketId> {
        let excluded = |id: &SocketId| {
            sel.except.iter().any(|room| {
                **room == **id
                    || self
                        .rooms
                        .get(room.as_str())
                        .is_some_and(|m| m.contains(id))
            })
        };
        if let Some(id) = sel.socket {
            let Some((sid, _)) = self.sockets.get_key_value(id) else {
                return Vec::new();
            };
            let in_rooms = sel.rooms.is_empty() || sel.rooms.iter().any(|r| self.is_in(sid, r));
            return if in_rooms && !excluded(sid) {
                vec![sid.clone()]
            } else {
                Vec::new()
            };
        }
        if sel.rooms.is_empty() {
            return self
                .sockets
                .keys()
                .filter(|id| !excluded(id))
                .cloned()
                .collect();
        }
        let mut seen: HashSet<&SocketId> = HashSet::new();
        let mut out = Vec::new();
        for room in sel.rooms {
            let own = self.sockets.get_key_value(room.as_str()).map(|(id, _)| id);
            let members = self.rooms.get(room.as_str()).into_iter().flatten();
            for id in own.into_iter().chain(members) {
                if seen.insert(id) && !excluded(id) {
                    out.push(id.clone());
                }
            }
        }
        out
    }

    /// Whether socket `id` is in `room` (explicitly or as its own room).
    fn is_in(&self, id: &SocketId, room: &str) -> bool {
        **id == *room || self.rooms.get(room).is_some_and(|m| m.contains(id))
    }

    fn drop_member(&mut self, room: &str, id: &str) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(id);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(members: &[(&str, &[&str])]) -> RoomIndex {
        let mut idx = RoomIndex::default();
        for (id, rooms) in members {
            idx.add_socket(Arc::from(*id));
            for room in *rooms {
                assert!(idx.join(id, room));
            }
        }
        idx
    }

    fn sorted(ids: Vec<SocketId>) -> Vec<String> {
        let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn select_all_rooms_and_except() {
        let idx = index(&[("a", &["r1"]), ("b", &["r1", "r2"]), ("c", &[])]);
        assert_eq!(sorted(idx.select(Selector::default())), ["a", "b", "c"]);
        let r1 = strings(&["r1"]);
        let r2 = strings(&["r2"]);
        let sel = Selector {
            rooms: &r1,
            ..Selector::default()
        };
        assert_eq!(sorted(idx.select(sel)), ["a", "b"]);
        let sel = Selector {
            rooms: &r1,
            except: &r2,
            socket: None,
        };
        assert_eq!(sorted(idx.select(sel)), ["a"]);
        let sel = Selector {
            except: &r1,
            ..Selector::default()
        };
        assert_eq!(sorted(idx.select(sel)), ["c"]);
    }

    #[test]
    fn a_socket_in_several_selected_rooms_is_selected_once() {
        let idx = index(&[("a", &["r1", "r2"])]);
        let rooms = strings(&["r1", "r2", "a"]);
        let sel = Selector {
            rooms: &rooms,
            ..Selector::default()
        };
        assert_eq!(sorted(idx.select(sel)), ["a"]);
    }

    #[test]
    fn own_id_is_an_implicit_room() {
        let idx = index(&[("a", &[]), ("b", &["r1"])]);
        let rooms = strings(&["a"]);
        let sel = Selector {
            rooms: &rooms,
            ..Selector::default()
        };
        assert_eq!(sorted(idx.select(sel)), ["a"]);
        let except = strings(&["b"]);
        let sel = Selector {
            except: &except,
            ..Selector::default()
        };
        assert_eq!(sorted(idx.select(sel)), ["a"]);
        // Private rooms are not listed.
        assert_eq!(idx.room_sizes().keys().collect::<Vec<_>>(), ["r1"]);
    }

    #[test]
    fn single_socket_target_respects_rooms_and_except() {
        let idx = index(&[("a", &["r1"]), ("b", &[])]);
        let r1 = strings(&["r1"]);
        let one = |socket, rooms: &[String], except: &[String]| {
            sorted(idx.select(Selector {
                rooms,
                except,
                socket: Some(socket),
            }))
        };
        assert_eq!(one("a", &[], &[]), ["a"]);
        assert_eq!(one("b", &r1, &[]), Vec::<String>::new());
        assert_eq!(one("a", &[], &r1), Vec::<String>::new());
        assert_eq!(one("zz", &[], &[]), Vec::<String>::new());
    }

    #[test]
    fn leave_and_remove_clean_up_empty_rooms() {
        let mut idx = index(&[("a", &["r1", "r2"]), ("b", &["r2"])]);
        assert!(idx.leave("a", "r1"));
        assert!(idx.leave("a", "nope"));
        assert_eq!(
            idx.room_sizes(),
            BTreeMap::from([("r2".to_string(), 2usize)])
        );
        assert!(idx.remove_socket("b"));
        assert!(!idx.remove_socket("b"));
        assert_eq!(idx.rooms_of("a"), ["r2"]);
        assert!(idx.remove_socket("a"));
        assert!(idx.room_sizes().is_empty());
        assert!(idx.is_empty());
    }

    #[test]
    fn unknown_sockets_cannot_join() {
        let mut idx = RoomIndex::default();
        assert!(!idx.join("ghost", "r1"));
        assert!(!idx.leave("ghost", "r1"));
        assert!(idx.room_sizes().is_empty());
        assert!(idx.rooms_of("ghost").is_empty());
    }

    #[test]
    fn joining_twice_counts_once() {
        let mut idx = index(&[("a", &["r1"])]);
        assert!(idx.join("a", "r1"));
        assert_eq!(idx.room_sizes()["r1"], 1);
        assert_eq!(idx.len(), 1);
        assert!(idx.contains("a"));
    }
}
