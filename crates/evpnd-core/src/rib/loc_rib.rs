//! The Loc-RIB: for every route key, the paths received for it (together
//! they are the Adj-RIBs-In, RFC 4271 3.2) with the best one first.
//!
//! A path is an `Arc` to its shared attribute set plus its own NLRI bytes;
//! there is no other per-route copy. Every mutation reports whether the best
//! path changed, which is all Adj-RIB-Out generation needs: what a peer has
//! been sent is a pure function of the best path and the reflection policy,
//! so no per-peer copy of the table is kept.

use super::attrs::AttrSet;
use super::best::{Candidate, compare};
use super::peer::{PeerIdx, PeerTable};
use hashbrown::DefaultHashBuilder;
use hashbrown::hash_table::{Entry, HashTable};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::hash::Hash;
use std::sync::Arc;

/// One NLRI as received (route type, length, value), inline when small:
/// 40 bytes hold an EVPN type-2 MAC/IPv4 route (39) and a type-3 (19).
pub type NlriBytes = SmallVec<[u8; 40]>;

/// One path: the attributes it shares with the routes that came with it and
/// its own NLRI (which carries the non-key fields: labels, ESI).
#[derive(Debug, Clone)]
pub struct Path {
    pub attrs: Arc<AttrSet>,
    pub nlri: NlriBytes,
}

impl Path {
    pub fn source(&self) -> PeerIdx {
        self.attrs.source
    }

    /// Same source, same attributes, same NLRI: re-announcing it is a no-op.
    pub fn same_as(&self, other: &Path) -> bool {
        Arc::ptr_eq(&self.attrs, &other.attrs) && self.nlri == other.nlri
    }
}

/// The best path for `key` went from `old` to `new` (either may be absent).
#[derive(Debug, Clone)]
pub struct BestChange<K> {
    pub key: K,
    pub old: Option<Path>,
    pub new: Option<Path>,
}

/// The paths for one key, best first.
type Paths = SmallVec<[Path; 1]>;

/// The Loc-RIB table's size (issue 15's memory work; examples/rib_memory.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFootprint {
    pub routes: usize,
    pub buckets: usize,
    pub bucket_bytes: usize,
    pub slots: usize,
    pub slot_bytes: usize,
}

impl std::fmt::Display for TableFootprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index = self.buckets * self.bucket_bytes;
        let slots = self.slots * self.slot_bytes;
        let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
        write!(
            f,
            "Loc-RIB: {} routes; index {} buckets of {} B ({:.0}% full) = {:.1} MiB; slots {} of {} B = {:.1} MiB; {:.0} B per route",
            self.routes,
            self.buckets,
            self.bucket_bytes,
            100.0 * self.routes as f64 / self.buckets.max(1) as f64,
            mib(index),
            self.slots,
            self.slot_bytes,
            mib(slots),
            (index + slots) as f64 / self.routes.max(1) as f64
        )
    }
}

/// Derives a route's key from its NLRI bytes. The Loc-RIB stores no key of
/// its own: a route's key is read off its first path's NLRI when hashing
/// and comparing, which saves the key's size (40 bytes for EVPN) per route.
/// Every stored NLRI had its key derived once already, on the way in.
pub type KeyOf<K> = fn(&[u8]) -> Option<K>;

/// Routes live in `slots`, a dense array of their paths; `index` finds a
/// route's slot by key. The hash table holds an 8-byte [`Slot`], so its
/// empty buckets (hashbrown keeps at most 7/8 of a power of two full: just
/// past a doubling, half the table is empty) cost 9 bytes each instead of
/// a whole `Paths` (64 bytes): at a million routes 82 bytes per route
/// instead of 136 (examples/rib_memory.rs).
#[derive(Debug)]
pub struct LocRib<K> {
    index: HashTable<Slot>,
    /// Every route's paths, best first; an empty entry is a free slot,
    /// listed in `free`.
    slots: Vec<Paths>,
    free: Vec<u32>,
    hasher: DefaultHashBuilder,
    key_of: KeyOf<K>,
    /// Paths held per source peer ("prefixes received").
    received: Vec<u32>,
    /// Paths held in all, kept with `received` (a scrape must not walk).
    paths: u64,
}

