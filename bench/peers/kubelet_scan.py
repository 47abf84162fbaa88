"""The kubelet's docker keyring as a pure-Python linear scan, written for pullkey's benchmark.

Written from spec/kubelet.md §c (kubelet `pkg/credentialprovider/keyring.go` behaviour):

* ``BasicDockerKeyring.add`` normalises every raw key (§c.1): prefix ``https://`` unless a scheme is
  there, parse it like Go's ``net/url.Parse`` (``go_url_parse`` below, the subset the keyring
  exercises), strip a leading ``/v1/`` or ``/v2/`` from the path, key = host or host+path; keeps every
  credential (appends), and keeps the index sorted in descending string order.
* ``lookup`` walks the whole index and calls ``urls_match_str(key, image)`` per key (§c.2) — which,
  like the kubelet's ``URLsMatchStr``, parses *both* strings on every call — then the
  ``index.docker.io`` default-registry fallback (§c.3, §c.4).
* ``urls_match_str`` = Go ``net.SplitHostPort`` on both hosts, equal ports, equal label counts, plain
  string prefix on the path, and Go ``path/filepath.Match`` per DNS label (``filepath_match``).

Faithfulness notes (see bench/README.md): strings are Python ``str`` (Go works on bytes; identical for
ASCII, which is what registry keys are); URL hosts follow Go after the CVE-2025-47912 fix (a `[`
only first, holding an IPv6 address), so a `reg[0-9].io` key is invalid, as in current kubelets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------
# Go net/url.Parse subset (spec/kubelet.md §c.1: fragment and query dropped, userinfo dropped, path
# percent-decoded, host not lower-cased, bad escapes / control characters / bad host characters /
# non-numeric port are errors).


class URLError(ValueError):
    """``net/url`` would return an error."""


@dataclass(frozen=True)
class GoURL:
    scheme: str
    host: str
    path: str


_HEX = frozenset("0123456789abcdefABCDEF")
# Characters a host may carry unescaped besides letters and digits (Go: shouldEscape in host mode).
_HOST_OK = frozenset("!$&'()*+,;=:[]<>\"-_.~")
_SCHEME_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SCHEME_REST = _SCHEME_FIRST | frozenset("0123456789+-.")
_USERINFO_OK = frozenset("-._:~!$&'()*+,;=%@")


def _percent_decode(s: str, *, host: bool) -> str:
    """Go ``unescape`` for host or path mode (raises URLError where Go does)."""
    if "%" not in s:
        if host:
            for c in s:
                if c < "\x80" and not c.isalnum() and c not in _HOST_OK:
                    raise URLError("invalid character in host name")
        return s
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "%":
            if i + 2 >= n or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise URLError("invalid URL escape")
            if host and int(s[i + 1], 16) < 8 and s[i : i + 3] != "%25":
                # In a host only non-ASCII bytes may be %-encoded (RFC 3986), except %25.
                raise URLError("invalid URL escape")
            out.append(int(s[i + 1 : i + 3], 16))
            i += 3
            continue
        if host and c < "\x80" and not c.isalnum() and c not in _HOST_OK:
            raise URLError("invalid character in host name")
        out += c.encode()
        i += 1
    return out.decode("utf-8", errors="surrogateescape")


def _valid_optional_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all("0" <= c <= "9" for c in port[1:]))


def _is_ipv6(text: str) -> bool:
    addr, percent, zone = text.partition("%")
    if percent and not zone:
        return False
    try:
        ipaddress.IPv6Address(addr)
    except ValueError:
        return False
    return True


def _parse_host(host: str) -> str:
    # Go url.parseHost as fixed for CVE-2025-47912 (Go 1.24.8 / 1.25.2, what current kubelets are built
    # with): `[` is only allowed first, and a bracketed host must be an IPv6 address.
    bracket = host.rfind("[")
    if bracket > 0:
        raise URLError("invalid IP-literal")
    if bracket == 0:
        end = host.rfind("]")
        if end < 0:
            raise URLError("missing ']' in host")
        if not _valid_optional_port(host[end + 1 :]):
            raise URLError("invalid port after host")
        inner = host[1:end]
        zone = inner.find("%25")
        name = (
            _percent_decode(inner, host=True)
            if zone < 0
            else _percent_decode(inner[:zone], host=True) + "%" + (_percent_decode(inner[zone + 3 :], host=False))
        )
        if not _is_ipv6(name):
            raise URLError("invalid IP-literal")
        return "[" + name + "]" + host[end + 1 :]
    colon = host.rfind(":")
    if colon >= 0 and not _valid_optional_port(host[colon:]):
        raise URLError("invalid port after host")
    return _percent_decode(host, host=True)


def go_url_parse(raw: str) -> GoURL:
    """Go ``url.Parse`` for the inputs the keyring sees (absolute URLs with an authority)."""
    raw, _, fragment = raw.partition("#")
    if any(c < " " or c == "\x7f" for c in raw):
        raise URLError("invalid control character in URL")
    if fragment:
        _percent_decode(fragment, host=False)  # only validated; the fragment is dropped
    # scheme
    scheme, rest = "", raw
    if raw and raw[0] in _SCHEME_FIRST:
        for i, c in enumerate(raw):
            if c == ":":
                scheme, rest = raw[:i].lower(), raw[i + 1 :]
                break
            if c not in _SCHEME_REST:
                break
    elif raw.startswith(":"):
        raise URLError("missing protocol scheme")
    # query (cut before the authority is looked at: `registry?.io` → host `registry`)
    if not (rest.endswith("?") and rest.count("?") == 1):
        rest = rest.partition("?")[0]
    else:
        rest = rest[:-1]
    host = ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        at = authority.rfind("@")
        if at >= 0:
            userinfo = authority[:at]
            if any(not (c.isascii() and c.isalnum()) and c not in _USERINFO_OK for c in userinfo):
                raise URLError("invalid userinfo")
            _percent_decode(userinfo, host=False)
            authority = authority[at + 1 :]
        host = _parse_host(authority)
    elif scheme and not rest.startswith("/"):
        return GoURL(scheme, "", "")  # opaque URL: no host, no path
    path = _percent_decode(rest, host=False)
    return GoURL(scheme, host, path)


def parse_schemeless_url(s: str) -> GoURL:
    """kubelet ``ParseSchemelessURL``: ``url.Parse("https://" + s)`` with the scheme cleared."""
    u = go_url_parse("https://" + s)
    return GoURL("", u.host, u.path)


# ---------------------------------------------------------------------------------------------------
# Go net.SplitHostPort


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go ``net.SplitHostPort``; None where Go returns an error."""
    colon = hostport.rfind(":")
    if colon < 0:
        return None
    lo, hi = 0, 0
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0 or close + 1 != colon:
            return None  # missing ']', missing port, or too many colons
        host = hostport[1:close]
        lo, hi = 1, close + 1
    else:
        host = hostport[:colon]
        if ":" in host:
            return None
    if "[" in hostport[lo:] or "]" in hostport[hi:]:
        return None
    return host, hostport[colon + 1 :]


