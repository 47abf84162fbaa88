"""Running one docker credential helper safely (docs/helpers.md "Safety").

- No shell: the program is started with ``os.posix_spawn`` from an absolute path resolved once, when
  the sources are loaded (:func:`resolve`), from the configured directories only.
- A clean environment: ``PATH`` (the configured directories) plus the named variables.
- Its own process group; on timeout, or when it prints more than the cap, the whole group is killed.
- stdout and stderr are each read up to the cap, never more; the caller summarises stderr with the
  core (:func:`pullkey._core._helper_summarize`), which never repeats what could be a secret.

Imports only ``os``, ``select``, ``signal`` and ``time``: the exec plugin runs this when helpers are on.
"""

from __future__ import annotations

import os
import select
import signal
import time

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Mapping

PROGRAM_PREFIX = "docker-credential-"
PATH_DIRS = "$PATH"  # the helpers.dirs entry that stands for the caller's PATH


class Run:
    """What one run produced: ``status`` is ``"exited"``, ``"timeout"``, ``"too big"`` or ``"failed to
    start"``; ``code`` the exit status (or ``-signal``); ``stdout``/``stderr`` at most the cap."""

    __slots__ = ("code", "seconds", "status", "stderr", "stdout")

    def __init__(self, status: str, code: int, stdout: bytes, stderr: bytes, seconds: float) -> None:
        self.status = status
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def __repr__(self) -> str:  # never the output: it may hold a secret
        return f"Run({self.status!r}, code={self.code}, stdout=<{len(self.stdout)} bytes>, seconds={self.seconds:.3f})"


def search_dirs(dirs: list[str], environ: Mapping[str, str]) -> list[str]:
    """The configured directories with ``$PATH`` expanded to the caller's ``PATH`` (absolute paths)."""
    out: list[str] = []
    for entry in dirs:
        expanded = environ.get("PATH", "").split(os.pathsep) if entry == PATH_DIRS else [entry]
        for directory in expanded:
            if directory:
                directory = os.path.abspath(directory)
                if directory not in out:
                    out.append(directory)
    return out


def resolve(name: str, dirs: list[str]) -> str | None:
    """The absolute path of ``docker-credential-<name>``: the first regular, executable file of that
    name in ``dirs``; ``None`` when there is none."""
    for directory in dirs:
        path = os.path.join(directory, PROGRAM_PREFIX + name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def run(path: str, action: str, stdin: bytes, env: Mapping[str, str], timeout: float, cap: int) -> Run:
    """Runs ``path action`` with ``stdin``, in a new process group, for at most ``timeout`` seconds,
    keeping at most ``cap`` bytes of stdout and of stderr."""
    start = time.monotonic()
    deadline = start + timeout
    fds: list[int] = []
    try:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        fds += [in_r, in_w, out_r, out_w, err_r, err_w]
        try:
            pid = os.posix_spawn(
                path,
                [path, action],
                dict(env),
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, in_r, 0),
                    (os.POSIX_SPAWN_DUP2, out_w, 1),
                    (os.POSIX_SPAWN_DUP2, err_w, 2),
                ],
                setpgroup=0,  # its own group: a timeout kills everything it started
                setsigdef=(signal.SIGPIPE,),  # Python ignores SIGPIPE; a helper expects the default
            )
        except OSError as e:
            return Run("failed to start", 0, b"", (e.strerror or "").encode(), time.monotonic() - start)
        for fd in (in_r, out_w, err_w):
            os.close(fd)
            fds.remove(fd)
        try:
            os.write(in_w, stdin)
        except OSError:  # it exited without reading: its exit status says why
            pass
        os.close(in_w)
        fds.remove(in_w)
        return _collect(pid, out_r, err_r, start, deadline, cap)
    finally:
        for fd in fds:
            os.close(fd)


def _collect(pid: int, out_r: int, err_r: int, start: float, deadline: float, cap: int) -> Run:
    buffers = {out_r: bytearray(), err_r: bytearray()}
    poller = select.poll()
    for fd in buffers:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN | select.POLLHUP)
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):  # Linux < 5.3: the exit is noticed by polling waitpid
        pidfd = None
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    open_fds = set(buffers)
    status = "exited"
    exited = False
    try:
        while open_fds and not exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                status = "timeout"
                break
            wait_ms = remaining * 1000 if pidfd is not None else min(remaining * 1000, 10)
            for fd, _ in poller.poll(max(1, int(wait_ms))):
                if fd == pidfd:
                    exited = True
                elif _read(fd, buffers[fd], cap):
                    open_fds.discard(fd)
                    poller.unregister(fd)
            if any(len(b) > cap for b in buffers.values()):
                status = "too big"
                break
            if pidfd is None:
                reaped, wait_status = os.waitpid(pid, os.WNOHANG)
                if reaped:
                    for fd in list(open_fds):
                        _read(fd, buffers[fd], cap)
                    code = os.waitstatus_to_exitcode(wait_status)
                    out, err = bytes(buffers[out_r][:cap]), bytes(buffers[err_r][:cap])
                    return Run(status, code, out, err, time.monotonic() - start)
        if status == "exited":
            # It exited (or closed both pipes): what it wrote is in the pipes now. A process it left
            # behind holding them open is not waited for.
            for fd in list(open_fds):
                _read(fd, buffers[fd], cap)
            if any(len(b) > cap for b in buffers.values()):
                status = "too big"
            elif not exited:
                remaining = deadline - time.monotonic()
                if pidfd is not None and remaining > 0 and not poller.poll(max(1, int(remaining * 1000))):
                    status = "timeout"
        return _finish(pid, status, buffers, out_r, err_r, start, cap)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _read(fd: int, buffer: bytearray, cap: int) -> bool:
    """Reads what is available (at most one byte past the cap); ``True`` at end of file."""
    while len(buffer) <= cap:
        try:
            chunk = os.read(fd, min(65536, cap + 1 - len(buffer)))
        except BlockingIOError:
            return False
        if not chunk:
            return True
        buffer += chunk
    return False


def _finish(
    pid: int,
    status: str,
    buffers: dict[int, bytearray],
    out_r: int,
    err_r: int,
    start: float,
    cap: int,
) -> Run:
    if status != "exited":
        try:
            os.killpg(pid, signal.SIGKILL)  # the whole group: whatever it started dies with it
        except OSError:
            pass
    _, wait_status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    return Run(status, code, bytes(buffers[out_r][:cap]), bytes(buffers[err_r][:cap]), time.monotonic() - start)
