-- Cost that does not grow with the attacker (issue 8): counting one lockout
-- alternative reads only the live records with that alternative's exact
-- values. One index per alternative: its fields, then attempt_time (so that
-- expired records are skipped by the range `attempt_time > threshold`), then
-- failures_since_start (so that the count never reads the row). The full
-- key (all three fields) is served by the unique key, which holds at most
-- one record. The single-column indexes these replace lead the new ones.

ALTER TABLE axes_accessattempt
    DROP INDEX axes_accessattempt_ip_address,
    DROP INDEX axes_accessattempt_user_agent,
    ADD INDEX axes_accessattempt_ip_time (ip_address, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_username_time (username, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ip_username_time
        (ip_address, username, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ua_time (user_agent, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_ip_ua_time
        (ip_address, user_agent, attempt_time, failures_since_start),
    ADD INDEX axes_accessattempt_username_ua_time
        (username, user_agent, attempt_time, failures_since_start);
