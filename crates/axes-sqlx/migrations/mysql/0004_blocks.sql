-- Blocks (manual blocks and lockout history): refusals that do not come
-- from counting failures. See axes_core::blocks.
--
-- ip_address, username, user_agent: the target's fields, NULL where a field
-- is not part of the target (at least one is set). target_key encodes all
-- three unambiguously (absent and '' differ) so that the unique key works
-- with the NULLs; the look-up of an attempt's candidate targets reads it.
-- The key is at most 600 characters: (kind, target_key) is 2,464 bytes in
-- utf8mb4, within InnoDB's 3,072-byte key limit. until: NULL = until
-- removed (quoted: a keyword in some versions).

CREATE TABLE axes_blocks (
    id BIGINT NOT NULL AUTO_INCREMENT,
    kind VARCHAR(16) NOT NULL,
    target_key VARCHAR(600) NOT NULL,
    ip_address VARCHAR(64) NULL,
    username VARCHAR(255) NULL,
    user_agent VARCHAR(255) NULL,
    `until` DATETIME(6) NULL,
    created_at DATETIME(6) NOT NULL,
    created_by VARCHAR(255) NOT NULL DEFAULT '',
    lockouts BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY axes_blocks_key (kind, target_key),
    KEY axes_blocks_created_at (created_at),
    CONSTRAINT axes_blocks_kind CHECK (kind IN ('manual', 'lockout')),
    CONSTRAINT axes_blocks_lockouts CHECK (lockouts >= 0),
    CONSTRAINT axes_blocks_target CHECK
        (ip_address IS NOT NULL OR username IS NOT NULL OR user_agent IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
