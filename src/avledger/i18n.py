"""The words people read, in their language: gettext catalogs under ``avledger/locale``.

Every user-facing string goes through ``_()`` (or ``ngettext``); strings that must be
marked where they are defined but translated where they are shown use ``N_()``. The
language is chosen once per process, before the command modules load (their help texts
are translated as they are defined). ``--json`` output, ledger events, exit codes and file
formats never pass through here.
"""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any

DOMAIN = "avledger"
LOCALE_DIR = Path(__file__).parent / "locale"

_translation: gettext.NullTranslations = gettext.NullTranslations()


def use(language: str | None) -> None:
    """Translate from now on into ``language`` (``zh_CN``, ``en``); unknown ones stay English."""
    global _translation
    if not language:
        _translation = gettext.NullTranslations()
        return
    _translation = gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True
    )


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


def ngettext(singular: str, plural: str, n: int) -> str:
    """The translation of a message with a count."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for extraction without translating it here."""
    return message
