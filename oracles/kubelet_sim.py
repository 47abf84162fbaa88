"""An independent, deliberately simple model of the kubelet's image-credential behaviour.

This module is the ORACLE that pullkey's tests compare against, and the benchmark's kubelet peer
(``bench/peers/kubelet_scan.py`` times its linear keyring scan). It is written from
``docs/kubelet.md`` (the "spec §" section numbers below refer to it) and from facts about the Go
standard library that the kubelet relies on (net/url.Parse, path/filepath.Match, encoding/json,
encoding/base64, time.ParseDuration). It never imports ``pullkey`` and uses only the standard
library. Simplicity beats speed: keyrings are scanned linearly, as the kubelet scans them.

Strings that the Go code treats as raw bytes (percent-decoded hosts and paths) are represented as
``str`` decoded with ``surrogateescape`` so that every byte survives; byte-wise ("Go string order")
comparisons go through :func:`_to_bytes`.

Nothing here prints or embeds a password: errors name the field or key, never the value.
"""

from __future__ import annotations

import base64
import codecs
import ipaddress
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "API_GROUP",
    "API_VERSIONS",
    "CACHE_KEY_TYPES",
    "DEFAULT_REGISTRY_HOST",
    "GLOBAL_CACHE_KEY",
    "BadPattern",
    "BasicDockerKeyring",
    "DecodeError",
    "DockerConfigError",
    "DockerKeyring",
    "ExecPluginKeyring",
    "GoURL",
    "KubeletPluginCache",
    "PluginProvider",
    "Pod",
    "ProviderConfig",
    "Response",
    "RunFn",
    "ServiceAccount",
    "ServiceAccountPluginProvider",
    "SplitURL",
    "TokenAttributes",
    "UnionDockerKeyring",
    "build_request",
    "build_sa_request",
    "decode_docker_config",
    "decode_docker_config_auth",
    "filepath_match",
    "go_base64_decode",
    "go_url_parse",
    "go_url_parse_full",
    "is_default_registry_match",
    "kubelet_credentials",
    "make_docker_keyring",
    "node_keyring_first_wins",
    "normalize_key",
    "parse_go_duration",
    "parse_schemeless",
    "plugin_credentials_for_pod",
    "read_docker_config_file",
    "service_account_cache_key",
    "singleflight_key",
    "split_host_port",
    "split_url",
    "split_urls_match",
    "strict_decode_response",
    "token_hash",
    "urls_match",
    "urls_match_str",
]

Creds = tuple[str, str]
"""One credential as the CRI receives it: (username, password)."""

# ---------------------------------------------------------------------------------------------
# Byte helpers
# ---------------------------------------------------------------------------------------------


def _to_bytes(s: str) -> bytes:
    """The Go byte string behind ``s`` (bytes that are not UTF-8 travel as surrogate escapes)."""
    return s.encode("utf-8", "surrogateescape")


def _from_bytes(b: bytes) -> str:
    """Inverse of :func:`_to_bytes`."""
    return b.decode("utf-8", "surrogateescape")


def _go_replace_each_byte(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: one U+FFFD per invalid byte, as Go's UTF-8 decoding does."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\ufffd", exc.start + 1


codecs.register_error("kubelet_sim_go_replace", _go_replace_each_byte)


def _go_utf8(data: bytes) -> str:
    """Decode bytes the way Go's encoding/json reads string contents (invalid bytes → U+FFFD each)."""
    return data.decode("utf-8", "kubelet_sim_go_replace")


# ---------------------------------------------------------------------------------------------
# §c.1 / §c.2: the subset of Go net/url.Parse that the kubelet exercises
# ---------------------------------------------------------------------------------------------

_HOST = "host"
_ZONE = "zone"
_PATH = "path"
_FRAGMENT = "fragment"
_USERINFO = "userinfo"

_HEX = b"0123456789abcdefABCDEF"
# Go shouldEscape(c, encodeHost): ASCII bytes a host may contain unescaped.
_HOST_OK = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"")
# Go stringContainsCTLByte: bytes below 0x20 and 0x7F.
_CONTROL_BYTES = bytes([*range(0x20), 0x7F])
# The bytes _unescape's host mode lets through unescaped: _HOST_OK and every non-ASCII byte.
_HOST_OK_OR_HIGH = bytes(sorted(_HOST_OK)) + bytes(range(0x80, 0x100))
# Go validUserinfo: the characters allowed before '@'.
_USERINFO_OK = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@")


@dataclass(frozen=True)
class GoURL:
    """The fields of a Go ``*url.URL`` the kubelet can observe (bytes kept via surrogateescape)."""

    scheme: str
    opaque: str
    userinfo: str | None
    host: str
    path: str
    raw_query: str
    fragment: str


def _unhex(c: int) -> int:
    return int(chr(c), 16)


def _unescape(s: bytes, mode: str) -> bytes:
    """Go url.unescape for the modes used by Parse: validate, then percent-decode.

    Bad ``%`` escapes are errors in every mode; in host mode ``%XX`` below ``%80`` (other than
    ``%25``) and ASCII bytes that Go would escape (space, ``{}|\\^``, backtick, ...) are errors.
    """
    if b"%" not in s:
        # Nothing to decode: only the host-mode character check applies (the loop below would
        # copy every byte). Same answers, without a Python-level loop per byte: the benchmark's
        # kubelet scan (bench/peers/kubelet_scan.py) runs this twice per key and lookup.
        bad = s.translate(None, _HOST_OK_OR_HIGH) if mode in (_HOST, _ZONE) else b""
        if bad:
            raise ValueError(f"invalid character {chr(bad[0])!r} in host name")
        return s
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # '%'
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise ValueError(f"invalid URL escape {_from_bytes(s[i : i + 3])!r}")
            if mode == _HOST and _unhex(s[i + 1]) < 8 and s[i : i + 3] != b"%25":
                raise ValueError(f"invalid URL escape {_from_bytes(s[i : i + 3])!r}")
            if mode == _ZONE:
                v = _unhex(s[i + 1]) << 4 | _unhex(s[i + 2])
                if s[i : i + 3] != b"%25" and v != 0x20 and v not in _HOST_OK:
                    raise ValueError(f"invalid URL escape {_from_bytes(s[i : i + 3])!r}")
            i += 3
        else:
            if mode in (_HOST, _ZONE) and c < 0x80 and c not in _HOST_OK:
                raise ValueError(f"invalid character {chr(c)!r} in host name")
            i += 1
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == 0x25:
            out.append(_unhex(s[i + 1]) << 4 | _unhex(s[i + 2]))
            i += 3
        else:
            out.append(s[i])
            i += 1
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    """Go validOptionalPort: empty, or ':' followed by ASCII digits only (':' alone is valid)."""
    if not port:
        return True
    return port[:1] == b":" and all(0x30 <= b <= 0x39 for b in port[1:])


