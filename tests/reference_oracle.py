"""A small, independent oracle of the image reference grammar, written from spec/reference.md
§1-§5 with Python regular expressions (ASCII classes, full-string match). Slow and simple on
purpose: the property tests compare the Rust parser against it."""

from __future__ import annotations

import re
from dataclasses import dataclass

ALNUM = r"[a-z0-9]+"
SEPARATOR = r"(?:[._]|__|-+)"
COMPONENT = rf"{ALNUM}(?:{SEPARATOR}{ALNUM})*"
PATH = rf"{COMPONENT}(?:/{COMPONENT})*"
LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
HOST = rf"(?:{LABEL}(?:\.{LABEL})*|\[[A-Fa-f0-9:]+\])"
DOMAIN = rf"{HOST}(?::[0-9]+)?"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
# Python's regex alternation is leftmost-first like Go's RE2 submatch semantics for this grammar:
# the optional domain group is tried first.
REFERENCE = re.compile(rf"((?:({DOMAIN})/)?({PATH}))(?::({TAG}))?(?:@({DIGEST}))?", re.ASCII)
GO_DIGEST_ANY = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
HEX_SIZES = {"sha256": 64, "sha384": 96, "sha512": 128}
IDENTIFIER = re.compile(r"[a-f0-9]{64}", re.ASCII)


@dataclass(frozen=True)
class Ref:
    domain: str
    path: str
    tag: str | None
    digest: str | None


def _digest_error(d: str) -> str | None:
    alg, _, enc = d.partition(":")
    size = HEX_SIZES.get(alg)
    if size is None:
        return "digest_unsupported" if GO_DIGEST_ANY.fullmatch(d) else "digest_invalid_format"
    if len(enc) != size:
        return "digest_invalid_length"
    if not re.fullmatch(r"[a-f0-9]+", enc):
        return "digest_invalid_format"
    return None


def parse(s: str) -> Ref | str:
    """Go `Parse`: a Ref, or the error code."""
    if s == "":
        return "name_empty"
    m = REFERENCE.fullmatch(s)
    if m is None:
        # Go's strings.ToLower maps U+0130 to "i" (Python makes two characters of it) and the
        # Kelvin sign to "k" as Python does.
        low = s.replace("\u0130", "i").lower()
        if low != s and REFERENCE.fullmatch(low):
            return "name_contains_uppercase"
        return "invalid_format"
    _, domain, path, tag, digest = m.groups()
    if len(path) > 255:
        return "name_too_long"
    if digest is not None:
        err = _digest_error(digest)
        if err:
            return err
    return Ref(domain or "", path, tag, digest)


def parse_normalized(s: str) -> Ref | str:
    """Go `ParseNormalizedNamed`."""
    if IDENTIFIER.fullmatch(s):
        return "normalized_name_is_identifier"
    slash = s.find("/")
    if slash < 0:
        domain, rest = "docker.io", s
    else:
        first = s[:slash]
        if first == "localhost" or "." in first or ":" in first or first != first.lower():
            domain, rest = first, s[slash + 1 :]
        else:
            domain, rest = "docker.io", s
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in rest:
        rest = "library/" + rest
    before_colon = rest.split(":", 1)[0]
    if before_colon != before_colon.lower():
        return "normalized_name_not_lowercase"
    return parse(domain + "/" + rest)
