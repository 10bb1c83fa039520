-- 0002_catalog_orders.sql: the catalog (items), orders with their lines, and idempotency keys.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- `version` is bumped by every write that touches a row (admin edits, orders, cancels, delete);
-- the item's strong ETag is derived from it.
CREATE TABLE items (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    sku          text        NOT NULL,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    price_cents  bigint      NOT NULL,
    stock        bigint      NOT NULL,
    version      bigint      NOT NULL DEFAULT 1,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT items_pkey PRIMARY KEY (id),
    CONSTRAINT items_sku_key UNIQUE (sku),
    CONSTRAINT items_sku_check CHECK (char_length(sku) BETWEEN 1 AND 64),
    CONSTRAINT items_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT items_description_check CHECK (char_length(description) <= 5000),
    CONSTRAINT items_price_cents_check CHECK (price_cents >= 0),
    CONSTRAINT items_stock_check CHECK (stock >= 0),
    CONSTRAINT items_version_check CHECK (version >= 1)
);

-- Catalog pages walk this index newest first; `q` searches use the trigram index.
CREATE INDEX items_created_at_id_idx ON items (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX items_name_trgm_idx ON items USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;

CREATE TABLE orders (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    status       text        NOT NULL DEFAULT 'placed',
    total_cents  bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT orders_status_check CHECK (status IN ('placed', 'cancelled')),
    CONSTRAINT orders_total_cents_check CHECK (total_cents >= 0)
);

CREATE INDEX orders_created_at_id_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_user_id_created_at_id_idx ON orders (user_id, created_at DESC, id DESC);
-- `/items/popular` and the stats read placed orders only.
CREATE INDEX orders_placed_created_at_idx ON orders (created_at) WHERE status = 'placed';

-- Lines copy the item's sku, name and unit price at order time; `line_no` keeps the request's order.
CREATE TABLE order_lines (
    order_id          uuid     NOT NULL,
    line_no           smallint NOT NULL,
    item_id           uuid     NOT NULL,
    sku               text     NOT NULL,
    name              text     NOT NULL,
    quantity          integer  NOT NULL,
    unit_price_cents  bigint   NOT NULL,
    CONSTRAINT order_lines_pkey PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_lines_order_id_item_id_key UNIQUE (order_id, item_id),
    CONSTRAINT order_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
    CONSTRAINT order_lines_item_id_fkey FOREIGN KEY (item_id) REFERENCES items (id),
    CONSTRAINT order_lines_line_no_check CHECK (line_no BETWEEN 1 AND 50),
    CONSTRAINT order_lines_quantity_check CHECK (quantity BETWEEN 1 AND 1000),
    CONSTRAINT order_lines_unit_price_cents_check CHECK (unit_price_cents >= 0)
);

CREATE INDEX order_lines_item_id_idx ON order_lines (item_id);

-- One row per (user, Idempotency-Key), written in the same transaction as the work it records, so a
-- row always holds a complete response. "Still running" is a transaction-scoped advisory lock.
CREATE TABLE idempotency_keys (
    user_id        uuid        NOT NULL,
    key            text        NOT NULL,
    request_hash   bytea       NOT NULL,
    status_code    smallint,
    media_type     text,
    body           bytea,
    location       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 255)
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
