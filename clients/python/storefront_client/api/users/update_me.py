from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.profile_update import ProfileUpdate
from ...models.user_out import UserOut
from ...types import Response


def _get_kwargs(
    *,
    body: ProfileUpdate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/v1/users/me",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | UserOut | None:
    if response.status_code == 200:
        response_200 = UserOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | UserOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ProfileUpdate,
) -> Response[Problem | UserOut]:
    """UpdateMe

     Change `full_name`, or `email` together with `current_password`: the new email is
    unverified until its link is used, and the old one is told of the change;
    EMAIL_CHANGE_RATE_LIMIT_PER_HOUR per account. Checks of `current_password` are limited like
    failed logins (LOGIN_RATE_LIMIT_PER_MINUTE).

    Args:
        body (ProfileUpdate): Changes to the caller's own profile; changing `email` requires
            `current_password`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UserOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ProfileUpdate,
) -> Problem | UserOut | None:
    """UpdateMe

     Change `full_name`, or `email` together with `current_password`: the new email is
    unverified until its link is used, and the old one is told of the change;
    EMAIL_CHANGE_RATE_LIMIT_PER_HOUR per account. Checks of `current_password` are limited like
    failed logins (LOGIN_RATE_LIMIT_PER_MINUTE).

    Args:
        body (ProfileUpdate): Changes to the caller's own profile; changing `email` requires
            `current_password`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UserOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ProfileUpdate,
) -> Response[Problem | UserOut]:
    """UpdateMe

     Change `full_name`, or `email` together with `current_password`: the new email is
    unverified until its link is used, and the old one is told of the change;
    EMAIL_CHANGE_RATE_LIMIT_PER_HOUR per account. Checks of `current_password` are limited like
    failed logins (LOGIN_RATE_LIMIT_PER_MINUTE).

    Args:
        body (ProfileUpdate): Changes to the caller's own profile; changing `email` requires
            `current_password`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UserOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ProfileUpdate,
) -> Problem | UserOut | None:
    """UpdateMe

     Change `full_name`, or `email` together with `current_password`: the new email is
    unverified until its link is used, and the old one is told of the change;
    EMAIL_CHANGE_RATE_LIMIT_PER_HOUR per account. Checks of `current_password` are limited like
    failed logins (LOGIN_RATE_LIMIT_PER_MINUTE).

    Args:
        body (ProfileUpdate): Changes to the caller's own profile; changing `email` requires
            `current_password`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UserOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
