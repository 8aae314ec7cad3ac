"""Babel extractor for the command line's help texts (``make translations``; babel.cfg).

Help is written in plain English where it is defined and translated as each command loads
(``avledger.cli.words.translate_help``), so the strings to translate are not in ``_()``
calls: they are command docstrings (as Typer reads them, ``inspect.getdoc``), the ``help=``
of options, arguments and apps, the help text given to ``new_app``, and the one-line help
of the command table in ``cli/main.py``. This finds them, and the ``_()`` calls as Babel's
Python extractor does.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from babel.messages.extract import extract_python

Found = tuple[Any, ...]  # (line, function, message(s), comments), as Babel's extractors yield
_TARGET = re.compile(r"\"command\",\s*\"avledger\.cli\.(\w+):(\w+)\"")
# Positional help: new_app(HELP, …) and LazyCommand(NAME, KIND, TARGET, HELP).
POSITIONAL_HELP = {"new_app": 0, "LazyCommand": 3}


def table_targets(cli_dir: Path) -> set[tuple[str, str]]:
    """(module, function) of every command the table in ``cli/main.py`` points at."""
    main = cli_dir / "main.py"
    text = main.read_text(encoding="utf-8") if main.exists() else ""
    return set(_TARGET.findall(text))


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _is_command(func: ast.FunctionDef, module: str, targets: set[tuple[str, str]]) -> bool:
    decorated = any(isinstance(d, ast.Call) and _name(d.func) in ("command", "callback")
                    for d in func.decorator_list)
    return decorated or (module, func.name) in targets


def _registered(tree: ast.Module) -> set[str]:
    """Functions made commands by a call rather than a decorator: ``app.command("x")(f)``."""
    return {node.args[0].id for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Call)
            and _name(node.func.func) == "command" and node.args
            and isinstance(node.args[0], ast.Name)}


def help_texts(source: str, module: str, targets: set[tuple[str, str]]) -> Iterator[
        tuple[int, str]]:
    """(line, text) of every help text in one module's source."""
    tree = ast.parse(source)
    targets = targets | {(module, name) for name in _registered(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _is_command(node, module, targets):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.body[0].lineno, doc
        elif isinstance(node, ast.Call):
            texts = [k.value for k in node.keywords if k.arg == "help"]
            position = POSITIONAL_HELP.get(_name(node.func))
            if position is not None and len(node.args) > position:
                texts.append(node.args[position])
            for text in texts:
                if isinstance(text, ast.Constant) and isinstance(text.value, str) and text.value:
                    yield text.lineno, inspect.cleandoc(text.value)  # as Typer keeps it


def extract_cli(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
                options: Any) -> Iterator[Found]:
    """Babel extraction method: the help texts, then the ``_()`` calls."""
    data = fileobj.read()
    path = Path(getattr(fileobj, "name", "x.py"))
    targets = table_targets(path.parent)
    for lineno, text in help_texts(data.decode("utf-8"), path.stem, targets):
        yield lineno, None, text, []
    yield from extract_python(io.BytesIO(data), keywords, comment_tags, options)
