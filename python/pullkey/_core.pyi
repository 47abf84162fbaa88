"""Type stubs and documentation of ``pullkey._core``, the Rust engine (checked by ``mypy.stubtest``).

User code imports these names from ``pullkey``.
"""

from collections.abc import Sequence
from typing import Literal, final

from pullkey._types import (
    CacheKeyType,
    CachePolicy,
    DockerConfigFormat,
    KeyringExplanation,
    SearchPolicy,
    SetSelector,
    SourceFormat,
    SourceType,
)
from pullkey.errors import ConfigError, InvalidReference

__version__: str
__all__ = [
    "Credential",
    "Keyring",
    "Reference",
    "__version__",
    "match_image",
    "parse_reference",
    "parse_references",
]

# The names at the boundary, as the core spells them (typed by the Literal types of pullkey._types).
CACHE_POLICIES: tuple[CachePolicy, ...]
CACHE_KEY_TYPES: tuple[CacheKeyType, ...]
SEARCH_POLICIES: tuple[SearchPolicy, ...]
DOCKER_CONFIG_FORMATS: tuple[DockerConfigFormat, ...]
SOURCE_FORMATS: tuple[SourceFormat, ...]
SOURCE_TYPES: tuple[SourceType, ...]
MAX_EXPLAIN_REJECTED: int
"""How many non-matching keys ``explain`` lists at most (the nearest to the image; ``rejected_total`` counts all)."""

@final
class Reference:
    """An image reference, parsed like distribution/reference v0.6 (``ParseNormalizedNamed`` or ``Parse``)."""

    @property
    def domain(self) -> str:
        """The registry host[:port] (``docker.io`` for Docker Hub when normalised; may be ``""`` raw)."""
    @property
    def path(self) -> str:
        """The repository path (``library/nginx``)."""
    @property
    def tag(self) -> str | None:
        """The tag as written, or ``None``."""
    @property
    def digest(self) -> str | None:
        """The digest as written (``sha256:...``), or ``None``."""
    @property
    def repository(self) -> str:
        """``domain/path``: the string the kubelet matches credentials against."""
    @property
    def normalized(self) -> str:
        """Fully qualified, as ``ParseDockerRef`` prints it (``docker.io/library/nginx:latest``)."""
    @property
    def familiar(self) -> str:
        """The short form Docker prints (``nginx``)."""
    @property
    def default_pull_policy(self) -> Literal["Always", "IfNotPresent"]:
        """``Always`` when the tag is ``latest`` or absent without a digest, else ``IfNotPresent``."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def parse_reference(text: str, *, normalize: bool = True) -> Reference:
    """Parses one reference. Raises :class:`pullkey.InvalidReference` (with ``code`` and ``input``)."""

def parse_references(texts: list[str], *, normalize: bool = True) -> list[Reference | InvalidReference]:
    """Parses many references in one call; an invalid one yields its ``InvalidReference`` in place."""

def match_image(pattern: str, image: str) -> bool:
    """The kubelet's ``URLsMatchStr(pattern, image)``: one glob per DNS label, equal ports, path prefix."""

