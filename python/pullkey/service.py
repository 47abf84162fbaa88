"""The transport-neutral resolver: sources in, answers out.

The gRPC server and every CLI command are thin adapters over a :class:`Resolver`; the kubelet exec
plugin, which cannot afford this module's imports, runs the same loader once
(:func:`pullkey._sources.load`: ``Options -> Settings -> State``). A :class:`Resolver` holds one
immutable loaded state; :meth:`Resolver.reload` builds a new state and swaps it in with a single
assignment, so a concurrent reader sees either the old state or the new one, never a mix, and a
failed reload keeps the last good state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pullkey import _core, _sources
from pullkey._core import Credential, Keyring
from pullkey._sources import State
from pullkey._types import CacheKeyType, Explanation, TokenExplanation
from pullkey.errors import NotLoaded
from pullkey.options import Options

__all__ = ["Answer", "Explanation", "Options", "Resolver", "State", "load_keyring"]


@dataclass(frozen=True)
class Answer:
    """The credentials that open one image, in the order the kubelet would try them."""

    image: str
    repository: str
    credentials: list[Credential]
    cache_key_type: CacheKeyType
    cache_duration: int


class Resolver:
    """Loads the configured sources and answers credential questions about images."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._state: State | None = None
        self._lock = threading.Lock()  # serialises loads; readers never take it
        self.last_error: str | None = None

    def load(self) -> None:
        """Loads the sources (the one loader, :func:`pullkey._sources.load`); raises (``ConfigError``...)
        and keeps the previous state on failure."""
        with self._lock:
            state = _sources.load(self.options)
            if state.settings.tenants is not None:
                from pullkey import tenants

                state.tenants = tenants.load(state)  # before the state is published
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

    def restore(self, state: State) -> None:
        """Serves ``state`` again (a state this resolver served before): the daemon's last-good rule puts
        back the previous state when a source it used no longer parses. One assignment, as in :meth:`load`:
        readers see the old or the new state, never a mix."""
        with self._lock:
            self._state = state

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

    # The transports' encoders (the gRPC server sends these bytes as they are; see rust/grpc/mod.rs).

    def answer_pb(self, image: str) -> bytes:
        """The serialized ``pullkey.v1.GetCredentialsResponse`` for ``image`` (encoded in Rust).
        Raises ``InvalidReference``."""
        state = self.state
        return _core._encode_answer(state.keyring, image, state.settings.cache_policy, state.settings.cache_duration)

    def batch_pb(self, images: Sequence[str]) -> bytes:
        """The serialized ``pullkey.v1.BatchGetCredentialsResponse`` for ``images``, one result per
        image in order; an invalid image is a per-item ``INVALID_ARGUMENT`` error."""
        state = self.state
        return _core._encode_batch(state.keyring, images, state.settings.cache_policy, state.settings.cache_duration)

    def batch_pb_request(self, request: bytes, start: int, stop: int) -> bytes:
        """Like :meth:`batch_pb`, for ``images[start:stop]`` of a serialized ``BatchGetCredentialsRequest``.
        Raises ``InvalidRequest`` when the request is malformed."""
        state = self.state
        return _core._encode_batch_request(
            state.keyring, request, start, stop, state.settings.cache_policy, state.settings.cache_duration
        )

    def batch_slices(self, request: bytes, per_slice: int) -> list[tuple[int, int, int]]:
        """``(start, end, images)`` byte ranges of a serialized ``BatchGetCredentialsRequest`` with at most
        ``per_slice`` images each (one scan of the request); :meth:`batch_pb_span` encodes one.
        Raises ``InvalidRequest`` when the request is malformed."""
        return _core._batch_slices(request, per_slice)

    def batch_pb_span(self, request: bytes, start: int, end: int) -> bytes:
        """Like :meth:`batch_pb`, for the images of ``request[start:end]`` (a range :meth:`batch_slices` gave)."""
        state = self.state
        return _core._encode_batch_span(
            state.keyring, request, start, end, state.settings.cache_policy, state.settings.cache_duration
        )

    def explain(self, image: str) -> Explanation:
        """The ``explain --json`` object: no password, ``auth`` or token ever appears in it.
        Raises ``InvalidReference``."""
        state = self.state
        found = state.keyring.explain(image)
        return {**found, "sources": list(state.used), "warnings": list(state.warnings)}

    # Tenants (pullkey.tenants): a caller's service-account token chooses the credential set. Annotations
    # are never taken from a caller (nobody vouches for them outside the kubelet's exec request).

    def _tenant(self, token: str) -> tuple[State, Keyring, int]:
        """(state, keyring, cacheDuration) for a caller's token. Raises ``TokenError`` when it is rejected."""
        import time

        state = self.state
        tenants = state.tenants
        if tenants is None:  # no tenants configured: the token changes nothing
            return state, state.keyring, state.settings.cache_duration
        now = int(time.time())
        decision = tenants.decide(token, now)
        if decision.error is not None:
            raise decision.error
        return (
            state,
            tenants.keyring(decision, state.keyring),
            decision.cache_duration(state.settings.cache_duration, now),
        )

    def answer_pb_token(self, image: str, token: str) -> bytes:
        """Like :meth:`answer_pb`, for the pod whose service-account token this is (its credential set
        first, then the node sources; ``cacheDuration`` within the token's life). Raises ``TokenError``
        for a rejected token, ``InvalidReference``."""
        state, keyring, duration = self._tenant(token)
        return _core._encode_answer(keyring, image, state.settings.cache_policy, duration)

    def batch_encoder_token(self, token: str) -> Callable[[bytes, int, int], bytes]:
        """:meth:`batch_pb_span` for the pod whose token this is (checked once, here). Raises ``TokenError``."""
        state, keyring, duration = self._tenant(token)
        policy = state.settings.cache_policy

        def encode(request: bytes, start: int, end: int) -> bytes:
            return _core._encode_batch_span(keyring, request, start, end, policy, duration)

        return encode

    def explain_token(self, image: str, token: str | None) -> TokenExplanation:
        """:meth:`explain` for the pod whose token this is, plus ``tenant``: the identity, the chosen set
        and why not the others (a rejected token is explained, not raised: node sources only)."""
        import time

        from pullkey import tenants as _tenants

        state = self.state
        ts = state.tenants
        if ts is None:
            return {**self.explain(image), "tenant": None}
        decision = ts.decide(token, int(time.time()))
        found = ts.keyring(decision, state.keyring).explain(image)
        used = [*state.used, *ts.used]
        return {
            **found,
            "sources": used,
            "warnings": [*state.warnings, *ts.warnings],
            "tenant": _tenants.explanation(decision),
        }

    def watched_paths(self) -> list[str]:
        """Every path whose change should trigger a reload (existing or not)."""
        state = self._state
        if state is None:
            return []
        return [*state.watched, *(state.tenants.watched if state.tenants is not None else ())]


def load_keyring(options: Options | None = None) -> Keyring:
    """The merged keyring of the configured sources (pull secrets, then node docker configs)."""
    resolver = Resolver(options)
    resolver.load()
    return resolver.state.keyring
