"""Table tests for the kubelet oracle (oracles/kubelet_sim.py).

Expected values come from docs/kubelet.md (section numbers cited per table), from the kubelet's
own test tables in kubernetes/kubernetes pkg/credentialprovider (keyring_test.go, config_test.go),
restated here as input → result facts, and from documented Go standard-library behaviour.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from oracles import kubelet_sim as ks

V1 = "credentialprovider.kubelet.k8s.io/v1"
V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1"
V1ALPHA1 = "credentialprovider.kubelet.k8s.io/v1alpha1"
SECOND = 1_000_000_000


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# ---------------------------------------------------------------------------------------------
# Go net/url.Parse subset (spec §c.1 "notable Go parse effects")
# ---------------------------------------------------------------------------------------------

URL_OK = [
    ("https://reg.io/path", ("reg.io", "/path")),
    ("https://reg.io", ("reg.io", "")),
    ("https://reg.io/", ("reg.io", "/")),
    ("http://reg.io/x", ("reg.io", "/x")),
    # fragment removed, query dropped
    ("https://reg.io/a#frag", ("reg.io", "/a")),
    ("https://reg.io#x/y", ("reg.io", "")),
    ("https://registry?.io", ("registry", "")),
    ("https://reg.io/p?q=1/2", ("reg.io", "/p")),
    ("https://reg.io/p?%zz", ("reg.io", "/p")),  # the raw query is never validated
    ("https://reg.io/p?", ("reg.io", "/p")),
    # userinfo dropped; the LAST '@' separates it
    ("https://user:pass@reg.io/x", ("reg.io", "/x")),
    ("https://a@b@reg.io", ("reg.io", "")),
    ("https://u%41@reg.io", ("reg.io", "")),
    # path percent-decoded ('+' is not a space in a path)
    ("https://reg.io/a%2Fb", ("reg.io", "/a/b")),
    ("https://reg.io/a%20b+c", ("reg.io", "/a b+c")),
    ("https://reg.io/a b", ("reg.io", "/a b")),
    ("https://reg.io/%C3%A9", ("reg.io", "/\u00e9")),
    # host not lower-cased; ports kept verbatim; empty port is valid
    ("https://REG.Io", ("REG.Io", "")),
    ("https://reg.io:5000/x", ("reg.io:5000", "/x")),
    ("https://reg.io:/x", ("reg.io:", "/x")),
    ("https://reg.io:5000:1", ("reg.io:5000:1", "")),  # only the text after the last ':' is a port
    ("https://https://x", ("https:", "//x")),
    ("https://", ("", "")),
    ("https:///foo", ("", "/foo")),
    # host: %-escapes only for bytes >= 0x80, plus %25; sub-delims and non-ASCII allowed
    ("https://%C3%A9.io", ("\u00e9.io", "")),
    ("https://a%25b", ("a%b", "")),
    ("https://\u00e9.io", ("\u00e9.io", "")),
    ("https://a!$&'()*+,;=b", ("a!$&'()*+,;=b", "")),
    ("https://[::1]:80/x", ("[::1]:80", "/x")),
    ("https://[::ffff:1.2.3.4]", ("[::ffff:1.2.3.4]", "")),
    ("https://[fe80::1%25en0]/x", ("[fe80::1%en0]", "/x")),
    ("https://[fe80::1%25en%200]:5", ("[fe80::1%en 0]:5", "")),
    # control characters are only checked before the fragment
    ("https://reg.io/a#\x01", ("reg.io", "/a")),
]


@pytest.mark.parametrize(("raw", "expected"), URL_OK)
def test_go_url_parse_accepts(raw: str, expected: tuple[str, str]) -> None:
    assert ks.go_url_parse(raw) == expected


URL_ERR = [
    "https://reg.io/%zz",
    "https://reg.io/%4",
    "https://reg.io/%",
    "https://reg.io/a#%zz",
    "https://reg .io",
    "https://re{g}.io",
    "https://reg|io",
    "https://reg\\io",
    "https://reg^io",
    "https://reg`io",
    "https://reg%41.io",
    "https://reg.io:abc",
    "https://reg.io:80a/x",
    "https://reg.io\x00",
    "https://reg.io/\x7f",
    "https://reg.io/a\nb",
    "https://[::1",
    "https://[::1]x",
    # CVE-2025-47912 fix: brackets only around a whole IPv6 literal
    "https://[1.2.3.4]",
    "https://[reg.io]",
    "https://[::1%25]",
    "https://[fe80::1%25%0A]",
    "https://x.[a-c].io",
    "https://x[::1]",
    "https://us er@reg.io",
    "https://u%zz@reg.io",
    "https://u@reg.io:x",
    ":foo",  # missing protocol scheme
    "1:x",  # no scheme, colon in the first path segment
]


@pytest.mark.parametrize("raw", URL_ERR)
def test_go_url_parse_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        ks.go_url_parse(raw)


def test_go_url_parse_full_fields() -> None:
    u = ks.go_url_parse_full("HTTPS://u:p@Reg.io:5/a%2Fb?x=1#f%20g")
    assert (u.scheme, u.userinfo, u.host, u.path, u.raw_query, u.fragment) == (
        "https",
        "u:p",
        "Reg.io:5",
        "/a/b",
        "x=1",
        "f g",
    )
    opaque = ks.go_url_parse_full("https:reg.io")
    assert (opaque.opaque, opaque.host, opaque.path) == ("reg.io", "", "")


def test_go_url_parse_keeps_raw_bytes() -> None:
    host, path = ks.go_url_parse("https://%FF.io/%FE")
    assert host.encode("utf-8", "surrogateescape") == b"\xff.io"
    assert path.encode("utf-8", "surrogateescape") == b"/\xfe"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reg.io/x", ("reg.io", "/x")),
        ("reg.io:5000", ("reg.io:5000", "")),
        ("registry?.io/x", ("registry", "")),
        ("https://x", ("https:", "//x")),
    ],
)
def test_parse_schemeless(text: str, expected: tuple[str, str]) -> None:
    assert ks.parse_schemeless(text) == expected


@pytest.mark.parametrize(
    ("hostport", "expected"),
    [
        ("a:1", ("a", "1")),
        ("a:", ("a", "")),
        ("a", None),
        ("[::1]:80", ("::1", "80")),
        ("[::1]", None),
        ("[::1]x:80", None),
        ("a:b:c", None),
        ("a]:1", None),
        ("a[b:1", None),
        ("", None),
    ],
)
def test_split_host_port(hostport: str, expected: tuple[str, str] | None) -> None:
    assert ks.split_host_port(hostport) == expected


# ---------------------------------------------------------------------------------------------
# Go path/filepath.Match (Unix) — spec §c.2 step 5
# ---------------------------------------------------------------------------------------------

MATCH = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a\u263ab", True),
    ("a[^a]b", "a\u263ab", True),
    ("a???b", "a\u263ab", False),
    ("a[^a][^a][^a]b", "a\u263ab", False),
    ("[a-\u03b6]*", "\u03b1", True),
    ("*[a-\u03b6]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("*x", "xxx", True),
    ("", "", True),
    ("", "a", False),
    ("*", "", True),
    ("k8s", "K8S", False),
    ("a*", "b", False),
]


@pytest.mark.parametrize(("pattern", "name", "expected"), MATCH)
def test_filepath_match(pattern: str, name: str, expected: bool) -> None:
    assert ks.filepath_match(pattern, name) is expected


BAD_PATTERNS = [
    ("[]a]", "]"),
    ("[-]", "-"),
    ("[x-]", "x"),
    ("[x-]", "-"),
    ("[x-]", "z"),
    ("[-x]", "x"),
    ("[-x]", "-"),
    ("[-x]", "a"),
    ("\\", "a"),
    ("[a-b-c]", "a"),
    ("[", "a"),
    ("[^", "a"),
    ("[^bc", "a"),
    ("a[", "a"),
    ("a[", "ab"),
    ("a[", "x"),
    ("a/b[", "x"),
    ("x*[", "yz"),  # reported even though the first chunk already failed
]


@pytest.mark.parametrize(("pattern", "name"), BAD_PATTERNS)
def test_filepath_match_bad_pattern(pattern: str, name: str) -> None:
    with pytest.raises(ValueError):
        ks.filepath_match(pattern, name)


# ---------------------------------------------------------------------------------------------
# URLsMatchStr — spec §c.2 and kubelet keyring_test.go TestURLsMatch
# ---------------------------------------------------------------------------------------------

URLS_MATCH = [
    # spec §c.2 step 5 examples
    ("*.k8s.io", "k8s.io", False),
    ("*k8s.io", "k8s.io", True),
    ("*.io", "a.b.io", False),
    ("k*.io", "quay.io", False),
    ("app*.k8s.io", "app1.k8s.io", True),
    ("k8s.*", "k8s.io", True),
    # kubelet TestURLsMatch (facts)
    ("*.kubernetes.io", "prefix.kubernetes.io", True),
    ("prefix.*.io", "prefix.kubernetes.io", True),
    ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
    ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
    ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
    ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
    ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
    ("*.kubernetes.io", "kubernetes.io", False),
    ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
    ("*.*.kubernetes.io", "kubernetes.io", False),
    ("kubernetes.io", "kubernetes.com", False),
    ("k*.io", "quay.io", False),
    ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
    ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
    # ports: string-equal, no globbing (step 2)
    ("reg.io:5000", "reg.io", False),
    ("reg.io", "reg.io:5000", False),
    ("reg.io:*", "reg.io:5000", False),
    ("reg.io:5000", "reg.io:5000/x", True),
    ("reg.io:", "reg.io", True),  # SplitHostPort gives an empty port for a trailing ':'
    ("[::1]:5000", "[::1]:5000/x", True),
    # paths: plain string prefix, no globbing, '/' does not match an empty path (step 4)
    ("reg.io/foo", "reg.io/foobar", True),
    ("reg.io/foo/", "reg.io/foo", False),
    ("reg.io/", "reg.io", False),
    ("reg.io/", "reg.io/x", True),
    ("reg.io/*", "reg.io/x", False),
    ("reg.io/*", "reg.io/*", True),
    ("reg.io", "reg.io/any/depth", True),
    # labels: case-sensitive, classes, escapes, malformed → no match
    ("REG.io", "reg.io", False),
    ("*.*.io", "a.b.io", True),
    # classes cannot reach filepath.Match through a host: Go's URL parser rejects '[' outside a
    # leading IPv6 literal, and '^' and '\\' are invalid host characters
    ("x.[a-c].io", "x.b.io", False),
    ("[a-c].io", "b.io", False),
    ("x.[^a-c].io", "x.d.io", False),
    ("a\\.io", "a.io", False),
    ("a[.io", "a.io", False),
    ("registry?.io", "registry", True),  # '?' starts the query, the pattern host is "registry"
    ("registry?.io", "registry.io", False),
    # scheme in the pattern, empty pattern (step 6)
    ("https://reg.io", "reg.io", False),
    ("", "reg.io", False),
    # unparseable target
    ("*.io", "bad host.io", False),
]


@pytest.mark.parametrize(("pattern", "target", "expected"), URLS_MATCH)
def test_urls_match_str(pattern: str, target: str, expected: bool) -> None:
    assert ks.urls_match_str(pattern, target) is expected


# ---------------------------------------------------------------------------------------------
# Key normalisation — spec §c.1
# ---------------------------------------------------------------------------------------------

NORMALIZE = [
    ("quay.io", "quay.io"),
    ("https://quay.io/v1/", "quay.io"),
    ("https://quay.io/v2/", "quay.io"),
    ("http://quay.io/v2/team", "quay.io/team"),
    ("quay.io/v1", "quay.io/v1"),
    ("quay.io/v1/", "quay.io"),
    ("quay.io/v3/", "quay.io/v3/"),
    ("quay.io/foo/", "quay.io/foo/"),
    ("quay.io/", "quay.io"),
    ("registry?.io", "registry"),
    ("reg.io#frag", "reg.io"),
    ("u:p@reg.io", "reg.io"),
    ("reg.io/a%2Fb", "reg.io/a/b"),
    ("Reg.IO", "Reg.IO"),
    ("reg.io:5000", "reg.io:5000"),
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("HTTPS://reg.io", "HTTPS://reg.io"),  # the scheme check is case-sensitive
    ("*.reg.io/team", "*.reg.io/team"),
]


@pytest.mark.parametrize(("raw", "key"), NORMALIZE)
def test_normalize_key(raw: str, key: str) -> None:
    assert ks.normalize_key(raw) == key


@pytest.mark.parametrize("raw", ["reg.io:abc", "reg .io", "reg.io/%zz", "reg.io\n", "re{g}.io", "[::1", "r.[a-z].io"])
def test_normalize_key_invalid(raw: str) -> None:
    assert ks.normalize_key(raw) is None


# ---------------------------------------------------------------------------------------------
# BasicDockerKeyring — spec §c.3/§c.4, kubelet keyring_test.go
# ---------------------------------------------------------------------------------------------

ADA = ("ada", "smash")
GRACE = ("grace", "squash")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("bar.example.com", [ADA]),
        ("bar.example.com/pong", [GRACE, ADA]),
        ("bar.example.com/ping", [ADA]),
        ("bar.example.com/pongz", [GRACE, ADA]),
        ("bar.example.com/pong/pang", [GRACE, ADA]),
        ("example.com", []),
        ("foo.example.com", []),
    ],
)
def test_keyring_lookup_kubelet_table(image: str, expected: list[tuple[str, str]]) -> None:
    # kubelet TestDockerKeyringLookup
    keyring = ks.BasicDockerKeyring()
    keyring.add({"bar.example.com/pong": GRACE, "bar.example.com": ADA})
    assert keyring.lookup(image) == (expected, bool(expected))


@pytest.mark.parametrize("image", ["quay.io", "quay.io/foo", "quay.io/foo/bar"])
def test_keyring_scheme_and_v1_path_match_host(image: str) -> None:
    # kubelet TestIssue3797
    keyring = ks.BasicDockerKeyring()
    keyring.add({"https://quay.io/v1/": ("rex", "tiny arms")})
    assert keyring.lookup(image) == ([("rex", "tiny arms")], True)


FOR_GLOB = [
    ("https://hello.kubernetes.io", "hello.kubernetes.io"),
    ("https://*.docker.io", "prefix.docker.io"),
    ("https://prefix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.*", "prefix.docker.io"),
    ("https://*.docker.io/path", "prefix.docker.io/path"),
    ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
    ("https://prefix.docker.*/path", "prefix.docker.io/path"),
    ("https://*.docker.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
    ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
    ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
    ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
    ("*.docker.io:1111", "prefix.docker.io:1111/path"),
]


def _auth_config(key: str) -> bytes:
    return json.dumps({key: {"email": "foo@bar.baz", "auth": b64("foo:bar")}}).encode()


@pytest.mark.parametrize(("key", "target"), FOR_GLOB)
def test_keyring_for_glob(key: str, target: str) -> None:
    # kubelet TestDockerKeyringForGlob: legacy config with an auth field, lookup target + "/foo/bar"
    keyring = ks.BasicDockerKeyring()
    keyring.add(ks.decode_docker_config(_auth_config(key), legacy=True))
    creds, found = keyring.lookup(target + "/foo/bar")
    assert found
    assert creds[0] == ("foo", "bar")


@pytest.mark.parametrize(
    ("key", "image"),
    [
        ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
        ("https://*.docker.com", "prefix.docker.io"),
        ("https://suffix.*.io", "prefix.docker.io"),
        ("https://prefix.docker.c*", "prefix.docker.io"),
        ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
        ("suffix.*.io", "prefix.docker.io"),
    ],
)
def test_keyring_miss(key: str, image: str) -> None:
    # kubelet TestKeyringMiss
    keyring = ks.BasicDockerKeyring()
    keyring.add(ks.decode_docker_config(_auth_config(key), legacy=True))
    assert keyring.lookup(image + "/foo/bar") == ([], False)


DOCKER_HUB_KEY = "https://index.docker.io/v1/"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("world.mesos.org/foo/bar", []),  # TestKeyringMissWithDockerHubCredentials
        ("google/docker-registry", [("foo", "bar")]),  # TestKeyringHitWithUnqualifiedDockerHub
        ("jenkins", [("foo", "bar")]),  # TestKeyringHitWithUnqualifiedLibraryDockerHub
        ("index.docker.io/google/docker-registry", [("foo", "bar")]),  # TestKeyringHitWithQualifiedDockerHub
        ("docker.io/library/nginx", [("foo", "bar")]),  # §a: reached only through the fallback
        ("localhost/foo", [("foo", "bar")]),  # §c.4
        ("quay.io", [("foo", "bar")]),  # §c.4: no '/' at all → default registry
        ("registry:5000/x", []),
        ("myhostdocker.io/x", []),
    ],
)
def test_keyring_docker_hub_fallback(image: str, expected: list[tuple[str, str]]) -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add(ks.decode_docker_config(_auth_config(DOCKER_HUB_KEY), legacy=True))
    assert keyring.lookup(image) == (expected, bool(expected))


@pytest.mark.parametrize(
    ("raw_key", "expected"),
    [
        ("index.docker.io", [("hub", "p")]),
        ("https://index.docker.io/v2/", [("hub", "p")]),
        ("http://index.docker.io/", [("hub", "p")]),
        ("https://index.docker.io/v1/team", []),  # key "index.docker.io/team" is not the exact fallback key
        ("index.docker.io:443", []),
        ("Index.docker.io", []),
    ],
)
def test_docker_hub_fallback_needs_the_exact_key(raw_key: str, expected: list[tuple[str, str]]) -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add({raw_key: ("hub", "p")})
    assert keyring.lookup("docker.io/library/nginx") == (expected, bool(expected))


def test_keyring_fallback_only_when_nothing_matched() -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add({"index.docker.io": ("hub", "1"), "docker.io": ("direct", "2")})
    assert keyring.lookup("docker.io/library/nginx") == ([("direct", "2")], True)
    assert keyring.lookup("library/nginx") == ([("hub", "1")], True)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("foo/bar", True),
        ("docker.io/foo/bar", True),
        ("index.docker.io/foo/bar", True),
        ("foo", True),
        ("", False),
        ("registry.tld/foo/bar", False),
        ("registry:5000/foo/bar", False),
        ("myhostdocker.io/foo/bar", False),
        ("localhost/foo", True),
        ("quay.io", True),
        ("/foo", False),
    ],
)
def test_is_default_registry_match(image: str, expected: bool) -> None:
    # kubelet TestIsDefaultRegistryMatch + spec §c.4
    assert ks.is_default_registry_match(image) is expected


def test_keyring_index_is_descending_go_string_order() -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add(
        {
            "a.io": ("1", ""),
            "*.a.io": ("2", ""),
            "a.io/x": ("3", ""),
            "b.a.io": ("4", ""),
            "foo.*.com": ("5", ""),
            "*.example.com": ("6", ""),
        }
    )
    assert keyring.index == ["foo.*.com", "b.a.io", "a.io/x", "a.io", "*.example.com", "*.a.io"]
    # concrete labels precede '*' at the same position; longer keys precede their prefixes
    assert keyring.lookup("b.a.io/x") == ([("4", ""), ("2", "")], True)
    assert keyring.lookup("a.io/x/y") == ([("3", ""), ("1", "")], True)


def test_keyring_index_orders_by_bytes_not_code_points() -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add({"\uff41.io": ("fullwidth", ""), "\U0001f600.io": ("emoji", "")})
    # UTF-8 byte order equals code point order for valid text
    assert keyring.index == ["\U0001f600.io", "\uff41.io"]


def test_keyring_appends_duplicates_in_order() -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add({"quay.io": ("a", "1"), "https://quay.io/v1/": ("b", "2")})
    keyring.add({"quay.io/": ("c", "3")}, source="second")
    assert keyring.index == ["quay.io"]
    assert keyring.lookup("quay.io/x") == ([("a", "1"), ("b", "2"), ("c", "3")], True)
    assert [s for _, _, s in keyring.lookup_with_sources("quay.io/x")] == ["", "", "second"]
    assert len(keyring) == 3


def test_keyring_skips_invalid_keys() -> None:
    keyring = ks.BasicDockerKeyring()
    keyring.add({"reg.io:abc": ("x", "1"), "reg.io": ("y", "2")})
    assert keyring.index == ["reg.io"]


def test_keyring_key_that_cannot_be_reparsed_never_matches() -> None:
    # "a%25b" normalises to host "a%b", whose re-parse in URLsMatchStr fails
    keyring = ks.BasicDockerKeyring()
    keyring.add({"a%25b": ("x", "1")})
    assert keyring.index == ["a%b"]
    assert keyring.lookup("a%b/x") == ([], False)


def test_union_keyring_concatenates_in_member_order() -> None:
    first = ks.BasicDockerKeyring()
    first.add({"reg.io": ("first", "1")})
    second = ks.BasicDockerKeyring()
    second.add({"reg.io/team": ("second", "2"), "other.io": ("x", "")})
    union = ks.UnionDockerKeyring([first, None, second])
    assert union.lookup("reg.io/team/app") == ([("first", "1"), ("second", "2")], True)
    assert union.lookup("nope.io/x") == ([], False)


# ---------------------------------------------------------------------------------------------
# Docker config decoding — spec §b.1, kubelet config_test.go
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ("Zm9vOmJhcg==", ("foo", "bar")),  # TestDecodeDockerConfigFieldAuth
        ("Zm9vOmJhcg", ("foo", "bar")),  # unpadded → raw base64
        ("Zm9vOmJhcgo=", ("foo", "bar\n")),  # trailing newline stays in the password
        ("Zm9v\r\nOmJhcg==", ("foo", "bar")),  # \r and \n are skipped
        ("Zm9vOmJhcg==\n", ("foo", "bar")),
        (b64("u:p:q"), ("u", "p:q")),  # first ':' splits
        (b64(":p"), ("", "p")),
        (b64("u:"), ("u", "")),
        ("Zm9vOmJhch==", ("foo", "bar")),  # non-zero trailing bits are accepted (not strict mode)
    ],
)
def test_decode_auth_ok(auth: str, expected: tuple[str, str]) -> None:
    assert ks.decode_docker_config_auth(auth) == expected


@pytest.mark.parametrize(
    "auth",
    [
        "cGFudHM=",  # TestDecodeDockerConfigFieldAuth: no colon
        "pants",  # TestDecodeDockerConfigFieldAuth: bad base64
        " Zm9vOmJhcg==",  # spaces are not skipped
        "Zm9vOmJhcg= ",
        "Zm9vOmJhcg=",  # '=' suffix → padded decoding, wrong padding
        "Zm9vOmJhcg==Zm9v",  # data after padding
        "Zm9v=mJhcg==",
        "Zm9vO",  # one dangling character
        base64.urlsafe_b64encode(b"u:\xfb\xff").decode(),  # URL-safe alphabet
        "\n",
    ],
)
def test_decode_auth_rejects(auth: str) -> None:
    with pytest.raises(ValueError):
        ks.decode_docker_config_auth(auth)


def test_config_json_and_legacy_decode() -> None:
    # TestDockerConfigJsonJSONDecode / TestDockerConfigJSONDecode
    entries = {
        "http://foo.example.com": {"username": "foo", "password": "bar", "email": "foo@example.com"},
        "http://bar.example.com": {"username": "bar", "password": "baz", "email": "bar@example.com"},
    }
    expected = {"http://foo.example.com": ("foo", "bar"), "http://bar.example.com": ("bar", "baz")}
    assert ks.decode_docker_config(json.dumps({"auths": entries}).encode(), legacy=False) == expected
    assert ks.decode_docker_config(json.dumps(entries).encode(), legacy=True) == expected


ENTRY_OK: list[tuple[object, tuple[str, str]]] = [
    ({"username": "foo", "password": "bar", "email": "foo@example.com"}, ("foo", "bar")),
    ({"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}, ("foo", "bar")),
    ({"username": "foo", "password": "bar", "auth": "cGluZzpwb25n"}, ("ping", "pong")),  # auth overrides
    ({"username": "u", "password": "p", "auth": ""}, ("u", "p")),
    ({"USERNAME": "u", "PassWord": "p"}, ("u", "p")),  # field names are case-insensitive
    ({"u\u017fername": "u", "password": "p"}, ("u", "p")),  # Go folds the long s to 's'
    ({"Auth": "cGluZzpwb25n"}, ("ping", "pong")),
    ({"username": "u", "password": "p", "identitytoken": "tok", "registrytoken": "t"}, ("u", "p")),
    ({"identitytoken": "tok"}, ("", "")),
    ({"username": None, "password": "p"}, ("", "p")),
    ({"username": "a", "USERNAME": "b"}, ("b", "")),  # the last occurrence wins
    ({"password": "p", "unknown": [1, {"x": None}], "serveraddress": "s"}, ("", "p")),
    (None, ("", "")),
]


@pytest.mark.parametrize(("entry", "expected"), ENTRY_OK)
def test_entry_decoding(entry: object, expected: tuple[str, str]) -> None:
    for legacy in (False, True):
        doc = {"reg.io": entry} if legacy else {"auths": {"reg.io": entry}}
        assert ks.decode_docker_config(json.dumps(doc).encode(), legacy) == {"reg.io": expected}


ENTRY_ERR: list[object] = [
    {"auth": "pants", "email": "foo@example.com"},  # TestDockerConfigEntryJSONDecode
    {"email": False},  # TestDockerConfigEntryJSONDecode: wrong JSON type
    {"username": 5},
    {"password": ["x"]},
    {"auth": "cGFudHM="},
    "a string",
    [],
    7,
]


@pytest.mark.parametrize("entry", ENTRY_ERR)
def test_entry_errors_fail_whole_document(entry: object) -> None:
    for legacy in (False, True):
        good = {"good.io": {"username": "u", "password": "p"}}
        entries = {**good, "reg.io": entry}
        doc = entries if legacy else {"auths": entries}
        with pytest.raises(ks.DockerConfigError):
            ks.decode_docker_config(json.dumps(doc).encode(), legacy)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"{}", {}),
        (b'{"auths": null}', {}),
        (b"null", {}),
        (b'{"credsStore": "desktop", "credHelpers": {"x": "y"}}', {}),
        (b'{"HttpHeaders": {"User-Agent": "x"}, "auths": {"a.io": {}}}', {"a.io": ("", "")}),
        (b'{"AUTHS": {"a.io": {"username": "u"}}}', {"a.io": ("u", "")}),
        # Go decodes a repeated "auths" into the same map (merge); a later null clears it
        (b'{"auths": {"a.io": {}}, "Auths": {"b.io": {}}}', {"a.io": ("", ""), "b.io": ("", "")}),
        (b'{"auths": {"a.io": {}}, "auths": null}', {}),
        # a repeated registry key keeps the last value
        (b'{"auths": {"a.io": {"username": "1"}, "a.io": {"username": "2"}}}', {"a.io": ("2", "")}),
        (b' \t\r\n{"auths": {}} \n', {}),
    ],
)
def test_config_json_documents(document: bytes, expected: dict[str, tuple[str, str]]) -> None:
    assert ks.decode_docker_config(document, legacy=False) == expected


def test_legacy_reads_config_json_shape_as_a_key() -> None:
    doc = b'{"auths": {"reg.io": {"username": "u"}}}'
    assert ks.decode_docker_config(doc, legacy=True) == {"auths": ("", "")}


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"[]",
        b'"x"',
        b'{"auths": []}',
        b'{"auths": "x"}',
        b'{"HttpHeaders": {"a": 1}}',
        b'{"HttpHeaders": []}',
        b'{"auths": {}} x',
        b'{"auths": {}}{}',
        b"{'auths': {}}",
        b'{"auths": {"a.io": {"username": NaN}}}',
        b"auths:\n  a.io: {}\n",
        b'\xef\xbb\xbf{"auths": {}}',
    ],
)
def test_config_json_rejects(document: bytes) -> None:
    with pytest.raises(ks.DockerConfigError):
        ks.decode_docker_config(document, legacy=False)


def test_config_json_ignores_huge_numbers_in_unknown_fields() -> None:
    doc = b'{"auths": {}, "x": ' + b"9" * 5000 + b"}"
    assert ks.decode_docker_config(doc, legacy=False) == {}


def test_invalid_utf8_becomes_replacement_per_byte() -> None:
    doc = b'{"auths": {"a.io": {"username": "x\xe2\x82y"}}}'
    assert ks.decode_docker_config(doc, legacy=False) == {"a.io": ("x\ufffd\ufffdy", "")}


def test_config_error_does_not_echo_secret() -> None:
    doc = json.dumps({"auths": {"a.io": {"auth": "c2VjcmV0LWNhbmFyeQ=="}}}).encode()  # "secret-canary"
    with pytest.raises(ks.DockerConfigError) as info:
        ks.decode_docker_config(doc, legacy=False)
    assert "c2VjcmV0LWNhbmFyeQ" not in str(info.value)
    assert "secret-canary" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# Node search paths — spec §b.2
# ---------------------------------------------------------------------------------------------


class Tree:
    """A temporary layout: root-dir, cwd, home and a stand-in for '/'."""

    def __init__(self, base: Path) -> None:
        self.root = base / "var-lib-kubelet"
        self.cwd = base / "cwd"
        self.home = base / "home"
        self.fs_root = base / "fsroot"
        for d in (self.root, self.cwd, self.home, self.fs_root):
            d.mkdir()

    def write(
        self, path: Path, auths: dict[str, tuple[str, str]] | None, legacy: bool = False, raw: bytes = b""
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if auths is None:
            path.write_bytes(raw)
            return
        entries = {k: {"username": u, "password": p} for k, (u, p) in auths.items()}
        path.write_text(json.dumps(entries if legacy else {"auths": entries}))

    def keyring(self) -> ks.BasicDockerKeyring:
        return ks.node_keyring_first_wins(str(self.root), str(self.cwd), str(self.home), str(self.fs_root))

    def winner(self) -> str | None:
        return ks.read_docker_config_file(str(self.root), str(self.cwd), str(self.home), str(self.fs_root))[0]


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_search_path_precedence_config_json(tree: Tree) -> None:
    places = [
        tree.root / "config.json",
        tree.cwd / "config.json",
        tree.home / ".docker" / "config.json",
        tree.fs_root / ".docker" / "config.json",
    ]
    for i, place in enumerate(places):
        tree.write(place, {f"r{i}.io": (f"u{i}", "p")})
    # every .dockercfg is ignored while some config.json parses
    tree.write(tree.root / ".dockercfg", {"legacy.io": ("l", "p")}, legacy=True)
    for i, place in enumerate(places):
        assert tree.winner() == str(place)
        keyring = tree.keyring()
        assert keyring.index == [f"r{i}.io"]  # never merged
        place.unlink()
    assert tree.winner() == str(tree.root / ".dockercfg")


def test_search_path_precedence_dockercfg(tree: Tree) -> None:
    places = [tree.root / ".dockercfg", tree.cwd / ".dockercfg", tree.home / ".dockercfg", tree.fs_root / ".dockercfg"]
    for i, place in enumerate(places):
        tree.write(place, {f"r{i}.io": (f"u{i}", "p")}, legacy=True)
    # $HOME/.docker/.dockercfg is not a candidate
    tree.write(tree.home / ".docker" / ".dockercfg", {"nope.io": ("n", "p")}, legacy=True)
    for i, place in enumerate(places):
        assert tree.winner() == str(place)
        assert tree.keyring().lookup(f"r{i}.io/x") == ([(f"u{i}", "p")], True)
        place.unlink()
    assert tree.winner() is None
    assert tree.keyring().index == []


def test_unparseable_and_unreadable_candidates_are_skipped(tree: Tree) -> None:
    tree.write(tree.root / "config.json", None, raw=b"{not json")
    (tree.cwd / "config.json").mkdir()  # unreadable: a directory
    tree.write(
        tree.home / ".docker" / "config.json", None, raw=json.dumps({"auths": {"a.io": {"auth": "pants"}}}).encode()
    )
    tree.write(tree.fs_root / ".docker" / "config.json", {"last.io": ("u", "p")})
    assert tree.winner() == str(tree.fs_root / ".docker" / "config.json")
    assert tree.keyring().lookup("last.io/x") == ([("u", "p")], True)


def test_empty_config_json_wins_and_suppresses_dockercfg(tree: Tree) -> None:
    tree.write(tree.home / ".docker" / "config.json", None, raw=b"{}")
    tree.write(tree.root / ".dockercfg", {"legacy.io": ("l", "p")}, legacy=True)
    assert tree.winner() == str(tree.home / ".docker" / "config.json")
    assert tree.keyring().lookup("legacy.io/x") == ([], False)


def test_config_json_in_legacy_shape_is_still_a_valid_config_json(tree: Tree) -> None:
    # A .dockercfg-shaped document parses as config.json with no "auths": empty, but it wins.
    tree.write(tree.root / "config.json", {"a.io": ("u", "p")}, legacy=True)
    tree.write(tree.cwd / "config.json", {"a.io": ("v", "q")})
    assert tree.winner() == str(tree.root / "config.json")
    assert tree.keyring().lookup("a.io/x") == ([], False)


def test_relative_root_dir_and_unknown_home(tree: Tree) -> None:
    tree.write(tree.cwd / "rel" / "config.json", {"rel.io": ("r", "p")})
    found = ks.read_docker_config_file("rel", str(tree.cwd), str(tree.home), str(tree.fs_root))
    assert found == (str(tree.cwd / "rel" / "config.json"), {"rel.io": ("r", "p")})
    tree.write(tree.cwd / ".docker" / "config.json", {"h.io": ("h", "p")})
    found = ks.read_docker_config_file(str(tree.root), str(tree.cwd), None, str(tree.fs_root))
    assert found == (str(tree.cwd / ".docker" / "config.json"), {"h.io": ("h", "p")})


# ---------------------------------------------------------------------------------------------
# Pull secrets — spec §d
# ---------------------------------------------------------------------------------------------


def secret(name: str, kind: str, key: str, payload: object | bytes) -> dict[str, object]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {"metadata": {"name": name}, "type": kind, "data": {key: base64.b64encode(raw).decode()}}


def json_secret(name: str, auths: dict[str, tuple[str, str]]) -> dict[str, object]:
    entries = {k: {"username": u, "password": p} for k, (u, p) in auths.items()}
    return secret(name, "kubernetes.io/dockerconfigjson", ".dockerconfigjson", {"auths": entries})


def cfg_secret(name: str, auths: dict[str, tuple[str, str]]) -> dict[str, object]:
    entries = {k: {"auth": b64(f"{u}:{p}")} for k, (u, p) in auths.items()}
    return secret(name, "kubernetes.io/dockercfg", ".dockercfg", entries)


def node(auths: dict[str, tuple[str, str]]) -> ks.BasicDockerKeyring:
    keyring = ks.BasicDockerKeyring()
    keyring.add(auths)
    return keyring


def test_secrets_precede_default_keyring() -> None:
    default = node({"reg.io": ("node", "n")})
    keyring = ks.make_docker_keyring([json_secret("s1", {"reg.io": ("sec", "s")})], default)
    assert keyring is not None
    assert keyring.lookup("reg.io/app") == ([("sec", "s"), ("node", "n")], True)


def test_dockercfg_secret_is_read_in_legacy_format() -> None:
    keyring = ks.make_docker_keyring([cfg_secret("s", {"reg.io": ("old", "pw")})], None)
    assert keyring is not None
    assert keyring.lookup("reg.io/app") == ([("old", "pw")], True)


@pytest.mark.parametrize(
    "ignored",
    [
        secret("a", "kubernetes.io/dockerconfigjson", ".dockercfg", {"reg.io": {}}),  # mismatched key
        secret("b", "kubernetes.io/dockercfg", ".dockerconfigjson", {"auths": {}}),
        secret("c", "Opaque", ".dockerconfigjson", {"auths": {"reg.io": {}}}),
        secret("d", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", b""),  # empty data
        {"metadata": {"name": "e"}, "type": "kubernetes.io/dockerconfigjson"},  # no data
        {"metadata": {"name": "f"}, "type": "kubernetes.io/dockercfg", "data": {".dockercfg": None}},
        # a broken payload under an ignored key is never parsed
        secret("g", "kubernetes.io/dockercfg", ".dockerconfigjson", b"{not json"),
    ],
)
def test_ignored_secrets_return_default_unchanged(ignored: dict[str, object]) -> None:
    default = node({"reg.io": ("node", "n")})
    assert ks.make_docker_keyring([ignored], default) is default


def test_accepted_secret_without_entries_still_wraps_default() -> None:
    default = node({"reg.io": ("node", "n")})
    keyring = ks.make_docker_keyring([secret("x", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", {})], default)
    assert isinstance(keyring, ks.UnionDockerKeyring)
    assert keyring.lookup("reg.io/app") == ([("node", "n")], True)


@pytest.mark.parametrize(
    "bad",
    [
        secret("x", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", b"{not json"),
        secret("x", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", {"auths": {"r.io": {"auth": "pants"}}}),
        secret("x", "kubernetes.io/dockercfg", ".dockercfg", b"[]"),
    ],
)
def test_broken_secret_fails_the_lookup(bad: dict[str, object]) -> None:
    good = json_secret("good", {"reg.io": ("sec", "s")})
    with pytest.raises(ks.DockerConfigError):
        ks.make_docker_keyring([good, bad], None)
    with pytest.raises(ks.DockerConfigError):
        ks.kubelet_credentials("reg.io/app", pull_secrets=[good, bad])


def test_all_secrets_share_one_keyring() -> None:
    s1 = json_secret("s1", {"reg.io": ("one", "1")})
    s2 = cfg_secret("s2", {"reg.io/team": ("two", "2"), "reg.io": ("three", "3")})
    keyring = ks.make_docker_keyring([s1, s2], None)
    assert keyring is not None
    # key order first (longer key first), then secret order, then insertion order
    assert keyring.lookup("reg.io/team/app")[0] == [("two", "2"), ("one", "1"), ("three", "3")]


# ---------------------------------------------------------------------------------------------
# Go durations (metav1.Duration strings in responses)
# ---------------------------------------------------------------------------------------------

DURATIONS = [
    ("0", 0),
    ("-0", 0),
    ("0s", 0),
    ("5s", 5 * SECOND),
    ("+5s", 5 * SECOND),
    ("-5s", -5 * SECOND),
    ("1478s", 1478 * SECOND),
    ("10m", 600 * SECOND),
    ("1h30m", 5400 * SECOND),
    ("1.5h", 5400 * SECOND),
    (".5s", SECOND // 2),
    ("1.s", SECOND),
    ("100ms", 100_000_000),
    ("1us", 1000),
    ("1\u00b5s", 1000),
    ("1\u03bcs", 1000),
    ("1ns", 1),
    ("2m3.4s", 123_400_000_000),
    ("-1.5s", -1_500_000_000),
    ("1h1h", 7200 * SECOND),
    ("9223372036854775807ns", 9223372036854775807),
    ("-9223372036854775808ns", -9223372036854775808),
    ("0.3333333333333333333h", 1_200_000_000_000),
]


@pytest.mark.parametrize(("text", "ns"), DURATIONS)
def test_parse_go_duration(text: str, ns: int) -> None:
    assert ks.parse_go_duration(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "",
        "3",
        "-",
        "s",
        ".",
        ".s",
        "-.s",
        "+.s",
        "1d",
        "1 s",
        " 1s",
        "1s ",
        "1.5",
        "1e5s",
        "1S",
        "9223372036854775808ns",
    ],
)
def test_parse_go_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ks.parse_go_duration(text)


# ---------------------------------------------------------------------------------------------
# Strict response decoding — spec §e.3/§e.4
# ---------------------------------------------------------------------------------------------


def response(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "kind": "CredentialProviderResponse",
        "apiVersion": V1,
        "cacheKeyType": "Registry",
        "cacheDuration": "10m",
        "auth": {"reg.io": {"username": "u", "password": "canary-pw"}},
    }
    for key, value in overrides.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


DROP = object()


def encode(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_strict_decode_full_response() -> None:
    decoded = ks.strict_decode_response(encode(response()), V1)
    assert decoded == ks.Response(
        V1, "CredentialProviderResponse", "Registry", 600 * SECOND, {"reg.io": ("u", "canary-pw")}
    )


@pytest.mark.parametrize(
    ("stdout", "expected_version", "check"),
    [
        (encode(response(apiVersion=V1ALPHA1)), V1ALPHA1, ("Registry", 600 * SECOND, 1)),
        (encode(response(apiVersion=V1BETA1)), V1BETA1, ("Registry", 600 * SECOND, 1)),
        (encode(response(cacheDuration=DROP)), V1, ("Registry", None, 1)),
        (encode(response(cacheDuration=None)), V1, ("Registry", None, 1)),
        (encode(response(cacheDuration="0s")), V1, ("Registry", 0, 1)),
        (encode(response(cacheDuration="-1m")), V1, ("Registry", -60 * SECOND, 1)),
        (encode(response(auth=DROP)), V1, ("Registry", 600 * SECOND, 0)),
        (encode(response(auth=None)), V1, ("Registry", 600 * SECOND, 0)),
        (encode(response(auth={})), V1, ("Registry", 600 * SECOND, 0)),
        (encode(response(cacheKeyType="Image")), V1, ("Image", 600 * SECOND, 1)),
        (encode(response(cacheKeyType="Global")), V1, ("Global", 600 * SECOND, 1)),
        (b"\n  " + encode(response()) + b"\n\n", V1, ("Registry", 600 * SECOND, 1)),
    ],
)
def test_strict_decode_accepts(stdout: bytes, expected_version: str, check: tuple[str, int | None, int]) -> None:
    decoded = ks.strict_decode_response(stdout, expected_version)
    assert (decoded.cache_key_type, decoded.cache_duration_ns, len(decoded.auth)) == check


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (None, ("", "")),
        ({}, ("", "")),
        ({"username": "u"}, ("u", "")),
        ({"password": "p"}, ("", "p")),
        ({"username": None, "password": None}, ("", "")),
    ],
)
def test_strict_decode_auth_entries(entry: object, expected: tuple[str, str]) -> None:
    decoded = ks.strict_decode_response(encode(response(auth={"*.reg.io:5000/team": entry})), V1)
    assert decoded.auth == {"*.reg.io:5000/team": expected}


def _with_raw_member(raw_member: str) -> bytes:
    """The default response plus one raw JSON member appended at top level."""
    return encode(response())[:-1] + b", " + raw_member.encode() + b"}"


REJECTIONS: list[tuple[str, bytes, str]] = [
    ("empty", b"", V1),
    ("whitespace only", b" \n", V1),
    ("yaml", b"kind: CredentialProviderResponse\napiVersion: " + V1.encode() + b"\ncacheKeyType: Registry\n", V1),
    ("trailing text", encode(response()) + b"\nextra", V1),
    ("two values", encode(response()) + encode(response()), V1),
    ("array", encode([response()]), V1),
    ("null", b"null", V1),
    ("apiVersion mismatch", encode(response(apiVersion=V1BETA1)), V1),
    ("apiVersion other group", encode(response(apiVersion="kubelet.config.k8s.io/v1")), "kubelet.config.k8s.io/v1"),
    ("apiVersion case", encode(response(apiVersion=V1.upper())), V1),
    ("apiVersion missing", encode(response(apiVersion=DROP)), V1),
    ("apiVersion number", encode(response(apiVersion=1)), V1),
    ("kind wrong", encode(response(kind="CredentialProviderRequest")), V1),
    ("kind case", encode(response(kind="credentialproviderresponse")), V1),
    ("kind missing", encode(response(kind=DROP)), V1),
    ("kind null", encode(response(kind=None)), V1),
    ("unknown top-level field", encode(response(metadata={})), V1),
    ("field name case", encode({**response(cacheKeyType=DROP), "CacheKeyType": "Registry"}), V1),
    ("apiVersion name case", encode({**response(apiVersion=DROP), "apiversion": V1}), V1),
    ("duplicate top-level field", _with_raw_member('"cacheKeyType": "Registry"'), V1),
    ("duplicate apiVersion", _with_raw_member(f'"apiVersion": "{V1}"'), V1),
    ("unknown field in auth entry", encode(response(auth={"r.io": {"username": "u", "email": "e"}})), V1),
    ("auth entry field case", encode(response(auth={"r.io": {"Username": "u"}})), V1),
    ("duplicate field in auth entry", encode(response())[:-3] + b', "password": "x"}}}', V1),
    ("duplicate auth key", encode(response(auth={}))[:-2] + b'"a.io": {}, "a.io": {}}}', V1),
    ("cacheKeyType lower case", encode(response(cacheKeyType="registry")), V1),
    ("cacheKeyType empty", encode(response(cacheKeyType="")), V1),
    ("cacheKeyType missing", encode(response(cacheKeyType=DROP)), V1),
    ("cacheKeyType number", encode(response(cacheKeyType=1)), V1),
    ("cacheDuration number", encode(response(cacheDuration=600)), V1),
    ("cacheDuration no unit", encode(response(cacheDuration="600")), V1),
    ("cacheDuration days", encode(response(cacheDuration="1d")), V1),
    ("cacheDuration object", encode(response(cacheDuration={"seconds": 1})), V1),
    ("auth list", encode(response(auth=[])), V1),
    ("auth entry string", encode(response(auth={"r.io": "u:p"})), V1),
    ("username number", encode(response(auth={"r.io": {"username": 1}})), V1),
    ("password bool", encode(response(auth={"r.io": {"password": True}})), V1),
    ("NaN", _with_raw_member('"x": NaN'), V1),
    ("single quotes", b"{'kind': 'CredentialProviderResponse'}", V1),
    (
        "unregistered version",
        encode(response(apiVersion="credentialprovider.kubelet.k8s.io/v2")),
        "credentialprovider.kubelet.k8s.io/v2",
    ),
]


@pytest.mark.parametrize(("stdout", "version"), [(s, v) for _, s, v in REJECTIONS], ids=[n for n, _, _ in REJECTIONS])
def test_strict_decode_rejects(stdout: bytes, version: str) -> None:
    with pytest.raises(ks.DecodeError) as info:
        ks.strict_decode_response(stdout, version)
    assert info.value.reason
    assert "canary-pw" not in str(info.value)


# ---------------------------------------------------------------------------------------------
# Exec plugin: request, isImageAllowed, cache — spec §e.2, §e.4, §e.5
# ---------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * SECOND

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * SECOND)


class FakePlugin:
    """Records requests and answers with a response computed from the requested image."""

    def __init__(self, answer: Callable[[str], object], returncode: int = 0) -> None:
        self.answer = answer
        self.returncode = returncode
        self.requests: list[bytes] = []

    def __call__(self, request: bytes) -> tuple[int, bytes, bytes]:
        self.requests.append(request)
        image = json.loads(request)["image"]
        answer = self.answer(image)
        stdout = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        return self.returncode, stdout, b"some stderr"


def plugin_response(key_type: str, auth: dict[str, tuple[str, str]], duration: str | None = None) -> dict[str, object]:
    doc: dict[str, object] = {
        "kind": "CredentialProviderResponse",
        "apiVersion": V1,
        "cacheKeyType": key_type,
        "auth": {k: {"username": u, "password": p} for k, (u, p) in auth.items()},
    }
    if duration is not None:
        doc["cacheDuration"] = duration
    return doc


def make_provider(
    answer: Callable[[str], object],
    *,
    match: tuple[str, ...] = ("*.reg.io", "reg.io", "other.io"),
    default: float | str = 60,
    clock: FakeClock | None = None,
    name: str = "plug",
    returncode: int = 0,
) -> tuple[ks.PluginProvider, FakePlugin, FakeClock]:
    clock = clock or FakeClock()
    fake = FakePlugin(answer, returncode)
    config = ks.ProviderConfig(name=name, match_images=match, default_cache_duration=default, api_version=V1)
    return ks.PluginProvider(config, fake, clock), fake, clock


@pytest.mark.parametrize(
    ("image", "version", "expected"),
    [
        (
            "reg.io/team/app",
            V1,
            b'{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",'
            b'"image":"reg.io/team/app"}\n',
        ),
        (
            "docker.io/library/nginx",
            V1ALPHA1,
            b'{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1",'
            b'"image":"docker.io/library/nginx"}\n',
        ),
        (
            "r.io/a<b>&c",
            V1BETA1,
            b'{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1",'
            b'"image":"r.io/a\\u003cb\\u003e\\u0026c"}\n',
        ),
    ],
)
def test_build_request(image: str, version: str, expected: bytes) -> None:
    assert ks.build_request(image, version) == expected


def test_plugin_receives_the_request_bytes() -> None:
    provider, fake, _ = make_provider(lambda image: plugin_response("Image", {}))
    provider.provide("reg.io/app")
    assert fake.requests == [ks.build_request("reg.io/app", V1)]


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("a.reg.io/x", True),
        ("reg.io/x", True),
        ("a.b.reg.io/x", False),
        ("reg.io:5000/x", False),
        ("elsewhere.io/x", False),
    ],
)
def test_is_image_allowed_gates_execution(image: str, allowed: bool) -> None:
    provider, fake, _ = make_provider(lambda image: plugin_response("Image", {"*.reg.io": ("u", "p")}))
    assert provider.is_image_allowed(image) is allowed
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup(image)
    assert keyring.exec_count == (1 if allowed else 0)
    assert len(fake.requests) == keyring.exec_count


def test_registry_cache_serves_every_image_of_the_host() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Registry", {"reg.io": ("u", "p")}))
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("reg.io/a") == ([("u", "p")], True)
    assert keyring.lookup("reg.io/b/c") == ([("u", "p")], True)
    assert keyring.exec_count == 1
    assert provider.cache.bases() == ["reg.io"]
    keyring.lookup("x.reg.io/a")  # another registry → another execution
    assert keyring.exec_count == 2


def test_image_cache_is_per_image() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"reg.io": ("u", "p")}))
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup("reg.io/a")
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 1
    keyring.lookup("reg.io/b")
    assert keyring.exec_count == 2
    assert provider.cache.bases() == ["reg.io/a", "reg.io/b"]


def test_global_cache_serves_every_allowed_image() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Global", {"*.reg.io": ("g", "p")}))
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("a.reg.io/x") == ([("g", "p")], True)
    # cache hit returns the whole stored map; its key does not match other.io, so nothing comes back
    assert keyring.lookup("other.io/x") == ([], False)
    assert keyring.exec_count == 1
    assert provider.cache.bases() == [ks.GLOBAL_CACHE_KEY]


def test_cache_lookup_order_image_then_registry_then_global() -> None:
    answers = iter(
        [
            plugin_response("Image", {"reg.io": ("image-level", "")}),
            plugin_response("Registry", {"reg.io": ("registry-level", "")}),
            plugin_response("Global", {"other.io": ("global", "")}),
        ]
    )
    provider, _, _ = make_provider(lambda image: next(answers))
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("reg.io/one")[0] == [("image-level", "")]
    assert keyring.lookup("reg.io/two")[0] == [("registry-level", "")]
    assert keyring.lookup("reg.io/one")[0] == [("image-level", "")]  # image entry wins
    assert keyring.lookup("reg.io/three")[0] == [("registry-level", "")]
    assert keyring.lookup("other.io/x")[0] == [("global", "")]
    assert keyring.lookup("reg.io/four")[0] == [("registry-level", "")]  # registry entry beats global
    assert keyring.exec_count == 3


def test_expiry_is_strictly_after_expires_at() -> None:
    provider, _, clock = make_provider(lambda image: plugin_response("Registry", {"reg.io": ("u", "p")}, "10s"))
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup("reg.io/a")
    clock.advance(10)
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 1  # now == expiresAt is still valid
    clock.now += 1
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 2


def test_duration_zero_is_never_cached() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Global", {"reg.io": ("u", "p")}, "0s"), default=600)
    keyring = ks.ExecPluginKeyring([provider])
    for _ in range(3):
        assert keyring.lookup("reg.io/a") == ([("u", "p")], True)
    assert keyring.exec_count == 3
    assert provider.cache.bases() == []


def test_absent_duration_uses_default() -> None:
    provider, _, clock = make_provider(lambda image: plugin_response("Image", {"reg.io": ("u", "p")}), default="1m")
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup("reg.io/a")
    clock.advance(59)
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 1
    clock.advance(2)
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 2


def test_absent_duration_with_zero_default_is_not_cached() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"reg.io": ("u", "p")}), default=0)
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup("reg.io/a")
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 2


def test_response_duration_overrides_zero_default() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"reg.io": ("u", "p")}, "5m"), default=0)
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup("reg.io/a")
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 1


def test_negative_duration_is_already_expired() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"reg.io": ("u", "p")}, "-1s"))
    keyring = ks.ExecPluginKeyring([provider])
    keyring.lookup("reg.io/a")
    keyring.lookup("reg.io/a")
    assert keyring.exec_count == 2


def test_empty_result_is_cached() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Registry", {}))
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("reg.io/a") == ([], False)
    assert keyring.lookup("reg.io/b") == ([], False)
    assert keyring.exec_count == 1


@pytest.mark.parametrize(
    ("answer", "returncode"),
    [
        (plugin_response("Registry", {"reg.io": ("u", "canary-pw")}), 1),  # non-zero exit
        (b"not json", 0),
        (plugin_response("registry", {"reg.io": ("u", "canary-pw")}), 0),  # invalid cacheKeyType
        ({**plugin_response("Registry", {"reg.io": ("u", "canary-pw")}), "apiVersion": V1BETA1}, 0),
        ({**plugin_response("Registry", {"reg.io": ("u", "canary-pw")}), "extra": 1}, 0),
    ],
)
def test_failures_yield_nothing_and_are_not_cached(answer: object, returncode: int) -> None:
    provider, _, _ = make_provider(lambda image: answer, returncode=returncode)
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("reg.io/a") == ([], False)
    assert keyring.lookup("reg.io/a") == ([], False)
    assert keyring.exec_count == 2
    assert provider.cache.bases() == []
    assert provider.last_error
    assert "canary-pw" not in provider.last_error


def test_exec_failure_is_swallowed() -> None:
    def boom(request: bytes) -> tuple[int, bytes, bytes]:
        raise TimeoutError

    config = ks.ProviderConfig(name="slow", match_images=("reg.io",), default_cache_duration=60)
    keyring = ks.ExecPluginKeyring([ks.PluginProvider(config, boom, FakeClock())])
    assert keyring.lookup("reg.io/a") == ([], False)
    assert keyring.exec_count == 1


def test_response_keys_are_matched_like_docker_config_keys() -> None:
    auth = {
        "reg.io": ("host", "1"),
        "reg.io/team": ("team", "2"),
        "other.io": ("other", "3"),
        "*.reg.io": ("glob", "4"),
    }
    provider, _, _ = make_provider(lambda image: plugin_response("Image", auth))
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("reg.io/team/app") == ([("team", "2"), ("host", "1")], True)
    assert keyring.lookup("a.reg.io/x") == ([("glob", "4")], True)


def test_response_key_that_does_not_match_yields_nothing() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"elsewhere.io": ("u", "p")}))
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("reg.io/a") == ([], False)
    assert keyring.exec_count == 1


def test_equal_keys_follow_provider_configuration_order() -> None:
    clock = FakeClock()
    first, _, _ = make_provider(
        lambda image: plugin_response("Image", {"reg.io": ("zeta", "1")}), name="z", clock=clock
    )
    second, _, _ = make_provider(
        lambda image: plugin_response("Image", {"reg.io": ("alpha", "2")}), name="a", clock=clock
    )
    keyring = ks.ExecPluginKeyring([first, second])
    assert keyring.lookup("reg.io/x") == ([("zeta", "1"), ("alpha", "2")], True)


def test_from_configs_builds_one_provider_per_config() -> None:
    clock = FakeClock()
    one = FakePlugin(lambda image: plugin_response("Global", {"reg.io": ("one", "1")}))
    two = FakePlugin(lambda image: plugin_response("Global", {"reg.io": ("two", "2")}))
    keyring = ks.ExecPluginKeyring.from_configs(
        [
            (ks.ProviderConfig(name="one", match_images=("reg.io",), default_cache_duration="1m"), one),
            (ks.ProviderConfig(name="two", match_images=("other.io",), default_cache_duration=60), two),
        ],
        clock,
    )
    assert keyring.lookup("reg.io/x") == ([("one", "1")], True)  # "two" does not match the image
    assert (len(one.requests), len(two.requests)) == (1, 0)


def test_plugin_keyring_has_its_own_docker_hub_fallback() -> None:
    provider, _, _ = make_provider(
        lambda image: plugin_response("Image", {"https://index.docker.io/v1/": ("hub", "p")}), match=("docker.io",)
    )
    keyring = ks.ExecPluginKeyring([provider])
    assert keyring.lookup("docker.io/library/nginx") == ([("hub", "p")], True)


# ---------------------------------------------------------------------------------------------
# End to end — spec §0 steps 3-4 and §d ordering
# ---------------------------------------------------------------------------------------------


def test_order_is_secrets_then_node_then_plugins() -> None:
    node_keyring = node({"reg.io": ("node", "n")})
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"reg.io": ("plugin", "x")}))
    creds = ks.kubelet_credentials(
        "reg.io/app",
        pull_secrets=[json_secret("s", {"reg.io": ("secret", "s")})],
        node_keyring=node_keyring,
        plugin_keyring=ks.ExecPluginKeyring([provider]),
    )
    assert creds == [("secret", "s"), ("node", "n"), ("plugin", "x")]


def test_without_secrets_node_then_plugins() -> None:
    provider, _, _ = make_provider(lambda image: plugin_response("Image", {"reg.io": ("plugin", "x")}))
    creds = ks.kubelet_credentials(
        "reg.io/app", node_keyring=node({"reg.io/app": ("node", "n")}), plugin_keyring=ks.ExecPluginKeyring([provider])
    )
    assert creds == [("node", "n"), ("plugin", "x")]


def test_each_group_applies_the_docker_hub_fallback_independently() -> None:
    creds = ks.kubelet_credentials(
        "docker.io/library/nginx",
        pull_secrets=[json_secret("s", {"docker.io": ("secret-direct", "1"), "index.docker.io": ("secret-hub", "2")})],
        node_keyring=node({"https://index.docker.io/v1/": ("node-hub", "3")}),
    )
    assert creds == [("secret-direct", "1"), ("node-hub", "3")]


def test_duplicates_are_kept_and_empty_means_anonymous() -> None:
    same = {"reg.io": ("u", "p")}
    creds = ks.kubelet_credentials(
        "reg.io/app", pull_secrets=[json_secret("a", same), json_secret("b", same)], node_keyring=node(same)
    )
    assert creds == [("u", "p")] * 3
    assert ks.kubelet_credentials("reg.io/app") == []
    assert ks.kubelet_credentials("reg.io/app", node_keyring=node({"else.io": ("u", "p")})) == []


def test_oracle_is_independent_of_pullkey() -> None:
    source = Path(ks.__file__).read_text()
    assert "import pullkey" not in source
    assert "from pullkey" not in source
    assert os.path.basename(ks.__file__) == "kubelet_sim.py"
