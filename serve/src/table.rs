//! The open connections, whether each is busy, and since when each is idle: what the
//! accept loop needs to pick the connection to close when every slot is taken.

use std::{
    collections::BTreeMap,
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

/// Every open connection by id.
#[derive(Debug, Default)]
pub(crate) struct Table {
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<Entry>>>,
}

impl Table {
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
