"""`lambic.runtime.authorization` is a façade: `__all__` lists exactly what it re-exports."""

from __future__ import annotations

import types

import lambic.runtime.authorization as authorization


def test_all_is_sorted_and_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(authorization).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(authorization.__all__) == authorization.__all__
    assert set(authorization.__all__) == public
