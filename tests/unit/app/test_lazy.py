from __future__ import annotations

import pytest

from lambic.app import Blueprint, Lambic


def test_event_decorators_resolve_on_first_use_bound_to_the_app() -> None:
    app = Lambic("lazy", configure_logs=False)
    decorator = app.on_sns_message(topic="alerts")
    handler = decorator(lambda event: None)
    assert app.event_sources[0].topic == "alerts"
    assert app.handler_map["<lambda>"] is handler
    assert callable(Blueprint(__name__).schedule)


def test_missing_attribute_still_raises_attribute_error() -> None:
    app = Lambic("lazy-missing", configure_logs=False)
    with pytest.raises(AttributeError, match="has no attribute 'on_nothing'"):
        _ = app.on_nothing  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = app.__wrapped__  # type: ignore[attr-defined]
