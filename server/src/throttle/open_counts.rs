//! [`OpenCounts`]: how many of something each client IP has open (requests, connections), at most `max` each.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Open items per IP, each at most `max`. An entry is removed when its count drops to zero, so the map holds
/// only clients with something open.
#[derive(Debug, Clone)]
pub(crate) struct OpenCounts {
    max: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open item of an IP, given back on drop.
#[derive(Debug)]
pub(crate) struct OpenSlot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl OpenCounts {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// Count one more open item of `ip`; `None` when it already has `max`.
    pub(crate) fn take(&self, ip: IpAddr) -> Option<OpenSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.get(&ip).copied().unwrap_or(0) >= self.max {
            return None;
        }
        *open.entry(ip).or_insert(0) += 1;
        Some(OpenSlot {
            open: self.open.clone(),
            ip,
        })
    }

    /// How many IPs have something open.
    #[cfg(test)]
    fn clients(&self) -> usize {
        self.open.lock().unwrap().len()
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_holds_at_most_max_and_gets_its_slots_back() {
        let counts = OpenCounts::new(2);
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        let other: IpAddr = "198.51.100.8".parse().unwrap();
        let one = counts.take(ip).expect("first");
        let two = counts.take(ip).expect("second");
        assert!(counts.take(ip).is_none(), "a third is refused");
        assert!(counts.take(other).is_some(), "another client is not");
        drop(one);
        let three = counts.take(ip).expect("a slot given back is free again");
        drop((two, three));
        assert_eq!(counts.clients(), 0, "idle clients leave no entry");
    }
}
