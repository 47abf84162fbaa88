"""Unix socket safety: the socket is born 0600 (0660 for allowed groups, 0666 when other uids are allowed
and the peer-credential gate of :mod:`pullkey.server.peercred` is the check).

The directory rule: a directory pullkey creates is made 0700 (0711 when other users may connect);
an existing directory is never chmodded. An existing directory is refused when it belongs to a user
other than this process's or root, or when others (group or world) may write to it without the sticky
bit (they could replace the socket). ``/tmp`` (1777, root) is accepted as it is.

A stale socket (nobody answers) is replaced; a live one, a socket of another user or a file that is not
a socket is refused.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import stat

from pullkey.server.listen import ListenAddress, ListenError

log = logging.getLogger("pullkey.grpc")

#: sun_path is 108 bytes on Linux, one of them the terminating NUL.
MAX_SOCKET_PATH = 107


def check_path_length(path: str) -> None:
    """Refuse a socket path the kernel cannot bind (instead of gRPC's bind failure)."""
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH:
        raise ListenError(f"socket path {path} is {size} bytes; a Unix socket path is limited to {MAX_SOCKET_PATH}")


def check_existing_dir(directory: str) -> None:
    """Refuse an existing directory another user owns or others can write to without the sticky bit."""
    try:
        st = os.stat(directory)
    except OSError as exc:
        raise ListenError(f"socket directory {directory}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ListenError(f"socket directory {directory} is not a directory")
    if st.st_uid not in (os.geteuid(), 0):
        raise ListenError(f"socket directory {directory} is owned by uid {st.st_uid}, not by this process or root")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022 and not mode & stat.S_ISVTX:
        raise ListenError(
            f"socket directory {directory} (mode {mode:04o}) is writable by other users without the sticky bit; "
            "use a directory of your own"
        )


def prepare_socket_dir(directory: str, mode: int = 0o700) -> bool:
    """Create ``directory`` with ``mode`` (True), or check an existing one (False); never chmod an existing one."""
    parent = os.path.dirname(directory)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        check_existing_dir(directory)
        return False
    os.chmod(directory, mode)  # ours, just created: exactly ``mode`` whatever the umask
    return True


def clear_stale_socket(path: str) -> None:
    """Remove a socket nobody answers on; refuse a live socket, another user's socket or a non-socket file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ListenError(f"{path} exists and is not a socket; refusing to replace it")
    if st.st_uid != os.geteuid() and os.geteuid() != 0:
        raise ListenError(f"{path} is a socket of uid {st.st_uid}; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            log.info("removing stale socket", extra={"fields": {"path": path}})
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        raise ListenError(f"cannot probe existing socket {path}: {exc.strerror}") from None
    finally:
        probe.close()
    raise ListenError(f"another server is already listening on {path}")


def prepare(address: ListenAddress, dir_mode: int = 0o700) -> None:
    """Check the path, prepare its directory and clear a stale socket (before anything binds it)."""
    check_path_length(address.path)
    try:
        prepare_socket_dir(os.path.dirname(address.path), dir_mode)
    except OSError as exc:
        raise ListenError(f"socket directory {os.path.dirname(address.path)}: {exc.strerror}") from None
    clear_stale_socket(address.path)


def set_socket_access(path: str, mode: int, gid: int | None) -> None:
    """Give the bound socket its final mode (and group); the socket was born 0600 (umask 0177)."""
    if gid is not None:
        os.chown(path, -1, gid)
    os.chmod(path, mode)
