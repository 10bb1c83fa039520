from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.item_out_page import ItemOutPage
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    in_stock: bool | None | Unset = UNSET,
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

    json_in_stock: bool | None | Unset
    if isinstance(in_stock, Unset):
        json_in_stock = UNSET
    else:
        json_in_stock = in_stock
    params["in_stock"] = json_in_stock

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/items",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ItemOutPage | Problem | None:
    if response.status_code == 200:
        response_200 = ItemOutPage.from_dict(response.json())

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
) -> Response[ItemOutPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    in_stock: bool | None | Unset = UNSET,
) -> Response[ItemOutPage | Problem]:
    """ListItems

     Live items, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of the name, any case.
        in_stock (bool | None | Unset): true: stock > 0 only; false: sold out only.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ItemOutPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        q=q,
        in_stock=in_stock,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    in_stock: bool | None | Unset = UNSET,
) -> ItemOutPage | Problem | None:
    """ListItems

     Live items, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of the name, any case.
        in_stock (bool | None | Unset): true: stock > 0 only; false: sold out only.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ItemOutPage | Problem
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        q=q,
        in_stock=in_stock,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    in_stock: bool | None | Unset = UNSET,
) -> Response[ItemOutPage | Problem]:
    """ListItems

     Live items, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of the name, any case.
        in_stock (bool | None | Unset): true: stock > 0 only; false: sold out only.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ItemOutPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        q=q,
        in_stock=in_stock,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    q: None | str | Unset = UNSET,
    in_stock: bool | None | Unset = UNSET,
) -> ItemOutPage | Problem | None:
    """ListItems

     Live items, newest first, keyset-paginated.

    Args:
        limit (int | Unset): Page size (1-100). Default: 20.
        cursor (None | str | Unset): `next_cursor` of the previous page.
        q (None | str | Unset): Substring of the name, any case.
        in_stock (bool | None | Unset): true: stock > 0 only; false: sold out only.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ItemOutPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            q=q,
            in_stock=in_stock,
        )
    ).parsed
