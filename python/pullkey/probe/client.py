"""The registry side of ``pullkey probe``: would this credential pull this manifest?

One :class:`RegistrySession` per registry host speaks the Docker Registry HTTP API v2 / OCI
distribution flow a container runtime uses before a pull:

1. ``GET /v2/`` without credentials (the ping). ``200``: the registry asks for no authentication;
   ``401``: its ``WWW-Authenticate`` challenge says how to authenticate (``Basic`` or ``Bearer``).
2. ``Basic``: the credential goes with every request. ``Bearer``: the credential (or nothing, for an
   anonymous pull) is sent to the challenge's ``realm`` with ``service`` and
   ``scope=repository:<path>:pull``; the token it returns goes with the manifest request.
3. ``HEAD /v2/<path>/manifests/<tag or digest>`` with the manifest media types a runtime accepts;
   ``200`` means the pull would start, and ``Docker-Content-Digest`` names the manifest.

Sources: the OCI distribution specification v1.1 (``spec.md``: "Pulling manifests", "Checking if
content exists"), the Docker token authentication specification
(``distribution/distribution docs/spec/auth/token.md``, v2.8), and
``containerd/containerd remotes/docker/authorizer.go`` and ``resolver.go`` (v1.7) for the order in
which a runtime does these steps.

Everything is bounded: one timeout per request (never past the caller's deadline), no retries, at
most a few redirects, small response bodies read with a size limit. HTTPS is verified against the
system trust store; plain HTTP is used only for hosts the caller names insecure. No password or
token ever appears in a result, a message or an exception raised from here.

NOTE: the kubelet exec path never imports this module (it imports ``urllib3``).
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

import urllib3
from urllib3 import exceptions as u3

# The reasons a pull would fail (stable strings: the JSON report and the gRPC answer carry them).
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
MANIFEST_UNKNOWN = "manifest_unknown"
UNREACHABLE = "unreachable"
TLS_ERROR = "tls_error"
TIMEOUT = "timeout"
DEADLINE_EXCEEDED = "deadline_exceeded"
REGISTRY_ERROR = "registry_error"
INVALID_REFERENCE = "invalid_reference"

# Network-level reasons: the next request to the same registry would fail the same way.
HOST_FAILURES = frozenset({UNREACHABLE, TLS_ERROR, TIMEOUT, DEADLINE_EXCEEDED})

# What a runtime accepts when it resolves a tag: Docker schema 2 manifest and manifest list, OCI
# image manifest and index (containerd/containerd remotes/docker/resolver.go (v1.7), Resolve).
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)

# Docker Hub's API endpoint: the runtimes talk to registry-1.docker.io for images named docker.io/...
# (containerd/containerd remotes/docker/config/hosts.go (v1.7), ConfigureHosts: host "docker.io"
# becomes "https://registry-1.docker.io").
DOCKER_HUB_DOMAIN = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"

MAX_TOKEN_BYTES = 1 << 20  # a token response is a few KiB; anything past 1 MiB is refused
MAX_ERROR_BYTES = 64 << 10  # an error body is read only for its error code
MAX_MANIFEST_BYTES = 4 << 20  # distribution's own limit on a manifest it accepts
MAX_REDIRECTS = 3
USER_AGENT = "pullkey-probe"


@dataclass(frozen=True)
class Outcome:
    """What one attempt (one credential, or none) got from the registry. Never holds a secret."""

    ok: bool
    reason: str | None = None
    detail: str = ""
    status: int | None = None
    digest: str | None = None
    media_type: str | None = None


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lower case) and its parameters."""

    scheme: str
    params: Mapping[str, str]


