"""The kubelet exec credential provider: the ``pullkey`` executable's entry point.

The kubelet runs ``pullkey [args]`` with a ``CredentialProviderRequest`` on stdin and reads one
``CredentialProviderResponse`` from stdout (docs/kubelet.md §e.3). On any failure: one line on
stderr, nothing on stdout, exit 1. On a TTY with nothing piped in: usage on stderr, exit 2.

This is the hot path the kubelet pays for on every uncached pull, so it imports only ``os``,
``sys`` and the Rust core; JSON in and out is done in Rust. The flags are the shared flag table of
:mod:`pullkey.options` (hand-parsed here); anything else (a subcommand, ``--help``, a flag the table
does not know) is handed to :mod:`pullkey.cli`, where argparse gives the proper answer.
"""

from __future__ import annotations

import sys

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey.options import Options

MAX_REQUEST_BYTES = 1 << 20
USAGE = """\
usage: pullkey [--config FILE] [--root-dir DIR] [--search-policy merge|first] [--strict]
               [--cache-policy auto|Image|Registry|Global] [--cache-duration D] [--v=N]
               [get-credentials] < request.json
       pullkey {explain,parse,check,kubelet-config,serve,version} ...   (pullkey --help for more)

With no subcommand pullkey is a kubelet image credential provider: it reads one
CredentialProviderRequest (credentialprovider.kubelet.k8s.io v1, v1beta1 or v1alpha1) on stdin
and writes the CredentialProviderResponse on stdout.
"""


def run(options: Options) -> int:
    """Answers the request on stdin with the loader's state for ``options`` (the exec plugin, and
    ``pullkey get-credentials`` when argparse had to read the flags)."""
    from pullkey import _core, _sources
    from pullkey.errors import PullkeyError

    if sys.stdin is None or sys.stdin.isatty():
        _sources.write_err(USAGE)
        return 2
    request = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
    try:
        state = _sources.load(options)
        settings = state.settings
        if settings.verbosity >= 1:
            for warning in state.warnings:
                _sources.write_err(f"pullkey: warning: {warning}")
        keyring, duration = state.keyring, settings.cache_duration
        if settings.tenants is not None:  # credential sets chosen by the request's service-account token
            from pullkey import tenants

            keyring, duration, note = tenants.exec_keyring(state, request)
            if note is not None:
                _sources.write_err(note)
        response = _core._exec_respond(keyring, request, settings.cache_policy, duration)
    except PullkeyError as e:
        _sources.write_err(f"pullkey: {e}")
        return 1
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # incl. pyo3's PanicException; the kubelet logs one line
        # No traceback: it could quote request or file content. The class name says what broke.
        _sources.write_err(f"pullkey: internal error ({type(e).__name__}); please report it")
        return 1
    sys.stdout.buffer.write(response)
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    from pullkey import options
    from pullkey.errors import PullkeyError

    args = sys.argv[1:] if argv is None else argv
    values = options.parse_exec_args(args)
    if values is None:
        from pullkey.cli import main as cli_main

        return cli_main(args)
    try:
        opts = options.options_from(values)
    except PullkeyError as e:  # a malformed --cache-duration
        from pullkey._sources import write_err

        tty = sys.stdin is None or sys.stdin.isatty()
        write_err(USAGE if tty else f"pullkey: {e}")
        return 2 if tty else 1
    return run(opts)


def launch() -> None:
    """Entry point of the installed ``pullkey`` script."""
    args = sys.argv[1:]
    try:
        code = main(args)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
