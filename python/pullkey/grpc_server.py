"""``pullkey serve``: the gRPC service (``pullkey.v1.CredentialService``) over :class:`pullkey.service.Resolver`.

A thin adapter (STYLE.md "boundary rule" 3): every servicer method converts the request, calls the
transport-neutral resolver and converts the answer. Everything transport-shaped lives here:

- one server interceptor maps errors to status codes (``InvalidReference``/``InvalidRequest``/any
  ``PullkeyError`` that is a ``ValueError`` -> ``INVALID_ARGUMENT``; ``NotLoaded`` ->
  ``FAILED_PRECONDITION``; anything else -> ``INTERNAL`` with a fixed message and a logged traceback)
  and feeds the Prometheus counters;
- listeners: a Unix socket by default (file 0600 in a 0700 directory; a stale socket is replaced, a live
  one is an error), TCP only with TLS (mTLS with ``--tls-client-ca``) unless ``--insecure`` is explicit
  (ARCHITECTURE.md "Decisions"; spec/peers.md §4 "TLS/mTLS for any TCP listener");
- ``grpc.health.v1`` (NOT_SERVING until the sources are loaded) and server reflection (spec/peers.md §4);
- reloads on SIGHUP, on the ``Reload`` RPC and when a watched source file changes (mtime/size polling);
  the resolver swaps its state atomically and keeps the last good one when a reload fails;
- SIGTERM/SIGINT: health NOT_SERVING, in-flight calls finish within ``--grace`` seconds, exit 0.

Logs go to stderr (``--log-format text|json``) and never carry a secret: requests are logged by method
and status only, errors by class and message (pullkey's messages name files and keys, never values).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import dataclasses
import datetime
import errno
import logging
import os
import signal
import socket
import stat
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import duration_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import pullkey
from pullkey import errors
from pullkey._core import _count_batch_images as count_batch_images
from pullkey.v1 import SERVICE_NAME, credential_pb2, credential_pb2_grpc

log = logging.getLogger("pullkey.grpc")

#: Defaults (flags override them).
DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
DEFAULT_MAX_BATCH = 10_000
DEFAULT_GRACE = 5.0
DEFAULT_WATCH_INTERVAL = 1.0
DEFAULT_ANSWER_CACHE = 4096
#: Fixed text of every INTERNAL status: the details stay in the server log.
INTERNAL_MESSAGE = "internal error (see the pullkey server log)"
#: Batches check their deadline (and let other calls run) every this many images.
_BATCH_SLICE = 1024
_HEALTH_SERVICES = ("", SERVICE_NAME)
if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]  # generic only in the typeshed stubs


class UsageError(Exception):
    """A command line or listener setting that cannot work (``main`` exits 2 with the message)."""


class ListenError(Exception):
    """The listen address cannot be used (live socket, wrong owner, ...); ``main`` exits 1."""


# --------------------------------------------------------------------------------------------------
# Listen addresses and Unix sockets


def default_listen() -> str:
    """``unix:///run/pullkey/pullkey.sock`` for root, else under ``$XDG_RUNTIME_DIR`` (or ``/tmp/pullkey-<uid>``)."""
    if os.geteuid() == 0:
        return "unix:///run/pullkey/pullkey.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return f"unix://{runtime}/pullkey/pullkey.sock"
    return f"unix:///tmp/pullkey-{os.geteuid()}/pullkey.sock"


@dataclasses.dataclass(frozen=True)
class ListenAddress:
    """A parsed ``--listen`` value: ``unix:///abs/path``, ``unix:rel/path``, ``tcp://HOST:PORT`` or ``HOST:PORT``."""

    kind: str  # "unix" | "tcp"
    path: str = ""  # unix: absolute socket path
    host: str = ""  # tcp: host as given (IPv6 without brackets)
    port: int = 0

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """Parse a listen address; raise :class:`UsageError` with the offending text."""
        if text.startswith("unix:"):
            rest = text[len("unix:") :]
            path = rest[2:] if rest.startswith("//") else rest
            if not path:
                raise UsageError(f"--listen {text!r}: empty socket path")
            return cls("unix", path=os.path.abspath(path))
        rest = text[len("tcp://") :] if text.startswith("tcp://") else text
        host, sep, port_text = rest.rpartition(":")
        if not sep or not port_text.isdigit() or int(port_text) > 65535:
            raise UsageError(f"--listen {text!r}: expected unix:///PATH, tcp://HOST:PORT or HOST:PORT")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host:
            raise UsageError(f"--listen {text!r}: missing host")
        return cls("tcp", host=host, port=int(port_text))

    def grpc_target(self) -> str:
        """The address in gRPC's own syntax (for ``add_*_port`` and clients)."""
        if self.kind == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def _prepare_socket_dir(directory: str) -> None:
    """Create ``directory`` 0700, or check an existing one is ours and make it 0700."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=False)
    except FileExistsError:
        pass
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise ListenError(f"socket directory {directory} is not a directory")
    if st.st_uid != os.geteuid():
        raise ListenError(f"socket directory {directory} is owned by uid {st.st_uid}, not by this process")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(directory, 0o700)


def _clear_stale_socket(path: str) -> None:
    """Remove a socket nobody answers on; refuse a live socket or a non-socket file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ListenError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        log.info("removing stale socket", extra={"fields": {"path": path}})
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        raise ListenError(f"cannot probe existing socket {path}: {exc.strerror}") from None
    finally:
        probe.close()
    raise ListenError(f"another server is already listening on {path}")


