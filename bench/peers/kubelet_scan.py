"""The kubelet's docker keyring as a pure-Python linear scan: the benchmark's kubelet peer.

The scan is the shared kubelet model's ``BasicDockerKeyring`` (``oracles/kubelet_sim.py``, the tests'
oracle, written from docs/kubelet.md §c after kubelet ``pkg/credentialprovider/keyring.go``):

* ``add`` normalises every raw key (§c.1: ``https://`` prefixed unless a scheme is there, parsed
  like Go's ``net/url.Parse``, a leading ``/v1/`` or ``/v2/`` stripped, key = host or host+path),
  keeps every credential (appends) and keeps the index sorted in descending (Go byte) order;
* ``lookup`` walks the whole index and calls ``urls_match_str(key, image)`` per key (§c.2) — which,
  like the kubelet's ``URLsMatchStr``, parses *both* strings on every call — then the
  ``index.docker.io`` default-registry fallback (§c.3, §c.4).

This module only adapts the model to the bench's shape (each credential carries its key, so the
bench can check that pullkey and the scan give the same answers) and adds a context peer that
parses once. Faithfulness notes: bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracles.kubelet_sim import (
    DEFAULT_REGISTRY_HOST,
    BadPattern,
    SplitURL,
    filepath_match,
    is_default_registry_match,
    normalize_key,
    parse_schemeless,
    split_url,
    split_urls_match,
    urls_match_str,
)
from oracles.kubelet_sim import BasicDockerKeyring as _ModelKeyring

__all__ = [
    "DEFAULT_REGISTRY_HOST",
    "AuthConfig",
    "BadPattern",
    "BasicDockerKeyring",
    "PreparsedScanKeyring",
    "filepath_match",
    "is_default_registry_match",
    "normalize_key",
    "urls_match_str",
]


@dataclass(frozen=True)
class AuthConfig:
    """What the kubelet keeps of a docker config entry (docs/kubelet.md §b.1); ``key`` = normalised key."""

    key: str
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password
        return f"AuthConfig(key={self.key!r}, username={self.username!r})"


class BasicDockerKeyring:
    """The kubelet's keyring, linear scan (the shared model); ``lookup`` returns AuthConfigs."""

    def __init__(self) -> None:
        self._model = _ModelKeyring()

    def add(self, entries: dict[str, tuple[str, str]]) -> None:
        """Add raw key → (username, password) entries (already decoded from `auth`, docs/kubelet.md §b.1)."""
        self._model.add(entries)

    @property
    def index(self) -> list[str]:
        """The keys in lookup order (descending)."""
        return self._model.index

    def __len__(self) -> int:
        return len(self._model)

    def lookup(self, image: str) -> list[AuthConfig]:
        """§c.3: every matching key in index order, all its credentials; else the Docker Hub fallback."""
        return [AuthConfig(key, user, password) for key, user, password, _ in self._model.lookup_keyed(image)]


class PreparsedScanKeyring(BasicDockerKeyring):
    """A context peer: the same linear scan, but keys are parsed once at ``add`` and the image once per
    lookup (what an optimised Python port of the kubelet would do), split into labels, port and path
    once too; then the model's ``URLsMatch`` comparison per key. Same answers, fewer parses."""

    def add(self, entries: dict[str, tuple[str, str]]) -> None:
        super().add(entries)
        self._parsed: list[tuple[str, SplitURL]] = []
        for key in self.index:
            try:
                self._parsed.append((key, split_url(parse_schemeless(key))))
            except ValueError:
                continue  # URLsMatchStr would fail on this key for every image

    def lookup(self, image: str) -> list[AuthConfig]:
        creds = self._model.entries
        out: list[AuthConfig] = []
        try:
            target: SplitURL | None = split_url(parse_schemeless(image))
        except ValueError:
            target = None
        if target is not None:
            for key, glob in self._parsed:
                if split_urls_match(glob, target):
                    out.extend(AuthConfig(key, user, password) for user, password, _ in creds[key])
        if out:
            return out
        if is_default_registry_match(image) and DEFAULT_REGISTRY_HOST in creds:
            return [AuthConfig(DEFAULT_REGISTRY_HOST, u, p) for u, p, _ in creds[DEFAULT_REGISTRY_HOST]]
        return []
