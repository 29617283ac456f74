//! Keys that are not settings of this version but that an operator may
//! well write: django-axes settings that axes renamed or replaced.
//! Each is refused like an unknown key, with what to write instead
//! ([`ConfigError::Unsupported`](crate::ConfigError::Unsupported)).

/// (key, what to write instead), keys in lower case as in TOML (the
/// environment's `AXES_ONLY_USER_FAILURES` is `only_user_failures`).
pub const UNSUPPORTED: &[(&str, &str)] = &[
    // django-axes: lockout flags that `lockout_parameters` replaced.
    (
        "only_user_failures",
        "a django-axes setting; axes uses lockout_parameters = [\"username\"] \
         (AXES_LOCKOUT_PARAMETERS=username)",
    ),
    (
        "lock_out_by_user_or_ip",
        "a django-axes setting; axes uses lockout_parameters = [\"username\", \"ip_address\"] \
         (AXES_LOCKOUT_PARAMETERS=username,ip_address)",
    ),
    (
        "lock_out_by_combination_user_and_ip",
        "a django-axes setting; axes uses lockout_parameters = [[\"username\", \"ip_address\"]] \
         (AXES_LOCKOUT_PARAMETERS=username+ip_address)",
    ),
    (
        "use_user_agent",
        "a django-axes setting; axes uses lockout_parameters with user_agent in a combination, \
         e.g. lockout_parameters = [[\"ip_address\", \"user_agent\"]] \
         (AXES_LOCKOUT_PARAMETERS=ip_address+user_agent)",
    ),
    // django-axes: renamed.
    (
        "login_failure_limit",
        "an old django-axes setting; axes uses failure_limit",
    ),
    (
        "cooloff_minutes",
        "not a setting; axes uses cooloff_time, e.g. cooloff_time = \"30m\"",
    ),
    (
        "cache",
        "a django-axes setting; axes uses handler = \"cache\" with cache_url = \"redis://…\"",
    ),
    (
        "disable_success_access_log",
        "an old django-axes setting; axes uses disable_access_log",
    ),
    (
        "verbose",
        "a django-axes setting; axes's log lines are filtered by the AXES_LOG environment \
         variable (e.g. AXES_LOG=debug)",
    ),
    (
        "logger",
        "an old django-axes setting; axes's log lines are filtered by the AXES_LOG environment \
         variable (e.g. AXES_LOG=debug)",
    ),
    // django-axes: callables that code hooks replaced.
    (
        "lockout_callable",
        "a django-axes setting; axes uses the code hook AxesLayer::lockout_response",
    ),
    (
        "username_callable",
        "a django-axes setting; axes reads username_form_field and normalises it with the \
         code hook AxesBuilder::username_rule",
    ),
    (
        "whitelist_callable",
        "a django-axes setting; axes uses the code hook AxesBuilder::allow_user",
    ),
    (
        "client_ip_callable",
        "a django-axes setting; axes uses trusted_proxies and client_ip_header, or the code \
         hook AxesLayer::client_ip",
    ),
    (
        "client_str_callable",
        "a django-axes setting; axes has no equivalent (its log lines are fixed, and mask \
         what store_ip_address and sensitive_parameters say)",
    ),
    // django-axes: proxy settings that `trusted_proxies` and
    // `client_ip_header` replaced.
    (
        "ipware_proxy_order",
        "a django-axes setting; axes uses trusted_proxies (the right-most address that is not \
         a trusted proxy is the client)",
    ),
    (
        "proxy_order",
        "an old django-axes setting; axes uses trusted_proxies (the right-most address that is \
         not a trusted proxy is the client)",
    ),
    (
        "ipware_proxy_count",
        "a django-axes setting; axes uses trusted_proxies",
    ),
    (
        "proxy_count",
        "an old django-axes setting; axes uses trusted_proxies",
    ),
    (
        "num_proxies",
        "an old django-axes setting; axes uses trusted_proxies",
    ),
    (
        "ipware_proxy_trusted_ips",
        "a django-axes setting; axes uses trusted_proxies",
    ),
    (
        "proxy_trusted_ips",
        "an old django-axes setting; axes uses trusted_proxies",
    ),
    (
        "behind_reverse_proxy",
        "an old django-axes setting; axes uses trusted_proxies",
    ),
    (
        "ipware_meta_precedence_order",
        "a django-axes setting; axes uses client_ip_header (read from trusted_proxies only)",
    ),
    (
        "meta_precedence_order",
        "an old django-axes setting; axes uses client_ip_header (read from trusted_proxies only)",
    ),
    (
        "reverse_proxy_header",
        "an old django-axes setting; axes uses client_ip_header (read from trusted_proxies only)",
    ),
    // django-axes: settings with no counterpart, and why none is needed.
    (
        "use_attempt_expiration",
        "a django-axes setting; axes needs none: each record expires cooloff_time after its \
         last failure",
    ),
    (
        "enable_retry_after_header",
        "a django-axes setting; axes needs none: Retry-After is sent whenever a cool-off applies",
    ),
    (
        "lockout_tiers",
        "a django-axes setting; not supported in this version",
    ),
    (
        "only_admin_site",
        "a django-axes setting; axes protects the routes you wrap in AxesLayer, and only those",
    ),
    (
        "enable_admin",
        "a django-axes setting; axes's admin UI is part of `axes serve`, for admin_users",
    ),
    (
        "allowed_cors_origins",
        "a django-axes setting; axes sends no CORS headers (add a CORS layer to your app)",
    ),
    (
        "rest_framework_active",
        "an old django-axes setting; axes needs none",
    ),
];

/// What to write instead of `key`, if it is a known unsupported key.
pub fn reason(key: &str) -> Option<&'static str> {
    UNSUPPORTED
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, reason)| *reason)
}

/// django-axes's handler classes and the `handler` value that replaces each.
pub const DJANGO_HANDLERS: &[(&str, &str)] = &[
    ("axes.handlers.database.AxesDatabaseHandler", "database"),
    ("axes.handlers.cache.AxesCacheHandler", "cache"),
    ("axes.handlers.dummy.AxesDummyHandler", "dummy"),
    ("axes.handlers.test.AxesTestHandler", "dummy"),
];
