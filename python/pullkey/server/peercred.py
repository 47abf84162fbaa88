"""Who may call over the Unix socket: the caller's kernel-reported credentials (``SO_PEERCRED``,
``SO_PEERGROUPS``; Linux ``unix(7)``, ``socket(7)``) against ``--allow-uid`` / ``--allow-gid``.

Without those flags the socket is 0600, owned by the server's uid, in a directory only it can write:
the kernel already admits exactly the server's uid and root, the default policy, and nothing else runs.

With them, gRPC Python cannot show a handler its connection's socket, so pullkey owns the public socket:
:class:`PeerGate` accepts each connection, reads the peer's uid, gid and supplementary groups, closes a
connection nobody allowed (one WARNING line: uid, gid, pid) and relays an allowed one, byte for byte,
to the gRPC server listening on a socket in a private 0700 directory. The check happens before a single
byte of the caller is read; the relay costs one more local hop per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import socket
import struct
import tempfile

log = logging.getLogger("pullkey.grpc")

#: ``SO_PEERGROUPS`` (Linux 4.13+, not named by Python's socket module): the peer's supplementary groups.
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)
#: Python's getsockopt reads at most 1,024 bytes: 256 groups. A caller in more groups is judged on its
#: uid and primary gid only.
_GROUPS_BUFFER = 1024
_RELAY_CHUNK = 256 * 1024


@dataclasses.dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int
    groups: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class PeerPolicy:
    """Callers admitted: any of ``uids``, or any process whose primary or supplementary group is in ``gids``."""

    uids: frozenset[int]
    gids: frozenset[int] = frozenset()
    #: the socket's group (the first ``--allow-gid``)
    group: int | None = None

    @classmethod
    def from_flags(cls, uids: list[int] | None, gids: list[int] | None) -> PeerPolicy:
        """The server's own uid and root, plus the flags' uids and gids."""
        return cls(frozenset({os.geteuid(), 0, *(uids or ())}), frozenset(gids or ()), gids[0] if gids else None)

    @property
    def shared(self) -> bool:
        """True when callers other than the server's uid and root are admitted (the gate is needed)."""
        return bool(self.gids) or not self.uids <= {os.geteuid(), 0}

    def admits(self, peer: Peer) -> bool:
        return peer.uid in self.uids or peer.gid in self.gids or not self.gids.isdisjoint(peer.groups)

    def socket_mode(self) -> int:
        """0600; 0660 (group: the first gid) when only groups are added; 0666 when other uids are."""
        if not self.uids <= {os.geteuid(), 0}:
            return 0o666
        return 0o660 if self.gids else 0o600

    def socket_gid(self) -> int | None:
        return self.group if self.socket_mode() == 0o660 else None


def peer_of(sock: socket.socket) -> Peer:
    """The credentials the kernel recorded when the peer connected."""
    pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    groups: tuple[int, ...] = ()
    with contextlib.suppress(OSError):
        raw = sock.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, _GROUPS_BUFFER)
        groups = struct.unpack(f"{len(raw) // 4}I", raw[: len(raw) // 4 * 4])
    return Peer(pid, uid, gid, groups)


class PeerGate:
    """The public Unix socket of a shared server: admits callers by credentials, relays them to gRPC."""

    def __init__(self, policy: PeerPolicy, max_connections: int) -> None:
        self.policy = policy
        self.max_connections = max_connections
        self._private_dir = tempfile.mkdtemp(prefix="pullkey-")  # 0700, ours
        #: where the gRPC server listens (only this process's uid and root can reach it)
        self.backend = os.path.join(self._private_dir, "grpc.sock")
        self.refused = 0
        self.active = 0
        self._server: asyncio.Server | None = None

    async def start(self, path: str) -> None:
        """Listen on ``path`` (born 0600: umask; the caller then sets the policy's mode)."""
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._handle, path=path, limit=_RELAY_CHUNK)
        finally:
            os.umask(old_umask)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        shutil.rmtree(self._private_dir, ignore_errors=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            peer = peer_of(writer.get_extra_info("socket"))
        except OSError:
            writer.close()
            return
        if not self.policy.admits(peer):
            self.refused += 1
            fields = {"uid": peer.uid, "gid": peer.gid, "pid": peer.pid}
            log.warning(
                "refused a caller the socket does not admit (--allow-uid/--allow-gid)", extra={"fields": fields}
            )
            writer.close()
            return
        if self.active >= self.max_connections:
            log.warning(
                "refused a connection over --max-connections", extra={"fields": {"limit": self.max_connections}}
            )
            writer.close()
            return
        self.active += 1
        try:
            back_reader, back_writer = await asyncio.open_unix_connection(self.backend, limit=_RELAY_CHUNK)
        except OSError:
            self.active -= 1
            writer.close()
            return
        pumps = [asyncio.create_task(_pump(reader, back_writer)), asyncio.create_task(_pump(back_reader, writer))]
        try:
            # HTTP/2 never half-closes: when either side is done, so is the connection
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.active -= 1
            for task in pumps:
                task.cancel()
            for w in (writer, back_writer):
                w.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF or an error."""
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(_RELAY_CHUNK):
            writer.write(data)
            await writer.drain()