@final
class Credential:
    """One credential and where it came from. ``password`` and the tokens never appear in ``repr``."""

    @property
    def key(self) -> str:
        """The normalised registry key (``registry.example:5000/team``)."""
    @property
    def raw_key(self) -> str:
        """The key as written in its source (``https://registry.example:5000/v2/team``)."""
    @property
    def username(self) -> str: ...
    @property
    def password(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def identity_token(self) -> str:
        """``identitytoken`` of the docker config entry (gRPC API only; the kubelet ignores it)."""
    @property
    def registry_token(self) -> str:
        """``registrytoken`` of the docker config entry (gRPC API only; the kubelet ignores it)."""
    @property
    def source(self) -> str:
        """The file, or ``file (secret namespace/name)``, that the credential came from."""

@final
class Keyring:
    """The merged keyring: a group for pull secrets, then one for node docker configs (kubelet order).

    Made by :func:`pullkey.load_keyring` (the configured sources) or :meth:`from_docker_config`."""

    @classmethod
    def from_docker_config(cls, data: object, source: str = "") -> Keyring:
        """From one docker config: a mapping, JSON text or bytes, in ``config.json`` or ``.dockercfg`` form.
        Raises :class:`pullkey.ConfigError`."""
    def __len__(self) -> int: ...
    def lookup(self, image: str) -> list[Credential]:
        """Credentials for ``image`` in the order the kubelet tries them (the image is normalised first)."""
    def resolve(self, image: str, cache_policy: CachePolicy = "auto") -> tuple[str, list[Credential], CacheKeyType]:
        """``(repository, credentials, cacheKeyType)`` for ``image``."""
    def explain(self, image: str) -> KeyringExplanation:
        """What the ``explain`` command shows for ``image`` (no secret in it).

        ``rejected`` lists at most 32 of the keys that do not match (the nearest to the image);
        ``rejected_total`` counts them all, so callers can say "and N more".
        """
    def match_images(self) -> list[str]:
        """``matchImages`` patterns covering every image a key of this keyring can match."""

# ---- Internal: the loader and the transports (not part of the public API) ----

@final
class SourceFile:
    """A credential source read by the loader: its bytes (for ``secret-dir``: ``[(file name, bytes)]``)."""

    def __new__(
        cls, name: str, format: SourceFormat, data: bytes | list[tuple[str, bytes]], search_path: bool = False
    ) -> SourceFile: ...
    @property
    def name(self) -> str: ...
    @property
    def format(self) -> SourceFormat: ...
    @property
    def search_path(self) -> bool:
        """A kubelet search-path candidate (subject to the ``first`` search policy)."""

@final
class ConfigSource:
    """One ``sources`` entry of a ``ProviderConfig``."""

    @property
    def type(self) -> SourceType: ...
    @property
    def path(self) -> str | None: ...
    @property
    def format(self) -> DockerConfigFormat: ...
    def with_path(self, path: str) -> ConfigSource:
        """The same source with another ``path``."""
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class ProviderConfig:
    """pullkey's ``ProviderConfig``; ``ProviderConfig()`` is the configuration used without a file."""

    def __new__(cls) -> ProviderConfig: ...
    @property
    def root_dir(self) -> str | None:
        """``rootDir`` as written (relative to the config file's directory), or ``None``."""
    @property
    def search_policy(self) -> SearchPolicy: ...
    @property
    def strict(self) -> bool: ...
    @property
    def sources(self) -> list[ConfigSource]: ...
    @property
    def cache_policy(self) -> CachePolicy: ...
    @property
    def cache_duration(self) -> int:
        """``cache.duration`` in whole seconds."""
    @property
    def helpers(self) -> HelpersConfig:
        """The ``helpers`` block (docs/helpers.md)."""
    @property
    def mirrors(self) -> list[tuple[str, list[str]]]:
        """``mirrors``: ``(registry, endpoints)`` of each rule, in order (docs/mirrors.md)."""
    @property
    def upstreams(self) -> list[tuple[str, str, list[str], list[tuple[str, str]], str, list[str], int, int]]:
        """``upstreams``: ``(name, command, args, env, apiVersion, matchImages, defaultCacheDuration seconds,
        timeout ms)`` of each plugin, in order."""
    @property
    def tenants(self) -> Tenants | None:
        """``tenants`` and ``credentialSets``, or ``None`` (node sources only)."""

@final
class HelpersConfig:
    """The ``helpers`` block of a ``ProviderConfig``; ``HelpersConfig()`` is the default (off)."""

    def __new__(cls) -> HelpersConfig: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def allow(self) -> list[str] | None:
        """``allow``, or ``None`` (any helper name found in ``dirs``)."""
    @property
    def dirs(self) -> list[str]: ...
    @property
    def timeout_ms(self) -> int:
        """``timeout`` in milliseconds."""
    @property
    def max_output_bytes(self) -> int: ...
    @property
    def env(self) -> list[tuple[str, str | None]]:
        """``(NAME, None)``: passed from pullkey's environment; ``(NAME, value)``: set."""
    @property
    def cache_duration(self) -> int:
        """``cacheDuration`` in whole seconds."""
    def with_enabled(self, enabled: bool) -> HelpersConfig:
        """The same block, enabled or not."""

@final
class Tenants:
    """The ``tenants`` block and its ``credentialSets`` (docs/provider-config.md "Tenants")."""

    @property
    def audience(self) -> str: ...
    @property
    def issuer(self) -> str | None: ...
    @property
    def jwks_path(self) -> str | None:
        """``jwksPath`` as written (relative to the config file's directory), or ``None``."""
    @property
    def cache_type(self) -> Literal["ServiceAccount", "Token"]: ...
    @property
    def trust_kubelet_request(self) -> bool: ...
    @property
    def require_service_account(self) -> bool: ...
    @property
    def annotation_keys(self) -> list[str]:
        """The service-account annotation keys the selectors read (sorted): what the kubelet must send."""
    @property
    def set_names(self) -> list[str]: ...
    def set_sources(self, index: int) -> list[ConfigSource]:
        """The sources of set ``index`` (paths as written)."""
    def set_selector(self, index: int) -> SetSelector: ...
    def select(
        self, identity: Identity, annotations: list[tuple[str, str]] | None = None
    ) -> tuple[int | None, list[tuple[str, bool, str]]]:
        """``(chosen set index or None, [(name, selected, reason)] in config order)``; ``annotations=None``
        where nobody vouches for them (gRPC): a selector with annotations then never holds."""

@final
class Identity:
    """Who pulls, as a checked service-account token says (no secret in it)."""

    @property
    def namespace(self) -> str: ...
    @property
    def service_account(self) -> str: ...
    @property
    def service_account_uid(self) -> str: ...
    @property
    def pod_name(self) -> str: ...
    @property
    def pod_uid(self) -> str: ...
    @property
    def expires_at(self) -> int:
        """``exp`` in seconds since the Unix epoch."""
    @property
    def verified(self) -> bool:
        """Whether the signature was checked (false only with ``trustKubeletRequest``)."""

@final
class TokenVerifier:
    """Checks service-account tokens against the issuer's JWKS (``jwks=None``: the signature is trusted,
    every claim still checked). Raises :class:`pullkey.errors.TokenError` (``invalid_jwks``)."""

    def __new__(cls, audience: str, issuer: str | None, jwks: bytes | None, jwks_name: str = "") -> TokenVerifier: ...
    def verify(self, token: str, now: int) -> Identity:
        """The identity of ``token`` at ``now`` (Unix seconds). Raises :class:`pullkey.errors.TokenError`."""
    @property
    def verifies_signatures(self) -> bool: ...
    @property
    def warnings(self) -> list[str]:
        """One line per JWKS key that was skipped."""
    @property
    def kids(self) -> list[str]: ...

def render_token_attributes(tenants: Tenants) -> str:
    """The ``tokenAttributes`` lines to append to :func:`render_kubelet_config`'s provider."""

def _request_identity(request: bytes) -> tuple[str | None, list[tuple[str, str]]]:
    """``(serviceAccountToken or None, serviceAccountAnnotations sorted)`` of an exec request.
    Raises :class:`pullkey.InvalidRequest`."""

def _claimed_identity(token: str) -> tuple[str, str]:
    """``(namespace, service account)`` a token claims, unchecked (for ``explain`` of a rejected token)."""

def _batch_token(request: bytes) -> str | None:
    """The ``service_account_token`` of a serialized ``BatchGetCredentialsRequest``.
    Raises :class:`pullkey.InvalidRequest`."""

def _tenant_keyring(set: Keyring, node: Keyring) -> Keyring:
    """The keyring of a pull a credential set applies to: the set's credentials, then the node's."""

def load_provider_config(data: bytes, name: str) -> ProviderConfig:
    """Parses pullkey's ``ProviderConfig`` (YAML or JSON, strict). Raises :class:`pullkey.ConfigError`."""

def parse_duration_seconds(text: str) -> int:
    """A Go duration string (``5m``, ``1h30m``) in whole seconds. Raises :class:`pullkey.ConfigError`."""

def validate_kubelet_config(files: list[tuple[str, bytes]]) -> list[str]:
    """Every error the kubelet would report for these ``CredentialProviderConfig`` files (empty: valid)."""

def render_kubelet_config(
    name: str, match_images: list[str], default_cache_duration: int, args: list[str], env: list[tuple[str, str]]
) -> str:
    """A valid ``kubelet.config.k8s.io/v1`` ``CredentialProviderConfig`` (YAML) for this plugin."""

def _build_keyring(
    secrets: list[SourceFile], node: list[SourceFile], search_policy: SearchPolicy
) -> tuple[Keyring, list[str], list[str], list[ConfigError]]:
    """``(keyring, warnings, used source names, the errors of the sources that did not parse)``."""

def _exec_respond(
    keyring: Keyring,
    request: bytes,
    cache_policy: CachePolicy,
    cache_duration: int,
    mirrors: Sequence[tuple[str, Sequence[str]]] = ...,
) -> bytes:
    """The kubelet ``CredentialProviderResponse`` bytes for a ``CredentialProviderRequest``.
    Raises :class:`pullkey.InvalidRequest` or :class:`pullkey.InvalidReference`."""

def _with_upstream_answers(keyring: Keyring, answers: list[tuple[str, str, str, str]]) -> Keyring:
    """``keyring`` with the upstream plugins' answers ``(source, key, username, password)`` as a last group."""

def _encode_plugin_request(api_version: str, image: str) -> bytes:
    """The request pullkey writes to an upstream plugin (plain mode)."""

def _decode_plugin_response(data: bytes, api_version: str) -> tuple[str, int | None, list[tuple[str, str, str]]]:
    """An upstream plugin's stdout decoded strictly: ``(cacheKeyType, cacheDuration seconds or None,
    [(key, username, password)])``. Raises ``ValueError`` (never quoting the output)."""

def _mirror_plan(
    keyring: Keyring, mirrors: Sequence[tuple[str, Sequence[str]]], image: str
) -> tuple[int, list[str], list[tuple[str, str]]] | None:
    """For ``explain`` (docs/mirrors.md): ``None`` when no rule matches ``image``, else the rule's index,
    the mirror image names in order, and ``(image name found for, username)`` of each credential the
    kubelet will try, in order. Raises :class:`pullkey.InvalidReference`."""

def _encode_answer(keyring: Keyring, image: str, cache_policy: CachePolicy, cache_duration: int) -> bytes:
    """The serialized ``pullkey.v1.GetCredentialsResponse`` for ``image``. Raises :class:`pullkey.InvalidReference`."""

def _encode_batch(keyring: Keyring, images: Sequence[str], cache_policy: CachePolicy, cache_duration: int) -> bytes:
    """The serialized ``pullkey.v1.BatchGetCredentialsResponse``: one result per image, in order; an
    invalid image is a per-item ``INVALID_ARGUMENT`` error (``reason`` = the reference error code)."""

def _encode_batch_request(
    keyring: Keyring, request: bytes, start: int, stop: int, cache_policy: CachePolicy, cache_duration: int
) -> bytes:
    """Like :func:`_encode_batch`, for ``images[start:stop]`` of a serialized ``BatchGetCredentialsRequest``.
    Raises :class:`pullkey.InvalidRequest` when the request is malformed."""

def _encode_batch_span(
    keyring: Keyring, request: bytes, start: int, end: int, cache_policy: CachePolicy, cache_duration: int
) -> bytes:
    """Like :func:`_encode_batch`, for the images of ``request[start:end]``, a range :func:`_batch_slices` gave.
    Raises :class:`pullkey.InvalidRequest` when the request is malformed."""

def _batch_slices(request: bytes, per_slice: int) -> list[tuple[int, int, int]]:
    """``(start, end, images)`` byte ranges of a serialized ``pullkey.v1.BatchGetCredentialsRequest``, at most
    ``per_slice`` images each, in order, from one scan of the request. Raises :class:`pullkey.InvalidRequest`
    when the request is malformed."""

# ---- Internal: docker credential helpers (docs/helpers.md) ----

def _helper_refs(sources: list[SourceFile]) -> list[tuple[str, str | None, list[tuple[str, str]]]]:
    """``(source, credsStore, credHelpers)`` of the docker config sources that name helpers."""

def _with_helper_answers(keyring: Keyring, answers: list[tuple[str, str, str, str]]) -> Keyring:
    """``keyring`` with the helpers' answers ``(source, key, username, secret)`` between pull secrets
    and node files."""

def _helper_interpret_get(exit_ok: bool, stdout: bytes) -> tuple[str, str, str, bool]:
    """``("found", username, secret, identity_token)``, ``("not found", "", "", False)`` or
    ``("error", message, "", False)``."""

def _helper_summarize(output: bytes) -> str:
    """One line about a helper's diagnostics that repeats nothing that could be a secret."""

def _helper_server_url(domain: str) -> str:
    """The server URL Docker asks a helper for a registry host (``https://index.docker.io/v1/`` for Hub)."""

def _helper_registry(server_url: str) -> str | None:
    """The registry host a client means by a server URL (Docker Hub spellings become ``docker.io``)."""

def _is_helper_name(name: str) -> bool:
    """Whether ``name`` can be the suffix of ``docker-credential-NAME``."""

def _helper_answer(keyring: Keyring, registry: str) -> bytes | None:
    """``docker-credential-pullkey get`` output for ``registry``, or ``None`` when nothing opens it."""

def _helper_list(keyring: Keyring) -> bytes:
    """``docker-credential-pullkey list`` output."""

def _exec_request_image(request: bytes) -> str:
    """The ``image`` of a kubelet ``CredentialProviderRequest``. Raises :class:`pullkey.InvalidRequest`."""

def _batch_images(request: bytes) -> list[str]:
    """The images of a serialized ``BatchGetCredentialsRequest``. Raises :class:`pullkey.InvalidRequest`."""
