-- 0008 (housekeeping): a sign-in attempt is counted as a failure before its password is
-- checked, in the same step as the check of the limits (so a burst of parallel attempts
-- cannot all pass the check), and taken back when the password was right: each row names the attempt that wrote it.
-- Rows from before have none, and are failures for good.
ALTER TABLE login_failures ADD COLUMN attempt TEXT;
CREATE INDEX login_failures_attempt ON login_failures (attempt) WHERE attempt IS NOT NULL;

-- The sweeper deletes guest carts untouched for long (30 days by default): found by age
-- without reading customers' carts.
CREATE INDEX carts_guest_age ON carts (updated_at) WHERE customer_id IS NULL;
