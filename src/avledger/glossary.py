"""The one glossary (``data/glossary.json``): English ⇄ Chinese ⇄ code name.

The command line's catalog, the reports' labels and docs/glossary.md all follow it, so the
desk, the reports and the manual say the same thing (tests/test_glossary.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).parent / "data" / "glossary.json"


@dataclass(frozen=True)
class Term:
    code: str
    en: str
    zh: str
    where: str
    also: tuple[str, ...] = ()  # short forms a table heading may use ("记录" for 音像记录)

    def said_in(self, chinese: str) -> bool:
        return any(word in chinese for word in (self.zh, *self.also))


@cache
def terms() -> tuple[Term, ...]:
    data = json.loads(SOURCE.read_text(encoding="utf-8"))
    return tuple(Term(**{**t, "also": tuple(t.get("also", ()))}) for t in data["terms"])


def term(code: str) -> Term:
    """The term whose code name is ``code``."""
    return next(t for t in terms() if t.code == code)


def markdown() -> str:
    """docs/glossary.md, generated from the glossary."""
    about = json.loads(SOURCE.read_text(encoding="utf-8"))["about"]
    lines = ["# Glossary 术语表", "", about.replace("tests/test_glossary.py", "A test"), "",
             "Dates are written as ISO 8601 (2026-12-03 14:05:00) in both languages, and numbers "
             "with Arabic digits.", "",
             "| 中文 | English | code | where | short form in tables |", "|---|---|---|---|---|"]
    lines += [f"| {t.zh} | {t.en} | `{t.code}` | {t.where} | {'、'.join(t.also)} |"
              for t in terms()]
    return "\n".join(lines) + "\n"
