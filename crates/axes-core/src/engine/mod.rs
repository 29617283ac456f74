//! The lockout engine: policy on top of a [`Store`].
//!
//! [`Axes`] decides who may try to authenticate, takes an admission slot
//! before the credentials are checked ([`Axes::begin`] → [`Ticket`]), records
//! the outcome, keeps the access and failure logs, and resets.

mod blocks;
mod health;
mod lifecycle;
mod lockout;
mod prepare;
mod rules;
mod status;
mod ticket;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub use health::{LOG_TARGET as STORE_LOG_TARGET, StoreStatus};
pub use lockout::{Lockout, LockoutReason};
pub use prepare::{MASK, Prepared};
pub use rules::describe_scope;
pub use status::{LockStatus, LockingAlternative};
pub use ticket::{AuthError, Ticket};

use crate::attempt::Attempt;
use crate::blocks::BlockKind;
use crate::clock::{Clock, SystemClock};
use crate::device::DeviceKey;
use crate::error::{ConfigError, Error, StoreError};
use crate::events::{Event, EventBus, EventKind};
use crate::identity::{UsernameRule, normalize_username, parse_canonical_ip};
use crate::memory::MemoryStore;
use crate::parameters::{Alternative, Field, LockoutParameters};
use crate::settings::{Handler, Settings};
use crate::store::{
    AccessLogRecord, AttemptRecord, FailureLogRecord, FailureQuery, Failures, ListQuery,
    NewAccessLog, Page, RecordKey, ResetFilter, Store, plausible_id,
};
use health::Health;
use rules::{AppliedRule, RuleCount, max_failures};

type Hook<T> = Arc<dyn Fn(&Prepared) -> T + Send + Sync>;

/// The engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Axes {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    username_rule: UsernameRule,
    allow_user: Option<Hook<bool>>,
    failure_limit: Option<Hook<u32>>,
    cooloff: Option<Hook<Option<Duration>>>,
    events: EventBus,
    health: Health,
    store_observer: std::sync::OnceLock<StoreObserver>,
    /// The scope of each of `lockout_rules`, made once.
    rule_scopes: Vec<String>,
    /// Signs and checks trusted-device tokens (`trusted_device` on).
    device_key: Option<DeviceKey>,
}

