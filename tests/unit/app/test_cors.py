from __future__ import annotations

from lambic.app import CORSConfig
from lambic.app.cors import preflight_headers, resource_preflight


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


def test_resource_preflight_takes_a_config_or_its_headers_alike() -> None:
    cors = CORSConfig(allow_origin="https://a.example", allow_headers=["X-One"], max_age=30)
    from_config = resource_preflight({"GET": cors, "PUT": cors, "DELETE": None})
    from_headers = resource_preflight(
        {"GET": cors.get_access_control_headers(), "PUT": cors.get_access_control_headers()}
    )

    assert from_config == from_headers
    assert from_config is not None
    assert from_config["Access-Control-Allow-Methods"] == "GET,PUT,OPTIONS"
    assert from_config["Access-Control-Max-Age"] == "30"


def test_no_generated_preflight_without_cors_or_with_a_user_options_view() -> None:
    assert resource_preflight({"GET": None}) is None
    assert resource_preflight({"GET": CORSConfig(), "OPTIONS": None}) is None
