"""``avledger package verify``: the standalone verifier's checks, plus what the catalog knows.

The checks are exactly those of ``verify_ledger.py --package`` (the same code), with this
installation's public key insisted on; a package made here must also carry the manifest the
catalog recorded. A zip is unpacked into a temporary folder first.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avledger import verifier
from avledger.errors import InputError, NotFoundError
from avledger.i18n import _
from avledger.store import db


@dataclass
class PackageReport:
    source: str
    package: str | None = None
    in_catalog: bool = False
    info: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "package": self.package, "in_catalog": self.in_catalog,
                "ok": self.ok, "info": self.info, "problems": self.problems}


def check_package(source: Path, *, public_key: str,
                  conn: db.Connection | None = None) -> PackageReport:
    if not source.exists():
        raise NotFoundError(_("no package at {source}").format(source=source))
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise InputError(_("{source} is neither a package folder nor a zip of one").format(
                                 source=source))
        with tempfile.TemporaryDirectory(prefix="avledger-package-") as tmp:
            with zipfile.ZipFile(source) as zf:
                zf.extractall(tmp)
            inner = [p for p in Path(tmp).iterdir() if p.is_dir()]
            if len(inner) != 1:
                raise InputError(_("{source} should hold exactly one package folder").format(
                                     source=source))
            report = _check_folder(inner[0], public_key, conn)
    else:
        report = _check_folder(source, public_key, conn)
    report.source = str(source)
    return report


def _check_folder(folder: Path, public_key: str,
                  conn: db.Connection | None) -> PackageReport:
    info, problems = verifier.verify_package(folder, public_key)
    report = PackageReport(str(folder), info=info, problems=problems)
    manifest = folder / "MANIFEST.json"
    if conn is None or not manifest.is_file():
        return report
    try:
        report.package = str(json.loads(manifest.read_bytes()).get("package"))
    except ValueError:
        return report
    row = conn.execute("SELECT manifest_sha256 FROM access_packages WHERE id = ?",
                       (report.package,)).fetchone()
    if row is None:
        report.info.append(f"package {report.package} was not made by this installation")
        return report
    report.in_catalog = True
    if hashlib.sha256(manifest.read_bytes()).hexdigest() != row[0]:
        report.problems.append("MANIFEST.json: differs from the manifest the catalog recorded "
                               "when the package was made")
    return report
