"""Build step: the translation catalogs are compiled (``.po`` → ``.mo``) into the package.

Everything else about the package is in pyproject.toml. The ``.po`` files are the source
(committed, edited by translators); the ``.mo`` files are built here, for wheels, the Debian
package and editable installs alike, with Babel (a build requirement).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).parent / "src" / "avledger" / "locale"


def compile_catalogs() -> None:
    """Write each catalog's ``.mo`` beside its ``.po``."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po:
            catalog = read_po(po, locale=po_path.parts[-3])
        with po_path.with_suffix(".mo").open("wb") as mo:
            write_mo(mo, catalog)


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        compile_catalogs()
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
