-- Scopes (axes_core::store, "Scopes"): a record belongs to one counting
-- namespace, and records of two scopes never count together. The default
-- rule counts in the scope ''; existing records get it, so they count as
-- before.
--
-- scope: at most 128 characters (MAX_SCOPE_CHARS), kept exactly (a longer
-- one is refused, never cut). The unique key and the six per-alternative
-- count indexes of migration 0003 gain it after the alternative's fields
-- (fields, scope, attempt_time): a count is still one index range (values
-- and scope equal, attempt_time above the window's start), index-only.
-- The scope does not lead: a reset or a listing filtered by ip_address
-- alone or username alone (all scopes) still reads an index that leads
-- with that column (ip_time, username_time and the others that start
-- alike).

ALTER TABLE axes_accessattempt ADD COLUMN scope VARCHAR(128) NOT NULL DEFAULT '';
ALTER TABLE axes_accessattempt DROP CONSTRAINT axes_accessattempt_key;
ALTER TABLE axes_accessattempt
    ADD CONSTRAINT axes_accessattempt_key UNIQUE (username, ip_address, user_agent, scope);

DROP INDEX axes_accessattempt_ip_time;
DROP INDEX axes_accessattempt_username_time;
DROP INDEX axes_accessattempt_ip_username_time;
DROP INDEX axes_accessattempt_ua_time;
DROP INDEX axes_accessattempt_ip_ua_time;
DROP INDEX axes_accessattempt_username_ua_time;
CREATE INDEX axes_accessattempt_ip_time
    ON axes_accessattempt (ip_address, scope, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_username_time
    ON axes_accessattempt (username, scope, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ip_username_time
    ON axes_accessattempt (ip_address, username, scope, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ua_time
    ON axes_accessattempt (user_agent, scope, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ip_ua_time
    ON axes_accessattempt (ip_address, user_agent, scope, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_username_ua_time
    ON axes_accessattempt (username, user_agent, scope, attempt_time) INCLUDE (failures_since_start);
