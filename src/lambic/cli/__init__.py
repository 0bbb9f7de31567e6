"""The `lambic` command line: thin click commands that build objects and delegate.

Each command lives in its own module and is registered on the group in `main.py`.
Errors a user can fix are raised as `CLIError` and printed once, as one line.
"""

from __future__ import annotations

import sys

from lambic.runtime._zygote_launch import launch_ahead

# `lambic local` starts its zygote's process before the imports below (click and the
# commands: ~60 ms of CPU), which then run beside the zygote's own start (boto3's
# import) instead of before it; any other command, or an import by a test, does nothing.
launch_ahead(sys.argv)

from lambic.cli.main import main  # noqa: E402  (after the zygote's start, see above)

__all__ = ["main"]
