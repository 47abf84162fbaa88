"""Docker credential helpers run by pullkey (docs/helpers.md): which helper answers a registry, running
it, and putting its answer in the kubelet order.

Off by default (``helpers.enabled`` or ``--helpers``): the kubelet never runs helpers. When on, the
loader (:func:`pullkey._load.load`) makes a :class:`HelperPlan` from the node docker configs it
used; the exec plugin and ``docker-credential-pullkey`` consult it once per call (:func:`consult`), the
long-lived :class:`pullkey.Resolver` through :class:`pullkey.helpers.cache.HelperCache` (cached,
single-flight, back-off).

Lean like the exec path (``os``, ``sys`` and the core; :mod:`pullkey.helpers.runner` adds ``select``,
``signal`` and ``time``): ``pullkey --helpers`` pays for what it uses and no more.
"""

from __future__ import annotations

import os
import time

from pullkey import _core
from pullkey.helpers import runner

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pullkey._core import Keyring, SourceFile
    from pullkey._sources import State
    from pullkey._types import CachePolicy, HelperConsulted, SourceFormat
    from pullkey.options import Settings

__all__ = ["Consultation", "HelperPlan", "consult", "plan"]

# The name pullkey is installed under as a helper: consulting it from pullkey would loop.
SELF = "pullkey"
OUTCOMES = ("found", "not found", "error", "timeout")


class HelperPlan:
    """Which helper answers which server URL (docker/cli ``GetCredentialsStore``: ``credHelpers[url]``,
    else ``credsStore``; docs/helpers.md "Which helper"), each helper's path resolved once, and the
    clean environment helpers run with."""

    __slots__ = ("cache_duration", "cap", "cred_helpers", "creds_store", "dirs", "env", "paths", "problems", "timeout")

    def __init__(self) -> None:
        self.cred_helpers: dict[str, tuple[str, str]] = {}  # server URL -> (helper, docker config)
        self.creds_store: tuple[str, str] | None = None  # (helper, docker config)
        self.paths: dict[str, str] = {}  # helper -> absolute path
        self.problems: dict[str, str] = {}  # helper -> why it cannot run
        self.dirs: list[str] = []
        self.env: dict[str, str] = {}
        self.timeout = 5.0
        self.cap = 65536
        self.cache_duration = 300

    @property
    def active(self) -> bool:
        """Whether any docker config names a helper."""
        return bool(self.cred_helpers) or self.creds_store is not None

    def helper_for(self, server_url: str) -> tuple[str, str] | None:
        """``(helper, docker config naming it)`` for ``server_url``, or ``None``."""
        return self.cred_helpers.get(server_url) or self.creds_store

    def __repr__(self) -> str:
        return f"HelperPlan(cred_helpers={self.cred_helpers!r}, creds_store={self.creds_store!r}, paths={self.paths!r})"


def node_docker_configs(settings: Settings, used: list[str]) -> list[SourceFile]:
    """The node docker configs among the sources a load ``used``, in order, read again with their
    format (search-path candidates by name, ``DockerConfig`` sources as configured). Pull secrets are
    not among them: a Secret's content never chooses a program to run on the node."""
    from pullkey import _sources

    formats: dict[str, SourceFormat] = {}
    for source in settings.sources:
        if source.type == "SearchPaths":
            for path, fmt in _sources.search_path_candidates(settings.root_dir, settings.cwd, settings.home):
                formats.setdefault(path, fmt)
        elif source.type == "DockerConfig" and source.path:
            formats.setdefault(source.path, source.format)
    out: list[SourceFile] = []
    for name in used:
        if name in formats:
            try:  # read as the load read it (never blocking, regular files, limits); it warned already
                data = _sources.read_regular(name)
            except (OSError, _sources.NotRead):
                continue
            out.append(_core.SourceFile(name, formats[name], data))
    return out


