"""``site.language``, read on every start without parsing YAML.

The language is chosen before anything else loads (help texts are translated as their
commands load), and a bare ``avledger --version`` or a TAB of completion must not pay for a
YAML parser. So the configuration files are scanned for the one key, in the block style the
sample configuration uses (``site:`` then an indented ``language: zh_CN``); the full loader
still validates the value wherever the configuration is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from avledger.config.layout import Layout
from avledger.i18n import CHINESE

_SECTION = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:")
_LANGUAGE = re.compile(r"^\s+language\s*:\s*['\"]?(?P<value>[A-Za-z_]+)['\"]?\s*(#.*)?$")


def language_in(text: str) -> str | None:
    """The value of ``site.language`` in one configuration file's text, if it sets one."""
    in_site = False
    found = None
    for line in text.splitlines():
        section = _SECTION.match(line)
        if section:
            in_site = section["key"] == "site"
            continue
        match = _LANGUAGE.match(line) if in_site else None
        if match:
            found = match["value"]
    return found


def site_language(explicit: Path | None, environ: Mapping[str, str]) -> str:
    """``site.language`` as the layered configuration sets it (the later file wins)."""
    layout = Layout.discover(environ)
    override = explicit or (Path(environ["AVLEDGER_CONFIG"])
                            if environ.get("AVLEDGER_CONFIG") else None)
    found = CHINESE  # the schema's default (site.language)
    for path in (layout.config_file, override):
        if path is None:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # unreadable here: the loader says why when the command loads it
        found = language_in(text) or found
    return found
