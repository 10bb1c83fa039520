"""Orders: atomic stock-taking orders, idempotency keys, cancellation with restock, admin stats."""
