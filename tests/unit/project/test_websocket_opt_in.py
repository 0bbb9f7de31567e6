"""Reading an app that uses WebSockets without Chalice's opt-in fails as Chalice fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambic.project.errors import ProjectError
from lambic.project.manifest import read_manifest

APP = """
from lambic import Lambic

app = Lambic("chat")
{opt_in}

@app.on_ws_message()
def message(event):
    return None
"""


def test_missing_opt_in_is_refused_with_chalices_message(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP.format(opt_in=""))
    with pytest.raises(ProjectError, match=r"'WEBSOCKETS'") as refused:
        read_manifest(tmp_path)
    assert "You are using experimental features without explicitly opting in." in str(refused.value)


def test_opted_in_app_reads_with_its_websocket_function(tmp_path: Path) -> None:
    opt_in = 'app.experimental_feature_flags.update(["WEBSOCKETS"])'
    (tmp_path / "app.py").write_text(APP.format(opt_in=opt_in))
    manifest = read_manifest(tmp_path)
    (function,) = manifest.functions
    assert (function.name, function.kind) == ("websocket_message", "websocket")
    assert function.event_source is not None
    assert function.event_source["route_key_handled"] == "$default"
