"""The bench's own peers must be right before their timings mean anything.

Run: ``python -m pytest bench/test_peers.py -q`` (cases written from docs/kubelet.md §c and
docs/reference.md §2, §3, §7).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import kubelet_scan as ks
from peers import regex_reference as rr

from oracles import kubelet_sim as sim
from oracles import reference

H64 = "a" * 64


# --- docs/kubelet.md §c.2: URLsMatchStr ------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "target", "want"),
    [
        ("*.k8s.io", "k8s.io", False),
        ("*.io", "a.b.io", False),
        ("k*.io", "quay.io", False),
        ("app*.k8s.io", "app1.k8s.io", True),
        ("k8s.*", "k8s.io", True),
        ("*.kubernetes.io", "prefix.kubernetes.io", True),
        ("prefix.*.io", "prefix.kubernetes.io", True),
        ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
        ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
        ("kubernetes.io/path", "kubernetes.io/path/subpath", True),
        ("kubernetes.io", "kubernetes.io/path/subpath", True),
        ("kubernetes.io/foo", "kubernetes.io/foobar", True),  # plain string prefix
        ("kubernetes.io/path", "kubernetes.io/other", False),
        ("kubernetes.io/", "kubernetes.io", False),  # pattern path "/" vs empty target path
        ("registry.io:5000", "registry.io:5000/x", True),
        ("registry.io", "registry.io:5000/x", False),
        ("registry.io:5000", "registry.io/x", False),
        ("registry.io:5000", "registry.io:5001/x", False),
        ("registry.io:*", "registry.io:5000/x", False),  # no glob in ports (and `:*` fails URL parse)
        ("*.io/*", "quay.io/x", False),  # `/*` is a literal path
        ("https://quay.io", "quay.io/x", False),
        ("", "quay.io/x", False),
        ("Quay.io", "quay.io/x", False),  # case-sensitive
        ("reg[0-9].io", "reg7.io/x", False),  # `[` not first in a host: a URL error since Go's CVE-2025-47912 fix
        ("[::1]:5000", "[::1]:5000/x", True),
        ("[::1]", "[::1]:5000/x", False),
        ("[::g]", "[::g]/x", False),  # brackets must hold an IPv6 address
        ("*", "localhost/x", True),
        ("*", "a.b/x", False),
    ],
)
def test_urls_match_str(pattern: str, target: str, want: bool) -> None:
    assert ks.urls_match_str(pattern, target) is want


def test_star_k8s_io_same_labels() -> None:
    # spec §c.2 lists `*k8s.io` = `k8s.io` (label-wise: `*k8s` vs `k8s`, `io` vs `io`).
    assert ks.urls_match_str("*k8s.io", "k8s.io/x")


@pytest.mark.parametrize(
    ("pattern", "name", "want"),
    [
        ("*", "", True),
        ("a*b", "ab", True),
        ("a*b", "axxb", True),
        ("a*b*c", "abxbc", True),
        ("a*b", "abc", False),
        ("?", "", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("\\*", "*", True),
        ("[]]", "]", None),
        ("[", "a", None),
        ("a\\", "a", None),
        ("[a-]", "a", None),
    ],
)
def test_filepath_match(pattern: str, name: str, want: bool | None) -> None:
    if want is None:
        with pytest.raises(ks.BadPattern):
            ks.filepath_match(pattern, name)
    else:
        assert ks.filepath_match(pattern, name) is want


# --- §c.1 key normalisation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("quay.io", "quay.io"),
        ("https://quay.io", "quay.io"),
        ("http://quay.io/", "quay.io"),
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("registry.io/v2/team", "registry.io/team"),
        ("registry.io/v1", "registry.io/v1"),
        ("quay.io/foo/", "quay.io/foo/"),
        ("registry?.io", "registry"),
        ("registry.io#frag", "registry.io"),
        ("user:pw@registry.io", "registry.io"),
        ("registry.io/a%20b", "registry.io/a b"),
        ("Registry.IO", "Registry.IO"),
        ("registry.io:5000", "registry.io:5000"),
        ("registry.io:port", None),
        ("bad host", None),
        ("registry.io/%zz", None),
        ("reg{1}.io", None),
    ],
)
def test_normalize_key(raw: str, key: str | None) -> None:
    assert ks.normalize_key(raw) == key


# --- §c.3 / §c.4 lookup order and fallback -----------------------------------------------------------
def _keyring(*keys: str) -> ks.BasicDockerKeyring:
    kr = ks.BasicDockerKeyring()
    kr.add({k: (f"user-{i}", "fake") for i, k in enumerate(keys)})
    return kr


def test_lookup_order_longest_and_concrete_first() -> None:
    kr = _keyring("*.example.com", "registry.example.com", "registry.example.com/team", "foo.*.com")
    got = [c.key for c in kr.lookup("registry.example.com/team/app")]
    assert got == ["registry.example.com/team", "registry.example.com", "*.example.com"]
    assert kr.index.index("foo.*.com") < kr.index.index("*.example.com")


def test_lookup_appends_duplicates_in_order() -> None:
    kr = ks.BasicDockerKeyring()
    kr.add({"https://quay.io": ("a", "fake")})
    kr.add({"quay.io/": ("b", "fake")})
    assert [c.username for c in kr.lookup("quay.io/x")] == ["a", "b"]


@pytest.mark.parametrize(
    ("image", "want"),
    [
        ("docker.io/library/nginx", True),
        ("index.docker.io/x/y", True),
        ("localhost/foo", True),
        ("nginx", True),
        ("quay.io", True),
        ("registry:5000/x", False),
        ("myhostdocker.io/x", False),
        ("/x", False),
    ],
)
def test_is_default_registry_match(image: str, want: bool) -> None:
    assert ks.is_default_registry_match(image) is want


def test_docker_hub_fallback() -> None:
    kr = _keyring("https://index.docker.io/v1/", "quay.io")
    assert [c.key for c in kr.lookup("docker.io/library/nginx")] == ["index.docker.io"]
    assert kr.lookup("registry:5000/x") == []
    kr2 = _keyring("docker.io", "index.docker.io")
    assert [c.key for c in kr2.lookup("docker.io/library/nginx")] == ["docker.io"]  # direct match wins


def test_preparsed_scan_agrees() -> None:
    keys = [
        "*.example.com",
        "registry.example.com",
        "registry.example.com/team",
        "a.b:5000",
        "index.docker.io",
        "reg[0-9].io",
        "x.y/z/",
    ]
    slow, fast = ks.BasicDockerKeyring(), ks.PreparsedScanKeyring()
    entries = {k: (f"u{i}", "fake") for i, k in enumerate(keys)}
    slow.add(entries)
    fast.add(entries)
    for image in [
        "registry.example.com/team/a",
        "x.example.com/a",
        "a.b:5000/c",
        "docker.io/library/x",
        "reg1.io/a",
        "x.y/z/w",
        "x.y/zz",
        "nothing.io/a",
    ]:
        assert [c.key for c in fast.lookup(image)] == [c.key for c in slow.lookup(image)]


# --- docs/reference.md: the regex port --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("busybox", "docker.io", "library/busybox", None, None),
        ("user/repo:tag", "docker.io", "user/repo", "tag", None),
        ("localhost:5000/foo", "localhost:5000", "foo", None, None),
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),
        ("foo:5000/bar", "foo:5000", "bar", None, None),
        ("[::1]:5000/foo", "[::1]:5000", "foo", None, None),
        ("index.docker.io/library/foo/bar", "docker.io", "library/foo/bar", None, None),
        ("docker.io/foo", "docker.io", "library/foo", None, None),
        ("registry-1.docker.io/foo", "registry-1.docker.io", "foo", None, None),
        ("Foo/bar", "Foo", "bar", None, None),
        ("foo:TAG", "docker.io", "library/foo", "TAG", None),
        ("foo_bar.com/baz", "", "foo_bar.com/baz", None, None),
        (f"foo:tag@sha256:{H64}", "docker.io", "library/foo", "tag", f"sha256:{H64}"),
        ("a__b", "docker.io", "library/a__b", None, None),
        ("a---b", "docker.io", "library/a---b", None, None),
        (f"docker.io/{H64}", "docker.io", f"library/{H64}", None, None),
        ("a" * 247, "docker.io", "library/" + "a" * 247, None, None),
    ],
)
def test_regex_port_valid(text: str, domain: str, path: str, tag: str | None, digest: str | None) -> None:
    ref = rr.parse_normalized_named(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid_format"),
        ("foo/Bar", "normalized_name_not_lowercase"),
        ("FOO", "normalized_name_not_lowercase"),
        (f"foo@sha256:{H64.upper()}", "digest_invalid_format"),
        (f"foo@SHA256:{H64}", "normalized_name_not_lowercase"),
        ("foo@md5:" + "a" * 32, "digest_unsupported"),
        ("foo@sha256:" + "a" * 31, "invalid_format"),
        ("foo@sha256:" + "a" * 32, "digest_invalid_length"),
        ("foo:" + "t" * 129, "invalid_format"),
        ("foo:.tag", "invalid_format"),
        ("foo:tég", "invalid_format"),
        ("foo\n", "invalid_format"),
        ("a..b", "invalid_format"),
        ("a-.b", "invalid_format"),
        ("foo//bar", "invalid_format"),
        ("::1/foo", "invalid_format"),
        ("[2001:db8::1]:5000", "invalid_format"),
        ("a" * 248, "name_too_long"),
        (H64, "normalized_name_is_identifier"),
    ],
)
def test_regex_port_invalid(text: str, code: str) -> None:
    with pytest.raises(rr.ReferenceError) as err:
        rr.parse_normalized_named(text)
    assert err.value.code == code


def test_regex_port_raw_parse() -> None:
    assert rr.parse("a" * 255).path == "a" * 255
    with pytest.raises(rr.ReferenceError) as err:
        rr.parse("foo/Bar")
    assert err.value.code == "name_contains_uppercase"
    ref = rr.parse("foo/bar")
    assert (ref.domain, ref.path) == ("foo", "bar")
    assert rr.parse("example.com/" + "a" * 255).path == "a" * 255


def test_regex_port_familiar() -> None:
    assert rr.parse_normalized_named("ubuntu").familiar == "ubuntu"
    assert rr.parse_normalized_named("docker.io/library/foo/bar").familiar == "library/foo/bar"
    assert rr.parse_normalized_named("dmcgowan/app:1").familiar == "dmcgowan/app:1"
    assert rr.parse_normalized_named("quay.io/x/y").familiar == "quay.io/x/y"


def test_regex_port_no_catastrophic_backtracking() -> None:
    import time

    t0 = time.perf_counter()
    for text in ("a" * 5000 + "!", "a-" * 2000 + "!", "docker.artifactory.us.foo.mycompany.com/bar/node?18"):
        with pytest.raises(rr.ReferenceError):
            rr.parse_normalized_named(text)
    assert time.perf_counter() - t0 < 1.0


# --- the peers are thin uses of the shared models in oracles/ (the tests' oracles) -------------------
# The scan and the regex port ARE the oracles' code (oracles/kubelet_sim.py, oracles/reference.py), so
# what is checked here is what the bench adds on top: the keyed adapter, the pre-parsed context peer
# (parses once, URLsMatch per key) and the raising API, against the oracles' own answers.


def test_kubelet_scan_agrees_with_kubelet_sim_on_bench_corpus() -> None:
    import corpus

    for size in (10, 1_000):
        keys = corpus.keyring_keys(size)
        entries = {k: (f"bench-user-{i}", "fake") for i, k in enumerate(keys)}
        mine, pre, theirs = ks.BasicDockerKeyring(), ks.PreparsedScanKeyring(), sim.BasicDockerKeyring()
        mine.add(entries)
        pre.add(entries)
        theirs.add(entries)
        assert mine.index == theirs.index
        for image in corpus.images(keys, 100):
            want = [u for u, _ in theirs.lookup(image)[0]]
            assert [c.username for c in mine.lookup(image)] == want, image
            assert [c.username for c in pre.lookup(image)] == want, image


def test_kubelet_scan_url_and_glob_agree_with_kubelet_sim() -> None:
    patterns = ["*.k8s.io", "k8s.*", "app*.x.io", "reg[0-9].io", "reg[^a].io", "[", "a\\", "*", "x.io:5000", "x.io/p"]
    targets = ["a.k8s.io/x", "k8s.io/x", "app1.x.io/y", "reg1.io/z", "rega.io/z", "x.io:5000/p", "x.io/pp", "h/x"]
    matched = 0
    for p in patterns:
        pre = ks.PreparsedScanKeyring()
        pre.add({p: ("u", "fake")})
        model = sim.BasicDockerKeyring()
        model.add({p: ("u", "fake")})
        for t in targets:
            assert bool(pre.lookup(t)) == bool(model.lookup(t)[0]), (p, t)
            matched += bool(pre.lookup(t))
    assert matched >= 5  # not vacuous
    for raw in ["registry?.io", "a.io#f", "u:p@a.io", "a.io/%41", "a.io/%zz", "bad host", "a.io:x", "a.io/v2/t"]:
        assert ks.normalize_key(raw) == sim.normalize_key(raw), raw


def test_regex_port_agrees_with_reference_oracle_on_bench_corpus() -> None:
    import corpus

    for s in corpus.references(3_000):
        want = reference.parse_normalized_or_code(s)
        try:
            r = rr.parse_normalized_named(s)
            got: object = (r.domain, r.path, r.tag, r.digest)
        except rr.ReferenceError as e:
            got = e.code
        if not isinstance(want, str):
            want = (want.domain, want.path, want.tag, want.digest)
        assert got == want, s
