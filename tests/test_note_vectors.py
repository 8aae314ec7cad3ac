"""Checkpoints, signatures and cosignatures byte for byte against published vectors.

- golang.org/x/mod/sumdb/note, note_test.go: the "PeterNeumann" key pair and the signed note
  over "If you think cryptography is the answer to your problem, ..." (TestNewVerifier,
  TestSign): our signer must reproduce the published signature line exactly (Ed25519 is
  deterministic), and our verifier must accept it and reject a changed text.
- C2SP tlog-checkpoint and tlog-cosignature: the "example.com/behind-the-sofa" checkpoint at
  size 20852163, its cosigned message for "time 1679315147", and the example witness line
  "— witness.example.com/w1 jWbPPw…" (key id, big-endian timestamp, 64-byte signature).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from avledger import verifier
from avledger.store.keys import Cosigner, Signer

# golang.org/x/mod/sumdb/note note_test.go
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq"
          "fqdngotpRZb6KE6RyyBwJnAM=\n")
GO_NOTE = GO_TEXT + "\n" + GO_SIG

# C2SP tlog-checkpoint / tlog-cosignature
SOFA_BODY = ("example.com/behind-the-sofa\n20852163\n"
             "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
SOFA_COSIGNED_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SOFA_BODY
SOFA_WITNESS_LINE = ("\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrt"
                     "PHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==")


def _go_signer() -> Signer:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]  # algorithm byte, then the seed
    return Signer("PeterNeumann", Ed25519PrivateKey.from_private_bytes(seed))


def test_go_note_vector_key() -> None:
    signer = _go_signer()
    assert signer.verifier_key == GO_VKEY
    name, kid, pub = verifier.parse_verifier_key(GO_VKEY)
    assert (name, kid.hex(), pub) == ("PeterNeumann", "c74f20a3", signer.public_bytes)


def test_go_note_vector_signature_byte_for_byte() -> None:
    assert _go_signer().sign_note(GO_TEXT) == GO_NOTE
    body, lines = verifier.split_note(GO_NOTE)
    assert body == GO_TEXT and lines == [GO_SIG.rstrip("\n")]
    name, raw = verifier._signature_line(lines[0])
    _, kid, pub = verifier.parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann" and raw[:4] == kid
    assert verifier.ed25519_verify(pub, raw[4:], GO_TEXT.encode())
    assert verifier._pure_ed25519_verify(pub, raw[4:], GO_TEXT.encode())
    assert not verifier.ed25519_verify(pub, raw[4:], GO_TEXT.replace("you", "You").encode())


def test_tlog_checkpoint_spec_example_layout() -> None:
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    body = verifier.checkpoint_body("example.com/behind-the-sofa", 20852163, root, "ab" * 32,
                                    "2026-12-03T00:00:00Z")
    # origin, size, base64 root, then extension lines: a valid tlog-checkpoint body.
    assert body.startswith(SOFA_BODY)
    assert body[len(SOFA_BODY):] == f"head {'ab' * 32}\ntime 2026-12-03T00:00:00Z\n"


def test_tlog_cosignature_spec_example() -> None:
    assert verifier.cosignature_message(1679315147, SOFA_BODY).decode() == SOFA_COSIGNED_MESSAGE
    name, raw = verifier._signature_line(SOFA_WITNESS_LINE)
    assert name == "witness.example.com/w1" and len(raw) == 4 + 8 + 64
    assert raw[:4].hex() == "8d66cf3f"
    assert int.from_bytes(raw[4:12], "big") == 1679315147


def test_cosignature_key_id_and_line_layout() -> None:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    cosigner = Cosigner("witness.example.com/w1", Ed25519PrivateKey.from_private_bytes(seed))
    note = SOFA_BODY + "\n" + GO_SIG  # any log signature line; the witness keeps it
    line = cosigner.cosign(note, timestamp=1679315147)
    name, raw = verifier._signature_line(line.rstrip("\n"))
    import hashlib
    expected_kid = hashlib.sha256(b"witness.example.com/w1\n\x04" + cosigner.public_bytes)
    assert raw[:4] == expected_kid.digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    assert verifier.ed25519_verify(cosigner.public_bytes, raw[12:],
                                   SOFA_COSIGNED_MESSAGE.encode())
    assert len(line.split(" ")[2].strip()) == len(SOFA_WITNESS_LINE.split(" ")[2])
    found = verifier.verify_cosignatures(note + line, [cosigner.verifier_key])
    assert [(c.witness, c.timestamp) for c in found] == [("witness.example.com/w1", 1679315147)]
    # The same key as a plain note key (type 0x01) is not a cosignature key.
    plain = verifier.verifier_key(cosigner.name, cosigner.public_bytes)
    try:
        verifier.verify_cosignatures(note + line, [plain])
        raise AssertionError("a type 0x01 key was taken as a cosignature key")
    except ValueError as exc:
        assert "cosignature key" in str(exc)
    # A changed checkpoint body no longer carries the cosignature.
    assert verifier.verify_cosignatures(note.replace("20852163", "20852164") + line,
                                        [cosigner.verifier_key]) == []
