-- 0003 (housekeeping): a sign-in attempt is counted as a failure before its password is
-- checked, in the same transaction as the check of the limits (under an advisory lock per key, so a burst of
-- parallel attempts cannot all pass the check), and taken back when the password was right:
-- each row names the attempt that wrote it. Rows from before have none, and are failures for
-- good.
ALTER TABLE login_failures ADD COLUMN attempt uuid;
CREATE INDEX login_failures_attempt ON login_failures (attempt) WHERE attempt IS NOT NULL;

-- The sweeper deletes guest carts untouched for long (30 days by default): found by age
-- without reading customers' carts.
CREATE INDEX carts_guest_age ON carts (updated_at) WHERE customer_id IS NULL;
