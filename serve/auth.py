"""API keys (kept only as SHA-256 hashes) and short-lived HMAC tokens for browsers.

A configured key may be written already hashed, ``sha256:<64 hex>`` (``rtt serve --hash-key
KEY`` prints it), so that a config file or an environment variable never holds a usable key.

A caller is identified by a *principal*: the hash prefix of its key (``k:<12 hex>``), which
is what limits, session ownership and data deletion key on; the raw key never leaves this module.
Tokens carry the principal, an audience and an expiry, signed with the server's secret, so a
browser page can hold a token that dies in minutes instead of the key itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from rtt.errors import ConfigError
from rtt.protocol import ProtocolError

TOKEN_PREFIX = "rtt1."
HASHED_PREFIX = "sha256:"


@dataclass(frozen=True)
class Principal:
    id: str  # "k:<hash prefix>" for keys and their tokens, "anon:<address>" without auth
    via: str  # "key" | "token" | "anonymous"
    # An operator's key (serve.admin_keys): may read every key's usage.  Tokens never are.
    admin: bool = False


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def stored_hash(entry: str) -> str:
    """The SHA-256 hex a configured key entry stands for: ``sha256:<hex>`` as written, else the
    hash of the plain key."""
    if not entry.startswith(HASHED_PREFIX):
        return hash_key(entry)
    digest = entry[len(HASHED_PREFIX):].strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        # A typo here would silently lock everyone out (or, worse, be taken as a plain key).
        raise ConfigError("a hashed API key must be 'sha256:' followed by 64 hex digits",
                          got=entry[:len(HASHED_PREFIX) + 8] + "...")
    return digest


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    def __init__(self, api_keys: list[str], token_secret: str | None, audience: str,
                 admin_keys: list[str] | None = None) -> None:
        self._admin = frozenset(stored_hash(k) for k in admin_keys or ())
        self._hashes = frozenset(stored_hash(k) for k in api_keys) | self._admin
        self._secret = (token_secret or secrets.token_hex(32)).encode("utf-8")
        self.audience = audience

    @property
    def enabled(self) -> bool:
        return bool(self._hashes)

    def principal_for_key(self, key: str) -> Principal | None:
        digest = hash_key(key)
        for known in self._hashes:
            if hmac.compare_digest(digest, known):
                return Principal(f"k:{digest[:12]}", "key", admin=known in self._admin)
        return None

    def authenticate(self, credential: str | None, client_addr: str = "local") -> Principal:
        """Return the caller's principal or raise ``UNAUTHORIZED``."""
        if not self.enabled:
            return Principal(f"anon:{client_addr}", "anonymous")
        if not credential:
            raise ProtocolError("UNAUTHORIZED", "an API key or token is required (Authorization: Bearer ...)")
        if credential.startswith(TOKEN_PREFIX):
            return self.verify_token(credential)
        principal = self.principal_for_key(credential)
        if principal is None:
            raise ProtocolError("UNAUTHORIZED", "the API key is not valid")
        return principal

    # -- tokens --------------------------------------------------------------------------------
    def mint_token(self, principal: Principal, ttl_s: int, audience: str | None = None) -> tuple[str, float]:
        if principal.via == "token":
            raise ProtocolError("FORBIDDEN", "a token cannot mint tokens; use an API key")
        exp = time.time() + ttl_s
        claims = {"sub": principal.id, "aud": audience or self.audience, "exp": round(exp, 3),
                  "nonce": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{TOKEN_PREFIX}{payload}.{self._sign(payload)}", exp

    def verify_token(self, token: str) -> Principal:
        body = token[len(TOKEN_PREFIX):]
        payload, _, signature = body.partition(".")
        if not payload or not signature or not hmac.compare_digest(signature, self._sign(payload)):
            raise ProtocolError("UNAUTHORIZED", "the token signature is not valid")
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            raise ProtocolError("UNAUTHORIZED", "the token is malformed") from None
        if claims.get("aud") != self.audience:
            raise ProtocolError("UNAUTHORIZED", "the token was minted for another audience")
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time():
            raise ProtocolError("UNAUTHORIZED", "the token has expired")
        return Principal(str(claims.get("sub")), "token")

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())


def bearer_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, cred = value.partition(" ")
    if scheme.lower() == "bearer" and cred.strip():
        return cred.strip()
    return None
