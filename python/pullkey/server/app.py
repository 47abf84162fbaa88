"""Server assembly: :func:`create_server` builds and binds a :class:`PullkeyServer`; :func:`serve` runs one
until SIGTERM/SIGINT, reloading on SIGHUP."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import resource
import signal
import socket

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from pullkey.server import defaults, unix_socket
from pullkey.server.daemon import Daemon
from pullkey.server.defaults import Limits
from pullkey.server.interceptor import ErrorInterceptor
from pullkey.server.listen import ListenAddress, ListenError, UsageError
from pullkey.server.metrics import Metrics, MetricsServer
from pullkey.server.peercred import PeerGate, PeerPolicy
from pullkey.server.servicer import CredentialServicer, add_servicer
from pullkey.server.tls import CertReloader
from pullkey.server.watch import watch
from pullkey.service import Options, Resolver
from pullkey.v1 import SERVICE_NAME

log = logging.getLogger("pullkey.grpc")

#: What ``serve`` logs (WARNING) when a TCP listener serves credentials to callers it does not authenticate.
UNAUTHENTICATED_WARNING = (
    "SERVING CREDENTIALS TO UNAUTHENTICATED CALLERS: anyone who can reach this TCP port gets every credential"
)


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
        policy: PeerPolicy | None = None,
        gate: PeerGate | None = None,
    ) -> None:
        self.grpc_server = grpc_server
        self.daemon = daemon
        self.address = address
        self.watch_interval = watch_interval
        self.metrics_listen = metrics_listen
        self.metrics_server: MetricsServer | None = None
        self.policy = policy
        self.gate = gate
        self._tasks: list[asyncio.Task[None]] = []
        self._socket_ino: int | None = None
        #: a TCP listener without client authentication (logged as a WARNING at start)
        self.unauthenticated = False

    @property
    def metrics_port(self) -> int:
        """The bound metrics port (useful with ``--metrics-listen 127.0.0.1:0``)."""
        assert self.metrics_server is not None
        return self.metrics_server.port

    async def start(self, *, load: bool = True) -> None:
        """Start serving (health NOT_SERVING), then load the sources and start the file watcher."""
        await self.grpc_server.start()
        if self.unauthenticated:
            log.warning(UNAUTHENTICATED_WARNING, extra={"fields": {"listen": self.address.grpc_target()}})
        if self.address.kind == "unix":
            policy = self.policy or PeerPolicy.from_flags(None, None)
            if self.gate is not None:
                await self.gate.start(self.address.path)
            unix_socket.set_socket_access(self.address.path, policy.socket_mode(), policy.socket_gid())
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
        if self.gate is not None:
            await self.gate.close()
        if self.metrics_server is not None:
            await self.metrics_server.close()
        if self.address.kind == "unix" and self._socket_ino is not None:
            with contextlib.suppress(OSError):
                if os.lstat(self.address.path).st_ino == self._socket_ino:
                    os.unlink(self.address.path)

    async def wait_for_termination(self) -> None:
        await self.grpc_server.wait_for_termination()


def _check_transport(
    address: ListenAddress,
    tls_cert: str | None,
    tls_key: str | None,
    tls_client_ca: str | None,
    insecure: bool,
    allow_unauthenticated_clients: bool,
    policy: PeerPolicy | None,
) -> None:
    """Refuse flag combinations that cannot work or that would serve credentials by accident."""
    tls = tls_cert is not None or tls_key is not None or tls_client_ca is not None
    if address.kind == "unix":
        if tls:
            raise UsageError("--tls-* flags apply to tcp:// listeners; a Unix socket is protected by its 0600 mode")
        return
    if policy is not None:
        raise UsageError("--allow-uid/--allow-gid apply to unix:// listeners; a TCP listener authenticates with mTLS")
    if tls and (tls_cert is None or tls_key is None):
        raise UsageError("TLS needs both --tls-cert and --tls-key")
    if not tls and not insecure:
        raise UsageError(
            f"refusing plaintext TCP on {address.grpc_target()}: give --tls-cert and --tls-key "
            "(and --tls-client-ca for mTLS), or --insecure to accept an unauthenticated, unencrypted listener"
        )
    if tls and tls_client_ca is None and not allow_unauthenticated_clients:
        raise UsageError(
            f"refusing TLS without client authentication on {address.grpc_target()}: anyone reaching the port "
            "would get every credential; give --tls-client-ca (mTLS), or --allow-unauthenticated-clients"
        )


def _grpc_options(max_message_size: int, limits: Limits) -> list[tuple[str, int]]:
    """The C-core's bounds per connection and stream (gRPC core channel arguments, grpc_types.h)."""
    ms = 1000
    return [
        ("grpc.max_receive_message_length", max_message_size),
        ("grpc.max_send_message_length", max_message_size),
        ("grpc.so_reuseport", 0),
        ("grpc.max_concurrent_streams", defaults.MAX_STREAMS_PER_CONNECTION),
        ("grpc.max_allowed_incoming_connections", limits.max_connections),
        ("grpc.max_connection_idle_ms", int(limits.max_connection_idle * ms)),
        ("grpc.max_connection_age_ms", int(limits.max_connection_age * ms)),
        ("grpc.max_connection_age_grace_ms", int(limits.max_rpc_seconds * ms)),
        ("grpc.keepalive_time_ms", int(limits.keepalive * ms)),
        ("grpc.keepalive_timeout_ms", int(defaults.KEEPALIVE_TIMEOUT_SECONDS * ms)),
    ]


