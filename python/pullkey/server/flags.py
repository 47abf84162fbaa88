"""The ``pullkey serve`` flags of the hardening bounds and of who may call (added to the parser by
:func:`pullkey.server.cli.build_parser`), and their mapping onto :class:`~pullkey.server.app.ServerSettings`."""

from __future__ import annotations

import argparse
import dataclasses

from pullkey.server import defaults
from pullkey.server.app import ServerSettings
from pullkey.server.defaults import Limits

#: The rules ``pullkey serve --help`` states after the flags.
EPILOG = f"""\
who may call:
  unix:// (the default): the socket is 0600, owned by the server's uid; only that uid and root can connect.
  --allow-uid/--allow-gid admit more callers by their kernel-reported credentials (SO_PEERCRED and
  SO_PEERGROUPS, checked before a byte is read): the socket becomes 0660 with the first gid as its group
  (0666 when other uids are allowed) and pullkey refuses every connection of a caller not listed.
  tcp:// needs TLS with client certificates (--tls-client-ca), or --allow-unauthenticated-clients (TLS
  without client authentication), or --insecure (plaintext): the last two serve every credential to
  anyone who can reach the port and are logged as a WARNING at start.

socket directory:
  a directory pullkey creates gets mode 0700 (0711 with --allow-uid/--allow-gid); an existing one is
  never chmodded, and is refused when another user than this process's or root owns it, or when others
  can write to it without the sticky bit.

bounds:
  every call ends within --max-rpc-seconds (whatever deadline the client set); a batch whose answer
  cannot fit --max-message-size is refused up front or as soon as it outgrows it; a connection idle
  for {defaults.MAX_CONNECTION_IDLE_SECONDS:g} s is closed, every connection is renewed after \
{defaults.MAX_CONNECTION_AGE_SECONDS:g} s, and a silent
  peer is pinged after {defaults.KEEPALIVE_SECONDS:g} s and dropped {defaults.KEEPALIVE_TIMEOUT_SECONDS:g} s later.
"""


def add_hardening_flags(p: argparse.ArgumentParser) -> None:
    """Who may call and the server-wide bounds."""
    p.add_argument(
        "--allow-unauthenticated-clients",
        action="store_true",
        help="serve a TLS tcp:// listener without --tls-client-ca: ANY caller reaching the port gets every credential",
    )
    p.add_argument(
        "--allow-uid",
        dest="allow_uids",
        metavar="UID",
        type=int,
        action="append",
        help="also admit callers of this uid on the Unix socket (repeatable; default: the server's uid and root)",
    )
    p.add_argument(
        "--allow-gid",
        dest="allow_gids",
        metavar="GID",
        type=int,
        action="append",
        help="also admit callers in this group (primary or supplementary; repeatable); the socket becomes 0660",
    )
    p.add_argument(
        "--max-rpc-seconds",
        type=float,
        default=defaults.MAX_RPC_SECONDS,
        help="server-side deadline of every call, applied even when the client sets none",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=defaults.MAX_CONNECTIONS,
        help="open client connections; more are refused (the fd limit is raised to its hard limit at start)",
    )
    p.add_argument(
        "--max-pending-answer-bytes",
        type=int,
        default=defaults.MAX_PENDING_ANSWER_BYTES,
        help="encoded answers held for callers that have not read them; lookups beyond it: RESOURCE_EXHAUSTED",
    )
    p.add_argument(
        "--answer-cache-bytes",
        type=int,
        default=defaults.ANSWER_CACHE_BYTES,
        help="bytes the answer memo may hold (images longer than "
        f"{defaults.ANSWER_CACHE_MAX_IMAGE} bytes are never memoised)",
    )
    p.set_defaults(max_concurrent_rpcs=defaults.MAX_CONCURRENT_RPCS)
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter


def with_hardening(settings: ServerSettings, args: argparse.Namespace) -> ServerSettings:
    """``settings`` with the flags of :func:`add_hardening_flags`."""
    return dataclasses.replace(
        settings,
        allow_unauthenticated_clients=args.allow_unauthenticated_clients,
        allow_uids=args.allow_uids,
        allow_gids=args.allow_gids,
        limits=Limits(
            max_rpc_seconds=args.max_rpc_seconds,
            max_connections=args.max_connections,
            max_pending_answer_bytes=args.max_pending_answer_bytes,
            answer_cache_bytes=args.answer_cache_bytes,
        ),
    )
