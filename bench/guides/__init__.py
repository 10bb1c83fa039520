"""The guides' stack: Storefront's hot reads as the popular guides teach them (FastAPI, SQLAlchemy ORM
on asyncpg, Pydantic, uvicorn), for `just bench`'s `guides-stack` reference.

It runs only in `.venv-guides` (from `bench/requirements-guides.lock`); nothing in Storefront's own
venv imports it, and it imports nothing of Storefront's.
"""
