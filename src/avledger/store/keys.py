"""The ledger signing key: Ed25519, created by ``avledger init`` outside the data directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avledger import verifier
from avledger.errors import StorageError
from avledger.i18n import _

if TYPE_CHECKING:  # cryptography loads when a key is made, read or used, not on import
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class _Ed25519Key:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


@dataclass(frozen=True)
class Signer(_Ed25519Key):
    """The ledger's key: signed notes (C2SP signed-note, Ed25519)."""

    @property
    def verifier_key(self) -> str:
        return verifier.verifier_key(self.name, self.public_bytes)

    def sign_note(self, body: str) -> str:
        sig = self.private_key.sign(body.encode())
        return body + "\n" + verifier.sign_line(self.name, self.public_bytes, sig)


@dataclass(frozen=True)
class Cosigner(_Ed25519Key):
    """A witness's key: cosignatures (C2SP tlog-cosignature, Ed25519 cosignature/v1)."""

    @property
    def verifier_key(self) -> str:
        return verifier.verifier_key(self.name, self.public_bytes, verifier.COSIGNATURE_ALG)

    def cosign(self, note: str, *, timestamp: int) -> str:
        """The cosignature line over ``note``'s body, signed as of ``timestamp``."""
        body, _ = verifier.split_note(note)
        sig = self.private_key.sign(verifier.cosignature_message(timestamp, body))
        return verifier.cosignature_line(self.name, self.public_bytes, timestamp, sig)


def create_key(path: Path) -> bool:
    """Create the key file (0600) unless it exists; return True when created."""
    if path.exists():
        return False
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def preload() -> None:
    """Import what signing needs (``cryptography``; ``hashlib`` for the key's id), ahead of
    the first signature."""
    import hashlib  # noqa: F401

    from cryptography.hazmat.primitives import serialization  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: F401


def load_signer(path: Path, name: str) -> Signer:
    return Signer(name, _load_private_key(path))


def load_cosigner(path: Path, name: str) -> Cosigner:
    return Cosigner(name, _load_private_key(path))


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise StorageError(_("ledger signing key not found at {path}").format(path=path),
                           hint=_("run 'avledger init' or fix ledger.key_path")) from exc
    except (ValueError, TypeError) as exc:
        raise StorageError(_("ledger signing key at {path} is unreadable: {exc}").format(
                               path=path, exc=exc)) from exc
    except PermissionError as exc:
        raise StorageError(_("no permission to read the ledger signing key at {path}").format(
                               path=path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise StorageError(_("ledger signing key at {path} is not Ed25519").format(path=path))
    return key


def public_key_path(key_path: Path) -> Path:
    return key_path.with_suffix(".pub")
