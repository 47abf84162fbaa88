"""Finding and reading credential sources: the kubelet search paths, extra files, pull secrets.

Shared by the lean exec path and the long-lived service, so it imports only ``os`` and ``sys``
(every millisecond of the exec path's start-up is paid by the kubelet on each uncached pull).
The Rust core never touches the file system: this module reads bytes and hands them over.
"""

from __future__ import annotations

import os
import sys

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey._core import Keyring

DEFAULT_ROOT_DIR = "/var/lib/kubelet"
MAX_SOURCE_BYTES = 16 << 20
SEARCH_POLICIES = ("merge", "first")
CACHE_POLICIES = ("auto", "Image", "Registry", "Global")
DEFAULT_CACHE_DURATION = 300
MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
SECRET_KEYS = (".dockerconfigjson", ".dockercfg")

# A source as the core takes it: (display name, kind, bytes or [(file name, bytes)], search path?).
Source = tuple[str, str, object, bool]


class Settings:
    """The effective settings: command-line flag > environment > config file > default."""

    __slots__ = (
        "cache_duration",
        "cache_policy",
        "config_path",
        "cwd",
        "home",
        "root_dir",
        "search_policy",
        "sources",
        "strict",
    )

    def __init__(
        self,
        *,
        config_path: str | None = None,
        config: dict[str, object] | None = None,
        root_dir: str | None = None,
        search_policy: str | None = None,
        strict: bool | None = None,
        cache_policy: str | None = None,
        cache_duration: int | None = None,
        cwd: str | None = None,
        home: str | None = None,
        environ: dict[str, str] | os._Environ[str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        cfg = config or {}
        self.config_path = config_path
        self.root_dir: str = (
            root_dir or env.get("PULLKEY_ROOT_DIR") or str(cfg.get("root_dir") or "") or DEFAULT_ROOT_DIR
        )
        self.search_policy: str = search_policy or str(cfg.get("search_policy") or "merge")
        if self.search_policy not in SEARCH_POLICIES:
            from pullkey.errors import ConfigError

            raise ConfigError(f"--search-policy: expected merge or first, got {self.search_policy!r}")
        self.strict: bool = bool(cfg.get("strict", False)) if strict is None else strict
        self.cache_policy: str = cache_policy or str(cfg.get("cache_policy") or "auto")
        if self.cache_policy not in CACHE_POLICIES:
            from pullkey.errors import ConfigError

            raise ConfigError(f"--cache-policy: expected one of {', '.join(CACHE_POLICIES)}, got {self.cache_policy!r}")
        duration = cfg.get("cache_duration", DEFAULT_CACHE_DURATION) if cache_duration is None else cache_duration
        self.cache_duration: int = int(duration)  # type: ignore[call-overload]
        raw_sources = cfg.get("sources") or [{"type": "SearchPaths"}]
        self.sources: list[dict[str, str]] = list(raw_sources)  # type: ignore[call-overload]
        # os.getcwd() raises when the working directory was removed; the kubelet then resolves "" to it anyway.
        try:
            self.cwd: str = cwd if cwd is not None else os.getcwd()
        except OSError:
            self.cwd = "."
        self.home: str = home if home is not None else env.get("HOME", "")


def load_settings(
    *,
    config_path: str | None = None,
    environ: dict[str, str] | os._Environ[str] | None = None,
    **overrides: object,
) -> Settings:
    """Reads pullkey's own config (``--config`` or ``PULLKEY_CONFIG``) and applies the overrides."""
    env = os.environ if environ is None else environ
    path = config_path or env.get("PULLKEY_CONFIG") or None
    config = None
    if path:
        from pullkey import _core
        from pullkey.errors import ConfigError

        try:
            with open(path, "rb") as f:
                data = f.read(MAX_SOURCE_BYTES + 1)
        except OSError as e:
            raise ConfigError(f"{path}: cannot read pullkey config: {e.strerror}") from None
        config = _core.load_provider_config(data, path)
    return Settings(config_path=path, config=config, environ=env, **overrides)  # type: ignore[arg-type]


def search_path_candidates(root_dir: str, cwd: str, home: str) -> list[tuple[str, str]]:
    """The kubelet's docker config candidates, in order (spec/kubelet.md §b.2; kubelet config.go).

    ``config.json`` in ``<root-dir>``, the working directory, ``$HOME/.docker`` and ``/.docker``; then
    ``.dockercfg`` in ``<root-dir>``, the working directory, ``$HOME`` and ``/``. Relative paths are made
    absolute against the working directory. Returns (path, kind) pairs.
    """
    home_docker = os.path.join(home, ".docker") if home else ".docker"
    out = []
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


def _secret_dir_sources(directory: str, warnings: list[str], watched: list[str]) -> list[Source]:
    """A directory of manifest files and/or mounted secret volumes (sorted by name, as the kubelet
    sorts config directories); a directory that is itself a mounted secret counts as one."""
    out: list[Source] = []
    own = _secret_dir_files(directory, warnings)
    if own is not None:
        watched.extend(os.path.join(directory, key) for key, _ in own)
        return [(directory, "secret-dir", own, False)]
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
                out.append((path, "secret-dir", files, False))
        elif name.endswith(MANIFEST_SUFFIXES):
            watched.append(path)
            data = read_source(path, warnings)
            if data is not None:
                out.append((path, "secret", data, False))
    return out


FORMATS = {"auto": "auto", "config.json": "config.json", "dockercfg": "dockercfg"}


def collect(settings: Settings) -> tuple[list[Source], list[Source], list[str], list[str]]:
    """Reads every configured source: (pull-secret sources, node sources, warnings, watched paths)."""
    secrets: list[Source] = []
    node: list[Source] = []
    warnings: list[str] = []
    watched: list[str] = []
    for source in settings.sources:
        kind = source.get("type")
        path = source.get("path") or ""
        if kind == "SearchPaths":
            for candidate, fmt in search_path_candidates(settings.root_dir, settings.cwd, settings.home):
                watched.append(candidate)
                data = read_source(candidate, warnings)
                if data is not None:
                    node.append((candidate, fmt, data, True))
        elif kind == "DockerConfig":
            watched.append(path)
            data = read_source(path, warnings, "docker config file")
            if data is not None:
                node.append((path, FORMATS.get(source.get("format") or "auto", "auto"), data, False))
        elif kind == "PullSecret":
            watched.append(path)
            data = read_source(path, warnings, "pull-secret file")
            if data is not None:
                secrets.append((path, "secret", data, False))
        elif kind == "PullSecretDir":
            watched.append(path)
            secrets.extend(_secret_dir_sources(path, warnings, watched))
    return secrets, node, warnings, watched


def build(settings: Settings) -> tuple[Keyring, list[str], list[str], list[str]]:
    """Reads the sources and builds the merged keyring: (keyring, warnings, used sources, watched paths).

    Raises ``ConfigError`` in strict mode when a source is malformed or missing.
    """
    from pullkey._core import Keyring

    secrets, node, warnings, watched = collect(settings)
    if settings.strict and warnings:
        from pullkey.errors import ConfigError

        raise ConfigError(warnings[0])
    keyring, more, used = Keyring.build(secrets, node, search_policy=settings.search_policy, strict=settings.strict)
    return keyring, warnings + more, used, watched


def write_err(line: str) -> None:
    """One line on stderr (the kubelet logs a failed plugin's stderr)."""
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()
