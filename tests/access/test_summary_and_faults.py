"""``avledger.core.access.summary`` for the reports, and faults: bad input loses nothing, a
package that cannot be finished leaves nothing behind and the request still approved, two
desks fulfilling one request make one package."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from avledger.config import loader
from avledger.core import access
from avledger.core.access import package as package_core
from avledger.core.app import Avledger
from avledger.errors import IntegrityError
from avledger.timestamps import iso, utcnow
from tests.access.conftest import OPEN, SECRET, Office
from tests.conftest import AVLEDGER_BIN, require_root_tools


def ledger_size(office: Office) -> int:
    return int(office.ok("status")["ledger"]["events"])


def test_summary_shape_and_counts(office: Office, tmp_path: Path) -> None:
    court = ("--kind", "court", "--requester", "李法官", "--documents", "unit_letter,id_card")
    view = office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    office.ok("access", "fulfil", str(view["id"]), actor="handler1")
    copy = office.ask("judicial", "copy", *court, "--case", OPEN)
    office.ok("access", "fulfil", str(copy["id"]), "--out", str(tmp_path))
    office.ask("judicial", "view", *court, "--case", SECRET)  # pending (Art. 10)
    party = office.ask("party", "view", "--requester", "张", "--case", OPEN, "--documents",
                       "unit_letter,id_card")
    office.ok("access", "approve", str(party["id"]), actor="leader")
    staff = office.ask("internal_staff", "view", "--badge", "0004", "--case", OPEN)
    office.ok("access", "deny", str(staff["id"]), "--reason", "no work need", actor="leader")
    office.ask_refused("party", "copy", "--requester", "张", "--case", OPEN)

    app = Avledger.open(loader.load())
    try:
        now = utcnow()
        got = access.summary(app.catalog.conn, iso(now - timedelta(hours=1)),
                             (now + timedelta(hours=1)).isoformat())
        later = access.summary(app.catalog.conn, iso(now + timedelta(hours=1)),
                               iso(now + timedelta(hours=2)))
    finally:
        app.close()
    zero = {"approved": 0, "denied": 0, "fulfilled": 0, "pending": 0}
    assert got == {
        "requests": 6,
        "by_category": {
            "case_handler": zero | {"fulfilled": 1},
            "internal_staff": zero | {"denied": 1},
            "judicial": zero | {"fulfilled": 1, "pending": 1},
            "party": zero | {"approved": 1, "denied": 1},
            "party_lawyer": zero, "external_agency": zero},
        "views": 1, "copies": 3, "packages": 1}
    assert later == {"requests": 0, "by_category": {c: zero for c in got["by_category"]},
                     "views": 0, "copies": 0, "packages": 0}
    assert "exactly" in (access.summary.__doc__ or "")


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--category", "notary", "--action", "view", "--case", OPEN), 5,
     "unknown requester category 'notary'"),
    (("--category", "judicial", "--kind", "court", "--requester", "x", "--action", "view",
      "--case", "平环罚〔2099〕1号"), 4, "no case numbered"),
    (("--category", "judicial", "--kind", "court", "--requester", "x", "--action", "view",
      "--clip", "999"), 4, "no such clip(s): 999"),
    (("--category", "judicial", "--kind", "court", "--requester", "x", "--action", "view"), 5,
     "name the footage"),
    (("--category", "party", "--badge", "0004", "--action", "view", "--case", OPEN), 5,
     "--badge names staff"),
    (("--category", "party", "--action", "view", "--case", OPEN), 5,
     "needs the requester's name"),
    (("--category", "internal_staff", "--badge", "9999", "--action", "view", "--case", OPEN),
     4, "not on the roster"),
    (("--category", "judicial", "--kind", "court", "--requester", "x", "--action", "print",
      "--case", OPEN), 5, "unknown action 'print'"),
    (("--category", "judicial", "--kind", "court", "--requester", "x", "--action", "view",
      "--case", OPEN, "--documents", "passport"), 5, "unknown document(s) passport"),
    (("--category", "judicial", "--kind", "court", "--requester", "x", "--action", "view",
      "--clip", "one"), 2, "clip numbers are whole numbers"),
])
def test_bad_input_is_one_line_and_registers_nothing(office: Office, args: tuple[str, ...],
                                                     code: int, says: str) -> None:
    before = ledger_size(office)
    result = office.run("access", "request", "--purpose", "x", *args)
    assert result.returncode == code, result.stderr
    assert says in result.stderr
    if code != 2:
        assert len(result.stderr.strip().splitlines()) == 1
    assert office.ok("access", "list") == [] and ledger_size(office) == before


def test_decisions_refused_change_nothing(office: Office) -> None:
    req = office.ask("party", "view", "--requester", "张", "--case", OPEN, "--documents",
                     "unit_letter,id_card")
    before = ledger_size(office)
    for args, actor, code, says in (
            (("approve", "99"), "leader", 4, "no access request 99"),
            (("approve", str(req["id"])), None, 5, "needs role leader"),
            (("deny", str(req["id"]), "--reason", " "), "leader", 5, "needs a reason"),
            (("fulfil", str(req["id"])), None, 5, "awaits the principal leader's approval")):
        assert says in office.refused("access", *args, actor=actor, code=code)
    assert ledger_size(office) == before
    office.ok("access", "approve", str(req["id"]), actor="leader")
    line = office.refused("access", "approve", str(req["id"]), actor="leader2")
    assert f"request {req['id']} is approved, not pending" in line  # one approval
    office.ok("access", "deny", str(req["id"]), "--reason", "withdrawn: wrong case",
              actor="leader2")
    assert "was denied: withdrawn: wrong case" in office.refused("access", "fulfil",
                                                                 str(req["id"]))


def test_confidentiality_raised_after_approval_is_respected(office: Office) -> None:
    req = office.ask("judicial", "view", "--kind", "court", "--requester", "x", "--case",
                     OPEN, "--documents", "unit_letter,id_card")
    assert req["status"] == "approved"
    app = Avledger.open(loader.load())
    try:
        with app.catalog.write() as conn:  # (no command changes a level yet; the catalog can)
            conn.execute("UPDATE cases SET confidentiality = 'commercial-secret'"
                         " WHERE number = ?", (OPEN,))
    finally:
        app.close()
    line = office.refused("access", "fulfil", str(req["id"]))
    assert "now needs the principal leader's approval (rule A, Art. 10)" in line


def _copy_request(office: Office) -> dict[str, Any]:
    return office.ask("judicial", "copy", "--kind", "court", "--requester", "李法官", "--case",
                      OPEN, "--documents", "unit_letter,id_card")


def test_corrupt_object_makes_no_package(office: Office, tmp_path: Path) -> None:
    req = _copy_request(office)
    objects = office.home / "data" / "store" / "objects"
    digest = office.ok("clips", "show", str(office.clips["open"][1]))["digest"]
    victim = objects / digest[:2] / digest[2:4] / digest
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[10] ^= 0x40
    victim.write_bytes(bytes(data))
    line = office.refused("access", "fulfil", str(req["id"]), "--out", str(tmp_path / "out"),
                          code=6)
    assert "does not match its hash; no package was made" in line
    assert list((tmp_path / "out").iterdir()) == []  # no package, no half-made folder
    assert office.ok("access", "show", str(req["id"]))["status"] == "approved"


def test_disk_full_makes_no_package(office: Office, tmp_path: Path) -> None:
    require_root_tools("mount", "umount")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(small)], check=True)
    try:
        req = _copy_request(office)
        line = office.refused("access", "fulfil", str(req["id"]), "--out", str(small), code=7)
        assert "disk full while writing package ACC0001" in line
        assert list(small.iterdir()) == []
        assert office.ok("access", "show", str(req["id"]))["status"] == "approved"
    finally:
        subprocess.run(["umount", str(small)], check=True)
    # With room, the same request is fulfilled; its excerpt holds only the newest seal.
    made = office.ok("access", "fulfil", str(req["id"]), "--out", str(tmp_path / "out"))
    events = (Path(made["directory"]) / "ledger" / "events.jsonl").read_text()
    assert events.count("access.package_sealed") == 1
    assert office.ok("package", "verify", made["directory"])["ok"]


def test_failure_after_sealing_leaves_the_request_approved(office: Office, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    req = _copy_request(office)
    app = Avledger.open(loader.load())
    try:
        with monkeypatch.context() as patch:
            patch.setattr(package_core.verifier, "verify_package",
                          lambda *a, **k: ([], ["clips/x: injected failure"]))
            with pytest.raises(IntegrityError, match="injected failure"):
                package_core.make_package(app, req["id"], tmp_path / "out", now=utcnow())
        assert list((tmp_path / "out").iterdir()) == []
        made = package_core.make_package(app, req["id"], tmp_path / "out", now=utcnow(),
                                         make_zip=True)
    finally:
        app.close()
    assert made.zip_path is not None and made.zip_path.exists()
    types = [e["type"] for e in office.ok("access", "show", str(req["id"]))["events"]]
    assert types == ["access.requested", "access.approved", "access.package_sealed",
                     "access.package_sealed", "access.fulfilled"]
    assert office.ok("package", "verify", str(made.directory))["ok"]


def test_two_desks_fulfilling_one_request_make_one_package(office: Office,
                                                          tmp_path: Path) -> None:
    req = _copy_request(office)
    out = tmp_path / "out"
    procs = [subprocess.Popen([AVLEDGER_BIN, "access", "fulfil", str(req["id"]), "--out",
                               str(out), "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ))
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read())  # type: ignore[union-attr]
               for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0 and codes[1] in (5, 7), results
    loser = next(r for r in results if r[0] != 0)
    assert len(loser[2].strip().splitlines()) == 1
    winner = json.loads(next(r for r in results if r[0] == 0)[1])
    assert sorted(p.name for p in out.iterdir()) == [winner["package"]]
    assert office.ok("package", "verify", winner["directory"])["ok"]
    reg = office.register()
    assert [e["status"] for e in reg] == ["fulfilled"] and reg[0]["package"] == "ACC0001"
