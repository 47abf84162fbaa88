"""Tenants: the credential set a pull gets, chosen by the pulling pod's service account and proven by
its token (docs/provider-config.md "Tenants"; the kubelet side: docs/kubelet.md §e.2 step 2, §e.5).

- :func:`verifier` reads the issuer's JWKS (the core never touches the file system) and makes the
  core's :class:`pullkey._core.TokenVerifier`.
- :func:`decide` checks a token and chooses the set (the core's selector), with the reason for every set.
- :func:`exec_keyring` is the exec path's use of both (the kubelet's request carries the token and the
  service account's annotations), :func:`load` the long-lived state of the CLI and the gRPC service
  (a verifier and one keyring per set, built once per load).

How a set and the node sources combine: the keyring of a pull a set applies to is the set's
credentials first, then the node sources' (``_core._tenant_keyring``). The tenant's own credential is
the more specific grant (its private repositories, its own quota and audit trail) and the kubelet
stops at the first credential that pulls (docs/kubelet.md §0 step 4), so the tenant's comes first and
the node's stay a fallback for shared images. A request without a token, or whose service account
matches no set, gets the node sources alone. For the kubelet all of them are plugin credentials: they
come after the pod's pull secrets and the kubelet's own node docker config (docs/kubelet.md §d).

Cache safety: every answer given to a request with a token carries ``cacheDuration`` at most the
token's remaining life; an answer to a rejected token is not cached at all (``0s``). Which set is
chosen depends only on the namespace, the service-account name and the annotations the kubelet sends,
all of which are part of the kubelet's service-account cache key (docs/kubelet.md §e.2 step 2), so an
answer cached for one service account is never served to another.

Shared by the exec path: imports only ``os``, ``sys``, ``time`` and the Rust core at module level.
"""

from __future__ import annotations

import os
import time

from pullkey import _core, _sources
from pullkey.errors import TokenError
from pullkey.options import Settings

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey._core import Identity, Keyring, Tenants, TokenVerifier
    from pullkey._sources import State
    from pullkey._types import SetVerdict, TenantExplanation


def _base(settings: Settings) -> str:
    """The directory config-file paths are relative to."""
    return os.path.dirname(os.path.abspath(settings.config_path)) if settings.config_path else ""


def jwks_file(tenants: Tenants, settings: Settings) -> str | None:
    """``tenants.jwksPath`` made absolute against the config file's directory."""
    path = tenants.jwks_path
    return os.path.join(_base(settings), path) if path else None


def verifier(tenants: Tenants, settings: Settings, *, trust_kubelet: bool = False) -> TokenVerifier:
    """The token checker: ``trust_kubelet`` (the exec path with ``trustKubeletRequest: true``) trusts the
    signature; otherwise the JWKS file is read. Raises ``TokenError`` (``token_unverifiable`` without a
    ``jwksPath``, ``invalid_jwks`` when it cannot be read or holds no usable key)."""
    if trust_kubelet and tenants.trust_kubelet_request:
        return _core.TokenVerifier(tenants.audience, tenants.issuer, None)
    path = jwks_file(tenants, settings)
    if path is None:
        raise TokenError(
            "tokens cannot be verified here: tenants.jwksPath is not set "
            "(trustKubeletRequest covers the exec path only)",
            code="token_unverifiable",
        )
    try:  # read like every source: never blocking, a regular file, within the per-file limit
        data = _sources.read_regular(path)
    except OSError as e:
        raise TokenError(
            f"{_sources.quote(path)}: cannot read the issuer's JWKS: {e.strerror}", code="invalid_jwks"
        ) from None
    except _sources.NotRead as e:
        raise TokenError(f"{_sources.quote(path)}: cannot read the issuer's JWKS: {e}", code="invalid_jwks") from None
    return _core.TokenVerifier(tenants.audience, tenants.issuer, data, path)


def set_keyring(settings: Settings, tenants: Tenants, index: int) -> tuple[Keyring, list[str], list[str], list[str]]:
    """The keyring of set ``index``'s own sources, read with the shared loader (paths relative to the
    config file): (keyring, warnings, used sources, watched paths). Strict mode applies as for the node."""
    base = _base(settings)
    own = Settings()
    for name in own.__slots__:
        setattr(own, name, getattr(settings, name))
    own.sources = [
        source.with_path(os.path.join(base, source.path)) if base and source.path else source
        for source in tenants.set_sources(index)
    ]
    secrets, node, problems, watched = _sources.collect(own)
    keyring, warnings, used = _sources.build_keyring(secrets, node, settings.search_policy, settings.strict, problems)
    name = tenants.set_names[index]
    return keyring, [f"credential set {name}: {w}" for w in warnings], used, watched


class Decision:
    """What a token decided: the identity (``None`` without a token or when it was rejected), the
    rejection, the chosen set's index and the verdict per set."""

    __slots__ = ("error", "identity", "index", "verdicts")

    def __init__(
        self,
        identity: Identity | None,
        error: TokenError | None,
        index: int | None,
        verdicts: list[tuple[str, bool, str]],
    ) -> None:
        self.identity = identity
        self.error = error
        self.index = index
        self.verdicts = verdicts

    def cache_duration(self, duration: int, now: int) -> int:
        """``duration`` bounded by the token: at most its remaining life; 0 for a rejected token (the
        answer must not be cached: the next request may carry a good one)."""
        if self.error is not None:
            return 0
        if self.identity is None:
            return duration
        return max(0, min(duration, self.identity.expires_at - now))


