"""`lambic.runtime` is a façade: `__all__` lists exactly what it re-exports."""

from __future__ import annotations

import types

import lambic.runtime as runtime


def test_all_is_sorted_and_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(runtime).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(runtime.__all__) == runtime.__all__
    assert set(runtime.__all__) == public
