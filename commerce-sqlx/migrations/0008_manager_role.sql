-- 0008 (manager_role): users may be managers.
ALTER TABLE users DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('customer', 'vendor', 'manager', 'admin'));
