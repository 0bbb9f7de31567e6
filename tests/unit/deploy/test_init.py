from __future__ import annotations

import lambic.deploy


def test_all_lists_exactly_the_public_names_sorted() -> None:
    public = {
        name
        for name, value in vars(lambic.deploy).items()
        if not name.startswith("_")
        and not isinstance(value, type(lambic.deploy))
        and name != "annotations"
    }
    assert set(lambic.deploy.__all__) == public
    assert lambic.deploy.__all__ == sorted(lambic.deploy.__all__)
