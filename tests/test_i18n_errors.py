"""The messages from below the command line, in the chosen language (issue 19).

Errors raised in core, store and config, and the daemon's log and status lines, come out in
Chinese once ``i18n.use("zh_CN")`` is active and unchanged in English without it. What is
stored (a failed docking's error, a clock that could not be read) stays English and is
translated when shown. The catalog is compiled from the committed ``.po`` into a temporary
folder, so the tests need no build step.
"""

from __future__ import annotations

import ast
import errno
import json
import logging
import pickle
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import avledger
from avledger import i18n
from avledger.config import loader
from avledger.config import profiles as profiles_mod
from avledger.core import clips
from avledger.core.app import Avledger
from avledger.core.clock import check as clockcheck
from avledger.core.desk import checkouts
from avledger.core.desk import devices as registry
from avledger.core.dock.status import dock_status
from avledger.core.ingest.session import ingest_device
from avledger.daemon.scheduler import Job
from avledger.daemon.service import Daemon, DaemonSettings
from avledger.errors import (
    ConfigError,
    IntegrityError,
    NotFoundError,
    RefusedError,
    StorageError,
)
from avledger.store.local import LocalObjectStore
from tests.storetools import truncate

PACKAGE = Path(avledger.__file__).parent
PO_FILE = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "avledger.po"
# The parts of the program whose messages this catalog covers (the CLI's own are extracted
# with the rest of the command line).
BELOW_THE_CLI = ("core", "store", "config", "daemon", "errors.py")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def zh_catalog() -> Catalog:
    with PO_FILE.open("rb") as f:
        return read_po(f, locale="zh_CN")


@pytest.fixture
def zh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Chinese chosen, from the .po compiled into a temporary locale folder."""
    mo = tmp_path / "locale" / "zh_CN" / "LC_MESSAGES" / "avledger.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as f:
        write_mo(f, zh_catalog())
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.use("zh_CN")
    yield
    i18n.use(None)


@pytest.fixture(params=["zh_CN", "en"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test once in Chinese and once with no language chosen (English)."""
    if request.param == "zh_CN":
        request.getfixturevalue("zh")
    else:
        i18n.use(None)
    yield request.param


def source_messages() -> set[str]:
    """Every message id marked in the code below the CLI (a plural form by its singular)."""
    marked: list[str | tuple[str, ...]] = []
    for part in BELOW_THE_CLI:
        path = PACKAGE / part
        if path.is_file():
            with path.open("rb") as f:
                marked += [m[1] for m in extract("python", f, keywords=KEYWORDS)]
        else:
            marked += [m[2] for m in extract_from_dir(str(path), keywords=KEYWORDS,
                                                      method_map=[("**.py", "python")])]
    return {m if isinstance(m, str) else m[0] for m in marked}


def fields(text: str) -> list[tuple[str, str, str]]:
    """The placeholders of a python-brace-format text: name, conversion, format spec."""
    return sorted((name, conv or "", spec or "")
                  for _, name, spec, conv in string.Formatter().parse(text) if name is not None)


# ---- the catalog ---------------------------------------------------------------------------

def test_every_message_below_the_cli_has_a_chinese_translation() -> None:
    catalog = zh_catalog()
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(source_messages() - translated)
    assert missing == [], f"{len(missing)} messages without a translation: {missing[:10]}"


def test_translations_keep_the_placeholders_of_their_original() -> None:
    catalog = zh_catalog()
    problems = []
    for message in catalog:
        if not message.id:
            continue
        problems += [f"{message.id!r}: {e}" for e in message.check(catalog)]  # Babel's checks
        if "python-brace-format" in message.flags and \
                fields(str(message.id)) != fields(str(message.string)):
            problems.append(f"{message.id!r} -> {message.string!r}: placeholders differ")
    assert problems == []
    assert sum("python-brace-format" in m.flags for m in catalog) > 300


def test_the_placeholder_check_catches_a_translation_that_drops_one() -> None:
    """The check above can fail: a dropped or renamed placeholder is seen."""
    good = Message("device {serial} is already checked out", "设备 {serial} 已被领用",
                   flags=["python-brace-format"])
    dropped = Message("device {serial} is already checked out", "设备已被领用")
    renamed = Message("clip {clip_id}", "音像记录 {clip}")
    assert fields(str(good.id)) == fields(str(good.string))
    assert fields(str(dropped.id)) != fields(str(dropped.string))
    assert fields(str(renamed.id)) != fields(str(renamed.string))


def test_no_function_that_translates_binds_the_name_of_the_translator() -> None:
    """``for _ in …`` or ``x, _ = …`` in a function that also calls ``_()`` turns the call
    into a TypeError at the worst moment: when an error is being reported."""
    clashes = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            own = list(_own_scope(fn))
            translates = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                             and n.func.id == "_" for n in own)
            binds = [n.lineno for n in own if isinstance(n, ast.Name) and n.id == "_"
                     and isinstance(n.ctx, ast.Store)]
            if translates and binds:
                clashes.append(f"{path.relative_to(PACKAGE)}:{binds[0]} ({fn.name})")
    assert clashes == []


def _own_scope(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's own scope: not those of the functions defined in it, nor
    the names a comprehension binds (they stay inside the comprehension)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.comprehension):
            for part in (child.iter, *child.ifs):
                yield part
                yield from _own_scope(part)
            continue
        yield child
        yield from _own_scope(child)


# ---- representative errors, in both languages ------------------------------------------------

def test_device_already_out(app: Avledger, language: str) -> None:
    registry.add(app, "SN-7")
    checkouts.check_out(app, checkouts.CheckoutRequest(
        "SN-7", "0001", task="site inspection", battery_percent=90, storage_free_percent=80))
    with pytest.raises(RefusedError) as caught:
        checkouts.check_out(app, checkouts.CheckoutRequest(
            "SN-7", "0001", task="again", battery_percent=90, storage_free_percent=80))
    error = caught.value
    if language == "zh_CN":
        assert error.message.startswith("设备 SN-7 已于 ")
        assert "领用给 0001" in error.message
        assert error.hint == "请先归还：avledger checkin SN-7"
    else:
        assert error.message.startswith("device SN-7 is already checked out to 0001")
        assert error.hint == "check it in first: avledger checkin SN-7"
    assert error.english.startswith("device SN-7 is already checked out to 0001")


def test_config_error_keeps_its_path(home: Path, language: str) -> None:
    config_file = home / "avledger.yaml"
    doc = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    doc.setdefault("ingest", {})["group_mib"] = -1
    config_file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        loader.load()
    expected = {"zh_CN": f"{config_file}：ingest.group_mib：必须是正整数",
                "en": f"{config_file}: ingest.group_mib: must be a positive integer"}
    assert caught.value.problems == [expected[language]]
    assert caught.value.hint == {"zh_CN": "请运行 'avledger config check' 查看完整列表",
                                 "en": "run 'avledger config check' for the full list"
                                 }[language]


def test_tampered_object(tmp_path: Path, language: str) -> None:
    store = LocalObjectStore(tmp_path / "store")
    store.create()
    data = b"evidence" * 1000
    digest = store.put_bytes(data).digest
    truncate(store.path_for(digest), 100)
    with pytest.raises(IntegrityError) as caught:
        store.put_bytes(data)
    expected = {"zh_CN": f"对象 {digest} 已存在，大小为 100，应为 8000",
                "en": f"object {digest} exists with size 100, expected 8000"}
    assert caught.value.message == expected[language]


def test_disk_full(language: str) -> None:
    with pytest.raises(OSError) as full:
        Path("/dev/full").write_bytes(b"x")  # the kernel's own "no space left on device"
    assert full.value.errno == errno.ENOSPC
    error = StorageError.from_os(full.value, i18n._("writing an object"), where=i18n._("store"))
    expected = {"zh_CN": "存储库磁盘已满，正在写入对象（提示：请释放空间或迁移存储库）",
                "en": "store disk is full while writing an object "
                      "(hint: free space or move the store)"}
    assert error.one_line() == expected[language]
    assert error.stored_line() == expected["en"]


def test_unknown_clip(app: Avledger, language: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        clips.get_clip(app, 999)
    expected = {"zh_CN": "没有音像记录 999（提示：见 'avledger clips list'）",
                "en": "no clip 999 (hint: see 'avledger clips list')"}
    assert caught.value.one_line() == expected[language]


def test_bogus_clock_file_is_kept_in_english_and_shown_translated(
        app: Avledger, tmp_path: Path, language: str) -> None:
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    (recorder / "CLOCK.TXT").write_text("the clock is broken\n", encoding="utf-8")
    clock = clockcheck.read_device_clock(recorder, profiles_mod.get(app.config, "generic"))
    assert clock.time is None
    # stored with the measurement: English whatever the language
    assert clock.detail.startswith("clock file CLOCK.TXT does not parse as "
                                   "'%Y-%m-%d %H:%M:%S': 'the clock is broken' (")
    shown = clockcheck.describe(None, None, "unknown", None, clock.detail, "Asia/Shanghai")
    if language == "zh_CN":
        assert shown.startswith("未知（时钟文件 CLOCK.TXT 无法按 '%Y-%m-%d %H:%M:%S' 解析："
                                "'the clock is broken'（")
    else:
        assert shown == f"unknown ({clock.detail})"


# ---- what is stored stays English --------------------------------------------------------------

def test_a_failed_docking_is_recorded_in_english_and_shown_in_the_chosen_language(
        app: Avledger, tmp_path: Path, zh: None) -> None:
    device = tmp_path / "sdx1"
    device.write_bytes(b"")
    with pytest.raises(NotFoundError) as caught:
        ingest_device(app, str(device), profile="nosuch")
    assert caught.value.message.startswith("没有名为 'nosuch' 的设备配置文件（已知：")
    recorded = dock_status(app)["recent"][0]["result"]["error"]
    assert recorded.startswith("no device profile named 'nosuch' (known: ")
    assert recorded.endswith(" (hint: see 'avledger profile list')")
    ledger = [json.loads(row[0]) for row in app.catalog.conn.execute(
        "SELECT payload FROM ledger WHERE type = 'dock.failed'")]
    assert [e["error"] for e in ledger] == [recorded]
    assert i18n.translate_stored(recorded) == caught.value.one_line()


def test_a_forced_checkout_records_its_problems_in_english_and_a_refusal_shows_them_translated(
        app: Avledger, zh: None) -> None:
    registry.add(app, "SN-8")
    low = {"task": "site inspection", "battery_percent": 20, "storage_free_percent": 80}
    with pytest.raises(RefusedError) as caught:
        checkouts.check_out(app, checkouts.CheckoutRequest("SN-8", "0001", **low))
    assert caught.value.message == ("SN-8 使用前检查未通过：电量 20% 低于最低要求 50%"
                                    "（desk.min_battery_percent）")
    checkouts.check_out(app, checkouts.CheckoutRequest("SN-8", "0001", force_reason="only one",
                                                       **low))
    forced = [json.loads(row[0]) for row in app.catalog.conn.execute(
        "SELECT payload FROM ledger WHERE type = 'checkout.forced'")]
    assert [e["overrode"] for e in forced] == [
        ["battery 20% is below the minimum of 50% (desk.min_battery_percent)"]]


def test_translate_stored_leaves_unknown_text_and_english_alone(zh: None) -> None:
    assert i18n.translate_stored("something no message says") == "something no message says"
    assert i18n.translate_stored("no clip 12") == "没有音像记录 12"
    # a message made of messages: each part is read back and translated
    assert i18n.translate_stored("clock of SN-1 is 95 s fast (tolerance 60 s) and will be "
                                 "synced") == "SN-1 的时钟快 95 秒（允许偏差 60 秒），将进行校时"
    i18n.use(None)
    assert i18n.translate_stored("no clip 12") == "no clip 12"


def test_an_error_keeps_its_english_through_another_process(zh: None) -> None:
    """Errors cross process boundaries pickled (worker processes): the English original
    travels with the translation."""
    error = NotFoundError(i18n._("no clip {clip_id}").format(clip_id=5))
    back = pickle.loads(pickle.dumps(error))
    assert (back.message, back.english) == ("没有音像记录 5", "no clip 5")


# ---- the daemon ------------------------------------------------------------------------------

def test_daemon_status_line(language: str) -> None:
    daemon = Daemon(DaemonSettings(watch_udev=False), lambda props: None,
                    lambda job: {})
    expected = {"zh_CN": "0 个导入中，0 个排队，0 个完成",
                "en": "0 ingesting, 0 queued, 0 done"}
    assert daemon.status_text() == expected[language]


def test_daemon_log_of_a_finished_and_a_failed_docking(
        language: str, caplog: pytest.LogCaptureFixture) -> None:
    daemon = Daemon(DaemonSettings(watch_udev=False), lambda props: None,
                    lambda job: {})
    done = Job("/dev/sdx1", "device", "generic", state="done",
               result={"serial": "BWR-1", "new": 3, "skipped": 0, "failed": 0})
    failed = Job("/dev/sdx2", "device", "generic", state="failed",
                 result={"error": "no clip 4"})  # errors reach the daemon already worded
    with caplog.at_level(logging.INFO, logger="avledger.daemon"):
        daemon._done(done)
        daemon._done(failed)
    expected = {"zh_CN": ["/dev/sdx1 完成：序列号 BWR-1，新增 3，已跳过 0，失败 0",
                          "/dev/sdx2：接入失败：no clip 4"],
                "en": ["/dev/sdx1 done: serial BWR-1, new 3, skipped 0, failed 0",
                       "/dev/sdx2: docking failed: no clip 4"]}
    assert [r.getMessage() for r in caplog.records] == expected[language]


def _unworded_raises() -> list[str]:
    """``raise SomeAvledgerError("…")`` or ``(f"…")`` below the CLI: a message no one can
    translate, because it never reaches the catalog (a hint that is only a command is fine)."""
    from avledger import errors

    ours = {name for name, obj in vars(errors).items()
            if isinstance(obj, type) and issubclass(obj, errors.AvledgerError)}
    found = []
    for part in BELOW_THE_CLI:
        root = PACKAGE / part
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                args = [*node.exc.args, *(k.value for k in node.exc.keywords
                                          if k.arg in ("message", "hint"))]
                if name in ours and any(
                        isinstance(a, ast.JoinedStr | ast.BinOp)
                        or (isinstance(a, ast.Constant) and isinstance(a.value, str)
                            and not a.value.startswith("avledger "))  # a command to run
                        for a in args):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_every_error_below_the_cli_is_worded_through_the_catalog() -> None:
    assert _unworded_raises() == []