def _is_ipv6_literal(name: bytes) -> bool:
    """Go ``netip.ParseAddr(name)`` succeeds and is not IPv4 (an optional non-empty ``%zone`` allowed)."""
    try:
        text = name.decode("ascii")
    except UnicodeDecodeError:
        return False
    addr, percent, zone = text.partition("%")
    if percent and not zone:
        return False
    try:
        ipaddress.IPv6Address(addr)
    except ValueError:
        return False
    return True


def _parse_host(host: bytes) -> bytes:
    """Go url.parseHost as patched for CVE-2025-47912 (Go 1.24.8 / 1.25.2 and later).

    A ``[`` anywhere but first is an error; a leading ``[...]`` must hold a valid IPv6 address
    (optionally with a ``%25``-escaped zone) followed by an optional ``:port``. Otherwise the
    text after the LAST ``:`` must be digits (an empty port is fine): the stricter first-colon rule
    of Go 1.26 is a GODEBUG default the kubelet's module version does not opt into.
    """
    open_idx = host.rfind(b"[")
    if open_idx > 0:
        raise ValueError("invalid IP-literal")
    if open_idx == 0:
        close_idx = host.rfind(b"]")
        if close_idx < 0:
            raise ValueError("missing ']' in host")
        colon_port = host[close_idx + 1 :]
        if not _valid_optional_port(colon_port):
            raise ValueError("invalid port after host")
        hostname = host[1:close_idx]
        zone = hostname.find(b"%25")
        if zone >= 0:
            name = _unescape(hostname[:zone], _HOST) + _unescape(hostname[zone:], _ZONE)
        else:
            name = _unescape(hostname, _HOST)
        if not _is_ipv6_literal(name):
            raise ValueError("invalid IP-literal")
        return b"[" + name + b"]" + _unescape(colon_port, _HOST)
    i = host.rfind(b":")
    if i != -1 and not _valid_optional_port(host[i:]):
        raise ValueError("invalid port after host")
    return _unescape(host, _HOST)


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    """Go url.getScheme."""
    for i, c in enumerate(raw):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            continue
        if 0x30 <= c <= 0x39 or c in b"+-.":
            if i == 0:
                return b"", raw
            continue
        if c == 0x3A:  # ':'
            if i == 0:
                raise ValueError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return b"", raw
    return b"", raw


def go_url_parse_full(raw: str) -> GoURL:
    """Go ``url.Parse(raw)`` (not via request); raises ValueError where Go returns an error.

    Effects the kubelet relies on (spec §c.1): ``#`` starts the fragment (bad escapes in it are
    errors), ``?`` starts the query (kept raw, never validated), ``user:pass@`` is split off,
    the path is percent-decoded, the host is not lower-cased, control bytes before ``#`` are
    errors, hosts with invalid characters or a non-numeric port are errors.
    """
    b = _to_bytes(raw)
    u, has_frag, frag = b.partition(b"#")
    if u.translate(None, _CONTROL_BYTES) != u:
        raise ValueError("invalid control character in URL")
    fragment = _unescape(frag, _FRAGMENT) if has_frag else b""
    if u == b"*":
        return GoURL("", "", None, "", "*", "", _from_bytes(fragment))
    scheme, rest = _get_scheme(u)
    scheme = scheme.lower()
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        rest, query = rest[:-1], b""
    else:
        rest, _, query = rest.partition(b"?")
    if not rest.startswith(b"/"):
        if scheme:
            return GoURL(
                _from_bytes(scheme), _from_bytes(rest), None, "", "", _from_bytes(query), _from_bytes(fragment)
            )
        if b":" in rest.partition(b"/")[0]:
            raise ValueError("first path segment in URL cannot contain colon")
    userinfo: bytes | None = None
    host = b""
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, rest = rest[2:], b""
        slash = authority.find(b"/")
        if slash >= 0:
            authority, rest = authority[:slash], authority[slash:]
        at = authority.rfind(b"@")
        host = _parse_host(authority[at + 1 :] if at >= 0 else authority)
        if at >= 0:
            info = authority[:at]
            if any(c not in _USERINFO_OK for c in info):
                raise ValueError("invalid userinfo")
            name, colon, password = info.partition(b":")
            userinfo = _unescape(name, _USERINFO) + colon + _unescape(password, _USERINFO)
    path = _unescape(rest, _PATH)
    return GoURL(
        scheme=_from_bytes(scheme),
        opaque="",
        userinfo=None if userinfo is None else _from_bytes(userinfo),
        host=_from_bytes(host),
        path=_from_bytes(path),
        raw_query=_from_bytes(query),
        fragment=_from_bytes(fragment),
    )


def go_url_parse(raw: str) -> tuple[str, str]:
    """Go ``url.Parse(raw)`` reduced to ``(host, path)``; raises ValueError on a Go parse error."""
    u = go_url_parse_full(raw)
    return u.host, u.path


def parse_schemeless(s: str) -> tuple[str, str]:
    """kubelet ParseSchemelessURL: ``url.Parse("https://" + s)`` → (host, path) (spec §c.2)."""
    return go_url_parse("https://" + s)


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go ``net.SplitHostPort``; None where Go returns an error (no port, stray brackets, ...)."""
    i = hostport.rfind(":")
    if i < 0:
        return None
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != i:
            return None
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            return None
    if "[" in hostport[j:] or "]" in hostport[k:]:
        return None
    return host, hostport[i + 1 :]


# ---------------------------------------------------------------------------------------------
# §c.2: Go path/filepath.Match (Unix) and URLsMatchStr
# ---------------------------------------------------------------------------------------------


def _decode_rune(b: bytes) -> tuple[int, int]:
    """Go utf8.DecodeRune: (rune, width); invalid or truncated input → (U+FFFD, 1)."""
    c = b[0]
    if c < 0x80:
        return c, 1
    width = 2 if 0xC2 <= c <= 0xDF else 3 if 0xE0 <= c <= 0xEF else 4 if 0xF0 <= c <= 0xF4 else 0
    if width == 0 or width > len(b):
        return 0xFFFD, 1
    try:
        return ord(b[:width].decode("utf-8")), width
    except UnicodeDecodeError:
        return 0xFFFD, 1


class BadPattern(ValueError):
    """Go ``path/filepath.ErrBadPattern``: the glob is malformed (the kubelet then reports no match)."""


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    """Split off leading stars and the following chunk (up to the next '*' outside a class)."""
    star = False
    while pattern[:1] == b"*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == 0x5C:  # '\\' skips the escaped byte
            if i + 1 < len(pattern):
                i += 1
        elif c == 0x5B:
            in_range = True
        elif c == 0x5D:
            in_range = False
        elif c == 0x2A and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes) -> tuple[int, bytes]:
    """One (possibly escaped) character of a class; malformed → ValueError (ErrBadPattern)."""
    if not chunk or chunk[0] in b"-]":
        raise BadPattern("syntax error in pattern")
    if chunk[0] == 0x5C:
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern("syntax error in pattern")
    r, n = _decode_rune(chunk)
    if r == 0xFFFD and n == 1:
        raise BadPattern("syntax error in pattern")
    if not chunk[n:]:
        raise BadPattern("syntax error in pattern")
    return r, chunk[n:]


def _match_chunk(chunk: bytes, s: bytes) -> tuple[bytes, bool]:
    """Match one star-free chunk at the start of s → (rest, ok). Keeps scanning after a failure
    so that a malformed pattern is always reported."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == 0x5B:  # '[' character class
            r = 0
            if not failed:
                r, n = _decode_rune(s)
                s = s[n:]
            chunk = chunk[1:]
            negated = False
            if chunk[:1] == b"^":
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk[:1] == b"]" and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == 0x2D:  # '-'
                    hi, chunk = _get_esc(chunk[1:])
                if lo <= r <= hi:
                    matched = True
                nrange += 1
            if matched == negated:
                failed = True
        elif c == 0x3F:  # '?'
            if not failed:
                if s[0] == 0x2F:
                    failed = True
                _, n = _decode_rune(s)
                s = s[n:]
            chunk = chunk[1:]
        else:
            if c == 0x5C:  # '\\' escapes the next byte
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern("syntax error in pattern")
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return b"", False
    return s, True


