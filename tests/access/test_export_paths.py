"""Nothing leaves the store except through ``access fulfil`` or ``archive create``, both logged.

The rule is written in ``avledger.store.exports``. Here it is enforced twice: by reading every
module's source (who calls the store's read calls; who calls the functions that move footage
out, up to the CLI commands), and by running every other kind of command against real
footage and searching the disk for a copy of it afterwards.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import avledger
from avledger.store import exports
from tests.access.conftest import OPEN, Office
from tests.conftest import IN_CI

SRC = Path(avledger.__file__).parent


def modules(extra: dict[str, str] | None = None) -> dict[str, ast.Module]:
    """Every module of the package, parsed (plus ``extra``: name -> source)."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for name, source in (extra or {}).items():
        out[name] = ast.parse(source)
    return out


def enclosing_functions(tree: ast.Module) -> dict[int, str]:
    """id(node) -> name of the top-level function (or method) containing it."""
    owner: dict[int, str] = {}
    for top in ast.walk(tree):
        if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(top):
                owner.setdefault(id(node), top.name)
    return owner


def store_reads(extra: dict[str, str] | None = None) -> set[tuple[str, str]]:
    """(module, call) for every use of a store read call outside store/."""
    found = set()
    for name, tree in modules(extra).items():
        if name.startswith("avledger.store"):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in exports.READ_CALLS
                    and ast.unparse(node.value).split(".")[-1].endswith("store")):
                found.add((name, node.attr))
    return found


def export_calls(extra: dict[str, str] | None = None) -> set[str]:
    """``module:function -> export`` for every call of a function that moves footage out."""
    found = set()
    for name, tree in modules(extra).items():
        owner = enclosing_functions(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else None)
            if called in exports.EXPORTS:
                found.add(f"{name}:{owner.get(id(node), '')} -> {called}")
    return found


def test_only_the_listed_modules_read_footage_from_the_store() -> None:
    readers = {module for module, _ in store_reads()}
    assert readers <= set(exports.READERS), readers - set(exports.READERS)
    assert readers == set(exports.READERS)  # the list holds nothing stale either
    # The store itself is made only by the backend factory, and that only by the session,
    # by 'avledger init' and by 'avledger migrate' (the new store it moves into).
    def callers(*names: str) -> set[str]:
        return {name for name, tree in modules().items() for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in names}

    assert callers("LocalObjectStore", "S3ObjectStore") == {"avledger.store.factory"}
    assert callers("open_store") == {"avledger.core.app", "avledger.core.install.setup",
                                     "avledger.core.install.relocate"}


def test_footage_moves_out_only_through_fulfil_and_archive_create() -> None:
    calls = export_calls()
    for call in calls:
        place, _, called = call.partition(" -> ")
        module = place.split(":")[0]
        allowed = exports.EXPORTS[called]
        assert place in allowed or module in allowed, f"{call} is not allowed"
    assert {c.split(" -> ")[1] for c in calls} == set(exports.EXPORTS)
    cli = {c.split(" -> ")[0] for c in calls if c.startswith("avledger.cli")}
    # 'redact --preview' writes only a redacted version, recorded as clip.redaction_previewed
    assert cli == {"avledger.cli.access_cmd:fulfil", "avledger.cli.archive_cmd:create",
                   "avledger.cli.redact_cmd:redact"}
    # ...and those two CLI functions are the commands 'access fulfil' and 'archive create'.
    from avledger.cli import access_cmd, archive_cmd

    names = {(group, c.name, c.callback.__name__) for group, app in (
        ("access", access_cmd.app), ("archive", archive_cmd.app))
        for c in app.registered_commands if c.callback is not None}
    assert ("access", "fulfil", "fulfil") in names and ("archive", "create", "create") in names


def test_the_checks_see_a_new_export_path() -> None:
    """A control: a new command that read an object would be found by the source scans."""
    sneaky = {"avledger.cli.sneaky_cmd": "def export(app, digest, out):\n"
                                         "    with app.store.open(digest) as fh:\n"
                                         "        out.write_bytes(fh.read())\n"
                                         "    make_package(app, 1, out)\n"}
    assert ("avledger.cli.sneaky_cmd", "open") in store_reads(sneaky)
    assert "avledger.cli.sneaky_cmd:export -> make_package" in export_calls(sneaky)


def copies_of(footage: dict[str, str], roots: list[Path], skip: Path) -> list[Path]:
    found = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            if Path(dirpath).is_relative_to(skip):
                continue
            for name in names:
                path = Path(dirpath) / name
                if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() in footage:
                    found.append(path)
    return sorted(found)


def test_every_other_command_leaves_the_footage_in_the_store(office: Office,
                                                            tmp_path: Path) -> None:
    store = office.home / "data" / "store" / "objects"
    footage = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name
               for p in store.rglob("*") if p.is_file()}
    assert len(footage) == 7
    work = tmp_path / "work"
    work.mkdir()
    clip = str(office.clips["open"][0])
    for args in (("status",), ("clips", "list"), ("clips", "show", clip),
                 ("case", "show", OPEN), ("case", "list"), ("dock", "status"),
                 ("hold", "list"), ("retention", "sweep"), ("retention", "show", clip),
                 ("store", "verify"), ("ledger", "verify"), ("ledger", "show"),
                 ("ledger", "export", str(work / "ledger-export")),
                 ("checkout", "export", "--out", str(work / "usage.csv")),
                 ("access", "policy"), ("access", "list"),
                 ("access", "register", "--format", "md", "--out", str(work / "reg.md")),
                 ("config", "show"), ("archive", "list"),
                 ("clips", "custody", clip, "--format", "json", "--output",
                  str(work / "custody.json"))):
        result = office.run(*args)
        assert result.returncode in (0, 1), (args, result.stderr)
    req = office.ask("case_handler", "view", "--case", OPEN, actor="handler1")
    office.ok("access", "fulfil", str(req["id"]), "--player", "wc -c", actor="handler1")
    assert copies_of(footage, [office.home, tmp_path], skip=store) == []

    # The two ways out: a copy package and archive discs, each in the ledger.
    copy = office.ask("judicial", "copy", "--kind", "court", "--requester", "李法官", "--case",
                      OPEN, "--documents", "unit_letter,id_card")
    made = office.ok("access", "fulfil", str(copy["id"]), "--out", str(tmp_path / "packages"))
    found = copies_of(footage, [office.home, tmp_path], skip=store)
    assert found and all(p.is_relative_to(Path(made["directory"])) for p in found)
    assert len(found) == len(office.clips["open"])
    events = office.ok("ledger", "show", "--type", "access.fulfilled")
    assert [e["payload"]["package"] for e in events] == [made["package"]]
    if shutil.which("xorriso") is None:
        if IN_CI:
            pytest.fail("CI must run this test, but it needs xorriso")
        pytest.skip("needs xorriso for the archive half")
    disc = office.ok("archive", "create", "--case", OPEN, "--copies", "1", "--media", "700M",
                     "--out", str(tmp_path / "discs"))
    created = office.ok("ledger", "show", "--type", "archive.created")
    assert [e["subject"] for e in created] == [f"archive:{disc['set']}"]
    assert json.loads(json.dumps(created[0]["payload"]))  # the event carries the set's details
