"""Unix socket safety: the socket is born 0600 in a directory of ours with mode 0700; a stale socket
(nobody answers) is replaced, a live one or a file that is not a socket is refused."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import stat

import grpc

from pullkey.server.listen import ListenAddress, ListenError

log = logging.getLogger("pullkey.grpc")


def prepare_socket_dir(directory: str) -> None:
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


def clear_stale_socket(path: str) -> None:
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


def bind(server: grpc.aio.Server, address: ListenAddress) -> None:
    """Prepare the directory, clear a stale socket and add the listener, the socket born 0600."""
    prepare_socket_dir(os.path.dirname(address.path))
    clear_stale_socket(address.path)
    old_umask = os.umask(0o177)  # the 0700 directory guards the gap anyway
    try:
        server.add_insecure_port(address.grpc_target())
    finally:
        os.umask(old_umask)
