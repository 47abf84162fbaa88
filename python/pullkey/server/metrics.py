"""Prometheus metrics (text exposition format 0.0.4): call counts and latencies per method, reloads, the
served state, and the standard ``process_*`` families, served at ``GET /metrics`` by a small asyncio
HTTP/1.1 responder.

NOTE: not ``prometheus_client``: measured with bench/grpc_bench.py at 100,000 entries (release build),
importing it (it pulls in ``http.server``, ``urllib.request``, ``email``, ``ssl``...) took the daemon's
steady RSS from 58.2 / 59.5 MiB (after loading / after the load runs) to 63.1 / 64.3 MiB, over the
64 MiB budget (docs/architecture.md). The format is a few lines of text; the process families are
read from ``/proc`` the way the client libraries do (Linux only; elsewhere they are left out).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import resource

import grpc

LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _family(name: str, kind: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def process_families() -> list[str]:
    """``process_*`` as the Prometheus client libraries name them, from ``/proc/self`` (empty elsewhere)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith(b"btime "))
        open_fds = len(os.listdir("/proc/self/fd"))
    except (OSError, IndexError, ValueError, StopIteration):
        return []
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    # fields after the command name, 0-based: 11 utime, 12 stime, 19 starttime, 20 vsize, 21 rss (pages)
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    max_fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return [
        *_family(
            "process_cpu_seconds_total",
            "counter",
            "CPU seconds this process used (user + system).",
            [f"process_cpu_seconds_total {cpu!r}"],
        ),
        *_family(
            "process_virtual_memory_bytes",
            "gauge",
            "Bytes of address space mapped by this process.",
            [f"process_virtual_memory_bytes {int(fields[20])}"],
        ),
        *_family(
            "process_resident_memory_bytes",
            "gauge",
            "Bytes of this process held in RAM (RSS).",
            [f"process_resident_memory_bytes {int(fields[21]) * page}"],
        ),
        *_family(
            "process_start_time_seconds",
            "gauge",
            "When this process started, in seconds since the Unix epoch.",
            [f"process_start_time_seconds {boot + int(fields[19]) / ticks!r}"],
        ),
        *_family(
            "process_open_fds", "gauge", "File descriptors this process has open.", [f"process_open_fds {open_fds}"]
        ),
        *_family(
            "process_max_fds",
            "gauge",
            "The soft limit on open file descriptors (RLIMIT_NOFILE).",
            [f"process_max_fds {max_fds}"],
        ),
    ]


class Metrics:
    """Counters per (method, code), a latency histogram per method, reload outcomes and the loaded state."""

    def __init__(self) -> None:
        self.handled: dict[tuple[str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.reloads: dict[str, int] = {"success": 0, "failure": 0}
        self.loaded = 0
        self.credentials = 0

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        """Count one finished call of ``method`` (``/package.Service/Method``)."""
        key = (method, code.name)
        self.handled[key] = self.handled.get(key, 0) + 1
        counts = self.buckets.get(method)
        if counts is None:
            counts = self.buckets[method] = [0] * (len(LATENCY_BUCKETS) + 1)
            self.sums[method] = 0.0
        counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.sums[method] += seconds

    def reload_succeeded(self, credentials: int) -> None:
        self.reloads["success"] += 1
        self.loaded = 1
        self.credentials = credentials

    def reload_failed(self) -> None:
        self.reloads["failure"] += 1

    def render(self) -> str:
        """The current values in the Prometheus text format."""

        def labels(method: str) -> str:
            service, _, name = method.lstrip("/").partition("/")
            return f'grpc_service="{service}",grpc_method="{name}"'

        handled = [
            f'pullkey_grpc_server_handled_total{{{labels(method)},grpc_code="{code}"}} {n}'
            for (method, code), n in sorted(self.handled.items())
        ]
        latency = []
        for method, counts in sorted(self.buckets.items()):
            running = 0
            for le, n in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                running += n
                bound = "+Inf" if le == float("inf") else repr(le)
                latency.append(
                    f'pullkey_grpc_server_handling_seconds_bucket{{{labels(method)},le="{bound}"}} {running}'
                )
            latency.append(f"pullkey_grpc_server_handling_seconds_sum{{{labels(method)}}} {self.sums[method]!r}")
            latency.append(f"pullkey_grpc_server_handling_seconds_count{{{labels(method)}}} {running}")
        out = [
            *_family(
                "pullkey_grpc_server_handled_total",
                "counter",
                "RPCs completed on the server, by method and status code.",
                handled,
            ),
            *_family(
                "pullkey_grpc_server_handling_seconds",
                "histogram",
                "Latency of unary RPCs handled by the server.",
                latency,
            ),
            *_family(
                "pullkey_reloads_total",
                "counter",
                "Source reloads by outcome.",
                [f'pullkey_reloads_total{{result="{k}"}} {v}' for k, v in sorted(self.reloads.items())],
            ),
            *_family(
                "pullkey_loaded",
                "gauge",
                "1 when a configuration is loaded and served.",
                [f"pullkey_loaded {self.loaded}"],
            ),
            *_family(
                "pullkey_credentials",
                "gauge",
                "Credentials (keyring entries) in the served state.",
                [f"pullkey_credentials {self.credentials}"],
            ),
            *process_families(),
        ]
        return "\n".join(out) + "\n"


class MetricsServer:
    """``GET /metrics`` on HOST:PORT (plain HTTP/1.1, one request per connection); any other path is 404."""

    def __init__(self, metrics: Metrics, server: asyncio.Server) -> None:
        self.metrics = metrics
        self._server = server

    @classmethod
    async def start(cls, metrics: Metrics, host: str, port: int) -> MetricsServer:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5.0)
                method, _, rest = head.partition(b" ")
                target = rest.split(b" ", 1)[0].split(b"?", 1)[0]
                if method != b"GET":
                    status, body, ctype = "405 Method Not Allowed", b"method not allowed\n", "text/plain"
                elif target == b"/metrics":
                    status, body, ctype = "200 OK", metrics.render().encode(), CONTENT_TYPE
                else:
                    status, body, ctype = "404 Not Found", b"see /metrics\n", "text/plain"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                    "Connection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                pass
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

        return cls(metrics, await asyncio.start_server(handle, host, port, limit=8192))

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()
