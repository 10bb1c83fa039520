"""`Accounts`: what the account handlers work with, built once per worker and handed to each of
them as one dependency (`accounts: AccountsDep`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from storefront.accounts.limits import AuthLimits
from storefront.platform.db import Database
from storefront.platform.settings import AuthSettings, LimitSettings
from storefront.web.client_ip import client_network
from storefront.web.state import AppState


@dataclass(frozen=True, slots=True)
class Accounts:
    """The pool, the token settings and the account limits (their policies built once, here), plus
    the limit settings that say how a caller's network is keyed."""

    db: Database
    auth: AuthSettings
    limits: AuthLimits
    limit_settings: LimitSettings

    @classmethod
    def of(cls, state: AppState) -> Accounts:
        """The accounts' share of a worker's resources (`create_app` registers it once)."""
        settings = state.settings
        return cls(state.db, settings.auth, AuthLimits(state.limiter, settings.limits), settings.limits)

    def network(self, request: Request[Any, Any, Any]) -> str:
        """The caller's network as limits key it (what the `client_ip` dependency gives), for the
        handlers that keep to one dependency."""
        return client_network(request.scope, self.limit_settings)  # type: ignore[arg-type]


AccountsDep = NamedDependency[Accounts]