# ---------------------------------------------------------------------------------------------------
# Go path/filepath.Match (Unix): `*` any run without `/`, `?` one character, `[...]` / `[^...]`
# classes with ranges, `\` escapes; a malformed pattern is an error (→ no match for the kubelet).


class BadPattern(ValueError):
    pass


def _class_char(p: str, i: int) -> tuple[str, int]:
    """One class element at p[i] (Go getEsc): returns (char, next index)."""
    if i >= len(p) or p[i] in "-]":
        raise BadPattern
    if p[i] == "\\":
        i += 1
        if i >= len(p):
            raise BadPattern
    if i + 1 >= len(p):  # a class element must be followed by more pattern (at least the `]`)
        raise BadPattern
    return p[i], i + 1


def _compile_glob(p: str) -> list[tuple]:
    """Tokens: ("*",), ("?",), ("c", char), ("[", negated, ((lo, hi), ...)). Raises BadPattern."""
    tokens: list[tuple] = []
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "*":
            if not tokens or tokens[-1] != ("*",):
                tokens.append(("*",))
            i += 1
        elif c == "?":
            tokens.append(("?",))
            i += 1
        elif c == "\\":
            if i + 1 >= n:
                raise BadPattern
            tokens.append(("c", p[i + 1]))
            i += 2
        elif c == "[":
            i += 1
            negated = i < n and p[i] == "^"
            if negated:
                i += 1
            ranges = []
            while True:
                if i < n and p[i] == "]" and ranges:
                    i += 1
                    break
                lo, i = _class_char(p, i)
                hi = lo
                if p[i] == "-":
                    hi, i = _class_char(p, i + 1)
                ranges.append((lo, hi))
            tokens.append(("[", negated, tuple(ranges)))
        else:
            tokens.append(("c", c))
            i += 1
    return tokens


def _token_matches(tok: tuple, ch: str) -> bool:
    kind = tok[0]
    if kind == "c":
        return tok[1] == ch
    if kind == "?":
        return ch != "/"
    hit = any(lo <= ch <= hi for lo, hi in tok[2])
    return hit != tok[1]


def filepath_match(pattern: str, name: str) -> bool:
    """Go ``filepath.Match(pattern, name)`` on Unix, with an error reported as BadPattern."""
    tokens = _compile_glob(pattern)
    # Classic wildcard matching with one backtrack point (each non-star token eats one character,
    # so resuming after the last star is enough; Go's chunk-by-chunk greedy scan gives the same answers).
    ti = si = 0
    star_ti = star_si = -1
    nt, ns = len(tokens), len(name)
    while si < ns:
        if ti < nt and tokens[ti] == ("*",):
            star_ti, star_si = ti, si
            ti += 1
        elif ti < nt and _token_matches(tokens[ti], name[si]):
            ti += 1
            si += 1
        elif star_ti >= 0 and name[star_si] != "/":
            star_si += 1
            si = star_si
            ti = star_ti + 1
        else:
            return False
    while ti < nt and tokens[ti] == ("*",):
        ti += 1
    return ti == nt


