"""Upstream kubelet credential provider plugins as a source (docs/provider-config.md "Upstream
plugins"): pullkey runs each plugin whose ``matchImages`` match the image exactly as the kubelet does
(docs/kubelet.md §e.2-§e.4: the request in the configured ``apiVersion``, pullkey's environment then
the configured ``env``, a time limit, strict response decoding in the core), and adds its answer as
one more keyring group after node files.

The exec answer stays exact under the kubelet's cache: when an upstream contributed, pullkey answers
``cacheKeyType: Image`` for no longer than the upstream's own ``cacheDuration`` (or its
``defaultCacheDuration``). A failing upstream (exit status, time limit, an answer the kubelet would
reject) contributes nothing to the images it matches, is reported in one line, and the answer is
then not cached (``cacheDuration: 0s``), as the kubelet caches nothing for a failed plugin."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pullkey import _core
from pullkey._core import Keyring
from pullkey._types import CachePolicy

UpstreamTuple = tuple[str, str, list[str], list[tuple[str, str]], str, list[str], int, int]
MAX_OUTPUT_BYTES = 1 << 20


@dataclass(frozen=True)
class Outcome:
    """One upstream run for one image: its answers ``(source, key, username, password)``, how long they
    may be reused (seconds) and under which ``cacheKeyType``, or the one-line error."""

    name: str
    answers: list[tuple[str, str, str, str]]
    cache_key_type: str
    duration: int
    error: str | None = None


def matching(upstreams: Sequence[UpstreamTuple], image: str) -> list[UpstreamTuple]:
    """The upstreams whose ``matchImages`` allow ``image`` (docs/kubelet.md §e.2 step 1)."""
    return [u for u in upstreams if any(_core.match_image(p, image) for p in u[5])]


def not_wider(upstreams: Sequence[UpstreamTuple], image: str, policy: CachePolicy) -> CachePolicy:
    """The policy for an image no upstream answered for: an answer the kubelet may reuse for other
    images must not reach an image an upstream would answer for. ``Global`` never; ``Registry`` only
    when no ``matchImages`` pattern's host matches the image's host."""
    if policy == "Image":
        return policy
    host = image.split("/", 1)[0]
    if any(_core.match_image(p.split("/", 1)[0], host) for u in upstreams for p in u[5]):
        return "Image"
    return "Registry" if policy == "Global" else policy


def run(upstream: UpstreamTuple, image: str, environ: Mapping[str, str]) -> Outcome:
    """Runs one upstream plugin for ``image`` (docs/kubelet.md §e.3); never raises for the plugin's faults."""
    name, command, args, env, api_version, _, default_secs, timeout_ms = upstream
    full_env = dict(environ)
    for key, value in env:  # configured entries come last and win (§e.3)
        full_env[key] = value
    request = _core._encode_plugin_request(api_version, image)
    try:
        proc = subprocess.Popen(
            [command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd="/",
            start_new_session=True,  # its own process group: killed whole on timeout
        )
    except OSError as e:
        return Outcome(name, [], "Image", 0, f"upstream {name}: cannot run {command}: {e.strerror}")
    try:
        out, _err = proc.communicate(request, timeout=timeout_ms / 1000)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return Outcome(name, [], "Image", 0, f"upstream {name}: no answer within {timeout_ms / 1000:g}s, killed")
    if proc.returncode != 0:
        return Outcome(name, [], "Image", 0, f"upstream {name}: exited with status {proc.returncode}")
    if len(out) > MAX_OUTPUT_BYTES:
        return Outcome(name, [], "Image", 0, f"upstream {name}: answer larger than {MAX_OUTPUT_BYTES} bytes")
    try:
        cache_key_type, secs, auth = _core._decode_plugin_response(out, api_version)
    except ValueError as e:  # the message never quotes the output
        return Outcome(name, [], "Image", 0, f"upstream {name}: {e}")
    duration = default_secs if secs is None else secs
    source = f"upstream {name}"
    return Outcome(name, [(source, k, u, p) for k, u, p in auth], cache_key_type, duration)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()


def answer_exec(
    upstreams: Sequence[UpstreamTuple],
    image: str,
    keyring: Keyring,
    policy: CachePolicy,
    duration: int,
    environ: Mapping[str, str],
) -> tuple[Keyring, CachePolicy, int, list[str]]:
    """The exec answer's keyring, policy and duration with the upstreams that match ``image``, and the
    one-line errors of those that failed."""
    outcomes = [run(u, image, environ) for u in matching(upstreams, image)]
    if not outcomes:
        return keyring, not_wider(upstreams, image, policy), duration, []
    errors = [o.error for o in outcomes if o.error is not None]
    answers = [a for o in outcomes for a in o.answers]
    keyring = _core._with_upstream_answers(keyring, answers)
    duration = min([duration, *(o.duration for o in outcomes)])
    if errors:
        duration = 0
    return keyring, "Image", duration, errors


class UpstreamCache:
    """The gRPC service's cache of upstream answers, as the kubelet's plugin cache (docs/kubelet.md
    §e.5): an answer is stored under its ``cacheKeyType``'s base (the image, its registry, or
    ``<global>``) until now + its duration; a lookup tries the image, the registry, ``<global>``, and the
    first unexpired entry wins whatever type stored it. Failures and zero durations are not stored."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        import threading
        import time

        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, Outcome]] = {}

    def now(self) -> float:
        return self._clock()

    def fresh(self, upstream: UpstreamTuple, image: str) -> tuple[Outcome, int] | None:
        """The cached outcome for ``image`` and its remaining whole seconds, or ``None``."""
        now = self._clock()
        with self._lock:
            for base in (image, image.split("/", 1)[0], "<global>"):
                hit = self._entries.get((upstream[0], base))
                if hit is None:
                    continue
                if now > hit[0]:
                    del self._entries[(upstream[0], base)]
                    continue
                return hit[1], int(hit[0] - now)
        return None

    def get(self, upstream: UpstreamTuple, image: str, environ: Mapping[str, str]) -> tuple[Outcome, int]:
        """The outcome for ``image`` (cached, or a run stored by its ``cacheKeyType``) and for how many
        seconds it may still be reused."""
        hit = self.fresh(upstream, image)
        if hit is not None:
            return hit
        outcome = run(upstream, image, environ)
        if outcome.error is None and outcome.duration > 0:
            base = {"Image": image, "Registry": image.split("/", 1)[0]}.get(outcome.cache_key_type, "<global>")
            with self._lock:
                self._entries[(upstream[0], base)] = (self._clock() + outcome.duration, outcome)
        return outcome, 0 if outcome.error is not None else outcome.duration

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
