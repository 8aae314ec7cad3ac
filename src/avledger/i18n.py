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
from collections.abc import Callable, Mapping
from pathlib import Path

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


def _(message: str) -> str:
    """The translation of ``message`` in the chosen language."""
    return _translation.gettext(message)


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
