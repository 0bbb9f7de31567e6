from __future__ import annotations

from lambic.app import CORSConfig
from lambic.app.cors import preflight_headers


def test_default_cors_headers_match_chalice() -> None:
    assert CORSConfig().get_access_control_headers() == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": (
            "Authorization,Content-Type,X-Amz-Date,X-Amz-Security-Token,X-Api-Key"
        ),
    }


def test_custom_cors_adds_expose_max_age_and_credentials() -> None:
    cors = CORSConfig(
        allow_origin="https://a.example",
        allow_headers=["X-Custom"],
        expose_headers=["X-A", "X-B"],
        max_age=600,
        allow_credentials=True,
    )
    headers = cors.get_access_control_headers()
    assert headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert "X-Custom" in headers["Access-Control-Allow-Headers"].split(",")
    assert headers["Access-Control-Expose-Headers"] == "X-A,X-B"
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert cors == CORSConfig(
        allow_origin="https://a.example",
        allow_headers=["X-Custom"],
        expose_headers=["X-A", "X-B"],
        max_age=600,
        allow_credentials=True,
    )
    assert cors != CORSConfig()


def test_preflight_without_cors_allows_only_options() -> None:
    assert preflight_headers(None, []) == {"Access-Control-Allow-Methods": "OPTIONS"}
    assert preflight_headers(CORSConfig(), ["GET"])["Access-Control-Allow-Methods"] == (
        "GET,OPTIONS"
    )
