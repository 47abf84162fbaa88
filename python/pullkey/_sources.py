"""The one loader's second half: finding and reading credential sources, building the keyring.

:func:`load` is the one ``Options -> Settings -> loaded State`` path (the exec plugin, every CLI
command, :class:`pullkey.Resolver` and the gRPC daemon through it), and :func:`build_keyring` is the one
place where ``strict`` is decided, for read errors (here) and parse errors (reported by the core).

Shared by the lean exec path and the long-lived service, so it imports only ``os`` and ``sys``
(every millisecond of the exec path's start-up is paid by the kubelet on each uncached pull).
The Rust core never touches the file system: this module reads bytes and hands them over.
"""

from __future__ import annotations

import os

from pullkey import _core

# The reader and the one-line writers live in pullkey._files; re-exported for the modules that read sources.
from pullkey._files import (
    MAX_DIR_ENTRIES as MAX_DIR_ENTRIES,
)
from pullkey._files import (
    MAX_LOAD_BYTES as MAX_LOAD_BYTES,
)
from pullkey._files import (
    MAX_LOAD_FILES as MAX_LOAD_FILES,
)
from pullkey._files import (
    MAX_SOURCE_BYTES as MAX_SOURCE_BYTES,
)
from pullkey._files import (
    NotRead as NotRead,
)
from pullkey._files import (
    _open as _open,
)
from pullkey._files import (
    _over as _over,
)
from pullkey._files import (
    _read_at_most as _read_at_most,
)
from pullkey._files import (
    _regular as _regular,
)
from pullkey._files import (
    one_line as one_line,
)
from pullkey._files import (
    quote as quote,
)
from pullkey._files import (
    read_regular as read_regular,
)
from pullkey._files import (
    write_err as write_err,
)
from pullkey._files import (
    write_stderr as write_stderr,
)
from pullkey.options import Options, Settings, settings_from

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey._core import Keyring, SourceFile
    from pullkey._types import SearchPolicy, SourceFormat
    from pullkey.helpers import HelperPlan
    from pullkey.tenants import TenantState

MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
SECRET_KEYS = (".dockerconfigjson", ".dockercfg")


class State:
    """One loaded state: the keyring, the settings it was built with, the load's warnings, the sources
    used and every path whose change should trigger a reload; ``helpers``: the docker credential
    helpers to consult (docs/helpers.md), ``None`` when they are off. Never changed after :func:`load`
    (``tenants``, the credential sets' state of :mod:`pullkey.tenants`, is set before it is published)."""

    __slots__ = ("helpers", "keyring", "settings", "tenants", "used", "warnings", "watched")

    def __init__(
        self, keyring: Keyring, settings: Settings, warnings: list[str], used: list[str], watched: list[str]
    ) -> None:
        self.keyring = keyring
        self.settings = settings
        self.warnings = warnings
        self.used = used
        self.watched = watched
        self.helpers: HelperPlan | None = None
        self.tenants: TenantState | None = None


def load_sources(options: Options) -> State:
    """Settings from ``options`` (flags > environment > config file > defaults), then the sources read
    and the keyring built: the part of :func:`pullkey._load.load` every state has. Raises
    ``ConfigError`` (a bad config, or in strict mode a bad source)."""
    settings = settings_from(options)
    keyring, warnings, used, watched = build(settings)
    return State(keyring, settings, warnings, used, watched)


def search_path_candidates(root_dir: str, cwd: str, home: str) -> list[tuple[str, SourceFormat]]:
    """The kubelet's docker config candidates, in order (docs/kubelet.md §b.2;
    kubernetes/kubernetes pkg/credentialprovider/config.go (v1.34)).

    ``config.json`` in ``<root-dir>``, the working directory, ``$HOME/.docker`` and ``/.docker``; then
    ``.dockercfg`` in ``<root-dir>``, the working directory, ``$HOME`` and ``/``. Relative paths are made
    absolute against the working directory. Returns (path, kind) pairs.
    """
    home_docker = os.path.join(home, ".docker") if home else ".docker"
    out: list[tuple[str, SourceFormat]] = []
    for directory in (root_dir, "", home_docker, "/.docker"):
        out.append((os.path.join(cwd, directory, "config.json"), "config.json"))
    for directory in (root_dir, "", home, "/"):
        out.append((os.path.join(cwd, directory, ".dockercfg"), "dockercfg"))
    return [(os.path.normpath(path), kind) for path, kind in out]