# --------------------------------------------------------------------------------------------------
# Prometheus metrics (text exposition format 0.0.4, served by a tiny asyncio HTTP/1.1 responder)

_LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters per (method, code), a latency histogram per method, reload outcomes and the loaded state.

    NOTE: no prometheus_client dependency: the exposition format is a few lines of text, and the
    daemon's memory budget (64 MiB at 100,000 entries) leaves no room for extra imports.
    """

    def __init__(self) -> None:
        self.handled: dict[tuple[str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.reloads: dict[str, int] = {"success": 0, "failure": 0}
        self.loaded = 0
        self.credentials = 0

    def observe(self, method: str, code: grpc.StatusCode, seconds: float) -> None:
        """Count one finished call."""
        key = (method, code.name)
        self.handled[key] = self.handled.get(key, 0) + 1
        counts = self.buckets.get(method)
        if counts is None:
            counts = self.buckets[method] = [0] * (len(_LATENCY_BUCKETS) + 1)
            self.sums[method] = 0.0
        counts[bisect.bisect_left(_LATENCY_BUCKETS, seconds)] += 1
        self.sums[method] += seconds

    def render(self) -> str:
        """The current values in Prometheus text format."""

        def labels(method: str) -> str:
            service, _, name = method.lstrip("/").partition("/")
            return f'grpc_service="{service}",grpc_method="{name}"'

        out = [
            "# HELP pullkey_grpc_server_handled_total RPCs completed on the server, by method and status code.",
            "# TYPE pullkey_grpc_server_handled_total counter",
        ]
        for (method, code), n in sorted(self.handled.items()):
            out.append(f'pullkey_grpc_server_handled_total{{{labels(method)},grpc_code="{code}"}} {n}')
        out += [
            "# HELP pullkey_grpc_server_handling_seconds Latency of unary RPCs handled by the server.",
            "# TYPE pullkey_grpc_server_handling_seconds histogram",
        ]
        for method, counts in sorted(self.buckets.items()):
            running = 0
            for le, n in zip((*_LATENCY_BUCKETS, float("inf")), counts, strict=True):
                running += n
                bound = "+Inf" if le == float("inf") else repr(le)
                out.append(f'pullkey_grpc_server_handling_seconds_bucket{{{labels(method)},le="{bound}"}} {running}')
            out.append(f"pullkey_grpc_server_handling_seconds_sum{{{labels(method)}}} {self.sums[method]!r}")
            out.append(f"pullkey_grpc_server_handling_seconds_count{{{labels(method)}}} {running}")
        out += [
            "# HELP pullkey_reloads_total Source reloads by outcome.",
            "# TYPE pullkey_reloads_total counter",
            *(f'pullkey_reloads_total{{result="{k}"}} {v}' for k, v in sorted(self.reloads.items())),
            "# HELP pullkey_loaded 1 when a configuration is loaded and served.",
            "# TYPE pullkey_loaded gauge",
            f"pullkey_loaded {self.loaded}",
            "# HELP pullkey_credentials Credentials (keyring entries) in the served state.",
            "# TYPE pullkey_credentials gauge",
            f"pullkey_credentials {self.credentials}",
        ]
        return "\n".join(out) + "\n"


async def start_metrics_server(metrics: Metrics, host: str, port: int) -> asyncio.Server:
    """Serve ``GET /metrics`` on HOST:PORT (plain HTTP/1.1, one request per connection)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5.0)
            method, _, rest = head.partition(b" ")
            target = rest.split(b" ", 1)[0].split(b"?", 1)[0]
            if method != b"GET":
                status, body, ctype = "405 Method Not Allowed", b"method not allowed\n", "text/plain"
            elif target == b"/metrics":
                status, body = "200 OK", metrics.render().encode()
                ctype = "text/plain; version=0.0.4; charset=utf-8"
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

    return await asyncio.start_server(handle, host, port, limit=8192)


# --------------------------------------------------------------------------------------------------
# The interceptor: one place that maps errors to status codes and records metrics


