//! The session registry: sid → live session, shared by every request
//! handler. A plain `std::sync::Mutex<HashMap>`: no `.await` ever happens
//! while it is held, and each operation is a single hash-map access.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Maps session ids to sessions of type `T` (the transport layer stores its
/// per-session record here).
pub struct Registry<T> {
    map: Mutex<HashMap<Arc<str>, Arc<T>>>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Registry<T> {
    /// Adds a session. Returns false (and keeps the old one) if the sid is taken.
    pub fn insert(&self, sid: Arc<str>, value: Arc<T>) -> bool {
        let mut map = self.lock();
        if map.contains_key(&sid) {
            return false;
        }
        map.insert(sid, value);
        true
    }

    /// The session for `sid`, if it is registered.
    pub fn get(&self, sid: &str) -> Option<Arc<T>> {
        self.lock().get(sid).cloned()
    }

    /// Removes `sid` if it still maps to `value` (a newer session under the
    /// same sid, which cannot happen with random sids, is left alone).
    pub fn remove(&self, sid: &str, value: &Arc<T>) {
        let mut map = self.lock();
        if map.get(sid).is_some_and(|v| Arc::ptr_eq(v, value)) {
            map.remove(sid);
        }
    }

    /// A snapshot of every registered session (for shutdown).
    pub fn all(&self) -> Vec<Arc<T>> {
        self.lock().values().cloned().collect()
    }

    /// Number of registered sessions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no session is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<T>>> {
        // A panic while holding this lock cannot leave the map inconsistent
        // (every operation is one HashMap call), so poisoning is ignored.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove() {
        let reg = Registry::default();
        let a = Arc::new(1);
        assert!(reg.insert("a".into(), a.clone()));
        assert!(!reg.insert("a".into(), Arc::new(2)));
        assert_eq!(reg.get("a").as_deref(), Some(&1));
        reg.remove("a", &Arc::new(1));
        assert_eq!(reg.len(), 1, "a different Arc must not remove the entry");
        reg.remove("a", &a);
        assert!(reg.is_empty());
        assert!(reg.get("a").is_none());
    }
}
