//! Open SSE streams and WatchState/WatchEvents calls per client address (`limits.watches_per_client`): one client
//! cannot hold every connection's worth of streams.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

use crate::error::Error;

/// The open streams by client address.
#[derive(Debug, Clone, Default)]
pub struct WatchSlots {
    max: usize,
    open: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

/// One open stream; dropping it frees the slot.
#[derive(Debug)]
pub struct WatchSlot {
    client: Option<IpAddr>,
    open: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

impl WatchSlots {
    /// At most `max` open streams per client address (at least 1).
    pub fn new(max: usize) -> Self {
        WatchSlots {
            max: max.max(1),
            open: Arc::default(),
        }
    }

    /// Takes a slot for `client` (`None`: address unknown, one shared pool), or refuses with
    /// [`Error::ResourceExhausted`] when it holds `max` already.
    pub fn take(&self, client: Option<IpAddr>) -> Result<WatchSlot, Error> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(client).or_default();
        if *count >= self.max {
            return Err(Error::ResourceExhausted(format!(
                "{} open streams from this client (limits.watches_per_client)",
                self.max
            )));
        }
        *count += 1;
        Ok(WatchSlot {
            client,
            open: self.open.clone(),
        })
    }
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_per_client_are_freed_on_drop() {
        let slots = WatchSlots::new(2);
        let a: Option<IpAddr> = "10.0.0.1".parse().ok();
        let b: Option<IpAddr> = "10.0.0.2".parse().ok();
        let first = slots.take(a).expect("one");
        let _second = slots.take(a).expect("two");
        assert!(matches!(slots.take(a), Err(Error::ResourceExhausted(_))));
        let _other = slots.take(b).expect("another client");
        drop(first);
        let _again = slots.take(a).expect("freed");
    }
}