def filepath_match(pattern: str, name: str) -> bool:
    """Go ``path/filepath.Match`` on Unix; a malformed pattern raises ValueError.

    ``*`` matches any run of non-``/`` bytes, ``?`` one non-``/`` character, ``[...]``/``[^...]``
    a class with ranges, ``\\`` escapes. Case-sensitive.
    """
    if not any(c in pattern for c in "*?[\\"):
        return pattern == name  # no wildcard, class or escape: the chunk match is a plain comparison
    pat, nm = _to_bytes(pattern), _to_bytes(name)
    while pat:
        star, chunk, pat = _scan_chunk(pat)
        if star and not chunk:
            return b"/" not in nm  # trailing '*' matches the rest unless it holds '/'
        rest, ok = _match_chunk(chunk, nm)
        if ok and (not rest or pat):
            nm = rest
            continue
        if star:
            found = False
            i = 0
            while i < len(nm) and nm[i] != 0x2F:
                rest, ok = _match_chunk(chunk, nm[i + 1 :])
                if ok and not (not pat and rest):
                    nm = rest
                    found = True
                    break
                i += 1
            if found:
                continue
        while pat:  # report a malformed remainder even though the answer is "no match"
            _, chunk, pat = _scan_chunk(pat)
            _match_chunk(chunk, b"")
        return False
    return not nm


def _split_url(host: str) -> tuple[list[str], str]:
    """kubelet SplitURL: host labels and port (port "" when SplitHostPort fails)."""
    hp = split_host_port(host)
    name, port = hp if hp is not None else (host, "")
    return name.split("."), port


SplitURL = tuple[list[str], str, bytes]
"""A parsed URL as URLsMatch compares it: host labels, port, path bytes."""


def split_url(url: tuple[str, str]) -> SplitURL:
    """kubelet SplitURL on a parsed ``(host, path)`` pair, with the path as bytes."""
    labels, port = _split_url(url[0])
    return labels, port, _to_bytes(url[1])


def urls_match(glob: tuple[str, str], target: tuple[str, str]) -> bool:
    """kubelet URLsMatch on parsed ``(host, path)`` pairs (spec §c.2); a malformed glob → False."""
    return split_urls_match(split_url(glob), split_url(target))


def split_urls_match(glob: SplitURL, target: SplitURL) -> bool:
    """:func:`urls_match` on :func:`split_url` forms (what a caller that parses once keeps)."""
    glob_labels, glob_port, glob_path = glob
    target_labels, target_port, target_path = target
    if glob_port != target_port:
        return False
    if len(glob_labels) != len(target_labels):
        return False
    if not target_path.startswith(glob_path):
        return False
    try:
        return all(filepath_match(g, t) for g, t in zip(glob_labels, target_labels, strict=True))
    except BadPattern:
        return False


def urls_match_str(pattern: str, target: str) -> bool:
    """kubelet URLsMatchStr (spec §c.2): both parsed on every call, then URLsMatch; a parse error → False."""
    try:
        glob = parse_schemeless(pattern)
        target_url = parse_schemeless(target)
    except ValueError:
        return False
    return urls_match(glob, target_url)


# ---------------------------------------------------------------------------------------------
# §c.1, §c.3, §c.4, §c.5: keyrings
# ---------------------------------------------------------------------------------------------

DEFAULT_REGISTRY_HOST = "index.docker.io"
"""The key whose credentials serve as the Docker Hub fallback (spec §c.3 step 3)."""


def normalize_key(raw: str) -> str | None:
    """The keyring key for a raw docker-config key, or None when the kubelet ignores it (§c.1)."""
    value = raw if raw.startswith(("https://", "http://")) else "https://" + raw
    try:
        host, path = go_url_parse(value)
    except ValueError:
        return None
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return host + path if path and path != "/" else host


def is_default_registry_match(image: str) -> bool:
    """kubelet isDefaultRegistryMatch (spec §c.4)."""
    first, slash, _ = image.partition("/")
    if not first:
        return False
    if not slash:
        return True
    if first in ("docker.io", "index.docker.io"):
        return True
    return "." not in first and ":" not in first


class DockerKeyring(Protocol):
    """Anything with the kubelet DockerKeyring ``Lookup(image) -> (creds, found)`` shape."""

    def lookup(self, image: str) -> tuple[list[Creds], bool]:
        """Credentials for a normalised repository, in the order the kubelet tries them."""
        ...


