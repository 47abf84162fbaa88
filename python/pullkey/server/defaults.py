"""Defaults of the server's knobs (the flags of :mod:`pullkey.server.cli` override them) and the fixed bounds.

Every input has a bounded cost: these are the numbers (the limits table of SECURITY.md quotes them).
"""

from __future__ import annotations

import dataclasses

#: Bytes, both directions (gRPC's own default).
MAX_MESSAGE_SIZE = 4 * 1024 * 1024
#: Images per ``BatchGetCredentials``.
MAX_BATCH = 10_000
#: Seconds in-flight calls get on SIGTERM.
GRACE = 5.0
#: Seconds between source file checks.
WATCH_INTERVAL = 1.0
#: Images whose encoded answers are memoised until the next reload.
ANSWER_CACHE = 4096
#: Bytes the answer memo may hold (images + answers + error messages).
ANSWER_CACHE_BYTES = 8 << 20
#: Images longer than this are answered but never memoised (a valid reference is at most ~530 bytes).
ANSWER_CACHE_MAX_IMAGE = 1024
#: Seconds any RPC may run on the server, whatever deadline the client set (or none).
MAX_RPC_SECONDS = 30.0
#: Concurrent RPCs; more are refused with RESOURCE_EXHAUSTED (gRPC's ``maximum_concurrent_rpcs``).
MAX_CONCURRENT_RPCS = 1024
#: Concurrent HTTP/2 streams per connection (``grpc.max_concurrent_streams``).
MAX_STREAMS_PER_CONNECTION = 128
#: Open client connections (``grpc.max_allowed_incoming_connections``; the peer gate's cap on a shared socket).
MAX_CONNECTIONS = 1024
#: Bytes of encoded answers the server may hold for callers that have not read them yet; new lookups
#: are refused with RESOURCE_EXHAUSTED beyond it.
MAX_PENDING_ANSWER_BYTES = 64 << 20
#: A connection with no call for this long is closed (clients reconnect transparently).
MAX_CONNECTION_IDLE_SECONDS = 300.0
#: A connection is asked to go away after this long; its calls then get MAX_RPC_SECONDS before it is closed.
MAX_CONNECTION_AGE_SECONDS = 3600.0
#: The server pings a connection silent for this long and closes it when no answer comes within the timeout.
KEEPALIVE_SECONDS = 60.0
KEEPALIVE_TIMEOUT_SECONDS = 20.0
#: ``Explain`` calls computed at once (each walks the whole keyring); more wait for a slot.
EXPLAIN_CONCURRENCY = 2
#: Characters of an error message sent as status details or logged (the rest is elided).
MAX_ERROR_DETAILS = 512
#: Reload warnings logged one by one (the rest are counted).
MAX_LOGGED_WARNINGS = 50


@dataclasses.dataclass(frozen=True)
class Limits:
    """The server-wide bounds that have a flag (see ``pullkey serve --help``)."""

    max_rpc_seconds: float = MAX_RPC_SECONDS
    max_connections: int = MAX_CONNECTIONS
    max_pending_answer_bytes: int = MAX_PENDING_ANSWER_BYTES
    answer_cache_bytes: int = ANSWER_CACHE_BYTES
    max_connection_idle: float = MAX_CONNECTION_IDLE_SECONDS
    max_connection_age: float = MAX_CONNECTION_AGE_SECONDS
    keepalive: float = KEEPALIVE_SECONDS
