"""HTTP surface of the catalog: `/items`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response
from litestar.datastructures import ResponseHeader
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from storefront.accounts.guards import ADMIN, SECURITY
from storefront.catalog import service
from storefront.catalog.cached import POPULAR_MAX
from storefront.catalog.etags import etag, if_match_versions, not_modified
from storefront.catalog.schemas import ItemCreate, ItemOut, ItemUpdate, PopularItem
from storefront.web.conventions import DEFAULT_PAGE_SIZE
from storefront.web.openapi import BODY, problems
from storefront.web.pagination import Cursor, PageLimit
from storefront.web.responses import Encoded
from storefront.web.routes import delete, get, patch, post
from storefront.web.schemas import LINE, Page
from storefront.web.state import AppStateDep, DatabaseDep

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", description="Apply the write only if the item still has this ETag (else 412)."),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(name="If-None-Match", description="Answer 304 if the item still has this ETag."),
]
ETAG = ResponseHeader(
    name="ETag", description="Strong entity tag of this version of the item.", documentation_only=True
)
LOCATION = ResponseHeader(name="Location", description="URL of the new item.", documentation_only=True)
POPULAR_DEFAULT = 10
NOT_MODIFIED = {304: ResponseSpec(data_container=None, description="Not modified (the ETag still matches)")}


def _tagged(item: ItemOut, version: int, status_code: int = 200) -> Response[ItemOut]:
    headers = {"ETag": etag(version)}
    if status_code == 201:
        headers["Location"] = f"/api/v1/items/{item.id}"
    return Response(item, status_code=status_code, headers=headers)


class ItemsController(Controller):
    """Public catalog reads; admin-only writes."""

    path = "/items"
    tags = ["catalog"]

    @get("/", responses=problems(422))
    async def list_items(
        self,
        db: DatabaseDep,
        limit: PageLimit = DEFAULT_PAGE_SIZE,
        cursor: Cursor = None,
        q: Annotated[
            str | None, QueryParameter(max_length=200, pattern=LINE, description="Substring of the name, any case.")
        ] = None,
        in_stock: Annotated[
            bool | None, QueryParameter(description="true: stock > 0 only; false: sold out only.")
        ] = None,
    ) -> Encoded[Page[ItemOut]]:
        """Live items, newest first, keyset-paginated."""
        return Encoded(await service.list_items(db, limit, cursor, q, in_stock))

    @get("/popular", responses=problems(422))
    async def popular_items(
        self,
        app_state: AppStateDep,
        limit: Annotated[
            int, QueryParameter(ge=1, le=POPULAR_MAX, description=f"How many (1-{POPULAR_MAX}).")
        ] = POPULAR_DEFAULT,
    ) -> Encoded[Page[PopularItem]]:
        """The most ordered live items: units in placed orders over the last 30 UTC days, today
        included (whole days: the window moves on at 00:00 UTC). Up to 60 s stale: orders and
        cancels show within a minute, item edits and deletions at once. Never paginated."""
        return Encoded(await service.popular_items(app_state.db, app_state.valkey, app_state.cache, limit))

    @get("/{item_id:uuid}", response_headers=[ETAG], responses={**NOT_MODIFIED, **problems(404)})
    async def get_item(
        self, app_state: AppStateDep, item_id: FromPath[UUID], if_none_match: IfNoneMatch = None
    ) -> Response[ItemOut]:
        """One live item with its strong ETag."""
        body, version = await service.item_body(app_state.db, app_state.cache, item_id)
        if not_modified(if_none_match, version):
            not_modified_response: Response[Any] = Response(None, status_code=304, headers={"ETag": etag(version)})
            return not_modified_response
        return Encoded.of_body(body, headers={"ETag": etag(version)})

    @post(
        "/",
        status_code=201,
        guards=ADMIN,
        security=SECURITY,
        response_headers=[ETAG, LOCATION],
        responses=problems(401, 403, 409, *BODY),
    )
    async def create_item(self, app_state: AppStateDep, data: JSONBody[ItemCreate]) -> Response[ItemOut]:
        """Admins: add an item (201 with `Location` and `ETag`)."""
        item, version = await service.create_item(app_state.db, app_state.valkey, data)
        return _tagged(item, version, 201)

    @patch(
        "/{item_id:uuid}",
        guards=ADMIN,
        security=SECURITY,
        response_headers=[ETAG],
        responses=problems(401, 403, 404, 409, 412, *BODY),
    )
    async def update_item(
        self,
        app_state: AppStateDep,
        item_id: FromPath[UUID],
        data: JSONBody[ItemUpdate],
        if_match: IfMatch = None,
    ) -> Response[ItemOut]:
        """Admins: change an item; with `If-Match`, only if it is unchanged since (else 412)."""
        versions = if_match_versions(if_match)
        item, version = await service.update_item(app_state.db, app_state.valkey, item_id, data, versions)
        return _tagged(item, version)

    @delete("/{item_id:uuid}", status_code=204, guards=ADMIN, security=SECURITY, responses=problems(401, 403, 404, 412))
    async def delete_item(self, app_state: AppStateDep, item_id: FromPath[UUID], if_match: IfMatch = None) -> None:
        """Admins: soft-delete an item; it stays in order history and can no longer be ordered."""
        await service.delete_item(app_state.db, app_state.valkey, item_id, if_match_versions(if_match))