class BasicDockerKeyring:
    """kubelet BasicDockerKeyring: key → appended creds, index sorted descending (spec §c.1, §c.3)."""

    def __init__(self) -> None:
        self._creds: dict[str, list[tuple[str, str, str]]] = {}
        self._index: list[str] = []

    def add(self, config: Mapping[str, Creds], source: str = "") -> None:
        """Add every (raw key → (username, password)) in iteration order; invalid keys are skipped."""
        for raw, (username, password) in config.items():
            key = normalize_key(raw)
            if key is None:
                continue
            self._creds.setdefault(key, []).append((username, password, source))
        self._index = sorted(self._creds, key=_to_bytes, reverse=True)

    @property
    def index(self) -> list[str]:
        """The keys in lookup order (descending Go string order)."""
        return list(self._index)

    @property
    def entries(self) -> Mapping[str, list[tuple[str, str, str]]]:
        """Key → its ``(username, password, source)`` credentials, in the order they were added."""
        return self._creds

    def __len__(self) -> int:
        return sum(len(v) for v in self._creds.values())

    def lookup_keyed(self, image: str) -> list[tuple[str, str, str, str]]:
        """Like :meth:`lookup`, each credential as ``(key, username, password, source)``."""
        found = [(key, *cred) for key in self._index if urls_match_str(key, image) for cred in self._creds[key]]
        if found:
            return found
        if is_default_registry_match(image) and DEFAULT_REGISTRY_HOST in self._creds:
            return [(DEFAULT_REGISTRY_HOST, *cred) for cred in self._creds[DEFAULT_REGISTRY_HOST]]
        return []

    def lookup_with_sources(self, image: str) -> list[tuple[str, str, str]]:
        """Like :meth:`lookup` but each credential carries the ``source`` it was added with."""
        return [(username, password, source) for _, username, password, source in self.lookup_keyed(image)]

    def lookup(self, image: str) -> tuple[list[Creds], bool]:
        """kubelet Lookup: all creds of every matching key, else the Docker Hub fallback (§c.3)."""
        found = [(u, p) for u, p, _ in self.lookup_with_sources(image)]
        return found, bool(found)


class UnionDockerKeyring:
    """kubelet UnionDockerKeyring: members' results concatenated in order (spec §c.5)."""

    def __init__(self, members: Sequence[DockerKeyring | None]) -> None:
        self.members = list(members)

    def lookup(self, image: str) -> tuple[list[Creds], bool]:
        """Concatenate every non-None member's list; members' booleans are ignored."""
        out: list[Creds] = []
        for member in self.members:
            if member is not None:
                out.extend(member.lookup(image)[0])
        return out, bool(out)


# ---------------------------------------------------------------------------------------------
# §b.1: docker config parsing (Go encoding/json semantics)
# ---------------------------------------------------------------------------------------------


class DockerConfigError(ValueError):
    """A docker config (file or pull secret) that the kubelet fails to parse as a whole."""


class _JsonObject(list[tuple[str, object]]):
    """A JSON object as its ordered member list (duplicate names kept)."""


class _JsonNumber(str):
    """A JSON number kept as its text (Go only converts numbers that land in a typed field)."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON literal {name}")


def _parse_json(data: bytes) -> object:
    """Parse exactly one JSON value (surrounding JSON whitespace only) without losing duplicates."""
    try:
        return json.loads(
            _go_utf8(data),
            object_pairs_hook=_JsonObject,
            parse_int=_JsonNumber,
            parse_float=_JsonNumber,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise ValueError("not a single valid JSON value") from exc


def _go_str(value: str) -> str:
    """Go decodes an unpaired UTF-16 surrogate escape as U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)


def _is_str(value: object) -> bool:
    return type(value) is str


_GO_FOLD = {"\u017f": "S", "\u212a": "K"}


def _go_fold(name: str) -> str:
    """Go encoding/json field-name folding (ASCII case plus the long s and Kelvin sign)."""
    return "".join(_GO_FOLD.get(ch, ch.upper() if ch.isascii() else ch) for ch in name)


_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_GO_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def go_base64_decode(text: str, padded: bool) -> bytes:
    """Go ``base64.StdEncoding`` (padded) / ``RawStdEncoding`` (unpadded) DecodeString.

    ``\\r`` and ``\\n`` are skipped anywhere; any other byte outside the standard alphabet is an
    error; padded input must be whole quanta with correct ``=`` padding; unpadded input must not
    contain ``=`` and must not leave a single dangling character. Non-zero trailing bits are
    accepted (the encodings are not in strict mode). Raises ValueError.
    """
    data = _to_bytes(text).replace(b"\r", b"").replace(b"\n", b"")
    body = data
    if padded:
        if len(data) % 4:
            raise ValueError("illegal base64 data (length)")
        if data.endswith(b"=="):
            body = data[:-2]
        elif data.endswith(b"="):
            body = data[:-1]
    if any(c not in _B64_ALPHABET for c in body) or len(body) % 4 == 1:
        raise ValueError("illegal base64 data")
    bits = 0
    nbits = 0
    out = bytearray()
    for c in body:
        bits = (bits << 6) | _B64_ALPHABET_INDEX[c]
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)
            bits &= (1 << nbits) - 1
    return bytes(out)


_B64_ALPHABET_INDEX = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def decode_docker_config_auth(auth: str) -> Creds:
    """kubelet decodeDockerConfigFieldAuth (spec §b.1); raises ValueError (never showing the value)."""
    padded = auth.strip(_GO_SPACE).endswith("=")
    decoded = _from_bytes(go_base64_decode(auth, padded))
    username, colon, password = decoded.partition(":")
    if not colon:
        raise ValueError("unable to parse auth field, must be formatted as base64(username:password)")
    return username, password


def _json_string_field(value: object, what: str) -> str | None:
    """A Go string field: JSON string → value, null → None (leave unchanged), anything else → error."""
    if value is None:
        return None
    if not _is_str(value):
        raise DockerConfigError(f"{what}: expected a JSON string")
    assert isinstance(value, str)
    return _go_str(value)


def _decode_entry(value: object, key: str) -> Creds:
    """One DockerConfigEntry: case-insensitive fields, last occurrence wins, ``auth`` overrides."""
    if value is None:
        return "", ""
    if not isinstance(value, _JsonObject):
        raise DockerConfigError(f"entry {key!r}: expected a JSON object")
    fields = {"USERNAME": "", "PASSWORD": "", "EMAIL": "", "AUTH": ""}
    for name, member in value:
        folded = _go_fold(name)
        if folded in fields:
            text = _json_string_field(member, f"entry {key!r} field {folded.lower()}")
            if text is not None:
                fields[folded] = text
    if not fields["AUTH"]:
        return fields["USERNAME"], fields["PASSWORD"]
    try:
        return decode_docker_config_auth(fields["AUTH"])
    except ValueError as exc:
        raise DockerConfigError(f"entry {key!r}: invalid auth field") from exc


def _decode_entries(value: _JsonObject, into: dict[str, Creds]) -> None:
    for key, member in value:
        into[_go_str(key)] = _decode_entry(member, _go_str(key))


