from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from lambic.app import Response
from lambic.app.responses import matches_content_type


def test_python_values_are_serialised_as_compact_json() -> None:
    response = Response(body={"a": [1, Decimal("2.5")]}).to_dict()
    assert response == {
        "headers": {},
        "multiValueHeaders": {},
        "statusCode": 200,
        "body": '{"a":[1,2.5]}',
    }


def test_list_header_values_go_to_multi_value_headers() -> None:
    response = Response(
        body="x", status_code=201, headers={"Set-Cookie": ["a=1", "b=2"], "X-One": "1"}
    ).to_dict()
    assert response["headers"] == {"X-One": "1"}
    assert response["multiValueHeaders"] == {"Set-Cookie": ["a=1", "b=2"]}
    assert response["statusCode"] == 201


def test_binary_content_type_body_is_base64_encoded() -> None:
    response = Response(body=b"\x00\x01", headers={"Content-Type": "image/png"}).to_dict(
        ["image/png"]
    )
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == b"\x00\x01"


def test_json_configured_as_binary_encodes_the_json_text() -> None:
    response = Response(body={"a": 1}, headers={"Content-Type": "application/json"}).to_dict(
        ["application/json"]
    )
    assert base64.b64decode(response["body"]) == b'{"a":1}'
    # Without a Content-Type header the body is not binary, as in Chalice.
    assert "isBase64Encoded" not in Response(body={"a": 1}).to_dict(["application/json"])


def test_binary_type_with_text_body_is_an_error() -> None:
    with pytest.raises(ValueError, match="Expected bytes type"):
        Response(body="text", headers={"Content-Type": "image/png"}).to_dict(["image/png"])


def test_unserialisable_body_raises_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        Response(body={"a": object()}).to_dict()


def test_content_type_matching_follows_chalice() -> None:
    assert matches_content_type("application/json; charset=utf-8", ["application/json"])
    assert matches_content_type("image/png, */*;q=0.8", ["image/gif"])
    assert matches_content_type("text/plain", ["*/*"])
    assert not matches_content_type("text/plain", ["application/json"])


def test_handle_extra_types_serialises_decimals_and_multidicts_as_chalice_does() -> None:
    import json

    from lambic.app import MultiDict, handle_extra_types

    body = {"price": Decimal("1.5"), "query": MultiDict({"tag": ["a", "b"]})}
    assert json.loads(json.dumps(body, default=handle_extra_types)) == {
        "price": 1.5,
        "query": {"tag": "b"},  # the last value of each key, as Chalice keeps it
    }
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        json.dumps(object(), default=handle_extra_types)
