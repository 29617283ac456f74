//! Per-alternative indexes: the records that share the values of an
//! alternative's fields, as a list threaded through the records.
//!
//! A bucket is one entry of a hash table (its first record's slot) and the
//! links of its records; neither copies a key. Counting an alternative
//! visits only its own bucket: the records of that exact (IP, username, …),
//! never everything an address or a username ever did.

use std::hash::{BuildHasher, Hasher, RandomState};

use hashbrown::HashTable;

use super::record::{Fields, Slab};
use crate::parameters::{Alternative, Field};

/// No slot.
pub(super) const NIL: u32 = u32::MAX;

const FIELDS: [Field; 3] = [Field::IpAddress, Field::Username, Field::UserAgent];

/// The fields of an alternative as bits (IP 1, username 2, user agent 4).
pub(super) fn mask_of(alt: &Alternative) -> u8 {
    FIELDS
        .iter()
        .enumerate()
        .filter(|(_, f)| alt.uses(**f))
        .fold(0, |m, (i, _)| m | (1 << i))
}

/// Every field: the index of full record keys.
pub(super) const FULL: u8 = 0b111;

/// One index: a bucket per distinct value of the mask's fields.
#[derive(Debug)]
pub(super) struct Index {
    mask: u8,
    /// The first slot of each bucket.
    heads: HashTable<u32>,
    /// Per slot: previous and next slot of its bucket.
    links: Vec<[u32; 2]>,
}

impl Index {
    /// An index with room for `capacity` records, so that growing to it
    /// never rehashes the whole table under the store's lock.
    pub fn new(mask: u8, capacity: usize) -> Self {
        Self {
            mask,
            heads: HashTable::with_capacity(capacity),
            links: Vec::with_capacity(capacity),
        }
    }

    pub fn mask(&self) -> u8 {
        self.mask
    }

    /// Buckets held (distinct values).
    pub fn buckets(&self) -> usize {
        self.heads.len()
    }

    fn hash(&self, hasher: &RandomState, v: &impl Fields) -> u64 {
        Self::hash_with(self.mask, hasher, v)
    }

    fn same(mask: u8, a: &impl Fields, b: &impl Fields) -> bool {
        a.scope() == b.scope()
            && FIELDS
                .iter()
                .enumerate()
                .all(|(i, f)| mask & (1 << i) == 0 || a.field(*f) == b.field(*f))
    }

    fn link(&mut self, slot: u32) -> &mut [u32; 2] {
        let i = slot as usize;
        if self.links.len() <= i {
            self.links.resize(i + 1, [NIL, NIL]);
        }
        &mut self.links[i]
    }

    fn next(&self, slot: u32) -> u32 {
        self.links.get(slot as usize).map_or(NIL, |l| l[1])
    }

    /// Adds the record in `slot` (already in `slab`) to its bucket.
    pub fn insert(&mut self, hasher: &RandomState, slab: &Slab, slot: u32) {
        let Some(rec) = slab.get(slot) else { return };
        let hash = self.hash(hasher, rec);
        let mask = self.mask;
        let head = match self.heads.find_mut(hash, |&h| {
            slab.get(h)
                .is_some_and(|other| Self::same(mask, rec, other))
        }) {
            Some(head) => std::mem::replace(head, slot),
            None => {
                self.heads.insert_unique(hash, slot, |&h| {
                    slab.get(h).map_or(0, |r| Self::hash_with(mask, hasher, r))
                });
                NIL
            }
        };
        *self.link(slot) = [NIL, head];
        if head != NIL {
            self.link(head)[0] = slot;
        }
    }

    /// The hash of the scope and the mask's fields of `v`: SipHash (keyed
    /// per store, so that attacker-chosen keys cannot be made to collide) of
    /// an unambiguous encoding — the scope's bytes and `0xFF`, then per field `0` when missing, else
    /// `1`, its bytes and `0xFF` (never a byte of UTF-8) — fed to the hasher
    /// in 64-byte pieces: one call for most keys, where hashing each field
    /// as an `Option<&str>` took three.
    fn hash_with(mask: u8, hasher: &RandomState, v: &impl Fields) -> u64 {
        let mut h = Chunked {
            hasher: hasher.build_hasher(),
            buf: [0; CHUNK],
            len: 0,
        };
        h.push(v.scope().as_bytes());
        h.push(&[0xff]);
        for (i, f) in FIELDS.iter().enumerate() {
            if mask & (1 << i) != 0 {
                match v.field(*f) {
                    None => h.push(&[0]),
                    Some(text) => {
                        h.push(&[1]);
                        h.push(text.as_bytes());
                        h.push(&[0xff]);
                    }
                }
            }
        }
        h.finish()
    }

