"""Storefront's hot reads the way the popular guides build an API: FastAPI, the SQLAlchemy ORM on
asyncpg (a session per request from a `get_db` dependency), Pydantic response models, and
`Depends(get_current_user)` decoding the JWT with PyJWT and loading the caller through the ORM.

Same paths, same data, equivalent JSON bodies as Storefront's: `GET /api/v1/items/{item_id}`,
`GET /api/v1/items?limit=`, `GET /api/v1/users/me` (Storefront's access tokens: same key and claims,
and the session must be live), and `GET /health`. No rate limit and no access log (the guides'
default). The environment gives `DATABASE_URL` (a `postgresql://` URL), `SECRET_KEY`, `JWT_ISSUER`
and `JWT_AUDIENCE`. `just bench` runs it from `.venv-guides` as
`python -m uvicorn bench.guides.app:app --workers N --loop uvloop --http httptools --log-level warning --no-access-log`.
"""

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, Query, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bench.guides.models import Item, User, UserSession

DATABASE_URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
SECRET_KEY = os.environ["SECRET_KEY"]
JWT_ISSUER = os.environ["JWT_ISSUER"]
JWT_AUDIENCE = os.environ["JWT_AUDIENCE"]
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "sid", "exp", "iat", "nbf", "jti", "iss", "aud", "typ"]

engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=0)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    """One ORM session per request, closed (its connection back in the pool) after the response."""
    async with SessionLocal() as session:
        yield session


DB = Annotated[AsyncSession, Depends(get_db)]


# ---- schemas -----------------------------------------------------------------------------------


class ItemOut(BaseModel):
    """An item as the catalog shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    name: str
    description: str
    price_cents: int
    stock: int
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    """A page of items, newest first."""

    items: list[ItemOut]
    next_cursor: str | None


class UserOut(BaseModel):
    """A user as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


# ---- auth --------------------------------------------------------------------------------------

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login")


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)], db: DB) -> User:
    """The caller of a valid access token whose session is live and whose account is active."""
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        payload = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=[ALGORITHM],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            leeway=5,
            options={"require": REQUIRED_CLAIMS},
        )
        if payload["typ"] != "access":
            raise credentials_exception
        user_id, session_id = uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise credentials_exception from exc
    user = await db.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            User.is_active,
            User.deleted_at.is_(None),
        )
    )
    if user is None:
        raise credentials_exception
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


# ---- routes ------------------------------------------------------------------------------------

app = FastAPI(title="Storefront, the guides' way")


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}


@app.get("/api/v1/items/{item_id}", response_model=ItemOut)
async def read_item(item_id: uuid.UUID, db: DB) -> Item:
    """One live item."""
    item = await db.scalar(select(Item).where(Item.id == item_id, Item.deleted_at.is_(None)))
    if item is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Item not found")
    return item


@app.get("/api/v1/items", response_model=ItemPage)
async def read_items(db: DB, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, object]:
    """Live items, newest first: the first page, and a cursor when there is more."""
    result = await db.scalars(
        select(Item).where(Item.deleted_at.is_(None)).order_by(Item.created_at.desc(), Item.id.desc()).limit(limit + 1)
    )
    items = result.all()
    next_cursor = None
    if len(items) > limit:
        last = items[limit - 1]
        key = json.dumps([last.created_at.isoformat(), str(last.id)]).encode()
        next_cursor = base64.urlsafe_b64encode(key).decode().rstrip("=")
    return {"items": items[:limit], "next_cursor": next_cursor}


@app.get("/api/v1/users/me", response_model=UserOut)
async def read_me(current_user: CurrentUser) -> User:
    """The caller."""
    return current_user