/// Sees every store call: the store's kind, how long it took, and whether
/// it succeeded (see [`Axes::observe_store`]).
type StoreObserver = Arc<dyn Fn(&'static str, Duration, bool) + Send + Sync>;

impl fmt::Debug for Axes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Axes")
            .field("store", &self.inner.store.kind())
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Axes`].
pub struct AxesBuilder {
    settings: Settings,
    store: Option<Arc<dyn Store>>,
    clock: Arc<dyn Clock>,
    username_rule: UsernameRule,
    allow_user: Option<Hook<bool>>,
    failure_limit: Option<Hook<u32>>,
    cooloff: Option<Hook<Option<Duration>>>,
    device_key: Option<DeviceKey>,
}

impl fmt::Debug for AxesBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AxesBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AxesBuilder {
    /// The store. Without one, `handler = memory` gets a [`MemoryStore`] and
    /// `handler = dummy` a store that keeps nothing; other handlers need a
    /// store (see `axes_sqlx::connect` and `axes_redis::RedisStore`).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (tests use [`crate::clock::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the username rule (default: NFKC, lowercase, trim).
    pub fn username_rule(mut self, rule: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.username_rule = Arc::new(rule);
        self
    }

    /// A per-user allow hook: attempts it returns `true` for are never
    /// refused and never counted.
    pub fn allow_user(mut self, hook: impl Fn(&Prepared) -> bool + Send + Sync + 'static) -> Self {
        self.allow_user = Some(Arc::new(hook));
        self
    }

    /// The failure limit per attempt (default: `failure_limit`).
    pub fn failure_limit(
        mut self,
        hook: impl Fn(&Prepared) -> u32 + Send + Sync + 'static,
    ) -> Self {
        self.failure_limit = Some(Arc::new(hook));
        self
    }

    /// The cool-off per attempt (default: `cooloff_time`).
    pub fn cooloff(
        mut self,
        hook: impl Fn(&Prepared) -> Option<Duration> + Send + Sync + 'static,
    ) -> Self {
        self.cooloff = Some(Arc::new(hook));
        self
    }

    /// The key that signs trusted-device tokens (`trusted_device`); by
    /// default `secret_key`. At least 16 bytes. `axes serve` passes its
    /// generated key here when `secret_key` is unset.
    pub fn device_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.device_key = Some(DeviceKey::new(key.as_ref()));
        self
    }

    /// Validates the settings and builds the engine.
    pub fn build(self) -> Result<Axes, ConfigError> {
        self.settings.validate()?;
        if !self.settings.lockout_rules.is_empty()
            && (self.failure_limit.is_some() || self.cooloff.is_some())
        {
            return Err(ConfigError::Conflict(
                "the failure_limit and cooloff hooks apply to the default rule; with \
                 lockout_rules each rule has its own limit and cool-off"
                    .into(),
            ));
        }
        if let Some(k) = &self.device_key {
            if !self.settings.trusted_device {
                return Err(ConfigError::Conflict(
                    "a device key is given but trusted_device is off: nothing would be signed"
                        .into(),
                ));
            }
            if k.len() < crate::settings::MIN_SECRET_KEY_LEN {
                return Err(ConfigError::Conflict(format!(
                    "the device key is shorter than {} bytes: device cookies could be forged",
                    crate::settings::MIN_SECRET_KEY_LEN
                )));
            }
        }
        let device_key = if self.settings.trusted_device {
            match (self.device_key, &self.settings.secret_key) {
                (Some(k), _) => Some(k),
                (None, Some(secret)) => Some(DeviceKey::new(secret.expose().as_bytes())),
                (None, None) => {
                    return Err(ConfigError::Conflict(
                        "trusted_device = true needs a key to sign device cookies: set \
                         secret_key (axes serve generates one), or pass one to \
                         AxesBuilder::device_key"
                            .into(),
                    ));
                }
            }
        } else {
            None
        };
        let rule_scopes = self
            .settings
            .lockout_rules
            .iter()
            .map(crate::rules::LockoutRule::scope)
            .collect();
        let store: Arc<dyn Store> = match self.store {
            Some(s) => s,
            None => match self.settings.handler {
                Handler::Memory => Arc::new(MemoryStore::from_settings(&self.settings)),
                Handler::Dummy => Arc::new(crate::dummy::DummyStore),
                other => {
                    return Err(ConfigError::Conflict(format!(
                        "handler = \"{}\" needs a store; connect one and pass it to the builder",
                        other.as_str()
                    )));
                }
            },
        };
        Ok(Axes {
            inner: Arc::new(Inner {
                settings: self.settings,
                store,
                clock: self.clock,
                username_rule: self.username_rule,
                allow_user: self.allow_user,
                failure_limit: self.failure_limit,
                cooloff: self.cooloff,
                events: EventBus::default(),
                health: Health::default(),
                store_observer: std::sync::OnceLock::new(),
                rule_scopes,
                device_key,
            }),
        })
    }
}

/// The answer of [`Axes::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Failures counted for the client (highest alternative).
    pub failures: u32,
    /// The limit that applies.
    pub failure_limit: u32,
    /// Set when the client would be refused.
    pub lockout: Option<Lockout>,
}

/// How the policy treats one prepared attempt, before the store is asked.
enum Gate {
    /// Axes is off, or the client is exempt: never refused, never counted.
    Exempt,
    /// Refused outright (deny list, allow-list-only).
    Denied,
    /// Refused: none of the alternatives can be counted (see
    /// [`counted_parameters`]).
    Unidentified,
    /// Counted by these rules (the default one, or each of
    /// `lockout_rules` that can count it).
    Counted(Vec<AppliedRule>),
}

/// The alternatives an attempt can be counted by: those whose fields are all
/// known. An unknown IP or a missing username is never a value of its own —
/// counting it would pool every such attempt into one shared bucket, which
/// lets one client lock out all the others (SPEC §3). `None` when no
/// alternative is left.
pub(crate) fn counted_parameters<'a>(
    parameters: &'a LockoutParameters,
    key: &RecordKey,
) -> Option<Cow<'a, LockoutParameters>> {
    let known = |f: &Field| match f {
        Field::IpAddress => key.ip_address.is_some(),
        Field::Username => key.username.is_some(),
        Field::UserAgent => true,
    };
    let usable = |a: &Alternative| a.fields().iter().all(known);
    if parameters.alternatives().iter().all(usable) {
        return Some(Cow::Borrowed(parameters));
    }
    LockoutParameters::new(
        parameters
            .alternatives()
            .iter()
            .filter(|a| usable(a))
            .cloned(),
    )
    .map(Cow::Owned)
}