class Reader:
    """Reads the credential sources of one load: without blocking, regular files only, within the
    limits above, and each file once: search paths can name one file twice (a working directory equal
    to the root dir, ``/`` as both working directory and home, a symlink); by ``(st_dev, st_ino)`` of the
    opened file the first occurrence in the kubelet's search order (docs/kubelet.md §b.2) is kept and a
    later one is skipped silently. ``problems`` collects a warning for every other file not read."""

    __slots__ = ("bytes_left", "files_left", "problems", "seen", "stopped")

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.seen: set[tuple[int, int]] = set()
        self.bytes_left = MAX_LOAD_BYTES
        self.files_left = MAX_LOAD_FILES
        self.stopped = False  # a limit of the load was reached (warned once): no later file is read

    def read(self, path: str, what: str | None = None) -> bytes | None:
        """The file's bytes, or ``None``: missing (silently for a search-path candidate, ``what=None``;
        else a warning naming ``what``), already read in this load (silently), unreadable, not a regular
        file, or over a limit (a warning)."""
        if self.stopped:
            return None
        try:
            fd = _open(path)
        except (FileNotFoundError, NotADirectoryError):
            if what is not None:
                self.problems.append(f"{quote(path)}: {what} does not exist")
            return None
        except NotRead as e:
            self.problems.append(f"{quote(path)}: not read: {e}")
            return None
        except OSError as e:
            self.problems.append(f"{quote(path)}: cannot read: {e.strerror}")
            return None
        try:
            return self._read(fd, path)
        except NotRead as e:
            self.problems.append(f"{quote(path)}: not read: {e}")
        except OSError as e:
            self.problems.append(f"{quote(path)}: cannot read: {e.strerror}")
        finally:
            os.close(fd)
        return None

    def _read(self, fd: int, path: str) -> bytes | None:
        st = _regular(os.fstat(fd))
        identity = (st.st_dev, st.st_ino)
        if identity in self.seen:
            return None
        if st.st_size > MAX_SOURCE_BYTES:
            raise NotRead(_over(MAX_SOURCE_BYTES))
        if self.files_left <= 0:
            self.stop(path, f"more than {MAX_LOAD_FILES} files")
            return None
        limit = min(MAX_SOURCE_BYTES, self.bytes_left)
        data = None if st.st_size > limit else _read_at_most(fd, st.st_size, limit)
        if data is None:
            if limit == MAX_SOURCE_BYTES:
                raise NotRead(_over(MAX_SOURCE_BYTES))
            self.stop(path, f"more than {MAX_LOAD_BYTES >> 20} MiB")
            return None
        self.seen.add(identity)
        self.files_left -= 1
        self.bytes_left -= len(data)
        return data

    def stop(self, path: str, what: str) -> None:
        """Stops the load's reading at ``path``: the sources are ``what`` (over a limit of one load)."""
        self.stopped = True
        self.problems.append(
            f"{quote(path)}: not read: the sources of one load are {what}, the limit;"
            " this file and every later one are skipped"
        )


def _secret_dir_files(directory: str, reader: Reader) -> list[tuple[str, bytes]] | None:
    """The secret keys of a mounted secret volume; ``None`` when the directory is not one."""
    files = []
    for key in SECRET_KEYS:
        data = reader.read(os.path.join(directory, key))
        if data is not None:
            files.append((key, data))
    return files or None


def _list_dir(directory: str, reader: Reader) -> list[tuple[str, bool]]:
    """(name, is a directory) of the entries of ``directory``, sorted by name; ``[]`` with a warning when
    it cannot be listed or has more than ``MAX_DIR_ENTRIES`` entries (then none of them is read)."""
    entries: list[tuple[str, bool]] = []
    try:
        with os.scandir(directory) as it:
            for count, entry in enumerate(it):
                if count == MAX_DIR_ENTRIES:
                    limit = f"more than {MAX_DIR_ENTRIES} entries, the limit for one directory"
                    reader.problems.append(f"{quote(directory)}: not read: {limit}")
                    return []
                if entry.name.startswith(".."):  # secret volumes: ..data and ..<timestamp> are the atomic writer's
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                entries.append((entry.name, is_dir))
    except FileNotFoundError:
        reader.problems.append(f"{quote(directory)}: pull-secret directory does not exist")
        return []
    except OSError as e:
        reader.problems.append(f"{quote(directory)}: cannot list: {e.strerror}")
        return []
    entries.sort()
    return entries


