"""The ``pullkey`` executable's entry point: the kubelet exec plugin, or the CLI.

An invocation the exec path's flag table reads (docs: :mod:`pullkey.options`) runs the exec plugin
(:mod:`pullkey._exec`, lean imports); anything else (a subcommand, ``--help``, a flag the table does
not know) goes to :mod:`pullkey.cli`, where argparse gives the proper answer. Whatever happens, at most
one line on stderr and no traceback.
"""

from __future__ import annotations

import sys

from pullkey._exec import os_error, run


def main(argv: list[str] | None = None) -> int:
    from pullkey import options
    from pullkey._sources import write_err
    from pullkey.errors import PullkeyError

    args = sys.argv[1:] if argv is None else argv
    values = options.parse_exec_args(args)
    if values is None:
        from pullkey.cli import main as cli_main

        return cli_main(args)
    try:
        opts = options.options_from(values)
    except PullkeyError as e:  # a malformed --cache-duration
        write_err(f"pullkey: {e}")
        return 1
    return run(opts)


def launch() -> None:
    """Entry point of the installed ``pullkey`` script: whatever happens, at most one line on stderr and
    no traceback (the kubelet logs a failed plugin's stderr; a traceback could quote an input)."""
    from pullkey._sources import write_err

    try:
        try:
            code = main(sys.argv[1:])
        except SystemExit as e:  # argparse: a usage error (its message written), --help, --version
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
        if sys.stdout is not None:
            sys.stdout.flush()  # the CLI's buffered output: a failure is reported here, not at exit
    except KeyboardInterrupt:
        code = 130
    except OSError as e:  # the CLI's output on a closed or broken pipe, a full disk...
        write_err(f"pullkey: {os_error(e)}")
        _discard_stdout()
        code = 1
    except UnicodeError:
        write_err("pullkey: an argument or input is not valid UTF-8")
        code = 1
    except BaseException as e:
        write_err(f"pullkey: internal error ({type(e).__name__}); please report it")
        code = 1
    sys.exit(code)


def _discard_stdout() -> None:
    """After a failed write, stdout's file descriptor is /dev/null, so the interpreter's own flush at
    exit cannot fail again (and print an "Exception ignored" traceback)."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass
