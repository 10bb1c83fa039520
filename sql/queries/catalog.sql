-- Catalog: items. Every block runs as-is in psql with $n filled in.
-- Item rows are always (id, sku, name, description, price_cents, stock, created_at, updated_at, version).
-- Keyset cursors: a NULL cursor reads from the top ('infinity', the greatest uuid), so the row
-- comparison stays an index condition for the first page and every later one.

-- name: insert_item
INSERT INTO items (sku, name, description, price_cents, stock)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, sku, name, description, price_cents, stock, created_at, updated_at, version;

-- name: get_item
SELECT id, sku, name, description, price_cents, stock, created_at, updated_at, version
FROM items
WHERE id = $1 AND deleted_at IS NULL;

-- name: get_item_version
SELECT version
FROM items
WHERE id = $1 AND deleted_at IS NULL;

-- name: update_item
-- NULL leaves a column as it is. $7 is the If-Match list of versions (NULL: unconditional).
UPDATE items
SET sku = coalesce($2, sku),
    name = coalesce($3, name),
    description = coalesce($4, description),
    price_cents = coalesce($5, price_cents),
    stock = coalesce($6, stock),
    version = version + 1,
    updated_at = now()
WHERE id = $1 AND deleted_at IS NULL AND ($7::bigint[] IS NULL OR version = ANY ($7::bigint[]))
RETURNING id, sku, name, description, price_cents, stock, created_at, updated_at, version;

-- name: delete_item
-- Soft delete: the item leaves catalog reads and ordering, and stays in order history.
UPDATE items
SET deleted_at = now(), version = version + 1, updated_at = now()
WHERE id = $1 AND deleted_at IS NULL AND ($2::bigint[] IS NULL OR version = ANY ($2::bigint[]))
RETURNING id;

-- name: list_items
-- $1 in_stock filter (NULL: any), $2/$3 cursor (created_at, id), $4 limit.
SELECT id, sku, name, description, price_cents, stock, created_at, updated_at, version
FROM items
WHERE deleted_at IS NULL
  AND ($1::boolean IS NULL OR (stock > 0) = $1)
  AND (created_at, id) < (coalesce($2::timestamptz, 'infinity'),
                          coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
ORDER BY created_at DESC, id DESC
LIMIT $4;

-- name: search_items
-- As list_items, for names containing $5 (a LIKE-escaped substring, matched case-insensitively
-- through items_name_trgm_idx).
SELECT id, sku, name, description, price_cents, stock, created_at, updated_at, version
FROM items
WHERE deleted_at IS NULL
  AND lower(name) LIKE '%' || lower($5::text) || '%'
  AND ($1::boolean IS NULL OR (stock > 0) = $1)
  AND (created_at, id) < (coalesce($2::timestamptz, 'infinity'),
                          coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
ORDER BY created_at DESC, id DESC
LIMIT $4;

-- name: popular_items
-- Most units in placed (not cancelled) orders over the last 30 UTC days, today included, from the
-- daily rollup (at most 30 rows per item, however many orders there were); deleted items and items
-- whose orders were all cancelled left out.
SELECT i.id, i.sku, i.name, i.description, i.price_cents, i.stock, i.created_at, i.updated_at,
       i.version, p.units_ordered
FROM (
    SELECT d.item_id, sum(d.units)::bigint AS units_ordered
    FROM item_daily_units AS d
    WHERE d.day > (now() AT TIME ZONE 'UTC')::date - 30
    GROUP BY d.item_id
    HAVING sum(d.units) > 0
) AS p
JOIN items AS i ON i.id = p.item_id
WHERE i.deleted_at IS NULL
ORDER BY p.units_ordered DESC, i.id
LIMIT $1;
