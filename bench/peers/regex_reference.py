"""A pure-Python image reference parser built for the benchmark: "what a careful Python port looks like".

Written for pullkey's bench from the grammar and steps in spec/reference.md §1-§3 (the behaviour of
distribution/reference v0.6: `Parse`, `ParseNormalizedNamed`, go-digest validation). It follows the
pitfalls listed in spec/reference.md §10: ASCII-only classes (`re.ASCII` and explicit classes),
`fullmatch` instead of `$`, `[0-9A-Fa-f]` for `[[:xdigit:]]`, and the `[-]+` separator (no
catastrophic backtracking).

It is a peer, not part of pullkey: errors are reported with a ``code`` in the same vocabulary as
spec/reference.md §4 so the bench can compare outcomes.
"""

from __future__ import annotations

import re

# --- spec/reference.md §1: the grammar as regular expressions (own composition) --------------------
_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"  # spec §1 notes: `[-]+`, not the old ambiguous `[-]*`
_COMPONENT = _ALNUM + r"(?:" + _SEP + _ALNUM + r")*"
_PATH = _COMPONENT + r"(?:/" + _COMPONENT + r")*"
_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_HOST = r"(?:" + _LABEL + r"(?:\." + _LABEL + r")*|\[[A-Fa-f0-9:]+\])"
_DOMAIN = _HOST + r"(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"

# One pattern, three groups (name, tag, digest); always used with fullmatch (Go anchors at end of text).
REFERENCE_RE = re.compile(
    r"((?:" + _DOMAIN + r"/)?" + _PATH + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?", re.ASCII
)
# Splits a matched name into (domain or None, path).
NAME_RE = re.compile(r"(?:(" + _DOMAIN + r")/)?(" + _PATH + r")", re.ASCII)
IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}", re.ASCII)
# go-digest's own pattern, used when the algorithm is not one it knows (spec §5).
GO_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_LOWER_HEX_RE = re.compile(r"[a-f0-9]+", re.ASCII)

NAME_MAX = 255  # spec §2 step 4: path only (v0.6.0+)
# spec §5: what a real (TLS-linking) binary reports as available, and the hex length of each.
DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"


class ReferenceError(ValueError):
    """Invalid reference; ``code`` names the error class of spec/reference.md §4."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text!r}")
        self.code = code


class Ref:
    """A parsed reference: domain ("" when none), path, tag and digest (None when absent)."""

    __slots__ = ("digest", "domain", "path", "tag")

    def __init__(self, domain: str, path: str, tag: str | None, digest: str | None) -> None:
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest

    @property
    def name(self) -> str:
        return self.domain + "/" + self.path if self.domain else self.path

    def __str__(self) -> str:
        s = self.name
        if self.tag is not None:
            s += ":" + self.tag
        if self.digest is not None:
            s += "@" + self.digest
        return s

    @property
    def familiar(self) -> str:
        """spec §3 "Familiar form": only for docker.io; `library/` dropped when nothing else follows."""
        if self.domain != DEFAULT_DOMAIN:
            return str(self)
        path = self.path
        if path.startswith(OFFICIAL_PREFIX) and "/" not in path[len(OFFICIAL_PREFIX) :]:
            path = path[len(OFFICIAL_PREFIX) :]
        s = path
        if self.tag is not None:
            s += ":" + self.tag
        if self.digest is not None:
            s += "@" + self.digest
        return s


def validate_digest(d: str) -> None:
    """go-digest `Validate` outcome classes (spec §5); raises ReferenceError."""
    alg, sep, enc = d.partition(":")
    if not sep or not alg or not enc:
        raise ReferenceError("digest_invalid_format", d)
    want = DIGEST_HEX_LEN.get(alg)
    if want is None:
        raise ReferenceError("digest_unsupported" if GO_DIGEST_RE.fullmatch(d) else "digest_invalid_format", d)
    if len(enc) != want:
        raise ReferenceError("digest_invalid_length", d)
    if not _LOWER_HEX_RE.fullmatch(enc):
        raise ReferenceError("digest_invalid_format", d)


def parse(s: str) -> Ref:
    """`Parse` (spec §2)."""
    if not s:
        raise ReferenceError("name_empty", s)
    m = REFERENCE_RE.fullmatch(s)
    if m is None:
        lowered = s.lower()
        if lowered != s and REFERENCE_RE.fullmatch(lowered):
            raise ReferenceError("name_contains_uppercase", s)
        raise ReferenceError("invalid_format", s)
    name, tag, digest = m.group(1, 2, 3)
    nm = NAME_RE.fullmatch(name)
    # The name group was produced by the same sub-pattern, so this always matches.
    domain, path = (nm.group(1) or "", nm.group(2)) if nm else ("", name)
    if len(path) > NAME_MAX:
        raise ReferenceError("name_too_long", s)
    if digest is not None:
        validate_digest(digest)
    return Ref(domain, path, tag, digest)


def split_docker_domain(s: str) -> tuple[str, str]:
    """`splitDockerDomain` (spec §3 step 2)."""
    first, slash, rest = s.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, OFFICIAL_PREFIX + s
    if first == "localhost":
        domain, remainder = first, rest
    elif first == LEGACY_DEFAULT_DOMAIN:
        domain, remainder = DEFAULT_DOMAIN, rest
    elif "." in first or ":" in first or first.lower() != first:
        domain, remainder = first, rest
    else:
        return DEFAULT_DOMAIN, s  # `user/repo`: whole input is the path, already has a `/`
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse_normalized_named(s: str) -> Ref:
    """`ParseNormalizedNamed` (spec §3)."""
    if IDENTIFIER_RE.fullmatch(s):
        raise ReferenceError("normalized_name_is_identifier", s)
    domain, remainder = split_docker_domain(s)
    repo = remainder.partition(":")[0]
    if repo.lower() != repo:
        raise ReferenceError("normalized_name_not_lowercase", s)
    return parse(domain + "/" + remainder)


def repository(s: str) -> str:
    """The kubelet's lookup string (spec/kubelet.md §a): normalised name without tag and digest."""
    return parse_normalized_named(s).name
