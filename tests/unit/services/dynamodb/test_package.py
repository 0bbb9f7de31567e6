"""The dynamodb package façade exports exactly its `__all__`."""

from __future__ import annotations

import lambic.services.dynamodb as dynamodb
import lambic.services.dynamodb.expressions as expressions


def test_all_lists_exactly_the_public_names() -> None:
    for module in (dynamodb, expressions):
        public = {n for n in vars(module) if not n.startswith("_") and n != "annotations"}
        submodules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
        assert sorted(module.__all__) == module.__all__
        assert set(module.__all__) == public - submodules
