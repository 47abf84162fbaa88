"""A small, independent model of the image reference grammar, with Python regular expressions.

Written from ``docs/reference.md`` §1-§5 (the behaviour of distribution/reference v0.6: ``Parse``,
``ParseNormalizedNamed``, go-digest validation). Slow and simple on purpose, and shared:

- the tests' ORACLE: the property tests compare the Rust parser against :func:`parse_or_code` and
  :func:`parse_normalized_or_code` (a :class:`Ref`, or the error code of ``docs/reference.md`` §4);
- the benchmark's "careful pure-Python port" (``bench/peers/regex_reference.py``):
  :func:`parse_normalized_named` raises :class:`ReferenceError` like a library would.

It follows the pitfalls listed in ``docs/reference.md`` §10: ASCII-only classes (``re.ASCII`` and
explicit classes), ``fullmatch`` instead of ``$``, ``[0-9A-Fa-f]`` for ``[[:xdigit:]]``, and the
``-+`` separator (no catastrophic backtracking). It never imports ``pullkey``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_DOMAIN",
    "DIGEST_HEX_LEN",
    "NAME_MAX",
    "Ref",
    "ReferenceError",
    "parse",
    "parse_normalized_named",
    "parse_normalized_or_code",
    "parse_or_code",
    "repository",
    "split_docker_domain",
    "validate_digest",
]

# --- docs/reference.md §1: the grammar as regular expressions ---------------------------------------
ALNUM = r"[a-z0-9]+"
SEPARATOR = r"(?:[._]|__|-+)"  # `-+`, not the old ambiguous `-*`
COMPONENT = rf"{ALNUM}(?:{SEPARATOR}{ALNUM})*"
PATH = rf"{COMPONENT}(?:/{COMPONENT})*"
LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
HOST = rf"(?:{LABEL}(?:\.{LABEL})*|\[[A-Fa-f0-9:]+\])"
DOMAIN = rf"{HOST}(?::[0-9]+)?"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
# Groups: name, domain, path, tag, digest; always used with fullmatch (Go anchors at the end of the
# text). Python's alternation is leftmost-first like Go's RE2 submatch semantics for this grammar:
# the optional domain group is tried first.
REFERENCE = re.compile(rf"((?:({DOMAIN})/)?({PATH}))(?::({TAG}))?(?:@({DIGEST}))?", re.ASCII)
IDENTIFIER = re.compile(r"[a-f0-9]{64}", re.ASCII)
# go-digest's own pattern, used when the algorithm is not one it knows (§5).
GO_DIGEST_ANY = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_LOWER_HEX = re.compile(r"[a-f0-9]+", re.ASCII)

NAME_MAX = 255  # §2 step 4: the path only (v0.6.0+)
# §5: what a real (TLS-linking) binary reports as available, and the hex length of each.
DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"


class ReferenceError(ValueError):
    """Invalid reference; ``code`` names the error class of docs/reference.md §4."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text!r}")
        self.code = code


@dataclass(slots=True)
class Ref:
    """A parsed reference: domain ("" when none), path, tag and digest (None when absent)."""

    domain: str
    path: str
    tag: str | None
    digest: str | None

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
        """§3 "Familiar form": only for docker.io; `library/` dropped when nothing else follows."""
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
    """go-digest ``Validate`` outcome classes (§5); raises ReferenceError."""
    alg, sep, enc = d.partition(":")
    if not sep or not alg or not enc:
        raise ReferenceError("digest_invalid_format", d)
    want = DIGEST_HEX_LEN.get(alg)
    if want is None:
        raise ReferenceError("digest_unsupported" if GO_DIGEST_ANY.fullmatch(d) else "digest_invalid_format", d)
    if len(enc) != want:
        raise ReferenceError("digest_invalid_length", d)
    if not _LOWER_HEX.fullmatch(enc):
        raise ReferenceError("digest_invalid_format", d)


def parse(s: str) -> Ref:
    """Go ``Parse`` (§2); raises ReferenceError."""
    if not s:
        raise ReferenceError("name_empty", s)
    m = REFERENCE.fullmatch(s)
    if m is None:
        # Go's strings.ToLower maps U+0130 to "i" (Python makes two characters of it) and the
        # Kelvin sign to "k" as Python does.
        lowered = s.replace("\u0130", "i").lower()
        if lowered != s and REFERENCE.fullmatch(lowered):
            raise ReferenceError("name_contains_uppercase", s)
        raise ReferenceError("invalid_format", s)
    _, domain, path, tag, digest = m.groups()
    if len(path) > NAME_MAX:
        raise ReferenceError("name_too_long", s)
    if digest is not None:
        validate_digest(digest)
    return Ref(domain or "", path, tag, digest)


def split_docker_domain(s: str) -> tuple[str, str]:
    """Go ``splitDockerDomain`` (§3 step 2)."""
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
        return DEFAULT_DOMAIN, s  # `user/repo`: the whole input is the path, it already has a `/`
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse_normalized_named(s: str) -> Ref:
    """Go ``ParseNormalizedNamed`` (§3); raises ReferenceError."""
    if IDENTIFIER.fullmatch(s):
        raise ReferenceError("normalized_name_is_identifier", s)
    domain, remainder = split_docker_domain(s)
    repo = remainder.partition(":")[0]
    if repo.lower() != repo:
        raise ReferenceError("normalized_name_not_lowercase", s)
    return parse(domain + "/" + remainder)


def repository(s: str) -> str:
    """The kubelet's lookup string (docs/kubelet.md §a): the normalised name without tag and digest."""
    return parse_normalized_named(s).name


def parse_or_code(s: str) -> Ref | str:
    """:func:`parse` as the tests compare it: a Ref, or the error code."""
    try:
        return parse(s)
    except ReferenceError as exc:
        return exc.code


def parse_normalized_or_code(s: str) -> Ref | str:
    """:func:`parse_normalized_named` as the tests compare it: a Ref, or the error code."""
    try:
        return parse_normalized_named(s)
    except ReferenceError as exc:
        return exc.code
