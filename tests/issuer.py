"""A service-account issuer for tests: keys made here with ``cryptography``, a JWKS as the API server
serves it at ``/openid/v1/jwks``, and tokens signed the way the API server signs them
(kubernetes/kubernetes pkg/serviceaccount/jwt.go and claims.go (v1.34): compact JWS, header
``{"alg", "kid"}`` with ``kid`` the unpadded base64url SHA-256 of the public key's PKIX DER, ES256
signatures as raw ``r || s``; claims ``aud`` (a list), ``exp``, ``iat``, ``nbf``, ``iss``, ``jti``,
``sub`` and ``kubernetes.io`` with namespace, node, pod, serviceaccount and ``warnafter``)."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

AUDIENCE = "pullkey"
ISSUER = "https://kubernetes.default.svc.cluster.local"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(n: int, size: int | None = None) -> str:
    return b64url(n.to_bytes(size or (n.bit_length() + 7) // 8, "big"))


@functools.cache
def rsa_key(name: str = "rsa") -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key per name, made once per test session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_key(name: str = "ec") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def kid_of(key: PrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def jwk_of(key: PrivateKey) -> dict[str, str]:
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.public_key().public_numbers()
        return {"use": "sig", "kty": "RSA", "kid": kid_of(key), "alg": "RS256", "n": _int(n.n), "e": _int(n.e)}
    p = key.public_key().public_numbers()
    return {
        "use": "sig",
        "kty": "EC",
        "crv": "P-256",
        "kid": kid_of(key),
        "alg": "ES256",
        "x": _int(p.x, 32),
        "y": _int(p.y, 32),
    }


def jwks(*keys: PrivateKey) -> dict[str, Any]:
    return {"keys": [jwk_of(k) for k in keys]}


def write_jwks(path: Path, *keys: PrivateKey) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jwks(*keys)))
    return path


def claims(
    namespace: str,
    service_account: str,
    *,
    now: int | None = None,
    lifetime: int = 3600,
    audience: list[str] | str | None = None,
    issuer: str = ISSUER,
    sa_uid: str | None = None,
    pod: str = "app-0",
) -> dict[str, Any]:
    t = int(time.time()) if now is None else now
    return {
        "aud": [AUDIENCE] if audience is None else audience,
        "exp": t + lifetime,
        "iat": t,
        "iss": issuer,
        "jti": str(uuid.uuid4()),
        "kubernetes.io": {
            "namespace": namespace,
            "node": {"name": "node-1", "uid": "6f3c0f0e-node"},
            "pod": {"name": pod, "uid": f"{pod}-uid"},
            "serviceaccount": {"name": service_account, "uid": sa_uid or f"{namespace}-{service_account}-uid"},
            "warnafter": t + min(lifetime, 3607),
        },
        "nbf": t,
        "sub": f"system:serviceaccount:{namespace}:{service_account}",
    }


def sign(payload: dict[str, Any], key: PrivateKey, *, kid: str | None = None) -> str:
    """A compact JWS of ``payload``, RS256 for an RSA key, ES256 for a P-256 key."""
    alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
    header = {"alg": alg, "kid": kid_of(key) if kid is None else kid}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}".encode()
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input.decode()}.{b64url(signature)}"


def token(namespace: str, service_account: str, key: PrivateKey | None = None, **kw: Any) -> str:
    """A token for ``namespace/service_account`` signed by ``key`` (the session RSA key by default)."""
    return sign(claims(namespace, service_account, **kw), key or rsa_key())