def decode_docker_config(data: bytes, legacy: bool) -> dict[str, Creds]:
    """Parse a ``config.json`` (legacy=False: only ``auths``) or ``.dockercfg`` (legacy=True) document.

    Returns raw key → (username, password) in document order (a repeated key keeps its first
    position and its last value, like a Go map). Go encoding/json rules apply: field names are
    case-insensitive, unknown fields are ignored, JSON null leaves a field empty, wrong JSON types
    are errors; repeated ``auths`` objects are merged (Go reuses the map) and a later
    ``"auths": null`` clears it. Raises DockerConfigError for the whole document (spec §b.1).
    """
    try:
        doc = _parse_json(data)
    except ValueError as exc:
        raise DockerConfigError("error occurred while trying to unmarshal json") from exc
    if doc is None:
        return {}
    if not isinstance(doc, _JsonObject):
        raise DockerConfigError("error occurred while trying to unmarshal json: not an object")
    out: dict[str, Creds] = {}
    if legacy:
        _decode_entries(doc, out)
        return out
    for name, member in doc:
        folded = _go_fold(name)
        if folded == "AUTHS":
            if member is None:
                out = {}
            elif isinstance(member, _JsonObject):
                _decode_entries(member, out)
            else:
                raise DockerConfigError("auths: expected a JSON object")
        elif folded == "HTTPHEADERS" and member is not None:
            if not isinstance(member, _JsonObject):
                raise DockerConfigError("HttpHeaders: expected a JSON object")
            for header, header_value in member:
                _json_string_field(header_value, f"HttpHeaders {header!r}")
    return out


# ---------------------------------------------------------------------------------------------
# §b.2: node credentials — search paths, first parseable file wins
# ---------------------------------------------------------------------------------------------


def _abs(path: str, cwd: str) -> str:
    """Go filepath.Abs relative to the given process working directory."""
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path))


def _candidates(root_dir: str, cwd: str, home: str | None, fs_root: str) -> tuple[list[str], list[str]]:
    home_dir = "" if home is None else home
    json_dirs = [root_dir, "", os.path.join(home_dir, ".docker"), os.path.join(fs_root, ".docker")]
    cfg_dirs = [root_dir, "", home_dir, fs_root]
    return (
        [_abs(os.path.join(d, "config.json"), cwd) for d in json_dirs],
        [_abs(os.path.join(d, ".dockercfg"), cwd) for d in cfg_dirs],
    )


def read_docker_config_file(
    root_dir: str, cwd: str, home: str | None, fs_root: str = "/"
) -> tuple[str | None, dict[str, Creds]]:
    """kubelet ReadDockerConfigFile → (winning path or None, raw config).

    ``config.json`` candidates in order, then ``.dockercfg`` candidates; a missing, unreadable or
    unparseable candidate is skipped; the first success is returned alone, never merged (§b.2).
    ``home`` None means the home directory is unknown (relative ``.docker/config.json``);
    ``fs_root`` stands for ``/`` so tests can use a temporary tree.
    """
    json_paths, cfg_paths = _candidates(root_dir, cwd, home, fs_root)
    for paths, legacy in ((json_paths, False), (cfg_paths, True)):
        for path in paths:
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
                return path, decode_docker_config(data, legacy)
            except (OSError, DockerConfigError):
                continue
    return None, {}


def node_keyring_first_wins(root_dir: str, cwd: str, home: str | None, fs_root: str = "/") -> BasicDockerKeyring:
    """The node docker-config keyring (spec §b.2); nothing found → an empty keyring."""
    path, config = read_docker_config_file(root_dir, cwd, home, fs_root)
    keyring = BasicDockerKeyring()
    keyring.add(config, source=f"node:{path}" if path else "node")
    return keyring


# ---------------------------------------------------------------------------------------------
# §d: imagePullSecrets
# ---------------------------------------------------------------------------------------------


def _secret_bytes(secret: Mapping[str, object], key: str) -> bytes | None:
    data = secret.get("data")
    if not isinstance(data, Mapping) or key not in data:
        return None
    value = data[key]
    if value is None:
        return b""
    if not isinstance(value, str):
        raise ValueError(f"secret data {key!r} is not a base64 string")
    return base64.b64decode(value, validate=True)


def make_docker_keyring(
    secrets: Sequence[Mapping[str, object]], default_keyring: DockerKeyring | None
) -> DockerKeyring | None:
    """kubelet MakeDockerKeyring (spec §d).

    ``secrets`` are Secret objects as dicts (``type``, ``data`` with base64 values as in the API,
    optional ``metadata``). All accepted secrets share one BasicDockerKeyring; if at least one was
    accepted the result is Union{secretKeyring, default_keyring}, otherwise default_keyring itself.
    A secret whose JSON or auth fails to parse raises DockerConfigError (the pull fails).
    """
    keyring = BasicDockerKeyring()
    accepted = 0
    for secret in secrets:
        metadata = secret.get("metadata")
        name = metadata.get("name", "") if isinstance(metadata, Mapping) else ""
        kind = secret.get("type")
        for wanted_type, data_key, legacy in (
            ("kubernetes.io/dockerconfigjson", ".dockerconfigjson", False),
            ("kubernetes.io/dockercfg", ".dockercfg", True),
        ):
            payload = _secret_bytes(secret, data_key) if kind == wanted_type else None
            if payload:
                keyring.add(decode_docker_config(payload, legacy), source=f"secret:{name}")
                accepted += 1
    if accepted == 0:
        return default_keyring
    return UnionDockerKeyring([keyring, default_keyring])


# ---------------------------------------------------------------------------------------------
# §e: exec credential-provider plugins
# ---------------------------------------------------------------------------------------------

API_GROUP = "credentialprovider.kubelet.k8s.io"
API_VERSIONS = tuple(f"{API_GROUP}/{v}" for v in ("v1alpha1", "v1beta1", "v1"))
"""The plugin wire API versions (spec §e.4)."""
CACHE_KEY_TYPES = ("Image", "Registry", "Global")
"""Valid response ``cacheKeyType`` values (case-sensitive)."""
GLOBAL_CACHE_KEY = "<global>"
"""Cache base for ``cacheKeyType: Global`` (spec §e.2 step 7)."""

_NS = 1
_UNITS = {
    "ns": _NS,
    "us": 1000 * _NS,
    "\u00b5s": 1000 * _NS,
    "\u03bcs": 1000 * _NS,
    "ms": 1000_000 * _NS,
    "s": 1000_000_000 * _NS,
    "m": 60 * 1000_000_000 * _NS,
    "h": 3600 * 1000_000_000 * _NS,
}
_MAX = 1 << 63


def parse_go_duration(text: str) -> int:
    """Go ``time.ParseDuration`` → nanoseconds; raises ValueError (e.g. ``"1h30m"``, ``"-1.5s"``, ``"0"``)."""
    s = text
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {text!r}")
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise ValueError(f"time: invalid duration {text!r}")
        i = 0
        whole = 0
        while i < len(s) and "0" <= s[i] <= "9":
            if whole > _MAX // 10:
                raise ValueError(f"time: invalid duration {text!r}")
            whole = whole * 10 + int(s[i])
            if whole > _MAX:
                raise ValueError(f"time: invalid duration {text!r}")
            i += 1
        pre = i > 0
        s = s[i:]
        frac, scale, post = 0, 1.0, False
        if s[:1] == ".":
            s = s[1:]
            i = 0
            overflow = False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    if frac > (_MAX - 1) // 10:
                        overflow = True
                    else:
                        candidate = frac * 10 + int(s[i])
                        if candidate > _MAX:
                            overflow = True
                        else:
                            frac = candidate
                            scale *= 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            raise ValueError(f"time: invalid duration {text!r}")
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f"time: missing unit in duration {text!r}")
        unit_name, s = s[:i], s[i:]
        if unit_name not in _UNITS:
            raise ValueError(f"time: unknown unit {unit_name!r} in duration {text!r}")
        unit = _UNITS[unit_name]
        if whole > _MAX // unit:
            raise ValueError(f"time: invalid duration {text!r}")
        value = whole * unit
        if frac > 0:
            value += int(float(frac) * (float(unit) / scale))
            if value > _MAX:
                raise ValueError(f"time: invalid duration {text!r}")
        total += value
        if total > _MAX:
            raise ValueError(f"time: invalid duration {text!r}")
    if neg:
        return -total
    if total > _MAX - 1:
        raise ValueError(f"time: invalid duration {text!r}")
    return total


