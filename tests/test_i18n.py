"""Chinese first: the catalog is complete and sound, the language is chosen as documented,
and every command's help reads in Chinese (Click's and Typer's own words included) while
``LANG=C`` keeps the English untouched."""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from avledger import i18n
from avledger.cli.group import top_level_option
from avledger.config.language import language_in

REPO = Path(__file__).resolve().parent.parent
PO = REPO / "src/avledger/locale/zh_CN/LC_MESSAGES/avledger.po"
CHINESE_ENV = {"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "", "LC_ALL": "", "COLUMNS": "200",
               "AVLEDGER_HOME": "/nonexistent/avledger-i18n"}
ENGLISH_ENV = {"LANG": "C", "LC_MESSAGES": "", "LC_ALL": "", "COLUMNS": "200",
               "AVLEDGER_HOME": "/nonexistent/avledger-i18n"}


def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f, locale="zh_CN")


def messages_in_code() -> set[str]:
    """Every message id the code has, extracted as 'make translations' does."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for source in (REPO / "src/avledger", Path(typer.__file__).parent):
        for _file, _line, message, _comments, _context in extract_from_dir(
                source, method_map, options_map, keywords={"_": None, "N_": None,
                                                           "gettext": None,
                                                           "ngettext": (1, 2)}):
            found.add(message if isinstance(message, str) else message[0])
    return found


# ---- the catalog ------------------------------------------------------------------------------


def test_every_message_of_the_code_has_a_chinese_translation() -> None:
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog() if m.id}
    missing = sorted(m for m in messages_in_code()
                     if m not in translated or not translated[m].string
                     or translated[m].fuzzy)
    assert not missing, ("messages without a Chinese translation ('make translations', then "
                         "translate them in " + str(PO.relative_to(REPO)) + "):\n"
                         + "\n".join(json.dumps(m, ensure_ascii=False) for m in missing))


def _fields(text: str) -> list[str]:
    return sorted(f"{name}!{conv}:{spec}" for _lit, name, spec, conv
                  in string.Formatter().parse(text) if name is not None)


def test_translations_keep_the_placeholders_of_the_english() -> None:
    cat = catalog()
    problems = [f"{m.id!r}: {errors}" for m, errors in cat.check()]  # Babel's %-format checks
    for m in cat:
        if not m.id or not m.string:
            continue
        english = m.id if isinstance(m.id, str) else m.id[0]
        chinese = m.string if isinstance(m.string, str) else m.string[0]
        try:
            same = _fields(english) == _fields(chinese)
        except ValueError as exc:
            problems.append(f"{english!r}: {exc}")
            continue
        if not same:
            problems.append(f"{english!r}: {{…}} fields {_fields(english)} became "
                            f"{_fields(chinese)}")
    assert not problems, "\n".join(problems)


def test_a_changed_placeholder_is_caught() -> None:
    assert _fields("{value} is out of range") != _fields("{数值} 超出范围")
    assert _fields("Missing argument {name}.") == _fields("缺少参数 {name}。")


def test_the_command_table_says_what_each_command_says_first() -> None:
    """The top-level listing (from the table) and a command's own help agree in Chinese too."""
    from avledger.cli.main import COMMANDS
    from tests.clitree import command_tree

    real = {path[0]: cmd for path, cmd in command_tree() if len(path) == 1}
    i18n.use("zh_CN")
    try:
        for entry in COMMANDS:
            full = real[entry.name].__dict__.get("english_help") or real[entry.name].help
            assert i18n._(full).split("\n\n")[0] == i18n._(entry.help), entry.name
    finally:
        i18n.use(None)