impl Axes {
    /// Starts building an engine with `settings`.
    pub fn builder(settings: Settings) -> AxesBuilder {
        AxesBuilder {
            settings,
            store: None,
            clock: Arc::new(SystemClock),
            username_rule: Arc::new(normalize_username),
            allow_user: None,
            failure_limit: None,
            cooloff: None,
            device_key: None,
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The store in use.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The current time of the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The store's health as seen by the engine.
    pub fn store_status(&self) -> StoreStatus {
        self.inner.health.status()
    }

    /// Asks the store whether it answers, bounded by `store_timeout`, and
    /// updates [`Axes::store_status`] (health checks should call this rather
    /// than read the status: it is how a store that came back is noticed
    /// when no logins arrive).
    pub async fn ping(&self) -> Result<(), Error> {
        Ok(self.call(self.inner.store.ping()).await?)
    }

    /// Calls `f` with every event, in-process and synchronously: keep it short.
    pub fn subscribe(&self, f: impl Fn(&Event) + Send + Sync + 'static) {
        self.inner.events.subscribe(Arc::new(f));
    }

    /// Calls `f` after every store call with the store's kind, the call's
    /// duration (a timeout included) and whether it succeeded: for metrics.
    /// One observer per engine: `false` (and `f` unused) when one is set.
    pub fn observe_store(
        &self,
        f: impl Fn(&'static str, Duration, bool) + Send + Sync + 'static,
    ) -> bool {
        self.inner.store_observer.set(Arc::new(f)).is_ok()
    }

    /// Canonicalises an attempt (normalised username, canonical IP, masked
    /// and bounded details).
    pub fn prepare(&self, attempt: &Attempt) -> Prepared {
        let mut p = prepare::prepare(attempt, &self.inner.settings, &self.inner.username_rule);
        if let (Some(key), Some(token), Some(user)) = (
            &self.inner.device_key,
            &attempt.device_token,
            &p.key.username,
        ) && self.counted_whole(attempt, user)
            && let Some(id) = key.verify(
                token,
                user,
                self.now(),
                crate::settings::to_chrono(self.inner.settings.trusted_device_ttl),
            )
        {
            p.key.scope = rules::device_scope(&id);
            p.device = Some(id);
        }
        p
    }

    /// Whether `user` (the counted username of `attempt`) is the whole
    /// given name, normalised: nothing cut off, no NUL dropped. A device
    /// token is bound to the counted name; a longer name that shares it is
    /// another account the token was never issued to.
    fn counted_whole(&self, attempt: &Attempt, user: &str) -> bool {
        attempt.username.as_deref().is_some_and(|given| {
            let trimmed = given.trim();
            trimmed.len() <= prepare::MAX_USERNAME_INPUT_CHARS * 4
                && (self.inner.username_rule)(trimmed) == user
        })
    }

    /// A new trusted-device token for `username` (normalised here), to set
    /// as the `axes_device` cookie ([`crate::device::DEVICE_COOKIE`]) after
    /// a successful login, for `trusted_device_ttl`. `None` when
    /// `trusted_device` is off or the username is empty.
    pub fn issue_device_token(&self, username: &str) -> Option<String> {
        let key = self.inner.device_key.as_ref()?;
        let p = prepare::prepare(
            &Attempt::new().username(username),
            &self.inner.settings,
            &self.inner.username_rule,
        );
        let user = p.key.username?;
        if !self.counted_whole(&Attempt::new().username(username), &user) {
            return None;
        }
        let ttl = crate::settings::to_chrono(self.inner.settings.trusted_device_ttl);
        let expires = self.now().checked_add_signed(ttl)?;
        key.issue(&user, expires)
    }

    /// Runs one store call with the configured timeout, tracking health.
    async fn call<T>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let s = &self.inner.settings;
        let kind = self.inner.store.kind();
        let _probe = self.inner.health.admit(s.store_timeout)?;
        let observer = self.inner.store_observer.get();
        let started = observer.map(|_| std::time::Instant::now());
        let result = match tokio::time::timeout(s.store_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Timeout(s.store_timeout)),
        };
        if let (Some(observe), Some(started)) = (observer, started) {
            observe(kind, started.elapsed(), result.is_ok());
        }
        match &result {
            Ok(_) => self.inner.health.ok(kind),
            Err(e) => self.inner.health.failed(kind, e, s.fail_closed),
        }
        result
    }

    /// The failure limit that applies to clients without a per-attempt
    /// hook: `failure_limit`, or the smallest limit of the layered rules.
    pub fn failure_limit(&self) -> u32 {
        let s = &self.inner.settings;
        s.lockout_rules
            .iter()
            .map(|r| r.failure_limit)
            .min()
            .unwrap_or(s.failure_limit)
            .max(1)
    }

    fn limit_for(&self, p: &Prepared) -> u32 {
        if !self.inner.settings.lockout_rules.is_empty() {
            // The limit a refusal that is not by a rule's count shows (no
            // hooks with rules).
            return self.failure_limit();
        }
        self.inner
            .failure_limit
            .as_ref()
            .map_or(self.inner.settings.failure_limit, |h| h(p))
            .max(1)
    }

    fn window_for(&self, p: &Prepared) -> Option<chrono::Duration> {
        let cooloff = match &self.inner.cooloff {
            Some(h) => h(p),
            None => self.inner.settings.cooloff_time,
        };
        // Saturating: a hook's over-long cool-off never becomes "none".
        cooloff
            .filter(|d| !d.is_zero())
            .map(crate::settings::to_chrono)
    }

    fn gate(&self, p: &Prepared) -> Gate {
        let s = &self.inner.settings;
        if !s.enabled {
            return Gate::Exempt;
        }
        let listed =
            |nets: &[ipnet::IpNet]| p.ip.is_some_and(|ip| nets.iter().any(|n| n.contains(&ip)));
        if listed(&s.ip_blacklist) || (s.only_whitelist && !listed(&s.ip_whitelist)) {
            return Gate::Denied;
        }
        if ((s.never_lockout_whitelist || s.only_whitelist) && listed(&s.ip_whitelist))
            || (s.never_lockout_get && p.method == "GET")
            || self.inner.allow_user.as_ref().is_some_and(|h| h(p))
        {
            return Gate::Exempt;
        }
        match self.applied_rules(p) {
            Some(rules) => Gate::Counted(rules),
            None => Gate::Unidentified,
        }
    }

    /// The refusal of an attempt that cannot be counted.
    fn unidentified(&self, p: &Prepared) -> Lockout {
        tracing::warn!(
            "axes: refused an attempt without {} (lockout_parameters = \"{}\"): counting it would pool it with every other such attempt",
            self.missing_fields(p),
            self.inner.settings.lockout_parameters
        );
        self.lockout(
            p,
            LockoutReason::Unidentified,
            &Failures::default(),
            self.limit_for(p),
        )
    }

    fn missing_fields(&self, p: &Prepared) -> &'static str {
        match (p.key.ip_address.is_none(), p.key.username.is_none()) {
            (true, true) => "a client IP or username",
            (true, false) => "a known client IP",
            _ => "a username",
        }
    }

