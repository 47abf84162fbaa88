"""`parse_references` against `parse_reference`, and the lazily derived attributes of `Reference`.

The bulk call borrows its inputs and builds its error instances itself; every result must still be
exactly what the single call returns or raises (docs/reference.md; `docs/architecture.md` "Performance budgets").
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pullkey import InvalidReference, Reference, parse_reference, parse_references

HEX64 = "0123456789abcdef" * 4

INPUTS = [
    "busybox",
    "busybox:latest",
    "user/repo:tag",
    "index.docker.io/library/foo/bar",
    f"gcr.io/x:latest@sha256:{HEX64}",
    f"docker.io/library/x:1@sha256:{HEX64}",
    "[::1]:5000/foo",
    "localhost:5000",
    "foo_bar.com/baz",
    "Foo/bar",
    # invalid, one per error class that normalising parse can give
    "",
    "foo//bar",
    "foo/Bar",
    HEX64,
    "a" * 300,
    f"foo@sha256:{'A' * 64}",
    f"foo@sha256:{'a' * 32}",
    f"foo@md5:{'a' * 32}",
    "foo:" + "t" * 129,
    "foo\n",
    "é/ü:ß",
    "\u212a",
]

ATTRS = ("domain", "path", "tag", "digest", "repository", "normalized", "familiar", "default_pull_policy")


def single(text: str, normalize: bool) -> Reference | InvalidReference:
    try:
        return parse_reference(text, normalize=normalize)
    except InvalidReference as e:
        return e


def assert_same(bulk: object, one: object, text: str) -> None:
    assert type(bulk) is type(one), text
    if isinstance(one, InvalidReference):
        assert isinstance(bulk, InvalidReference)
        assert (bulk.args, bulk.code, bulk.input, str(bulk)) == (one.args, one.code, one.input, str(one))
        assert vars(bulk) == vars(one)
    else:
        assert isinstance(bulk, Reference) and isinstance(one, Reference)
        assert bulk == one and hash(bulk) == hash(one)
        assert [getattr(bulk, a) for a in ATTRS] == [getattr(one, a) for a in ATTRS]
        assert (str(bulk), repr(bulk)) == (str(one), repr(one))


@pytest.mark.parametrize("normalize", [True, False])
def test_bulk_equals_single_calls(normalize: bool) -> None:
    out = parse_references(INPUTS, normalize=normalize)
    assert len(out) == len(INPUTS)
    for text, got in zip(INPUTS, out, strict=True):
        assert_same(got, single(text, normalize), text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), st.from_regex(r"[a-zA-Z0-9._:/@\[\]-]{0,30}", fullmatch=True))))
def test_bulk_equals_single_calls_on_any_text(texts: list[str]) -> None:
    for normalize in (True, False):
        for text, got in zip(texts, parse_references(texts, normalize=normalize), strict=True):
            assert_same(got, single(text, normalize), text)


def test_bulk_accepts_other_iterables_but_not_a_str() -> None:
    want = parse_references(["busybox", "a/b:c"])
    assert parse_references(("busybox", "a/b:c")) == want  # type: ignore[arg-type]
    assert parse_references(t for t in ["busybox", "a/b:c"]) == want  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_references("busybox")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_references(["busybox", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        parse_references(["busybox", b"busybox"])  # type: ignore[list-item]


def test_attributes_are_derived_on_read() -> None:
    r = parse_reference(f"Docker.io/foo:1@sha256:{HEX64}", normalize=False)
    assert (r.domain, r.path, r.tag, r.digest) == ("Docker.io", "foo", "1", f"sha256:{HEX64}")
    assert r.repository == "Docker.io/foo"
    assert r.normalized == f"Docker.io/foo@sha256:{HEX64}"
    assert r.familiar == f"Docker.io/foo:1@sha256:{HEX64}"
    assert r.default_pull_policy == "IfNotPresent"
    r = parse_reference("docker.io/library/a/b")
    assert (r.familiar, r.normalized, r.tag) == ("library/a/b", "docker.io/library/a/b:latest", None)
    assert repr(r) == 'Reference("docker.io/library/a/b:latest")'
    for name in ATTRS:
        value = getattr(r, name)
        assert value is None or type(value) is str, name
        with pytest.raises(AttributeError):
            setattr(r, name, "x")


def test_equality_and_hash_are_on_value() -> None:
    a = parse_reference("busybox")
    b = parse_reference("docker.io/library/busybox", normalize=False)
    c = parse_reference("busybox", normalize=False)
    assert a == b and hash(a) == hash(b) and len({a, b, c}) == 2
    assert a != c
    assert a != "docker.io/library/busybox:latest"
