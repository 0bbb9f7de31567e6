"""JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5 + SHA-256), standard library only.

Cognito signs its ID and access tokens with RS256; API Gateway checks the signature
against the user pool's public key. Verifying needs one modular exponentiation with
the public exponent (65537), which Python's `pow` does in tens of microseconds, so no
cryptography package is needed. The local issuer (`local_issuer`) also signs and makes
its key pair here: signing is `pow` with the private exponent (split by the Chinese
remainder theorem), key generation the usual random primes checked by Miller-Rabin.

    >>> key = RsaPrivateKey.generate(bits=1024)
    >>> token = encode_jwt({"sub": "alice"}, key)
    >>> decode_jwt(token, {key.public.kid: key.public})
    {'sub': 'alice'}
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["InvalidTokenError", "RsaPrivateKey", "RsaPublicKey", "decode_jwt", "encode_jwt"]

_EXPONENT = 65537
# DER prefix of a SHA-256 DigestInfo (RFC 8017, section 9.2, note 1).
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


class InvalidTokenError(ValueError):
    """A token that is malformed, signed by an unknown key, or whose signature is wrong."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidTokenError("a token segment is not base64url") from exc


def _int(text: str) -> int:
    return int.from_bytes(_unb64url(text), "big")


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _encoded_digest(message: bytes, size: int) -> int:
    """EMSA-PKCS1-v1_5 encoding of SHA-256(message) for a modulus of `size` bytes."""
    digest_info = _SHA256_PREFIX + hashlib.sha256(message).digest()
    padding = b"\xff" * (size - len(digest_info) - 3)
    return int.from_bytes(b"\x00\x01" + padding + b"\x00" + digest_info, "big")


@dataclass(frozen=True)
class RsaPublicKey:
    """An RSA public key (modulus `n`, exponent `e`) and its key id."""

    n: int
    e: int = _EXPONENT

    @property
    def kid(self) -> str:
        """A stable key id: a digest of the modulus, as JWKS `kid`s identify keys."""
        return _b64url(hashlib.sha256(_int_b64(self.n).encode()).digest()[:16])

    def verify(self, message: bytes, signature: bytes) -> bool:
        size = (self.n.bit_length() + 7) // 8
        if len(signature) != size:
            return False
        value = int.from_bytes(signature, "big")
        if value >= self.n:
            return False
        return pow(value, self.e, self.n) == _encoded_digest(message, size)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK, as a user pool's `.well-known/jwks.json` lists it."""
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _int_b64(self.n),
            "e": _int_b64(self.e),
        }


@dataclass(frozen=True)
class RsaPrivateKey:
    """An RSA key pair (the CRT form signs about three times faster)."""

    n: int
    e: int
    d: int
    p: int
    q: int

    @property
    def public(self) -> RsaPublicKey:
        return RsaPublicKey(self.n, self.e)

    @classmethod
    def generate(cls, bits: int = 2048) -> RsaPrivateKey:
        while True:
            p, q = _prime(bits // 2), _prime(bits - bits // 2)
            phi = (p - 1) * (q - 1)
            n = p * q
            if p != q and n.bit_length() == bits and phi % _EXPONENT:
                return cls(n=n, e=_EXPONENT, d=pow(_EXPONENT, -1, phi), p=p, q=q)

    def sign(self, message: bytes) -> bytes:
        size = (self.n.bit_length() + 7) // 8
        m = _encoded_digest(message, size)
        # Chinese remainder theorem: two half-size exponentiations instead of one.
        s1 = pow(m, self.d % (self.p - 1), self.p)
        s2 = pow(m, self.d % (self.q - 1), self.q)
        h = (pow(self.q, -1, self.p) * (s1 - s2)) % self.p
        return (s2 + h * self.q).to_bytes(size, "big")

    def to_jwk(self) -> dict[str, str]:
        """The private JWK (kept in the stage's state directory)."""
        return {
            **self.public.to_jwk(),
            "d": _int_b64(self.d),
            "p": _int_b64(self.p),
            "q": _int_b64(self.q),
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, str]) -> RsaPrivateKey:
        return cls(
            n=_int(jwk["n"]), e=_int(jwk["e"]), d=_int(jwk["d"]), p=_int(jwk["p"]), q=_int(jwk["q"])
        )


def _probably_prime(n: int, rounds: int = 40) -> bool:
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    while True:
        # Top two bits set so that the product has exactly 2 * bits bits; odd.
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if _probably_prime(candidate):
            return candidate


def encode_jwt(claims: Mapping[str, Any], key: RsaPrivateKey) -> str:
    """A compact RS256 JWT of `claims`, its header naming the key (`kid`) as Cognito's do."""
    header = _b64url(
        json.dumps({"kid": key.public.kid, "alg": "RS256"}, separators=(",", ":")).encode()
    )
    payload = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{_b64url(key.sign(signing_input))}"


def decode_jwt(token: str, keys: Mapping[str, RsaPublicKey]) -> dict[str, Any]:
    """The claims of an RS256 `token` signed by one of `keys` (by `kid`).

    Raises `InvalidTokenError` for anything else; claims (expiry, issuer...) are the
    caller's to check.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidTokenError("a JWT has three dot-separated parts")
    try:
        header = json.loads(_unb64url(parts[0]))
        claims = json.loads(_unb64url(parts[1]))
    except ValueError as exc:
        raise InvalidTokenError("the token's header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidTokenError("the token's header and payload must be objects")
    if header.get("alg") != "RS256":
        raise InvalidTokenError(f"unsupported algorithm {header.get('alg')!r}; expected RS256")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise InvalidTokenError("the token is signed by an unknown key")
    if not key.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), _unb64url(parts[2])):
        raise InvalidTokenError("the token's signature does not match")
    return claims
