"""``pullkey serve``: the gRPC service (``pullkey.v1.CredentialService``) over :class:`pullkey.service.Resolver`.

A thin adapter over the transport-neutral resolver (docs/architecture.md, "the boundary rule"), one
module per job:

- :mod:`~pullkey.server.listen`: ``--listen`` addresses; :mod:`~pullkey.server.unix_socket`: the socket is
  0600, a directory pullkey creates 0700, an existing one never chmodded; a stale socket is replaced, a live
  one is an error; :mod:`~pullkey.server.peercred`: ``--allow-uid``/``--allow-gid`` against ``SO_PEERCRED``.
  TCP only with mTLS (``--tls-client-ca``, certificates reloaded by :mod:`~pullkey.server.tls`) unless
  ``--allow-unauthenticated-clients`` (TLS) or ``--insecure`` (plaintext) is explicit;
- :mod:`~pullkey.server.servicer`: each RPC converts the request (:mod:`~pullkey.server.convert`) and asks
  the :mod:`~pullkey.server.daemon`, which holds the resolver, ``grpc.health.v1`` (NOT_SERVING until the
  sources are loaded), the reloads (SIGHUP, the ``Reload`` RPC, a changed source: :mod:`~pullkey.server.watch`)
  and the answer memo (:mod:`~pullkey.server.memo`, bounded in entries and bytes);
- :mod:`~pullkey.server.interceptor`: the one place that decodes requests, applies the server deadline and
  the pending-answer budget, maps errors to status codes and feeds :mod:`~pullkey.server.metrics`
  (Prometheus, ``--metrics-listen``); :mod:`~pullkey.server.defaults`: every bound, in one place;
- :mod:`~pullkey.server.app`: :func:`create_server` and :func:`serve` (SIGTERM/SIGINT: health NOT_SERVING,
  in-flight calls finish within ``--grace`` seconds, exit 0); :mod:`~pullkey.server.cli`: the flags and
  ``main`` (:mod:`~pullkey.server.flags`: who may call and the bounds); :mod:`~pullkey.server.logs`:
  stderr, ``--log-format text|json``, never a secret.
"""

from __future__ import annotations

from pullkey.server.app import PullkeyServer, ServerSettings, create_server, serve
from pullkey.server.cli import main
from pullkey.server.listen import ListenError, UsageError

__all__ = ["ListenError", "PullkeyServer", "ServerSettings", "UsageError", "create_server", "main", "serve"]