class _Failed(Exception):
    """Internal: an attempt ends with this outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


def _fail(reason: str, detail: str, status: int | None = None) -> _Failed:
    return _Failed(Outcome(False, reason, detail, status))


def endpoint_host(domain: str) -> str:
    """The host[:port] a runtime connects to for images of ``domain``."""
    return DOCKER_HUB_ENDPOINT if domain == DOCKER_HUB_DOMAIN else domain


def normalize_host(text: str) -> str:
    """``HOST[:PORT]`` as given to ``--insecure-registry`` (a scheme or a trailing ``/`` is dropped)."""
    host = text.strip()
    for prefix in ("http://", "https://"):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return host.rstrip("/").lower()


# RFC 9110 §11.6.1: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?=\s|,|$)")
_PARAM_RE = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*')
_UNESCAPE_RE = re.compile(r"\\(.)")


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge of one ``WWW-Authenticate`` value, in order; unparsable text is skipped."""
    challenges: list[Challenge] = []
    params: dict[str, str] = {}
    scheme = ""
    i = 0
    while i < len(header):
        if header[i] in ", \t":
            i += 1
            continue
        param = _PARAM_RE.match(header, i)
        if param and scheme:
            quoted, bare = param.group(2), param.group(3)
            params[param.group(1).lower()] = _UNESCAPE_RE.sub(r"\1", quoted) if quoted is not None else bare
            i = param.end()
            continue
        new = _SCHEME_RE.match(header, i)
        if new is None:
            break
        if scheme:
            challenges.append(Challenge(scheme, params))
        scheme, params = new.group(1).lower(), {}
        i = new.end()
    if scheme:
        challenges.append(Challenge(scheme, params))
    return challenges


def _pick(challenges: list[Challenge]) -> Challenge | None:
    """The challenge a runtime answers: Bearer first, then Basic."""
    for scheme in ("bearer", "basic"):
        for c in challenges:
            if c.scheme == scheme:
                return c
    return None


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _classify(exc: Exception) -> tuple[str, str]:
    """(reason, detail) for a transport failure; the detail names no URL query and no header."""
    if isinstance(exc, u3.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, u3.NameResolutionError):
        return UNREACHABLE, "the registry's name does not resolve"
    if isinstance(exc, u3.NewConnectionError):
        cause = exc.__cause__ or exc.__context__
        why = getattr(cause, "strerror", None) or "connection failed"
        return UNREACHABLE, f"cannot connect: {str(why).lower()}"
    if isinstance(exc, u3.ConnectTimeoutError):
        return TIMEOUT, "timed out connecting"
    if isinstance(exc, (u3.ReadTimeoutError, TimeoutError)):
        return TIMEOUT, "timed out waiting for an answer"
    if isinstance(exc, u3.SSLError):
        inner = exc.args[0] if exc.args else exc
        if isinstance(inner, ssl.SSLCertVerificationError):
            return TLS_ERROR, f"certificate not trusted: {inner.verify_message}"
        if isinstance(inner, ssl.SSLError) and inner.reason:
            return TLS_ERROR, f"TLS handshake failed: {inner.reason.lower().replace('_', ' ')}"
        return TLS_ERROR, "TLS handshake failed"
    if isinstance(exc, u3.ProtocolError):
        return UNREACHABLE, "the connection was closed without an answer"
    if isinstance(exc, u3.LocationValueError):
        return REGISTRY_ERROR, "invalid location"
    return UNREACHABLE, type(exc).__name__


class Deadline:
    """The run's total deadline, shared by every session; each request gets at most what is left."""

    def __init__(self, seconds: float, per_request: float) -> None:
        self.at = time.monotonic() + seconds
        self.per_request = per_request

    def timeout(self) -> urllib3.Timeout:
        left = self.at - time.monotonic()
        if left <= 0:
            raise _fail(DEADLINE_EXCEEDED, "the probe's total deadline passed before this request")
        t = min(self.per_request, left)
        return urllib3.Timeout(connect=t, read=t)


