"""The README and the manual in docs/: links that resolve, a reference that cannot drift.

Fast and without root: reads the Markdown files, runs the reference generator that
``make docs`` runs (``make reference``) into a temporary file, and builds the site with MkDocs
when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
BIN = Path(sys.executable).parent

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target), not inside code spans; the target up to a space or ')'
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+).+?\1")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, with inline code removed."""
    out, fenced = [], False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append((n, CODE_SPAN.sub("", line)))
    return out


def github_slug(text: str) -> str:
    """The id GitHub gives a heading: inline markup dropped, lower case, punctuation removed
    (letters, digits, marks, '_' and '-' kept, any script), each space a '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFC", text).lower()
    kept = [c for c in text
            if c in " -_" or unicodedata.category(c)[0] in ("L", "N", "M")]
    return "".join(kept).replace(" ", "-")


def headings_with_code(path: Path) -> list[str]:
    """Headings, read with their code spans (prose_lines drops those)."""
    out, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
        elif not fenced and (m := HEADING.match(line)):
            out.append(m.group(2))
    return out


def all_anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for text in headings_with_code(path):
        slug = github_slug(text)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(path: Path) -> list[tuple[int, str]]:
    return [(n, m.group(1)) for n, line in prose_lines(path) for m in LINK.finditer(line)]


def test_the_pages_exist() -> None:
    names = {p.name for p in DOCS.glob("*.md")}
    assert {"index.md", "desk.md", "records-office.md", "admin.md", "court.md", "security.md",
            "regulation-map.md", "benchmarks.md", "reference.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    problems = []
    for n, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:, …
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        where = f"{page.relative_to(ROOT)}:{n}: {target}"
        if not dest.is_relative_to(ROOT):
            problems.append(f"{where}: points outside the repository")
        elif not dest.exists():
            problems.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in all_anchors(dest):
            problems.append(f"{where}: no heading with the id {anchor!r} in {dest.name}")
    assert not problems, "\n".join(problems)


def test_the_slugs_are_githubs() -> None:
    assert github_slug("avledger clock check | sync | history") == \
        "avledger-clock-check--sync--history"
    assert github_slug("avledger access — the access register (查阅登记簿, rule A)") == \
        "avledger-access--the-access-register-查阅登记簿-rule-a"
    assert github_slug("The S3 object store (Object Lock)") == "the-s3-object-store-object-lock"


def test_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 260, f"README.md has {len(lines)} lines; the manual is in docs/"


def test_the_command_reference_is_what_the_program_says(tmp_path: Path) -> None:
    """docs/reference.md is exactly what 'make reference' (run by 'make docs') generates now."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = tmp_path / "reference.md"
    run = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), "reference",
                          f"BIN={BIN}", f"REFERENCE={out}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    committed = (DOCS / "reference.md").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, (
        "docs/reference.md is out of date: run 'make docs' and commit it")


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = BIN / "mkdocs"
    if not mkdocs.exists():
        pytest.skip("mkdocs is not installed (make dev installs it)")
    run = subprocess.run([str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1",
                              "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "site" / "index.html").exists()