async def create_server(
    options: Options,
    listen: str,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    tls_client_ca: str | None = None,
    insecure: bool = False,
    allow_unauthenticated_clients: bool = False,
    allow_uids: list[int] | None = None,
    allow_gids: list[int] | None = None,
    resolver: Resolver | None = None,
    max_message_size: int = defaults.MAX_MESSAGE_SIZE,
    max_batch: int = defaults.MAX_BATCH,
    max_concurrent_rpcs: int | None = defaults.MAX_CONCURRENT_RPCS,
    answer_cache_size: int = defaults.ANSWER_CACHE,
    watch_interval: float = defaults.WATCH_INTERVAL,
    metrics_listen: str | None = None,
    limits: Limits | None = None,
) -> tuple[PullkeyServer, str]:
    """Build (not start) the server and bind its listener; return it and the bound address.

    The resolver is ``Resolver(options)`` unless one is given. The bound address is ``unix:///path`` or
    ``HOST:PORT`` with the real port (``listen`` may use port 0). Raises :class:`UsageError` (bad flags,
    plaintext TCP without ``insecure``, TLS without client authentication nor
    ``allow_unauthenticated_clients``) or :class:`ListenError`.
    """
    limits = limits or Limits()
    address = ListenAddress.parse(listen)
    policy = PeerPolicy.from_flags(allow_uids, allow_gids) if (allow_uids or allow_gids) else None
    _check_transport(address, tls_cert, tls_key, tls_client_ca, insecure, allow_unauthenticated_clients, policy)
    metrics_address = ListenAddress.parse(f"tcp://{metrics_listen}") if metrics_listen else None

    metrics = Metrics()
    daemon = Daemon(
        resolver or Resolver(options),
        metrics,
        max_batch=max_batch,
        answer_cache_size=answer_cache_size,
        answer_cache_bytes=limits.answer_cache_bytes,
        max_message_size=max_message_size,
    )
    await daemon.set_serving(False)
    interceptor = ErrorInterceptor(
        metrics, max_rpc_seconds=limits.max_rpc_seconds, max_pending_answer_bytes=limits.max_pending_answer_bytes
    )
    server = grpc.aio.server(
        interceptors=[interceptor],
        options=_grpc_options(max_message_size, limits),
        maximum_concurrent_rpcs=max_concurrent_rpcs or None,
    )
    add_servicer(CredentialServicer(daemon), server)
    health_pb2_grpc.add_HealthServicer_to_server(daemon.health, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    gate = None
    try:
        if address.kind == "unix":
            shared = policy is not None and policy.shared
            unix_socket.prepare(address, 0o711 if shared else 0o700)
            gate = PeerGate(policy, limits.max_connections) if policy is not None and shared else None
            _bind(server, f"unix://{gate.backend}" if gate is not None else address.grpc_target(), None)
        else:
            creds = None
            if tls_cert is not None and tls_key is not None:
                creds = CertReloader(tls_cert, tls_key, tls_client_ca).credentials()
            _check_port(address)
            address = dataclasses.replace(address, port=_bind(server, address.grpc_target(), creds))
    except BaseException:
        # NOTE: a server that never started still owns C-core resources; released on this loop, not at exit
        await server.stop(None)
        if gate is not None:
            await gate.close()
        raise
    pk = PullkeyServer(server, daemon, address, watch_interval, metrics_address, policy, gate)
    pk.unauthenticated = address.kind == "tcp" and tls_client_ca is None
    return pk, address.grpc_target()


def _check_port(address: ListenAddress) -> None:
    """A TCP port that is taken fails here with the system's reason (before gRPC logs its own lines)."""
    if address.kind != "tcp" or address.port == 0:
        return
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ListenError(f"cannot listen on {address.grpc_target()}: {exc.strerror}") from None
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                raise ListenError(f"cannot listen on {address.grpc_target()}: {exc.strerror}") from None


def _bind(server: grpc.aio.Server, target: str, creds: grpc.ServerCredentials | None) -> int:
    """Add a listener (a Unix socket is born 0600); a failure is one :class:`ListenError` line."""
    old_umask = os.umask(0o177)
    try:
        port = server.add_secure_port(target, creds) if creds is not None else server.add_insecure_port(target)
    except RuntimeError:
        port = 0
    finally:
        os.umask(old_umask)
    if port == 0:
        raise ListenError(f"cannot listen on {target}: the address is in use or not available here")
    return port


def raise_fd_limit() -> None:
    """Raise the soft RLIMIT_NOFILE to the hard limit (connections are capped by --max-connections)."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Everything ``pullkey serve`` needs besides the resolver's :class:`pullkey.service.Options`."""

    listen: str
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    insecure: bool = False
    allow_unauthenticated_clients: bool = False
    allow_uids: list[int] | None = None
    allow_gids: list[int] | None = None
    grace: float = defaults.GRACE
    max_message_size: int = defaults.MAX_MESSAGE_SIZE
    max_batch: int = defaults.MAX_BATCH
    max_concurrent_rpcs: int | None = defaults.MAX_CONCURRENT_RPCS
    answer_cache_size: int = defaults.ANSWER_CACHE
    watch_interval: float = defaults.WATCH_INTERVAL
    metrics_listen: str | None = None
    limits: Limits = dataclasses.field(default_factory=Limits)


async def serve(options: Options, settings: ServerSettings) -> int:
    """Run until SIGTERM/SIGINT; reload on SIGHUP. Returns the exit code."""
    raise_fd_limit()
    server, bound = await create_server(
        options,
        settings.listen,
        tls_cert=settings.tls_cert,
        tls_key=settings.tls_key,
        tls_client_ca=settings.tls_client_ca,
        insecure=settings.insecure,
        allow_unauthenticated_clients=settings.allow_unauthenticated_clients,
        allow_uids=settings.allow_uids,
        allow_gids=settings.allow_gids,
        max_message_size=settings.max_message_size,
        max_batch=settings.max_batch,
        max_concurrent_rpcs=settings.max_concurrent_rpcs,
        answer_cache_size=settings.answer_cache_size,
        watch_interval=settings.watch_interval,
        metrics_listen=settings.metrics_listen,
        limits=settings.limits,
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
    try:
        await server.start()
    except BaseException:
        await server.stop(0)
        raise
    fields: dict[str, object] = {"listen": bound, "tls": bool(settings.tls_cert), "mtls": bool(settings.tls_client_ca)}
    if server.metrics_listen is not None:
        fields["metrics"] = f"{server.metrics_listen.host}:{server.metrics_port}"
    if server.policy is not None:
        fields["allow_uids"] = sorted(server.policy.uids)
        fields["allow_gids"] = sorted(server.policy.gids)
    log.info("serving", extra={"fields": fields})
    await stopping.wait()
    log.info("shutting down", extra={"fields": {"grace_s": settings.grace}})
    await server.stop(settings.grace)
    log.info("stopped")
    return 0