    pub(crate) fn lockout(
        &self,
        p: &Prepared,
        reason: LockoutReason,
        failures: &Failures,
        limit: u32,
    ) -> Lockout {
        self.lockout_in(p, reason, failures, limit, self.window_for(p))
    }

    /// [`Axes::lockout`] for a rule with cool-off `window`.
    pub(crate) fn lockout_in(
        &self,
        p: &Prepared,
        reason: LockoutReason,
        failures: &Failures,
        limit: u32,
        window: Option<chrono::Duration>,
    ) -> Lockout {
        let s = &self.inner.settings;
        let (retry_after, cooloff) = match reason {
            LockoutReason::TooManyFailures => (
                lockout::retry_after(failures, limit, window, self.now()),
                window.and_then(|w| w.to_std().ok()),
            ),
            _ => (None, None),
        };
        let message = match (reason, retry_after) {
            (LockoutReason::StoreUnavailable, _) => {
                "Login is temporarily unavailable. Please try again later.".to_owned()
            }
            (LockoutReason::Unidentified, _) => {
                "The login request could not be attributed to a client.".to_owned()
            }
            (_, Some(_)) => s.cooloff_message.clone(),
            (_, None) => s.permalock_message.clone(),
        };
        Lockout {
            reason,
            username: p.given_username.clone(),
            failures: failures.max(),
            failure_limit: limit,
            cooloff,
            retry_after,
            message,
        }
    }

    fn store_down_lockout(&self, p: &Prepared) -> Option<Lockout> {
        self.inner.settings.fail_closed.then(|| {
            self.lockout(
                p,
                LockoutReason::StoreUnavailable,
                &Failures::default(),
                self.limit_for(p),
            )
        })
    }

