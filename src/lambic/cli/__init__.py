"""The `lambic` command line: thin click commands that build objects and delegate.

Each command lives in its own module and is registered on the group in `main.py`.
Errors a user can fix are raised as `CLIError` and printed once, as one line. The
console script's entry point is `lambic.__main__.main`, which starts `lambic local`
ahead of these imports (`parse_ahead`).
"""