def plan(settings: Settings, used: list[str], environ: Mapping[str, str] | None = None) -> HelperPlan:
    """The plan of the node docker configs a load ``used`` (in order): the first file naming a server
    URL in ``credHelpers`` wins it, the first ``credsStore`` is the default."""
    node_sources = node_docker_configs(settings, used)
    config = settings.helpers
    env_in = os.environ if environ is None else environ
    p = HelperPlan()
    p.timeout = config.timeout_ms / 1000
    p.cap = config.max_output_bytes
    p.cache_duration = config.cache_duration
    p.dirs = runner.search_dirs(config.dirs, env_in)
    p.env = {"PATH": os.pathsep.join(p.dirs)}
    for name, value in config.env:
        if value is not None:
            p.env[name] = value
        elif name in env_in:
            p.env[name] = env_in[name]
    allow = config.allow
    for source, creds_store, cred_helpers in _core._helper_refs(node_sources):
        for server_url, helper in cred_helpers:
            p.cred_helpers.setdefault(server_url, (helper, source))
        if creds_store and p.creds_store is None:
            p.creds_store = (creds_store, source)
    named = {h for h, _ in p.cred_helpers.values()} | ({p.creds_store[0]} if p.creds_store else set())
    for helper in sorted(named):
        if not _core._is_helper_name(helper):
            p.problems[helper] = "is not a valid helper name (letters, digits, '.', '_', '-')"
        elif helper == SELF:
            p.problems[helper] = "is pullkey itself: pullkey does not consult itself"
        elif allow is not None and helper not in allow:
            p.problems[helper] = "is not in helpers.allow"
        else:
            path = runner.resolve(helper, p.dirs)
            if path is None:
                p.problems[helper] = "not found in " + ", ".join(p.dirs)
            else:
                p.paths[helper] = path
    return p


class Consultation:
    """One helper consulted for one server URL: what ``explain`` shows (never the secret) and the
    answer itself (``username``/``secret``, only when ``outcome`` is ``found``)."""

    __slots__ = (
        "at",
        "cached",
        "helper",
        "identity_token",
        "message",
        "outcome",
        "registry",
        "reuse_until",
        "seconds",
        "secret",
        "server_url",
        "source",
        "username",
    )

    def __init__(self, helper: str, server_url: str, registry: str, source: str) -> None:
        self.helper = helper
        self.server_url = server_url
        self.registry = registry
        self.source = source
        self.outcome = "error"
        self.message = ""
        self.seconds = 0.0
        self.username = ""
        self.secret = ""
        self.identity_token = False
        self.cached = False
        self.at = time.monotonic()
        self.reuse_until = self.at  # monotonic time until which the answer may be reused

    @property
    def program(self) -> str:
        return runner.PROGRAM_PREFIX + self.helper

    @property
    def usable(self) -> bool:
        """A credential the kubelet can use (found, and not an identity token)."""
        return self.outcome == "found" and not self.identity_token

    def line(self) -> str:
        """One line about this consultation (no secret): what a warning or a log says."""
        what = {"found": "found a credential", "not found": "has no credential"}.get(self.outcome, self.outcome)
        if self.outcome == "found" and self.identity_token:
            what = (
                "answered an identity token (username <token>), which the kubelet cannot use: the exec "
                "response carries only a username and a password; not used"
            )
        text = f"{self.program} ({self.source}) for {self.server_url}: {what}"
        return text + (f": {self.message}" if self.message and self.outcome != "found" else "")

    def explained(self) -> HelperConsulted:
        """The ``explain`` entry (no secret)."""
        return {
            "helper": self.helper,
            "program": self.program,
            "server_url": self.server_url,
            "source": self.source,
            "outcome": self.outcome,  # type: ignore[typeddict-item]
            "identity_token": self.identity_token,
            "username": self.username if self.outcome == "found" else None,
            "duration_ms": round(self.seconds * 1000, 1),
            "cached": self.cached,
            "message": self.message,
        }

    def __repr__(self) -> str:
        return f"Consultation({self.program!r}, {self.server_url!r}, outcome={self.outcome!r}, secret=<redacted>)"


def server_url_of(image: str) -> tuple[str, str]:
    """``(registry host, server URL Docker would ask)`` of an image reference. Raises ``InvalidReference``."""
    domain = _core.parse_reference(image).domain
    return domain, _core._helper_server_url(domain)


