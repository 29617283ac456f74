-- Scopes (axes_core::store, "Scopes"): a record belongs to one counting
-- namespace, and records of two scopes never count together. The default
-- rule counts in the scope ''; existing records get it, so they count as
-- before.
--
-- scope: at most 128 characters (MAX_SCOPE_CHARS), kept exactly (a longer
-- one is refused, never cut). The unique key and the six per-alternative
-- count indexes of migration 0003 gain it after the alternative's fields
-- (fields, scope, attempt_time): a count is still one index range (values
-- and scope equal, attempt_time above the window's start), on a covering
-- index.
-- The scope does not lead: a reset or a listing filtered by ip_address
-- alone or username alone (all scopes) still reads an index that leads
-- with that column (ip_time, username_time and the others that start
-- alike).
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
    CONSTRAINT axes_accessattempt_key UNIQUE (username, ip_address, user_agent, scope)
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
    ON axes_accessattempt (ip_address, scope, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_username_time
    ON axes_accessattempt (username, scope, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_ip_username_time
    ON axes_accessattempt (ip_address, username, scope, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_ua_time
    ON axes_accessattempt (user_agent, scope, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_ip_ua_time
    ON axes_accessattempt (ip_address, user_agent, scope, attempt_time, failures_since_start);
CREATE INDEX axes_accessattempt_username_ua_time
    ON axes_accessattempt (username, user_agent, scope, attempt_time, failures_since_start);
