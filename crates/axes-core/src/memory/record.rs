//! One attempt record, packed: its own strings share one allocation, and
//! the user agent, path and accept it has in common with other records one
//! interned copy.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hashbrown::HashTable;

use crate::parameters::Field;
use crate::store::{AttemptDetails, AttemptRecord, RecordKey};

/// The fields a record or a key has: what the indexes hash and compare.
pub(super) trait Fields {
    /// The value of `field` (`None`: missing).
    fn field(&self, field: Field) -> Option<&str>;
    /// The scope (every index is per scope).
    fn scope(&self) -> &str;
}

impl Fields for RecordKey {
    fn field(&self, field: Field) -> Option<&str> {
        self.get(field)
    }

    fn scope(&self) -> &str {
        &self.scope
    }
}

const USERNAME: usize = 0;
const IP: usize = 1;
const GET: usize = 2;
const POST: usize = 3;
const SCOPE: usize = 4;
/// Strings in `Rec::text`; the shared ones follow in `Rec::ends`.
const OWN: usize = 5;
const UA: usize = 0;
const PATH: usize = 1;
const ACCEPT: usize = 2;
const HAS_USERNAME: u8 = 1;
const HAS_IP: u8 = 2;

/// One copy of each (user agent, path, accept) text, shared by the records
/// that have it: a flood from one tool repeats them on every request.
///
/// Each call hashes its text once (a lookup and an insert share the hash).
#[derive(Debug, Default)]
pub(super) struct Interner {
    hasher: RandomState,
    /// Each text and how many records hold it.
    texts: HashTable<(Arc<str>, usize)>,
}

impl Interner {
    fn get(&mut self, text: &str) -> Arc<str> {
        let hash = self.hasher.hash_one(text);
        if let Some((k, n)) = self.texts.find_mut(hash, |(k, _)| **k == *text) {
            *n += 1;
            return k.clone();
        }
        let k: Arc<str> = Arc::from(text);
        let hasher = &self.hasher;
        self.texts
            .insert_unique(hash, (k.clone(), 1), |(k, _)| hasher.hash_one(&**k));
        k
    }

    fn put(&mut self, text: &Arc<str>) {
        let hash = self.hasher.hash_one(&**text);
        if let Ok(mut entry) = self.texts.find_entry(hash, |(k, _)| **k == **text) {
            let n = &mut entry.get_mut().1;
            *n -= 1;
            if *n == 0 {
                entry.remove();
            }
        }
    }

    /// Distinct texts held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.texts.len()
    }
}

/// Splits `text` at `ends` (relative offsets as stored).
fn part<'a>(text: &'a str, ends: &[u32], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    let end = ends.get(i).map_or(0, |e| *e as usize);
    text.get(start..end).unwrap_or("")
}

/// Concatenates `parts`, recording where each ends; parts that would not
/// fit u32 offsets (never, with the request size limits in front) are
/// dropped.
fn join<const N: usize>(parts: [&str; N]) -> (String, [u32; N]) {
    let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    let mut ends = [0u32; N];
    for (i, p) in parts.iter().enumerate() {
        if u32::try_from(text.len() + p.len()).is_ok() {
            text.push_str(p);
        }
        ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
    }
    (text, ends)
}

/// The rule a record was last counted under: how long its failures count
/// and the limit that locks. Expiry and eviction judge each record by its
/// own (layered rules count with different windows and limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Policy {
    /// The window in microseconds; negative: none.
    window_us: i64,
    /// The limit; `u32::MAX`: none.
    limit: u32,
    /// The alternatives counted (bit `m - 1` for the field mask `m`).
    alts: u8,
}

impl Policy {
    /// The policy of a reservation counting by `parameters`.
    pub fn new(
        limit: Option<u32>,
        window: Option<Duration>,
        parameters: &crate::parameters::LockoutParameters,
    ) -> Self {
        let alts = parameters
            .alternatives()
            .iter()
            .map(|a| 1u8 << (super::index::mask_of(a).saturating_sub(1) & 7))
            .fold(0, |m, b| m | b);
        Policy {
            alts,
            // A window too long for i64 microseconds (never: windows are
            // capped at 100 years) is no window.
            window_us: window.and_then(|w| w.num_microseconds()).unwrap_or(-1),
            limit: limit.unwrap_or(u32::MAX),
        }
    }