def consult(p: HelperPlan, server_url: str, registry: str) -> Consultation | None:
    """Runs the helper that answers ``server_url`` (``get``), or ``None`` when no docker config names one."""
    chosen = p.helper_for(server_url)
    if chosen is None:
        return None
    helper, source = chosen
    c = Consultation(helper, server_url, registry, source)
    path = p.paths.get(helper)
    if path is None:
        c.message = f"{c.program} {p.problems.get(helper, 'cannot run')}"
        return c
    run = runner.run(path, "get", server_url.encode() + b"\n", p.env, p.timeout, p.cap)
    c.seconds = run.seconds
    c.at = time.monotonic()
    stderr = _core._helper_summarize(run.stderr)
    said = f"; stderr: {stderr}" if stderr else ""
    if run.status == "timeout":
        c.outcome = "timeout"
        c.message = f"no answer within {p.timeout:g}s, its process group was killed{said}"
    elif run.status == "too big":
        c.message = f"printed more than {p.cap} bytes, its process group was killed"
    elif run.status == "failed to start":
        c.message = f"could not be started: {run.stderr.decode(errors='replace')}"
    else:
        outcome, first, secret, identity_token = _core._helper_interpret_get(run.code == 0, run.stdout)
        c.outcome = outcome
        if outcome != "error":
            c.reuse_until = c.at + p.cache_duration
        if outcome == "found":
            c.username, c.secret, c.identity_token = first, secret, identity_token
        elif outcome == "error":
            status = f"exit status {run.code}" if run.code >= 0 else f"killed by signal {-run.code}"
            c.message = (f"{first} ({status})" if run.code else first) + said
    return c


def with_answers(keyring: Keyring, consultations: list[Consultation]) -> Keyring:
    """``keyring`` with the usable answers between pull secrets and node files (docs/helpers.md "Order")."""
    answers = [
        (f"{c.program} for {c.server_url} ({c.source})", c.server_url, c.username, c.secret)
        for c in consultations
        if c.usable
    ]
    return _core._with_helper_answers(keyring, answers) if answers else keyring


def exec_cache_duration(duration: int, consultations: list[Consultation]) -> int:
    """The ``cacheDuration`` of an exec answer that used ``consultations`` (no memory between calls):
    at most ``helpers.cacheDuration`` after an answer; ``0`` (not cached) after a failure, so that the
    kubelet asks again at its next pull instead of keeping an answer without that registry's credential."""
    for c in consultations:
        if c.outcome in ("error", "timeout"):
            return 0
        duration = min(duration, max(0, round(c.reuse_until - c.at)))  # a fresh answer: its full lifetime
    return duration


def cache_policy(policy: CachePolicy) -> CachePolicy:
    """The cache policy of an answer when helpers are on: never ``Global``. A helper answers per
    registry, so an answer cached for every image would serve registries whose helper was never
    asked (docs/helpers.md "Caching"); ``Registry`` is still exact per host."""
    return "Registry" if policy == "Global" else policy


def answer_exec(
    state: State, image: str, keyring: Keyring | None = None, cache_duration: int | None = None
) -> tuple[Keyring, CachePolicy, int]:
    """The exec plugin's keyring, cache policy and ``cacheDuration`` for ``image``, its registry's helper consulted
    (once: an exec call has no memory). ``keyring`` and ``cache_duration`` are what the answer would be
    without helpers (the load's, or a credential set's: docs/provider-config.md "Tenants"). A failure is
    one line on stderr; an identity token is a warning at ``--v=1``. Raises ``InvalidReference``."""
    import sys

    registry, server_url = server_url_of(image)
    assert state.helpers is not None
    c = consult(state.helpers, server_url, registry)
    consultations = [] if c is None else [c]
    for c in consultations:
        if c.outcome in ("error", "timeout"):
            sys.stderr.write(f"pullkey: helper {c.line()}\n")
        elif c.identity_token and state.settings.verbosity >= 1:
            sys.stderr.write(f"pullkey: warning: helper {c.line()}\n")
    base = state.keyring if keyring is None else keyring
    duration = state.settings.cache_duration if cache_duration is None else cache_duration
    return (
        with_answers(base, consultations),
        cache_policy(state.settings.cache_policy),
        exec_cache_duration(duration, consultations),
    )
