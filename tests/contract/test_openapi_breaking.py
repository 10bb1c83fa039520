"""`just openapi-check`'s comparison on small synthetic documents: each kind of breaking change is
found, named where it is, and additions are not."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tools.openapi.breaking import breaking_changes

ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
        "note": {"oneOf": [{"type": "string"}, {"type": "null"}]},
        "status": {"type": "string", "enum": ["placed", "cancelled"]},
    },
    "required": ["id", "name", "tags", "status"],
}
ITEM_IN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\n]*$"},
        "price": {"type": "integer", "minimum": 0, "maximum": 1000},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
        "note": {"anyOf": [{"type": "string", "maxLength": 50}, {"type": "null"}]},
        "kind": {"type": "string", "enum": ["mug", "plate"]},
    },
    "required": ["name"],
}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def document() -> dict[str, Any]:
    """Two operations on items, a component reference, a recursive component, parameters, headers."""
    limit = {"in": "query", "name": "limit", "required": False, "schema": {"type": "integer", "maximum": 100}}
    listed = {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
    return copy.deepcopy({
        "openapi": "3.1.0",
        "paths": {
            "/items": {
                "get": {
                    "operationId": "listItems",
                    "parameters": [limit],
                    "responses": {"200": json_body(listed), "422": {"description": "bad"}},
                },
                "post": {
                    "operationId": "createItem",
                    "requestBody": {"required": True, **json_body({"$ref": "#/components/schemas/ItemIn"})},
                    "responses": {
                        "201": {"headers": {"Location": {}}, **json_body({"$ref": "#/components/schemas/Item"})}
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Item": ITEM,
                "ItemIn": ITEM_IN,
                "Tag": {"type": "object", "properties": {"label": {"type": "string"}, "children": {
                    "type": "array", "items": {"$ref": "#/components/schemas/Tag"}}}},
            }
        },
    })  # fmt: skip


def changes(edit: Any) -> list[str]:
    """The keys of the breaking changes `edit` makes to a fresh document."""
    old = document()
    new = copy.deepcopy(old)
    edit(new)
    return [change.key for change in breaking_changes(old, new)]


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]


def test_the_same_document_has_no_breaking_change() -> None:
    assert changes(lambda doc: None) == []


def test_additions_are_not_breaking() -> None:
    def add(doc: dict[str, Any]) -> None:
        doc["paths"]["/items/{id}"] = {"get": {"responses": {"200": {"description": "one"}}}}
        get = doc["paths"]["/items"]["get"]
        get["parameters"].append({"in": "query", "name": "q", "schema": {"type": "string"}})
        get["responses"]["404"] = {"description": "none"}
        schemas(doc)["Item"]["properties"]["price"] = {"type": "integer"}
        schemas(doc)["Item"]["required"].append("price")
        schemas(doc)["ItemIn"]["properties"]["colour"] = {"type": "string"}
        schemas(doc)["ItemIn"]["properties"]["kind"]["enum"].append("bowl")
        schemas(doc)["ItemIn"]["properties"]["price"].update(maximum=5000, type="number")
        schemas(doc)["ItemIn"]["properties"]["name"].update(minLength=0, maxLength=500)
        schemas(doc)["ItemIn"]["properties"]["tags"]["maxItems"] = 20
        schemas(doc)["ItemIn"]["properties"]["note"]["anyOf"][0]["maxLength"] = 60
        schemas(doc)["Item"]["properties"]["status"]["enum"].remove("cancelled")  # a response may narrow

    assert changes(add) == []


def test_removed_and_renamed_operations() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["paths"]["/products"] = doc["paths"].pop("/items")  # a renamed path removes its operations
        doc["paths"]["/products"]["post"]["operationId"] = "addItem"

    assert changes(edit) == ["removed operation: GET /items", "removed operation: POST /items"]

    def rename(doc: dict[str, Any]) -> None:
        doc["paths"]["/items"]["post"]["operationId"] = "addItem"

    assert changes(rename) == ["renamed operation: POST /items"]


def test_removed_response_status_and_header() -> None:
    def edit(doc: dict[str, Any]) -> None:
        del doc["paths"]["/items"]["get"]["responses"]["422"]
        doc["paths"]["/items"]["post"]["responses"]["201"]["headers"] = {}

    assert changes(edit) == [
        "removed response status: GET /items 422",
        "removed response header: POST /items 201 Location",
    ]


def test_removed_response_fields_are_named_per_operation_through_references_and_arrays() -> None:
    def edit(doc: dict[str, Any]) -> None:
        del schemas(doc)["Item"]["properties"]["name"]
        del schemas(doc)["Tag"]["properties"]["label"]

    assert changes(edit) == [
        "removed response field: GET /items 200[].name",
        "removed response field: GET /items 200[].tags[].label",
        "removed response field: POST /items 201.name",
        "removed response field: POST /items 201.tags[].label",
    ]


def test_a_response_field_made_optional() -> None:
    assert changes(lambda doc: schemas(doc)["Item"]["required"].remove("status")) == [
        "response field made optional: GET /items 200[].status",
        "response field made optional: POST /items 201.status",
    ]


def test_request_fields_removed_or_made_required() -> None:
    def edit(doc: dict[str, Any]) -> None:
        del schemas(doc)["ItemIn"]["properties"]["note"]
        schemas(doc)["ItemIn"]["properties"]["colour"] = {"type": "string"}
        schemas(doc)["ItemIn"]["required"] += ["price", "colour"]

    assert changes(edit) == [
        "removed request field: POST /items request.note",
        "new required request field: POST /items request.colour",
        "request field made required: POST /items request.price",
    ]


def test_a_removed_request_enum_value() -> None:
    assert changes(lambda doc: schemas(doc)["ItemIn"]["properties"]["kind"]["enum"].remove("plate")) == [
        "removed enum value: POST /items request.kind=plate"
    ]


@pytest.mark.parametrize(
    ("field", "bound", "value"),
    [
        ("name", "minLength", 2),
        ("name", "maxLength", 100),
        ("name", "pattern", "^[a-z]*$"),
        ("price", "minimum", 1),
        ("price", "maximum", 999),
        ("price", "exclusiveMaximum", 1000),
        ("tags", "maxItems", 5),
        ("tags", "minItems", 1),
    ],
)
def test_a_tightened_request_bound(field: str, bound: str, value: Any) -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["ItemIn"]["properties"][field][bound] = value

    assert changes(edit) == [f"tightened {bound}: POST /items request.{field}"]


def test_a_bound_inside_a_nullable_branch_is_compared() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["ItemIn"]["properties"]["note"]["anyOf"][0]["maxLength"] = 40

    assert changes(edit) == ["tightened maxLength: POST /items request.note"]


def test_response_bounds_may_tighten() -> None:
    assert changes(lambda doc: schemas(doc)["Item"]["properties"]["name"].update(maxLength=10)) == []


def test_changed_types_each_side() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["ItemIn"]["properties"]["price"]["type"] = "string"  # a request accepts less
        schemas(doc)["ItemIn"]["properties"]["note"] = {"type": "string"}  # null no longer accepted
        schemas(doc)["Item"]["properties"]["id"]["type"] = "number"  # a response sends what it never did
        schemas(doc)["Item"]["properties"]["name"]["type"] = ["string", "null"]

    assert changes(edit) == [
        "changed type: GET /items 200[].id",
        "changed type: GET /items 200[].name",
        "changed type: POST /items request.price",
        "changed type: POST /items request.note",
        "changed type: POST /items 201.id",
        "changed type: POST /items 201.name",
    ]


def test_a_response_that_narrows_its_type_is_fine() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["Item"]["properties"]["note"] = {"type": "string"}

    assert changes(edit) == []


def test_parameters_added_as_or_made_required_and_their_schemas() -> None:
    def edit(doc: dict[str, Any]) -> None:
        get = doc["paths"]["/items"]["get"]
        get["parameters"][0].update(required=True, schema={"type": "integer", "maximum": 50})
        get["parameters"].append({"in": "header", "name": "X-Shop", "required": True, "schema": {"type": "string"}})

    assert changes(edit) == [
        "parameter made required: GET /items query.limit",
        "tightened maximum: GET /items query.limit",
        "new required parameter: GET /items header.X-Shop",
    ]


def test_a_parameter_enum_value_removed() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["paths"]["/items"]["get"]["parameters"][0]["schema"] = {"enum": [10, 20]}

    old = document()
    old["paths"]["/items"]["get"]["parameters"][0]["schema"] = {"enum": [10, 20, 50]}
    new = copy.deepcopy(old)
    edit(new)
    assert [change.key for change in breaking_changes(old, new)] == ["removed enum value: GET /items query.limit=50"]


def test_a_request_body_made_required_or_a_media_type_dropped() -> None:
    def edit(doc: dict[str, Any]) -> None:
        body = doc["paths"]["/items"]["post"]["requestBody"]
        body["content"] = {"application/x-www-form-urlencoded": body["content"]["application/json"]}

    assert changes(edit) == ["removed request media type: POST /items request application/json"]
    old, new = document(), document()
    old["paths"]["/items"]["post"]["requestBody"]["required"] = False
    assert [change.key for change in breaking_changes(old, new)] == ["request body made required: POST /items request"]


def test_a_recursive_schema_is_compared_and_ends() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["Tag"]["properties"]["children"]["items"] = {"$ref": "#/components/schemas/Tag"}

    assert changes(edit) == []


def test_a_schema_whose_branch_refers_to_itself_ends() -> None:
    def edit(doc: dict[str, Any]) -> None:
        schemas(doc)["Tag"]["anyOf"] = [{"$ref": "#/components/schemas/Tag"}, {"type": "null"}]

    assert changes(edit) == []  # it ends (and `type: object` still rules out null)