def _secret_dir_sources(directory: str, reader: Reader, watched: list[str]) -> list[SourceFile]:
    """A directory of manifest files and/or mounted secret volumes (sorted by name, as the kubelet
    sorts config directories); a directory that is itself a mounted secret counts as one."""
    out: list[SourceFile] = []
    own = _secret_dir_files(directory, reader)
    if own is not None:
        watched.extend(os.path.join(directory, key) for key, _ in own)
        return [_core.SourceFile(quote(directory), "secret-dir", own)]
    for name, is_dir in _list_dir(directory, reader):
        if reader.stopped:
            break
        path = os.path.join(directory, name)
        if is_dir:
            files = _secret_dir_files(path, reader)
            if files is not None:
                watched.extend(os.path.join(path, key) for key, _ in files)
                out.append(_core.SourceFile(quote(path), "secret-dir", files))
        elif name.endswith(MANIFEST_SUFFIXES):
            watched.append(path)
            data = reader.read(path)
            if data is not None:
                out.append(_core.SourceFile(quote(path), "secret", data))
    return out


def collect(settings: Settings) -> tuple[list[SourceFile], list[SourceFile], list[str], list[str]]:
    """Reads every configured source: (pull-secret sources, node sources, read problems, watched paths)."""
    secrets: list[SourceFile] = []
    node: list[SourceFile] = []
    problems: list[str] = []
    watched: list[str] = []
    reader = Reader(problems)
    for source in settings.sources:
        kind = source.type
        path = source.path or ""
        if kind == "SearchPaths":
            for candidate, fmt in search_path_candidates(settings.root_dir, settings.cwd, settings.home):
                watched.append(candidate)
                data = reader.read(candidate)
                if data is not None:
                    node.append(_core.SourceFile(quote(candidate), fmt, data, search_path=True))
        elif kind == "DockerConfig":
            watched.append(path)
            data = reader.read(path, "docker config file")
            if data is not None:
                node.append(_core.SourceFile(quote(path), source.format, data))
        elif kind == "PullSecret":
            watched.append(path)
            data = reader.read(path, "pull-secret file")
            if data is not None:
                secrets.append(_core.SourceFile(quote(path), "secret", data))
        elif kind == "PullSecretDir":
            watched.append(path)
            secrets.extend(_secret_dir_sources(path, reader, watched))
    return secrets, node, problems, watched


def build_keyring(
    secrets: list[SourceFile],
    node: list[SourceFile],
    search_policy: SearchPolicy,
    strict: bool,
    problems: list[str] | None = None,
) -> tuple[Keyring, list[str], list[str]]:
    """The merged keyring of read sources: (keyring, warnings, used source names).

    The one owner of ``strict``: a source that could not be read (``problems``, from :func:`collect`) or
    that the core could not parse is a warning, or in strict mode a ``ConfigError`` (the first one:
    read problems before parse errors)."""
    if strict and problems:
        from pullkey.errors import ConfigError

        raise ConfigError(problems[0], code="unreadable_source")
    keyring, warnings, used, skipped = _core._build_keyring(secrets, node, search_policy)
    if strict and skipped:
        raise skipped[0]
    return keyring, [*(problems or ()), *warnings], used


def build(settings: Settings) -> tuple[Keyring, list[str], list[str], list[str]]:
    """Reads the sources and builds the merged keyring: (keyring, warnings, used sources, watched paths).

    Raises ``ConfigError`` in strict mode when a source is malformed or missing.
    """
    secrets, node, problems, watched = collect(settings)
    keyring, warnings, used = build_keyring(secrets, node, settings.search_policy, settings.strict, problems)
    return keyring, warnings, used, watched
