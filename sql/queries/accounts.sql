-- Accounts: users, sessions, refresh tokens. Every block runs as-is in psql with $n filled in.

-- name: register
-- One statement whether or not the email $1 is taken (the same work and time either way): creates
-- the customer ($2 name, $3 hash) with a verification token ($4 hash, alive $5 s) and queues the
-- welcome carrying its nonce ($6), or, when an active account has the email, queues the notice for
-- its owner instead; neither when $7 is false (the address's mail budget is spent: the account is
-- still created, and its owner can ask for a new link). The only place registration mail is
-- queued; returns the message's kind.
WITH created AS (
    INSERT INTO users (email, full_name, password_hash, role)
    VALUES ($1, $2, $3, 'customer')
    ON CONFLICT ON CONSTRAINT users_email_key DO NOTHING
    RETURNING id, email
),
token AS (
    INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at)
    SELECT $4, id, 'verify_email', email, now() + make_interval(secs => $5)
    FROM created
)
INSERT INTO outbox (kind, recipient, payload)
SELECT 'welcome', email, jsonb_build_object('nonce', $6::text)
FROM created
WHERE $7::boolean
UNION ALL
SELECT 'account_exists', email, '{}'::jsonb
FROM users
WHERE $7::boolean AND email = $1 AND is_active AND deleted_at IS NULL AND NOT EXISTS (SELECT FROM created)
RETURNING kind;

-- name: get_user
SELECT id, email, email_verified, full_name, role, is_active, created_at, updated_at
FROM users
WHERE id = $1 AND deleted_at IS NULL;

-- name: get_credentials
SELECT id, password_hash, is_active
FROM users
WHERE email = $1 AND deleted_at IS NULL;

-- name: get_password_hash
SELECT password_hash
FROM users
WHERE id = $1;

-- name: set_password_hash
UPDATE users
SET password_hash = $2, updated_at = now()
WHERE id = $1;

-- name: authenticate_session
-- The per-request token check: one indexed lookup that also yields the caller.
SELECT u.id, u.email, u.email_verified, u.full_name, u.role, u.is_active, u.created_at, u.updated_at
FROM sessions AS s
JOIN users AS u ON u.id = s.user_id
WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
  AND u.is_active AND u.deleted_at IS NULL;

-- name: insert_session
INSERT INTO sessions (user_id)
VALUES ($1)
RETURNING id;

-- name: insert_refresh_token
-- Alive $3 s, but never past the end of its session ($2), $4 s after the session began; returns that end.
WITH session AS (
    SELECT id, created_at + make_interval(secs => $4) AS ends_at
    FROM sessions
    WHERE id = $2
),
token AS (
    INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
    SELECT $1, id, least(now() + make_interval(secs => $3), ends_at)
    FROM session
)
SELECT ends_at
FROM session;

-- name: rotate_refresh_token
-- Marks the presented token used; returns its session only if it was live, unused and unexpired,
-- and the session began less than $2 s ago.
UPDATE refresh_tokens AS t
SET rotated_at = now()
FROM sessions AS s, users AS u
WHERE t.token_hash = $1 AND t.rotated_at IS NULL AND t.expires_at > now()
  AND s.id = t.session_id AND s.revoked_at IS NULL AND s.created_at > now() - make_interval(secs => $2)
  AND u.id = s.user_id AND u.is_active AND u.deleted_at IS NULL
RETURNING s.id AS session_id, u.id AS user_id;

-- name: find_refresh_token
SELECT t.session_id, t.rotated_at, s.user_id
FROM refresh_tokens AS t
JOIN sessions AS s ON s.id = t.session_id
WHERE t.token_hash = $1;

-- name: revoke_session
UPDATE sessions
SET revoked_at = now()
WHERE id = $1 AND revoked_at IS NULL;

-- name: revoke_other_sessions
UPDATE sessions
SET revoked_at = now()
WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL;

-- name: revoke_user_sessions
UPDATE sessions
SET revoked_at = now()
WHERE user_id = $1 AND revoked_at IS NULL;

-- name: update_profile
-- A new email is unverified until its link is used; `old_email` is the address before the change,
-- `old_verified` whether it was verified.
UPDATE users AS u
SET full_name = coalesce($2, u.full_name),
    email = coalesce($3, u.email),
    email_verified = u.email_verified AND coalesce($3, u.email) = u.email,
    updated_at = now()
FROM (SELECT email AS old_email, email_verified AS old_verified FROM users WHERE id = $1) AS before
WHERE u.id = $1 AND u.deleted_at IS NULL
RETURNING u.id, u.email, u.email_verified, u.full_name, u.role, u.is_active, u.created_at, u.updated_at,
          before.old_email, before.old_verified;

-- name: admin_update_user
UPDATE users
SET full_name = coalesce($2, full_name),
    role = coalesce($3, role),
    is_active = coalesce($4, is_active),
    updated_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING id, email, email_verified, full_name, role, is_active, created_at, updated_at;

-- name: soft_delete_user
UPDATE users
SET is_active = false, deleted_at = now(), updated_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING id;

