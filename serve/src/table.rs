//! The open connections, whether each is busy, and since when each is idle: what the
//! accept loop needs to pick the connection to close when every slot is taken.

use std::{
    collections::BTreeMap,
    net::IpAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Instant,
};

use tokio::sync::Notify;

/// One open connection.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Requests in progress (head received, response not finished).
    busy: AtomicUsize,
    /// When it last became idle.
    idle_since: Mutex<Instant>,
    close: Notify,
}

impl Entry {
    /// A request began; the connection is busy until the guard drops.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(Arc::clone(self))
    }

    /// Resolves once the loop chose this connection to make room.
    pub(crate) async fn evicted(&self) {
        self.close.notified().await;
    }
}

/// A request in progress on a connection.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Entry>);

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut since) = self.0.idle_since.lock() {
            *since = Instant::now();
        }
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every open connection by id, and how many each peer holds.
#[derive(Debug, Default)]
pub(crate) struct Table {
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<Entry>>>,
    per_peer: Mutex<BTreeMap<[u8; 16], usize>>,
}

/// The key a peer's connections are counted under: its IPv4 address, or the /64 of
/// its IPv6 address (one host usually holds a whole /64). Loopback peers have none:
/// a local reverse proxy is one peer for every client.
pub(crate) fn peer_key(ip: IpAddr) -> Option<[u8; 16]> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if ip.is_loopback() {
        return None;
    }
    Some(match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => {
            let mut key = v6.octets();
            key[8..].fill(0);
            key
        }
    })
}

impl Table {
    /// Count a connection from `peer`, unless it already holds `max_per_peer` (0: no
    /// limit).
    pub(crate) fn admit_peer(&self, peer: Option<[u8; 16]>, max_per_peer: usize) -> bool {
        let (Some(peer), true) = (peer, max_per_peer > 0) else {
            return true;
        };
        let Ok(mut counts) = self.per_peer.lock() else {
            return false;
        };
        let count = counts.entry(peer).or_insert(0);
        if *count >= max_per_peer {
            return false;
        }
        *count += 1;
        true
    }

    /// Forget one connection of `peer` (admitted by [`Table::admit_peer`]).
    pub(crate) fn release_peer(&self, peer: Option<[u8; 16]>, max_per_peer: usize) {
        let (Some(peer), true) = (peer, max_per_peer > 0) else {
            return;
        };
        if let Ok(mut counts) = self.per_peer.lock()
            && let Some(count) = counts.get_mut(&peer)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&peer);
            }
        }
    }

    pub(crate) fn insert(&self) -> (u64, Arc<Entry>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            close: Notify::new(),
        });
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, Arc::clone(&entry));
        }
        (id, entry)
    }

    pub(crate) fn remove(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
    }

    /// Tell the connection idle the longest to close; false if every one is busy.
    pub(crate) fn evict_idlest(&self) -> bool {
        let Ok(mut open) = self.open.lock() else {
            return false;
        };
        let idlest = open
            .iter()
            .filter(|(_, e)| e.busy.load(Ordering::Acquire) == 0)
            .filter_map(|(id, e)| e.idle_since.lock().ok().map(|since| (*since, *id)))
            .min();
        let Some((_, id)) = idlest else {
            return false;
        };
        // Out of the table at once, so it is not picked twice while it closes.
        if let Some(entry) = open.remove(&id) {
            entry.close.notify_one();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_counted_per_ipv4_address_and_ipv6_64_and_loopback_is_exempt() {
        let v4 = |s: &str| peer_key(s.parse().unwrap());
        assert_eq!(v4("10.0.0.1"), v4("::ffff:10.0.0.1"));
        assert_ne!(v4("10.0.0.1"), v4("10.0.0.2"));
        assert_eq!(v4("2001:db8::1"), v4("2001:db8::ffff:2"));
        assert_ne!(v4("2001:db8::1"), v4("2001:db8:0:1::1"));
        assert_eq!(v4("127.0.0.1"), None);
        assert_eq!(v4("::1"), None);
        assert_eq!(v4("::ffff:127.0.0.1"), None);

        let table = Table::default();
        let peer = v4("10.0.0.1");
        assert!(table.admit_peer(peer, 2));
        assert!(table.admit_peer(peer, 2));
        assert!(!table.admit_peer(peer, 2));
        assert!(table.admit_peer(v4("10.0.0.2"), 2));
        table.release_peer(peer, 2);
        assert!(table.admit_peer(peer, 2));
        assert!(table.admit_peer(None, 2), "loopback is never limited");
        assert!(table.admit_peer(peer, 0), "0 means no limit");
    }
}
