"""Dataset audio encrypted at rest with AES-256-GCM.

Each file is ``MAGIC | 12-byte nonce | ciphertext+tag``, authenticated together with its path
in the dataset (a file moved or swapped does not decrypt). The dataset records a fingerprint of
its key, so a wrong or missing key is refused before anything is read or written: data written
under one key is never mixed with another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from lbrxvoicepro.config import DatasetSettings
from lbrxvoicepro.errors import ConfigError, LbrxError

MAGIC = b"LBRXAES1"


class DecryptionError(LbrxError):
    """An encrypted file could not be decrypted: wrong key or a damaged file."""


class AudioCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError(f"the dataset encryption key must be 32 bytes, not {len(key)}")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)
        self.fingerprint = hashlib.sha256(b"lbrxvoicepro dataset key\0" + key).hexdigest()[:16]

    @classmethod
    def from_text(cls, text: str, origin: str) -> AudioCipher:
        """A key written as base64 or hex (``openssl rand -base64 32``)."""
        text = text.strip()
        for parse in (base64.b64decode, bytes.fromhex):
            try:
                key = parse(text)
            except (binascii.Error, ValueError):
                continue
            if len(key) == 32:
                return cls(key)
        raise ConfigError(f"{origin}: not a 32-byte key in base64 or hex")

    @classmethod
    def from_file(cls, path: Path) -> AudioCipher:
        try:
            return cls.from_text(Path(path).read_text(encoding="ascii"), str(path))
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: cannot read the encryption key: {error}") from error

    def encrypt(self, data: bytes, name: str) -> bytes:
        nonce = os.urandom(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, name.encode())

    def decrypt(self, blob: bytes, name: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
            raise DecryptionError(f"{name}: not an encrypted dataset file")
        nonce = blob[len(MAGIC) : len(MAGIC) + 12]
        try:
            return self._aead.decrypt(nonce, blob[len(MAGIC) + 12 :], name.encode())
        except InvalidTag as error:
            raise DecryptionError(f"{name}: cannot decrypt (wrong key or damaged file)") from error


def cipher_for(settings: DatasetSettings) -> AudioCipher | None:
    """The at-rest key from the settings (environment or key file), if one is configured."""
    if settings.encryption_key_file is not None:
        return AudioCipher.from_file(settings.encryption_key_file)
    if key := settings.encryption_key.get_secret_value():
        return AudioCipher.from_text(key, "dataset.encryption_key")
    return None
