from __future__ import annotations

import lambic.services.sns as sns


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(sns) if not name.startswith("_")}
    submodules = {"engine", "errors", "filters", "model", "service", "store", "protocol"}
    imported = {"annotations", "Path", "open_database", "Durability", "SqsEngine", "SqsService"}
    imported |= {"LOCAL_REGION", "Meter"}
    submodules |= {"operations"}
    assert set(sns.__all__) == public - submodules - imported
