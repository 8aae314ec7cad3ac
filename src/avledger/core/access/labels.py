"""Bilingual names for the access register, cover sheets and messages (中文 / English)."""

from __future__ import annotations

CATEGORIES = {
    "case_handler": ("案件承办人", "case handler"),
    "internal_staff": ("本局其他人员", "other internal staff"),
    "judicial": ("司法、监察等机关", "judicial or supervisory body"),
    "party": ("行政相对人", "the party"),
    "party_lawyer": ("代理律师", "the party's lawyer"),
    "external_agency": ("外地执法部门", "enforcement body of another region"),
}
KINDS = {
    "police": ("公安机关", "police"),
    "procuratorate": ("检察院", "procuratorate"),
    "court": ("法院", "court"),
    "state_security": ("国家安全机关", "state security"),
    "discipline_inspection": ("纪检监察机关", "discipline inspection"),
    "judicial_administration": ("司法行政机关", "judicial administration"),
    "audit": ("审计机关", "audit"),
}
# The requester as the subject of a sentence ("the party may view, not copy").
WHO = {
    "case_handler": "a case handler",
    "internal_staff": "other staff",
    "judicial": "a judicial or supervisory body",
    "party": "the party",
    "party_lawyer": "the party's lawyer",
    "external_agency": "another region's enforcement body",
}
DOCUMENTS = {
    "unit_letter": ("单位介绍信", "unit letter"),
    "id_card": ("有效身份证件", "ID"),
    "power_of_attorney": ("委托书", "power of attorney"),
    "authorisation": ("授权书", "authorisation"),
    "lawyer_licence": ("律师执业证", "lawyer's practising licence"),
}
ACTIONS = {"view": ("查阅", "view"), "copy": ("复制", "copy")}
OUTCOMES = {
    "pending": ("待批准", "pending"),
    "approved": ("已批准", "approved"),
    "denied": ("不予批准", "denied"),
    "fulfilled": ("已办结", "fulfilled"),
}
CONFIDENTIALITY = {
    "none": ("无", "none"),
    "personal-privacy": ("个人隐私", "personal privacy"),
    "commercial-secret": ("商业秘密", "commercial secret"),
    "state-secret": ("国家秘密", "state secret"),
}


def both(table: dict[str, tuple[str, str]], key: str | None) -> str:
    """``中文 English`` for a known key; the key itself for one a site added."""
    if key is None:
        return ""
    zh, en = table.get(key, ("", key))
    return f"{zh} {en}".strip()


def documents(keys: list[str]) -> str:
    return "、".join(both(DOCUMENTS, k) for k in keys) or "—"
