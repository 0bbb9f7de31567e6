"""Chalice's `app.websocket_api` addresses under `lambic local`: sent to the local API."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore import handlers

from lambic.runtime import _management_redirect
from lambic.runtime._management_redirect import install, local_url

LOCAL = "127.0.0.1:8123"


class _Sent(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__(request.url)
        self.url = request.url
        self.authorization = request.headers.get("Authorization", b"")


def _raise_sent(request: Any, **_: Any) -> None:
    raise _Sent(request)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # configure_from_api_id in a WebSocket handler: the local API's AWS address
        (
            "https://abcdef1234.execute-api.us-east-1.amazonaws.com/api/@connections/Zm9v",
            "http://127.0.0.1:8123/api/@connections/Zm9v",
        ),
        # any region, and China's partition, name the same (local) API
        (
            "https://ABCDEF1234.execute-api.cn-north-1.amazonaws.com.cn/api/@connections/x",
            "http://127.0.0.1:8123/api/@connections/x",
        ),
        # configure(event.domain_name, stage): the loopback domain over https
        ("https://127.0.0.1:8123/api/@connections/x", "http://127.0.0.1:8123/api/@connections/x"),
        # other APIs are not ours: left for AWS
        ("https://other12345.execute-api.us-east-1.amazonaws.com/api/@connections/x", None),
        ("https://127.0.0.1:9999/api/@connections/x", None),
        ("https://chat.example.com/api/@connections/x", None),
    ],
)
def test_only_the_local_apis_addresses_are_redirected(url: str, expected: str | None) -> None:
    assert local_url(url, api_id="abcdef1234", local_netloc=LOCAL) == expected


@pytest.fixture
def clean_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    """install() changes process-wide botocore state: give it throwaway copies."""
    monkeypatch.setattr(handlers, "BUILTIN_HANDLERS", list(handlers.BUILTIN_HANDLERS))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def _client(session: boto3.session.Session, endpoint: str) -> Any:
    client = session.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    client.meta.events.register("before-send.apigatewaymanagementapi", _raise_sent)
    return client


def _sent_to(client: Any) -> _Sent:
    with pytest.raises(_Sent) as sent:
        client.post_to_connection(ConnectionId="Zm9v", Data=b"hi")
    return sent.value


@pytest.mark.usefixtures("clean_botocore")
def test_sessions_made_after_install_send_chalices_client_to_the_local_endpoint() -> None:
    environ = {
        _management_redirect.ENDPOINT_VARIABLE: f"http://{LOCAL}/api",
        _management_redirect.API_ID_VARIABLE: "abcdef1234",
    }
    assert install(environ)
    session = boto3.session.Session()
    # What chalice.app.WebsocketAPI builds after configure_from_api_id(...):
    chalice_client = _client(session, "https://abcdef1234.execute-api.us-east-1.amazonaws.com/api")
    sent = _sent_to(chalice_client)
    assert sent.url == f"http://{LOCAL}/api/@connections/Zm9v"
    assert b"AWS4-HMAC-SHA256" in sent.authorization  # still signed (after the rewrite)
    elsewhere = _client(session, "https://other12345.execute-api.us-east-1.amazonaws.com/api")
    assert _sent_to(elsewhere).url.startswith("https://other12345.execute-api.")


@pytest.mark.usefixtures("clean_botocore")
def test_the_default_session_made_before_install_is_redirected_too() -> None:
    default = boto3.setup_default_session()
    del default
    environ = {
        _management_redirect.ENDPOINT_VARIABLE: f"http://{LOCAL}/api",
        _management_redirect.API_ID_VARIABLE: "abcdef1234",
    }
    assert install(environ)
    assert boto3.DEFAULT_SESSION is not None
    sent = _sent_to(_client(boto3.DEFAULT_SESSION, f"https://{LOCAL}/api"))
    assert sent.url == f"http://{LOCAL}/api/@connections/Zm9v"


@pytest.mark.usefixtures("clean_botocore")
def test_nothing_is_installed_without_a_local_websocket_api() -> None:
    before = list(handlers.BUILTIN_HANDLERS)
    assert not install({_management_redirect.ENDPOINT_VARIABLE: f"http://{LOCAL}/api"})
    assert before == handlers.BUILTIN_HANDLERS
