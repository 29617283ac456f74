-- Cost that does not grow with the attacker (issue 8): counting one lockout
-- alternative reads only the live records with that alternative's exact
-- values. One index per alternative: its fields, then attempt_time (so that
-- expired records are skipped by the range `attempt_time > threshold`),
-- including failures_since_start (an index-only scan). The full key (all
-- three fields) is served by the unique key, which holds at most one
-- record. The single-column indexes these replace lead the new ones.

DROP INDEX axes_accessattempt_ip_address;
DROP INDEX axes_accessattempt_user_agent;
CREATE INDEX axes_accessattempt_ip_time
    ON axes_accessattempt (ip_address, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_username_time
    ON axes_accessattempt (username, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ip_username_time
    ON axes_accessattempt (ip_address, username, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ua_time
    ON axes_accessattempt (user_agent, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_ip_ua_time
    ON axes_accessattempt (ip_address, user_agent, attempt_time) INCLUDE (failures_since_start);
CREATE INDEX axes_accessattempt_username_ua_time
    ON axes_accessattempt (username, user_agent, attempt_time) INCLUDE (failures_since_start);
