"""Who is calling: the type services receive for the signed-in user.

Part of the accounts seam: other domains may import this module and `guards`, nothing else here.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from storefront.accounts.schemas import UserOut


class Caller(msgspec.Struct, frozen=True):
    """The authenticated caller and the session (`sid`) their token belongs to."""

    user: UserOut
    session_id: UUID

    @property
    def id(self) -> UUID:
        """The caller's user id."""
        return self.user.id

    @property
    def is_admin(self) -> bool:
        """True for the `admin` role."""
        return self.user.role == "admin"
