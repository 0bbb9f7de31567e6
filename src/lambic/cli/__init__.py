"""The `lambic` command line: thin click commands that build objects and delegate.

Each command lives in its own module and is registered on the group in `main.py`.
Errors a user can fix are raised as `CLIError` and printed once, as one line.
"""

from __future__ import annotations

from lambic.cli.main import main

__all__ = ["main"]