# ---------------------------------------------------------------------------------------------------
# kubelet URLsMatch / URLsMatchStr (spec/kubelet.md §c.2)


def _split_url(u: GoURL) -> tuple[list[str], str]:
    hp = split_host_port(u.host)
    host, port = hp if hp is not None else (u.host, "")
    return host.split("."), port


def urls_match(glob: GoURL, target: GoURL) -> bool:
    glob_labels, glob_port = _split_url(glob)
    target_labels, target_port = _split_url(target)
    if glob_port != target_port:
        return False
    if len(glob_labels) != len(target_labels):
        return False
    if not target.path.startswith(glob.path):
        return False
    try:
        return all(filepath_match(g, t) for g, t in zip(glob_labels, target_labels, strict=True))
    except BadPattern:
        return False


def urls_match_str(glob: str, target: str) -> bool:
    """kubelet ``URLsMatchStr``: parse both as schemeless URLs (each call), then ``urls_match``."""
    try:
        g = parse_schemeless_url(glob)
        t = parse_schemeless_url(target)
    except URLError:
        return False
    return urls_match(g, t)


# ---------------------------------------------------------------------------------------------------
# BasicDockerKeyring (spec/kubelet.md §c.1, §c.3, §c.4)

DEFAULT_REGISTRY_HOST = "index.docker.io"


@dataclass(frozen=True)
class AuthConfig:
    """What the kubelet keeps of a docker config entry (spec/kubelet.md §b.1); ``key`` = normalised key."""

    key: str
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password
        return f"AuthConfig(key={self.key!r}, username={self.username!r})"


def normalize_key(raw: str) -> str | None:
    """§c.1 steps 1-4; None when Go's URL parse fails (the kubelet logs and skips the entry)."""
    value = raw if raw.startswith(("https://", "http://")) else "https://" + raw
    try:
        u = go_url_parse(value)
    except URLError:
        return None
    path = u.path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    return u.host if path in ("", "/") else u.host + path


class BasicDockerKeyring:
    """The kubelet's keyring: a map key → credentials plus an index sorted in descending order."""

    def __init__(self) -> None:
        self.creds: dict[str, list[AuthConfig]] = {}
        self.index: list[str] = []

    def add(self, entries: dict[str, tuple[str, str]]) -> None:
        """Add raw key → (username, password) entries (already decoded from `auth`, spec §b.1)."""
        for raw, (username, password) in entries.items():
            key = normalize_key(raw)
            if key is None:
                continue
            self.creds.setdefault(key, []).append(AuthConfig(key, username, password))
        # Go sorts strings by bytes; for the ASCII keys of the corpus this is Python's str order.
        self.index = sorted(self.creds, reverse=True)

    def __len__(self) -> int:
        return sum(len(v) for v in self.creds.values())

    def lookup(self, image: str) -> list[AuthConfig]:
        """§c.3: every matching key in index order, all its credentials; else the Docker Hub fallback."""
        out: list[AuthConfig] = []
        for key in self.index:
            if urls_match_str(key, image):
                out.extend(self.creds[key])
        if out:
            return out
        if is_default_registry_match(image) and DEFAULT_REGISTRY_HOST in self.creds:
            return list(self.creds[DEFAULT_REGISTRY_HOST])
        return []


def is_default_registry_match(image: str) -> bool:
    """§c.4."""
    first, slash, _ = image.partition("/")
    if not slash:
        return True
    if not first:
        return False
    if first in ("docker.io", DEFAULT_REGISTRY_HOST):
        return True
    return "." not in first and ":" not in first


class PreparsedScanKeyring(BasicDockerKeyring):
    """A context peer: the same linear scan, but keys are parsed once at ``add`` and the image once per
    lookup (what an optimised Python port of the kubelet would do). Same answers, fewer parses."""

    def add(self, entries: dict[str, tuple[str, str]]) -> None:
        super().add(entries)
        self._parsed = []
        for key in self.index:
            try:
                u = parse_schemeless_url(key)
            except URLError:
                continue  # URLsMatchStr would fail on this key for every image
            self._parsed.append((key, _split_url(u), u.path))

    def lookup(self, image: str) -> list[AuthConfig]:
        out: list[AuthConfig] = []
        try:
            t = parse_schemeless_url(image)
        except URLError:
            t = None
        if t is not None:
            t_labels, t_port = _split_url(t)
            t_path = t.path
            for key, (labels, port), path in self._parsed:
                if port != t_port or len(labels) != len(t_labels) or not t_path.startswith(path):
                    continue
                try:
                    if all(filepath_match(g, x) for g, x in zip(labels, t_labels, strict=True)):
                        out.extend(self.creds[key])
                except BadPattern:
                    pass
        if out:
            return out
        if is_default_registry_match(image) and DEFAULT_REGISTRY_HOST in self.creds:
            return list(self.creds[DEFAULT_REGISTRY_HOST])
        return []
