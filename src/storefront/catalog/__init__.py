"""Catalog: items with strong ETags, keyset lists with search, soft delete, the popular list."""
