-- 0005_reset_password_kind.sql: the outbox kind of the password-reset link is `reset_password`,
-- the name its token's purpose already has (one name for one thing), no longer `password_reset`.

-- Every row, queued or done, so the data knows one name. A worker of the previous version may
-- still queue the old name while a rolling deploy runs; delivery renders it as the new one
-- (`FORMER_KINDS` in accounts/emails.py) until no such worker is left. The other way round is the
-- one gap: a worker of the previous version that claims a renamed row cannot render it and, before
-- `UnknownKind` (platform/outbox.py) existed, failed it at once. Deploy this release with the
-- previous version's workers stopped, or accept that a reset link queued during the overlap may
-- need asking for again; kinds added later wait for a worker that knows them.
UPDATE outbox SET kind = 'reset_password' WHERE kind = 'password_reset';
