"""Reading files as every source is read, and writing one-line messages: the lowest layer of the
loader (:mod:`pullkey.options` reads ``--config`` with it, :mod:`pullkey._sources` every source).

Exec-safe: imports only ``os`` and ``sys``. Files are opened without blocking and only regular files
are read, never past a limit; every message is one line, with paths quoted when they hold control
characters (SECURITY.md, "Limits").
"""

from __future__ import annotations

import os
import sys

# Limits of one load (SECURITY.md "Limits"). Each is checked before the bytes it bounds are read; over a
# limit a file is skipped with a warning naming the limit (strict: an error), never truncated.
MAX_SOURCE_BYTES = 16 << 20
"""Bytes of one file: pullkey's config and each credential source."""
MAX_LOAD_BYTES = 64 << 20
"""Bytes of all the credential sources of one load together."""
MAX_LOAD_FILES = 10_000
"""Files read in one load (search-path candidates, configured files, manifests, secret key files)."""
MAX_DIR_ENTRIES = 10_000
"""Entries of one ``PullSecretDir`` directory: a larger directory is skipped whole, none of it read."""

# O_NONBLOCK: opening a FIFO never waits for a writer (and fstat then refuses it); O_NOCTTY: a terminal
# never becomes the controlling one. Symlinks are followed, as the kubelet follows them (secret volumes
# are symlinks into ..data).
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_S_IFMT, _S_IFREG = 0o170000, 0o100000
_FILE_TYPES = {
    0o010000: "a FIFO",
    0o020000: "a character device",
    0o040000: "a directory",
    0o060000: "a block device",
    0o140000: "a socket",
}


class NotRead(Exception):
    """A file that is not read: not a regular file, or over a limit (the message says which)."""


def _regular(st: os.stat_result) -> os.stat_result:
    """``st`` when it is a regular file's; :class:`NotRead` naming what it is otherwise."""
    kind = st.st_mode & _S_IFMT
    if kind != _S_IFREG:
        raise NotRead(f"not a regular file ({_FILE_TYPES.get(kind, 'of unknown type')})")
    return st


def _open(path: str) -> int:
    """``path`` opened for reading without blocking; :class:`NotRead` for what cannot be opened because
    it is not a file (a socket: ``ENXIO``), ``OSError`` otherwise."""
    try:
        return os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        raise
    except OSError:
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None:
            _regular(st)
        raise


def _read_at_most(fd: int, size: int, limit: int) -> bytes | None:
    """The rest of ``fd`` (``size``: its ``st_size``, a hint), or ``None`` when it is over ``limit``
    bytes (the file may grow while it is read: never more than ``limit + 1`` bytes are read)."""
    parts = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fd, min(left, max(size + 1, 1 << 16)))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    if left <= 0:
        return None
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _over(limit: int) -> str:
    return f"larger than {limit >> 20} MiB, the limit for one file"


def read_regular(path: str, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, read without blocking and never past ``limit``.
    Raises ``OSError`` (cannot open or read) or :class:`NotRead` (not a regular file, over ``limit``)."""
    fd = _open(path)
    try:
        st = _regular(os.fstat(fd))
        data = None if st.st_size > limit else _read_at_most(fd, st.st_size, limit)
    finally:
        os.close(fd)
    if data is None:
        raise NotRead(_over(limit))
    return data


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _escape(text: str, quoted: bool) -> str:
    out = []
    for ch in text:
        if ch.isprintable():
            out.append("\\" + ch if quoted and ch in '"\\' else ch)
            continue
        n = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= n <= 0xDCFF:  # a byte that is not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{n - 0xDC00:02x}")
        elif n < 0x100:
            out.append(f"\\x{n:02x}")
        elif n < 0x10000:
            out.append(f"\\u{n:04x}")
        else:
            out.append(f"\\U{n:08x}")
    return "".join(out)


def quote(text: str) -> str:
    """``text`` (a path, a name) as it may appear in a message: as is when every character is printable
    and it does not start with ``"``; else double-quoted with Go ``%q``-like escapes (``\\n``, ``\\x1b``,
    ``\\u2028``; a byte that is not UTF-8 as ``\\xff``). A file name cannot forge a log line."""
    if text.isprintable() and not text.startswith('"'):
        return text
    return '"' + _escape(text, quoted=True) + '"'


def one_line(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\n``...): one line, whatever parts of
    it came from (the last line of defence of :func:`write_err`; paths are already :func:`quote`-d)."""
    return text if text.isprintable() else _escape(text, quoted=False)


def write_err(line: str) -> None:
    """One line on stderr (the kubelet logs a failed plugin's stderr); nothing when stderr is closed."""
    write_stderr(one_line(line.rstrip("\n")) + "\n")


def write_stderr(text: str) -> None:
    """``text`` on stderr as it is (usage); nothing when stderr is closed or broken."""
    if sys.stderr is None:
        return
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
