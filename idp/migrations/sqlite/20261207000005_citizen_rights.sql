-- A citizen may suspend all processing of their account (no logins to services, no
-- releases) and resume it. Keep in step with ../postgres.

ALTER TABLE citizens ADD COLUMN suspended_at INTEGER;