@dataclass(frozen=True)
class ProviderConfig:
    """One ``providers[]`` entry of a CredentialProviderConfig (spec §f.2), already valid.

    ``default_cache_duration`` is seconds (number) or a Go duration string.
    """

    name: str
    match_images: tuple[str, ...]
    default_cache_duration: float | str
    api_version: str = f"{API_GROUP}/v1"
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @property
    def default_cache_duration_ns(self) -> int:
        """The default cache duration in nanoseconds."""
        if isinstance(self.default_cache_duration, str):
            return parse_go_duration(self.default_cache_duration)
        return round(self.default_cache_duration * 1_000_000_000)


@dataclass(frozen=True)
class Response:
    """A strictly decoded CredentialProviderResponse (spec §e.4)."""

    api_version: str
    kind: str
    cache_key_type: str
    cache_duration_ns: int | None
    auth: dict[str, Creds] = field(default_factory=dict)


class DecodeError(Exception):
    """The kubelet rejects the plugin's stdout; ``reason`` names the rule (never a value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _go_json_text(value: str) -> str:
    """A JSON string literal as Go's encoding/json Encoder writes it (HTML-safe escapes)."""
    out = json.dumps(value, ensure_ascii=False)
    for ch in "<>&\u2028\u2029":
        out = out.replace(ch, f"\\u{ord(ch):04x}")
    return out


def build_request(image: str, api_version: str) -> bytes:
    """The plain-mode request written to the plugin's stdin (spec §e.4), newline-terminated."""
    return (
        '{"kind":"CredentialProviderRequest","apiVersion":'
        + _go_json_text(api_version)
        + ',"image":'
        + _go_json_text(image)
        + "}\n"
    ).encode()


def _strict_members(obj: _JsonObject, where: str, allowed: Iterable[str] | None) -> dict[str, object]:
    """Members of an object under strict decoding: duplicates and (if ``allowed``) unknown names fail."""
    out: dict[str, object] = {}
    allowed_set = None if allowed is None else set(allowed)
    for name, value in obj:
        if allowed_set is not None and name not in allowed_set:
            raise DecodeError(f"strict decoding error: unknown field {where}{name!r}")
        if name in out:
            raise DecodeError(f"strict decoding error: duplicate field {where}{name!r}")
        out[name] = value
    return out


def _strict_string(value: object, what: str) -> str:
    if value is None:
        return ""
    if not _is_str(value):
        raise DecodeError(f"{what}: expected a JSON string")
    assert isinstance(value, str)
    return _go_str(value)


def strict_decode_response(stdout: bytes, expected_api_version: str) -> Response:
    """Decode a plugin's stdout the way the kubelet does (spec §e.3, §e.4); raises DecodeError.

    Rules: one JSON object and nothing but whitespace around it; ``apiVersion`` exactly equal to
    the provider's configured version (one of the three known); ``kind`` exactly
    ``CredentialProviderResponse``; field names case-sensitive; unknown or duplicated fields at any
    depth rejected; ``cacheKeyType`` one of Image/Registry/Global; ``cacheDuration`` absent, null or
    a Go duration string; ``auth`` absent, null or an object of {username, password} string objects.
    """
    try:
        doc = _parse_json(stdout)
    except ValueError as exc:
        raise DecodeError("response is not a single JSON value") from exc
    if not isinstance(doc, _JsonObject):
        raise DecodeError("response is not a JSON object")
    # The GVK sniff uses plain encoding/json (case-insensitive, last wins).
    sniffed = ""
    for name, value in doc:
        if _go_fold(name) == "APIVERSION":
            if value is not None and not _is_str(value):
                raise DecodeError("apiVersion: expected a JSON string")
            sniffed = "" if value is None else str(value)
    if sniffed != expected_api_version:
        raise DecodeError("apiVersion does not match the provider's apiVersion")
    if expected_api_version not in API_VERSIONS:
        raise DecodeError("apiVersion is not a registered version")
    members = _strict_members(doc, "", ("kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"))
    if _strict_string(members.get("apiVersion"), "apiVersion") != expected_api_version:
        raise DecodeError("apiVersion does not match the provider's apiVersion")
    kind = _strict_string(members.get("kind"), "kind")
    if kind != "CredentialProviderResponse":
        raise DecodeError("kind is not CredentialProviderResponse")
    cache_key_type = _strict_string(members.get("cacheKeyType"), "cacheKeyType")
    if cache_key_type not in CACHE_KEY_TYPES:
        raise DecodeError("cacheKeyType is not Image, Registry or Global")
    duration: int | None = None
    raw_duration = members.get("cacheDuration")
    if raw_duration is not None:
        if not _is_str(raw_duration):
            raise DecodeError("cacheDuration: expected a duration string")
        try:
            duration = parse_go_duration(_go_str(str(raw_duration)))
        except ValueError as exc:
            raise DecodeError("cacheDuration: invalid duration") from exc
    auth: dict[str, Creds] = {}
    raw_auth = members.get("auth")
    if raw_auth is not None:
        if not isinstance(raw_auth, _JsonObject):
            raise DecodeError("auth: expected a JSON object")
        for key, entry in _strict_members(raw_auth, "auth.", None).items():
            where = f"auth[{_go_str(key)!r}]."
            if entry is None:
                auth[_go_str(key)] = ("", "")
                continue
            if not isinstance(entry, _JsonObject):
                raise DecodeError(f"auth[{_go_str(key)!r}]: expected a JSON object")
            fields = _strict_members(entry, where, ("username", "password"))
            auth[_go_str(key)] = (
                _strict_string(fields.get("username"), where + "username"),
                _strict_string(fields.get("password"), where + "password"),
            )
    return Response(expected_api_version, kind, cache_key_type, duration, auth)


