"""An archive disc is a receipt: a ledger rolled back below the checkpoint it carries is
caught from the disc image and from a copy of its files, though every local check passes."""

from __future__ import annotations

import json
from pathlib import Path

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.custody import receipts
from tests.ledgertools import checkpoint_sizes, local_checks_pass, roll_back
from tests.test_archive import extract_all, made_set


def test_rollback_below_a_disc_is_detected(cli, app: Avledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = made_set(cli, app, tmp_path)
    image = made["images"][0]["image"]
    folder = extract_all(made["images"][2]["image"], tmp_path / "disc-copy2")
    (held,) = receipts.read(image)
    size = verifier.verify_checkpoint(held.note, app.public_key()).size
    assert receipts.read(str(folder))[0].note == held.note
    # The label a person reads names the checkpoint and the key's fingerprint.
    label = next(p for p in made["images"][0]["labels"] if p.endswith(".svg"))
    text = Path(label).read_text(encoding="utf-8")
    fp = verifier.grouped(verifier.fingerprint(app.public_key()))
    assert f"第 {size} 条事件" in text
    assert fp[:20] in text
    boundary = max(s for s in checkpoint_sizes() if s < size)
    roll_back(boundary)
    assert local_checks_pass(), "the local checks alone are fooled"
    signed = checkpoint_sizes()
    out = cli("ledger", "verify", "--against", image, "--against", str(folder), "--json")
    assert out.returncode == 6, out.stdout + out.stderr
    report = json.loads(out.stdout)
    rollbacks = [p for p in report["problems"] if "ROLLBACK" in p]
    assert [r.split(" holds ")[0] for r in rollbacks] == [
        f"seq {boundary + 1}: ROLLBACK: {image}", f"seq {boundary + 1}: ROLLBACK: {folder}"]
    assert all(f"checkpoint of size {size}" in r for r in rollbacks)
    assert report["first_bad_seq"] == boundary + 1
    assert "avledger: error: custody ledger verification failed" in out.stderr
    assert checkpoint_sizes() == signed, "a failed verification signed a checkpoint"
