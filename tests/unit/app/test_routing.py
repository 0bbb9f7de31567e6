from __future__ import annotations

import pytest

from lambic.app.errors import RouteError
from lambic.app.routing import RouteMatcher, parse_view_args, validate_route_path


def _matcher() -> RouteMatcher:
    return RouteMatcher(
        {
            "/": ["GET"],
            "/users": ["GET", "POST"],
            "/users/me": ["GET"],
            "/users/{id}": ["GET", "DELETE"],
            "/users/{id}/posts/{post}": ["GET"],
            "/files/{proxy+}": ["GET"],
            "/any/{x}": ["ANY"],
        }
    )


def test_static_route_matches_without_params() -> None:
    match = _matcher().match("GET", "/users")
    assert match is not None
    assert (match.entry, match.resource_path, match.path_params) == ("GET", "/users", {})


def test_static_segment_beats_parameter() -> None:
    match = _matcher().match("GET", "/users/me")
    assert match is not None and match.resource_path == "/users/me"


def test_parameters_are_captured_and_url_decoded() -> None:
    match = _matcher().match("GET", "/users/a%20b/posts/x%2Fy")
    assert match is not None
    assert match.resource_path == "/users/{id}/posts/{post}"
    assert match.path_params == {"id": "a b", "post": "x/y"}


def test_trailing_slash_is_stripped_except_on_root() -> None:
    m = _matcher()
    users = m.match("GET", "/users/")
    root = m.match("GET", "/")
    assert users is not None and users.resource_path == "/users"
    assert root is not None and root.resource_path == "/"


def test_greedy_parameter_matches_one_or_more_segments() -> None:
    m = _matcher()
    match = m.match("GET", "/files/a/b/c.txt")
    assert match is not None and match.path_params == {"proxy": "a/b/c.txt"}
    single = m.match("GET", "/files/x")
    assert single is not None and single.path_params == {"proxy": "x"}
    assert m.match("GET", "/files") is None


def test_unknown_path_gives_none_and_unknown_method_gives_entry_none() -> None:
    m = _matcher()
    assert m.match("GET", "/nope") is None
    assert m.match("GET", "/users/1/posts") is None
    match = m.match("PUT", "/users/1")
    assert match is not None and match.entry is None and match.resource_path == "/users/{id}"


def test_any_method_accepts_every_method() -> None:
    match = _matcher().match("patch", "/any/1")
    assert match is not None and match.entry == "ANY"


def test_matcher_backtracks_from_static_branch_to_parameter() -> None:
    m = RouteMatcher({"/a/b/c": ["GET"], "/a/{x}/d": ["GET"]})
    match = m.match("GET", "/a/b/d")
    assert match is not None and match.path_params == {"x": "b"}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "empty string"),
        ("users", "must start with '/'"),
        ("/users/", "trailing slash"),
        ("/users?x=1", "query string"),
        ("/a//b", "empty path segment"),
        ("/a/x{id}", "whole segment"),
        ("/a/{proxy+}/b", "must be the last segment"),
        ("/a/{id}/b/{id}", "more than once"),
    ],
)
def test_rejects_invalid_route_paths(path: str, message: str) -> None:
    with pytest.raises(RouteError, match=message.replace("?", r"\?")):
        validate_route_path(path)


def test_valid_paths_pass_validation() -> None:
    for path in ("/", "/a", "/a/{b}", "/a/{b}/{c+}", "/{proxy+}"):
        validate_route_path(path)


def test_view_args_are_parameter_names_in_order() -> None:
    assert parse_view_args("/a/{b}/c/{d+}") == ["b", "d"]
    assert parse_view_args("/a") == []
