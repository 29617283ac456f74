-- Scopes (axes_core::store, "Scopes"): a record belongs to one counting
-- namespace, and records of two scopes never count together. The default
-- rule counts in the scope ''; existing records get it, so they count as
-- before.
--
-- scope: at most 128 characters (MAX_SCOPE_CHARS), kept exactly (a longer
-- one is refused, never cut). The unique key and the six per-alternative
-- count indexes of migration 0003 gain it as their leading column: a count
-- is still one index range (scope and values equal, attempt_time above the
-- window's start), index-only.

ALTER TABLE axes_accessattempt ADD COLUMN scope VARCHAR(128) NOT NULL DEFAULT '';
ALTER TABLE axes_accessattempt DROP CONSTRAINT axes_accessattempt_key;
ALTER TABLE axes_accessattempt
    ADD CONSTRAINT axes_accessattempt_key UNIQUE (scope, username, ip_address, user_agent);

DROP INDEX axes_accessattempt_ip_time;
DROP INDEX axes_accessattempt_username_time;
DROP INDEX axes_accessattempt_ip_username_time;
DROP INDEX axes_accessattempt_ua_time;
DROP INDEX axes_accessattempt_ip_ua_time;
DROP INDEX axes_accessattempt_username_ua_time;
CREATE INDEX axes_accessattempt_ip_time
    ON axes_accessattempt (scope, ip_address, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_username_time
    ON axes_accessattempt (scope, username, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ip_username_time
    ON axes_accessattempt (scope, ip_address, username, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ua_time
    ON axes_accessattempt (scope, user_agent, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ip_ua_time
    ON axes_accessattempt (scope, ip_address, user_agent, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_username_ua_time
    ON axes_accessattempt (scope, username, user_agent, attempt_time) INCLUDE (failures_since_start);
