-- The count indexes of the alternatives of two fields and of the user agent
-- are made on demand, when an alternative using one is first counted (see
-- `SqliteStore`): each index is one more page written per failure, and most
-- deployments count by address, username or both. The address and username
-- indexes stay: the admin's filters read them.
DROP INDEX IF EXISTS axes_accessattempt_ip_username_time;
DROP INDEX IF EXISTS axes_accessattempt_ua_time;
DROP INDEX IF EXISTS axes_accessattempt_ip_ua_time;
DROP INDEX IF EXISTS axes_accessattempt_username_ua_time;