    /// How long the record's failures count (`None`: until a reset).
    pub fn window(self) -> Option<Duration> {
        (self.window_us >= 0).then(|| Duration::microseconds(self.window_us))
    }

    /// Whether the alternative of field mask `mask` counts this record.
    pub fn counts_by(self, mask: u8) -> bool {
        mask != 0 && self.alts & (1 << ((mask - 1) & 7)) != 0
    }

    /// The limit that locks (`None`: never).
    pub fn limit(self) -> Option<u32> {
        (self.limit != u32::MAX).then_some(self.limit)
    }
}

/// An attempt record.
#[derive(Debug)]
pub(super) struct Rec {
    /// Username, IP, GET and POST data and the scope, one after the other.
    text: Box<str>,
    /// User agent, path and accept, one after the other (interned).
    shared: Arc<str>,
    /// Where each of the five strings ends in `text`, then each of the
    /// three in `shared`.
    ends: [u32; 8],
    /// Which of username and IP are present.
    flags: u8,
    /// Whether eviction found the record part of a lockout (it then waits
    /// in the pinned order, not the eviction order).
    pub pinned: bool,
    /// Live failures (since creation or the last restart).
    pub failures: u32,
    /// Bumped when the count restarts in place (ids are never reused, so a
    /// new record under the same key is told apart by its id).
    pub generation: u32,
    /// Bumped with every failure counted on the record.
    pub serial: u64,
    /// Time of the last failure.
    pub time: DateTime<Utc>,
    /// The rule it was last counted under.
    pub policy: Policy,
}

impl Fields for Rec {
    fn field(&self, field: Field) -> Option<&str> {
        match field {
            Field::Username => (self.flags & HAS_USERNAME != 0).then(|| self.own(USERNAME)),
            Field::IpAddress => (self.flags & HAS_IP != 0).then(|| self.own(IP)),
            Field::UserAgent => Some(self.shared(UA)),
        }
    }

    fn scope(&self) -> &str {
        self.own(SCOPE)
    }
}

impl Rec {
    /// A record of one failure at `time`.
    pub fn new(
        interner: &mut Interner,
        key: &RecordKey,
        details: &AttemptDetails,
        time: DateTime<Utc>,
        policy: Policy,
    ) -> Self {
        let (shared, shared_ends) = join([
            key.user_agent.as_str(),
            details.path.as_str(),
            details.http_accept.as_str(),
        ]);
        let mut rec = Rec {
            text: Box::default(),
            shared: interner.get(&shared),
            ends: [0; 8],
            flags: 0,
            pinned: false,
            failures: 1,
            generation: 0,
            serial: 1,
            time,
            policy,
        };
        rec.ends[OWN..].copy_from_slice(&shared_ends);
        rec.pack_own(key, details);
        rec
    }

    fn pack_own(&mut self, key: &RecordKey, details: &AttemptDetails) {
        let (text, ends) = join([
            key.username.as_deref().unwrap_or(""),
            key.ip_address.as_deref().unwrap_or(""),
            details.get_data.as_str(),
            details.post_data.as_str(),
            key.scope.as_str(),
        ]);
        self.text = text.into_boxed_str();
        self.ends[..OWN].copy_from_slice(&ends);
        self.flags = 0;
        if key.username.is_some() {
            self.flags |= HAS_USERNAME;
        }
        if key.ip_address.is_some() {
            self.flags |= HAS_IP;
        }
    }

    fn own(&self, i: usize) -> &str {
        part(&self.text, &self.ends[..OWN], i)
    }

    fn shared(&self, i: usize) -> &str {
        part(&self.shared, &self.ends[OWN..], i)
    }

    /// Replaces the stored details (the last request's).
    pub fn set_details(
        &mut self,
        interner: &mut Interner,
        key: &RecordKey,
        details: &AttemptDetails,
    ) {
        let (shared, shared_ends) = join([
            key.user_agent.as_str(),
            details.path.as_str(),
            details.http_accept.as_str(),
        ]);
        if *self.shared != *shared {
            let new = interner.get(&shared);
            interner.put(&std::mem::replace(&mut self.shared, new));
            self.ends[OWN..].copy_from_slice(&shared_ends);
        }
        self.pack_own(key, details);
    }

