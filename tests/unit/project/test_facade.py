"""`lambic.project`'s façade: every listed name resolves, and nothing else is public."""

from __future__ import annotations

import subprocess
import sys

import lambic.project


def test_all_is_sorted_and_every_name_resolves() -> None:
    names = lambic.project.__all__
    assert sorted(names, key=lambda n: (not n.isupper(), n)) == names
    for name in names:
        assert getattr(lambic.project, name) is not None


def test_lazy_table_lists_exactly_the_public_names() -> None:
    assert set(lambic.project._LAZY) == set(lambic.project.__all__)


def test_importing_one_module_does_not_load_the_manifest_reader() -> None:
    # The manifest child and lambic.testing import single modules; the façade must not
    # drag in asyncio and subprocess with them.
    code = (
        "import sys, lambic.project.config, lambic.project.errors; "
        "print('lambic.project.manifest' in sys.modules, 'asyncio' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