# ---- choosing the language ------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "environ", "site", "chosen"), [
    ("en", {"LANG": "zh_CN.UTF-8"}, "zh_CN", "en"),              # --lang first
    (None, {"LANG": "C"}, "zh_CN", "en"),                        # LANG=C: English
    (None, {"LANG": "POSIX"}, "zh_CN", "en"),
    (None, {"LANG": "C.UTF-8"}, "zh_CN", "zh_CN"),               # an encoding, not a language
    (None, {"LANG": "C.UTF-8"}, "en", "en"),
    (None, {}, "zh_CN", "zh_CN"),                                # unset: the site's
    (None, {"LANG": "en_US.UTF-8"}, "zh_CN", "en"),
    (None, {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en", "zh_CN"),
    (None, {"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "zh_CN", "en"),  # LC_ALL wins
    (None, {"LANG": "zh_TW.UTF-8"}, "en", "zh_CN"),              # the one Chinese catalog
    (None, {"LANG": "fr_FR.UTF-8"}, "zh_CN", "en"),              # no catalog: English
    (None, {"LANG": ""}, "en", "en"),
])
def test_language_choice(lang: str | None, environ: dict[str, str], site: str,
                         chosen: str) -> None:
    assert i18n.choose(lang, environ, lambda: site) == chosen


def test_the_site_is_asked_only_when_nothing_else_decides() -> None:
    def never() -> str:
        raise AssertionError("site.language read although the locale decided")

    assert i18n.choose(None, {"LANG": "C"}, never) == "en"
    assert i18n.choose("zh_CN", {}, never) == "zh_CN"


def test_lang_and_config_are_read_from_avledger_s_own_options_only() -> None:
    argv = ["-c", "x.yaml", "--lang", "en", "status"]
    assert top_level_option(argv, "--lang") == "en"
    assert top_level_option(argv, "-c", "--config") == "x.yaml"
    assert top_level_option(["--lang=zh_CN", "-v"], "--lang") == "zh_CN"
    assert top_level_option(["checkout", "out", "--lang", "en"], "--lang") is None
    assert top_level_option(["-c", "--lang", "status"], "--lang") is None  # a file named so


def test_site_language_is_found_without_parsing_yaml() -> None:
    text = ("site:\n  # the language\n  unit: 平顶山市生态环境局\n  language: 'zh_CN'  # here\n"
            "store:\n  language: en\n")
    assert language_in(text) == "zh_CN"
    assert language_in("store:\n  path: x\n") is None
    assert language_in("site:\n  language: en\nsite_extra:\n  language: zh_CN\n") == "en"


def test_site_language_in_the_config_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "avledger.yaml").write_text("site:\n  language: en\n", encoding="utf-8")
    env = {**CHINESE_ENV, "LANG": "C.UTF-8", "AVLEDGER_HOME": str(tmp_path)}
    assert "Usage: " in _run(["--help"], env).stdout
    (tmp_path / "avledger.yaml").write_text("site:\n  language: zh_CN\n", encoding="utf-8")
    assert "用法：" in _run(["--help"], env).stdout


# ---- the command line in Chinese ----------------------------------------------------------------


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from avledger.cli.main import run; run()",
                           *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


# One process renders every command's help (each as 'avledger PATH --help' would).
HELP_WALK = r"""
import contextlib, io, json, sys
from avledger.cli.main import run
from tests.clitree import command_tree
paths = [list(p) for p, _ in command_tree()]
out = {}
for path in paths:
    buffer = io.StringIO()
    sys.argv = ["avledger", *path, "--help"]
    with contextlib.redirect_stdout(buffer):
        try:
            run()
        except SystemExit:
            pass
    out[" ".join(path)] = buffer.getvalue()
print(json.dumps(out))
"""

# What may stay in Latin letters: names of commands, options, metavars and types, config keys,
# file names, units and the like; and the example lines.
_ALLOWED = re.compile(r"""
      --?[\w-]+(/--?[\w-]+)*            # options
    | \b[\w.-]+\.(yaml|json|csv|txt|md|html|pdf|iso|zip|rules|service|py|mp4|img|pub)\b
    | \b\w+(\.\w+|\[\w+\])+\b          # config keys, event types: window.hours, case_days[type]
    | \b[A-Z0-9][A-Z0-9_<>\-]*\b        # metavars, acronyms: DEVICE, CSV, BLAKE3
    | \b\w*_\w*\b                       # code names: records_manager, case_handler
    | <[^>]*>                           # type placeholders: <str>, <float range>
    | /[\w./@-]+                        # paths
    | '[^']*'                           # quoted names: 'avledger access list'
    | \[[\w|., -]*\]                    # choices and defaults shown by Typer: [csv|json]
""", re.VERBOSE)
_EXAMPLE = re.compile(r"^\s*(avledger|AVLEDGER_HOME|watch|python3|pip)\b|^\s*- \{op:|"
                      r"^\s*\{t:|^\s*operations:|^\s*--")
WORD = re.compile(r"\b[A-Za-z]{2,}\b")
# Values people type (option values, CSV columns of an export format), product names.
VALUES = """complaint obstruction major sensitive litigation other incomplete unclear approved
    denied fulfilled pending returned view copy judicial police procuratorate court audit
    authorisation closed open citizen organisation penalty compulsion inspection licensing
    personal privacy commercial secret state none camcorder camera in out gaps hours generic
    service ceil utf pip python watch SQLite postgres XX public key legal review roles
    """.split()  # noqa: SIM905 - a list of words, read as such


def english_words(text: str, names: set[str]) -> list[str]:
    found = []
    for raw in text.splitlines():
        line = raw.strip(" │╭╮╰╯─*")
        if _EXAMPLE.match(line):
            continue
        line = _ALLOWED.sub(" ", line.split("示例：")[0])
        found += [w for w in WORD.findall(line) if w not in names]
    return found


def _names() -> set[str]:
    """Command names, option names, choices and other code words of the command tree."""
    from tests.clitree import command_tree

    names = {"avledger", "root", "udev", "systemd", "journald", "ffmpeg", "sudo", "mpv",
             "chromium", "zip", "csv", "json", "html", "md", "pdf", "bundle", "table",
             "yaml", "http", "https", "host", "port", "zh", "en", "zh_CN", "ok", "system",
             "unregistered", "sha256sum", "verify_ledger", "mkfs", "vfat", "mcopy", "bd25",
             "bd50", "dvd", "dl", "OpenCV", "Haar", "Joliet", "Lines", "C2SP", "tlog",
             "witness", "M", "k", "MiB", "v", "h", "s", "str", "int", "float", "range",
             "x", "text", "path", "gb18030", "SIGTERM", "SIGHUP", "POST", "add", "checkpoint"}
    from avledger.config.schema import ROLES

    names.update(ROLES, VALUES)
    for path, cmd in command_tree():
        names.update(path)
        names.update(w for name in path for w in name.split("-"))
        for param in cmd.params:
            names.update(re.findall(r"[A-Za-z]+", " ".join(param.opts + param.secondary_opts)))
            names.update(str(c) for c in getattr(getattr(param, "type", None), "choices",
                                                  None) or ())
    return names


def test_every_command_s_help_is_chinese() -> None:
    out = _run([], {**CHINESE_ENV, "PYTHONPATH": str(REPO)})
    walked = subprocess.run([sys.executable, "-c", HELP_WALK], capture_output=True, text=True,
                            timeout=600, cwd=REPO, env={**os.environ, **CHINESE_ENV})
    assert walked.returncode == 0, walked.stderr
    helps: dict[str, str] = json.loads(walked.stdout)
    assert len(helps) > 100 and out is not None
    names = _names()
    english = {path: words for path, text in helps.items()
               if (words := english_words(text, names))}
    assert not english, "English words left in Chinese help:\n" + "\n".join(
        f"avledger {path} --help: {' '.join(sorted(set(words)))}"
        for path, words in english.items())
    for path, text in helps.items():
        assert "用法：" in text and "显示此帮助信息并退出" in text, path


def test_click_and_typer_words_are_translated() -> None:
    top = _run(["--help"], CHINESE_ENV).stdout
    assert "用法：" in top and "选项" in top and "命令" in top and "显示此帮助信息并退出" in top
    unknown = _run(["nosuchcommand"], CHINESE_ENV)
    assert unknown.returncode == 2 and "没有名为 'nosuchcommand' 的命令" in unknown.stderr
    missing = _run(["checkout", "show"], CHINESE_ENV)
    assert missing.returncode == 2 and "缺少参数 'checkout_id'" in missing.stderr, missing.stderr
    assert "avledger：错误：" in missing.stderr
    bad_option = _run(["checkout", "list", "--nonesuch"], CHINESE_ENV)
    assert "没有此选项：--nonesuch" in bad_option.stderr


def test_lang_c_keeps_the_english() -> None:
    for args in (["--help"], ["checkout", "out", "--help"], ["clips", "list", "--help"]):
        english = _run(args, ENGLISH_ENV).stdout
        assert "Usage: " in english and "Show this message and exit." in english
        assert not re.search(r"用法|选项|命令|显示", english), args
        assert english == _run(["--lang", "en", *args], CHINESE_ENV).stdout
    missing = _run(["checkout", "show"], ENGLISH_ENV)
    assert "avledger: error: Missing argument 'checkout_id'." in missing.stderr
