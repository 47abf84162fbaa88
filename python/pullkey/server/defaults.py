"""Defaults of the server's knobs (the flags of :mod:`pullkey.server.cli` override them)."""

from __future__ import annotations

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
