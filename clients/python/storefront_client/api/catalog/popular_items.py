from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.popular_item_page import PopularItemPage
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/items/popular",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PopularItemPage | Problem | None:
    if response.status_code == 200:
        response_200 = PopularItemPage.from_dict(response.json())

        return response_200

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
) -> Response[PopularItemPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 10,
) -> Response[PopularItemPage | Problem]:
    """PopularItems

     The most ordered live items: units in placed orders over the last 30 UTC days, today
    included (whole days: the window moves on at 00:00 UTC). Up to 60 s stale: orders and
    cancels show within a minute, item edits and deletions at once. Never paginated.

    Args:
        limit (int | Unset): How many (1-50). Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PopularItemPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 10,
) -> PopularItemPage | Problem | None:
    """PopularItems

     The most ordered live items: units in placed orders over the last 30 UTC days, today
    included (whole days: the window moves on at 00:00 UTC). Up to 60 s stale: orders and
    cancels show within a minute, item edits and deletions at once. Never paginated.

    Args:
        limit (int | Unset): How many (1-50). Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PopularItemPage | Problem
    """

    return sync_detailed(
        client=client,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 10,
) -> Response[PopularItemPage | Problem]:
    """PopularItems

     The most ordered live items: units in placed orders over the last 30 UTC days, today
    included (whole days: the window moves on at 00:00 UTC). Up to 60 s stale: orders and
    cancels show within a minute, item edits and deletions at once. Never paginated.

    Args:
        limit (int | Unset): How many (1-50). Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PopularItemPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 10,
) -> PopularItemPage | Problem | None:
    """PopularItems

     The most ordered live items: units in placed orders over the last 30 UTC days, today
    included (whole days: the window moves on at 00:00 UTC). Up to 60 s stale: orders and
    cancels show within a minute, item edits and deletions at once. Never paginated.

    Args:
        limit (int | Unset): How many (1-50). Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PopularItemPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
        )
    ).parsed
