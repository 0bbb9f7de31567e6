"""RS256 JWTs signed and verified with the standard library only."""

from __future__ import annotations

import base64
import json

import pytest

from lambic.runtime.authorization.tokens import (
    InvalidTokenError,
    RsaPrivateKey,
    decode_jwt,
    encode_jwt,
)


@pytest.fixture(scope="module")
def key() -> RsaPrivateKey:
    return RsaPrivateKey.generate(bits=1024)  # 2048 in use; smaller keeps the test quick


def test_a_signed_token_decodes_to_its_claims(key: RsaPrivateKey) -> None:
    token = encode_jwt({"sub": "alice", "n": 1}, key)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))

    assert header == {"kid": key.public.kid, "alg": "RS256"}
    assert decode_jwt(token, {key.public.kid: key.public}) == {"sub": "alice", "n": 1}


def test_a_tampered_payload_or_signature_is_refused(key: RsaPrivateKey) -> None:
    header, payload, signature = encode_jwt({"sub": "alice"}, key).split(".")
    forged = base64.urlsafe_b64encode(b'{"sub":"mallory"}').rstrip(b"=").decode()
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    keys = {key.public.kid: key.public}

    for token in (f"{header}.{forged}.{signature}", f"{header}.{payload}.{flipped}"):
        with pytest.raises(InvalidTokenError, match="signature"):
            decode_jwt(token, keys)


def test_a_token_from_another_key_or_algorithm_is_refused(key: RsaPrivateKey) -> None:
    other = RsaPrivateKey.generate(bits=1024)
    with pytest.raises(InvalidTokenError, match="unknown key"):
        decode_jwt(encode_jwt({"sub": "a"}, other), {key.public.kid: key.public})
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    payload = encode_jwt({"sub": "a"}, key).split(".")[1]
    with pytest.raises(InvalidTokenError, match="algorithm"):
        decode_jwt(f"{none_alg}.{payload}.", {key.public.kid: key.public})


@pytest.mark.parametrize("token", ["", "a.b", "!!.??.##", "e30.e30"])
def test_malformed_tokens_are_refused(key: RsaPrivateKey, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        decode_jwt(token, {key.public.kid: key.public})


def test_the_private_key_round_trips_through_its_jwk(key: RsaPrivateKey) -> None:
    again = RsaPrivateKey.from_jwk(key.to_jwk())
    assert again == key
    assert key.public.to_jwk()["kid"] == key.public.kid


def test_signatures_verify_with_an_independent_implementation(key: RsaPrivateKey) -> None:
    # The cryptography package (a moto dependency in the dev extra) as an oracle.
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    padding = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.padding")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    header, payload, signature = encode_jwt({"sub": "alice"}, key).split(".")
    public = rsa.RSAPublicNumbers(key.e, key.n).public_key()

    public.verify(
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
        f"{header}.{payload}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
