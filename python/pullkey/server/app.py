"""Server assembly: :func:`create_server` builds and binds a :class:`PullkeyServer`; :func:`serve` runs one
until SIGTERM/SIGINT, reloading on SIGHUP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from pullkey.server import defaults, unix_socket
from pullkey.server.daemon import Daemon
from pullkey.server.interceptor import ErrorInterceptor
from pullkey.server.listen import ListenAddress, ListenError, UsageError
from pullkey.server.metrics import Metrics, MetricsServer
from pullkey.server.servicer import CredentialServicer, add_servicer
from pullkey.server.tls import CertReloader
from pullkey.server.watch import watch
from pullkey.service import Options, Resolver
from pullkey.v1 import SERVICE_NAME

log = logging.getLogger("pullkey.grpc")


class PullkeyServer:
    """A ``grpc.aio.Server`` plus pullkey's lifecycle (load, watch, health, metrics, socket clean-up).

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
        self.metrics_server: MetricsServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._socket_ino: int | None = None

    @property
    def metrics_port(self) -> int:
        """The bound metrics port (useful with ``--metrics-listen 127.0.0.1:0``)."""
        assert self.metrics_server is not None
        return self.metrics_server.port

    async def start(self, *, load: bool = True) -> None:
        """Start serving (health NOT_SERVING), then load the sources and start the file watcher."""
        await self.grpc_server.start()
        if self.address.kind == "unix":
            os.chmod(self.address.path, 0o600)
            self._socket_ino = os.lstat(self.address.path).st_ino
        if self.metrics_listen is not None:
            listen = self.metrics_listen
            self.metrics_server = await MetricsServer.start(self.daemon.metrics, listen.host, listen.port)
        if load:
            await self.daemon.reload("start")
        if self.watch_interval > 0:
            self._tasks.append(asyncio.create_task(watch(self.daemon, self.watch_interval)))
        self._tasks.append(asyncio.create_task(self.daemon.trim_after_bursts()))

    async def stop(self, grace: float | None = defaults.GRACE) -> None:
        """Health NOT_SERVING, let in-flight calls finish within ``grace`` seconds, release the socket."""
        await self.daemon.health.enter_graceful_shutdown()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.grpc_server.stop(grace)
        if self.metrics_server is not None:
            await self.metrics_server.close()
        if self.address.kind == "unix" and self._socket_ino is not None:
            with contextlib.suppress(OSError):
                if os.lstat(self.address.path).st_ino == self._socket_ino:
                    os.unlink(self.address.path)

    async def wait_for_termination(self) -> None:
        await self.grpc_server.wait_for_termination()


async def create_server(
    options: Options,
    listen: str,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_client_ca: str | None = None,
    insecure: bool = False,
    resolver: Resolver | None = None,
    max_message_size: int = defaults.MAX_MESSAGE_SIZE,
    max_batch: int = defaults.MAX_BATCH,
    max_concurrent_rpcs: int | None = None,
    answer_cache_size: int = defaults.ANSWER_CACHE,
    watch_interval: float = defaults.WATCH_INTERVAL,
    metrics_listen: str | None = None,
) -> tuple[PullkeyServer, str]:
    """Build (not start) the server and bind its listener; return it and the bound address.

    The resolver is ``Resolver(options)`` unless one is given. The bound address is ``unix:///path`` or
    ``HOST:PORT`` with the real port (``listen`` may use port 0). Raises :class:`UsageError` (bad flags,
    plaintext TCP without ``insecure``) or :class:`ListenError`.
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

    metrics = Metrics()
    daemon = Daemon(resolver or Resolver(options), metrics, max_batch=max_batch, answer_cache_size=answer_cache_size)
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
        unix_socket.bind(server, address)
    else:
        if tls_cert is not None and tls_key is not None:
            port = server.add_secure_port(
                address.grpc_target(), CertReloader(tls_cert, tls_key, tls_client_ca).credentials()
            )
        else:
            port = server.add_insecure_port(address.grpc_target())
        if port == 0:
            raise ListenError(f"cannot listen on {address.grpc_target()}")
        address = dataclasses.replace(address, port=port)
    return PullkeyServer(server, daemon, address, watch_interval, metrics_address), address.grpc_target()


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Everything ``pullkey serve`` needs besides the resolver's :class:`pullkey.service.Options`."""

    listen: str
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    insecure: bool = False
    grace: float = defaults.GRACE
    max_message_size: int = defaults.MAX_MESSAGE_SIZE
    max_batch: int = defaults.MAX_BATCH
    max_concurrent_rpcs: int | None = None
    answer_cache_size: int = defaults.ANSWER_CACHE
    watch_interval: float = defaults.WATCH_INTERVAL
    metrics_listen: str | None = None


async def serve(options: Options, settings: ServerSettings) -> int:
    """Run until SIGTERM/SIGINT; reload on SIGHUP. Returns the exit code."""
    server, bound = await create_server(
        options,
        settings.listen,
        tls_cert=settings.tls_cert,
        tls_key=settings.tls_key,
        tls_client_ca=settings.tls_client_ca,
        insecure=settings.insecure,
        max_message_size=settings.max_message_size,
        max_batch=settings.max_batch,
        max_concurrent_rpcs=settings.max_concurrent_rpcs,
        answer_cache_size=settings.answer_cache_size,
        watch_interval=settings.watch_interval,
        metrics_listen=settings.metrics_listen,
    )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    reloads: set[asyncio.Task[tuple[bool, str]]] = set()

    def on_hup() -> None:
        task = loop.create_task(server.daemon.reload("SIGHUP"))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    await server.start()
    fields: dict[str, object] = {"listen": bound, "tls": bool(settings.tls_cert), "mtls": bool(settings.tls_client_ca)}
    if server.metrics_listen is not None:
        fields["metrics"] = f"{server.metrics_listen.host}:{server.metrics_port}"
    log.info("serving", extra={"fields": fields})
    await stopping.wait()
    log.info("shutting down", extra={"fields": {"grace_s": settings.grace}})
    await server.stop(settings.grace)
    log.info("stopped")
    return 0
