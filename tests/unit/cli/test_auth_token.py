"""`lambic auth token`: a token the project's Cognito authorizer accepts, or one clear line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lambic.cli.main import main
from lambic.project.paths import ProjectPaths
from lambic.runtime.authorization import LocalIssuer
from lambic.runtime.authorization.cognito import check_user_pool_token

POOL = "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_cli"
APP = f"""
from lambic import Lambic, CognitoUserPoolAuthorizer

app = Lambic("cli")
pool = CognitoUserPoolAuthorizer("users", provider_arns=["{POOL}"])


@app.route("/me", authorizer=pool)
def me():
    return {{}}
"""


def project(root: Path) -> Path:
    (root / ".lambic").mkdir()
    (root / ".lambic" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "cli", "stages": {"dev": {}}})
    )
    (root / "app.py").write_text(APP)
    return root


def test_mints_an_access_token_for_the_apps_only_pool(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = CliRunner().invoke(
        main,
        ["auth", "token", "--user", "alice", "--scope", "s/read", "--project-dir", str(root)],
    )

    assert result.exit_code == 0, result.output
    keys = LocalIssuer(ProjectPaths(root).local_issuer_key("dev")).public_keys()
    claims = check_user_pool_token(
        result.output.strip(), keys=keys, provider_arns=[POOL], scopes=["s/read"]
    )
    assert (claims["username"], claims["token_use"]) == ("alice", "access")


def test_an_unknown_pool_is_one_line_saying_what_to_pass(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = CliRunner().invoke(
        main, ["auth", "token", "--pool", "nope", "--project-dir", str(root)]
    )

    assert result.exit_code != 0
    assert "No user pool 'nope'" in result.output
    assert "pass one of their ARNs, ids or names" in result.output
