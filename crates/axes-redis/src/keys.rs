//! Key names and ids.
//!
//! Every key starts with the store's prefix. Values that come from clients
//! (usernames, IPs, user agents, session hashes) and scopes are encoded by
//! [`encode`] before they become part of a key name, so no input can forge
//! another key: the encoding is injective, never contains `:`, and is
//! bounded in length.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{p}rec:{id}` | hash | one attempt record (of any scope) |
//! | `{p}attempts` | zset | every record id, of every scope, scored by last failure (µs) |
//! | `{p}attempts:serial` | string | failure serial counter (generations of records) |
//! | `{p}idx:ip:{enc}`, `{p}idx:user:{enc}`, `{p}idx:ua:{enc}` | zset | record ids of the default scope `""` per field value |
//! | `{p}idx:{enc scope}:ip:{enc}`, `…:user:{enc}`, `…:ua:{enc}` | zset | record ids of one other scope per field value |
//! | `{p}sidx:ip:{enc}`, `{p}sidx:user:{enc}` | zset | record ids of every scope but `""` per IP, username (resets and listings) |
//! | `{p}alog:seq`, `{p}flog:seq` | string | row id counters |
//! | `{p}alog:row:{id}`, `{p}flog:row:{id}` | hash | one log row |
//! | `{p}alog:all`, `{p}flog:all` | zset | row ids by time |
//! | `{p}alog:user:{enc}`, `{p}flog:user:{enc}` | zset | row ids per username |
//! | `{p}alog:ip:{enc}`, `{p}flog:ip:{enc}` | zset | row ids per IP |
//! | `{p}alog:open:{enc user}:{enc session}` | set | open access-log rows |
//! | `{p}blk:m:{enc ip}:{enc user}:{enc ua}` | hash | one manual block row |
//! | `{p}blk:l:{enc ip}:{enc user}:{enc ua}` | hash | one lockout-history row |
//! | `{p}blocks:manual`, `{p}blocks:lockout` | zset | block members (`{enc ip}:{enc user}:{enc ua}`) by `created_at` (µs) |
//! | `{p}blocks:manual:sweep`, `{p}blocks:lockout:sweep` | string | where the next write looks for expired members |
//!
//! # Scopes
//!
//! A record's id and its counting indexes depend on its scope, so counting
//! an alternative reads only the records of the attempt's scope. The
//! default scope `""` keeps the key names (and record ids) it had before
//! scopes existed: records written by an older version count and list on
//! without a migration. Another scope's indexes put the encoded scope (which
//! starts with `=` or `#`) after `idx:`, where the default's have the field
//! name, so the two never meet. Resets and filtered listings, which cover
//! every scope, read the default scope's index and the `sidx:` index of the
//! same value (which holds the records of all the other scopes) instead of
//! one index per scope. A record hash names the indexes it is in (fields
//! `ki`, `ku`, `ka`, and `xi`, `xu` for `sidx:`), and its scope (`sc`,
//! absent for `""`), so a deletion cleans up the scope's indexes, and Redis
//! drops an index key once it is empty.
//!
//! A block row's member encodes each of the target's three fields with
//! [`encode`] (`~` for a field the target does not name): the encoding never
//! contains `:` and is never empty, so the member splits back into exactly
//! three parts and two targets never share a row.

use axes_core::parameters::Field;
use axes_core::store::{BlockKind, BlockTarget, RecordKey};
use sha2::{Digest, Sha256};

/// Encoded values longer than this are replaced by a digest.
const MAX_PLAIN: usize = 160;

/// Hex digits of an attempt record id.
const RECORD_ID_LEN: usize = 32;

/// Digits of a log row member (zero-padded so members sort like numbers).
const LOG_ID_WIDTH: usize = 16;

/// Encodes an optional client-supplied value for use inside a key name.
///
/// `None` → `~`; short values → `=` followed by the value with every byte
/// outside `[A-Za-z0-9._@-]` percent-encoded; long values → `#` followed by
/// the SHA-256 hex of the value.
pub(crate) fn encode(value: Option<&str>) -> String {
    let Some(value) = value else {
        return "~".to_owned();
    };
    let mut out = String::with_capacity(value.len() + 1);
    out.push('=');
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&format!("{b:02X}"));
        }
        if out.len() > MAX_PLAIN {
            return format!("#{}", hex::encode(Sha256::digest(value.as_bytes())));
        }
    }
    out
}

