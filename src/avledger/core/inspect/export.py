"""Publishing a draw: the result as CSV or JSON, or a bundle anyone can re-run.

A draw is verified before it is exported, so a tampered draw is never published. The bundle
holds the recorded inputs, the canonical population, roster and conflicts, the result, the
ledger public key, and two standalone scripts (``rerun_draw.py``, ``verify_ledger.py``) that
need nothing but Python 3.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.core.app import Avledger
from avledger.core.inspect import draw
from avledger.core.inspect import verify as drawverify
from avledger.core.inspect.inspections import resolve, show
from avledger.errors import IntegrityError, StorageError
from avledger.i18n import _

CSV_COLUMNS = ("period", "round", "task_id", "position", "enterprise_id", "enterprise_name",
               "inspector_badges", "inspector_names")


def _verified(app: Avledger, ref: str) -> dict[str, Any]:
    report = drawverify.verify(app, ref)
    if not report.ok:
        bad = report.failures[0]
        raise IntegrityError(_("draw {draw_id} does not verify ({name}: {detail}); it is not "
                               "exported").format(
                                 draw_id=report.draw_id,
                                         name=bad.name,
                                         detail=bad.detail),
                             hint=_("avledger inspect verify {draw_id}").format(
                                                            draw_id=report.draw_id))
    return show(app, str(report.draw_id))


def result_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in data["inspections"]:
        writer.writerow((data["period"], data["round"], i["task_id"], i["position"],
                         i["enterprise_id"], i["enterprise_name"],
                         "; ".join(p["badge"] for p in i["inspectors"]),
                         "; ".join(p["name"] for p in i["inspectors"])))
    return buf.getvalue()


def as_text(app: Avledger, ref: str, fmt: str) -> str:
    """The result of a verified draw as ``csv`` or ``json`` text."""
    data = _verified(app, ref)
    if fmt == "csv":
        return result_csv(data)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


BUNDLE_README = """Random inspection draw {period} (round {round}) — published inputs and result
==========================================================================

draw.json          the seed inputs, the seed, and the result (task, enterprise, inspectors)
population.csv     the enterprises drawn from (canonical form: id,name sorted by id)
roster.json        the eligible inspectors (role 'handler'), sorted by badge
conflicts.json     declared conflicts of interest [enterprise id, badge] that excluded inspectors
result.csv         the result, one row per inspection
ledger.pub         the custody ledger's public key; compare it with the one the bureau publishes
checkpoint.txt     the latest signed ledger checkpoint when the bundle was made (a receipt:
                   the bureau's ledger must extend it for ever)
rerun_draw.py      the draw algorithm (Python 3 standard library only)
verify_ledger.py   checks the signature of the ledger checkpoint the seed came from

To re-run the draw:

    python3 rerun_draw.py .

It checks the checkpoint signature, recomputes the digests of population.csv, roster.json and
conflicts.json against those recorded in draw.json, recomputes the seed and the whole draw, and
prints OK only if the result is identical to the one published here.
"""


def bundle(app: Avledger, ref: str, out: Path) -> dict[str, Any]:
    """Write a re-runnable bundle for a draw into the empty (or new) directory ``out``."""
    data = _verified(app, ref)
    row = resolve(app.catalog.conn, str(data["id"]))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StorageError(_("bundle directory {out} is not empty").format(out=out))
    inputs = json.loads(row["inputs"])
    material = draw.Material(row["population"], json.loads(row["roster"]),
                             json.loads(row["conflicts"]))
    record = {
        "period": row["period"], "round": row["round"], "status": row["status"],
        "drawn_at": row["drawn_at"], "drawn_by": row["drawn_by"],
        "ledger_event": row["event_seq"], "void_reason": row["void_reason"],
        "inputs": inputs, "seed": row["seed"],
        "result": draw.published(draw.run(inputs, material)),
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "draw.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
        (out / "population.csv").write_bytes(material.population.encode())
        (out / "roster.json").write_bytes(draw.canonical(material.roster) + b"\n")
        (out / "conflicts.json").write_bytes(draw.canonical(material.conflicts) + b"\n")
        (out / "result.csv").write_text(result_csv(data), encoding="utf-8")
        (out / "ledger.pub").write_text(app.public_key() + "\n", encoding="utf-8")
        latest = app.catalog.conn.execute(
            "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        if latest is not None:  # the receipt: the signed checkpoint the bundle was made under
            (out / "checkpoint.txt").write_text(str(latest["note"]), encoding="utf-8")
        shutil.copyfile(Path(draw.__file__), out / "rerun_draw.py")
        shutil.copyfile(Path(verifier.__file__), out / "verify_ledger.py")
        (out / "README.txt").write_text(BUNDLE_README.format(period=row["period"],
                                                             round=row["round"]),
                                        encoding="utf-8")
    except OSError as exc:
        raise StorageError(_("cannot write the bundle to {out}: {strerror}").format(
                               out=out, strerror=exc.strerror)) from exc
    return {"draw": data["id"], "period": row["period"], "directory": str(out),
            "files": sorted(p.name for p in out.iterdir())}
