"""One glossary for the command line, the reports and the manual (src/avledger/data/glossary.json).

Wherever an English message names a glossary term, its Chinese says the glossary's word: in the
command line's catalog and in the reports' labels alike. docs/glossary.md is generated from it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from avledger import glossary
from avledger.core.reports import i18n as report_labels

REPO = Path(__file__).resolve().parent.parent
PO = REPO / "src/avledger/locale/zh_CN/LC_MESSAGES/avledger.po"
# English that names a term without meaning it: "a tamper-evident custody ledger" is the
# ledger, but "hold" in "holds the clips" is a verb.
NOT_THE_TERM = re.compile(r"\bholds? (the|its|every|a|copies|what|no|exactly|\{)|\bit holds\b"
                          r"|\bon hold\b|\b(not|should|media) holds?\b", re.IGNORECASE)
# Code, not words: commands and examples, dotted and colon names, exported column lists.
CODE = re.compile(r"Columns:[^\n]*(\n[^\n]+)*|(avledger|Examples?:)[^\n]*|\b\w+[.:][\w*]+\S*",
                  re.IGNORECASE)


def _pattern(english: str) -> str:
    return r"(?<![\w'-])" + re.escape(english).replace(r"\ ", r"[\s-]+") + r"s?(?![\w'-])"


def mentions(english: str, term: glossary.Term) -> bool:
    text = NOT_THE_TERM.sub(" ", CODE.sub(" [code] ", english))  # "check store.s3 in" ≠ check in
    for longer in glossary.terms():  # "case handler" is its own term, not "case"
        if longer is not term and term.en in longer.en:
            text = re.sub(_pattern(longer.en), " ", text, flags=re.IGNORECASE)
    return re.search(_pattern(term.en), text, re.IGNORECASE) is not None


def inconsistent(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{term.en} → {term.zh}: {english!r} → {chinese!r}"
            for english, chinese in pairs for term in glossary.terms()
            if chinese and mentions(english, term) and not term.said_in(chinese)]


def test_the_manual_s_glossary_is_the_glossary() -> None:
    page = (REPO / "docs" / "glossary.md").read_text(encoding="utf-8")
    assert page == glossary.markdown(), "docs/glossary.md is stale: regenerate it with " \
        "python -c 'from avledger import glossary; print(glossary.markdown(), end=\"\")'"


def test_terms_are_unique() -> None:
    codes = [t.code for t in glossary.terms()]
    english = [t.en for t in glossary.terms()]
    assert len(set(codes)) == len(codes) and len(set(english)) == len(english)


def test_the_command_line_says_the_glossary_s_words() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    pairs = [(m.id, m.string) for m in catalog if isinstance(m.id, str) and m.id]
    assert not (problems := inconsistent(pairs)), "\n".join(problems)


def test_the_reports_say_the_glossary_s_words() -> None:
    pairs = list(report_labels.L.values())
    assert not (problems := inconsistent(pairs)), "\n".join(problems)


@pytest.mark.parametrize("code", ["checkout export", "access register", "ledger"])
def test_report_labels_are_built_from_the_glossary(code: str) -> None:
    term = glossary.term(code)
    assert report_labels.t(f"term.{code}", "zh") == term.zh
    assert any(zh == term.zh and en.lower() == term.en for en, zh in report_labels.L.values())