/// The id of the record of `key`: a digest of the scope and the triple, so
/// every server computes the same id without a look-up.
///
/// The parts are length-prefixed (`S{len}:` or `N` for a missing value), so
/// the digested text is injective; a scope other than `""` comes first as
/// `C{len}:{scope}`, and the default scope adds nothing, so its records keep
/// the ids they had before scopes existed (no digested text of a scoped key
/// starts like one of the default scope: `C` against `S` or `N`).
pub(crate) fn record_id(key: &RecordKey) -> String {
    let mut h = Sha256::new();
    if !key.scope.is_empty() {
        h.update(format!("C{}:", key.scope.len()).as_bytes());
        h.update(key.scope.as_bytes());
    }
    for part in [key.username.as_deref(), key.ip_address.as_deref()] {
        match part {
            None => h.update(b"N"),
            Some(s) => {
                h.update(format!("S{}:", s.len()).as_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    h.update(format!("S{}:", key.user_agent.len()).as_bytes());
    h.update(key.user_agent.as_bytes());
    let mut id = hex::encode(h.finalize());
    id.truncate(RECORD_ID_LEN);
    id
}

/// Whether `s` has the shape of a record id (so it is safe in a key name).
pub(crate) fn is_record_id(s: &str) -> bool {
    s.len() == RECORD_ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The sorted-set member and row-key suffix of log row `id`.
pub(crate) fn log_member(id: u64) -> String {
    format!("{id:0width$}", width = LOG_ID_WIDTH)
}

/// Parses a public log id ("42") into its member form; `None` if malformed.
pub(crate) fn log_member_of_public(id: &str) -> Option<String> {
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse::<u64>().ok().map(log_member)
}

/// The public id ("42") of a log member ("0000000000000042").
pub(crate) fn log_public_id(member: &str) -> String {
    match member.parse::<u64>() {
        Ok(n) => n.to_string(),
        Err(_) => member.to_owned(),
    }
}

/// Which log a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Log {
    /// Successful logins.
    Access,
    /// Failed attempts.
    Failure,
}

impl Log {
    fn base(self) -> &'static str {
        match self {
            Log::Access => "alog",
            Log::Failure => "flog",
        }
    }
}

/// The key names of one attempt record.
#[derive(Debug, Clone)]
pub(crate) struct RecordKeys {
    /// The record id.
    pub id: String,
    /// The record hash.
    pub record: String,
    /// The IP index (of the record's scope).
    pub ip: String,
    /// The username index (of the record's scope).
    pub user: String,
    /// The user-agent index (of the record's scope).
    pub ua: String,
    /// The cross-scope IP index (`sidx:`), for a scope other than `""`.
    pub cross_ip: Option<String>,
    /// The cross-scope username index (`sidx:`), for a scope other than `""`.
    pub cross_user: Option<String>,
}

/// The sorted-set member (and row-key suffix) of a block target.
pub(crate) fn block_member(target: &BlockTarget) -> String {
    format!(
        "{}:{}:{}",
        encode(target.ip_address.as_deref()),
        encode(target.username.as_deref()),
        encode(target.user_agent.as_deref())
    )
}

/// The name of `field` in index keys.
fn field_name(field: Field) -> &'static str {
    match field {
        Field::IpAddress => "ip",
        Field::Username => "user",
        Field::UserAgent => "ua",
    }
}

/// The letter of a block kind in its row keys.
fn kind_letter(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::Manual => "m",
        BlockKind::Lockout => "l",
    }
}

/// Key names under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `{p}rec:` — the record hash of id `x` is this followed by `x`.
    pub(crate) fn record_prefix(&self) -> String {
        format!("{}rec:", self.prefix)
    }

    pub(crate) fn record(&self, id: &str) -> String {
        format!("{}rec:{id}", self.prefix)
    }

    /// The global sorted set of record ids.
    pub(crate) fn attempts(&self) -> String {
        format!("{}attempts", self.prefix)
    }

    /// The counter of failure serials (see `reserve.lua`).
    pub(crate) fn attempt_serial(&self) -> String {
        format!("{}attempts:serial", self.prefix)
    }

    /// The index of the records of the default scope `""` whose `field`
    /// equals `value` (the name it had before scopes existed).
    pub(crate) fn index(&self, field: Field, value: Option<&str>) -> String {
        self.scoped_index("", field, value)
    }

    /// The index of the records of `scope` whose `field` equals `value`.
    pub(crate) fn scoped_index(&self, scope: &str, field: Field, value: Option<&str>) -> String {
        let name = field_name(field);
        let value = encode(value);
        if scope.is_empty() {
            format!("{}idx:{name}:{value}", self.prefix)
        } else {
            format!("{}idx:{}:{name}:{value}", self.prefix, encode(Some(scope)))
        }
    }

    /// The index of the records of every scope but `""` whose `field`
    /// equals `value`.
    pub(crate) fn cross_index(&self, field: Field, value: Option<&str>) -> String {
        format!(
            "{}sidx:{}:{}",
            self.prefix,
            field_name(field),
            encode(value)
        )
    }

    /// The indexes a reset or listing filtered on `field` = `value` reads:
    /// the default scope's, then the one of all other scopes.
    pub(crate) fn filter_indexes(&self, field: Field, value: &str) -> [String; 2] {
        [
            self.index(field, Some(value)),
            self.cross_index(field, Some(value)),
        ]
    }

    pub(crate) fn record_keys(&self, key: &RecordKey) -> RecordKeys {
        let id = record_id(key);
        let scope = key.scope.as_str();
        let cross = |field: Field, value: Option<&str>| {
            (!scope.is_empty()).then(|| self.cross_index(field, value))
        };
        RecordKeys {
            record: self.record(&id),
            ip: self.scoped_index(scope, Field::IpAddress, key.ip_address.as_deref()),
            user: self.scoped_index(scope, Field::Username, key.username.as_deref()),
            ua: self.scoped_index(scope, Field::UserAgent, Some(&key.user_agent)),
            cross_ip: cross(Field::IpAddress, key.ip_address.as_deref()),
            cross_user: cross(Field::Username, key.username.as_deref()),
            id,
        }
    }

    /// `{p}blk:{m|l}:` — the row of member `m` is this followed by `m`.
    pub(crate) fn block_row_prefix(&self, kind: BlockKind) -> String {
        format!("{}blk:{}:", self.prefix, kind_letter(kind))
    }

    /// The hash of the (`kind`, `target`) block row.
    pub(crate) fn block_row(&self, kind: BlockKind, target: &BlockTarget) -> String {
        format!("{}{}", self.block_row_prefix(kind), block_member(target))
    }

    /// The sorted set of the block rows of `kind`, by `created_at`.
    pub(crate) fn block_index(&self, kind: BlockKind) -> String {
        format!("{}blocks:{}", self.prefix, kind.as_str())
    }

    /// The rank where the next block write sweeps the index of `kind`.
    pub(crate) fn block_sweep(&self, kind: BlockKind) -> String {
        format!("{}blocks:{}:sweep", self.prefix, kind.as_str())
    }

    pub(crate) fn log_seq(&self, log: Log) -> String {
        format!("{}{}:seq", self.prefix, log.base())
    }

    /// `{p}alog:row:` — the row hash of member `m` is this followed by `m`.
    pub(crate) fn log_row_prefix(&self, log: Log) -> String {
        format!("{}{}:row:", self.prefix, log.base())
    }

    pub(crate) fn log_all(&self, log: Log) -> String {
        format!("{}{}:all", self.prefix, log.base())
    }

    pub(crate) fn log_user(&self, log: Log, username: Option<&str>) -> String {
        format!("{}{}:user:{}", self.prefix, log.base(), encode(username))
    }

    pub(crate) fn log_ip(&self, log: Log, ip: Option<&str>) -> String {
        format!("{}{}:ip:{}", self.prefix, log.base(), encode(ip))
    }

    /// The set of open access-log rows of (`username`, `session_hash`).
    pub(crate) fn access_open(&self, username: Option<&str>, session_hash: &str) -> String {
        format!(
            "{}alog:open:{}:{}",
            self.prefix,
            encode(username),
            encode(Some(session_hash))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_injective_on_tricky_values() {
        let values = [
            None,
            Some(""),
            Some("~"),
            Some("="),
            Some("a:b"),
            Some("a%3Ab"),
            Some("admin"),
            Some("Admin"),
            Some("idx:ip:~"),
        ];
        let encoded: Vec<String> = values.iter().map(|v| encode(*v)).collect();
        for (i, a) in encoded.iter().enumerate() {
            assert!(!a.contains(':'), "{a}");
            for b in &encoded[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn long_values_are_digested() {
        let long = "x".repeat(1000);
        let e = encode(Some(&long));
        assert!(e.starts_with('#'));
        assert_eq!(e.len(), 65);
        assert_ne!(encode(Some(&"x".repeat(999))), e);
    }

    #[test]
    fn record_ids_distinguish_missing_and_empty() {
        let a = RecordKey {
            scope: String::new(),
            username: None,
            ip_address: Some("1.2.3.4".into()),
            user_agent: String::new(),
        };
        let b = RecordKey {
            scope: String::new(),
            username: Some(String::new()),
            ..a.clone()
        };
        assert_ne!(record_id(&a), record_id(&b));
        assert!(is_record_id(&record_id(&a)));
        assert!(!is_record_id("../../etc"));
    }

    fn scoped(scope: &str, user: Option<&str>, ip: Option<&str>, ua: &str) -> RecordKey {
        RecordKey {
            scope: scope.to_owned(),
            username: user.map(str::to_owned),
            ip_address: ip.map(str::to_owned),
            user_agent: ua.to_owned(),
        }
    }

    #[test]
    fn default_scope_keeps_the_ids_and_index_names_of_before_scopes() {
        // digests computed by the layout before scopes existed
        let k = scoped("", Some("alice"), Some("1.2.3.4"), "ua");
        assert_eq!(record_id(&k), "43c8c770c6ac3d821f9d2536fb433f2c");
        let k = scoped("", None, Some("1.2.3.4"), "");
        assert_eq!(record_id(&k), "c064800eb82190b4723dfc62d143b4e4");
        let keys = Keys::new("p:");
        let rk = keys.record_keys(&k);
        assert_eq!(rk.ip, "p:idx:ip:=1.2.3.4");
        assert_eq!(rk.user, "p:idx:user:~");
        assert_eq!(rk.ua, "p:idx:ua:=");
        assert_eq!((rk.cross_ip, rk.cross_user), (None, None));
    }

    #[test]
    fn scopes_part_records_and_indexes() {
        let keys = Keys::new("p:");
        let scopes = ["", "a", "b", "ip:=1.2.3.4", "a:b", "=", "~"];
        let mut ids = Vec::new();
        let mut indexes = Vec::new();
        for s in scopes {
            let rk = keys.record_keys(&scoped(s, Some("u"), Some("1.2.3.4"), "ua"));
            assert!(is_record_id(&rk.id));
            ids.push(rk.id);
            indexes.extend([rk.ip, rk.user, rk.ua]);
            if !s.is_empty() {
                assert_eq!(rk.cross_ip.as_deref(), Some("p:sidx:ip:=1.2.3.4"));
                assert_eq!(rk.cross_user.as_deref(), Some("p:sidx:user:=u"));
            }
        }
        // a scope that looks like a field name stays apart from the default
        indexes.push(keys.index(Field::IpAddress, Some("1.2.3.4")));
        for (i, a) in ids.iter().enumerate() {
            assert!(ids[i + 1..].iter().all(|b| b != a), "{ids:?}");
        }
        let unique: std::collections::BTreeSet<&String> = indexes.iter().collect();
        assert_eq!(unique.len(), indexes.len() - 1, "{indexes:?}");
        // the scope is part of the digested text, not glued to the username
        assert_ne!(
            record_id(&scoped("a", Some("b"), None, "")),
            record_id(&scoped("ab", Some(""), None, ""))
        );
    }

    #[test]
    fn block_members_are_unambiguous() {
        let t = |ip: Option<&str>, u: Option<&str>, ua: Option<&str>| BlockTarget {
            ip_address: ip.map(str::to_owned),
            username: u.map(str::to_owned),
            user_agent: ua.map(str::to_owned),
        };
        let targets = [
            t(Some("1.2.3.4"), None, None),
            t(None, Some("1.2.3.4"), None),
            t(None, None, Some("1.2.3.4")),
            t(None, Some("a:b"), None),
            t(None, Some("a"), Some("b")),
            t(Some("a"), Some("b"), None),
            t(None, Some(""), None),
            t(None, None, Some("")),
            t(None, Some("~"), None),
        ];
        let members: Vec<String> = targets.iter().map(block_member).collect();
        for (i, a) in members.iter().enumerate() {
            assert_eq!(a.split(':').count(), 3, "{a}");
            for b in &members[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let keys = Keys::new("p:");
        assert_ne!(
            keys.block_row(BlockKind::Manual, &targets[0]),
            keys.block_row(BlockKind::Lockout, &targets[0])
        );
    }

    #[test]
    fn log_ids_round_trip() {
        let m = log_member(42);
        assert_eq!(m, "0000000000000042");
        assert_eq!(log_public_id(&m), "42");
        assert_eq!(log_member_of_public("42").as_deref(), Some(m.as_str()));
        assert_eq!(log_member_of_public("4x"), None);
        assert_eq!(log_member_of_public(""), None);
    }
}
