"""The statements of `sql/queries/accounts.sql`, typed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from storefront.platform.sql import Execute, MaybeRow, Queries, Rows, Value


class AccountQueries(Queries, file="accounts"):
    """Users, sessions and refresh tokens."""

    register: Value[str, str, str, bytes, float, str, bool]
    get_user: MaybeRow[UUID]
    get_credentials: MaybeRow[str]
    get_password_hash: Value[UUID]
    set_password_hash: Execute[UUID, str]
    authenticate_session: MaybeRow[UUID, UUID]
    insert_session: Value[UUID]
    insert_refresh_token: Value[bytes, UUID, float, float]
    rotate_refresh_token: MaybeRow[bytes, float]
    find_refresh_token: MaybeRow[bytes]
    revoke_session: Execute[UUID]
    revoke_other_sessions: Execute[UUID, UUID]
    revoke_user_sessions: Execute[UUID]
    update_profile: MaybeRow[UUID, str | None, str | None]
    admin_update_user: MaybeRow[UUID, str | None, str | None, bool | None]
    soft_delete_user: MaybeRow[UUID]
    lock_active_admins: Rows[()]
    get_user_for_update: MaybeRow[UUID]
    list_users: Rows[str | None, str | None, bool | None, datetime | None, UUID | None, int]
    insert_admin: Value[str, str, str]
    get_account_by_email: MaybeRow[str]
    promote_to_admin: Value[UUID]
    insert_email_token: Execute[bytes, UUID, str, str, float]
    retire_email_tokens: Execute[UUID, str]
    find_email_token: MaybeRow[bytes, str]
    use_email_token: MaybeRow[bytes, str]
    mark_email_verified: Value[UUID, str]
    reset_password: MaybeRow[UUID, str, str]
    request_password_reset: Value[str, bytes, float, str, str, str]
    queue_account_notice: Value[str, str]
    purge_email_tokens: Execute[int]
