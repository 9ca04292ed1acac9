//! Live things (TCP connections or Engine.IO sessions) counted globally and
//! per client IP, each held by a [`Permit`] that gives its slot back when
//! dropped. With no limit configured, acquiring costs one atomic add (the
//! count is kept for logs); the per-IP map is only used when a per-IP limit
//! is set, and an IP's entry is removed when its count drops to zero.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Why [`Counter::acquire`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    /// The global limit is reached.
    Global,
    /// The client's IP has reached its limit.
    PerIp,
}

/// A global and a per-IP limit on one kind of thing.
#[derive(Debug, Clone)]
pub struct Counter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max: Option<u32>,
    max_per_ip: Option<u32>,
    live: AtomicU32,
    per_ip: Mutex<HashMap<IpAddr, u32>>,
}

/// One held slot; dropping it releases the slot.
#[derive(Debug)]
pub struct Permit {
    inner: Arc<Inner>,
    /// The IP whose per-IP count this permit holds (only with a per-IP limit).
    ip: Option<IpAddr>,
}

impl Counter {
    /// A counter with optional global and per-IP limits.
    pub fn new(max: Option<u32>, max_per_ip: Option<u32>) -> Counter {
        Counter {
            inner: Arc::new(Inner {
                max,
                max_per_ip,
                live: AtomicU32::new(0),
                per_ip: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// How many permits are held.
    pub fn live(&self) -> u32 {
        self.inner.live.load(Ordering::Acquire)
    }

    /// Takes a slot for `ip`, or says which limit is reached. An
    /// IPv4-mapped IPv6 address (a dual-stack listener) counts as its IPv4.
    pub fn acquire(&self, ip: IpAddr) -> Result<Permit, Over> {
        let ip = ip.to_canonical();
        let inner = &self.inner;
        let max = inner.max.unwrap_or(u32::MAX);
        inner
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| Over::Global)?;
        // From here on the permit owns the global slot (its drop releases it).
        let mut permit = Permit {
            inner: inner.clone(),
            ip: None,
        };
        if let Some(per_ip) = inner.max_per_ip {
            let mut map = inner.map();
            let n = map.entry(ip).or_insert(0);
            if *n >= per_ip {
                return Err(Over::PerIp);
            }
            *n += 1;
            permit.ip = Some(ip);
        }
        Ok(permit)
    }
}

impl Inner {
    fn map(&self) -> MutexGuard<'_, HashMap<IpAddr, u32>> {
        // Each critical section is one map update; a poisoned lock still
        // holds consistent counts.
        self.per_ip.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            let mut map = self.inner.map();
            if let Some(n) = map.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
        self.inner.live.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn global_limit_refuses_and_frees_on_drop() {
        let c = Counter::new(Some(2), None);
        let a = c.acquire(ip(1)).unwrap();
        let _b = c.acquire(ip(2)).unwrap();
        assert_eq!(c.acquire(ip(3)).unwrap_err(), Over::Global);
        drop(a);
        assert!(c.acquire(ip(3)).is_ok());
    }

    #[test]
    fn per_ip_limit_counts_each_ip_alone() {
        let c = Counter::new(None, Some(1));
        let a = c.acquire(ip(1)).unwrap();
        assert_eq!(c.acquire(ip(1)).unwrap_err(), Over::PerIp);
        let _b = c.acquire(ip(2)).unwrap();
        assert_eq!(c.live(), 2, "a per-IP refusal gives its global slot back");
        drop(a);
        let _c = c.acquire(ip(1)).unwrap();
        assert_eq!(c.inner.map().len(), 2);
    }

    #[test]
    fn mapped_ipv6_counts_as_its_ipv4() {
        let c = Counter::new(None, Some(1));
        let _v4 = c.acquire(ip(9)).unwrap();
        let mapped = IpAddr::from(std::net::Ipv4Addr::new(10, 0, 0, 9).to_ipv6_mapped());
        assert_eq!(c.acquire(mapped).unwrap_err(), Over::PerIp);
    }

    #[test]
    fn released_ips_leave_the_map() {
        let c = Counter::new(Some(10), Some(3));
        let permits: Vec<_> = (0..3).map(|_| c.acquire(ip(7)).unwrap()).collect();
        drop(permits);
        assert!(c.inner.map().is_empty());
        assert_eq!(c.live(), 0);
    }
}