def decide(
    tenants: Tenants,
    check: TokenVerifier | TokenError,
    token: str | None,
    annotations: list[tuple[str, str]] | None,
    now: int,
) -> Decision:
    """Checks ``token`` and chooses the set. ``check`` is the verifier, or the error that making it
    raised (then every token is rejected with it). ``annotations=None``: nobody vouches for them (gRPC)."""
    if token is None:
        return Decision(None, None, None, [(name, False, "no service-account token") for name in tenants.set_names])
    try:
        if isinstance(check, TokenError):
            raise check
        identity = check.verify(token, now)
    except TokenError as e:
        reason = f"the token was rejected ({e.code})"
        return Decision(None, e, None, [(name, False, reason) for name in tenants.set_names])
    index, verdicts = tenants.select(identity, annotations)
    return Decision(identity, None, index, verdicts)


def rejection_line(error: TokenError) -> str:
    """The one stderr line of the exec path for a rejected token."""
    return f"pullkey: service-account token rejected ({error.code}): {error}; answering with the node credentials only"


def exec_keyring(state: State, request: bytes, now: int | None = None) -> tuple[Keyring, int, str | None]:
    """The exec path: ``(keyring, cacheDuration, stderr line or None)`` for a kubelet request.

    The kubelet's request carries the token and the service account's annotations (only those its
    ``tokenAttributes`` name); the kubelet is the caller, so its annotations are taken as they are. The
    token's signature is checked unless ``trustKubeletRequest`` is set. Raises ``InvalidRequest``."""
    settings = state.settings
    tenants = settings.tenants
    duration = settings.cache_duration
    if tenants is None:
        return state.keyring, duration, None
    token, annotations = _core._request_identity(request)
    if token is None:
        return state.keyring, duration, None
    when = int(time.time()) if now is None else now
    try:
        check: TokenVerifier | TokenError = verifier(tenants, settings, trust_kubelet=True)
    except TokenError as e:
        check = e
    decision = decide(tenants, check, token, annotations, when)
    duration = decision.cache_duration(duration, when)
    if decision.error is not None:
        return state.keyring, duration, rejection_line(decision.error)
    if decision.index is None:
        return state.keyring, duration, None
    own, warnings, _, _ = set_keyring(settings, tenants, decision.index)
    if settings.verbosity >= 1:
        for warning in warnings:
            _sources.write_err(f"pullkey: warning: {warning}")
    return _core._tenant_keyring(own, state.keyring), duration, None


class TenantState:
    """The long-lived tenant state of one load: the verifier (or why there is none) and, per set, the
    keyring of a pull it applies to (set first, then node). Never changed after :func:`load`."""

    __slots__ = ("check", "keyrings", "tenants", "used", "warnings", "watched")

    def __init__(
        self,
        tenants: Tenants,
        check: TokenVerifier | TokenError,
        keyrings: list[Keyring],
        warnings: list[str],
        used: list[str],
        watched: list[str],
    ) -> None:
        self.tenants = tenants
        self.check = check
        self.keyrings = keyrings
        self.warnings = warnings
        self.used = used
        self.watched = watched

    def decide(self, token: str | None, now: int | None = None) -> Decision:
        """The decision for a caller's token (gRPC, CLI): annotations are never taken from a caller."""
        return decide(self.tenants, self.check, token, None, int(time.time()) if now is None else now)

    def keyring(self, decision: Decision, node: Keyring) -> Keyring:
        return node if decision.index is None else self.keyrings[decision.index]


def load(state: State) -> TenantState | None:
    """Builds the tenant state of a loaded node state (``None`` without ``tenants``). A JWKS that cannot be
    read is kept as the error every token gets (and a warning), so the node answers keep being served."""
    settings = state.settings
    tenants = settings.tenants
    if tenants is None:
        return None
    warnings: list[str] = []
    watched: list[str] = []
    check: TokenVerifier | TokenError
    jwks = jwks_file(tenants, settings)
    if jwks is not None:
        watched.append(jwks)
    try:
        made = verifier(tenants, settings)
    except TokenError as e:
        check = e
        warnings.append(f"tenants: no token can be verified: {e}")
    else:
        warnings.extend(made.warnings)
        check = made
    keyrings: list[Keyring] = []
    used: list[str] = []
    for index in range(len(tenants.set_names)):
        own, own_warnings, own_used, own_watched = set_keyring(settings, tenants, index)
        keyrings.append(_core._tenant_keyring(own, state.keyring))
        warnings.extend(own_warnings)
        used.extend(f"{p} (credential set {tenants.set_names[index]})" for p in own_used)
        watched.extend(own_watched)
    return TenantState(tenants, check, keyrings, warnings, used, watched)


def explanation(decision: Decision) -> TenantExplanation:
    """The ``tenant`` part of ``explain``: the identity, the rejection, the chosen set and why not the others."""
    identity = decision.identity
    sets: list[SetVerdict] = [{"name": n, "selected": s, "reason": r} for n, s, r in decision.verdicts]
    chosen = next((v["name"] for v in sets if v["selected"]), None)
    return {
        "identity": None
        if identity is None
        else {
            "namespace": identity.namespace,
            "service_account": identity.service_account,
            "service_account_uid": identity.service_account_uid,
            "pod": identity.pod_name,
            "expires_at": identity.expires_at,
            "verified": identity.verified,
        },
        "token_error": None if decision.error is None else str(decision.error),
        "token_error_code": None if decision.error is None else decision.error.code,
        "selected": chosen,
        "sets": sets,
    }
