"""Small, exact helpers the sections share: rates, hours, local times, binning."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from avledger.timestamps import display


def rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


def hours(seconds: float) -> float:
    return round(seconds / 3600.0, 1)


def local(text: str | None, tz: str) -> str:
    """A stored UTC time as local minutes (what people read on paper)."""
    return display(text, tz)[:16] if text else ""


def bin_index(value: float, edges: Sequence[float]) -> int:
    """Index of the bin ``value`` falls in, for bins cut at ``edges`` (len(edges)+1 bins)."""
    return bisect_right(edges, value)


def bin_labels(edges: Sequence[float], unit: str = "") -> list[str]:
    """``< a``, ``a – b``, … ``≥ z`` for bins cut at ``edges``."""
    def fmt(v: float) -> str:
        return f"{v:g}{unit}"

    labels = [f"< {fmt(edges[0])}"]
    labels += [f"{fmt(a)} – {fmt(b)}" for a, b in zip(edges, edges[1:], strict=False)]
    labels.append(f"≥ {fmt(edges[-1])}")
    return labels