    pub(crate) fn emit(&self, kind: EventKind, p: &Prepared, failures: u32) {
        if !self.inner.events.has_subscribers() {
            return;
        }
        self.emit_event(kind, p, failures, self.limit_for(p), None, false);
    }

    /// Emits `locked_out` for `lockout`; `refused`: the attempt was refused
    /// before its credentials were checked.
    pub(crate) fn emit_lockout(&self, p: &Prepared, lockout: &Lockout, refused: bool) {
        if !self.inner.events.has_subscribers() {
            return;
        }
        let (failures, limit) = (lockout.failures, lockout.failure_limit);
        let retry_after = lockout.retry_after_secs();
        self.emit_event(
            EventKind::LockedOut,
            p,
            failures,
            limit,
            retry_after,
            refused,
        );
    }

    fn emit_event(
        &self,
        kind: EventKind,
        p: &Prepared,
        failures: u32,
        failure_limit: u32,
        retry_after: Option<u64>,
        refused: bool,
    ) {
        self.inner.events.emit(Event {
            kind,
            username: p.key.username.clone(),
            ip_address: p.key.ip_address.clone(),
            path: p.details.path.clone(),
            failures,
            failure_limit,
            retry_after,
            refused,
            time: self.now(),
            removed: None,
        });
    }

