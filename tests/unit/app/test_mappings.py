from __future__ import annotations

import pytest

from lambic.app._mappings import CaseInsensitiveMapping, MultiDict


def test_multidict_gives_last_value_and_keeps_all() -> None:
    values = MultiDict({"a": ["1", "2"], "b": ["x"]})
    assert values["a"] == "2"
    assert values.getlist("a") == ["1", "2"]
    assert dict(values) == {"a": "2", "b": "x"}
    values["c"] = "new"
    assert values.getlist("c") == ["new"]
    del values["b"]
    assert list(values) == ["a", "c"]
    with pytest.raises(KeyError):
        _ = values["missing"]
    with pytest.raises(KeyError):
        _ = MultiDict({"empty": []})["empty"]
    assert len(MultiDict(None)) == 0


def test_case_insensitive_mapping_stores_lowercase_keys() -> None:
    headers = CaseInsensitiveMapping({"Content-Type": "text/plain"})
    assert headers["CONTENT-TYPE"] == "text/plain"
    assert headers.get("content-type") == "text/plain"
    assert "Content-type" in headers
    assert list(headers) == ["content-type"]
    assert len(CaseInsensitiveMapping(None)) == 0
