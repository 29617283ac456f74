-- axes schema, MySQL / MariaDB dialect.
--
-- Times are DATETIME(6) in UTC (the connection's time_zone is +00:00). An
-- absent username or IP address is stored as '' so that the unique key on
-- (username, ip_address, user_agent) treats it as one value (SQL unique
-- constraints treat NULLs as distinct). Text compares byte-wise
-- (utf8mb4_bin), as on the other stores. No IF NOT EXISTS: tables of the same
-- name from another application (django-axes itself) must fail loudly.

CREATE TABLE axes_accessattempt (
    id BIGINT NOT NULL AUTO_INCREMENT,
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    get_data VARCHAR(1024) NOT NULL DEFAULT '',
    post_data VARCHAR(1024) NOT NULL DEFAULT '',
    failures_since_start INT NOT NULL DEFAULT 0,
    attempt_time DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- The unique key's leading column serves look-ups by username.
    UNIQUE KEY axes_accessattempt_key (username, ip_address, user_agent),
    KEY axes_accessattempt_ip_address (ip_address),
    KEY axes_accessattempt_user_agent (user_agent),
    KEY axes_accessattempt_attempt_time (attempt_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE axes_accesslog (
    id BIGINT NOT NULL AUTO_INCREMENT,
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    attempt_time DATETIME(6) NOT NULL,
    logout_time DATETIME(6) NULL,
    session_hash VARCHAR(64) NOT NULL DEFAULT '',
    PRIMARY KEY (id),
    KEY axes_accesslog_username (username),
    KEY axes_accesslog_ip_address (ip_address),
    KEY axes_accesslog_user_agent (user_agent),
    KEY axes_accesslog_attempt_time (attempt_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE axes_accessfailurelog (
    id BIGINT NOT NULL AUTO_INCREMENT,
    username VARCHAR(255) NOT NULL DEFAULT '',
    ip_address VARCHAR(64) NOT NULL DEFAULT '',
    user_agent VARCHAR(255) NOT NULL DEFAULT '',
    http_accept VARCHAR(1025) NOT NULL DEFAULT '',
    path_info VARCHAR(255) NOT NULL DEFAULT '',
    attempt_time DATETIME(6) NOT NULL,
    locked_out BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id),
    -- InnoDB secondary keys end with the primary key: (username, id).
    KEY axes_accessfailurelog_username (username),
    KEY axes_accessfailurelog_ip_address (ip_address),
    KEY axes_accessfailurelog_user_agent (user_agent),
    KEY axes_accessfailurelog_attempt_time (attempt_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
