"""The kubelet exec credential provider: the ``pullkey`` executable's entry point.

The kubelet runs ``pullkey [args]`` with a ``CredentialProviderRequest`` on stdin and reads one
``CredentialProviderResponse`` from stdout (spec/kubelet.md §e.3). On any failure: one line on
stderr, nothing on stdout, exit 1. On a TTY with nothing piped in: usage on stderr, exit 2.

This is the hot path the kubelet pays for on every uncached pull, so it imports only ``os``,
``sys`` and the Rust core; JSON in and out is done in Rust. Any other subcommand is handed to
``pullkey.cli`` (argparse and friends are imported only then).
"""

from __future__ import annotations

import sys

MAX_REQUEST_BYTES = 1 << 20
USAGE = """\
usage: pullkey [--config FILE] [--root-dir DIR] [--search-policy merge|first] [--strict]
               [--cache-policy auto|Image|Registry|Global] [--v=N] [get-credentials] < request.json
       pullkey {explain,parse,check,kubelet-config,serve,version} ...   (pullkey --help for more)

With no subcommand pullkey is a kubelet image credential provider: it reads one
CredentialProviderRequest (credentialprovider.kubelet.k8s.io v1, v1beta1 or v1alpha1) on stdin
and writes the CredentialProviderResponse on stdout.
"""

_VALUE_FLAGS = {"--config", "--root-dir", "--search-policy", "--cache-policy", "--cache-duration"}


def _parse_exec_args(argv: list[str]) -> dict[str, str] | None:
    """Hand-parses the exec invocation; ``None`` when argv is not an exec invocation (a subcommand,
    --help, an unknown flag: argparse in pullkey.cli then gives the proper message)."""
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "get-credentials":
            i += 1
            continue
        name, eq, value = arg.partition("=")
        if name in _VALUE_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                i += 1
                value = argv[i]
            opts[name] = value
        elif name == "--strict" and not eq:
            opts["--strict"] = "1"
        # klog verbosity flags that kubelet configs written for other plugins pass (--v=3, -v 3, -v=3).
        elif name in ("--v", "-v"):
            if not eq:
                if i + 1 >= len(argv):
                    return None
                i += 1
                value = argv[i]
            if not value.isdigit():
                return None
            opts["v"] = value
        else:
            return None
        i += 1
    return opts


def _run(opts: dict[str, str]) -> int:
    from pullkey import _sources
    from pullkey.errors import PullkeyError

    if sys.stdin is None or sys.stdin.isatty():
        _sources.write_err(USAGE)
        return 2
    request = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
    try:
        duration = opts.get("--cache-duration")
        settings = _sources.load_settings(
            config_path=opts.get("--config"),
            root_dir=opts.get("--root-dir"),
            search_policy=opts.get("--search-policy"),
            strict=True if "--strict" in opts else None,
            cache_policy=opts.get("--cache-policy"),
            cache_duration=None if duration is None else _parse_duration(duration),
        )
        keyring, warnings, _, _ = _sources.build(settings)
        if int(opts.get("v", "0")) >= 1:
            for warning in warnings:
                _sources.write_err(f"pullkey: warning: {warning}")
        response = keyring.exec_respond(request, settings.cache_policy, settings.cache_duration)
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


def _parse_duration(text: str) -> int:
    from pullkey import _core

    return _core.parse_duration_seconds(text)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = _parse_exec_args(args)
    if opts is None:
        from pullkey.cli import main as cli_main

        return cli_main(args)
    return _run(opts)


def launch() -> None:
    """Entry point of the installed ``pullkey`` script."""
    args = sys.argv[1:]
    try:
        code = main(args)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
