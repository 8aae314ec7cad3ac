"""The words people read, in their language: gettext catalogs under ``avledger/locale``.

Every user-facing string goes through ``_()`` (or ``ngettext``); strings that must be
marked where they are defined but translated where they are shown use ``N_()``. The
language is chosen once per process, before the command modules load (their help texts
are translated as they are loaded). ``--json`` output, ledger events, exit codes and file
formats never pass through here.

Which language (``choose``), first that applies:

1. ``--lang`` given to ``avledger`` itself (``avledger --lang en status``);
2. the caller's locale: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set and
   not empty decides, as POSIX says. ``C`` and ``POSIX`` ask for the untranslated program:
   English. ``C.UTF-8`` names an encoding, not a language (it is what Debian services and
   containers get by default), so it leaves the choice to the site;
3. ``site.language`` in the configuration (``zh_CN`` by default);
4. English.

Click and Typer translate their own words ("Usage", "Options", "Missing argument") through
the standard library's global gettext domain: ``use`` binds that domain to this catalog too.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

DOMAIN = "avledger"
LOCALE_DIR = Path(__file__).parent / "locale"
ENGLISH = "en"
CHINESE = "zh_CN"
LANGUAGES = (CHINESE, ENGLISH)
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
UNTRANSLATED_LOCALES = ("C", "POSIX")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = ENGLISH


def use(language: str | None) -> None:
    """Translate from now on into ``language`` (``zh_CN``, ``en``); unknown ones stay English.

    The standard library's global domain (what Click and Typer call) follows, through
    ``LANGUAGE``, the variable GNU gettext reads first: programs avledger starts see the
    same language.
    """
    global _translation, _language
    _language = normalise(language) or ENGLISH
    if _language == ENGLISH:
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[_language], fallback=True
        )
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _language


def current() -> str:
    """The language chosen (``zh_CN`` or ``en``)."""
    return _language


class Text(str):
    """A translated message that remembers its English original.

    What is shown is the translation; what is stored (a failed clip's reason in the catalog,
    a failed docking in the ledger) is ``english(text)``, so that stored words do not depend
    on the language of the process that wrote them. ``format`` keeps both in step.
    """

    english: str

    def __new__(cls, text: str, english_text: str) -> Text:
        self = super().__new__(cls, text)
        self.english = english_text
        return self

    def __reduce__(self) -> tuple[type[Text], tuple[str, str]]:  # pickled with its original
        return Text, (str(self), self.english)

    def format(self, *args: Any, **kwargs: Any) -> Text:
        return Text(str.format(self, *args, **kwargs),
                    self.english.format(*map(english, args),
                                        **{k: english(v) for k, v in kwargs.items()}))


def english(value: Any) -> Any:
    """The English original of a translated message (anything else is returned as it is)."""
    return value.english if isinstance(value, Text) else value


def _(message: str) -> str:
    """The translation of ``message`` in the chosen language."""
    return Text(_translation.gettext(message), message)


_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(![rsa])?(:[^{}]*)?\}")


@cache
def _patterns(translation: gettext.NullTranslations) -> list[tuple[re.Pattern[str], str, int]]:
    """Each message of the catalog with placeholders, as a pattern that reads its values back."""
    found = []
    for msgid, msgstr in getattr(translation, "_catalog", {}).items():
        if not isinstance(msgid, str) or not msgstr or not _FIELD.search(msgid) \
                or "{{" in msgid or "}}" in msgid:
            continue
        parts, pos, names = [], 0, set()
        for m in _FIELD.finditer(msgid):
            parts.append(re.escape(msgid[pos:m.start()]))
            name = m.group(1)
            parts.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
            names.add(name)
            pos = m.end()
        parts.append(re.escape(msgid[pos:]))
        literal = len(_FIELD.sub("", msgid))
        if literal:
            found.append((re.compile("".join(parts), re.DOTALL), msgstr, literal))
    return sorted(found, key=lambda p: -p[2])


def translate_stored(text: str, depth: int = 3) -> str:
    """Translate an English message that was stored already filled in (a failed docking's
    error in the catalog): the catalog message it was made from is recognised and its
    values are put into the translation. Text that no message matches is returned as it is."""
    if not text or not isinstance(_translation, gettext.GNUTranslations):
        return text
    exact = _translation.gettext(text)
    if exact != text or depth == 0:
        return exact
    for pattern, msgstr, _literal in _patterns(_translation):
        m = pattern.fullmatch(text)
        if m and all(_balanced(v) for v in m.groupdict().values()):
            return _fill(msgstr, {k: translate_stored(v, depth - 1)
                                  for k, v in m.groupdict().items()})
    return text


def _balanced(value: str) -> bool:
    """Brackets open and close within ``value``: a value read back never swallows the
    closing bracket of the message around it (``(known: a, b) (hint: …)``)."""
    depth = 0
    for c in value:
        if c in "([（":
            depth += 1
        elif c in ")]）":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _fill(msgstr: str, values: dict[str, str]) -> str:
    """The translation with each placeholder replaced by the text read back for it."""
    return _FIELD.sub(lambda f: values.get(f.group(1), f.group(0)), msgstr)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The translation of a message with a count."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction without translating it here."""
    return message


def normalise(name: str | None) -> str | None:
    """``zh_CN.UTF-8`` → ``zh_CN``, ``en_US`` → ``en``, ``C`` → ``en``; None when ``name``
    names no language (empty, ``C.UTF-8``). Any Chinese is the one Chinese catalog; a
    language without a catalog is English."""
    if not name:
        return None
    base = name.split(".")[0].split("@")[0].strip()
    if base in UNTRANSLATED_LOCALES:
        return None if "." in name else ENGLISH
    if base.lower().startswith("zh"):
        return CHINESE
    return ENGLISH if base else None


def from_locale(environ: Mapping[str, str]) -> str | None:
    """The language the caller's locale asks for, or None when it leaves it to the site."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            return normalise(value)
    return None


def choose(lang_option: str | None, environ: Mapping[str, str],
           site_language: Callable[[], str | None]) -> str:
    """The language of this run; ``site_language`` is asked only when nothing else decides."""
    return (normalise(lang_option) or from_locale(environ)
            or normalise(site_language()) or ENGLISH)