def _status_for(exc: BaseException) -> grpc.StatusCode:
    if isinstance(exc, errors.NotLoaded):
        return grpc.StatusCode.FAILED_PRECONDITION
    if isinstance(exc, errors.PullkeyError) and isinstance(exc, ValueError):
        return grpc.StatusCode.INVALID_ARGUMENT
    return grpc.StatusCode.INTERNAL


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Map pullkey errors to gRPC status codes (STYLE.md "error mapping rule") and count every unary call."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streams (health Watch, reflection) pass through untouched
        method: str = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._wrap(method, handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        metrics = self._metrics
        clock = time.perf_counter

        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            start = clock()
            code = grpc.StatusCode.OK
            try:
                result = await behavior(request, context)
                code = context.code() or grpc.StatusCode.OK
                return result
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except (KeyboardInterrupt, SystemExit, GeneratorExit):
                raise
            except BaseException as exc:  # NOTE: the one place that maps every error, pyo3's PanicException too
                code = _status_for(exc)
                if code is grpc.StatusCode.INTERNAL:
                    log.error(
                        "internal error",
                        extra={"fields": {"method": method, "error": type(exc).__name__, "traceback": _safe_tb(exc)}},
                    )
                    message = INTERNAL_MESSAGE
                else:
                    message = str(exc)
                    if log.isEnabledFor(logging.DEBUG):
                        log.debug("rejected", extra={"fields": {"method": method, "code": code.name, "error": message}})
                await context.abort(code, message)
            finally:
                metrics.observe(method, code, clock() - start)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "rpc",
                        extra={
                            "fields": {"method": method, "code": code.name, "ms": round((clock() - start) * 1e3, 3)}
                        },
                    )

        return unary


def _safe_tb(exc: BaseException) -> str:
    """The traceback's frames and exception class, without the exception's message (which could quote data)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{frames}{type(exc).__module__}.{type(exc).__qualname__}"


# --------------------------------------------------------------------------------------------------
# Answer conversion (resolver objects -> protobuf)


def _seconds(value: Any) -> int:
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    return max(0, int(value or 0))


def _credential_pb(c: Any) -> credential_pb2.Credential:
    return credential_pb2.Credential(
        key=c.key or "",
        username=c.username or "",
        password=c.password or "",
        identity_token=getattr(c, "identity_token", "") or "",
        registry_token=getattr(c, "registry_token", "") or "",
        source=getattr(c, "source", "") or "",
    )


def answer_to_pb(answer: Any) -> credential_pb2.GetCredentialsResponse:
    """Convert a :class:`pullkey.service.Answer` to its protobuf message, field by field.

    NOTE: the service itself sends answers encoded by the core (``Resolver.answer_pb``/``batch_pb``,
    rust/wire.rs), which is several times faster; this is the reference they are tested against.
    """
    return credential_pb2.GetCredentialsResponse(
        image=answer.image,
        repository=answer.repository or "",
        credentials=[_credential_pb(c) for c in answer.credentials],
        cache_key_type=str(answer.cache_key_type or ""),
        cache_duration=duration_pb2.Duration(seconds=_seconds(answer.cache_duration)),
    )


def _serialize(message: Any) -> bytes:
    """Response serializer that lets a servicer return bytes it already encoded."""
    return message if type(message) is bytes else message.SerializeToString()


def add_servicer(servicer: CredentialServicer, server: grpc.aio.Server) -> None:
    """Like the generated ``add_CredentialServiceServicer_to_server``, with :func:`_serialize` for responses."""
    methods = credential_pb2.DESCRIPTOR.services_by_name["CredentialService"].methods
    handlers = {
        m.name: grpc.unary_unary_rpc_method_handler(
            getattr(servicer, m.name),
            # NOTE: batch requests reach the servicer as bytes: the core reads the images from them
            # directly (rust/wire.rs), with no Python string per image.
            request_deserializer=None
            if m.name == "BatchGetCredentials"
            else getattr(credential_pb2, m.input_type.name).FromString,
            response_serializer=_serialize,
        )
        for m in methods
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)


def _get(item: Any, name: str, default: Any = "") -> Any:
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def explain_to_pb(image: str, explained: Any) -> credential_pb2.ExplainResponse:
    """Convert the resolver's ``explain`` object, keeping only non-secret fields (there is no field for one)."""
    return credential_pb2.ExplainResponse(
        image=image,
        repository=_get(explained, "repository") or "",
        credentials=[
            credential_pb2.ExplainedCredential(
                key=_get(c, "key") or "", username=_get(c, "username") or "", source=_get(c, "source") or ""
            )
            for c in (_get(explained, "credentials", None) or [])
        ],
        rejected=[
            credential_pb2.RejectedKey(
                key=_get(r, "key") or "", source=_get(r, "source") or "", reason=_get(r, "reason") or ""
            )
            for r in (_get(explained, "rejected", None) or [])
        ],
    )


# --------------------------------------------------------------------------------------------------
# The daemon: resolver + health + reloads


def _resolver_counts(resolver: Any) -> tuple[int, int]:
    """(credentials, sources) of the served state, from whatever the resolver exposes."""
    stats = getattr(resolver, "stats", None)
    if callable(stats):
        with contextlib.suppress(Exception):
            s = stats()
            return int(_get(s, "credentials", 0) or 0), int(_get(s, "sources", 0) or 0)
    with contextlib.suppress(Exception):
        state = resolver.state  # pullkey.service.State: the merged keyring and the sources it used
        return len(state.keyring), len(state.used)
    creds = 0
    with contextlib.suppress(Exception):
        creds = len(resolver)
    sources = 0
    with contextlib.suppress(Exception):
        sources = len(resolver.watched_paths())
    return creds, sources


