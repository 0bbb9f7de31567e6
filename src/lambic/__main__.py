"""The `lambic` command: the console script (`lambic.__main__:main`) and `python -m lambic`.

`lambic local` starts its zygote's process before anything else is imported
(`_zygote_launch.launch_ahead`: the CLI's imports then run beside the zygote's own
start instead of before it), then has its options parsed in a short-lived fork
(`cli.parse_ahead`) and serves them in a process that never imports click. Any other
command (or `lambic local` where this process cannot fork) runs the click group here.
"""

from __future__ import annotations

import sys

from lambic.runtime._zygote_launch import is_local_command, launch_ahead

__all__ = ["main"]


def main() -> None:
    """Run the `lambic` command line (`sys.argv`)."""
    # Any other command, or an import by a test, does nothing here.
    launch_ahead(sys.argv)
    options = None
    if is_local_command(sys.argv):  # any other command imports nothing more here
        from lambic.cli.parse_ahead import local_options

        options = local_options(sys.argv)
    if options is None:
        from lambic.cli.main import main as command_line

        command_line()
        return
    from lambic.cli.local_serve import serve
    from lambic.cli.user_errors import EXIT_STATUS, error_line, user_errors

    try:
        serve(options)
    except Exception as exc:
        if not isinstance(exc, user_errors()):
            raise
        print(error_line(str(exc)), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_STATUS) from None


if __name__ == "__main__":
    main()
