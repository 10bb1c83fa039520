from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.role import Role
from ...models.user_out_page import UserOutPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    role: None | Role | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    json_q: None | str | Unset
    if isinstance(q, Unset):
        json_q = UNSET
    else:
        json_q = q
    params["q"] = json_q

    json_role: None | str | Unset
    if isinstance(role, Unset):
        json_role = UNSET
    elif isinstance(role, Role):
        json_role = role.value
    else:
        json_role = role
    params["role"] = json_role

    json_is_active: bool | None | Unset
    if isinstance(is_active, Unset):
        json_is_active = UNSET
    else:
        json_is_active = is_active
    params["is_active"] = json_is_active

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/users",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | UserOutPage | None:
    if response.status_code == 200:
        response_200 = UserOutPage.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | UserOutPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    role: None | Role | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
) -> Response[Problem | UserOutPage]:
    """ListUsers

     Admins: every non-deleted user, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of email or name.
        role (None | Role | Unset):
        is_active (bool | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UserOutPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        q=q,
        role=role,
        is_active=is_active,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    role: None | Role | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
) -> Problem | UserOutPage | None:
    """ListUsers

     Admins: every non-deleted user, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of email or name.
        role (None | Role | Unset):
        is_active (bool | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UserOutPage
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        q=q,
        role=role,
        is_active=is_active,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    role: None | Role | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
) -> Response[Problem | UserOutPage]:
    """ListUsers

     Admins: every non-deleted user, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of email or name.
        role (None | Role | Unset):
        is_active (bool | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UserOutPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        q=q,
        role=role,
        is_active=is_active,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    role: None | Role | Unset = UNSET,
    is_active: bool | None | Unset = UNSET,
) -> Problem | UserOutPage | None:
    """ListUsers

     Admins: every non-deleted user, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of email or name.
        role (None | Role | Unset):
        is_active (bool | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UserOutPage
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            q=q,
            role=role,
            is_active=is_active,
        )
    ).parsed