def _release_free_memory() -> None:
    """Give the heap freed by a (re)load (parsed documents, the old state) back to the OS (glibc only).

    NOTE: measured ~8 MiB of 140 at 100,000 entries; without it RSS only ever grows across reloads.
    """
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _tune_allocator() -> None:
    """Keep the daemon's footprint flat under load (glibc only; a no-op elsewhere).

    NOTE: measured with bench/grpc_bench.py at 100,000 entries: with glibc's defaults, RSS after the
    load runs grew from 59 to 68 MiB (per-thread arenas of gRPC's threads, and ~150 KiB batch
    responses that raise the dynamic mmap threshold and then stay in the heap); with two arenas and
    a fixed 128 KiB mmap threshold it stayed near 63 MiB, at no measurable cost in throughput.
    Environment settings (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``) win over these.
    """
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_mmap_threshold, m_arena_max = -3, -8  # <malloc.h>
        if "MALLOC_ARENA_MAX" not in os.environ:
            libc.mallopt(m_arena_max, 2)
        if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
            libc.mallopt(m_mmap_threshold, 128 * 1024)


def _stat_key(path: str) -> Any:
    try:
        st = os.stat(path)
    except OSError:
        return None
    key: tuple[Any, ...] = (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)
    if stat.S_ISDIR(st.st_mode):
        # a PullSecretDir: a file rewritten in place does not touch the directory's mtime
        with contextlib.suppress(OSError), os.scandir(path) as it:
            children = []
            for n, entry in enumerate(it):
                if n >= 4096:
                    break
                with contextlib.suppress(OSError):
                    cst = entry.stat()
                    children.append((entry.name, cst.st_mtime_ns, cst.st_size, cst.st_ino))
            key += (tuple(sorted(children)),)
    return key


class Daemon:
    """The served state: one resolver, the health servicer and the reload machinery."""

    def __init__(
        self,
        resolver: Any,
        metrics: Metrics,
        max_batch: int = DEFAULT_MAX_BATCH,
        answer_cache_size: int = DEFAULT_ANSWER_CACHE,
    ) -> None:
        self.resolver = resolver
        self.metrics = metrics
        self.max_batch = max_batch
        self.health = health.aio.HealthServicer()
        self.loaded = False
        self._reload_lock = asyncio.Lock()
        self.answer_cache_size = answer_cache_size
        #: image -> serialized GetCredentialsResponse (or ItemError) of the served state; replaced, never
        #: mutated across states, after every successful (re)load, so a hit is always a whole old or new answer.
        self.memo: dict[str, tuple[bool, bytes]] = {}
        #: bytes of batch answers sent since the heap was last given back to the OS (see trim_after_bursts)
        self.batch_bytes = 0
        self._burst = False

    async def trim_after_bursts(self, interval: float = 1.0, threshold: int = 8 << 20) -> None:
        """Give the heap back to the OS once a burst of batch traffic is over.

        NOTE: measured with bench/grpc_bench.py at 100,000 entries: 32 concurrent 1,000-image batch
        streams leave gRPC's transport buffers in the heap (RSS 59 -> 65 MiB) after the burst ends;
        a ``malloc_trim`` once the burst has passed brings it back. Cheap (a few ms) and only after
        ``threshold`` bytes of batch answers, so a quiet daemon never pays for it.
        """
        while True:
            await asyncio.sleep(interval)
            sent, self.batch_bytes = self.batch_bytes, 0
            if sent == 0 and self._burst:
                _release_free_memory()  # the previous interval was busy, this one quiet
            self._burst = sent >= threshold

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in _HEALTH_SERVICES:
            await self.health.set(name, status)

    def ensure_loaded(self) -> None:
        if not self.loaded:
            raise errors.NotLoaded("no credential sources loaded yet (see the server log)")

    async def reload(self, reason: str) -> tuple[bool, str]:
        """Load (first time) or reload the sources in a worker thread; the old state serves meanwhile."""
        async with self._reload_lock:
            first = not self.loaded
            try:
                if first:
                    await asyncio.to_thread(self.resolver.load)
                    ok = True
                else:
                    ok = bool(await asyncio.to_thread(self.resolver.reload))
                message = "loaded" if ok else str(getattr(self.resolver, "last_error", "") or "reload failed")
            except errors.PullkeyError as exc:
                ok, message = False, str(exc)
            except (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError):
                raise
            except BaseException as exc:  # NOTE: a failed reload (even a core panic) must never take the daemon down
                ok, message = False, INTERNAL_MESSAGE
                log.error("reload crashed", extra={"fields": {"reason": reason, "traceback": _safe_tb(exc)}})
            creds, sources = _resolver_counts(self.resolver) if (ok or not first) else (0, 0)
            if ok:
                self.memo = {}  # after the resolver's swap: no entry of the new dict predates it
                _release_free_memory()
                self.metrics.reloads["success"] += 1
                self.metrics.credentials = creds
                if first:
                    self.loaded = True
                    self.metrics.loaded = 1
                    await self.set_serving(True)
                log.info(
                    "sources loaded" if first else "sources reloaded",
                    extra={"fields": {"reason": reason, "credentials": creds, "sources": sources}},
                )
            else:
                self.metrics.reloads["failure"] += 1
                log.warning(
                    "load failed, not serving" if first else "reload failed, keeping the last good state",
                    extra={"fields": {"reason": reason, "error": message}},
                )
            return ok, message

    def answer(self, image: str) -> tuple[bool, bytes]:
        """(ok, serialized GetCredentialsResponse) or (False, serialized ItemError) for one image.

        Raises NotLoaded, and anything unexpected, to the caller. Answers are memoised per served state
        (bounded FIFO of ``answer_cache_size`` images, 0 = off): a node asks about the same images again and again.
        """
        memo = self.memo
        hit = memo.get(image)
        if hit is not None:
            return hit
        if not self.loaded:
            raise errors.NotLoaded("no credential sources loaded yet (see the server log)")
        try:
            result = (True, self.resolver.answer_pb(image))
        except errors.PullkeyError as exc:
            if not isinstance(exc, ValueError) or isinstance(exc, errors.NotLoaded):
                raise
            err = credential_pb2.ItemError(
                code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
                message=str(exc),
                reason=str(getattr(exc, "code", "") or type(exc).__name__),
            )
            result = (False, err.SerializeToString())
        if self.answer_cache_size > 0:
            if len(memo) >= self.answer_cache_size:
                with contextlib.suppress(StopIteration, KeyError):
                    del memo[next(iter(memo))]
            memo[image] = result
        return result

    async def watch(self, interval: float) -> None:
        """Reload when a watched source changes (mtime/size/inode polling; no inotify dependency)."""

        def paths() -> list[str]:
            try:
                return list(self.resolver.watched_paths())
            except Exception:  # NOTE: before a successful load the resolver may know none
                return []

        snapshot = {p: _stat_key(p) for p in paths()}
        retry_every = max(0.5, 5 * interval)
        next_retry = time.monotonic() + retry_every
        while True:
            await asyncio.sleep(interval)
            if not self.loaded and not snapshot and time.monotonic() >= next_retry:
                # nothing loaded, so the resolver knows no path to watch: retry the load now and then
                next_retry = time.monotonic() + retry_every
                await self.reload("retry")
                snapshot = {p: _stat_key(p) for p in paths()}
                continue
            current = {p: _stat_key(p) for p in paths()}
            if current == snapshot:
                continue
            changed = sorted(p for p in set(current) | set(snapshot) if current.get(p) != snapshot.get(p))
            log.info("source changed", extra={"fields": {"paths": changed}})
            await self.reload("file change")
            # new baseline: the stats seen BEFORE the reload, so a write during it is caught next time;
            # paths the reload added (a new config listing new sources) start from their current stats
            snapshot = {p: current[p] if p in current else _stat_key(p) for p in paths()}


