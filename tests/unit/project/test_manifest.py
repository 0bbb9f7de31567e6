"""The manifest carries each route's authorizer as plain data, read in a child process."""

from __future__ import annotations

import json
from pathlib import Path

from lambic.project.manifest import AppManifest, read_manifest

APP = """
from lambic import Lambic, CognitoUserPoolAuthorizer

app = Lambic("guarded")
POOL = "arn:aws:cognito-idp:us-east-1:1:userpool/p"
pool = CognitoUserPoolAuthorizer("users", provider_arns=[POOL])


@app.authorizer(ttl_seconds=10, header="X-Key")
def gate(request):
    return None


@app.route("/a", authorizer=gate)
def a():
    return {}


@app.route("/b", authorizer=pool.with_scopes(["s/read"]))
def b():
    return {}


@app.route("/c")
def c():
    return {}
"""


def test_route_authorizers_survive_the_child_and_a_json_round_trip(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)

    manifest = read_manifest(tmp_path)
    again = AppManifest.from_json(json.loads(json.dumps(manifest.to_json())))

    for read in (manifest, again):
        assert read.routes["/a"]["GET"].authorizer == {
            "kind": "builtin",
            "name": "gate",
            "function": "gate",
            "header": "X-Key",
            "ttl_seconds": 10,
            "scopes": [],
        }
        cognito = read.routes["/b"]["GET"].authorizer
        assert cognito is not None
        assert (cognito["kind"], cognito["scopes"]) == ("cognito", ["s/read"])
        assert read.routes["/c"]["GET"].authorizer is None
