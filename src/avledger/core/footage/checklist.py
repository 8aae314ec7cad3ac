"""The recording checklist (Annex 1, 行政执法音像记录事项清单) as the site configured it.

Each row names a step that must be recorded (调查笔录, 听证, 查封/扣押现场笔录 …) under an
enforcement category, with a stable code (``seizure``, ``hearing``, ``investigation_record``)
that the command line, ``--json`` and the catalog use; the Chinese words stay the site's own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from avledger.config.loader import Config
from avledger.errors import InputError
from avledger.i18n import _

# The three enforcement categories of Annex 1, and the case type (cases.enforcement_type) each
# corresponds to.
CATEGORY_EN = {"行政检查": "inspection", "行政处罚": "penalty", "行政强制": "compulsion"}
RECORD_CLASS_EN = {"场景类": "scene", "会议类": "meeting"}


@dataclass(frozen=True)
class Step:
    """One checklist row."""

    code: str
    category: str
    matter: str
    matter_en: str
    step: str
    step_en: str
    place: str
    recorder: str
    start: str
    end: str
    content: str
    retention: str | int  # 'with_case_file' or days
    record_class: str

    @property
    def category_en(self) -> str:
        return CATEGORY_EN.get(self.category, self.category)

    @property
    def record_class_en(self) -> str:
        return RECORD_CLASS_EN.get(self.record_class, self.record_class)

    def label(self, lang: str) -> str:
        """How a report names the step: '查封、扣押现场笔录' or 'On-site record of …'."""
        return self.step if lang == "zh" else self.step_en

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"category_en": self.category_en,
                               "record_class_en": self.record_class_en}


def checklist(config: Config) -> list[Step]:
    """Every row, in the configured order."""
    return [Step(**row) for row in config.get("footage.checklist")]


def steps_by_code(config: Config) -> dict[str, Step]:
    return {s.code: s for s in checklist(config)}


def find_step(config: Config, code: str) -> Step:
    """The row with this code; a clear error naming the known codes otherwise."""
    steps = steps_by_code(config)
    if code not in steps:
        raise InputError(_("unknown recording step {code!r}").format(code=code),
                         hint=_("known steps (footage.checklist): {codes}").format(
                             codes=", ".join(steps) or "-"))
    return steps[code]


def check_category(category: str) -> str:
    """The category as stored (its Chinese name), given in Chinese or as its English code."""
    by_code = {en: zh for zh, en in CATEGORY_EN.items()}
    if category in CATEGORY_EN:
        return category
    if category in by_code:
        return by_code[category]
    raise InputError(_("unknown enforcement category {category!r}").format(category=category),
                     hint=_("choose from: {choices}").format(choices=", ".join(
                         f"{zh} ({en})" for zh, en in CATEGORY_EN.items())))
