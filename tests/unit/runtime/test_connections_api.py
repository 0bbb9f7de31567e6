"""The @connections management API's answers, without a socket."""

from __future__ import annotations

import json

from lambic.runtime.connections_api import MAX_MESSAGE_BYTES, handle


class Conn:
    connected_at = 1700000000.5
    last_active_at = 1700000001.25
    source_ip = "127.0.0.1"
    user_agent: str | None = None

    def __init__(self) -> None:
        self.posted: list[bytes] = []
        self.deleted = False

    def post(self, data: bytes) -> None:
        self.posted.append(data)

    def delete(self) -> None:
        self.deleted = True


class Registry:
    def __init__(self) -> None:
        self.conns: dict[str, Conn] = {"a/b=": Conn()}

    def get(self, connection_id: str) -> Conn | None:
        return self.conns.get(connection_id)


SIGNED = {"authorization": "AWS4-HMAC-SHA256 ..."}


def call(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] = SIGNED
) -> tuple[int, dict[bytes, bytes], bytes]:
    status, extra, answer = handle(method, path, headers, body, stage="api", connections=Registry())
    return status, dict(extra), answer


def test_post_reaches_the_connection_by_its_url_encoded_id() -> None:
    registry = Registry()
    status, _, _ = handle(
        "POST", "/api/@connections/a%2Fb%3D", SIGNED, b"hi", stage="api", connections=registry
    )
    assert status == 200
    assert registry.conns["a/b="].posted == [b"hi"]


def test_unknown_connection_is_gone_410() -> None:
    for method in ("POST", "GET", "DELETE"):
        status, headers, _ = call(method, "/api/@connections/nope")
        assert status == 410
        assert headers[b"x-amzn-ErrorType"] == b"GoneException"


def test_payload_over_128_kb_is_too_large() -> None:
    status, headers, body = call(
        "POST", "/api/@connections/a%2Fb%3D", b"x" * (MAX_MESSAGE_BYTES + 1)
    )
    assert status == 413
    assert headers[b"x-amzn-ErrorType"] == b"PayloadTooLargeException"
    assert "message" in json.loads(body)


def test_get_uses_the_models_wire_names() -> None:
    status, _, body = call("GET", "/api/@connections/a%2Fb%3D")
    assert status == 200
    assert json.loads(body) == {
        "connectedAt": "2023-11-14T22:13:20.500Z",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": ""},
        "lastActiveAt": "2023-11-14T22:13:21.250Z",
    }


def test_unsigned_or_other_stage_is_forbidden() -> None:
    assert call("GET", "/api/@connections/a%2Fb%3D", headers={})[0] == 403
    assert call("GET", "/prod/@connections/a%2Fb%3D")[0] == 403


def test_delete_answers_204() -> None:
    registry = Registry()
    status, _, _ = handle(
        "DELETE", "/api/@connections/a%2Fb%3D", SIGNED, b"", stage="api", connections=registry
    )
    assert status == 204 and registry.conns["a/b="].deleted
