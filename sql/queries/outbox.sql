-- The outbox (docs/design.md#email-and-the-outbox): messages written with the change that causes
-- them, delivered at least once by the delivery loop of any worker. Every block runs as-is in psql with $n filled in.

-- name: enqueue
INSERT INTO outbox (kind, recipient, payload)
VALUES ($1, $2, $3::jsonb)
RETURNING id;

-- name: claim_due
-- Takes up to $1 due messages no other worker holds and leases them for $2 seconds: each counts an
-- attempt and is not due again until the lease ends, so a crash mid-send means a later resend.
WITH due AS (
    SELECT id
    FROM outbox
    WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= now()
    ORDER BY due_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox AS o
SET attempts = o.attempts + 1,
    due_at = now() + make_interval(secs => $2)
FROM due
WHERE o.id = due.id
RETURNING o.id, o.kind, o.recipient, o.payload, o.attempts, o.created_at, o.trace_parent;

-- name: mark_sent
UPDATE outbox
SET sent_at = now(), last_error = NULL
WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL;

-- name: retry_later
-- $2 seconds from now, or at once (0) for a message the lease ran out on before its turn.
UPDATE outbox
SET due_at = now() + make_interval(secs => $2), last_error = $3
WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL;

-- name: mark_failed
UPDATE outbox
SET failed_at = now(), last_error = $2
WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL;

-- name: pending_stats
-- Messages neither sent nor failed: how many, the oldest one's age, and the seconds until the next
-- one is due (0 when one is due now; NULL when none is pending: `greatest` ignores NULL, so the CASE
-- keeps an empty outbox from reading as "due now").
SELECT count(*) AS pending,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age_seconds,
       CASE WHEN min(due_at) IS NOT NULL
            THEN greatest(0, extract(epoch FROM min(due_at) - now()))::float8
       END AS next_due_in
FROM outbox
WHERE sent_at IS NULL AND failed_at IS NULL;

-- name: purge
-- Deletes up to $1 messages sent more than $2 days ago, or failed more than $3 days ago.
DELETE FROM outbox
WHERE id IN (
    SELECT id
    FROM outbox
    WHERE sent_at < now() - make_interval(days => $2)
       OR failed_at < now() - make_interval(days => $3)
    LIMIT $1
    FOR UPDATE SKIP LOCKED
);
