"""Storefront: a production HTTP API for a shop."""