    /// Takes the record in `slot` (still in `slab`) out of its bucket.
    pub fn remove(&mut self, hasher: &RandomState, slab: &Slab, slot: u32) {
        let Some(rec) = slab.get(slot) else { return };
        let [prev, next] = *self.link(slot);
        *self.link(slot) = [NIL, NIL];
        if next != NIL {
            self.link(next)[0] = prev;
        }
        if prev != NIL {
            self.link(prev)[1] = next;
            return;
        }
        // The bucket's head: the next record heads it, or it goes.
        let hash = self.hash(hasher, rec);
        if let Ok(entry) = self.heads.find_entry(hash, |&h| h == slot) {
            if next == NIL {
                entry.remove();
            } else {
                *entry.into_mut() = next;
            }
        }
    }

    /// The slots of the records with the values of `key` on the mask's
    /// fields.
    pub fn bucket<'a>(
        &'a self,
        hasher: &RandomState,
        slab: &'a Slab,
        key: &impl Fields,
    ) -> Bucket<'a> {
        let hash = self.hash(hasher, key);
        let mask = self.mask;
        let head = self
            .heads
            .find(hash, |&h| {
                slab.get(h)
                    .is_some_and(|other| Self::same(mask, key, other))
            })
            .copied()
            .unwrap_or(NIL);
        Bucket {
            index: self,
            at: head,
        }
    }
}

/// The bytes [`Index::hash_with`] gathers before handing them to the hasher.
const CHUNK: usize = 64;

/// A hasher fed in fixed pieces of [`CHUNK`] bytes: the calls it makes
/// depend only on the bytes pushed, never on how they were split.
struct Chunked<H> {
    hasher: H,
    buf: [u8; CHUNK],
    len: usize,
}

impl<H: Hasher> Chunked<H> {
    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = CHUNK - self.len;
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            if let Some(dst) = self.buf.get_mut(self.len..self.len + now.len()) {
                dst.copy_from_slice(now);
            }
            self.len += now.len();
            bytes = later;
            if self.len == CHUNK {
                self.hasher.write(&self.buf);
                self.len = 0;
            }
        }
    }

    fn finish(mut self) -> u64 {
        if let Some(rest) = self.buf.get(..self.len) {
            self.hasher.write(rest);
        }
        self.hasher.finish()
    }
}

/// The slots of one bucket.
pub(super) struct Bucket<'a> {
    index: &'a Index,
    at: u32,
}

impl Iterator for Bucket<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.at == NIL {
            return None;
        }
        let slot = self.at;
        self.at = self.index.next(slot);
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RecordKey;

    fn key(username: Option<&str>, ip: Option<&str>, user_agent: &str) -> RecordKey {
        RecordKey {
            scope: String::new(),
            username: username.map(str::to_owned),
            ip_address: ip.map(str::to_owned),
            user_agent: user_agent.to_owned(),
        }
    }

    #[test]
    fn pieces_do_not_change_the_hash() {
        let hasher = RandomState::new();
        let text: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let hash = |splits: &[usize]| {
            let mut h = Chunked {
                hasher: hasher.build_hasher(),
                buf: [0; CHUNK],
                len: 0,
            };
            let mut from = 0;
            for &to in splits.iter().chain([&text.len()]) {
                h.push(&text[from..to]);
                from = to;
            }
            h.finish()
        };
        let whole = hash(&[]);
        for splits in [&[1][..], &[63, 64, 65], &[64, 128, 192, 256], &[0, 0, 299]] {
            assert_eq!(hash(splits), whole, "{splits:?}");
        }
    }

    #[test]
    fn equal_fields_hash_equal_and_field_borders_count() {
        let hasher = RandomState::new();
        let ip_user = 0b011;
        let h = |k: &RecordKey| Index::hash_with(ip_user, &hasher, k);
        // The user agent is not among the mask's fields.
        assert_eq!(
            h(&key(Some("alice"), Some("192.0.2.1"), "curl")),
            h(&key(Some("alice"), Some("192.0.2.1"), "wget"))
        );
        let long = "x".repeat(200);
        assert_eq!(
            h(&key(Some(&long), Some("192.0.2.1"), "")),
            h(&key(Some(&long), Some("192.0.2.1"), ""))
        );
        // Moving bytes from one field to the other, or a missing field
        // against an empty one, is another key (and, the hasher keyed,
        // another hash but by a 2^-64 chance).
        let distinct = [
            key(Some("ab"), Some("c"), ""),
            key(Some("a"), Some("bc"), ""),
            key(None, Some("c"), ""),
            key(Some(""), Some("c"), ""),
            key(Some("c"), None, ""),
        ];
        for (i, a) in distinct.iter().enumerate() {
            for b in &distinct[i + 1..] {
                assert_ne!(h(a), h(b), "{a:?} {b:?}");
            }
        }
    }
}
