"""The transport-neutral resolver: sources in, answers out.

The kubelet exec plugin, the gRPC server and the CLI are thin adapters over this module (and
:mod:`pullkey._sources`, which it shares with the lean exec path). A :class:`Resolver` holds one
immutable loaded state; :meth:`Resolver.reload` builds a new state and swaps it in with a single
assignment, so a concurrent reader sees either the old state or the new one, never a mix, and a
failed reload keeps the last good state.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pullkey import _sources
from pullkey._core import Credential, Keyring
from pullkey.errors import NotLoaded


@dataclass(frozen=True)
class Options:
    """How to find sources. ``None`` means: take it from the environment, the config file, or the default."""

    config: str | None = None
    root_dir: str | None = None
    search_policy: str | None = None
    strict: bool | None = None
    cache_policy: str | None = None
    cache_duration: int | None = None
    cwd: str | None = None
    home: str | None = None
    environ: dict[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Answer:
    """The credentials that open one image, in the order the kubelet would try them."""

    image: str
    repository: str
    credentials: list[Credential]
    cache_key_type: str
    cache_duration: int


@dataclass(frozen=True)
class State:
    keyring: Keyring
    settings: _sources.Settings
    warnings: list[str]
    used: list[str]
    watched: list[str]


class Resolver:
    """Loads the configured sources and answers credential questions about images."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._state: State | None = None
        self._lock = threading.Lock()  # serialises loads; readers never take it
        self.last_error: str | None = None

    def _build(self) -> State:
        o = self.options
        settings = _sources.load_settings(
            config_path=o.config,
            environ=o.environ,
            root_dir=o.root_dir,
            search_policy=o.search_policy,
            strict=o.strict,
            cache_policy=o.cache_policy,
            cache_duration=o.cache_duration,
            cwd=o.cwd,
            home=o.home,
        )
        keyring, warnings, used, watched = _sources.build(settings)
        return State(keyring, settings, warnings, used, watched)

    def load(self) -> None:
        """Loads the sources; raises (``ConfigError``...) and keeps the previous state on failure."""
        with self._lock:
            state = self._build()
            self._state = state
            self.last_error = None

    def reload(self) -> bool:
        """Reloads; ``False`` (last good state kept, ``last_error`` set) when the new state fails."""
        try:
            self.load()
        except Exception as e:
            self.last_error = str(e)
            return False
        return True

    @property
    def loaded(self) -> bool:
        return self._state is not None

    @property
    def state(self) -> State:
        state = self._state
        if state is None:
            raise NotLoaded("credential sources are not loaded" + (f": {self.last_error}" if self.last_error else ""))
        return state

    def get_credentials(self, image: str) -> Answer:
        """Credentials for ``image`` (any reference form) in kubelet order, with the cache hints the
        kubelet response would carry. Raises ``InvalidReference``."""
        state = self.state
        repository, credentials, cache_key_type = state.keyring.resolve(image, state.settings.cache_policy)
        return Answer(image, repository, credentials, cache_key_type, state.settings.cache_duration)

    def answer_pb(self, image: str) -> bytes:
        """The serialized ``pullkey.v1.GetCredentialsResponse`` for ``image`` (encoded in Rust).
        Raises ``InvalidReference``."""
        state = self.state
        return state.keyring.answer_pb(image, state.settings.cache_policy, state.settings.cache_duration)

    def batch_pb(self, images: Sequence[str]) -> bytes:
        """The serialized ``pullkey.v1.BatchGetCredentialsResponse`` for ``images``, one result per
        image in order; an invalid image is a per-item ``INVALID_ARGUMENT`` error."""
        state = self.state
        return state.keyring.batch_pb(images, state.settings.cache_policy, state.settings.cache_duration)

    def batch_pb_request(self, request: bytes, start: int, stop: int) -> bytes:
        """Like :meth:`batch_pb`, for ``images[start:stop]`` of a serialized ``BatchGetCredentialsRequest``.
        Raises ``InvalidRequest`` when the request is malformed."""
        state = self.state
        return state.keyring.batch_pb_request(
            request, start, stop, state.settings.cache_policy, state.settings.cache_duration
        )

    def exec_respond(self, request: bytes) -> bytes:
        """The kubelet exec protocol over the loaded state."""
        state = self.state
        return state.keyring.exec_respond(request, state.settings.cache_policy, state.settings.cache_duration)

    def explain(self, image: str) -> dict[str, Any]:
        """The ``explain --json`` object: no password, ``auth`` or token ever appears in it."""
        state = self.state
        result = state.keyring.explain(image)
        result["sources"] = list(state.used)
        result["warnings"] = list(state.warnings)
        return result

    def watched_paths(self) -> list[str]:
        """Every path whose change should trigger a reload (existing or not)."""
        state = self._state
        return list(state.watched) if state is not None else []


def load_keyring(options: Options | None = None) -> Keyring:
    """The merged keyring of the configured sources (pull secrets, then node docker configs)."""
    resolver = Resolver(options)
    resolver.load()
    return resolver.state.keyring
