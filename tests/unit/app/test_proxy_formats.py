from __future__ import annotations

from lambic.app._proxy_formats import is_v2_event, v1_response_to_v2, v2_event_to_v1


def _resolve(path: str) -> tuple[str, dict[str, str]] | None:
    if path.startswith("/items/"):
        return "/items/{id}", {"id": path.rsplit("/", 1)[1]}
    return None


def test_detects_payload_format_2_0() -> None:
    assert is_v2_event({"version": "2.0"})
    assert is_v2_event({"rawPath": "/"})
    assert is_v2_event({"requestContext": {"http": {"method": "GET"}}})
    assert not is_v2_event({"httpMethod": "GET", "requestContext": {"httpMethod": "GET"}})


def test_v2_event_becomes_rest_shape_with_reparsed_query_and_cookie_header() -> None:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/items/9",
        "rawQueryString": "a=1&a=2&b=x%2By",
        "queryStringParameters": {"a": "1,2", "b": "x y"},
        "cookies": ["s=1", "t=2"],
        "headers": {"accept": "*/*"},
        "requestContext": {
            "http": {"method": "put", "path": "/items/9", "sourceIp": "1.2.3.4"},
            "stage": "$default",
        },
        "body": "hi",
        "isBase64Encoded": False,
    }
    rest = v2_event_to_v1(event, _resolve, {"/items/{id}"})
    assert rest["httpMethod"] == "PUT"
    assert rest["resource"] == "/items/{id}"
    assert rest["pathParameters"] == {"id": "9"}
    assert rest["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x+y"]}
    assert rest["queryStringParameters"] == {"a": "2", "b": "x+y"}
    assert rest["headers"] == {"accept": "*/*", "cookie": "s=1; t=2"}
    assert rest["requestContext"]["identity"]["sourceIp"] == "1.2.3.4"
    assert rest["requestContext"]["resourcePath"] == "/items/{id}"
    assert rest["body"] == "hi"


def test_route_key_naming_a_known_resource_keeps_api_gateway_parameters() -> None:
    event = {
        "routeKey": "ANY /{proxy+}",
        "rawPath": "/beta/a/b",
        "pathParameters": {"proxy": "a/b"},
        "requestContext": {"http": {"method": "GET"}, "stage": "beta"},
    }
    rest = v2_event_to_v1(event, _resolve, {"/{proxy+}"})
    assert (rest["resource"], rest["pathParameters"], rest["path"]) == (
        "/{proxy+}",
        {"proxy": "a/b"},
        "/a/b",
    )


def test_v2_response_moves_set_cookie_and_joins_repeated_headers() -> None:
    v1 = {
        "statusCode": 302,
        "headers": {"Location": "/x", "set-cookie": "a=1", "X-A": "1"},
        "multiValueHeaders": {"Set-Cookie": ["b=2"], "X-A": ["2", "3"]},
        "body": "",
    }
    assert v1_response_to_v2(v1) == {
        "statusCode": 302,
        "headers": {"Location": "/x", "X-A": "1,2,3"},
        "cookies": ["a=1", "b=2"],
        "body": "",
        "isBase64Encoded": False,
    }
