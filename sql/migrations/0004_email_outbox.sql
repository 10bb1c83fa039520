-- 0004_email_outbox.sql: verified emails, single-use email tokens, and the transactional outbox of
-- the mail a change causes (docs/design.md, Email and the outbox).

ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- Verification and password-reset tokens: only their SHA-256 is stored. `email` is the address the
-- token was sent to: a verification token confirms that address, never one set after it.
CREATE TABLE email_tokens (
    token_hash  bytea       NOT NULL,
    user_id     uuid        NOT NULL,
    purpose     text        NOT NULL,
    email       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT email_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT email_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT email_tokens_purpose_check CHECK (purpose IN ('verify_email', 'reset_password')),
    CONSTRAINT email_tokens_hash_length_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT email_tokens_expiry_check CHECK (expires_at > created_at)
);

CREATE INDEX email_tokens_live_idx ON email_tokens (user_id, purpose) WHERE used_at IS NULL;
CREATE INDEX email_tokens_expires_at_idx ON email_tokens (expires_at);

-- One row per message to send, written in the transaction of the change that causes it. Pending
-- rows (neither sent nor failed) are delivered once `due_at` has passed; a claim pushes `due_at`
-- past the send's deadline, so a worker that dies mid-send leaves the row due again later.
CREATE TABLE outbox (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    kind        text        NOT NULL,
    recipient   text        NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    due_at      timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    sent_at     timestamptz,
    failed_at   timestamptz,
    CONSTRAINT outbox_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_kind_check CHECK (kind ~ '^[a-z][a-z_]{0,39}$'),
    CONSTRAINT outbox_recipient_check CHECK (char_length(recipient) BETWEEN 3 AND 254),
    CONSTRAINT outbox_attempts_check CHECK (attempts >= 0),
    CONSTRAINT outbox_payload_check CHECK (jsonb_typeof(payload) = 'object'),
    CONSTRAINT outbox_one_outcome_check CHECK (sent_at IS NULL OR failed_at IS NULL)
);

CREATE INDEX outbox_due_idx ON outbox (due_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_failed_at_idx ON outbox (failed_at) WHERE failed_at IS NOT NULL;

-- Every new message wakes the delivery loops at commit (NOTIFY is transactional; PostgreSQL folds
-- the notifications of one transaction into one).
CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('storefront_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify_trigger
AFTER INSERT ON outbox
FOR EACH ROW EXECUTE FUNCTION outbox_notify();
