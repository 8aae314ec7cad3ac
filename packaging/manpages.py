"""Man pages from the command tree: ``avledger(1)`` and one page per top-level command or group
(``avledger-checkout(1)``, ``avledger-ledger(1)``, …), written as roff.

The top-level group loads its sub-commands lazily (``avledger/cli/group.py``), so the tree is
walked the way click resolves a command line, through ``get_command`` on every name that
``list_commands`` gives: each command module is imported and nothing is missed.

Usage: python packaging/manpages.py OUTDIR [--version V] [--date YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PROG = "avledger"
SEE_ALSO_FIXED = ("sudo(8)", "systemctl(1)", "journalctl(1)", "udevadm(8)")


def command_tree() -> Any:
    import typer.main

    from avledger.cli.main import app

    return typer.main.get_command(app)


def children(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    """Each sub-command, resolved (and so loaded) by name."""
    if not hasattr(cmd, "list_commands"):
        return
    ctx = cmd.make_context(" ".join(path), [], resilient_parsing=True)
    for name in cmd.list_commands(ctx):
        sub = cmd.get_command(ctx, name)
        if sub is not None and not getattr(sub, "hidden", False):
            yield name, sub


def roff(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line taken for a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.splitlines():
        line = line.rstrip()
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


_MARKUP = re.compile(r"\[/?(?:bold|dim|italic|green|red|yellow|cyan|b|i)\]")


def plain(text: str | None) -> str:
    """Help text without rich markup, one paragraph per blank-line block."""
    if not text:
        return ""
    text = _MARKUP.sub("", text)
    return "\n".join(line.strip() for line in text.strip().splitlines())


def paragraphs(text: str) -> str:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "\n.PP\n".join(roff(b) for b in blocks)


def usage(cmd: Any, path: list[str]) -> str:
    ctx = cmd.make_context(" ".join(path), [], resilient_parsing=True)
    pieces = cmd.collect_usage_pieces(ctx)
    return " ".join(path + pieces)


def options(cmd: Any, path: list[str]) -> str:
    ctx = cmd.make_context(" ".join(path), [], resilient_parsing=True)
    out: list[str] = []
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            if getattr(param, "param_type_name", "") == "argument":
                name = param.human_readable_name
                record = (name, getattr(param, "help", None) or "")
            else:
                continue
        names, help_text = record
        out.append(f".TP\n.B {roff(names)}\n{roff(plain(help_text)) or '.'}")
    return "\n".join(out)


def header(title: str, version: str, date: str) -> str:
    return (f'.TH "{title.upper()}" "1" "{date}" "{PROG} {version}" "avledger manual"\n'
            ".\\\" Generated from the command tree by packaging/manpages.py; do not edit.\n"
            ".nh\n.ad l\n")


def command_section(cmd: Any, path: list[str], level: str = ".SS") -> str:
    """One command: its usage, description and options; a group's sub-commands after it."""
    parts = [f'{level} "{roff(" ".join(path))}"',
             f".B {roff(usage(cmd, path))}", ".PP", paragraphs(plain(cmd.help))]
    opts = options(cmd, path)
    if opts:
        parts += [".PP", "Options:", ".RS", opts, ".RE"]
    text = "\n".join(p for p in parts if p)
    for name, sub in children(cmd, path):
        text += "\n" + command_section(sub, [*path, name])
    return text


def page_for(name: str, cmd: Any, version: str, date: str, siblings: list[str]) -> str:
    path = [PROG, name]
    short = plain(cmd.get_short_help_str(limit=200))
    body = [header(f"{PROG}-{name}", version, date), ".SH NAME",
            f"{PROG}\\-{roff(name)} \\- {roff(short)}", ".SH SYNOPSIS",
            f".B {roff(usage(cmd, path))}", ".SH DESCRIPTION", paragraphs(plain(cmd.help))]
    opts = options(cmd, path)
    if opts:
        body += [".SH OPTIONS", opts]
    subs = list(children(cmd, path))
    if subs:
        body.append(".SH COMMANDS")
        body += [command_section(sub, [*path, sub_name]) for sub_name, sub in subs]
    body += [".SH SEE ALSO", ",\n".join([f".BR {PROG} (1)"] +
                                        [f".BR {PROG}\\-{roff(s)} (1)" for s in siblings
                                         if s != name][:12])]
    return "\n".join(body) + "\n"


def main_page(root: Any, version: str, date: str, names: list[tuple[str, Any]]) -> str:
    path = [PROG]
    body = [header(PROG, version, date), ".SH NAME",
            f"{PROG} \\- evidence system for body\\-worn recorders", ".SH SYNOPSIS",
            f".B {roff(usage(root, path))}", ".SH DESCRIPTION", paragraphs(plain(root.help)),
            ".SH OPTIONS", options(root, path), ".SH COMMANDS"]
    for name, cmd in names:
        body.append(f".TP\n.BR {PROG}\\-{roff(name)} (1)\n"
                    f"{roff(plain(cmd.get_short_help_str(limit=200)))}")
    body += [".SH FILES",
             ".TP\n.I /etc/avledger/avledger.yaml\nConfiguration and roster (root, not writable "
             "by others).",
             ".TP\n.I /etc/avledger/profiles/\nDevice profiles of this station.",
             ".TP\n.I /etc/avledger/keys/\nThe ledger's signing key (service account only).",
             ".TP\n.I /var/lib/avledger/\nEvidence store and catalog.",
             ".TP\n.I /var/log/avledger/checkpoints.log\nSigned checkpoints of the ledger.",
             ".SH SEE ALSO",
             ",\n".join(f".BR {s.replace('(', ' (')}" for s in SEE_ALSO_FIXED) +
             ".PP\n/usr/share/doc/avledger/"]
    return "\n".join(body) + "\n"


def write(outdir: Path, version: str, date: str, compress: bool = True) -> list[Path]:
    root = command_tree()
    top = list(children(root, [PROG]))
    pages = {f"{PROG}.1": main_page(root, version, date, top)}
    siblings = [name for name, _ in top]
    for name, cmd in top:
        pages[f"{PROG}-{name}.1"] = page_for(name, cmd, version, date, siblings)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in pages.items():
        data = text.encode("utf-8")
        target = outdir / (filename + (".gz" if compress else ""))
        if compress:
            # mtime 0: the same tree gives the same bytes (reproducible package).
            target.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        else:
            target.write_bytes(data)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--version", default="")
    parser.add_argument("--date", default=dt.date.today().isoformat())
    parser.add_argument("--no-gzip", action="store_true")
    args = parser.parse_args()
    if not args.version:
        from importlib.metadata import version

        args.version = version(PROG)
    for path in write(args.outdir, args.version, args.date, compress=not args.no_gzip):
        print(path)


if __name__ == "__main__":
    main()
