"""The typed vocabulary shared by the Rust core and Python: policy, format and source names, the
``explain`` result.

The names are spelled once at run time, by the core (``_core.CACHE_POLICIES``, ``_core.SEARCH_POLICIES``,
``_core.SOURCE_TYPES``, ``_core.DOCKER_CONFIG_FORMATS``, ``_core.SOURCE_FORMATS``); the ``Literal``
types below repeat them for the type checker, and ``tests/test_options.py`` checks that both agree.

Imports ``typing``: never import this module on the exec path except under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

CachePolicy = Literal["auto", "Image", "Registry", "Global"]
"""pullkey's ``cache.policy``: which ``cacheKeyType`` to answer with (``auto`` = the widest exact one)."""

CacheKeyType = Literal["Image", "Registry", "Global"]
"""The kubelet's ``cacheKeyType`` of an answer."""

SearchPolicy = Literal["merge", "first"]
"""How the kubelet's docker config search paths combine: every file (``merge``) or the first (``first``)."""

SourceType = Literal["SearchPaths", "DockerConfig", "PullSecret", "PullSecretDir"]
"""The ``type`` of a ``sources`` entry in pullkey's ``ProviderConfig``."""

DockerConfigFormat = Literal["auto", "config.json", "dockercfg"]
"""The ``format`` of a ``DockerConfig`` source."""

SourceFormat = Literal["auto", "config.json", "dockercfg", "secret", "secret-dir"]
"""What the bytes of a :class:`pullkey._core.SourceFile` are: a docker config (in one of its
formats), a file of Secret manifests, or the files of a mounted secret volume."""


class ExplainedCredential(TypedDict):
    """A credential that opens the image, in the order the kubelet tries them (no secret in it)."""

    key: str
    raw_key: str
    username: str
    source: str
    fallback: bool


class RejectedKey(TypedDict):
    """A registry key that does not match the image, and why."""

    key: str
    raw_key: str
    source: str
    reason: str


class KeyringExplanation(TypedDict):
    """What :meth:`pullkey.Keyring.explain` returns."""

    image: str
    repository: str
    credentials: list[ExplainedCredential]
    rejected: list[RejectedKey]
    """At most 32 of the keys that do not match: the nearest to the image (same host, then same domain)."""
    rejected_total: int
    """How many keys do not match in all (``rejected_total - len(rejected)`` were left out)."""


class HelperConsulted(TypedDict):
    """A docker credential helper consulted for the image's registry (docs/helpers.md): never the secret."""

    helper: str
    program: str
    server_url: str
    source: str
    outcome: Literal["found", "not found", "error", "timeout"]
    identity_token: bool
    username: str | None
    duration_ms: float
    cached: bool
    message: str


class MirrorTry(TypedDict):
    """One credential of a mirrored image, in the order the kubelet tries it (docs/mirrors.md §2)."""

    image: str  # the image name it was found for: a mirror's, or the image's own
    username: str


class MirrorExplanation(TypedDict):
    """The ``mirrors`` rule that applies to an image, the names its mirrors serve it under, and the
    order of the credentials the exec answer carries (docs/mirrors.md §2 step 5)."""

    registry: str
    endpoints: list[str]
    images: list[str]
    order: list[MirrorTry]


class Explanation(KeyringExplanation):
    """The ``explain --json`` object (:meth:`pullkey.Resolver.explain`): the keyring's explanation
    plus the sources that were read and the warnings of the load; ``helpers`` only when helpers are on;
    ``mirrors`` only when mirrors are configured (``None``: no rule matches the image)."""

    sources: list[str]
    warnings: list[str]
    helpers: NotRequired[list[HelperConsulted]]
    mirrors: NotRequired[MirrorExplanation | None]


class TokenExplanation(Explanation):
    """:meth:`pullkey.Resolver.explain_token`: the explanation for the pod whose token it is, plus
    ``tenant`` (``None`` when no credential sets are configured)."""

    tenant: TenantExplanation | None


# Tenants: the selector of a credential set, and the explanation of which set a pull gets.
class SetSelector(TypedDict):
    namespaces: list[str]
    serviceAccounts: list[str]
    annotations: dict[str, str]


"""A credential set's ``selector`` as written (``serviceAccounts`` as ``namespace/name``)."""


class SetVerdict(TypedDict):
    """Why one credential set was or was not chosen for a pull."""

    name: str
    selected: bool
    reason: str


class TenantExplanation(TypedDict):
    """Which credential set a pull gets and why (``explain`` with a token)."""

    identity: dict[str, str | bool | int] | None
    token_error: str | None
    token_error_code: str | None
    selected: str | None
    sets: list[SetVerdict]
