from __future__ import annotations

import lambic.services.sqs as sqs


def test_all_lists_exactly_the_public_names() -> None:
    # isidentifier: pytest rewrites asserts in the modules of a plugin's distribution
    # (Lambic has one), which adds `@py_builtins` and `@pytest_ar` to their namespace.
    public = {name for name in vars(sqs) if not name.startswith("_") and name.isidentifier()}
    submodules = {"engine", "errors", "model", "service", "store", "protocol", "operations"}
    imported_helpers = {"annotations", "Path", "open_database", "Durability", "LOCAL_REGION"}
    imported_helpers |= {"Meter"}
    assert set(sqs.__all__) == public - submodules - imported_helpers
    assert len(sqs.__all__) == len(set(sqs.__all__))