/// An index entry: where a route lives and its key's hash, kept so that
/// growing the index, and most mismatches while probing, need not read
/// the slot (a random access into the slots array).
#[derive(Debug, Clone, Copy)]
struct Slot {
    slot: u32,
    hash: u32,
}

impl Slot {
    /// The 64-bit hash hashbrown works with, rebuilt from the 32 bits kept:
    /// it takes the bucket from the low bits and the tag from the top 7,
    /// so both come from the kept bits (distinct ones below 2^25 buckets).
    fn full_hash(hash: u32) -> u64 {
        (u64::from(hash) << 32) | u64::from(hash)
    }
}

impl<K: Eq + Hash + Clone> LocRib<K> {
    pub fn new(key_of: KeyOf<K>) -> Self {
        Self {
            index: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            hasher: DefaultHashBuilder::default(),
            key_of,
            received: Vec::new(),
            paths: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The key of the route `path` belongs to.
    pub fn key(&self, path: &Path) -> Option<K> {
        (self.key_of)(&path.nlri)
    }

    /// Paths held from `peer`.
    pub fn received_from(&self, peer: PeerIdx) -> u32 {
        self.received.get(usize::from(peer.0)).copied().unwrap_or(0)
    }

    /// Paths held from all peers, O(1).
    pub fn path_count(&self) -> u64 {
        self.paths
    }

    /// What the table takes, used or not: the index's buckets (a slot
    /// number and a control byte each, hashbrown's layout) and the slots
    /// the array has room for.
    pub fn footprint(&self) -> TableFootprint {
        let capacity = self.index.capacity();
        // hashbrown keeps a power-of-two number of buckets, at most 7/8 of
        // them full once it holds more than 8.
        let buckets = if capacity < 8 {
            capacity + 1
        } else {
            (capacity * 8 / 7).next_power_of_two()
        };
        TableFootprint {
            routes: self.index.len(),
            buckets,
            bucket_bytes: std::mem::size_of::<Slot>() + 1,
            slots: self.slots.capacity(),
            slot_bytes: std::mem::size_of::<Paths>(),
        }
    }

    fn count(&mut self, peer: PeerIdx, added: bool) {
        let i = usize::from(peer.0);
        if self.received.len() <= i {
            self.received.resize(i + 1, 0);
        }
        if added {
            self.received[i] += 1;
            self.paths += 1;
        } else if self.received[i] > 0 {
            self.received[i] -= 1;
            self.paths -= 1;
        }
    }

    /// The 32 bits of `key`'s hash the index keeps.
    fn hash_of(&self, key: &K) -> u32 {
        self.hasher.hash_one(key) as u32
    }

    /// The slot of `key`'s route, and the key's hash (so that removing the
    /// route from the index does not hash the key again).
    fn find(&self, key: &K) -> Option<(u32, u32)> {
        let (slots, key_of) = (&self.slots, self.key_of);
        let hash = self.hash_of(key);
        self.index
            .find(Slot::full_hash(hash), |e| {
                e.hash == hash && holds(slots, key_of, e.slot, key)
            })
            .map(|e| (e.slot, hash))
    }

    /// Takes a slot for a new route (a free one first).
    fn allocate(&mut self, paths: Paths) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = paths;
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 routes");
                self.slots.push(paths);
                slot
            }
        }
    }

    /// Add or replace (implicit withdraw, RFC 4271 3.1) the path from
    /// `path.source()` for `key`, which must be the key of `path.nlri`.
    pub fn announce(&mut self, key: K, path: Path, peers: &PeerTable) -> Option<BestChange<K>> {
        let source = path.source();
        let hash = self.hash_of(&key);
        let (slots, key_of) = (&self.slots, self.key_of);
        let entry = self.index.entry(
            Slot::full_hash(hash),
            |e| e.hash == hash && holds(slots, key_of, e.slot, &key),
            |e| Slot::full_hash(e.hash),
        );
        let slot = match entry {
            Entry::Occupied(occupied) => occupied.get().slot,
            Entry::Vacant(vacant) => {
                // The slot is taken after the entry: the index holds a
                // number, and the new slot's number is known up front.
                let slot = match self.free.last() {
                    Some(&free) => free,
                    None => u32::try_from(self.slots.len()).expect("fewer than 2^32 routes"),
                };
                vacant.insert(Slot { slot, hash });
                let change = BestChange {
                    key,
                    old: None,
                    new: Some(path.clone()),
                };
                let taken = self.allocate(smallvec::smallvec![path]);
                debug_assert_eq!(taken, slot);
                self.count(source, true);
                return Some(change);
            }
        };
        let paths = &mut self.slots[slot as usize];
        let old_best = paths.first().cloned();
        let added = match paths.iter_mut().find(|p| p.source() == source) {
            Some(existing) if existing.same_as(&path) => return None,
            Some(existing) => {
                *existing = path;
                false
            }
            None => {
                paths.push(path);
                true
            }
        };
        select_best(paths, peers);
        let change = changed(key, old_best, paths.first());
        if added {
            self.count(source, true);
        }
        change
    }

    /// Remove the path from `source` for `key`, if any.
    pub fn withdraw(
        &mut self,
        key: &K,
        source: PeerIdx,
        peers: &PeerTable,
    ) -> Option<BestChange<K>> {
        let (slot, hash) = self.find(key)?;
        let paths = &mut self.slots[slot as usize];
        let pos = paths.iter().position(|p| p.source() == source)?;
        let old_best = paths.first().cloned();
        paths.remove(pos);
        let change = if paths.is_empty() {
            if let Ok(entry) = self
                .index
                .find_entry(Slot::full_hash(hash), |e| e.slot == slot)
            {
                entry.remove();
            }
            self.release(slot);
            changed(key.clone(), old_best, None)
        } else {
            if pos == 0 {
                select_best(paths, peers);
            }
            changed(key.clone(), old_best, paths.first())
        };
        self.count(source, false);
        change
    }

    /// Remove every path from `source` (its session went down), reporting
    /// each best-path change.
    pub fn withdraw_peer(&mut self, source: PeerIdx, peers: &PeerTable) -> Vec<BestChange<K>> {
        let mut changes = Vec::new();
        let key_of = self.key_of;
        let mut emptied = false;
        for paths in &mut self.slots {
            let Some(pos) = paths.iter().position(|p| p.source() == source) else {
                continue;
            };
            let removed = paths.remove(pos);
            emptied |= paths.is_empty();
            if pos == 0 {
                select_best(paths, peers);
                if let Some(key) = key_of(&removed.nlri) {
                    changes.push(BestChange {
                        key,
                        old: Some(removed),
                        new: paths.first().cloned(),
                    });
                }
            }
        }
        if emptied {
            let (slots, free) = (&mut self.slots, &mut self.free);
            self.index.retain(|&mut Slot { slot, .. }| {
                let paths = &mut slots[slot as usize];
                if !paths.is_empty() {
                    return true;
                }
                // Its memory goes now, not when the slot is reused.
                *paths = Paths::new();
                free.push(slot);
                false
            });
        }
        if let Some(n) = self.received.get_mut(usize::from(source.0)) {
            self.paths -= u64::from(*n);
            *n = 0;
        }
        changes
    }

    /// The keys of every route `source` gave a path for, O(table): a peer
    /// whose session ended gracefully keeps them as stale (RFC 4724 4.2).
    pub fn keys_from(&self, source: PeerIdx) -> Vec<K> {
        self.routes()
            .filter(|paths| paths.iter().any(|p| p.source() == source))
            .filter_map(|paths| (self.key_of)(&paths[0].nlri))
            .collect()
    }

    /// The best path for `key`.
    pub fn best(&self, key: &K) -> Option<&Path> {
        let (slot, _) = self.find(key)?;
        self.slots[slot as usize].first()
    }

    /// Every route's paths, best first.
    pub fn iter(&self) -> impl Iterator<Item = &[Path]> {
        self.routes().map(|paths| paths.as_slice())
    }

    /// The slots that hold a route.
    fn routes(&self) -> impl Iterator<Item = &Paths> {
        self.slots.iter().filter(|paths| !paths.is_empty())
    }

    /// Frees an emptied slot for the next new route.
    fn release(&mut self, slot: u32) {
        self.slots[slot as usize] = Paths::new();
        self.free.push(slot);
    }
}

