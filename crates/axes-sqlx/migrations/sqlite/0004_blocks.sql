-- Blocks (manual blocks and lockout history): refusals that do not come
-- from counting failures. See axes_core::blocks.
--
-- ip_address, username, user_agent: the target's fields, NULL where a field
-- is not part of the target (at least one is set). target_key encodes all
-- three unambiguously (absent and '' differ) so that the unique key works
-- with the NULLs; the look-up of an attempt's candidate targets reads it.
-- until: NULL = until removed. Times are INTEGER unix microseconds (UTC).

CREATE TABLE axes_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind VARCHAR(16) NOT NULL CHECK (kind IN ('manual', 'lockout')),
    target_key VARCHAR(600) NOT NULL,
    ip_address VARCHAR(64) NULL,
    username VARCHAR(255) NULL,
    user_agent VARCHAR(255) NULL,
    until INTEGER NULL,
    created_at INTEGER NOT NULL,
    created_by VARCHAR(255) NOT NULL DEFAULT '',
    lockouts INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    CHECK (ip_address IS NOT NULL OR username IS NOT NULL OR user_agent IS NOT NULL)
);
CREATE UNIQUE INDEX axes_blocks_key ON axes_blocks (kind, target_key);
CREATE INDEX axes_blocks_created_at ON axes_blocks (created_at);
