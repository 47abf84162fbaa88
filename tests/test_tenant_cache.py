"""Tenants under the kubelet's service-account cache: the kubelet model (oracles/kubelet_sim.py, with the
service-account cache key, the singleflight key and the token echo guard of docs/kubelet.md §e.2, §e.5)
drives pullkey's exec answer (in process: the same loader and core calls as the executable) and proves:

1. two tenants pulling the same image get different credentials;
2. neither can obtain the other's by any sequence of pulls (hypothesis: pods, images, clock);
3. a pod whose service account matches no set gets only node credentials;
4. a forged or expired token gets nothing from any set;

and that with ``cacheType: Token`` no cached answer outlives its token.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import issuer
import pytest
from conftest import b64auth, write_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pullkey import _core, _load, tenants
from pullkey.options import Options
from test_tenants import CONFIG, REGISTRY

from oracles import kubelet_sim as kubelet

OTHER = "other.example.com"
IMAGES = (f"{REGISTRY}/team-a/app", f"{REGISTRY}/common/base", f"{OTHER}/tools", "docker.io/library/busybox")
NODE = {"node-robot", "other-node"}
ALLOWED = {"team-a": NODE | {"team-a-robot"}, "team-b": NODE | {"team-b-robot"}, "none": NODE}
START = 1_760_000_000


class Clock:
    """One clock for the kubelet model (ns) and pullkey (s)."""

    def __init__(self) -> None:
        self.s = START

    def ns(self) -> int:
        return self.s * 1_000_000_000


def make_node(tmp: Path, cache_type: str, cache_policy: str) -> Path:
    etc = tmp / "etc"
    write_config(
        tmp / "kubelet" / "config.json",
        {REGISTRY: {"auth": b64auth("node-robot", "n")}, OTHER: {"auth": b64auth("other-node", "o")}},
    )
    write_config(etc / "team-a" / "config.json", {REGISTRY: {"auth": b64auth("team-a-robot", "a")}})
    (etc / "team-b").mkdir(parents=True, exist_ok=True)
    write_config(etc / "team-b" / "config.json", {REGISTRY: {"auth": b64auth("team-b-robot", "b")}})
    issuer.write_jwks(etc / "jwks.json", issuer.rsa_key(), issuer.ec_key())
    config = (
        CONFIG.replace("cacheType: ServiceAccount", f"cacheType: {cache_type}")
        .replace(
            "      - type: PullSecret\n        path: team-b/pull-secret.yaml",
            "      - type: DockerConfig\n        path: team-b/config.json",
        )
        .replace("cache:\n  duration: 10m", f"cache:\n  duration: 10m\n  policy: {cache_policy}")
    )
    (etc / "pullkey.yaml").write_text(config)
    return etc / "pullkey.yaml"


def plugin(config: Path, root: Path, clock: Clock) -> kubelet.RunFn:
    """pullkey's exec path in process: the loader's state, then the tenant decision and the core's answer."""
    state = _load.load(Options(config=str(config), root_dir=str(root), home=str(root / "nohome")))

    def run(stdin: bytes) -> tuple[int, bytes, bytes]:
        keyring, duration, note = tenants.exec_keyring(state, stdin, now=clock.s)
        out = _core._exec_respond(keyring, stdin, state.settings.cache_policy, duration)
        return 0, out, (note or "").encode()

    return run


