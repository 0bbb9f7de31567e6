"""`lambic.runtime` is a façade: `__all__` lists exactly what it re-exports, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lambic.runtime as runtime


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert sorted(runtime.__all__) == runtime.__all__
    for name in runtime.__all__:
        assert getattr(runtime, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'not_a_thing'"):
        _ = runtime.not_a_thing  # type: ignore[attr-defined]


def test_importing_one_module_does_not_import_the_invoker() -> None:
    """The log writer process and `lambic services` import single modules."""
    code = (
        "import sys, lambic.runtime.logstore, lambic.runtime.endpoint_file; "
        "print('lambic.runtime.invoker' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