class KubeletPluginCache:
    """One provider's expiration cache (spec §e.5), plain mode (service-account key "").

    Entries are keyed by base (image, registry or ``<global>``); an entry is expired when
    ``now > expires_at`` and is dropped when read. ``clock`` returns nanoseconds.
    """

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.clock = clock
        self._entries: dict[str, tuple[dict[str, Creds], int]] = {}

    def _get(self, base: str) -> dict[str, Creds] | None:
        entry = self._entries.get(base)
        if entry is None:
            return None
        if self.clock() > entry[1]:
            del self._entries[base]
            return None
        return entry[0]

    def get(self, image: str) -> dict[str, Creds] | None:
        """The cached config for an image: image, then registry, then ``<global>``; first hit wins."""
        for base in (image, image.split("/")[0], GLOBAL_CACHE_KEY):
            hit = self._get(base)
            if hit is not None:
                return dict(hit)
        return None

    def put(self, base: str, config: Mapping[str, Creds], expires_at_ns: int) -> None:
        """Store (or replace) the entry for ``base``."""
        self._entries[base] = (dict(config), expires_at_ns)

    def bases(self) -> list[str]:
        """Bases currently stored (expired ones included until read)."""
        return list(self._entries)


RunFn = Callable[[bytes], tuple[int, bytes, bytes]]
"""Runs the plugin: request bytes on stdin → (returncode, stdout, stderr)."""


