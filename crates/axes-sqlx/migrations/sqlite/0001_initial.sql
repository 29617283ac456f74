-- axes schema, SQLite dialect.
--
-- Times are INTEGER unix microseconds (UTC): fixed-width numbers that compare
-- correctly. An absent username or IP address is stored as '' so that the
-- unique key on (username, ip_address, user_agent) treats it as one value
-- (SQL unique constraints treat NULLs as distinct).

CREATE TABLE axes_accessattempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    get_data VARCHAR(1024) NOT NULL DEFAULT '',
    post_data VARCHAR(1024) NOT NULL DEFAULT '',
    failures_since_start INTEGER NOT NULL DEFAULT 0 CHECK (failures_since_start >= 0),
    attempt_time INTEGER NOT NULL,
    CONSTRAINT axes_accessattempt_key UNIQUE (username, ip_address, user_agent)
);
-- The unique key's leading column serves look-ups by username.
CREATE INDEX axes_accessattempt_ip_address ON axes_accessattempt (ip_address);
CREATE INDEX axes_accessattempt_user_agent ON axes_accessattempt (user_agent);
CREATE INDEX axes_accessattempt_attempt_time ON axes_accessattempt (attempt_time);

CREATE TABLE axes_accesslog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    attempt_time INTEGER NOT NULL,
    logout_time INTEGER NULL,
    session_hash VARCHAR(64) NOT NULL DEFAULT ''
);
CREATE INDEX axes_accesslog_username ON axes_accesslog (username);
CREATE INDEX axes_accesslog_ip_address ON axes_accesslog (ip_address);
CREATE INDEX axes_accesslog_user_agent ON axes_accesslog (user_agent);
CREATE INDEX axes_accesslog_attempt_time ON axes_accesslog (attempt_time);

CREATE TABLE axes_accessfailurelog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    attempt_time INTEGER NOT NULL,
    locked_out BOOLEAN NOT NULL DEFAULT 0
);
-- (username, id): the per-username cap deletes the oldest rows by id.
CREATE INDEX axes_accessfailurelog_username ON axes_accessfailurelog (username, id);
CREATE INDEX axes_accessfailurelog_ip_address ON axes_accessfailurelog (ip_address);
CREATE INDEX axes_accessfailurelog_user_agent ON axes_accessfailurelog (user_agent);
CREATE INDEX axes_accessfailurelog_attempt_time ON axes_accessfailurelog (attempt_time);
