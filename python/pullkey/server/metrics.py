"""Prometheus metrics (``prometheus_client``): call counts and latencies per method, reloads, the served
state, and the library's standard ``process_*``, ``python_gc_*`` and ``python_info`` families.

Each server has its own registry (several servers can live in one process, as in the tests); the HTTP
endpoint is ``GET /metrics`` on ``--metrics-listen``, served from a thread by the standard library's WSGI
server with the library's exposition app (format negotiated from ``Accept``, gzip when asked).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import grpc
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_wsgi_app,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The server's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(standard)  # the families of prometheus_client's default registry
        self._handled = Counter(
            "pullkey_grpc_server_handled",
            "RPCs completed on the server, by method and status code.",
            ("grpc_service", "grpc_method", "grpc_code"),
            registry=self.registry,
        )
        self._latency = Histogram(
            "pullkey_grpc_server_handling_seconds",
            "Latency of unary RPCs handled by the server.",
            ("grpc_service", "grpc_method"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._reloads = Counter("pullkey_reloads", "Source reloads by outcome.", ("result",), registry=self.registry)
        for result in ("success", "failure"):
            self._reloads.labels(result)  # both series exist from the start, at 0
        self._loaded = Gauge("pullkey_loaded", "1 when a configuration is loaded and served.", registry=self.registry)
        self._credentials = Gauge(
            "pullkey_credentials", "Credentials (keyring entries) in the served state.", registry=self.registry
        )
        # NOTE: the labelled children per (method, code), so that a call costs no label lookup; bounded by
        # the registered methods (the interceptor only sees those) times the status codes.
        self._children: dict[tuple[str, grpc.StatusCode], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        """Count one finished call of ``method`` (``/package.Service/Method``)."""
        children = self._children.get((method, code))
        if children is None:
            service, _, name = method.lstrip("/").partition("/")
            children = (self._handled.labels(service, name, code.name), self._latency.labels(service, name))
            self._children[(method, code)] = children
        children[0].inc()
        children[1].observe(seconds)

    def reload_succeeded(self, credentials: int) -> None:
        self._reloads.labels("success").inc()
        self._loaded.set(1)
        self._credentials.set(credentials)

    def reload_failed(self) -> None:
        self._reloads.labels("failure").inc()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr (the daemon's log is structured)."""


class MetricsServer:
    """``GET /metrics`` on HOST:PORT in a daemon thread; any other path is 404."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        exposition = make_wsgi_app(metrics.registry)

        def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/metrics":
                result: Iterable[bytes] = exposition(environ, start_response)
                return result
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"see /metrics\n"]

        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        server_class = _Server6 if family == socket.AF_INET6 else _Server
        self._httpd = make_server(host, port, app, server_class=server_class, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="pullkey-metrics", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def close(self) -> None:
        """Stop accepting and release the port (blocks for up to the serve loop's 0.5 s poll)."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
