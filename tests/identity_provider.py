"""A local identity provider for the tests: RSA and EC keys made here, a JWKS served over HTTP on
loopback from a thread, and tokens signed with those keys (PRV-2)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://login.saas.test/"
AUDIENCE = "billing-gateway"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: PrivateKey

    @classmethod
    def rsa(cls, kid: str) -> SigningKey:
        return cls(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str) -> SigningKey:
        return cls(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            key: dict[str, Any] = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            key = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**key, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def token(self, claims: dict[str, Any], *, lifetime: timedelta = timedelta(minutes=10)) -> str:
        now = datetime.now(UTC)
        body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + lifetime, **claims}
        return jwt.encode(body, self.private, algorithm=self.algorithm, headers={"kid": self.kid})


@dataclass
class JwksServer:
    """Serves `keys` as a JWKS at /jwks.json; `garbage` makes it answer a body that is not one."""

    keys: list[SigningKey] = field(default_factory=list)
    garbage: bytes | None = None
    fetches: int = 0
    url: str = ""

    def body(self) -> bytes:
        if self.garbage is not None:
            return self.garbage
        return json.dumps({"keys": [key.jwk() for key in self.keys]}).encode()


@contextmanager
def jwks_server(*keys: SigningKey) -> Iterator[JwksServer]:
    state = JwksServer(keys=list(keys))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.fetches += 1
            body = state.body()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
