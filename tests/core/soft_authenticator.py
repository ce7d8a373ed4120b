"""A software WebAuthn authenticator for the passkey tests: what a browser and a platform
authenticator together send, built per the WebAuthn Level 3 specification.

An ES256 (P-256) key pair; a registration answers with attestation format "none" (an
attestation object of ``fmt``, ``attStmt`` and ``authData`` carrying the credential and its
COSE key); an assertion signs ``authenticatorData || SHA-256(clientDataJSON)``. The origin,
relying party ID, challenge and signature counter can each be set wrong on purpose.
"""

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

# Authenticator data flags (WebAuthn §6.1).
USER_PRESENT = 0x01
USER_VERIFIED = 0x04
ATTESTED_CREDENTIAL_DATA = 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, *, origin: str, rp_id: str):
        self.origin = origin
        self.rp_id = rp_id
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = b""

    def cose_public_key(self) -> bytes:
        """The public key as a COSE_Key (RFC 9053): EC2, ES256, curve P-256, x and y."""
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def authenticator_data(self, flags: int, rp_id: str | None, attested: bytes = b"") -> bytes:
        rp_id_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    def create(self, options: dict, *, origin=None, rp_id=None, challenge=None) -> dict:
        """The answer of ``navigator.credentials.create()`` to the server's options, as JSON."""
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self.client_data("webauthn.create", challenge or options["challenge"], origin)
        attested = (
            bytes(16)  # AAGUID: zero, as privacy-preserving authenticators send
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.cose_public_key()
        )
        flags = USER_PRESENT | USER_VERIFIED | ATTESTED_CREDENTIAL_DATA
        attestation = cbor2.dumps(
            {
                "fmt": "none",
                "attStmt": {},
                "authData": self.authenticator_data(flags, rp_id, attested),
            }
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {"credProps": {"rk": True}},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        }

    def get(self, options: dict, *, origin=None, rp_id=None, challenge=None, count=None) -> dict:
        """The answer of ``navigator.credentials.get()``: the counter goes up by one (or is
        ``count``), and the authenticator data and client data hash are signed."""
        self.sign_count = self.sign_count + 1 if count is None else count
        client_data = self.client_data("webauthn.get", challenge or options["challenge"], origin)
        authenticator_data = self.authenticator_data(USER_PRESENT | USER_VERIFIED, rp_id)
        signature = self.private_key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(authenticator_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
        }
