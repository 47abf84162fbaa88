"""``pullkey probe``'s engine: the kubelet's credentials for each image, tried against its registry.

For every image the credentials come from the :class:`pullkey.service.Resolver`, in the order the
kubelet tries them; each is checked against the registry in turn and the first that opens the
manifest wins, as in the kubelet's pull (docs/kubelet.md §0 step 4). With no credential at all the
kubelet pulls anonymously, so the probe makes one anonymous attempt; once a credential was found
there is no anonymous attempt (same section).

Registries are probed in parallel (a bounded pool, one worker per registry at a time), the images
of one registry one after the other over one session, so a registry sees at most one request of
this run at a time and a registry that is down costs one timeout, not one per image.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from pullkey._core import parse_reference
from pullkey.errors import ConfigError, InvalidReference
from pullkey.probe import client
from pullkey.service import Resolver

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_DEADLINE_S = 120.0
DEFAULT_PARALLELISM = 4
MAX_PARALLELISM = 32

# When no attempt succeeded, the reason the image reports: the most specific one any attempt met.
# A missing tag behind a working credential says more than another credential's refusal.
_REASON_ORDER = (
    client.MANIFEST_UNKNOWN,
    client.FORBIDDEN,
    client.UNAUTHORIZED,
    client.REGISTRY_ERROR,
    client.TLS_ERROR,
    client.TIMEOUT,
    client.UNREACHABLE,
    client.DEADLINE_EXCEEDED,
)


@dataclass(frozen=True)
class ProbeOptions:
    """How to probe: registries reached over plain HTTP, the per-request timeout, the total deadline
    and how many registries are probed at once."""

    insecure_registries: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT_S
    deadline: float = DEFAULT_DEADLINE_S
    parallelism: int = DEFAULT_PARALLELISM

    def __post_init__(self) -> None:
        if not self.timeout > 0 or not self.deadline > 0:
            raise ConfigError("probe: the timeout and the deadline must be positive")
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise ConfigError(f"probe: parallelism must be between 1 and {MAX_PARALLELISM}")


@dataclass(frozen=True)
class CredentialInfo:
    """Which credential: its keyring key, its source and its username. Never the secret."""

    key: str
    source: str
    username: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "source": self.source, "username": self.username}


@dataclass(frozen=True)
class Attempt:
    """One credential (``None``: anonymous) tried against the registry."""

    credential: CredentialInfo | None
    ok: bool
    reason: str | None
    detail: str
    status: int | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "credential": self.credential.to_dict() if self.credential else None,
            "anonymous": self.credential is None,
            "ok": self.ok,
            "reason": self.reason,
            "detail": self.detail,
            "status": self.status,
            "seconds": round(self.seconds, 4),
        }


@dataclass(frozen=True)
class ImageResult:
    """Would the kubelet pull this image? ``reason`` is set exactly when ``ok`` is false."""

    image: str
    ok: bool
    reason: str | None
    detail: str
    registry: str = ""
    endpoint: str = ""
    repository: str = ""
    reference: str = ""
    digest: str | None = None
    media_type: str | None = None
    credential: CredentialInfo | None = None
    attempts: tuple[Attempt, ...] = ()
    seconds: float = 0.0
    origins: tuple[str, ...] = field(default=())

    @property
    def anonymous(self) -> bool:
        """True when the image opened (or was tried) without a credential."""
        return self.credential is None and all(a.credential is None for a in self.attempts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "ok": self.ok,
            "reason": self.reason,
            "detail": self.detail,
            "registry": self.registry,
            "endpoint": self.endpoint,
            "repository": self.repository,
            "reference": self.reference,
            "digest": self.digest,
            "media_type": self.media_type,
            "credential": self.credential.to_dict() if self.credential else None,
            "anonymous": self.anonymous,
            "attempts": [a.to_dict() for a in self.attempts],
            "seconds": round(self.seconds, 4),
            "origins": list(self.origins),
        }


@dataclass
class _Job:
    index: int
    image: str
    domain: str
    path: str
    reference: str
    repository: str
    tries: list[tuple[CredentialInfo | None, tuple[str, str] | None]]


def _overall_reason(attempts: Sequence[Attempt]) -> Attempt:
    for reason in _REASON_ORDER:
        for a in attempts:
            if a.reason == reason:
                return a
    return attempts[-1]


def _run_job(session: client.RegistrySession, job: _Job, origins: tuple[str, ...]) -> ImageResult:
    start = time.monotonic()
    attempts: list[Attempt] = []
    base = ImageResult(
        job.image,
        False,
        None,
        "",
        registry=job.domain,
        endpoint=session.base,
        repository=job.repository,
        reference=job.reference,
        origins=origins,
    )
    for info, secret in job.tries:
        t0 = time.monotonic()
        out = session.check(job.path, job.reference, secret)
        attempts.append(Attempt(info, out.ok, out.reason, out.detail, out.status, time.monotonic() - t0))
        if out.ok:
            return replace(
                base,
                ok=True,
                detail=out.detail,
                digest=out.digest,
                media_type=out.media_type,
                credential=info,
                attempts=tuple(attempts),
                seconds=time.monotonic() - start,
            )
    worst = _overall_reason(attempts)
    return replace(
        base, reason=worst.reason, detail=worst.detail, attempts=tuple(attempts), seconds=time.monotonic() - start
    )


def _plan(image: str, resolver: Resolver, index: int) -> _Job:
    ref = parse_reference(image)
    answer = resolver.get_credentials(image)
    tries: list[tuple[CredentialInfo | None, tuple[str, str] | None]] = []
    for c in answer.credentials:
        info = CredentialInfo(c.key, c.source, c.username)
        # An entry with neither username nor password sends nothing: the runtime pulls anonymously.
        tries.append((info, (c.username, c.password) if c.username or c.password else None))
    if not tries:
        tries.append((None, None))
    reference = ref.digest or ref.tag or "latest"
    return _Job(index, image, ref.domain, ref.path, reference, ref.repository, tries)


def probe(
    images: Sequence[str],
    resolver: Resolver | None = None,
    options: ProbeOptions | None = None,
    *,
    origins: Mapping[str, Sequence[str]] | None = None,
    on_result: Callable[[ImageResult], None] | None = None,
) -> list[ImageResult]:
    """Whether each image would pull with the credentials the kubelet would use, in input order.

    ``resolver`` defaults to one over the default sources (loaded here if it is not yet);
    ``origins`` maps an image to where it was found (shown in reports); ``on_result`` is called
    (from a worker thread, one call at a time) as each image is done. A repeated image is probed
    once and reported once.
    """
    options = options or ProbeOptions()
    if resolver is None:
        resolver = Resolver()
    if not resolver.loaded:
        resolver.load()
    unique = list(dict.fromkeys(images))
    origins = origins or {}
    results: list[ImageResult | None] = [None] * len(unique)
    lock = threading.Lock()

    def done(index: int, result: ImageResult) -> None:
        with lock:
            results[index] = result
            if on_result is not None:
                on_result(result)

    groups: dict[str, list[_Job]] = {}
    for i, image in enumerate(unique):
        try:
            job = _plan(image, resolver, i)
        except InvalidReference as e:
            done(i, ImageResult(image, False, client.INVALID_REFERENCE, str(e), origins=tuple(origins.get(image, ()))))
            continue
        groups.setdefault(client.endpoint_host(job.domain), []).append(job)

    insecure = frozenset(client.normalize_host(h) for h in options.insecure_registries)
    deadline = client.Deadline(options.deadline, options.timeout)
    http = client.pool_manager(options.parallelism)

    def run_group(jobs: list[_Job]) -> None:
        session = client.RegistrySession(http, jobs[0].domain, insecure=insecure, deadline=deadline)
        for job in jobs:
            done(job.index, _run_job(session, job, tuple(origins.get(job.image, ()))))

    try:
        if groups:
            with ThreadPoolExecutor(max_workers=min(options.parallelism, len(groups))) as pool:
                for future in [pool.submit(run_group, jobs) for jobs in groups.values()]:
                    future.result()
    finally:
        http.clear()
    return [r for r in results if r is not None]
