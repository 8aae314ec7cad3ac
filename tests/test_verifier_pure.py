"""The pure-Python BLAKE3 and Ed25519 fallbacks of the standalone verifier.

They are checked against the ``blake3`` and ``cryptography`` packages (and RFC 8032 vectors),
and the verifier file is run in a separate interpreter where those two packages cannot be
imported, to show that the fallbacks are what it uses there and that they give the same answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import blake3
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from avledger import verifier
from avledger.verifier import _pure_blake3, _pure_ed25519_verify

VERIFIER_FILE = Path(verifier.__file__)
L = 2**252 + 27742317777372353535851937790883648493


def _data(n: int) -> bytes:
    """Deterministic, non-repeating test bytes (the spec's test-vector pattern is i % 251)."""
    return bytes(i % 251 for i in range(n))


# --------------------------------------------------------------------------- BLAKE3


@pytest.mark.parametrize(
    "n", [0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 3072, 5000, 31 * 1024 + 1, 65536 + 7]
)
def test_blake3_matches_package(n: int) -> None:
    data = _data(n)
    assert _pure_blake3(data) == blake3.blake3(data).digest()
    random = os.urandom(n)
    assert _pure_blake3(random) == blake3.blake3(random).digest()


def test_blake3_known_digests() -> None:
    assert _pure_blake3(b"").hex() == (
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    )
    assert _pure_blake3(b"abc").hex() == (
        "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    )


def test_blake3_accepts_bytes_like() -> None:
    data = _data(3000)
    assert _pure_blake3(bytearray(data)) == _pure_blake3(memoryview(data)) == _pure_blake3(data)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=10_000))
def test_blake3_random_inputs(data: bytes) -> None:
    assert _pure_blake3(data) == blake3.blake3(data).digest()


# --------------------------------------------------------------------------- Ed25519

# RFC 8032 section 7.1, TEST 1 and TEST 2: (secret key, public key, message, signature)
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
        "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.mark.parametrize("secret,public,message,signature", RFC8032_VECTORS)
def test_ed25519_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    # the vectors themselves, cross-checked with cryptography
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.public_key().public_bytes_raw() == pk
    assert key.sign(msg) == sig
    assert _pure_ed25519_verify(pk, sig, msg)
    assert not _pure_ed25519_verify(pk, sig, msg + b"\x00")


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize("message", [b"", b"x", b"checkpoint\n42\n" * 50, os.urandom(1000)])
def test_ed25519_against_cryptography(message: bytes) -> None:
    key = Ed25519PrivateKey.generate()
    pk = key.public_key().public_bytes_raw()
    sig = key.sign(message)
    assert _pure_ed25519_verify(pk, sig, message)
    assert verifier.ed25519_verify(pk, sig, message)  # the fast path agrees

    bad_message = _flip(message, 3) if message else b"\x00"
    bad_r = _flip(sig, 17)  # a bit of R (bytes 0..31)
    bad_s = _flip(sig, 8 * 32 + 5)  # a bit of S (bytes 32..63)
    wrong_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    for p, s, m in [(pk, sig, bad_message), (pk, bad_r, message), (pk, bad_s, message),
                    (wrong_key, sig, message)]:
        assert not _pure_ed25519_verify(p, s, m)
        assert not verifier.ed25519_verify(p, s, m)


def test_ed25519_rejects_non_canonical_s() -> None:
    key = Ed25519PrivateKey.generate()
    pk = key.public_key().public_bytes_raw()
    sig = key.sign(b"message")
    s = int.from_bytes(sig[32:], "little")
    # S + L satisfies [S]B == R + [k]A just as well; only the S < L check rejects it
    malleated = sig[:32] + (s + L).to_bytes(32, "little")
    assert not _pure_ed25519_verify(pk, malleated, b"message")
    assert not verifier.ed25519_verify(pk, malleated, b"message")
    at_l = sig[:32] + L.to_bytes(32, "little")
    assert not _pure_ed25519_verify(pk, at_l, b"message")