class RegistrySession:
    """The probe's view of one registry: its scheme, its ping (asked once), and manifest checks."""

    def __init__(self, http: urllib3.PoolManager, domain: str, *, insecure: frozenset[str], deadline: Deadline) -> None:
        self.http = http
        self.domain = domain
        self.host = endpoint_host(domain)
        self.insecure = insecure
        self.scheme = "http" if self._is_insecure(domain) or self._is_insecure(self.host) else "https"
        self.base = f"{self.scheme}://{self.host}"
        self.deadline = deadline
        self._ping: Challenge | _Failed | None = None
        self._pinged = False
        self._broken: Outcome | None = None  # a network failure that every later request would repeat

    def _is_insecure(self, host: str) -> bool:
        return host.lower() in self.insecure

    def _request(
        self, method: str, url: str, headers: dict[str, str], *, body_limit: int = MAX_ERROR_BYTES
    ) -> tuple[urllib3.BaseHTTPResponse, bytes]:
        """One request: no retries, a few redirects (urllib3 drops ``Authorization`` on a redirect to
        another host), the body read up to ``body_limit`` bytes (more is a registry error)."""
        headers = {"User-Agent": USER_AGENT, **headers}
        retries = urllib3.Retry(
            total=None, connect=0, read=0, status=0, other=0, redirect=MAX_REDIRECTS, raise_on_redirect=False
        )
        try:
            resp = self.http.request(
                method, url, headers=headers, timeout=self.deadline.timeout(), retries=retries, preload_content=False
            )
        except u3.HTTPError as e:
            reason, detail = _classify(e)
            raise _fail(reason, f"{method} {self._where(url)}: {detail}") from None
        try:
            # A HEAD answer has no body: reading it (b"") closes the exchange so the connection can be reused.
            data = resp.read(body_limit + 1)
        except u3.HTTPError as e:
            resp.close()
            reason, detail = _classify(e)
            raise _fail(reason, f"{method} {self._where(url)}: {detail}") from None
        if len(data) > body_limit:
            resp.close()  # the rest is not read: the connection is not reused
            raise _fail(REGISTRY_ERROR, f"{method} {self._where(url)}: answer larger than {body_limit} bytes")
        resp.release_conn()
        return resp, data

    @staticmethod
    def _where(url: str) -> str:
        """The URL without its query (a realm's query names the scope, nothing secret, but is long)."""
        return url.split("?", 1)[0]

    def ping(self) -> Challenge | None:
        """``GET /v2/`` once per session: ``None`` when the registry asks for no authentication."""
        if not self._pinged:
            self._pinged = True
            try:
                self._ping = self._do_ping()
            except _Failed as f:
                self._ping = f
        if isinstance(self._ping, _Failed):
            raise self._ping
        return self._ping

    def _do_ping(self) -> Challenge | None:
        resp, _ = self._request("GET", f"{self.base}/v2/", {})
        if resp.status == 200:
            return None
        if resp.status == 401:
            challenge = _pick(parse_challenges(resp.headers.get("WWW-Authenticate", "")))
            # A 401 without a usable challenge: runtimes fall back to Basic.
            return challenge or Challenge("basic", {})
        raise _fail(REGISTRY_ERROR, f"GET {self.base}/v2/ answered HTTP {resp.status}: not a registry API", resp.status)

    def _token(self, challenge: Challenge, path: str, cred: tuple[str, str] | None) -> str:
        """A bearer token for ``repository:<path>:pull`` from the challenge's realm."""
        realm = challenge.params.get("realm", "")
        parsed = urllib.parse.urlsplit(realm)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise _fail(REGISTRY_ERROR, "the registry's Bearer challenge has no usable realm")
        if parsed.scheme == "http" and cred is not None and not self._is_insecure(parsed.netloc):
            raise _fail(
                REGISTRY_ERROR,
                f"the token realm {self._where(realm)} is plain HTTP; refusing to send a credential "
                f"(name {parsed.netloc} with --insecure-registry to allow it)",
            )
        query = [("scope", f"repository:{path}:pull")]
        if "service" in challenge.params:
            query.insert(0, ("service", challenge.params["service"]))
        sep = "&" if parsed.query else "?"
        url = realm + sep + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if cred is not None:
            headers["Authorization"] = _basic(*cred)
        resp, data = self._request("GET", url, headers, body_limit=MAX_TOKEN_BYTES)
        where = self._where(realm)
        if resp.status == 401:
            raise _fail(UNAUTHORIZED, f"the token service {where} refused the credential", 401)
        if resp.status == 403:
            raise _fail(FORBIDDEN, f"the token service {where} denied pull access to {path}", 403)
        if resp.status != 200:
            raise _fail(REGISTRY_ERROR, f"the token service {where} answered HTTP {resp.status}", resp.status)
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise _fail(REGISTRY_ERROR, f"the token service {where} answered without a token")
        return token

    def _authorization(self, challenge: Challenge | None, path: str, cred: tuple[str, str] | None) -> dict[str, str]:
        if challenge is None:
            return {}
        if challenge.scheme == "bearer":
            return {"Authorization": "Bearer " + self._token(challenge, path, cred)}
        return {"Authorization": _basic(*cred)} if cred is not None else {}

    def check(self, path: str, reference: str, cred: tuple[str, str] | None) -> Outcome:
        """Whether ``path:reference`` would pull with ``cred`` ((username, password), or ``None`` for
        an anonymous pull). Never raises for registry or network trouble: that is the outcome."""
        if self._broken is not None:
            return self._broken
        try:
            return self._check(path, reference, cred)
        except _Failed as f:
            if f.outcome.reason in HOST_FAILURES:
                self._broken = Outcome(
                    False, f.outcome.reason, f.outcome.detail + " (earlier on this registry; not asked again)"
                )
            return f.outcome

    def _check(self, path: str, reference: str, cred: tuple[str, str] | None) -> Outcome:
        challenge = self.ping()
        url = f"{self.base}/v2/{path}/manifests/{reference}"
        headers = {"Accept": MANIFEST_ACCEPT, **self._authorization(challenge, path, cred)}
        resp, _ = self._request("HEAD", url, headers)
        if resp.status == 401 and challenge is None:
            # The ping needed no authentication but this repository does: answer its challenge.
            challenge = _pick(parse_challenges(resp.headers.get("WWW-Authenticate", "")))
            if challenge is not None:
                headers.update(self._authorization(challenge, path, cred))
                resp, _ = self._request("HEAD", url, headers)
        if resp.status == 405:  # a registry without HEAD support: the runtime's GET, body discarded
            resp, _ = self._request("GET", url, headers, body_limit=MAX_MANIFEST_BYTES)
        status = resp.status
        if 200 <= status < 300:
            digest = resp.headers.get("Docker-Content-Digest")
            media_type = resp.headers.get("Content-Type")
            return Outcome(True, None, "the manifest is there", status, digest, media_type)
        if status == 401:
            scope_error = any(
                c.params.get("error") == "insufficient_scope"
                for c in parse_challenges(resp.headers.get("WWW-Authenticate", ""))
            )
            if cred is None:
                return Outcome(False, UNAUTHORIZED, "the registry wants credentials and none matched", status)
            if scope_error:
                return Outcome(False, FORBIDDEN, f"the credential is valid but has no pull access to {path}", status)
            return Outcome(False, UNAUTHORIZED, "the registry refused the credential", status)
        if status == 403:
            return Outcome(False, FORBIDDEN, f"the registry denied pull access to {path}", status)
        if status == 404:
            return Outcome(False, MANIFEST_UNKNOWN, self._not_found(url, headers, path, reference), status)
        if status == 429:
            return Outcome(False, REGISTRY_ERROR, "the registry is rate limiting (HTTP 429)", status)
        return Outcome(False, REGISTRY_ERROR, f"HEAD {self._where(url)} answered HTTP {status}", status)

    def _not_found(self, url: str, headers: dict[str, str], path: str, reference: str) -> str:
        """Which thing is unknown: a GET returns the error code that a HEAD cannot carry."""
        what = f"no manifest {reference} in {path}"
        try:
            resp, data = self._request("GET", url, headers, body_limit=MAX_ERROR_BYTES)
            doc = json.loads(data) if resp.status == 404 else None
        except (_Failed, ValueError):
            return what
        errors = doc.get("errors") if isinstance(doc, dict) else None
        code = errors[0].get("code") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
        if code == "NAME_UNKNOWN":
            return f"repository {path} unknown to the registry"
        if code == "MANIFEST_UNKNOWN":
            return f"manifest unknown: {what}"
        return what


def pool_manager(parallelism: int) -> urllib3.PoolManager:
    """The probe's one HTTP client: verified HTTPS with the system trust store (urllib3's default
    context loads it), a connection pool per host, no retries unless a call asks for them."""
    return urllib3.PoolManager(num_pools=max(8, 2 * parallelism), maxsize=1, retries=False)