class PluginProvider:
    """One registered exec plugin with its cache: the kubelet's pluginProvider.provide (spec §e.2).

    ``run`` replaces the process execution; it may raise OSError or TimeoutError (exec failure,
    1-minute timeout). ``exec_count`` counts executions; ``last_error`` holds the last reason the
    result was discarded (never stdout content).
    """

    def __init__(self, config: ProviderConfig, run: RunFn, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.config = config
        self.run = run
        self.cache = KubeletPluginCache(clock)
        self.exec_count = 0
        self.last_error: str | None = None

    def is_image_allowed(self, image: str) -> bool:
        """Some ``matchImages`` entry URLsMatchStr-matches the image (spec §e.2 step 1)."""
        return any(urls_match_str(pattern, image) for pattern in self.config.match_images)

    def provide(self, image: str) -> dict[str, Creds]:
        """The DockerConfig (auth key → creds) this provider yields for a normalised image."""
        if not self.is_image_allowed(image):
            return {}
        cached = self.cache.get(image)
        if cached is not None:
            return cached
        self.exec_count += 1
        try:
            returncode, stdout, _stderr = self.run(build_request(image, self.config.api_version))
        except (OSError, TimeoutError) as exc:
            self.last_error = f"error execing credential provider plugin {self.config.name}: {type(exc).__name__}"
            return {}
        if returncode != 0:
            self.last_error = f"credential provider plugin {self.config.name} exited with {returncode}"
            return {}
        try:
            response = strict_decode_response(stdout, self.config.api_version)
        except DecodeError as exc:
            self.last_error = f"error decoding credential provider plugin response: {exc.reason}"
            return {}
        base = {"Image": image, "Registry": image.split("/")[0], "Global": GLOBAL_CACHE_KEY}[response.cache_key_type]
        config = dict(response.auth)
        if response.cache_duration_ns is None:
            duration = self.config.default_cache_duration_ns
        else:
            duration = response.cache_duration_ns
        if duration == 0:
            return config
        self.cache.put(base, config, self.cache.clock() + duration)
        return config


class ExecPluginKeyring:
    """The external-plugin keyring (spec §c.5): per lookup a fresh BasicDockerKeyring fed by every
    provider in configuration order, then a normal Lookup of the image."""

    def __init__(self, providers: Sequence[PluginProvider]) -> None:
        self.providers = list(providers)

    @classmethod
    def from_configs(
        cls, providers: Sequence[tuple[ProviderConfig, RunFn]], clock: Callable[[], int] = time.monotonic_ns
    ) -> ExecPluginKeyring:
        """A keyring of fresh providers (one cache each) sharing one clock, in configuration order."""
        return cls([PluginProvider(config, run, clock) for config, run in providers])

    @property
    def exec_count(self) -> int:
        """Total plugin executions across providers."""
        return sum(p.exec_count for p in self.providers)

    def lookup(self, image: str) -> tuple[list[Creds], bool]:
        """Credentials the plugins yield for the image (response keys matched like docker-config keys)."""
        keyring = BasicDockerKeyring()
        for provider in self.providers:
            keyring.add(provider.provide(image), source=f"plugin:{provider.config.name}")
        return keyring.lookup(image)


# ---------------------------------------------------------------------------------------------
# §0: end to end
# ---------------------------------------------------------------------------------------------


def kubelet_credentials(
    image: str,
    *,
    pull_secrets: Sequence[Mapping[str, object]] = (),
    node_keyring: DockerKeyring | None = None,
    plugin_keyring: DockerKeyring | None = None,
) -> list[Creds]:
    """The ordered credentials the kubelet tries for a normalised repository (spec §0 steps 3-4, §d).

    Pull-secret credentials first, then node docker-config credentials, then exec-plugin
    credentials; an empty list means one anonymous pull. Raises DockerConfigError for a pull
    secret that fails to parse.
    """
    default = UnionDockerKeyring([node_keyring, plugin_keyring])
    keyring = make_docker_keyring(pull_secrets, default)
    if keyring is None:
        return []
    return keyring.lookup(image)[0]


# ---------------------------------------------------------------------------------------------
# §e.2 step 2, §e.2 steps 4 and 6, §e.5: service-account mode (KEP-4412)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenAttributes:
    """``tokenAttributes`` of a provider (spec §f.2), already valid."""

    audience: str
    cache_type: str  # "Token" or "ServiceAccount"
    require_service_account: bool
    required_annotation_keys: tuple[str, ...] = ()
    optional_annotation_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceAccount:
    """The ServiceAccount object the kubelet fetches (spec §e.2 step 2)."""

    namespace: str
    name: str
    uid: str
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Pod:
    """The pulling pod: its identity and service account (``None``: no service-account name)."""

    namespace: str
    name: str
    uid: str
    service_account: ServiceAccount | None


MintFn = Callable[[ServiceAccount, Pod, str], str]
"""Requests a token (service account, pod, audience) → the token (the API server's TokenRequest)."""


def _u16(data: str | bytes) -> bytes:
    raw = _to_bytes(data) if isinstance(data, str) else data
    return len(raw).to_bytes(2, "big") + raw


def _u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def token_hash(token: str) -> str:
    """``sha256:<hex>`` of the token; the empty string for no token (spec §e.2 step 2)."""
    import hashlib

    return "sha256:" + hashlib.sha256(token.encode()).hexdigest() if token else ""


def service_account_cache_key(sa: ServiceAccount, annotations: Mapping[str, str], cache_type: str, token: str) -> bytes:
    """u16(namespace) u16(name) u16(uid) u32(#annotations) {u16(key) u16(value)} (keys in Go string
    order), then u16("token") u16(tokenHash) only for ``cacheType: Token`` (spec §e.2 step 2)."""
    out = _u16(sa.namespace) + _u16(sa.name) + _u16(sa.uid) + _u32(len(annotations))
    for key in sorted(annotations, key=_to_bytes):
        out += _u16(key) + _u16(annotations[key])
    if cache_type == "Token":
        out += _u16("token") + _u16(token_hash(token))
    return out


def singleflight_key(image: str, token: str, annotations: Mapping[str, str], service_account_mode: bool) -> bytes:
    """The key identical concurrent plugin runs share (spec §e.2 step 4)."""
    if not service_account_mode:
        return _to_bytes(image)
    out = _u16(image) + _u16(token_hash(token)) + _u32(len(annotations))
    for key in sorted(annotations, key=_to_bytes):
        out += _u16(key) + _u16(annotations[key])
    return out


def build_sa_request(image: str, token: str, annotations: Mapping[str, str]) -> bytes:
    """The v1 request with the token fields, present only when non-empty, annotations sorted (spec §e.4)."""
    text = '{"kind":"CredentialProviderRequest","apiVersion":' + _go_json_text(f"{API_GROUP}/v1")
    text += ',"image":' + _go_json_text(image)
    if token:
        text += ',"serviceAccountToken":' + _go_json_text(token)
    if annotations:
        members = ",".join(
            _go_json_text(k) + ":" + _go_json_text(annotations[k]) for k in sorted(annotations, key=_to_bytes)
        )
        text += ',"serviceAccountAnnotations":{' + members + "}"
    return (text + "}\n").encode()


class ServiceAccountPluginProvider:
    """One exec plugin with ``tokenAttributes`` (spec §e.2 in service-account mode, §e.5 cache).

    ``provide(image, pod)`` follows §e.2 steps 1-9 for one pull; ``provide_concurrently`` models the
    singleflight group of step 4 (requests that miss the cache together and share a key run the
    plugin once). ``cache`` maps u16(base) u16(serviceAccountCacheKey) to (config, expiry ns);
    ``dropped`` counts responses refused by the token echo guard (step 6).
    """

    def __init__(
        self,
        config: ProviderConfig,
        attributes: TokenAttributes,
        run: RunFn,
        mint: MintFn,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.config = config
        self.attributes = attributes
        self.run = run
        self.mint = mint
        self.clock = clock
        self.cache: dict[bytes, tuple[dict[str, Creds], int]] = {}
        self.exec_count = 0
        self.dropped = 0
        self.last_error: str | None = None

    def _identity(self, pod: Pod) -> tuple[str, dict[str, str], bytes] | None:
        """(token, annotations, service-account cache key); ``None``: the plugin is not run."""
        sa = pod.service_account
        if sa is None:
            if self.attributes.require_service_account:
                return None
            return "", {}, b""  # plain mode
        present = dict(sa.annotations)
        if any(key not in present for key in self.attributes.required_annotation_keys):
            return None
        wanted = (*self.attributes.required_annotation_keys, *self.attributes.optional_annotation_keys)
        annotations = {k: present[k] for k in wanted if k in present}
        token = self.mint(sa, pod, self.attributes.audience)
        return token, annotations, service_account_cache_key(sa, annotations, self.attributes.cache_type, token)

    def _cached(self, image: str, sa_key: bytes) -> dict[str, Creds] | None:
        for base in (image, image.split("/")[0], GLOBAL_CACHE_KEY):
            key = _u16(base) + _u16(sa_key)
            entry = self.cache.get(key)
            if entry is None:
                continue
            if self.clock() > entry[1]:
                del self.cache[key]
                continue
            return dict(entry[0])
        return None

    def _run(self, image: str, token: str, annotations: Mapping[str, str], sa_key: bytes) -> dict[str, Creds]:
        self.exec_count += 1
        try:
            returncode, stdout, _ = self.run(build_sa_request(image, token, annotations))
        except (OSError, TimeoutError) as exc:
            self.last_error = f"error execing credential provider plugin {self.config.name}: {type(exc).__name__}"
            return {}
        if returncode != 0:
            self.last_error = f"credential provider plugin {self.config.name} exited with {returncode}"
            return {}
        try:
            response = strict_decode_response(stdout, self.config.api_version)
        except DecodeError as exc:
            self.last_error = f"error decoding credential provider plugin response: {exc.reason}"
            return {}
        if token and self.attributes.cache_type != "Token" and any(p == token for _, p in response.auth.values()):
            self.dropped += 1  # the token echo guard: the whole response is dropped, nothing cached
            self.last_error = "credential provider plugin returned the service account token as a password"
            return {}
        base = {"Image": image, "Registry": image.split("/")[0], "Global": GLOBAL_CACHE_KEY}[response.cache_key_type]
        config = dict(response.auth)
        duration = (
            self.config.default_cache_duration_ns if response.cache_duration_ns is None else response.cache_duration_ns
        )
        if duration != 0:
            self.cache[_u16(base) + _u16(sa_key)] = (dict(config), self.clock() + duration)
        return config

    def provide(self, image: str, pod: Pod) -> dict[str, Creds]:
        """The DockerConfig this provider yields for one pull of ``image`` by ``pod``."""
        return self.provide_concurrently([(image, pod)])[0]

    def provide_concurrently(self, pulls: Sequence[tuple[str, Pod]]) -> list[dict[str, Creds]]:
        """Pulls that start together: cache hits answer at once; misses with equal singleflight keys
        share one plugin run (spec §e.2 step 4), in the order of their first request."""
        out: list[dict[str, Creds] | None] = [None] * len(pulls)
        groups: dict[bytes, list[int]] = {}
        work: dict[bytes, tuple[str, str, dict[str, str], bytes]] = {}
        for i, (image, pod) in enumerate(pulls):
            if not any(urls_match_str(p, image) for p in self.config.match_images):
                out[i] = {}
                continue
            identity = self._identity(pod)
            if identity is None:
                out[i] = {}
                continue
            token, annotations, sa_key = identity
            hit = self._cached(image, sa_key)
            if hit is not None:
                out[i] = hit
                continue
            key = singleflight_key(image, token, annotations, bool(self.attributes.audience))
            groups.setdefault(key, []).append(i)
            work.setdefault(key, (image, token, annotations, sa_key))
        for key, members in groups.items():
            result = self._run(*work[key])
            for i in members:
                out[i] = dict(result)
        return [o if o is not None else {} for o in out]


def plugin_credentials_for_pod(provider: ServiceAccountPluginProvider, image: str, pod: Pod) -> list[Creds]:
    """What this plugin contributes to one pull (spec §c.5: a fresh keyring fed by the response)."""
    keyring = BasicDockerKeyring()
    keyring.add(provider.provide(image, pod), source=f"plugin:{provider.config.name}")
    return keyring.lookup(image)[0]
