"""Litestar glue with no domain in it: the outer ASGI layer, problem+json rendering, strict bodies,
OpenAPI helpers, pagination parameters, the base Structs, the typed app state and client-IP
resolution. Domains build on it; it imports no domain (`just lint` checks)."""