def test_ed25519_malformed_inputs_return_false() -> None:
    key = Ed25519PrivateKey.generate()
    pk = key.public_key().public_bytes_raw()
    sig = key.sign(b"m")
    assert not _pure_ed25519_verify(pk[:31], sig, b"m")  # 31-byte key
    assert not _pure_ed25519_verify(pk + b"\x00", sig, b"m")
    assert not _pure_ed25519_verify(b"", sig, b"m")
    assert not _pure_ed25519_verify(pk, sig[:63], b"m")
    assert not _pure_ed25519_verify(pk, sig + b"\x00", b"m")
    # y = 2 is not the y-coordinate of any curve point; y = p (and above) is not canonical
    not_a_point = (2).to_bytes(32, "little")
    assert not _pure_ed25519_verify(not_a_point, sig, b"m")
    assert not _pure_ed25519_verify(pk, not_a_point + sig[32:], b"m")
    assert not _pure_ed25519_verify(b"\xff" * 31 + b"\x7f", sig, b"m")
    assert not _pure_ed25519_verify(b"\xff" * 32, b"\xff" * 64, b"m")


# --------------------------------------------------------------------------- without the packages

# Run in a fresh interpreter (-I: no user site, no PYTHON* variables, script dir not on the
# path); a meta-path finder refuses blake3 and cryptography, then the copied verifier file is
# loaded by path and exercised. It prints JSON for the parent process to compare.
CHILD = r"""
import importlib.util, json, sys

BLOCKED = ("blake3", "cryptography")

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked for this test: " + name)
        return None

sys.meta_path.insert(0, Blocker())
spec = importlib.util.spec_from_file_location("verify_ledger", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
sys.modules["verify_ledger"] = mod
spec.loader.exec_module(mod)

calls = {"blake3": 0, "ed25519": 0}
pure_b3, pure_ed = mod._pure_blake3, mod._pure_ed25519_verify

def counting_b3(data):
    calls["blake3"] += 1
    return pure_b3(data)

def counting_ed(*args):
    calls["ed25519"] += 1
    return pure_ed(*args)

mod._pure_blake3, mod._pure_ed25519_verify = counting_b3, counting_ed

job = json.loads(sys.stdin.read())
out = {
    "version": list(sys.version_info[:2]),
    "leaked": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED),
    "fast_paths": [n for n in ("_blake3_mod", "Ed25519PublicKey") if hasattr(mod, n)],
    "digests": [mod.b3(bytes.fromhex(h)).hex() for h in job["data"]],
    "file_digest": mod.b3_file(__import__("pathlib").Path(job["file"])),
    "verdicts": [mod.ed25519_verify(*(bytes.fromhex(x) for x in c)) for c in job["sigs"]],
}
out["calls"] = calls
print(json.dumps(out))
"""


def _run_without_packages(python: str, tmp_path: Path) -> None:
    script = tmp_path / "verify_ledger.py"
    shutil.copyfile(VERIFIER_FILE, script)
    data = [_data(n) for n in (0, 1, 64, 1025, 5000)] + [os.urandom(3000)]
    blob = tmp_path / "blob.bin"
    blob.write_bytes(_data(9000))

    key = Ed25519PrivateKey.generate()
    pk = key.public_key().public_bytes_raw()
    sig = key.sign(b"signed note")
    cases = [(pk, sig, b"signed note"), (pk, sig, b"signed nope"), (pk[:31], sig, b"signed note")]
    cases += [(bytes.fromhex(p), bytes.fromhex(s), bytes.fromhex(m))
              for _, p, m, s in RFC8032_VECTORS]
    expected_verdicts = [True, False, False, True, True]

    job = {"data": [d.hex() for d in data], "file": str(blob),
           "sigs": [[p.hex(), s.hex(), m.hex()] for p, s, m in cases]}
    proc = subprocess.run([python, "-I", "-c", CHILD, str(script)], input=json.dumps(job),
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)

    assert out["leaked"] == []
    assert out["fast_paths"] == []
    assert out["calls"] == {"blake3": len(data) + 1, "ed25519": len(cases)}  # +1: b3_file
    assert out["digests"] == [blake3.blake3(d).hexdigest() for d in data]
    assert out["file_digest"] == blake3.blake3(blob.read_bytes()).hexdigest()
    assert out["verdicts"] == expected_verdicts


def test_standalone_without_packages_uses_fallbacks(tmp_path: Path) -> None:
    _run_without_packages(sys.executable, tmp_path)


def _python39() -> str | None:
    """A Python 3.9 interpreter, if this machine has one (the oldest version the file supports)."""
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))
    for name in ["python3.9", *map(str, pyenv)]:
        exe = shutil.which(name)
        if not exe:
            continue
        try:
            probe = subprocess.run([exe, "-I", "-c", "import sys; print(sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 9)":
            return exe
    return None


def test_standalone_on_python39(tmp_path: Path) -> None:
    exe = _python39()
    if exe is None:
        pytest.skip("no Python 3.9 interpreter on this machine")
    _run_without_packages(exe, tmp_path)
