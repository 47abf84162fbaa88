"""The transport-neutral resolver: sources in, answers out.

The gRPC server and every CLI command are thin adapters over a :class:`Resolver`; the kubelet exec
plugin, which cannot afford this module's imports, runs the same loader once
(:func:`pullkey._load.load`: ``Options -> Settings -> State``). A :class:`Resolver` holds one
immutable loaded state; :meth:`Resolver.reload` builds a new state and swaps it in with a single
assignment, so a concurrent reader sees either the old state or the new one, never a mix, and a
failed reload keeps the last good state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pullkey import _core, _load
from pullkey._core import Credential, Keyring
from pullkey._sources import State
from pullkey._types import CacheKeyType, CachePolicy, Explanation, TokenExplanation
from pullkey.errors import InvalidReference, NotLoaded
from pullkey.helpers import Consultation, cache_policy, server_url_of, with_answers
from pullkey.helpers.cache import HelperCache
from pullkey.options import Options
from pullkey.upstreams import UpstreamCache, matching

__all__ = ["Answer", "Explanation", "Options", "Resolver", "State", "load_keyring"]


class StateRefused(NotLoaded):
    """A freshly loaded state its ``accept`` check refused (the last good state keeps serving)."""

    code = "state_refused"


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
        self.helper_cache = HelperCache()  # docs/helpers.md "Caching": kept across reloads
        self.upstream_cache = UpstreamCache()  # docs/provider-config.md "Upstream plugins"; docs/kubelet.md §e.5

    def load(self, accept: Callable[[State, State], str | None] | None = None) -> None:
        """Loads the sources (the one loader, :func:`pullkey._load.load`); raises (``ConfigError``...)
        and keeps the previous state on failure. ``accept(old, new)`` may refuse the new state before it
        is published (a reason: raises :class:`StateRefused`); readers never see a refused state."""
        with self._lock:
            state = _load.load(self.options)
            if state.settings.tenants is not None:
                from pullkey import tenants

                state.tenants = tenants.load(state)  # before the state is published
            old = self._state
            if accept is not None and old is not None:
                refusal = accept(old, state)
                if refusal is not None:
                    raise StateRefused(refusal)
            self._state = state
            self.last_error = None

    def reload(self, accept: Callable[[State, State], str | None] | None = None) -> bool:
        """Reloads; ``False`` (last good state kept, ``last_error`` set) when the new state fails or
        ``accept`` refuses it (see :meth:`load`)."""
        try:
            self.load(accept)
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

    @property
    def helpers_active(self) -> bool:
        """Whether answers depend on docker credential helpers (so they must not be memoised past the
        helpers' own cache; docs/helpers.md)."""
        state = self._state
        if state is not None and state.settings.upstreams:  # answers depend on upstream plugins too
            return True
        return state is not None and state.helpers is not None and state.helpers.active

    def helpers_ready(self, images: Sequence[str]) -> bool:
        """Whether answering ``images`` runs no helper (every answer cached, or none needed)."""
        if not self._upstreams_ready(images):
            return False
        plan = self.state.helpers
        if plan is None or not plan.active:
            return True
        for image in images:
            try:
                _, server_url = server_url_of(image)
            except InvalidReference:
                continue
            if not self.helper_cache.fresh(plan, server_url):
                return False
        return True

    def consult_helpers(self, images: Sequence[str]) -> list[Consultation]:
        """The helper consultations for the registries of ``images`` (through the cache; one per server
        URL; invalid references are skipped: the answer reports them)."""
        self._upstream_outcomes(self.state, images)  # warms the upstream cache too
        plan = self.state.helpers
        if plan is None or not plan.active:
            return []
        out: list[Consultation] = []
        seen: set[str] = set()
        for image in images:
            try:
                registry, server_url = server_url_of(image)
            except InvalidReference:
                continue
            if server_url not in seen:
                seen.add(server_url)
                c = self.helper_cache.get(plan, server_url, registry)
                if c is not None:
                    out.append(c)
        return out

    @staticmethod
    def _repositories(images: Sequence[str]) -> list[str]:
        out = []
        for image in images:
            try:
                out.append(_core.parse_reference(image).repository)
            except InvalidReference:
                continue  # the answer reports it
        return out

    def _upstreams_ready(self, images: Sequence[str]) -> bool:
        """Whether answering ``images`` runs no upstream plugin (every answer cached, or none matches)."""
        state = self._state
        if state is None or not state.settings.upstreams:
            return True
        for repository in self._repositories(images):
            for u in matching(state.settings.upstreams, repository):
                if self.upstream_cache.fresh(u, repository) is None:
                    return False
        return True

    def _upstream_outcomes(
        self, state: State, images: Sequence[str]
    ) -> tuple[list[tuple[str, str, str, str]], int | None]:
        """The upstream answers for ``images`` through the cache, and the seconds they may be reused
        (``None``: no upstream matched)."""
        upstreams = state.settings.upstreams
        if not upstreams:
            return [], None
        import os

        environ = os.environ if self.options.environ is None else self.options.environ
        answers: list[tuple[str, str, str, str]] = []
        remaining: int | None = None
        for repository in self._repositories(images):
            for u in matching(upstreams, repository):
                outcome, secs = self.upstream_cache.get(u, repository, environ)
                answers += outcome.answers
                remaining = secs if remaining is None else min(remaining, secs)
        return answers, remaining

    def _policy(self, state: State) -> CachePolicy:
        """The cache policy of answers (never ``Global`` when helpers answer: docs/helpers.md "Caching";
        ``Image`` when upstream plugins are configured: docs/provider-config.md "Upstream plugins")."""
        if state.settings.upstreams:
            return "Image"
        policy = state.settings.cache_policy
        return cache_policy(policy) if state.helpers is not None and state.helpers.active else policy

    def _with_helpers(self, state: State, images: Sequence[str]) -> tuple[Keyring, int, list[Consultation]]:
        """The keyring with the helper answers for ``images``, and the cache duration they allow."""
        duration = state.settings.cache_duration
        keyring, consultations = state.keyring, []
        if state.helpers is not None and state.helpers.active:
            consultations = self.consult_helpers(images)
            now = self.helper_cache.now()
            for c in consultations:
                duration = min(duration, max(0, int(c.reuse_until - now)))
            keyring = with_answers(state.keyring, consultations)
        answers, remaining = self._upstream_outcomes(state, images)
        if remaining is not None:
            keyring = _core._with_upstream_answers(keyring, answers)
            duration = min(duration, remaining)
        return keyring, duration, consultations

    def get_credentials(self, image: str) -> Answer:
        """Credentials for ``image`` (any reference form) in kubelet order, with the cache hints the
        kubelet response would carry. Raises ``InvalidReference``."""
        state = self.state
        keyring, duration, _ = self._with_helpers(state, [image])
        repository, credentials, cache_key_type = keyring.resolve(image, self._policy(state))
        return Answer(image, repository, credentials, cache_key_type, duration)

    # The transports' encoders (the gRPC server sends these bytes as they are; see rust/grpc/mod.rs).

    def answer_pb(self, image: str) -> bytes:
        """The serialized ``pullkey.v1.GetCredentialsResponse`` for ``image`` (encoded in Rust).
        Raises ``InvalidReference``."""
        state = self.state
        keyring, duration, _ = self._with_helpers(state, [image])
        return _core._encode_answer(keyring, image, self._policy(state), duration)

    def batch_pb(self, images: Sequence[str]) -> bytes:
        """The serialized ``pullkey.v1.BatchGetCredentialsResponse`` for ``images``, one result per
        image in order; an invalid image is a per-item ``INVALID_ARGUMENT`` error."""
        state = self.state
        keyring, duration, _ = self._with_helpers(state, images)
        return _core._encode_batch(keyring, images, self._policy(state), duration)

    def batch_pb_request(self, request: bytes, start: int, stop: int) -> bytes:
        """Like :meth:`batch_pb`, for ``images[start:stop]`` of a serialized ``BatchGetCredentialsRequest``.
        Raises ``InvalidRequest`` when the request is malformed."""
        state = self.state
        keyring, duration = state.keyring, state.settings.cache_duration
        if self.helpers_active:
            keyring, duration, _ = self._with_helpers(state, _core._batch_images(request)[start:stop])
        return _core._encode_batch_request(keyring, request, start, stop, self._policy(state), duration)

    def batch_slices(self, request: bytes, per_slice: int) -> list[tuple[int, int, int]]:
        """``(start, end, images)`` byte ranges of a serialized ``BatchGetCredentialsRequest`` with at most
        ``per_slice`` images each (one scan of the request); :meth:`batch_pb_span` encodes one.
        Raises ``InvalidRequest`` when the request is malformed."""
        return _core._batch_slices(request, per_slice)

    def batch_pb_span(self, request: bytes, start: int, end: int) -> bytes:
        """Like :meth:`batch_pb`, for the images of ``request[start:end]`` (a range :meth:`batch_slices` gave)."""
        state = self.state
        keyring, duration = state.keyring, state.settings.cache_duration
        if self.helpers_active:
            keyring, duration, _ = self._with_helpers(state, _core._batch_images(request[start:end]))
        return _core._encode_batch_span(keyring, request, start, end, self._policy(state), duration)

    def explain(self, image: str) -> Explanation:
        """The ``explain --json`` object: no password, ``auth`` or token ever appears in it.
        Raises ``InvalidReference``."""
        state = self.state
        keyring, _, consultations = self._with_helpers(state, [image])
        found = keyring.explain(image)
        result: Explanation = {**found, "sources": list(state.used), "warnings": list(state.warnings)}  # type: ignore[typeddict-item]
        if state.helpers is not None:  # docs/helpers.md "explain": per helper consulted, never the secret
            result["helpers"] = [c.explained() for c in consultations]
        mirrors = state.settings.mirrors
        if mirrors:  # docs/mirrors.md §2 step 5: the rule, the mirror names, the order; never the secret
            plan = _core._mirror_plan(keyring, mirrors, image)
            if plan is None:
                result["mirrors"] = None
            else:
                index, images, order = plan
                registry, endpoints = mirrors[index]
                result["mirrors"] = {
                    "registry": registry,
                    "endpoints": list(endpoints),
                    "images": images,
                    "order": [{"image": found_for, "username": user} for found_for, user in order],
                }
        return result

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
        out: TokenExplanation = {
            "image": found["image"],
            "repository": found["repository"],
            "credentials": found["credentials"],
            "rejected": found["rejected"],
            "rejected_total": found["rejected_total"],
            "sources": used,
            "warnings": [*state.warnings, *ts.warnings],
            "tenant": _tenants.explanation(decision),
        }
        return out

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
