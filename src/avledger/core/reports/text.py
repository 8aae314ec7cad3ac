"""Values as people read them, the same in every format that shows them formatted."""

from __future__ import annotations

from typing import Any

from avledger.core.reports import i18n
from avledger.core.units import human_bytes

DASH = "–"


def value(v: Any, kind: str, lang: str) -> str:
    if v is None or v == "":
        return DASH if kind not in ("text", "time", "mono") else ""
    if kind == "id":
        return str(v)
    if kind == "int":
        return f"{int(v):,}"
    if kind in ("num", "hours"):
        return f"{float(v):,.1f}"
    if kind == "pct":
        return f"{float(v):.1f}%" if lang == "zh" else f"{float(v):.1f} %"
    if kind == "bytes":
        return human_bytes(int(v))
    if kind == "code":
        return i18n.code(v, lang)
    return str(v)


def raw(v: Any, kind: str, lang: str) -> Any:
    """For CSV: numbers unformatted, codes translated, nothing missing shown as a dash."""
    if v is None:
        return ""
    if kind == "code":
        return i18n.code(v, lang)
    return v
