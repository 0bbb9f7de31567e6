from __future__ import annotations

import lambic.cost as cost


def test_all_lists_exactly_the_public_names() -> None:
    # `.isidentifier()`: pytest rewrites asserts in the modules of a package that ships a
    # plugin (Lambic does), adding `@py_builtins` and `@pytest_ar` to their namespace.
    public = {name for name in vars(cost) if not name.startswith("_") and name.isidentifier()}
    submodules = {"model", "prices", "quantities", "stage"}
    assert set(cost.__all__) == public - submodules
    assert cost.__all__ == sorted(cost.__all__)