class Minter:
    """The API server's TokenRequest (and the kubelet's token cache): one token per pod until it expires.
    ``forge``/``expire`` make the tokens of some pods forged (another key) or already expired."""

    def __init__(self, clock: Clock, lifetime: int = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.tokens: dict[str, tuple[str, int]] = {}
        self.expiry_by_hash: dict[str, int] = {}
        self.forge: set[str] = set()
        self.expire: set[str] = set()

    def __call__(self, sa: kubelet.ServiceAccount, pod: kubelet.Pod, audience: str) -> str:
        held = self.tokens.get(pod.uid)
        if held is not None and held[1] > self.clock.s:
            return held[0]
        now = self.clock.s - 7200 if pod.name in self.expire else self.clock.s
        claims = issuer.claims(sa.namespace, sa.name, now=now, lifetime=self.lifetime, sa_uid=sa.uid, pod=pod.name)
        if pod.name in self.forge:  # a token claiming team-a's identity, signed with a key the issuer never had
            claims = issuer.claims("team-a", "default", now=now, lifetime=self.lifetime, sa_uid="team-a-default-uid")
        key = issuer.rsa_key("forger") if pod.name in self.forge else issuer.rsa_key()
        token = issuer.sign(claims, key, kid=issuer.kid_of(issuer.rsa_key()))
        self.tokens[pod.uid] = (token, claims["exp"])
        self.expiry_by_hash["sha256:" + hashlib.sha256(token.encode()).hexdigest()] = claims["exp"]
        return token


def sa(namespace: str, name: str, **annotations: str) -> kubelet.ServiceAccount:
    return kubelet.ServiceAccount(namespace, name, f"{namespace}-{name}-uid", tuple(annotations.items()))


SET_KEY = "pullkey.dev/credential-set"
PODS = {
    "a1": (kubelet.Pod("team-a", "a1", "a1-uid", sa("team-a", "default")), "team-a"),
    "a2": (kubelet.Pod("team-a", "a2", "a2-uid", sa("team-a", "builder")), "team-a"),
    "b1": (kubelet.Pod("team-b", "b1", "b1-uid", sa("team-b", "default", **{SET_KEY: "team-b"})), "team-b"),
    # team-b's namespace without the annotation, and the annotation in another namespace: no set.
    "b2": (kubelet.Pod("team-b", "b2", "b2-uid", sa("team-b", "plain")), "none"),
    "c1": (kubelet.Pod("team-c", "c1", "c1-uid", sa("team-c", "default", **{SET_KEY: "team-b"})), "none"),
    "nosa": (kubelet.Pod("team-a", "nosa", "nosa-uid", None), "none"),
    # Tokens that prove nothing: one forged to claim team-a/default, one expired (of an annotated team-b
    # account). The kubelet keys its cache by the pod's own service account, not by the token's claims.
    "forged": (kubelet.Pod("team-c", "forged", "forged-uid", sa("team-c", "intruder")), "none"),
    "expired": (kubelet.Pod("team-b", "expired", "expired-uid", sa("team-b", "old", **{SET_KEY: "team-b"})), "none"),
}


class World:
    def __init__(self, tmp: Path, cache_type: str, cache_policy: str) -> None:
        self.clock = Clock()
        config = make_node(tmp, cache_type, cache_policy)
        self.minter = Minter(self.clock, lifetime=400)  # shorter than the 10m cacheDuration: the cap matters
        self.minter.forge.add("forged")
        self.minter.expire.add("expired")
        provider = kubelet.ProviderConfig("pullkey", ("*.example.com", "docker.io"), "5m")
        attributes = kubelet.TokenAttributes("pullkey", cache_type, False, (), (SET_KEY,))
        self.provider = kubelet.ServiceAccountPluginProvider(
            provider, attributes, plugin(config, tmp / "kubelet", self.clock), self.minter, self.clock.ns
        )

    def pull(self, pod: str, image: str) -> set[str]:
        creds = kubelet.plugin_credentials_for_pod(self.provider, image, PODS[pod][0])
        return {user for user, _ in creds}

    def check_cache_against_tokens(self) -> None:
        """With cacheType Token every entry's key carries its token's hash: no entry outlives that token."""
        if self.provider.attributes.cache_type != "Token":
            return
        for key, (_, expires_ns) in self.provider.cache.items():
            marker = key.find(b"\x00\x05token")
            if marker < 0:
                continue  # plain mode (no service account): node answers only
            token_hash = key[marker + 9 :].decode()
            assert expires_ns <= self.minter.expiry_by_hash[token_hash] * 1_000_000_000


@pytest.fixture(
    params=[("ServiceAccount", "auto"), ("Token", "auto"), ("ServiceAccount", "Global"), ("Token", "Global")]
)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> World:
    cache_type, policy = request.param
    return World(tmp_path, cache_type, policy)


def test_two_tenants_pulling_the_same_image_get_different_credentials(world: World) -> None:
    image = f"{REGISTRY}/common/base"
    a, b = world.pull("a1", image), world.pull("b1", image)
    assert a == {"team-a-robot", "node-robot"} and b == {"team-b-robot", "node-robot"}
    assert world.pull("a1", image) == a and world.pull("b1", image) == b, "the cached answers too"


def test_a_service_account_matching_no_set_gets_only_node_credentials(world: World) -> None:
    for pod in ("b2", "c1", "nosa"):
        assert world.pull(pod, f"{REGISTRY}/team-a/app") == {"node-robot"}, pod


def test_a_forged_or_expired_token_gets_nothing_from_any_set(world: World) -> None:
    world.pull("a1", f"{REGISTRY}/team-a/app")  # team-a's answer is in the cache already
    world.pull("b1", f"{REGISTRY}/team-a/app")
    for pod in ("forged", "expired"):
        assert world.pull(pod, f"{REGISTRY}/team-a/app") == {"node-robot"}, pod
    assert all(expires > world.clock.ns() for _, expires in world.provider.cache.values()), "no 0s answer cached"


def test_the_token_echo_guard_drops_an_echoing_answer(tmp_path: Path) -> None:
    """The model's guard (§e.2 step 6) and that pullkey's answers never trip it."""
    clock = Clock()
    minter = Minter(clock)

    def echo(stdin: bytes) -> tuple[int, bytes, bytes]:
        import json

        token = json.loads(stdin)["serviceAccountToken"]
        body = {
            "kind": "CredentialProviderResponse",
            "apiVersion": f"{kubelet.API_GROUP}/v1",
            "cacheKeyType": "Image",
            "auth": {REGISTRY: {"username": "u", "password": token}},
        }
        return 0, json.dumps(body).encode(), b""

    config = kubelet.ProviderConfig("echo", ("*.example.com",), "5m")
    for cache_type, dropped in (("ServiceAccount", 1), ("Token", 0)):
        provider = kubelet.ServiceAccountPluginProvider(
            config, kubelet.TokenAttributes("pullkey", cache_type, False), echo, minter, clock.ns
        )
        got = kubelet.plugin_credentials_for_pod(provider, f"{REGISTRY}/x", PODS["a1"][0])
        assert (provider.dropped, bool(got)) == (dropped, not dropped)
    world = World(tmp_path, "ServiceAccount", "auto")
    for pod in PODS:
        world.pull(pod, f"{REGISTRY}/x")
    assert world.provider.dropped == 0


def test_singleflight_shares_one_run_per_key(tmp_path: Path) -> None:
    world = World(tmp_path, "ServiceAccount", "Image")
    image = f"{REGISTRY}/x"
    pulls = [(image, PODS["a1"][0]), (image, PODS["a1"][0]), (image, PODS["b1"][0]), (f"{OTHER}/y", PODS["a1"][0])]
    results = world.provider.provide_concurrently(pulls)
    assert world.provider.exec_count == 3, "a1's two identical pulls share one run"
    assert results[0] == results[1] and results[0] != results[2]
    assert kubelet.singleflight_key(image, "t", {}, True) != kubelet.singleflight_key(image, "u", {}, True)
    assert kubelet.singleflight_key(image, "", {}, False) == image.encode()


Step = tuple[str, str, int]
steps = st.lists(
    st.tuples(st.sampled_from(sorted(PODS)), st.sampled_from(IMAGES), st.sampled_from((0, 1, 290, 310, 1800, 3700))),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
def test_no_sequence_of_pulls_leaks_a_tenants_credentials(world: World, sequence: list[Step]) -> None:
    """Any interleaving of pods, images and clock advances (across cache expiry and token refresh):
    every pull gets only what its own identity allows."""
    world.provider.cache.clear()
    world.minter.tokens.clear()
    world.clock.s = START
    for pod, image, advance in sequence:
        world.clock.s += advance
        got = world.pull(pod, image)
        assert got <= ALLOWED[PODS[pod][1]], (pod, image, got)
        world.check_cache_against_tokens()


def test_tokens_are_refreshed_before_the_cache_forgets(world: World) -> None:
    """Across a token refresh the tenant keeps its credentials; Token-type entries die with the token."""
    image = f"{REGISTRY}/team-a/app"
    assert "team-a-robot" in world.pull("a1", image)
    world.clock.s += 3601  # token expired: the kubelet mints a new one
    assert "team-a-robot" in world.pull("a1", image)
    world.check_cache_against_tokens()
