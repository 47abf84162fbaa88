"""The e2e oracle itself: the minimal kubelet keyring and strict decode used to judge pullkey's answers.

Table rows are the kubelet behaviours of spec/kubelet.md §c.1-§c.3 and §e.3, in our own words.
"""

from __future__ import annotations

import pytest

from .harness import (
    BasicKeyring,
    Cred,
    ResponseError,
    _local_strict_decode_response,
    normalize_key,
    urls_match_str,
)


@pytest.mark.parametrize(
    ("pattern", "target", "expected"),
    [
        # §c.2.5: one glob per dotted label; IP addresses are labels like any other.
        ("127.0.0.*:5000", "127.0.0.1:5000/team/app", True),
        ("127.*.*.*:5000", "127.0.0.1:5000/team/app", True),
        ("127.0.*:5000", "127.0.0.1:5000/team/app", False),  # label count differs
        ("*:5000", "127.0.0.1:5000/team/app", False),
        # §c.2.2: ports compare as strings, no globbing, absent != present.
        ("127.0.0.1", "127.0.0.1:5000/team/app", False),
        ("127.0.0.1:5001", "127.0.0.1:5000/team/app", False),
        ("127.0.0.1:5000", "127.0.0.1/team/app", False),
        # §c.2.4: plain string prefix on the path.
        ("127.0.0.1:5000/team", "127.0.0.1:5000/team/app", True),
        ("127.0.0.1:5000/te", "127.0.0.1:5000/team/app", True),
        ("127.0.0.1:5000/team/", "127.0.0.1:5000/team/app", True),
        ("127.0.0.1:5000/elsewhere", "127.0.0.1:5000/team/app", False),
        ("127.0.0.1:5000/team/app/x", "127.0.0.1:5000/team/app", False),
        # §c.2.5 examples.
        ("*.k8s.io", "k8s.io", False),
        ("*k8s.io", "k8s.io", True),
        ("app*.k8s.io", "app1.k8s.io", True),
        ("k8s.*", "k8s.io", True),
        ("", "k8s.io", False),
    ],
)
def test_urls_match_str(pattern: str, target: str, expected: bool) -> None:
    assert urls_match_str(pattern, target) is expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("127.0.0.1:5000/", "127.0.0.1:5000"),
        ("http://127.0.0.1:5000/v2/team/", "127.0.0.1:5000/team/"),
        ("https://127.0.0.1:5000/v1/", "127.0.0.1:5000"),
        ("https://127.0.0.1:5000/v1", "127.0.0.1:5000/v1"),
        ("127.0.0.*:5000", "127.0.0.*:5000"),
    ],
)
def test_normalize_key(raw: str, key: str) -> None:
    assert normalize_key(raw) == key


def test_lookup_order_is_descending_key_order_with_all_creds_of_each_key() -> None:
    ring = BasicKeyring()
    ring.add(
        {
            "127.0.0.*:5000": {"username": "glob", "password": "g"},
            "127.0.0.1:5000": {"username": "port", "password": "p"},
            "127.0.0.1:5000/team/app": {"username": "app", "password": "a"},
            "127.0.0.1:5000/team": {"username": "team", "password": "t"},
            "127.0.0.1:5001": {"username": "other", "password": "o"},
        }
    )
    ring.add({"http://127.0.0.1:5000/v2/team": {"username": "team2", "password": "t2"}})
    assert [c.username for c in ring.lookup("127.0.0.1:5000/team/app")] == ["app", "team", "team2", "port", "glob"]
    assert ring.lookup("127.0.0.1:5002/team/app") == []


def test_cred_repr_hides_the_password() -> None:
    assert "s3cret" not in repr(Cred("u", "s3cret"))
    assert Cred("u", "a") != Cred("u", "b")


GOOD = b'{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1",'


@pytest.mark.parametrize(
    "stdout",
    [
        b"",
        b"kind: CredentialProviderResponse\n",
        GOOD + b'"cacheKeyType":"Image"} trailing',
        GOOD + b'"cacheKeyType":"Image","extra":1}',
        GOOD + b'"cacheKeyType":"Image","cacheKeyType":"Image"}',
        GOOD + b'"cacheKeyType":"Nope"}',
        GOOD + b'"cacheKeyType":"Image","cacheDuration":60}',
        GOOD + b'"cacheKeyType":"Image","auth":{"h":{"username":"u","password":"p","email":"e"}}}',
        GOOD + b'"cacheKeyType":"Image","auth":{"h":{"username":1}}}',
        b'{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1",'
        b'"cacheKeyType":"Image"}',
    ],
)
def test_strict_decode_rejects(stdout: bytes) -> None:
    with pytest.raises(ResponseError):
        _local_strict_decode_response(stdout, "credentialprovider.kubelet.k8s.io/v1")


def test_strict_decode_accepts() -> None:
    doc = _local_strict_decode_response(
        GOOD + b'"cacheKeyType":"Registry","cacheDuration":"5m","auth":{"h:1":{"username":"u","password":"p"}}}\n',
        "credentialprovider.kubelet.k8s.io/v1",
    )
    assert doc["auth"] == {"h:1": {"username": "u", "password": "p"}}
