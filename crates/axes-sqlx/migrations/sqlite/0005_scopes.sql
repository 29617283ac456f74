-- Scopes (axes_core::store, "Scopes"): a record belongs to one counting
-- namespace, and records of two scopes never count together. The default
-- rule counts in the scope ''; existing records get it, so they count as
-- before.
--
-- scope: at most 128 characters (MAX_SCOPE_CHARS), kept exactly (a longer
-- one is refused, never cut). The unique key and the six per-alternative
-- count indexes of migration 0003 gain it as their leading column: a count
-- is still one index range (scope and values equal, attempt_time above the
-- window's start), on a covering index.
--
-- SQLite cannot change a table's constraints: the table is made again with
-- every column and row (ids kept, and the id sequence, so that ids are
-- still never reused), and its indexes with it. The migration runs in one
-- transaction.

CREATE TABLE axes_accessattempt_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL DEFAULT '',
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    get_data VARCHAR(1024) NOT NULL DEFAULT '',
    post_data VARCHAR(1024) NOT NULL DEFAULT '',
    failures_since_start INTEGER NOT NULL DEFAULT 0 CHECK (failures_since_start >= 0),
    attempt_time INTEGER NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0),
    failure_serial INTEGER NOT NULL DEFAULT 0 CHECK (failure_serial >= 0),
    CONSTRAINT axes_accessattempt_key UNIQUE (scope, username, ip_address, user_agent)
);

INSERT INTO axes_accessattempt_new
    (id, scope, username, ip_address, user_agent, http_accept, path_info, get_data, post_data,
     failures_since_start, attempt_time, generation, failure_serial)
SELECT id, '', username, ip_address, user_agent, http_accept, path_info, get_data, post_data,
    failures_since_start, attempt_time, generation, failure_serial
FROM axes_accessattempt;

DELETE FROM sqlite_sequence WHERE name = 'axes_accessattempt_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'axes_accessattempt_new', seq FROM sqlite_sequence WHERE name = 'axes_accessattempt';

DROP TABLE axes_accessattempt;
ALTER TABLE axes_accessattempt_new RENAME TO axes_accessattempt;

CREATE INDEX axes_accessattempt_attempt_time ON axes_accessattempt (attempt_time);
CREATE INDEX axes_accessattempt_ip_time
    ON axes_accessattempt (scope, ip_address, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_username_time
    ON axes_accessattempt (scope, username, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_ip_username_time
    ON axes_accessattempt (scope, ip_address, username, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_ua_time
    ON axes_accessattempt (scope, user_agent, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_ip_ua_time
    ON axes_accessattempt (scope, ip_address, user_agent, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_username_ua_time
    ON axes_accessattempt (scope, username, user_agent, attempt_time, failures_since_start);