    /// Gives the shared text back when the record goes.
    pub fn release(&self, interner: &mut Interner) {
        interner.put(&self.shared);
    }

    /// The record's key.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            scope: self.own(SCOPE).to_owned(),
            username: self.field(Field::Username).map(str::to_owned),
            ip_address: self.field(Field::IpAddress).map(str::to_owned),
            user_agent: self.shared(UA).to_owned(),
        }
    }

    /// The record as listed, under its id.
    pub fn record(&self, id: u64) -> AttemptRecord {
        AttemptRecord {
            id: id.to_string(),
            key: self.key(),
            details: AttemptDetails {
                path: self.shared(PATH).to_owned(),
                http_accept: self.shared(ACCEPT).to_owned(),
                get_data: self.own(GET).to_owned(),
                post_data: self.own(POST).to_owned(),
            },
            failures: self.failures,
            attempt_time: self.time,
        }
    }
}

/// The records, in slots that are reused; a record's id is its slot and
/// the slot's version (plus one: no id is 0), so ids are never reused
/// (until a slot has been reused 2³² times).
#[derive(Debug, Default)]
pub(super) struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot {
    version: u32,
    rec: Option<Rec>,
}

impl Slab {
    /// Room for `capacity` records up front.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: Vec::with_capacity(capacity),
            ..Self::default()
        }
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Slots allocated (held records and free slots).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Stores `rec`; returns its slot.
    pub fn insert(&mut self, rec: Rec) -> u32 {
        self.len += 1;
        if let Some(slot) = self.free.pop()
            && let Some(s) = self.slots.get_mut(slot as usize)
        {
            s.rec = Some(rec);
            return slot;
        }
        let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Slot {
            version: 0,
            rec: Some(rec),
        });
        slot
    }

    /// Takes the record out of `slot`.
    pub fn remove(&mut self, slot: u32) -> Option<Rec> {
        let s = self.slots.get_mut(slot as usize)?;
        let rec = s.rec.take()?;
        s.version = s.version.wrapping_add(1);
        self.free.push(slot);
        self.len -= 1;
        Some(rec)
    }

    pub fn get(&self, slot: u32) -> Option<&Rec> {
        self.slots.get(slot as usize)?.rec.as_ref()
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Rec> {
        self.slots.get_mut(slot as usize)?.rec.as_mut()
    }

    /// The id of the record in `slot`.
    pub fn id(&self, slot: u32) -> u64 {
        let version = self.slots.get(slot as usize).map_or(0, |s| s.version);
        ((u64::from(version) << 32) | u64::from(slot)) + 1
    }

    /// The slot of the record with this id, if it is still there.
    pub fn slot_of(&self, id: u64) -> Option<u32> {
        let id = id.checked_sub(1)?;
        let slot = (id & u64::from(u32::MAX)) as u32;
        let version = (id >> 32) as u32;
        let s = self.slots.get(slot as usize)?;
        (s.version == version && s.rec.is_some()).then_some(slot)
    }
}

impl Slab {
    /// The occupied slots, in slot order.
    pub fn occupied(&self) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.rec.is_some())
            .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interner_shares_one_copy_until_the_last_holder_goes() {
        let mut interner = Interner::default();
        let a = interner.get("curl/8\u{0}/login");
        let b = interner.get("curl/8\u{0}/login");
        let c = interner.get("wget");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(interner.len(), 2);
        interner.put(&a);
        assert_eq!(interner.len(), 2, "b still holds it");
        // A text of the same value held elsewhere is the same entry.
        let again = interner.get("curl/8\u{0}/login");
        assert!(Arc::ptr_eq(&a, &again));
        interner.put(&b);
        interner.put(&again);
        interner.put(&c);
        assert_eq!(interner.len(), 0);
        // Giving back a text never interned changes nothing.
        interner.put(&Arc::from("never"));
        assert_eq!(interner.len(), 0);
    }
}