class CredentialServicer(credential_pb2_grpc.CredentialServiceServicer):
    """``pullkey.v1.CredentialService``: each method delegates to the resolver; errors go to the interceptor."""

    def __init__(self, daemon: Daemon) -> None:
        self._d = daemon

    # NOTE: the two lookup methods return the response already serialized (memoised answers, hand-framed
    # batches); add_servicer registers a serializer that passes bytes through.
    async def GetCredentials(  # type: ignore[override]  # gRPC method name; returns encoded bytes
        self, request: credential_pb2.GetCredentialsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> bytes:
        ok, data = self._d.answer(request.image)
        if not ok:
            err = credential_pb2.ItemError.FromString(data)
            raise errors.InvalidRequest(err.message)
        return data  # already serialized (see _serialize)

    async def BatchGetCredentials(  # type: ignore[override]  # takes and returns encoded bytes
        self, request: bytes, context: grpc.aio.ServicerContext[Any, Any]
    ) -> bytes:
        count = count_batch_images(request)
        if count > self._d.max_batch:
            raise errors.InvalidRequest(f"batch of {count} images exceeds the limit of {self._d.max_batch}")
        self._d.ensure_loaded()
        # The core encodes each slice of the batch in one call (BatchResult elements of a repeated field
        # concatenate into one message); between slices the deadline is checked and other calls run.
        batch = self._d.resolver.batch_pb_request
        if count <= _BATCH_SLICE:
            single: bytes = batch(request, 0, count)
            self._d.batch_bytes += len(single)
            return single
        out: list[bytes] = []
        for start in range(0, count, _BATCH_SLICE):
            if start:
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0:
                    await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"deadline exceeded after {start} images")
                await asyncio.sleep(0)
            out.append(batch(request, start, start + _BATCH_SLICE))
            self._d.batch_bytes += len(out[-1])
        return b"".join(out)

    async def Explain(
        self, request: credential_pb2.ExplainRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> credential_pb2.ExplainResponse:
        self._d.ensure_loaded()
        return explain_to_pb(request.image, self._d.resolver.explain(request.image))

    async def ParseReference(
        self, request: credential_pb2.ParseReferenceRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> credential_pb2.ParseReferenceResponse:
        ref = pullkey.parse_reference(request.reference, normalize=request.normalize)
        return credential_pb2.ParseReferenceResponse(
            domain=ref.domain or "",
            path=ref.path or "",
            tag=ref.tag or "",
            digest=ref.digest or "",
            repository=ref.repository or "",
            normalized=ref.normalized or "",
            familiar=ref.familiar or "",
            default_pull_policy=ref.default_pull_policy or "",
        )

    async def Reload(
        self, request: credential_pb2.ReloadRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> credential_pb2.ReloadResponse:
        ok, message = await self._d.reload("rpc")
        creds, sources = _resolver_counts(self._d.resolver) if self._d.loaded else (0, 0)
        return credential_pb2.ReloadResponse(loaded=ok, message=message, credential_count=creds, source_count=sources)


# --------------------------------------------------------------------------------------------------
# Server assembly


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror}") from None


class CertReloader:
    """TLS material that follows its files: a rotated certificate, key or client CA is picked up by the next
    handshake without a restart (spec/peers.md §4: "TLS/mTLS for any TCP listener, with certificate reload").

    ``fetch`` is grpc's certificate-configuration fetcher, called by the core before each handshake: it stats
    the three files and returns a new configuration only when they changed AND the pair loads (a half-written
    rotation keeps the last good configuration until the files settle).
    """

    def __init__(self, cert: str, key: str, client_ca: str | None) -> None:
        self.paths = (cert, key, client_ca)
        self._seen = self._signature()
        self.initial = self._configuration()
        if self.initial is None:
            raise UsageError(f"--tls-cert {cert} and --tls-key {key} do not form a usable certificate and key")

    def _signature(self) -> tuple[Any, ...]:
        return tuple(_stat_key(p) if p else None for p in self.paths)

    def _configuration(self) -> Any:
        cert, key, client_ca = self.paths
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)  # pair check
        except (OSError, ssl.SSLError, ValueError):
            return None
        ca = _read(client_ca, "--tls-client-ca") if client_ca else None
        return grpc.ssl_server_certificate_configuration(
            [(_read(key, "--tls-key"), _read(cert, "--tls-cert"))], root_certificates=ca
        )

    def fetch(self) -> Any:
        """None = keep the current configuration (grpc's fetcher protocol)."""
        try:
            signature = self._signature()
            if signature == self._seen:
                return None
            config = self._configuration()
            if config is None:
                log.warning("TLS files changed but do not load yet; keeping the current certificate")
                return None
            self._seen = signature
            log.info("TLS certificate reloaded", extra={"fields": {"cert": self.paths[0]}})
            return config
        except Exception as exc:  # NOTE: never fail a handshake over a reload attempt
            log.error("TLS reload failed", extra={"fields": {"error": type(exc).__name__}})
            return None


class PullkeyServer:
    """A ``grpc.aio.Server`` plus pullkey's lifecycle (load, watch, health, socket clean-up).

    Has the ``start`` / ``stop`` / ``wait_for_termination`` shape of ``grpc.aio.Server``; the underlying
    server is ``.grpc_server``.
    """

    def __init__(
        self,
        grpc_server: grpc.aio.Server,
        daemon: Daemon,
        address: ListenAddress,
        watch_interval: float,
        metrics_listen: ListenAddress | None,
    ) -> None:
        self.grpc_server = grpc_server
        self.daemon = daemon
        self.address = address
        self.watch_interval = watch_interval
        self.metrics_listen = metrics_listen
        self.metrics_server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._socket_ino: int | None = None

    @property
    def metrics_port(self) -> int:
        """The bound metrics port (useful with ``--metrics-listen 127.0.0.1:0``)."""
        assert self.metrics_server is not None
        return int(self.metrics_server.sockets[0].getsockname()[1])

    async def start(self, *, load: bool = True) -> None:
        """Start serving (health NOT_SERVING), then load the sources and start the file watcher."""
        await self.grpc_server.start()
        if self.address.kind == "unix":
            os.chmod(self.address.path, 0o600)
            self._socket_ino = os.lstat(self.address.path).st_ino
        if self.metrics_listen is not None:
            self.metrics_server = await start_metrics_server(
                self.daemon.metrics, self.metrics_listen.host, self.metrics_listen.port
            )
        if load:
            await self.daemon.reload("start")
        if self.watch_interval > 0:
            self._tasks.append(asyncio.create_task(self.daemon.watch(self.watch_interval)))
        self._tasks.append(asyncio.create_task(self.daemon.trim_after_bursts()))

    async def stop(self, grace: float | None = DEFAULT_GRACE) -> None:
        """Health NOT_SERVING, let in-flight calls finish within ``grace`` seconds, release the socket."""
        await self.daemon.health.enter_graceful_shutdown()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.grpc_server.stop(grace)
        if self.metrics_server is not None:
            self.metrics_server.close()
            await self.metrics_server.wait_closed()
        if self.address.kind == "unix" and self._socket_ino is not None:
            with contextlib.suppress(OSError):
                if os.lstat(self.address.path).st_ino == self._socket_ino:
                    os.unlink(self.address.path)

    async def wait_for_termination(self) -> None:
        await self.grpc_server.wait_for_termination()


async def create_server(
    options: Any,
    listen: str,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_client_ca: str | None = None,
    insecure: bool = False,
    resolver: Any = None,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_concurrent_rpcs: int | None = None,
    answer_cache_size: int = DEFAULT_ANSWER_CACHE,
    watch_interval: float = DEFAULT_WATCH_INTERVAL,
    metrics_listen: str | None = None,
) -> tuple[PullkeyServer, str]:
    """Build (not start) the server and bind its listener; return it and the bound address.

    ``options`` is a :class:`pullkey.service.Options` (ignored when ``resolver`` is given). The bound
    address is ``unix:///path`` or ``HOST:PORT`` with the real port (``listen`` may use port 0).
    Raises :class:`UsageError` (bad flags, plaintext TCP without ``insecure``) or :class:`ListenError`.
    """
    address = ListenAddress.parse(listen)
    tls = tls_cert is not None or tls_key is not None or tls_client_ca is not None
    if address.kind == "unix" and tls:
        raise UsageError("--tls-* flags apply to tcp:// listeners; a Unix socket is protected by its 0600 mode")
    if address.kind == "tcp":
        if tls and (tls_cert is None or tls_key is None):
            raise UsageError("TLS needs both --tls-cert and --tls-key")
        if not tls and not insecure:
            raise UsageError(
                f"refusing plaintext TCP on {address.grpc_target()}: give --tls-cert and --tls-key "
                "(and --tls-client-ca for mTLS), or --insecure to accept an unauthenticated, unencrypted listener"
            )
    metrics_address = ListenAddress.parse(f"tcp://{metrics_listen}") if metrics_listen else None
    if resolver is None:
        from pullkey import service  # NOTE: imported on use; tests may pass their own resolver

        resolver = service.Resolver(options)

    metrics = Metrics()
    daemon = Daemon(resolver, metrics, max_batch=max_batch, answer_cache_size=answer_cache_size)
    await daemon.set_serving(False)
    server = grpc.aio.server(
        interceptors=[ErrorInterceptor(metrics)],
        options=[
            ("grpc.max_receive_message_length", max_message_size),
            ("grpc.max_send_message_length", max_message_size),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
    )
    add_servicer(CredentialServicer(daemon), server)
    health_pb2_grpc.add_HealthServicer_to_server(daemon.health, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )

    if address.kind == "unix":
        _prepare_socket_dir(os.path.dirname(address.path))
        _clear_stale_socket(address.path)
        old_umask = os.umask(0o177)  # the socket is born 0600; the 0700 directory guards the gap anyway
        try:
            server.add_insecure_port(address.grpc_target())
        finally:
            os.umask(old_umask)
        bound = address.grpc_target()
    else:
        if tls:
            assert tls_cert is not None and tls_key is not None
            reloader = CertReloader(tls_cert, tls_key, tls_client_ca)
            creds = grpc.dynamic_ssl_server_credentials(
                reloader.initial, reloader.fetch, require_client_authentication=tls_client_ca is not None
            )
            port = server.add_secure_port(address.grpc_target(), creds)
        else:
            port = server.add_insecure_port(address.grpc_target())
        if port == 0:
            raise ListenError(f"cannot listen on {address.grpc_target()}")
        address = dataclasses.replace(address, port=port)
        bound = address.grpc_target()
    return PullkeyServer(server, daemon, address, watch_interval, metrics_address), bound


# --------------------------------------------------------------------------------------------------
# Logging

_STD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, msg and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        import orjson  # NOTE: only the json log format needs it

        doc: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(getattr(record, "fields", None) or {})
        if record.exc_info and record.exc_info[1] is not None:
            doc["error"] = type(record.exc_info[1]).__name__
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """``TIME LEVEL logger: msg key=value ...`` on one line (values with spaces or newlines are quoted)."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        parts = [f"{ts}Z {record.levelname} {record.name}: {record.getMessage()}"]
        for key, value in (getattr(record, "fields", None) or {}).items():
            text = str(value)
            parts.append(f"{key}={text!r}" if (" " in text or "\n" in text or not text) else f"{key}={text}")
        return " ".join(parts)


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send every ``pullkey.*`` (and grpc) log record to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


# --------------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    """The ``pullkey serve`` command line."""
    p = argparse.ArgumentParser(
        prog="pullkey serve",
        description="Serve pullkey.v1.CredentialService (plus grpc.health.v1 and reflection) over gRPC.",
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
    p.add_argument("--grace", type=float, default=DEFAULT_GRACE, help="seconds in-flight calls get on SIGTERM")
    p.add_argument("--max-message-size", type=int, default=DEFAULT_MAX_MESSAGE_SIZE, help="bytes, both ways")
    p.add_argument("--max-batch", type=int, default=DEFAULT_MAX_BATCH, help="images per BatchGetCredentials")
    p.add_argument("--max-concurrent-rpcs", type=int, default=None, help="reject calls beyond this many")
    p.add_argument(
        "--answer-cache",
        type=int,
        default=DEFAULT_ANSWER_CACHE,
        help="images whose encoded answers are kept until the next reload (0 = off)",
    )
    p.add_argument(
        "--watch-interval",
        type=float,
        default=DEFAULT_WATCH_INTERVAL,
        help="seconds between source file checks (0 = no watching; SIGHUP and the Reload RPC still work)",
    )
    p.add_argument("--metrics-listen", metavar="HOST:PORT", help="serve Prometheus metrics at http://HOST:PORT/metrics")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    # global flags (cli.py may pass them after `serve`)
    p.add_argument(
        "--config", default=os.environ.get("PULLKEY_CONFIG"), help="pullkey config file (env PULLKEY_CONFIG)"
    )
    p.add_argument(
        "--root-dir", default=os.environ.get("PULLKEY_ROOT_DIR"), help="kubelet root dir (env PULLKEY_ROOT_DIR)"
    )
    p.add_argument("--search-policy", choices=("merge", "first"), default=None)
    p.add_argument("--strict", action="store_true", default=None, help="a malformed source is an error")
    p.add_argument("--cache-policy", choices=("auto", "Image", "Registry", "Global"), default=None)
    p.add_argument("--cache-duration", default=None, help="cacheDuration of answers, a Go duration (default 5m)")
    # klog-style verbosity, as kubelet configs written for other plugins pass it (ARCHITECTURE.md)
    p.add_argument("-v", "--v", dest="verbosity", type=int, default=None, help=argparse.SUPPRESS)
    return p


def build_options(
    config: str | None,
    root_dir: str | None,
    search_policy: str | None,
    *,
    strict: bool | None = None,
    cache_policy: str | None = None,
    cache_duration: str | None = None,
) -> Any:
    """A :class:`pullkey.service.Options` from the global flags (unset ones keep the service's defaults).

    ``cache_duration`` is a Go duration string ("5m"); raises ``ConfigError``/``ValueError`` when malformed.
    """
    from pullkey import _core, service

    return service.Options(
        config=config,
        root_dir=root_dir,
        search_policy=search_policy,
        strict=strict,
        cache_policy=cache_policy,
        cache_duration=None if cache_duration is None else _core.parse_duration_seconds(cache_duration),
    )


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; reload on SIGHUP. Returns the exit code."""
    try:
        options = build_options(
            args.config,
            args.root_dir,
            args.search_policy,
            strict=args.strict,
            cache_policy=args.cache_policy,
            cache_duration=args.cache_duration,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    server, bound = await create_server(
        options,
        args.listen or default_listen(),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        insecure=args.insecure,
        max_message_size=args.max_message_size,
        max_batch=args.max_batch,
        max_concurrent_rpcs=args.max_concurrent_rpcs,
        answer_cache_size=args.answer_cache,
        watch_interval=args.watch_interval,
        metrics_listen=args.metrics_listen,
    )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    reloads: set[asyncio.Task[Any]] = set()

    def on_hup() -> None:
        task = loop.create_task(server.daemon.reload("SIGHUP"))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    await server.start()
    fields: dict[str, Any] = {"listen": bound, "tls": bool(args.tls_cert), "mtls": bool(args.tls_client_ca)}
    if server.metrics_server is not None:
        fields["metrics"] = f"{server.metrics_listen.host}:{server.metrics_port}"  # type: ignore[union-attr]
    log.info("serving", extra={"fields": fields})
    await stopping.wait()
    log.info("shutting down", extra={"fields": {"grace_s": args.grace}})
    await server.stop(args.grace)
    log.info("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``pullkey serve [flags]`` (also ``python -m pullkey.grpc_server``). Exit 0 on SIGTERM, 2 on usage errors."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `pullkey serve -- --listen ...`: cli.py hands over everything after `serve`
        argv = argv[1:]
    args = parser.parse_args(argv)
    level = getattr(logging, args.log_level.upper())
    if args.verbosity is not None and args.verbosity >= 4:
        level = logging.DEBUG
    configure_logging(args.log_format, level)
    _tune_allocator()  # before gRPC starts its threads
    try:
        return asyncio.run(serve(args))
    except UsageError as exc:
        parser.exit(2, f"pullkey serve: error: {exc}\n")
    except ListenError as exc:
        log.error(str(exc))
        return 1
    except errors.PullkeyError as exc:
        log.error(str(exc))
        return 1
    except OSError as exc:  # e.g. no permission to create the socket directory
        log.error("cannot start", extra={"fields": {"error": exc.strerror or type(exc).__name__, "path": exc.filename}})
        return 1
    return 0  # unreachable; keeps mypy happy


if __name__ == "__main__":
    sys.exit(main())
