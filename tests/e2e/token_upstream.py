"""An upstream registry that a pull-through cache can log into: Debian's docker-registry
(distribution 2.8) sends the proxy's ``username``/``password`` only to a Bearer token realm
(``distribution/distribution registry/proxy/proxyauth.go``: ``getAuthURLs`` keeps ``bearer``
challenges only), so this upstream uses token auth, with its own users checked by a small token
server: basic auth in, an RS256 JWT with an ``x5c`` chain out (the registry checks it against its
``rootcertbundle``)."""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .harness import Registry

SERVICE = "pullkey-e2e-upstream"
ISSUER = "pullkey-e2e-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Basic auth against ``users``; a JWT granting the requested scope's actions to a known user."""

    def __init__(self, workdir: Path, users: dict[str, str]) -> None:
        self.users = users
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = workdir / "token-root.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.issued = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                header = self.headers.get("Authorization", "")
                user = ""
                if header.startswith("Basic "):
                    name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                    if server.users.get(name) == password:
                        user = name
                if not user:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="token"')
                    self.end_headers()
                    return
                scopes = parse_qs(urlparse(self.path).query).get("scope", [])
                body = json.dumps({"token": server.token(user, scopes)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/token"

    def token(self, user: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        der = self.cert.public_bytes(serialization.Encoding.DER)
        head = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing = _b64url(json.dumps(head).encode()) + "." + _b64url(json.dumps(claims).encode())
        signature = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        self.issued += 1
        return signing + "." + _b64url(signature)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class TokenRegistry(Registry):
    """``docker-registry`` with token auth issued by ``tokens`` (its own users)."""

    tokens: TokenServer | None = field(default=None, repr=False)

    def _write_config(self) -> Path:
        assert self.tokens is not None
        storage = self.workdir / "storage"
        storage.mkdir(exist_ok=True)
        config = "\n".join(
            [
                "version: 0.1",
                "log:",
                "  level: info",
                "storage:",
                "  filesystem:",
                f"    rootdirectory: {json.dumps(str(storage))}",
                "http:",
                f"  addr: {json.dumps(self.host)}",
                f"  secret: {json.dumps('e2e-' + self.name)}",
                "auth:",
                "  token:",
                f"    realm: {json.dumps(self.tokens.realm)}",
                f"    service: {json.dumps(SERVICE)}",
                f"    issuer: {json.dumps(ISSUER)}",
                f"    rootcertbundle: {json.dumps(str(self.tokens.bundle))}",
                "",
            ]
        )
        path = self.workdir / "config.yml"
        path.write_text(config)
        return path
