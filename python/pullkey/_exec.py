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
               [--helpers] [get-credentials] < request.json
       pullkey {explain,parse,check,kubelet-config,serve,version} ...   (pullkey --help for more)

With no subcommand pullkey is a kubelet image credential provider: it reads one
CredentialProviderRequest (credentialprovider.kubelet.k8s.io v1, v1beta1 or v1alpha1) on stdin
and writes the CredentialProviderResponse on stdout.
"""


def run(options: Options) -> int:
    """Answers the request on stdin with the loader's state for ``options`` (the exec plugin, and
    ``pullkey get-credentials`` when argparse had to read the flags)."""
    from pullkey import _core, _load, _sources
    from pullkey.errors import PullkeyError

    if sys.stdin is None or sys.stdin.isatty():
        _sources.write_stderr(USAGE)
        return 2
    if sys.stdout is None:  # started with file descriptor 1 closed: fail before any work
        _sources.write_err("pullkey: stdout is closed: nowhere to write the response")
        return 1
    try:
        request = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
        state = _load.load(options)
        settings = state.settings
        if settings.verbosity >= 1:
            for warning in state.warnings:
                _sources.write_err(f"pullkey: warning: {warning}")
        keyring, policy, duration = state.keyring, settings.cache_policy, settings.cache_duration
        if settings.tenants is not None:  # credential sets chosen by the request's service-account token
            from pullkey import tenants

            keyring, duration, note = tenants.exec_keyring(state, request)
            if note is not None:
                _sources.write_err(note)
        if state.helpers is not None and state.helpers.active:  # off by default (docs/helpers.md)
            from pullkey.helpers import answer_exec

            keyring, policy, duration = answer_exec(state, _core._exec_request_image(request), keyring, duration)
        if settings.upstreams:  # other kubelet plugins as a source (docs/provider-config.md "Upstream plugins")
            import os

            from pullkey.upstreams import answer_exec as upstream_answer

            environ = os.environ if options.environ is None else options.environ
            image = _core._exec_request_image(request)
            keyring, policy, duration, errors = upstream_answer(
                settings.upstreams, image, keyring, policy, duration, environ
            )
            for line in errors:
                _sources.write_err(f"pullkey: {line}")
        response = _core._exec_respond(keyring, request, policy, duration, settings.mirrors)
        write_stdout(response)
    except PullkeyError as e:
        _sources.write_err(f"pullkey: {e}")
        return 1
    except OSError as e:  # stdin or stdout: closed, full (/dev/full), a broken pipe
        _sources.write_err(f"pullkey: {os_error(e)}")
        return 1
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # incl. pyo3's PanicException; the kubelet logs one line
        # No traceback: it could quote request or file content. The class name says what broke.
        _sources.write_err(f"pullkey: internal error ({type(e).__name__}); please report it")
        return 1
    return 0


def write_stdout(data: bytes) -> None:
    """All of ``data`` on file descriptor 1, unbuffered: a failure (``OSError``) is raised here, never
    left in a buffer for the interpreter to report, with a traceback, at exit."""
    import os

    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


def os_error(e: OSError) -> str:
    """One line for an ``OSError`` (``[path: ]reason``); the path quoted."""
    from pullkey._sources import quote

    reason = e.strerror or type(e).__name__
    return f"{quote(str(e.filename))}: {reason}" if e.filename is not None else reason
