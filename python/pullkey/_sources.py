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
import sys

from pullkey import _core
from pullkey.options import MAX_SOURCE_BYTES, Options, Settings, settings_from

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey._core import Keyring, SourceFile
    from pullkey._types import SearchPolicy, SourceFormat
    from pullkey.tenants import TenantState

MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
SECRET_KEYS = (".dockerconfigjson", ".dockercfg")


class State:
    """One loaded state: the keyring, the settings it was built with, the load's warnings, the sources
    used and every path whose change should trigger a reload. Never changed after :func:`load`
    (``tenants``, the credential sets' state of :mod:`pullkey.tenants`, is set before it is published)."""

    __slots__ = ("keyring", "settings", "tenants", "used", "warnings", "watched")

    def __init__(
        self, keyring: Keyring, settings: Settings, warnings: list[str], used: list[str], watched: list[str]
    ) -> None:
        self.keyring = keyring
        self.settings = settings
        self.warnings = warnings
        self.used = used
        self.watched = watched
        self.tenants: TenantState | None = None


def load(options: Options) -> State:
    """Settings from ``options`` (flags > environment > config file > defaults), then the sources read
    and the keyring built. Raises ``ConfigError`` (a bad config, or in strict mode a bad source)."""
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


def read_source(path: str, warnings: list[str], what: str | None = None) -> bytes | None:
    """The file's bytes; ``None`` when it cannot be read (with a warning) or does not exist (silently
    for a search-path candidate; with a warning naming ``what`` for a configured file)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        if what is not None:
            warnings.append(f"{path}: {what} does not exist")
        return None
    except IsADirectoryError:
        warnings.append(f"{path}: is a directory, not a docker config file")
        return None
    except OSError as e:
        warnings.append(f"{path}: cannot read: {e.strerror}")
        return None
    if len(data) > MAX_SOURCE_BYTES:
        warnings.append(f"{path}: larger than {MAX_SOURCE_BYTES >> 20} MiB, skipped")
        return None
    return data


def _secret_dir_files(directory: str, warnings: list[str]) -> list[tuple[str, bytes]] | None:
    """The secret keys of a mounted secret volume; ``None`` when the directory is not one."""
    files = []
    for key in SECRET_KEYS:
        data = read_source(os.path.join(directory, key), warnings)
        if data is not None:
            files.append((key, data))
    return files or None


def _secret_dir_sources(directory: str, warnings: list[str], watched: list[str]) -> list[SourceFile]:
    """A directory of manifest files and/or mounted secret volumes (sorted by name, as the kubelet
    sorts config directories); a directory that is itself a mounted secret counts as one."""
    out: list[SourceFile] = []
    own = _secret_dir_files(directory, warnings)
    if own is not None:
        watched.extend(os.path.join(directory, key) for key, _ in own)
        return [_core.SourceFile(directory, "secret-dir", own)]
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        warnings.append(f"{directory}: pull-secret directory does not exist")
        return out
    except OSError as e:
        warnings.append(f"{directory}: cannot list: {e.strerror}")
        return out
    for name in names:
        if name.startswith(".."):  # kubelet secret volumes: ..data and ..<timestamp> are the atomic-writer's
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            files = _secret_dir_files(path, warnings)
            if files is not None:
                watched.extend(os.path.join(path, key) for key, _ in files)
                out.append(_core.SourceFile(path, "secret-dir", files))
        elif name.endswith(MANIFEST_SUFFIXES):
            watched.append(path)
            data = read_source(path, warnings)
            if data is not None:
                out.append(_core.SourceFile(path, "secret", data))
    return out


def collect(settings: Settings) -> tuple[list[SourceFile], list[SourceFile], list[str], list[str]]:
    """Reads every configured source: (pull-secret sources, node sources, read problems, watched paths)."""
    secrets: list[SourceFile] = []
    node: list[SourceFile] = []
    problems: list[str] = []
    watched: list[str] = []
    for source in settings.sources:
        kind = source.type
        path = source.path or ""
        if kind == "SearchPaths":
            for candidate, fmt in search_path_candidates(settings.root_dir, settings.cwd, settings.home):
                watched.append(candidate)
                data = read_source(candidate, problems)
                if data is not None:
                    node.append(_core.SourceFile(candidate, fmt, data, search_path=True))
        elif kind == "DockerConfig":
            watched.append(path)
            data = read_source(path, problems, "docker config file")
            if data is not None:
                node.append(_core.SourceFile(path, source.format, data))
        elif kind == "PullSecret":
            watched.append(path)
            data = read_source(path, problems, "pull-secret file")
            if data is not None:
                secrets.append(_core.SourceFile(path, "secret", data))
        elif kind == "PullSecretDir":
            watched.append(path)
            secrets.extend(_secret_dir_sources(path, problems, watched))
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


def write_err(line: str) -> None:
    """One line on stderr (the kubelet logs a failed plugin's stderr)."""
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()