    /// A description of the client for log lines: username and, only when
    /// IPs are stored, the IP. Formatted only when the line is written.
    pub(crate) fn client_str<'p>(&self, p: &'p Prepared) -> ClientStr<'p> {
        ClientStr(&p.key)
    }

    /// Read-only: would this attempt be refused now? Used before a login
    /// handler runs, and by services that only ask.
    pub async fn check(&self, attempt: &Attempt) -> CheckResult {
        let p = self.prepare(attempt);
        match self.check_prepared(&p, false).await {
            Ok((result, _)) => result,
            Err(_) => {
                let limit = self.limit_for(&p);
                let lockout = self.store_down_lockout(&p);
                CheckResult {
                    failures: 0,
                    failure_limit: limit,
                    lockout,
                }
            }
        }
    }

    /// The one read-only decision behind [`Axes::check`] and
    /// [`Axes::lockout_status`]: the gate, then the store's count for each
    /// rule. Also gives the rules counted and their counts.
    async fn check_prepared(
        &self,
        p: &Prepared,
        quiet: bool,
    ) -> Result<(CheckResult, Vec<RuleCount>), StoreError> {
        let limit = self.limit_for(p);
        let refuse = |l: Lockout| CheckResult {
            failures: l.failures,
            failure_limit: limit,
            lockout: Some(l),
        };
        let rules = match self.gate(p) {
            Gate::Exempt => {
                let open = CheckResult {
                    failures: 0,
                    failure_limit: limit,
                    lockout: None,
                };
                return Ok((open, Vec::new()));
            }
            Gate::Denied => {
                let l = self.lockout(p, LockoutReason::Denied, &Failures::default(), limit);
                return Ok((refuse(l), Vec::new()));
            }
            // An attempt is warned about; a stored key (an admin page
            // listing old records) is not.
            Gate::Unidentified if quiet => {
                let l = self.lockout(p, LockoutReason::Unidentified, &Failures::default(), limit);
                return Ok((refuse(l), Vec::new()));
            }
            Gate::Unidentified => return Ok((refuse(self.unidentified(p)), Vec::new())),
            Gate::Counted(rules) => rules,
        };
        let now = self.now();
        let mut counts = Vec::with_capacity(rules.len());
        for (i, rule) in rules.into_iter().enumerate() {
            let failures = if i == 0 {
                self.first_failures(p, &rule, now).await?
            } else {
                let query = FailureQuery {
                    key: rule.key(p),
                    parameters: rule.parameters(&self.inner.settings),
                    window: rule.window,
                    now,
                    blocks: &[],
                    manual_only: true,
                };
                self.call(self.inner.store.failures(&query)).await?
            };
            counts.push(RuleCount {
                rule,
                failures,
                token: None,
            });
        }
        let lockout = self.refusal(p, &counts);
        let result = CheckResult {
            failures: max_failures(&counts),
            // A rule's refusal shows that rule's limit.
            failure_limit: lockout
                .as_ref()
                .filter(|l| {
                    l.reason == LockoutReason::TooManyFailures
                        && !self.inner.settings.lockout_rules.is_empty()
                })
                .map_or(limit, |l| l.failure_limit),
            lockout,
        };
        Ok((result, counts))
    }

    /// The counts of the first rule, with the block look-up (blocks are
    /// looked up once per attempt, with its first rule). As `reserve`:
    /// without a limit, lockout history refuses nothing; an attempt from a
    /// trusted device looks at manual blocks only.
    async fn first_failures(
        &self,
        p: &Prepared,
        rule: &AppliedRule,
        now: DateTime<Utc>,
    ) -> Result<Failures, StoreError> {
        let mut candidates = self.block_candidates(&p.key);
        loop {
            let query = FailureQuery {
                key: rule.key(p),
                parameters: rule.parameters(&self.inner.settings),
                window: rule.window,
                now,
                blocks: &candidates,
                manual_only: p.device.is_some(),
            };
            let mut f = self.call(self.inner.store.failures(&query)).await?;
            let history = match &f.block {
                Some(b) if rule.limit.is_none() && b.kind == BlockKind::Lockout => b.target.clone(),
                _ => return Ok(f),
            };
            if let Some(manual) = self.manual_block_on(&history, now).await? {
                f.block = Some(manual);
                return Ok(f);
            }
            let asked = candidates.len();
            candidates.retain(|t| *t != history);
            if candidates.len() == asked {
                // Not a target it was asked about: ask no more.
                return Ok(f);
            }
        }
    }

    /// The refusal the counts call for, if any: a block found with the
    /// first rule, else the lockout of the rule that refuses longest.
    fn refusal(&self, p: &Prepared, counts: &[RuleCount]) -> Option<Lockout> {
        let first = counts.first()?;
        let first_limit = first.rule.limit.unwrap_or(u32::MAX);
        match &first.failures.block {
            Some(b) if b.kind == BlockKind::Manual => {
                return Some(self.blocked_lockout(p, b, &first.failures, first_limit));
            }
            Some(b) => {
                return Some(self.escalated_lockout(
                    p,
                    &first.failures,
                    first_limit,
                    first.reached(),
                    std::slice::from_ref(b),
                ));
            }
            None => {}
        }
        self.longest_lockout(p, counts)
    }

    /// The lockout of the rule, among those that reached their limit, that
    /// refuses longest (until a reset before any cool-off).
    pub(crate) fn longest_lockout(&self, p: &Prepared, counts: &[RuleCount]) -> Option<Lockout> {
        counts
            .iter()
            .filter(|c| c.reached())
            .map(|c| {
                self.lockout_in(
                    p,
                    LockoutReason::TooManyFailures,
                    &c.failures,
                    c.rule.limit.unwrap_or(u32::MAX),
                    c.rule.window,
                )
            })
            .max_by_key(|l| match l.retry_after {
                None => (1, std::time::Duration::ZERO),
                Some(d) => (0, d),
            })
    }

    /// Takes an admission slot for `attempt` before its credentials are
    /// checked. `Err` is the lockout response to give instead.
    pub async fn begin(&self, attempt: &Attempt) -> Result<Ticket, Lockout> {
        let p = self.prepare(attempt);
        match self.gate(&p) {
            Gate::Exempt => Ok(Ticket::exempt(self.clone(), p)),
            Gate::Denied => {
                let limit = self.limit_for(&p);
                let l = self.lockout(&p, LockoutReason::Denied, &Failures::default(), limit);
                tracing::warn!("axes: refused {} (IP deny/allow list)", self.client_str(&p));
                self.emit_lockout(&p, &l, true);
                Err(l)
            }
            Gate::Unidentified => Err(self.unidentified(&p)),
            Gate::Counted(rules) => ticket::reserve(self.clone(), p, rules).await,
        }
    }

    /// Whether `lockout` is answered like a wrong password (`hide_lockout`):
    /// refusals for too many failures, by the IP lists and by a manual
    /// block are; a store outage and an unattributable request are not.
    pub fn hides(&self, lockout: &Lockout) -> bool {
        self.inner.settings.hide_lockout
            && matches!(
                lockout.reason,
                LockoutReason::TooManyFailures | LockoutReason::Denied | LockoutReason::Blocked
            )
    }

    /// Runs `check` (the app's credential check) under axes: reserve, check,
    /// record. `Ok(None)` from `check` means wrong credentials. With
    /// `hide_lockout`, a hidden refusal is `AuthError::InvalidCredentials`
    /// (and `check` is not called).
    pub async fn authenticate<U, E, F, Fut>(
        &self,
        attempt: &Attempt,
        check: F,
    ) -> Result<U, AuthError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<U>, E>>,
    {
        match self.begin(attempt).await {
            Ok(ticket) => ticket.run(check).await,
            Err(l) if self.hides(&l) => Err(AuthError::InvalidCredentials),
            Err(l) => Err(AuthError::LockedOut(l)),
        }
    }

    /// Records a successful login: an access-log row (unless disabled) and a
    /// `logged_in` event. `session_id` is hashed (SHA-256) before storage.
    pub async fn logged_in(&self, attempt: &Attempt, session_id: Option<&str>) {
        let p = self.prepare(attempt);
        let s = &self.inner.settings;
        if !s.enabled {
            return;
        }
        tracing::info!("axes: successful login by {}", self.client_str(&p));
        if !s.disable_access_log {
            let entry = NewAccessLog {
                key: RecordKey {
                    scope: String::new(),
                    ..p.key.clone()
                },
                path: p.details.path.clone(),
                http_accept: p.details.http_accept.clone(),
                attempt_time: self.now(),
                session_hash: session_id.map(session_hash).unwrap_or_default(),
            };
            let _ = self.call(self.inner.store.insert_access_log(&entry)).await;
        }
        self.emit(EventKind::LoggedIn, &p, 0);
    }

    /// Records a logout: fills in the logout time of the open access-log rows
    /// of this user and session, and emits `logged_out`.
    pub async fn logged_out(&self, username: &str, session_id: Option<&str>) {
        let s = &self.inner.settings;
        if !s.enabled {
            return;
        }
        let attempt = Attempt::new().username(username);
        let p = self.prepare(&attempt);
        if let Some(user) = &p.key.username {
            tracing::info!("axes: logout by {}", self.client_str(&p));
            if !s.disable_access_log {
                let hash = session_id.map(session_hash).unwrap_or_default();
                let _ = self
                    .call(self.inner.store.close_access_log(user, &hash, self.now()))
                    .await;
            }
        }
        self.emit(EventKind::LoggedOut, &p, 0);
    }

    /// Deletes attempt records (lifting lockouts): all of them with neither
    /// argument, else those matching BOTH given values. A malformed IP is an
    /// error, not a silent no-match. Returns how many records went.
    ///
    /// The lockout history under the same filter goes too (the rows of the
    /// progressive cool-off and the permanent lockout: a reset forgives
    /// them); manual blocks stay — [`Axes::unblock`] lifts those.
    pub async fn reset(&self, ip: Option<&str>, username: Option<&str>) -> Result<u64, Error> {
        let filter = self.reset_filter(ip, username)?;
        self.reset_with_events(&filter).await
    }

    /// The canonical filter for operator-given values.
    pub fn reset_filter(
        &self,
        ip: Option<&str>,
        username: Option<&str>,
    ) -> Result<ResetFilter, Error> {
        let s = &self.inner.settings;
        let ip_address = match ip {
            Some(ip) => Some(parse_canonical_ip(ip, s.ipv6_prefix).map_err(Error::InvalidInput)?),
            None => None,
        };
        let username = match username {
            Some(u) => {
                let p = self.prepare(&Attempt::new().username(u));
                Some(
                    p.key
                        .username
                        .ok_or_else(|| Error::InvalidInput("the username is empty".into()))?,
                )
            }
            None => None,
        };
        Ok(ResetFilter {
            ip_address,
            username,
        })
    }

    /// Deletes access-log rows older than `age_days` days (all with `None`).
    pub async fn reset_logs(&self, age_days: Option<u32>) -> Result<u64, Error> {
        let before = self.days_ago(age_days)?;
        Ok(self
            .call(self.inner.store.reset_access_logs(before))
            .await?)
    }

    /// `now - days`, or an input error when that is before the calendar starts.
    fn days_ago(&self, age_days: Option<u32>) -> Result<Option<DateTime<Utc>>, Error> {
        age_days
            .map(|d| {
                chrono::Duration::try_days(i64::from(d))
                    .and_then(|age| self.now().checked_sub_signed(age))
                    .ok_or_else(|| Error::InvalidInput(format!("an age of {d} days is too large")))
            })
            .transpose()
    }

    /// Deletes failure-log rows older than `age_days` days (all with `None`).
    pub async fn reset_failure_logs(&self, age_days: Option<u32>) -> Result<u64, Error> {
        let before = self.days_ago(age_days)?;
        Ok(self
            .call(self.inner.store.reset_failure_logs(before))
            .await?)
    }

    /// Deletes attempt records whose cool-off has passed (none without a
    /// cool-off) and returns how many went. Counts ignore expired records
    /// anyway; purging keeps the store from growing with every client that
    /// ever failed once. The stores delete in batches, so a purge never
    /// holds up logins for long.
    ///
    /// It also deletes the block rows that refuse nothing any more: manual
    /// blocks whose end has passed, and lockout history older than
    /// `lockout_memory` (with or without a cool-off); they are not in the
    /// count returned.
    ///
    /// `axes serve` and `axes demo` run it every `--purge-interval`. In
    /// your own app, spawn a task:
    ///
    /// ```no_run
    /// # async fn app(axes: axes_core::Axes) {
    /// let purger = axes.clone();
    /// tokio::spawn(async move {
    ///     let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
    ///     loop {
    ///         every.tick().await;
    ///         if let Err(e) = purger.purge_expired().await {
    ///             tracing::warn!("purging expired attempts failed: {e}");
    ///         }
    ///     }
    /// });
    /// # }
    /// ```
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        let n = match self.purge_window() {
            Some(w) => self.purge_with_events(w).await?,
            None => 0,
        };
        let now = self.now();
        let forget_before = now
            .checked_sub_signed(crate::settings::to_chrono(
                self.inner.settings.lockout_memory,
            ))
            .unwrap_or(now);
        let blocks = self
            .call(self.inner.store.purge_blocks(now, forget_before))
            .await?;
        if blocks > 0 {
            tracing::info!(
                removed = blocks,
                "axes: purged block rows that refuse nothing"
            );
        }
        Ok(n)
    }

    /// Deletes attempt records by id (an admin's selection); unknown ids are
    /// skipped. Returns how many were deleted.
    pub async fn delete_attempts(&self, ids: &[String]) -> Result<u64, Error> {
        self.delete_with_events(ids).await
    }

    /// Deletes access-log rows by id.
    pub async fn delete_access_logs(&self, ids: &[String]) -> Result<u64, Error> {
        Ok(self.call(self.inner.store.delete_access_logs(ids)).await?)
    }

    /// Deletes failure-log rows by id.
    pub async fn delete_failure_logs(&self, ids: &[String]) -> Result<u64, Error> {
        Ok(self.call(self.inner.store.delete_failure_logs(ids)).await?)
    }

    /// The attempt record with this id (`None`: unknown or malformed id).
    pub async fn get_attempt(&self, id: &str) -> Result<Option<AttemptRecord>, Error> {
        if !plausible_id(id) {
            return Ok(None);
        }
        Ok(self.call(self.inner.store.get_attempt(id)).await?)
    }

    /// The access-log row with this id (`None`: unknown or malformed id).
    pub async fn get_access_log(&self, id: &str) -> Result<Option<AccessLogRecord>, Error> {
        if !plausible_id(id) {
            return Ok(None);
        }
        Ok(self.call(self.inner.store.get_access_log(id)).await?)
    }

    /// The failure-log row with this id (`None`: unknown or malformed id).
    pub async fn get_failure_log(&self, id: &str) -> Result<Option<FailureLogRecord>, Error> {
        if !plausible_id(id) {
            return Ok(None);
        }
        Ok(self.call(self.inner.store.get_failure_log(id)).await?)
    }

    /// Lists attempt records.
    pub async fn list_attempts(&self, query: &ListQuery) -> Result<Page<AttemptRecord>, Error> {
        Ok(self.call(self.inner.store.list_attempts(query)).await?)
    }

    /// Lists the access log.
    pub async fn list_access_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<AccessLogRecord>, Error> {
        Ok(self.call(self.inner.store.list_access_logs(query)).await?)
    }

    /// Lists the failure log.
    pub async fn list_failure_logs(
        &self,
        query: &ListQuery,
    ) -> Result<Page<FailureLogRecord>, Error> {
        Ok(self.call(self.inner.store.list_failure_logs(query)).await?)
    }
}

/// SHA-256 hex of a session id, as stored in the access log.
pub fn session_hash(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// [`Axes::client_str`]: `username="…" ip=…` (the IP only when stored).
pub(crate) struct ClientStr<'p>(&'p crate::store::RecordKey);

impl std::fmt::Display for ClientStr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let user = self.0.username.as_deref().unwrap_or("-");
        match &self.0.ip_address {
            Some(ip) => write!(f, "username={user:?} ip={ip}"),
            None => write!(f, "username={user:?}"),
        }
    }
}