/// Whether `slot` holds the route of `key`.
fn holds<K: Eq>(slots: &[Paths], key_of: KeyOf<K>, slot: u32, key: &K) -> bool {
    slots[slot as usize]
        .first()
        .and_then(|p| key_of(&p.nlri))
        .as_ref()
        == Some(key)
}

fn changed<K>(key: K, old: Option<Path>, new: Option<&Path>) -> Option<BestChange<K>> {
    let unchanged = match (&old, new) {
        (Some(old), Some(new)) => old.same_as(new),
        (None, None) => true,
        _ => false,
    };
    (!unchanged).then(|| BestChange {
        key,
        old,
        new: new.cloned(),
    })
}

/// Move the best path to the front. Paths from peers that are gone (not in
/// the table) lose to every other path.
fn select_best(paths: &mut Paths, peers: &PeerTable) {
    if paths.is_empty() {
        return;
    }
    let mut best = 0;
    for i in 1..paths.len() {
        if prefer(&paths[i], &paths[best], peers) == Ordering::Less {
            best = i;
        }
    }
    paths.swap(0, best);
}

fn prefer(a: &Path, b: &Path, peers: &PeerTable) -> Ordering {
    match (peers.get(a.source()), peers.get(b.source())) {
        (Some(pa), Some(pb)) => {
            compare(
                Candidate {
                    summary: &a.attrs.summary,
                    peer: pa,
                },
                Candidate {
                    summary: &b.attrs.summary,
                    peer: pb,
                },
            )
            .0
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attrs::{AttrInterner, PathSummary};
    use crate::rib::peer::{PeerInfo, PeerKind};
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::net::{IpAddr, Ipv4Addr};

    struct Fixture {
        peers: PeerTable,
        interner: AttrInterner,
    }

    fn info(last: u8, kind: PeerKind) -> PeerInfo {
        PeerInfo {
            address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, last)),
            kind,
            remote_as: 65000,
            router_id: Ipv4Addr::new(198, 19, 0, last),
        }
    }

    impl Fixture {
        fn new(n_peers: u8) -> Self {
            let mut peers = PeerTable::new(info(100, PeerKind::Local));
            for i in 1..=n_peers {
                peers.add(info(i, PeerKind::IbgpClient));
            }
            Self {
                peers,
                interner: AttrInterner::default(),
            }
        }

        /// A path for route `key`: the test NLRI is `[key, label]`.
        fn path(&mut self, key: u8, source: u16, local_pref: u32, label: u8) -> Path {
            let encoded = local_pref.to_be_bytes();
            let attrs = self
                .interner
                .intern(PeerIdx(source), &encoded, &[], || PathSummary {
                    local_pref: Some(local_pref),
                    ..Default::default()
                });
            Path {
                attrs,
                nlri: NlriBytes::from_slice(&[key, label]),
            }
        }
    }

    /// The test key is the NLRI's first byte.
    fn test_rib() -> LocRib<u8> {
        LocRib::new(|nlri| nlri.first().copied())
    }

    const K: u8 = 7;

    #[test]
    fn better_path_takes_over_and_withdrawal_falls_back() {
        let mut f = Fixture::new(2);
        let mut rib = test_rib();
        let low = f.path(K, 1, 100, 0);
        let high = f.path(K, 2, 200, 0);
        let c = rib
            .announce(K, low.clone(), &f.peers)
            .expect("first path is best");
        assert!(c.old.is_none() && c.new.as_ref().unwrap().same_as(&low));
        let c = rib
            .announce(K, high.clone(), &f.peers)
            .expect("higher local-pref wins");
        assert!(c.old.unwrap().same_as(&low) && c.new.unwrap().same_as(&high));
        assert!(
            rib.announce(K, high.clone(), &f.peers).is_none(),
            "duplicate is a no-op"
        );
        assert_eq!(rib.received_from(PeerIdx(1)), 1);
        assert!(
            rib.withdraw(&K, PeerIdx(1), &f.peers).is_none(),
            "non-best withdrawal changes nothing"
        );
        let c = rib.withdraw(&K, PeerIdx(2), &f.peers).unwrap();
        assert!(c.new.is_none());
        assert!(rib.is_empty());
    }

    #[test]
    fn implicit_withdraw_replaces_the_path_from_the_same_peer() {
        let mut f = Fixture::new(1);
        let mut rib = test_rib();
        rib.announce(K, f.path(K, 1, 100, 10), &f.peers);
        let c = rib
            .announce(K, f.path(K, 1, 100, 11), &f.peers)
            .expect("new label is a change");
        assert_eq!(c.new.unwrap().nlri.as_slice(), &[K, 11]);
        assert_eq!(rib.iter().next().unwrap().len(), 1);
        assert_eq!(rib.received_from(PeerIdx(1)), 1);
    }

    #[test]
    fn session_down_withdraws_only_that_peers_paths() {
        let mut f = Fixture::new(2);
        let mut rib = test_rib();
        rib.announce(1, f.path(1, 1, 100, 0), &f.peers);
        rib.announce(2, f.path(2, 1, 300, 0), &f.peers);
        rib.announce(2, f.path(2, 2, 200, 0), &f.peers);
        rib.announce(3, f.path(3, 2, 200, 0), &f.peers);
        let mut changes = rib.withdraw_peer(PeerIdx(1), &f.peers);
        changes.sort_by_key(|c| c.key);
        assert_eq!(changes.len(), 2);
        assert!(changes[0].new.is_none(), "key 1 is gone");
        assert_eq!(
            changes[1].new.as_ref().unwrap().source(),
            PeerIdx(2),
            "key 2 falls back"
        );
        assert_eq!(rib.len(), 2);
        assert_eq!(rib.received_from(PeerIdx(1)), 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Announce {
            key: u8,
            peer: u16,
            lp: u32,
            label: u8,
        },
        Withdraw {
            key: u8,
            peer: u16,
        },
        PeerDown {
            peer: u16,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..6, 1u16..4, 0u32..3, 0u8..3)
                .prop_map(|(key, peer, lp, label)| Op::Announce { key, peer, lp, label }),
            2 => (0u8..6, 1u16..4).prop_map(|(key, peer)| Op::Withdraw { key, peer }),
            1 => (1u16..4).prop_map(|peer| Op::PeerDown { peer }),
        ]
    }

    proptest! {
        /// Following the reported changes reproduces the RIB's best paths
        /// exactly, and the best path is never beaten by another path.
        #[test]
        fn change_stream_tracks_best_paths(ops in prop::collection::vec(op(), 1..60)) {
            let mut f = Fixture::new(3);
            let mut rib = test_rib();
            let mut mirror: HashMap<u8, Path> = HashMap::new();
            for op in ops {
                let changes: Vec<_> = match op {
                    Op::Announce { key, peer, lp, label } => {
                        let p = f.path(key, peer, lp, label);
                        rib.announce(key, p, &f.peers).into_iter().collect()
                    }
                    Op::Withdraw { key, peer } => rib.withdraw(&key, PeerIdx(peer), &f.peers).into_iter().collect(),
                    Op::PeerDown { peer } => rib.withdraw_peer(PeerIdx(peer), &f.peers),
                };
                for c in changes {
                    match (&c.old, mirror.get(&c.key)) {
                        (Some(old), Some(m)) => prop_assert!(old.same_as(m)),
                        (None, None) => {}
                        _ => prop_assert!(false, "old best disagrees with what was reported before"),
                    }
                    match c.new { Some(n) => { mirror.insert(c.key, n); } None => { mirror.remove(&c.key); } }
                }
                prop_assert_eq!(mirror.len(), rib.len());
                for paths in rib.iter() {
                    let key = rib.key(&paths[0]).unwrap();
                    prop_assert!(paths[0].same_as(&mirror[&key]));
                    prop_assert!(paths.iter().all(|p| rib.key(p) == Some(key)), "paths stored under their own key");
                    for other in &paths[1..] {
                        prop_assert_ne!(prefer(other, &paths[0], &f.peers), Ordering::Less);
                    }
                    let mut sources: Vec<_> = paths.iter().map(Path::source).collect();
                    sources.sort();
                    sources.dedup();
                    prop_assert_eq!(sources.len(), paths.len(), "one path per source");
                }
                let total: u32 = (1..4).map(|p| rib.received_from(PeerIdx(p))).sum();
                prop_assert_eq!(total as usize, rib.iter().map(<[Path]>::len).sum::<usize>());
                prop_assert_eq!(rib.path_count(), u64::from(total));
                // Every route is found by its key through the index (slots
                // freed and reused included), and no emptied slot is listed.
                prop_assert_eq!(rib.iter().count(), rib.len());
                for (key, best) in &mirror {
                    prop_assert!(rib.best(key).is_some_and(|b| b.same_as(best)));
                }
                prop_assert_eq!(rib.footprint().routes, rib.len());
            }
        }
    }
}
