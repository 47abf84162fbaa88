"""The Python API over the Rust core: types, values, error classes and codes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pullkey
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pullkey import InvalidReference, Keyring, PullkeyError, parse_reference, parse_references

from oracles.reference import Ref
from oracles.reference import parse_normalized_or_code as parse_normalized
from oracles.reference import parse_or_code as parse

HEX64 = "a" * 64


def test_reference_fields() -> None:
    r = parse_reference("localhost:5000/foo/bar:1.0")
    assert (r.domain, r.path, r.tag, r.digest) == ("localhost:5000", "foo/bar", "1.0", None)
    assert r.repository == "localhost:5000/foo/bar"
    assert r.normalized == "localhost:5000/foo/bar:1.0"
    assert r.familiar == "localhost:5000/foo/bar:1.0"
    assert r.default_pull_policy == "IfNotPresent"
    assert str(r) == r.normalized
    with pytest.raises(AttributeError):
        r.tag = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "repository", "normalized", "familiar", "policy"),
    [
        ("busybox", "docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox", "Always"),
        ("busybox:latest", "docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "Always"),
        ("user/repo:tag", "docker.io/user/repo", "docker.io/user/repo:tag", "user/repo:tag", "IfNotPresent"),
        (
            "index.docker.io/library/foo/bar",
            "docker.io/library/foo/bar",
            "docker.io/library/foo/bar:latest",
            "library/foo/bar",
            "Always",
        ),
        (
            f"gcr.io/x:latest@sha256:{HEX64}",
            "gcr.io/x",
            f"gcr.io/x@sha256:{HEX64}",
            f"gcr.io/x:latest@sha256:{HEX64}",
            "Always",
        ),
        (
            f"gcr.io/x@sha256:{HEX64}",
            "gcr.io/x",
            f"gcr.io/x@sha256:{HEX64}",
            f"gcr.io/x@sha256:{HEX64}",
            "IfNotPresent",
        ),
        ("Foo/bar", "Foo/bar", "Foo/bar:latest", "Foo/bar", "Always"),
        ("[::1]:5000/foo", "[::1]:5000/foo", "[::1]:5000/foo:latest", "[::1]:5000/foo", "Always"),
        (
            "localhost:5000",
            "docker.io/library/localhost",
            "docker.io/library/localhost:5000",
            "localhost:5000",
            "IfNotPresent",
        ),
    ],
)
def test_normalisation(text: str, repository: str, normalized: str, familiar: str, policy: str) -> None:
    r = parse_reference(text)
    assert (r.repository, r.normalized, r.familiar, r.default_pull_policy) == (repository, normalized, familiar, policy)


@pytest.mark.parametrize(
    ("text", "code", "normalize"),
    [
        ("", "invalid_format", True),
        ("", "name_empty", False),
        ("foo/Bar", "name_contains_uppercase", False),
        ("foo/Bar", "normalized_name_not_lowercase", True),
        (HEX64, "normalized_name_is_identifier", True),
        ("a" * 248, "name_too_long", True),
        ("a" * 256, "name_too_long", False),
        (f"foo@sha256:{'A' * 64}", "digest_invalid_format", True),
        (f"foo@sha256:{'a' * 32}", "digest_invalid_length", True),
        (f"foo@md5:{'a' * 32}", "digest_unsupported", True),
        ("foo:" + "t" * 129, "invalid_format", True),
        ("foo\n", "invalid_format", True),
    ],
)
def test_error_codes(text: str, code: str, normalize: bool) -> None:
    with pytest.raises(InvalidReference) as info:
        parse_reference(text, normalize=normalize)
    err = info.value
    assert err.code == code
    assert err.input == text
    assert isinstance(err, PullkeyError) and isinstance(err, ValueError)
    if text:
        assert repr(text)[1:-1][:40] in str(err) or text[:40] in str(err)


def test_raw_parse_keeps_the_first_segment_as_domain() -> None:
    r = parse_reference("foo/bar", normalize=False)
    assert (r.domain, r.path) == ("foo", "bar")
    r = parse_reference("test_com/foo", normalize=False)
    assert (r.domain, r.path) == ("", "test_com/foo")


def test_bulk_parse_keeps_order_and_errors_in_place() -> None:
    out = parse_references(["busybox", "foo//bar", "quay.io/a/b:1"])
    assert isinstance(out[0], pullkey.Reference) and out[0].repository == "docker.io/library/busybox"
    assert isinstance(out[1], InvalidReference) and out[1].code == "invalid_format" and out[1].input == "foo//bar"
    assert isinstance(out[2], pullkey.Reference) and out[2].tag == "1"
    assert parse_references([]) == []


def test_error_pickles() -> None:
    try:
        parse_reference("foo//bar")
    except InvalidReference as e:
        again = pickle.loads(pickle.dumps(e))
        assert str(again) == str(e)


def test_match_image() -> None:
    assert pullkey.match_image("*.k8s.io", "app.k8s.io")
    assert not pullkey.match_image("*.k8s.io", "k8s.io")
    assert pullkey.match_image("registry.io:5000/team", "registry.io:5000/team/app")
    assert not pullkey.match_image("registry.io", "registry.io:5000/app")


def test_keyring_from_docker_config_forms() -> None:
    cfg = {"auths": {"registry.io": {"username": "u", "password": "CANARY-pw"}}}
    import json

    for data in (cfg, json.dumps(cfg), json.dumps(cfg).encode(), cfg["auths"]):
        kr = Keyring.from_docker_config(data, source="test.json")
        assert len(kr) == 1
        (cred,) = kr.lookup("registry.io/team/app")
        assert (cred.key, cred.username, cred.password, cred.source) == ("registry.io", "u", "CANARY-pw", "test.json")
        assert "CANARY-pw" not in repr(cred)
        assert "CANARY-pw" not in repr(kr)
    with pytest.raises(pullkey.ConfigError):
        Keyring.from_docker_config("{not json")


# --- property tests against the independent oracle -------------------------------------------------

ALPHABET = "abcxyz019AZ._-:/@[]"
pieces = st.sampled_from(
    [
        "a",
        "b",
        "foo",
        "x1",
        "A",
        ".",
        "_",
        "__",
        "-",
        "--",
        ":",
        "/",
        "@",
        "5000",
        "localhost",
        "docker.io",
        "index.docker.io",
        "library",
        "[::1]",
        "example.com",
        "sha256:",
        "sha512:",
        "md5:",
        HEX64,
        "0123456789abcdef" * 2,
        "latest",
        "v1.0",
        "Tag_",
    ]
)
references = st.one_of(st.text(alphabet=ALPHABET, max_size=40), st.lists(pieces, max_size=8).map("".join))


def _as_ref(r: pullkey.Reference) -> Ref:
    return Ref(r.domain, r.path, r.tag, r.digest)


@settings(max_examples=3000, deadline=None)
@given(references)
def test_raw_parse_agrees_with_oracle(text: str) -> None:
    expected = parse(text)
    try:
        got: Ref | str = _as_ref(parse_reference(text, normalize=False))
    except InvalidReference as e:
        got = e.code
    assert got == expected


@settings(max_examples=3000, deadline=None)
@given(references)
def test_normalized_parse_agrees_with_oracle(text: str) -> None:
    expected = parse_normalized(text)
    try:
        r = parse_reference(text)
    except InvalidReference as e:
        assert e.code == expected
        return
    assert _as_ref(r) == expected
    again = parse_reference(r.normalized)
    assert again.normalized == r.normalized


def test_load_keyring_from_search_paths(tmp_path: Path) -> None:
    import json

    root = tmp_path / "kubelet"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"auths": {"r.example": {"username": "u", "password": "p"}}}))
    kr = pullkey.load_keyring(pullkey.Options(root_dir=str(root), home=str(tmp_path), cwd=str(tmp_path)))
    assert [c.username for c in kr.lookup("r.example/app")] == ["u"]
    assert kr.lookup("r.example/app")[0].source == str(root / "config.json")
