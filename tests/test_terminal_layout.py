"""The desk's commands in a real terminal: tmux, 80 and 120 columns, its pane read back.

In Chinese, every table's borders stand at the same display column on every row, no line is
wider than the terminal, and nothing is cut (the long Chinese task of a checkout reads back
whole from its folded column, an error line whole from its wrapped pieces). With LANG=C the
same commands answer in English.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator

import pytest

from tests.conftest import AVLEDGER_BIN, run_cli

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="needs tmux (Debian package 'tmux'; 'make test')")

TASK = "河道排污口检查，新华区第二污水处理厂（2026年第四季度双随机抽查）"
CHINESE = {"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "", "LC_ALL": ""}
ENGLISH = {"LANG": "C", "LC_MESSAGES": "", "LC_ALL": ""}
VERTICAL = "│┃"
TOP = "┌┬┐┏┳┓"


def width(text: str) -> int:
    """Display cells as a terminal counts them (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def columns_of(line: str, chars: str) -> list[int]:
    found, at = [], 0
    for ch in line:
        if ch in chars:
            found.append(at)
        at += width(ch)
    return found


class Terminal:
    """One tmux server of our own (its own socket), a pane per command."""

    def __init__(self, socket: str, environ: dict[str, str]) -> None:
        self.socket, self.environ, self.count = socket, environ, 0

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-u", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=120, env=self.environ)
        assert done.returncode == 0, f"tmux {' '.join(args[:3])}: {done.stderr}"
        return done.stdout

    def run(self, cols: int, env: dict[str, str], *args: str) -> list[str]:
        """The pane's lines after ``avledger ARGS`` ran in a terminal ``cols`` wide."""
        self.count += 1
        name, channel = f"s{self.count}", f"done{self.count}"
        exports = " ".join(f"{k}='{v}'" for k, v in env.items())
        quoted = " ".join(f"'{a}'" for a in args)
        script = (f"env {exports} {AVLEDGER_BIN} {quoted}; echo \"@@exit $?\"; "
                  f"tmux wait-for -S {channel}; exec sleep 3600")
        self.tmux("new-session", "-d", "-s", name, "-x", str(cols), "-y", "200", script)
        self.tmux("wait-for", channel)  # returns at once if the command has signalled already
        pane = self.tmux("capture-pane", "-p", "-t", name, "-S", "-", "-E", "-")
        self.tmux("kill-session", "-t", name)
        lines = pane.rstrip("\n").splitlines()
        end = next(i for i, ln in enumerate(lines) if ln.startswith("@@exit "))
        return lines[:end + 1]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Terminal, dict[str, str]]]:
    """An installation with a device out on a long Chinese task and three clips ingested."""
    home = tmp_path_factory.mktemp("layout") / "home"
    env = {"AVLEDGER_HOME": str(home)}
    recorder = home.parent / "recorder"

    def av(*args: str) -> str:
        done = run_cli(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    av("init")
    av("device", "add", "BWR0042", "--model", "Generic BWR")
    av("simulate", "recorder", str(recorder), "--profile", "generic", "--serial", "BWR0042",
       "--badge", "0001", "--clips", "0", "--drift", "95")
    av("checkout", "BWR0042", "--to", "0001", "--task", TASK, "--task-id", "2026Q4-007",
       "--battery", "95", "--storage-free", "90")
    av("simulate", "record", str(recorder), "--clips", "3", "--seconds", "1", "--gap", "0",
       "--size", "64k", "--start", "2026-12-03 09:00:00")
    import json

    docked = json.loads(av("simulate", "dock", str(recorder), "--json"))["docked_at"]
    av("ingest", str(recorder), "--docked-at", docked)
    environ = {**os.environ, **env, "LC_CTYPE": "C.UTF-8"}
    environ.pop("TMUX", None)
    terminal = Terminal(f"avledger-layout-{os.getpid()}", environ)
    # A session that outlives the others: the server would otherwise exit with the last one,
    # and the next command could meet it on its way out.
    terminal.tmux("new-session", "-d", "-s", "keep", "exec sleep 86400")
    try:
        yield terminal, env
    finally:
        subprocess.run(["tmux", "-L", terminal.socket, "kill-server"], capture_output=True,
                       check=False, env=environ)


def tables(lines: list[str]) -> list[list[str]]:
    """The lines of each table drawn in the pane, from its top border to its bottom one."""
    found, current = [], None
    for line in lines:
        if line.lstrip()[:1] in TOP:
            current = [line]
        elif current is not None:
            current.append(line)
            if line.lstrip()[:1] in "└┗":
                found.append(current)
                current = None
    return found


def assert_aligned(lines: list[str], cols: int) -> None:
    assert all(width(ln) <= cols for ln in lines), "a line wider than the terminal"
    assert not any("\ufffd" in ln for ln in lines), "a character was cut"
    drawn = tables(lines)
    assert drawn, "no table in the pane:\n" + "\n".join(lines)
    for table in drawn:
        borders = columns_of(table[0], TOP)
        for row in table[1:]:
            if row.lstrip()[:1] in "┡├┠╞└┗":  # the lines under the header, between sections
                continue
            assert columns_of(row, VERTICAL) == borders, "misaligned row:\n" + "\n".join(table)


def column_text(table: list[str], header: str) -> str:
    """The text of one column, read down all its rows (folded pieces joined)."""
    head = next(row for row in table if header in row)
    borders = columns_of(table[0], TOP)
    at = width(head[:head.index(header)])
    left = max(b for b in borders if b < at)
    right = min(b for b in borders if b > at)
    pieces = []
    for row in table[table.index(head) + 1:]:
        if row.lstrip()[:1] in "┡├└┗╇":
            continue
        cells, pos = "", 0
        for ch in row:
            if left < pos < right:
                cells += ch
            pos += width(ch)
        pieces.append(cells.strip())
    return "".join(pieces)


@pytest.mark.slow
@pytest.mark.parametrize("cols", [80, 120])
def test_chinese_tables_are_aligned_and_whole(desk: tuple[Terminal, dict[str, str]],
                                              cols: int) -> None:
    terminal, env = desk
    for command in (["status"], ["checkout", "list"], ["clips", "list"]):
        lines = terminal.run(cols, {**env, **CHINESE}, *command)
        assert lines[-1] == "@@exit 0", lines
        assert_aligned(lines[:-1], cols)
    listing = terminal.run(cols, {**env, **CHINESE}, "checkout", "list")
    checkouts = tables(listing)[0]
    assert "领用记录（1 条" in "".join(listing) and "执法" in "".join(checkouts)
    assert column_text(checkouts, "任务") == TASK  # folded, nothing lost
    status = "".join(terminal.run(cols, {**env, **CHINESE}, "status"))
    assert "avledger 概况" in status and "未归还的领用" in status


@pytest.mark.slow
@pytest.mark.parametrize("cols", [80, 120])
def test_a_failing_checkout_reads_whole_in_chinese(desk: tuple[Terminal, dict[str, str]],
                                                   cols: int) -> None:
    terminal, env = desk
    usage = terminal.run(cols, {**env, **CHINESE}, "checkout", "BWR0042", "--to", "0001",
                         "--task", TASK, "--reason", "电量不足")
    assert usage[-1] == "@@exit 2"
    said = "".join(usage[:-1])  # a long line wraps in the pane: its pieces join back whole
    assert said == ("avledger：错误：--reason 须与 --force 一起使用。"
                    "（提示：见 'avledger checkout out -h'）"), usage
    refused = terminal.run(cols, {**env, **CHINESE}, "checkout", "BWR0042", "--to", "0001",
                           "--task", TASK, "--battery", "95", "--storage-free", "90")
    assert refused[-1] == "@@exit 5" and "".join(refused[:-1]).startswith("avledger：错误：")
    assert all(width(ln) <= cols for ln in refused)


@pytest.mark.slow
def test_the_same_commands_in_english_with_lang_c(desk: tuple[Terminal, dict[str, str]]) -> None:
    terminal, env = desk
    listing = terminal.run(120, {**env, **ENGLISH}, "checkout", "list")
    assert listing[-1] == "@@exit 0"
    assert_aligned(listing[:-1], 120)
    text = "\n".join(listing)
    assert "checkouts (1, times in Asia/Shanghai)" in text
    assert all(word in text for word in ("device", "badge", "task", "state", "out"))
    assert column_text(tables(listing)[0], "task") == TASK
    status = "\n".join(terminal.run(120, {**env, **ENGLISH}, "status"))
    assert "avledger status" in status and "open checkouts" in status
    clips = "\n".join(terminal.run(120, {**env, **ENGLISH}, "clips", "list"))
    assert "3 clip(s)" in clips and "on time" in clips
    failing = terminal.run(80, {**env, **ENGLISH}, "checkout", "BWR0042", "--to", "0001",
                           "--task", "x", "--reason", "y")
    assert "".join(failing[:-1]) == ("avledger: error: --reason goes with --force. "
                                     "(hint: see 'avledger checkout out -h')")
