-- 0006_read_cache_invalidation.sql: every write that can change a value a worker keeps in its read
-- cache publishes that value's key on the channel `storefront_cache`, from a trigger, so the
-- invalidation is part of the write's transaction: sent at its commit, never for a rolled-back
-- write, never lost between a commit and a publish (storefront/platform/readcache.py).
--
-- Keys (the text published): `item:<id>` (an item's body and ETag), `catalog` (the popular list:
-- an item added, removed, or shown differently), `session:<id>` (a session's caller), `user:<id>`
-- (every cached session of that account: its role, state, email or name changed), `*` (everything:
-- a TRUNCATE, which fires no row trigger). Notifications with the same text in one transaction
-- reach listeners once.

CREATE FUNCTION read_cache_item_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_id uuid := CASE TG_OP WHEN 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
    PERFORM pg_notify('storefront_cache', 'item:' || row_id::text);
    IF TG_OP <> 'UPDATE'
       OR (OLD.sku, OLD.name, OLD.description, OLD.price_cents, OLD.deleted_at)
          IS DISTINCT FROM (NEW.sku, NEW.name, NEW.description, NEW.price_cents, NEW.deleted_at) THEN
        PERFORM pg_notify('storefront_cache', 'catalog');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER items_read_cache AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION read_cache_item_changed();

CREATE FUNCTION read_cache_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0]: the key's kind (`session`, `user`); the row's `id` is the rest of the key.
    PERFORM pg_notify('storefront_cache', TG_ARGV[0] || ':' || OLD.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_read_cache AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION read_cache_row_changed('session');

CREATE TRIGGER users_read_cache AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION read_cache_row_changed('user');

CREATE FUNCTION read_cache_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('storefront_cache', '*');
    RETURN NULL;
END;
$$;

CREATE TRIGGER items_read_cache_truncate AFTER TRUNCATE ON items
    FOR EACH STATEMENT EXECUTE FUNCTION read_cache_truncated();

CREATE TRIGGER sessions_read_cache_truncate AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION read_cache_truncated();

CREATE TRIGGER users_read_cache_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION read_cache_truncated();
