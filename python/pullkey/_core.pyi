"""Type stubs and documentation of ``pullkey._core``, the Rust engine (checked by ``mypy.stubtest``).

User code imports these names from ``pullkey``.
"""

from collections.abc import Sequence
from typing import Any, Literal, final

from pullkey.errors import InvalidReference

__version__: str
__all__ = [
    "Credential",
    "Keyring",
    "Reference",
    "__version__",
    "count_batch_images",
    "load_provider_config",
    "match_image",
    "parse_duration_seconds",
    "parse_reference",
    "parse_references",
    "render_kubelet_config",
    "validate_kubelet_config",
]

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
    """The merged keyring: a group for pull secrets, then one for node docker configs (kubelet order)."""

    def __init__(self) -> None: ...
    @classmethod
    def from_docker_config(cls, data: object, source: str = "") -> Keyring:
        """From one docker config: a mapping, JSON text or bytes, in ``config.json`` or ``.dockercfg`` form.
        Raises :class:`pullkey.ConfigError`."""
    @staticmethod
    def build(
        secrets: list[tuple[str, str, object, bool]],
        node: list[tuple[str, str, object, bool]],
        *,
        search_policy: str = "merge",
        strict: bool = False,
    ) -> tuple[Keyring, list[str], list[str]]:
        """From source contents ``(name, kind, bytes or [(file, bytes)], is_search_path)``:
        returns ``(keyring, warnings, used source names)``."""
    def __len__(self) -> int: ...
    def lookup(self, image: str) -> list[Credential]:
        """Credentials for ``image`` in the order the kubelet tries them (the image is normalised first)."""
    def resolve(self, image: str, cache_policy: str = "auto") -> tuple[str, list[Credential], str]:
        """``(repository, credentials, cacheKeyType)`` for ``image``."""
    def explain(self, image: str) -> dict[str, Any]:
        """The ``explain --json`` object (no secret in it).

        ``rejected`` lists at most 32 of the keys that do not match (the nearest to the image);
        ``rejected_total`` counts them all, so callers can say "and N more".
        """
    def exec_respond(self, request: bytes, cache_policy: str = "auto", cache_duration: int = 300) -> bytes:
        """Answers one kubelet ``CredentialProviderRequest`` with the ``CredentialProviderResponse`` bytes.
        Raises :class:`pullkey.InvalidRequest` or :class:`pullkey.InvalidReference`."""
    def answer_pb(self, image: str, cache_policy: str = "auto", cache_duration: int = 300) -> bytes:
        """The serialized ``pullkey.v1.GetCredentialsResponse`` for ``image``.
        Raises :class:`pullkey.InvalidReference`."""
    def batch_pb(self, images: Sequence[str], cache_policy: str = "auto", cache_duration: int = 300) -> bytes:
        """The serialized ``pullkey.v1.BatchGetCredentialsResponse``: one result per image, in order; an
        invalid image is a per-item ``INVALID_ARGUMENT`` error (``reason`` = the reference error code)."""
    def batch_pb_request(
        self, request: bytes, start: int, stop: int, cache_policy: str = "auto", cache_duration: int = 300
    ) -> bytes:
        """Like :meth:`batch_pb`, for ``images[start:stop]`` of a serialized ``BatchGetCredentialsRequest``.
        Raises :class:`pullkey.InvalidRequest` when the request is malformed."""
    def match_images(self) -> list[str]:
        """``matchImages`` patterns covering every image a key of this keyring can match."""

def load_provider_config(data: bytes, name: str) -> dict[str, Any]:
    """Parses pullkey's ``ProviderConfig`` (YAML or JSON, strict). Raises :class:`pullkey.ConfigError`."""

def parse_duration_seconds(text: str) -> int:
    """A Go duration string (``5m``, ``1h30m``) in whole seconds. Raises :class:`pullkey.ConfigError`."""

def validate_kubelet_config(files: list[tuple[str, bytes]]) -> list[str]:
    """Every error the kubelet would report for these ``CredentialProviderConfig`` files (empty: valid)."""

def count_batch_images(request: bytes) -> int:
    """The number of images in a serialized ``pullkey.v1.BatchGetCredentialsRequest``.
    Raises :class:`pullkey.InvalidRequest` when the request is malformed."""

def render_kubelet_config(
    name: str, match_images: list[str], default_cache_duration: int, args: list[str], env: list[tuple[str, str]]
) -> str:
    """A valid ``kubelet.config.k8s.io/v1`` ``CredentialProviderConfig`` (YAML) for this plugin."""
