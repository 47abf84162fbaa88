"""``pullkey serve``: its flags, the mapping flags -> :class:`pullkey.service.Options` and
:class:`ServerSettings`, and ``main`` (exit codes).

NOTE: the source flags (``--config`` ... ``--cache-duration``, ``--v``) are the flags every entry point
shares: declared and mapped by :mod:`pullkey.options` (``add_source_flags``, ``options_from``) only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from pullkey import errors
from pullkey.options import Options, add_source_flags, options_from
from pullkey.server import defaults, logs, memory
from pullkey.server.app import ServerSettings, serve
from pullkey.server.flags import add_hardening_flags, with_hardening
from pullkey.server.listen import ListenError, UsageError, default_listen

log = logging.getLogger("pullkey.grpc")


def build_options(
    config: str | None,
    root_dir: str | None,
    search_policy: str | None,
    *,
    strict: bool | None = None,
    cache_policy: str | None = None,
    cache_duration: str | None = None,
) -> Options:
    """:class:`pullkey.options.Options` from the shared flags' values (for tests and embedders; the
    command line goes through :func:`pullkey.options.options_from` like every other entry point).
    ``cache_duration`` is a Go duration string ("5m"); raises ``ConfigError`` when malformed."""
    values = {"config": config, "root_dir": root_dir, "search_policy": search_policy, "strict": strict}
    return options_from({**values, "cache_policy": cache_policy, "cache_duration": cache_duration})


def build_parser() -> argparse.ArgumentParser:
    """The ``pullkey serve`` command line."""
    p = argparse.ArgumentParser(
        prog="pullkey serve",
        description="Serve pullkey.v1.CredentialService (plus grpc.health.v1 and reflection) over gRPC.",
        allow_abbrev=False,
    )
    p.add_argument(
        "--listen",
        default=None,
        help=f"unix:///PATH (default: {default_listen()}) or tcp://HOST:PORT (TLS flags or --insecure)",
    )
    p.add_argument("--tls-cert", help="PEM server certificate (chain) for a tcp:// listener")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument("--tls-client-ca", help="PEM CA bundle: require client certificates signed by it (mTLS)")
    p.add_argument("--insecure", action="store_true", help="allow plaintext TCP (no TLS, no authentication)")
    p.add_argument("--grace", type=float, default=defaults.GRACE, help="seconds in-flight calls get on SIGTERM")
    p.add_argument("--max-message-size", type=int, default=defaults.MAX_MESSAGE_SIZE, help="bytes, both ways")
    p.add_argument("--max-batch", type=int, default=defaults.MAX_BATCH, help="images per BatchGetCredentials")
    p.add_argument("--max-concurrent-rpcs", type=int, default=None, help="reject calls beyond this many")
    p.add_argument(
        "--answer-cache",
        type=int,
        default=defaults.ANSWER_CACHE,
        help="images whose encoded answers are kept until the next reload (0 = off)",
    )
    p.add_argument(
        "--watch-interval",
        type=float,
        default=defaults.WATCH_INTERVAL,
        help="seconds between source file checks (0 = no watching; SIGHUP and the Reload RPC still work)",
    )
    p.add_argument("--metrics-listen", metavar="HOST:PORT", help="serve Prometheus metrics at http://HOST:PORT/metrics")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="level of pullkey's own records (grpc and asyncio: warning, or error with --log-level error)",
    )
    add_source_flags(p)  # the shared flag table (pullkey.options), --v included: see logs.VERBOSITY_HELP
    add_hardening_flags(p)
    p.epilog = logs.VERBOSITY_HELP
    return p


def settings_from(args: argparse.Namespace) -> tuple[Options, ServerSettings]:
    """The parsed flags as the resolver's options and the server's settings; raises :class:`UsageError`."""
    try:
        options = options_from(vars(args))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = ServerSettings(
        listen=args.listen or default_listen(),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        insecure=args.insecure,
        grace=args.grace,
        max_message_size=args.max_message_size,
        max_batch=args.max_batch,
        max_concurrent_rpcs=args.max_concurrent_rpcs,
        answer_cache_size=args.answer_cache,
        watch_interval=args.watch_interval,
        metrics_listen=args.metrics_listen,
    )
    settings = with_hardening(settings, args)
    return options, settings


def main(argv: Sequence[str] | None = None) -> int:
    """``pullkey serve [flags]`` (also ``python -m pullkey.server``). Exit 0 on SIGTERM, 2 on usage errors."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `pullkey serve -- --listen ...`: cli.py hands over everything after `serve`
        argv = argv[1:]
    args = parser.parse_args(argv)
    logs.configure_logging(args.log_format, args.log_level, getattr(args, "verbosity", None))
    memory.tune_allocator()  # before gRPC starts its threads
    try:
        options, settings = settings_from(args)
        return asyncio.run(serve(options, settings))
    except UsageError as exc:
        parser.exit(2, f"pullkey serve: error: {exc}\n")
    except (ListenError, errors.PullkeyError) as exc:
        log.error(str(exc))
        return 1
    except OSError as exc:  # e.g. no permission to create the socket directory
        log.error("cannot start", extra={"fields": {"error": exc.strerror or type(exc).__name__, "path": exc.filename}})
        return 1