-- name: lock_active_admins
-- Serialises every change that could remove the last active admin.
SELECT id
FROM users
WHERE role = 'admin' AND is_active AND deleted_at IS NULL
ORDER BY id
FOR UPDATE;

-- name: get_user_for_update
SELECT id, role, is_active
FROM users
WHERE id = $1 AND deleted_at IS NULL
FOR UPDATE;

-- name: list_users
-- Keyset page, newest first; NULL filters are ignored. $4/$5 are the cursor (created_at, id).
SELECT id, email, email_verified, full_name, role, is_active, created_at, updated_at
FROM users
WHERE deleted_at IS NULL
  AND ($1::text IS NULL OR email ILIKE '%' || $1 || '%' OR full_name ILIKE '%' || $1 || '%')
  AND ($2::text IS NULL OR role = $2)
  AND ($3::boolean IS NULL OR is_active = $3)
  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $6;

-- name: insert_admin
-- create-admin / FIRST_ADMIN_*: a new admin, or no row when any account (a deleted one too) has the email.
INSERT INTO users (email, full_name, password_hash, role)
VALUES ($1, $2, $3, 'admin')
ON CONFLICT ON CONSTRAINT users_email_key DO NOTHING
RETURNING id;

-- name: get_account_by_email
-- The account with this email in any state (deleted ones included), for the admin bootstrap.
SELECT id, role, is_active, email_verified, deleted_at IS NOT NULL AS deleted
FROM users
WHERE email = $1;

-- name: promote_to_admin
-- `create-admin --promote`: only an active, undeleted account whose email its owner verified.
UPDATE users
SET role = 'admin', updated_at = now()
WHERE id = $1 AND email_verified AND is_active AND deleted_at IS NULL
RETURNING id;

-- name: insert_email_token
-- Stores the hash of a verification ($3 = 'verify_email') or reset token sent to $4, alive $5 s.
INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5));

-- name: retire_email_tokens
-- Ends every live token of one purpose of a user (a newer one supersedes them, or they were used).
UPDATE email_tokens
SET used_at = now()
WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL;

-- name: find_email_token
-- A live token of the purpose: unused, unexpired, its account active (and the account's address and name).
SELECT t.user_id, t.email, u.email AS account_email, u.full_name
FROM email_tokens AS t
JOIN users AS u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
  AND u.is_active AND u.deleted_at IS NULL;

-- name: use_email_token
-- Spends a live token once: of concurrent uses exactly one gets the row.
UPDATE email_tokens AS t
SET used_at = now()
FROM users AS u
WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
  AND u.id = t.user_id AND u.is_active AND u.deleted_at IS NULL
RETURNING t.user_id, t.email;

-- name: mark_email_verified
-- Verifies the address the token was sent to, and only while it is still the account's address.
UPDATE users
SET email_verified = true, updated_at = now()
WHERE id = $1 AND email = $2 AND deleted_at IS NULL
RETURNING id;

-- name: reset_password
-- The password set from a reset link; the link proves the address too, if it is still the account's.
UPDATE users
SET password_hash = $2,
    email_verified = email_verified OR email = $3,
    updated_at = now()
WHERE id = $1 AND is_active AND deleted_at IS NULL
RETURNING email, full_name;

-- name: request_password_reset
-- One statement whether or not an active account has the email $1 (the same work and time either
-- way): retires the account's live reset tokens (purpose $5), stores the new one's hash ($2, alive
-- $3 s) and queues the message (kind $6) carrying its nonce ($4), and the owner's name only once
-- the address is verified (until then it is text whoever registered the address chose). Returns
-- the message id, or no row.
WITH target AS (
    SELECT id, email, CASE WHEN email_verified THEN full_name END AS name
    FROM users
    WHERE email = $1 AND is_active AND deleted_at IS NULL
),
retired AS (
    UPDATE email_tokens
    SET used_at = now()
    WHERE user_id IN (SELECT id FROM target) AND purpose = $5 AND used_at IS NULL
),
token AS (
    INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at)
    SELECT $2, id, $5, email, now() + make_interval(secs => $3)
    FROM target
)
INSERT INTO outbox (kind, recipient, payload)
SELECT $6::text, email, jsonb_build_object('name', name, 'nonce', $4::text)
FROM target
RETURNING id;

-- name: queue_account_notice
-- Queues a message of kind $2 (no payload) to the active account with the email $1, if there is
-- one: one statement either way (the same work and time). Returns the message id, or no row.
INSERT INTO outbox (kind, recipient, payload)
SELECT $2, email, '{}'::jsonb
FROM users
WHERE email = $1 AND is_active AND deleted_at IS NULL
RETURNING id;

-- name: purge_email_tokens
-- Deletes up to $1 tokens that expired more than a day ago.
DELETE FROM email_tokens
WHERE token_hash IN (
    SELECT token_hash
    FROM email_tokens
    WHERE expires_at < now() - interval '1 day'
    LIMIT $1
    FOR UPDATE SKIP LOCKED
);
