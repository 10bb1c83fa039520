-- 0001_accounts.sql: users, login sessions (refresh-token families) and refresh tokens.

CREATE TABLE users (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    email          text        NOT NULL,
    full_name      text        NOT NULL,
    password_hash  text        NOT NULL,
    role           text        NOT NULL DEFAULT 'customer',
    is_active      boolean     NOT NULL DEFAULT true,
    deleted_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lower_check CHECK (email = lower(email)),
    CONSTRAINT users_role_check CHECK (role IN ('customer', 'admin')),
    CONSTRAINT users_full_name_check CHECK (char_length(full_name) BETWEEN 1 AND 100),
    CONSTRAINT users_deleted_inactive_check CHECK (deleted_at IS NULL OR NOT is_active)
);

CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);
CREATE INDEX users_active_admins_idx ON users (id) WHERE role = 'admin' AND is_active;

CREATE TABLE sessions (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash  bytea       NOT NULL,
    session_id  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
