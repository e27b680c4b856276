"""RS256 signatures checked: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017, 8.2.2), for the channel's tokens.

Verification only, with public inputs: no secret for a timing side channel to leak. The encoded message is
built and compared whole, as the RFC prescribes, never parsed: parsing it is how forged signatures got
through other implementations. Done with Python's integers rather than `cryptography`, whose bundled
OpenSSL would hold 7 MiB of the process for one modular exponentiation (0.15 ms) a request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

# The DER prefix of a DigestInfo for SHA-256 (RFC 8017, 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
MIN_BITS = 2048  # the Bot Framework's keys are 2048-bit; shorter ones are refused outright


@dataclass(frozen=True)
class RsaPublicKey:
    modulus: int
    exponent: int

    @property
    def size(self) -> int:
        """The modulus's length in bytes: the length of every signature it checks."""
        return (self.modulus.bit_length() + 7) // 8


def b64url_decode(text: str) -> bytes:
    """Base64url without padding (RFC 7515, 2); ValueError for anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def key_from_jwk(n: str, e: str) -> RsaPublicKey:
    """A key from a JWK's base64url `n` and `e`; ValueError if it is not a usable RSA public key."""
    key = RsaPublicKey(int.from_bytes(b64url_decode(n), "big"), int.from_bytes(b64url_decode(e), "big"))
    if key.modulus.bit_length() < MIN_BITS or key.exponent < 3 or key.exponent % 2 == 0:
        raise ValueError("not a usable RSA public key")
    return key


def verify_rs256(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `key`'s RSASSA-PKCS1-v1_5 SHA-256 signature of `message`."""
    k = key.size
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.modulus:
        return False
    encoded = pow(s, key.exponent, key.modulus).to_bytes(k, "big")
    t = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(encoded, expected)
