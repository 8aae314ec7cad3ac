"""The one configuration schema.

It drives three things, so they cannot drift apart: validation (every problem reported with
its dotted path), the built-in defaults, and the commented sample config
(``avledger config sample``; ``config/avledger.example.yaml`` is generated from it).
Later capabilities add their sections here.
"""

from __future__ import annotations

import copy
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from avledger.i18n import CHINESE, LANGUAGES, _

ROLES = ("clerk", "handler", "records_manager", "leader", "auditor", "legal_reviewer")

Checker = Callable[[Any], str | None]


@dataclass(frozen=True)
class Leaf:
    """A single value: its type check, default and the help line shown in the sample."""

    check: Checker
    default: Any
    help: str
    example: Any = None


@dataclass(frozen=True)
class Section:
    help: str
    fields: dict[str, Node]


@dataclass(frozen=True)
class ListOf:
    """A list whose items are sections (e.g. the personnel roster)."""

    help: str
    item: Section
    default: list[Any] = field(default_factory=list)
    example: list[dict[str, Any]] = field(default_factory=list)
    unique: str | None = None  # a key that must be unique across items


Node = Leaf | Section | ListOf


# ---- value checks: each returns None when fine, else a message ----------------------------


def positive_int(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        return _("must be a positive integer")
    return None


def non_negative_number(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        return _("must be a number of at least 0")
    return None


def non_empty_str(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return _("must be a non-empty string")
    return None


def origin(v: Any) -> str | None:
    """The origin is also the signed-note key name: no spaces, no '+'."""
    if not isinstance(v, str) or not v:
        return _("must be a non-empty string such as avledger.example.gov.cn/custody")
    if "+" in v or any(c.isspace() for c in v):
        return _("must not contain spaces or '+' (it names the signing key)")
    return None


def optional_str(v: Any) -> str | None:
    if v is not None and not isinstance(v, str):
        return _("must be a string")
    return None


def str_or_empty(v: Any) -> str | None:
    if not isinstance(v, str):
        return _("must be a string (may be empty)")
    return None


def part_size_mib(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int) or not 5 <= v <= 5120:
        return _("must be a whole number of MiB from 5 to 5120 (S3's part size limits)")
    return None


def path_str(v: Any) -> str | None:
    if not isinstance(v, str) or not v:
        return _("must be a path")
    return None


def timezone(v: Any) -> str | None:
    if not isinstance(v, str):
        return _("must be an IANA time zone name such as Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return _("unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)").format(v=v)
    return None


def year(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int) or not 1970 <= v <= 2100:
        return _("must be a year between 1970 and 2100")
    return None


def list_of_paths(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(p, str) and p for p in v):
        return _("must be a list of paths")
    return None


def list_of_paths_or_empty(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(p, str) and p for p in v):
        return _("must be a list of paths (may be empty)")
    return None


def percent(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100:
        return _("must be a percentage between 0 and 100")
    return None


def positive_percent(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 100:
        return _("must be a percentage above 0 and at most 100")
    return None


def subset_of(*choices: str) -> Checker:
    """A list (possibly empty) whose items all come from ``choices``, each once."""
    def check(v: Any) -> str | None:
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            return _("must be a list drawn from: {choices}").format(choices=', '.join(choices))
        bad = [x for x in v if x not in choices]
        if bad:
            return _("unknown value(s) {bad} (known: {choices})").format(
                       bad=', '.join(bad), choices=', '.join(choices))
        if len(set(v)) != len(v):
            return _("lists a value twice")
        return None
    return check


def names_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and re.match(r"^[a-z][a-z0-9_]*$", x)
                                          for x in v):
        return _("must be a list of lower-case names (letters, digits, _)")
    return None


def command_line(v: Any) -> str | None:
    if not isinstance(v, str):
        return _("must be a command line (a string; empty for none)")
    return None


def list_of_commands(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return _("must be a list of command lines")
    return None


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def copies_count(v: Any) -> str | None:
    return None if v in (1, 2) and not isinstance(v, bool) else "must be 1 or 2"


def one_of(*choices: str) -> Checker:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of: {', '.join(choices)}"
    return check


_MEDIA = re.compile(r"^(dvd|dvd-dl|bd25|bd50|\d+(\.\d+)?[KMG]?)$")


def media_size(v: Any) -> str | None:
    if not isinstance(v, str) or not _MEDIA.match(v):
        return _("must be dvd, dvd-dl, bd25, bd50 or a size such as 700M")
    return None


_BADGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def badge(v: Any) -> str | None:
    if not isinstance(v, str | int) or isinstance(v, bool) or not _BADGE.match(str(v)):
        return _("must be a badge number (letters, digits, . _ -; up to 32)")
    return None


def roles(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return _("must be a non-empty list of roles from: {ROLES}").format(ROLES=', '.join(ROLES))
    bad = [r for r in v if r not in ROLES]
    if bad:
        return _("unknown role(s) {roles} (known: {ROLES})").format(
                   roles=', '.join(map(str, bad)), ROLES=', '.join(ROLES))
    return None


def os_user(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str) or not re.match(r"^[a-z_][a-z0-9_.-]*\$?$", v):
        return _("must be an operating-system user name")
    return None


# ---- the access policy (rule A) ----------------------------------------------------------------

ACCESS_ACTIONS = ("view", "copy")
ACCESS_DOCUMENTS = ("unit_letter", "id_card", "power_of_attorney", "authorisation",
                    "lawyer_licence")
ACCESS_CATEGORIES = ("case_handler", "internal_staff", "judicial", "party", "party_lawyer",
                     "external_agency")
ACCESS_SCOPES = ("handled_cases", "any", "case_footage", "one_case")
JUDICIAL_KINDS = ("police", "procuratorate", "court", "state_security",
                  "discipline_inspection", "judicial_administration", "audit")
CONFIDENTIAL_LEVELS = ("personal-privacy", "commercial-secret", "state-secret")


def _requester(help_text: str, *, article: str, actions: list[str], documents: list[str],
               approval: dict[str, bool], scope: str, kinds: tuple[str, ...] = ()) -> Section:
    """One requester category of the policy table: its defaults reproduce rule A."""
    docs = subset_of(*ACCESS_DOCUMENTS)
    return Section(help_text, {
        "article": Leaf(non_empty_str, article, "The article of rule A cited in decisions."),
        "actions": Leaf(subset_of(*ACCESS_ACTIONS), actions, "What they may do: view, copy."),
        "documents": Section("Documents that must be shown and checked, per action (unit_letter,"
                             " id_card, power_of_attorney, authorisation, lawyer_licence).", {
            "view": Leaf(docs, list(documents), "Needed to view."),
            "copy": Leaf(docs, list(documents), "Needed to take a copy."),
        }),
        "approval": Section("Whether the principal leader (role leader) must approve.", {
            "view": Leaf(boolean, approval["view"], "Viewing needs approval."),
            "copy": Leaf(boolean, approval["copy"], "Copying needs approval."),
        }),
        "scope": Leaf(one_of(*ACCESS_SCOPES), scope,
                      "What they may see: handled_cases (cases they handle), any, case_footage "
                      "(footage of enforcement cases), one_case (the one case they name)."),
        "kinds": Leaf(names_list, list(kinds),
                      "Sub-kinds of requester; when listed, a request must name one (--kind)."),
    })


def _secrecy(help_text: str, *, allowed: tuple[str, ...], approval: bool,
             exempt: tuple[str, ...]) -> Section:
    cats = subset_of(*ACCESS_CATEGORIES)
    return Section(help_text, {
        "article": Leaf(non_empty_str, "Art. 10", "The article of rule A cited in decisions."),
        "allowed": Leaf(cats, list(allowed), "Requester categories that may have access at all."),
        "approval": Leaf(boolean, approval, "Access needs the principal leader's approval…"),
        "approval_exempt": Leaf(cats, list(exempt), "…except for these categories."),
    })


ACCESS = Section(
    "Access to footage (rule A): who may view or copy what, with which documents and whose "
    "approval. The defaults reproduce rule A, Arts. 4-8 and 10.",
    {
        "categories": Section("Requester categories (rule A, Arts. 4-8).", {
            "case_handler": _requester(
                "Art. 4: the case handler views directly; a copy needs the leader's approval.",
                article="Art. 4", actions=["view", "copy"], documents=[],
                approval={"view": False, "copy": True}, scope="handled_cases"),
            "internal_staff": _requester(
                "Art. 5: other staff view only with the leader's approval.",
                article="Art. 5", actions=["view"], documents=[],
                approval={"view": True, "copy": True}, scope="any"),
            "judicial": _requester(
                "Art. 6: police, procuratorate, court, state security, discipline inspection, "
                "judicial administration and audit bodies: unit letter and ID, then view or copy.",
                article="Art. 6", actions=["view", "copy"], documents=["unit_letter", "id_card"],
                approval={"view": False, "copy": False}, scope="case_footage",
                kinds=JUDICIAL_KINDS),
            "party": _requester(
                "Art. 7: the party (行政相对人): unit letter and ID, leader's approval; views "
                "the footage of its own case.",
                article="Art. 7", actions=["view"], documents=["unit_letter", "id_card"],
                approval={"view": True, "copy": True}, scope="one_case"),
            "party_lawyer": _requester(
                "Art. 7: the party's lawyer: also power of attorney, authorisation and "
                "practising licence.",
                article="Art. 7", actions=["view"],
                documents=["unit_letter", "id_card", "power_of_attorney", "authorisation",
                           "lawyer_licence"],
                approval={"view": True, "copy": True}, scope="one_case"),
            "external_agency": _requester(
                "Art. 8: an enforcement body from another region, by letter: leader's approval;"
                " the handler copies and mails, or the body sends someone to read.",
                article="Art. 8", actions=["view", "copy"], documents=["unit_letter"],
                approval={"view": True, "copy": True}, scope="one_case"),
        }),
        "confidentiality": Section(
            "Art. 10: confidential footage (a case's confidentiality level) tightens the rules.", {
                "personal-privacy": _secrecy(
                    "Personal privacy: the leader approves every access but the handler's.",
                    allowed=ACCESS_CATEGORIES, approval=True, exempt=("case_handler",)),
                "commercial-secret": _secrecy(
                    "Commercial secrets: the leader approves every access but the handler's.",
                    allowed=ACCESS_CATEGORIES, approval=True, exempt=("case_handler",)),
                "state-secret": _secrecy(
                    "State secrets: nobody but judicial bodies, and only with approval.",
                    allowed=("judicial",), approval=True, exempt=()),
            }),
        "redaction": Section(
            "Redacted disclosure (rule A, Art. 10): a redaction spec attached to a request.", {
                "approval": Leaf(one_of("request", "leader"), "request",
                                 "Who approves a redaction: 'request' (the same approval as "
                                 "the request, none when the policy approved it) or 'leader' "
                                 "(always the principal leader)."),
            }),
        "player": Leaf(command_line, "",
                       "Command that plays one clip read-only from its standard input during a "
                       "viewing (e.g. 'mpv --really-quiet -'); empty: list what would be shown."),
        "players": Leaf(list_of_commands, [],
                        "On a real installation, 'access fulfil --player' accepts only these "
                        "commands (and 'player'); in development any command."),
        "package_dir": Leaf(path_str, "{data}/packages",
                            "Where copy packages are made unless 'access fulfil --out' says."),
    },
)

# ---- the schema ------------------------------------------------------------------------------

def http_url(v: Any) -> str | None:
    if not isinstance(v, str) or not re.match(r"^https?://[^\s/]+", v):
        return _("must be an http:// or https:// URL such as http://10.0.0.7:7380")
    return None


def cosignature_key(v: Any) -> str | None:
    """A witness's public key in the signed-note format, type 0x04 (tlog-cosignature)."""
    if not isinstance(v, str) or not re.match(r"^[^\s+]+\+[0-9a-f]{8}\+B[A-P][A-Za-z0-9+/]{42}$",
                                              v.strip()):
        return (_("must be a witness key as 'avledger witness key' prints it (name+8 hex "
                  "digits+base64 starting with B)"))
    return None


def list_of_note_keys(v: Any) -> str | None:
    if not isinstance(v, list) or not all(
            isinstance(k, str) and re.match(r"^[^\s+]+\+[0-9a-f]{8}\+A[A-Za-z0-9+/=]{43}$",
                                            k.strip()) for k in v):
        return _("must be a list of ledger public keys as 'avledger ledger public-key' prints them")
    return None


WITNESS = Section(
    "A witness this ledger submits its checkpoints to.",
    {
        "url": Leaf(http_url, None, "Where the witness listens (its submission prefix)."),
        "key": Leaf(cosignature_key, None, "The witness's public key ('avledger witness key' "
                                           "on the witness machine prints it)."),
    },
)


# ---- Annex 1: the recording checklist (行政执法音像记录事项清单) -----------------------------

CATEGORIES = ("行政检查", "行政处罚", "行政强制")
RECORD_CLASSES = ("场景类", "会议类")
_STEP_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def step_code(v: Any) -> str | None:
    if not isinstance(v, str) or not _STEP_CODE.match(v):
        return "must be a lower-case code name such as seizure (letters, digits, _)"
    return None


def retention_rule(v: Any) -> str | None:
    if v == "with_case_file" or (isinstance(v, int) and not isinstance(v, bool) and v > 0):
        return None
    return "must be with_case_file (as long as the case file) or a positive number of days"


# The seed's three rows in its own words (Annex 1). The seed's table is ragged: row 2 names the
# hearing in the matter column and 调查取证 in the step column, row 3 leaves one column out; the
# rows below put each word in the column it describes.
CHECKLIST_SEED: list[dict[str, Any]] = [
    {"code": "investigation_record", "category": "行政检查", "matter": "调查取证",
     "matter_en": "Evidence gathering", "step": "调查笔录", "step_en": "Investigation record",
     "place": "调查现场", "recorder": "检查人员", "start": "进入检查现场时",
     "end": "离开检查现场时",
     "content": "记录当事人或在场有关人员不配合调查笔录审核及签字的过程及结果",
     "retention": "with_case_file", "record_class": "场景类"},
    {"code": "hearing", "category": "行政处罚", "matter": "调查取证",
     "matter_en": "Evidence gathering", "step": "听证", "step_en": "Hearing",
     "place": "听证会场", "recorder": "听证记录员", "start": "举行听证会开始",
     "end": "听证会议结束", "content": "听证全过程",
     "retention": "with_case_file", "record_class": "会议类"},
    {"code": "seizure", "category": "行政强制", "matter": "查封、扣押",
     "matter_en": "Sealing and seizure", "step": "查封、扣押现场笔录",
     "step_en": "On-site record of sealing or seizure", "place": "强制现场",
     "recorder": "执法人员", "start": "进入强制现场时", "end": "离开强制现场时",
     "content": "现场处理经过，对当事人陈述、申辩意见的裁量理由",
     "retention": "with_case_file", "record_class": "场景类"},
]

CHECKLIST_ROW = Section(
    "One row of the recording checklist.",
    {
        "code": Leaf(step_code, None, "Stable code name of the step (command line, --json)."),
        "category": Leaf(one_of(*CATEGORIES), None, "执法类别: 行政检查, 行政处罚 or 行政强制."),
        "matter": Leaf(non_empty_str, None, "执法事项 (the enforcement matter)."),
        "matter_en": Leaf(non_empty_str, None, "The matter in English."),
        "step": Leaf(non_empty_str, None, "记录环节 (the step that must be recorded)."),
        "step_en": Leaf(non_empty_str, None, "The step in English."),
        "place": Leaf(non_empty_str, None, "执法场所 (where)."),
        "recorder": Leaf(non_empty_str, None, "记录人 (who records)."),
        "start": Leaf(non_empty_str, None, "记录开始时间 (from which moment)."),
        "end": Leaf(non_empty_str, None, "记录结束时间 (to which moment)."),
        "content": Leaf(non_empty_str, None, "记录内容 (what must be on it)."),
        "retention": Leaf(retention_rule, None, "记录存储时间: with_case_file (与文字材料存储"
                          "时间一致) or a number of days."),
        "record_class": Leaf(one_of(*RECORD_CLASSES), None, "执法记录类别: 场景类 or 会议类."),
    },
)

PERSON = Section(
    "One person of the roster.",
    {
        "badge": Leaf(badge, None, "Badge (officer) number; unique."),
        "name": Leaf(non_empty_str, None, "Full name as printed in reports."),
        "unit": Leaf(optional_str, None, "Unit or team; defaults to site.unit."),
        "os_user": Leaf(os_user, None, "Login name that acts as this person (may be empty)."),
        "roles": Leaf(roles, None, f"Roles: {', '.join(ROLES)}."),
        "active": Leaf(boolean, True, "false: kept on record, but may no longer act or be "
                       "handed a device (someone who left or moved)."),
    },
)

SCHEMA = Section(
    "avledger configuration.",
    {
        "site": Section(
            "Who runs this installation.",
            {
                "unit": Leaf(
                    non_empty_str,
                    "Municipal Ecology and Environment Bureau",
                    "Unit name printed on reports, discs and copy packages.",
                ),
                "timezone": Leaf(timezone, "Asia/Shanghai",
                                 "Time zone for display; storage is UTC."),
                "station": Leaf(non_empty_str, "dock-1", "Name of this dock station."),
                "language": Leaf(one_of(*LANGUAGES), CHINESE,
                                 "Language of the command line: 'zh_CN' or 'en'. A caller's "
                                 "locale (LANG=C gives English) and '--lang' come first."),
            },
        ),
        "store": Section(
            "Content-addressed evidence store.",
            {
                "backend": Leaf(one_of("local", "s3"), "local",
                                "Where objects live: 'local' (store.path) or 's3' (store.s3)."),
                "path": Leaf(path_str, "{data}/store",
                             "Directory of the object store (with s3: its local upload state)."),
                "s3": Section(
                    "S3-compatible store with Object Lock, used when backend is 's3'. Every "
                    "object is locked for its retention and carries a legal hold while avledger "
                    "holds it; the store refuses any deletion its lock forbids.",
                    {
                        "endpoint_url": Leaf(optional_str, None,
                                             "Service URL, e.g. http://127.0.0.1:8333 (none: "
                                             "AWS's own endpoints)."),
                        "bucket": Leaf(optional_str, None,
                                       "Bucket (required for s3); 'avledger init' creates it "
                                       "with Object Lock."),
                        "region": Leaf(non_empty_str, "us-east-1", "Region name."),
                        "prefix": Leaf(str_or_empty, "", "Key prefix inside the bucket."),
                        "lock_mode": Leaf(
                            one_of("governance", "compliance"), "governance",
                            "Object Lock mode: under 'compliance' nobody can delete an object "
                            "or shorten its lock before the date; under 'governance' an account "
                            "with the bypass permission can."),
                        "min_retention_days": Leaf(
                            positive_int, 30,
                            "Every object is locked at least this long from upload, and footage "
                            "kept without an end date (held, open case) this long ahead of each "
                            "sweep."),
                        "credentials_file": Leaf(
                            optional_str, None,
                            "AWS-style credentials file (aws_access_key_id, "
                            "aws_secret_access_key), relative to this file; none: the "
                            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables."),
                        "profile": Leaf(non_empty_str, "default",
                                        "Section of the credentials file to use."),
                        "multipart_threshold_mib": Leaf(
                            positive_int, 32, "Clips above this size go up in parts."),
                        "part_size_mib": Leaf(
                            part_size_mib, 8, "Part size of a multipart upload (5 MiB or more)."),
                        "max_concurrency": Leaf(positive_int, 8, "Parts uploaded at once."),
                    },
                ),
                "copies": Leaf(copies_count, 1,
                               "Good copies every object should have: 1, or 2 with a second "
                               "location (store.second) on another disk."),
                "second": Section(
                    "The second copy's location, used when copies is 2: another disk, so that "
                    "one failing disk loses no footage before it is burned to disc.",
                    {
                        "path": Leaf(optional_str, None,
                                     "Directory of the second store (on another disk); "
                                     "'avledger init' creates it."),
                        "mode": Leaf(one_of("sync", "async"), "sync",
                                     "sync: each clip is written and verified in both places "
                                     "before its row commits; async: it is marked as one copy "
                                     "until the second lands (end of the ingest, store verify)."),
                        "on_missing": Leaf(one_of("fail", "one_copy"), "fail",
                                           "When the second location is missing (disk gone): "
                                           "fail (ingest stops with an error, nothing lost) or "
                                           "one_copy (ingest goes on; 'status' counts the clips "
                                           "with one copy)."),
                    },
                ),
            },
        ),
        "catalog": Section(
            "Catalog (clips, devices, custody ledger): an embedded SQLite file by default, or "
            "a PostgreSQL database shared by several stations.",
            {
                "backend": Leaf(one_of("sqlite", "postgres"), "sqlite",
                                "sqlite (one machine) or postgres (several stations)."),
                "path": Leaf(path_str, "{data}/catalog.db", "SQLite: the catalog file."),
                "dsn": Leaf(optional_str, None,
                            "postgres: libpq connection string without the password, e.g. "
                            "'host=db1 port=5432 dbname=avledger user=avledger'."),
                "password_file": Leaf(optional_str, None,
                                      "postgres: file holding the password (never logged), "
                                      "e.g. /etc/avledger/catalog.password."),
            },
        ),
        "ledger": Section(
            "Tamper-evident custody ledger and its signed checkpoints.",
            {
                "origin": Leaf(
                    origin,
                    "avledger.local/custody",
                    "Checkpoint origin line: names this ledger, should be unique per site.",
                ),
                "checkpoint_interval": Leaf(
                    positive_int, 256, "Sign a checkpoint at least every this many events."
                ),
                "key_path": Leaf(
                    path_str,
                    "{keys}/ledger.key",
                    "Ed25519 signing key; keep it outside the data directory.",
                ),
                "checkpoint_file": Leaf(
                    path_str,
                    "{log}/checkpoints.log",
                    "Append-only copy of every signed checkpoint, outside the database.",
                ),
            },
        ),
        "custody": Section(
            "Getting checkpoints out of this machine, so that a rollback or fork is caught.",
            {
                "witnesses": ListOf(
                    "Witnesses (C2SP tlog-witness) on other machines: each keeps the largest "
                    "checkpoint it has seen and cosigns only one that extends it. Every signed "
                    "checkpoint is submitted to each; an unreachable one is retried later. "
                    "Each item: {url: http://host:port, key: what 'avledger witness init' "
                    "printed there}.",
                    WITNESS, unique="url"),
            },
        ),
        "witness": Section(
            "Running a witness ('avledger witness serve'), on a machine other than the ledger's.",
            {
                "name": Leaf(origin, "avledger.local/witness",
                             "The witness's name (its key name): unique, no spaces or '+'."),
                "key_path": Leaf(path_str, "{keys}/witness.key", "Ed25519 cosigning key."),
                "state_dir": Leaf(path_str, "{data}/witness",
                                  "Where the latest checkpoint of each ledger is kept."),
                "listen": Leaf(non_empty_str, "0.0.0.0:7380", "host:port to listen on."),
                "logs": Leaf(list_of_note_keys, [],
                             "Public keys of the ledgers this witness accepts (each names its "
                             "origin)."),
            },
        ),
        "retention": Section(
            "How long footage is kept (rule B, Art. 15).",
            {
                "default_days": Leaf(positive_int, 365, "Keep footage this many days (12 months)."),
                "pending_days": Leaf(
                    positive_int, 7, "Days an expired clip waits in pending purge before --apply."
                ),
                "case_days": Section(
                    "Footage linked to a closed case is kept this many days after the case is "
                    "closed, by enforcement type (Annex 1: as long as the case file); open "
                    "cases never expire. Never shorter than default_days.",
                    {
                        "inspection": Leaf(positive_int, 3650, "Inspection cases (10 years)."),
                        "penalty": Leaf(positive_int, 10950, "Penalty cases (30 years)."),
                        "compulsion": Leaf(positive_int, 10950, "Compulsion cases (30 years)."),
                        "licensing": Leaf(positive_int, 10950, "Licensing cases (30 years)."),
                    },
                ),
                "unknown_time": Leaf(
                    one_of("keep", "ingested"), "keep",
                    "Clips whose recording time is unknown: 'keep' them (the records manager "
                    "clears them by hand), or count their retention from 'ingested' time.",
                ),
                "keep_unclassified": Leaf(
                    boolean, True,
                    "Never sweep clips attributed to no checkout (unattributed or recorded "
                    "between checkouts); the records manager decides on them by hand.",
                ),
                "restore_days": Leaf(
                    positive_int, 90,
                    "A clip restored from pending purge is kept at least this many more days.",
                ),
            },
        ),
        "archive": Section(
            "Long-term archive discs (rule B, Art. 16).",
            {
                "copies": Leaf(positive_int, 2, "Copies of every archive set (Art. 16: two)."),
                "media": Leaf(media_size, "dvd",
                              "Default media: dvd, dvd-dl, bd25, bd50 or a size (700M, 4G)."),
                "verify_days": Leaf(
                    positive_int, 730,
                    "A disc not verified for this many days is due ('archive list --due-verify'"
                    "); optical media decay.",
                ),
            },
        ),
        "ingest": Section(
            "Group commit: small clips share one flush and one catalog transaction; a group "
            "closes at whichever limit comes first. A crash loses at most the open group's "
            "rows, whose clips the next run copies again.",
            {
                "group_clips": Leaf(positive_int, 256, "Clips in one group at most."),
                "group_mib": Leaf(positive_int, 256, "MiB of footage in one group at most."),
                "group_seconds": Leaf(non_negative_number, 1.0,
                                      "Seconds a group stays open at most."),
            },
        ),
        "window": Section(
            "Hand-in window (rule B, Art. 13).",
            {"hours": Leaf(positive_int, 24, "Footage is due this many hours after recording.")},
        ),
        "clock": Section(
            "Recorder clock checks (rule B, Art. 7).",
            {
                "tolerance_seconds": Leaf(
                    non_negative_number, 3, "Drift up to this many seconds is 'ok' (GA/T 947.2)."
                ),
                "reset_before_year": Leaf(
                    year, 2016, "A device clock before this year means the clock was reset."
                ),
            },
        ),
        "desk": Section(
            "The equipment desk: pre-use check before a device is handed out (rule B, Art. 7).",
            {
                "min_battery_percent": Leaf(
                    percent, 50, "Refuse a checkout below this battery level (0 turns it off)."
                ),
                "min_storage_free_percent": Leaf(
                    percent, 20, "Refuse a checkout below this much free storage (0: off)."
                ),
            },
        ),
        "personnel": ListOf(
            "The roster: who may act, and in which roles.",
            PERSON,
            unique="badge",
            example=[
                {
                    "badge": "0001",
                    "name": "Zhang Wei",
                    "unit": "Environmental Supervision Detachment",
                    "os_user": "zhangw",
                    "roles": ["clerk", "records_manager"],
                }
            ],
        ),
        "access": ACCESS,
        "footage": Section(
            "What footage is about (rule B, Art. 6).",
            {
                "checklist": ListOf(
                    "The recording checklist (Annex 1, 行政执法音像记录事项清单): which step of "
                    "which enforcement matter must be recorded, where, by whom, from when to "
                    "when, and how long it is kept. Clips name a row by its code "
                    "('clips tag --step'); a case whose decisions or steps call for a row's "
                    "step must have a clip of that step linked ('case check'). Setting this "
                    "list replaces the whole default.",
                    CHECKLIST_ROW, default=CHECKLIST_SEED, example=CHECKLIST_SEED,
                    unique="code"),
            },
        ),
        "decisions": Section(
            "Major decisions that go through legal review (Annex 2).",
            {
                "citizen_threshold_yuan": Leaf(
                    non_negative_number, 10000,
                    "A penalty of at least this many yuan on a citizen needs legal review.",
                ),
                "organisation_threshold_yuan": Leaf(
                    non_negative_number, 100000,
                    "A penalty of at least this many yuan on an organisation needs legal review.",
                ),
                "review_every_compulsion": Leaf(
                    boolean, True, "Every compulsion decision needs legal review."
                ),
            },
        ),
        "inspections": Section(
            "Random inspections of enterprises (Annex 3, 'double random').",
            {
                "rate_percent": Leaf(
                    positive_percent, 20,
                    "Share of the enterprise population drawn each period (%).",
                ),
                "inspectors": Leaf(
                    positive_int, 2,
                    "Inspectors drawn for each enterprise, from people with role 'handler'.",
                ),
            },
        ),
        "reports": Section(
            "Reports and the annual footage review (rule B, Art. 17).",
            {
                "lang": Leaf(one_of("en", "zh"), "en",
                             "Language of reports unless --lang says otherwise: en or zh."),
                "review_rate_percent": Leaf(
                    positive_percent, 5,
                    "Share of the year's clips drawn for review unless --rate is given (%).",
                ),
                "chromium": Leaf(
                    non_empty_str, "chromium",
                    "Headless browser that prints PDF reports (Debian package 'chromium').",
                ),
            },
        ),
        "daemon": Section(
            "The dock daemon (avledger daemon).",
            {
                "concurrency": Leaf(
                    positive_int, 4, "Recorders ingested at once (bays of a multi-bay dock)."
                ),
                "mount_dir": Leaf(
                    path_str, "{run}/mnt", "Where docked recorders are mounted (read-only)."
                ),
                "watch_udev": Leaf(
                    boolean, True,
                    "Ingest recorders docked on this machine (udev block devices). Off for a "
                    "station that only receives drop folders (for example a network share).",
                ),
                "drop_folders": Leaf(
                    list_of_paths_or_empty, [],
                    "Folders a docking station copies recorders into (one subfolder each).",
                ),
                "drop_profile": Leaf(
                    non_empty_str, "generic", "Device profile used for drop-folder batches."
                ),
                "settle_seconds": Leaf(
                    non_negative_number, 5,
                    "A drop-folder batch must be quiet this long before it is ingested.",
                ),
                "clock_sync": Leaf(
                    boolean, True,
                    "After a complete ingest, set the recorder clock when it is out of "
                    "tolerance and its profile can (the same logged step as 'clock sync').",
                ),
                "clear_after_ingest": Leaf(
                    boolean, False,
                    "Delete clips from the recorder after a verified ingest. Not done yet: "
                    "when on, each docking logs that clearing was refused; clips stay.",
                ),
            },
        ),
        "profiles": Section(
            "Device profiles (one YAML file per recorder family).",
            {
                "dirs": Leaf(
                    list_of_paths,
                    ["{builtin}/profiles", "{config_dir}/profiles"],
                    "Directories searched for *.yaml profiles, later ones override earlier.",
                )
            },
        ),
    },
)


def defaults(node: Node = SCHEMA) -> Any:
    """The built-in default value tree."""
    if isinstance(node, Section):
        return {k: defaults(v) for k, v in node.fields.items()}
    if isinstance(node, ListOf):
        return copy.deepcopy(node.default)
    return node.default


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key_path(path: str, key: Any) -> str:
    """``path.key`` for ordinary keys; ``path[<repr>]`` for keys that would be ambiguous."""
    if isinstance(key, str) and _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def validate(data: Any, node: Node = SCHEMA, path: str = "") -> list[str]:
    """Every problem in ``data`` as ``dotted.path: message``, in document order."""
    problems: list[str] = []
    where = path or _("(top level)")
    if isinstance(node, Section):
        if not isinstance(data, dict):
            return [_("{where}: must be a mapping").format(where=where)]
        for key, value in data.items():
            sub = key_path(path, key)
            if value is None and isinstance(node.fields.get(key), Section | ListOf):
                continue  # a section whose keys are all commented out is empty
            if key not in node.fields:
                known = ", ".join(node.fields)
                problems.append(_("{sub}: unknown key (known here: {known})").format(
                                    sub=sub, known=known))
                continue
            problems += validate(value, node.fields[key], sub)
        return problems
    if isinstance(node, ListOf):
        if not isinstance(data, list):
            return [_("{where}: must be a list").format(where=where)]
        seen: dict[str, int] = {}
        for i, item in enumerate(data):
            sub = f"{path}[{i}]"
            problems += validate(item, node.item, sub)
            if not isinstance(item, dict):
                continue
            for name, leaf in node.item.fields.items():
                required = isinstance(leaf, Leaf) and leaf.default is None and \
                    leaf.check(None) is not None
                if required and name not in item:
                    problems.append(_("{sub}.{name}: is required").format(sub=sub, name=name))
            if node.unique and item.get(node.unique) is not None:
                key = str(item[node.unique])
                if key in seen:
                    problems.append(_("{sub}.{unique}: duplicate "
                                      "{key!r} (also at [{seen}])").format(
                                        sub=sub, unique=node.unique, key=key, seen=seen[key]))
                seen.setdefault(key, i)
        return problems
    message = node.check(data)
    return [_("{where}: {problem}").format(where=where, problem=message)] if message else []


def roster_problems(data: Any) -> list[str]:
    """Checks across roster entries that the per-entry schema cannot make: one login acts
    as one person (else the actor of an event would be ambiguous)."""
    people = data.get("personnel") if isinstance(data, dict) else None
    if not isinstance(people, list):
        return []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, person in enumerate(people):
        login = person.get("os_user") if isinstance(person, dict) else None
        if not isinstance(login, str) or not login:
            continue
        if login in seen:
            problems.append(_("personnel[{i}].os_user: {login!r} is already used at "
                              "personnel[{seen}] (one login acts as one person)").format(
                                i=i, login=login, seen=seen[login]))
        else:
            seen[login] = i
    return problems


def store_problems(data: Any) -> list[str]:
    """The S3 backend needs a bucket; checked on the merged layers (backend and bucket may
    be set in different files)."""
    store = data.get("store") if isinstance(data, dict) else None
    if not isinstance(store, dict):
        return []
    second = store.get("second")
    if store.get("copies") == 2 and not (isinstance(second, dict) and second.get("path")):
        return ["store.second.path: is required when store.copies is 2"]
    if store.get("backend") != "s3":
        return []
    s3 = store.get("s3")
    if not isinstance(s3, dict) or not s3.get("bucket"):
        return ["store.s3.bucket: is required when store.backend is 's3'"]
    return []


def sample_yaml() -> str:
    """A commented sample configuration generated from the schema."""
    lines = [
        "# avledger configuration (generated by 'avledger config sample').",
        "# Every key is optional; shown values are the built-in defaults.",
        "# Placeholders: {data} data directory, {keys} key directory, {log} log directory, {run}",
        "# runtime directory, {config_dir} this file's directory, {builtin} files shipped with"
        " avledger.",
        "",
    ]
    import yaml

    def emit(node: Node, key: str, indent: int) -> None:
        pad = "  " * indent
        if isinstance(node, Section):
            lines.append(f"{pad}# {node.help}")
            lines.append(f"{pad}{key}:")
            for k, v in node.fields.items():
                emit(v, k, indent + 1)
            lines.append("")
        elif isinstance(node, ListOf):
            lines.append(f"{pad}# {node.help}")
            body = yaml.safe_dump({key: node.example}, allow_unicode=True, sort_keys=False)
            for ln in body.rstrip().splitlines():
                lines.append(pad + ln)
            lines.append("")
        else:
            value = node.default if node.default is not None else node.example
            rendered = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
            rendered = rendered.removesuffix("...").strip()
            lines.append(f"{pad}# {node.help}")
            lines.append(f"{pad}{key}: {rendered}")

    assert isinstance(SCHEMA, Section)
    for k, v in SCHEMA.fields.items():
        emit(v, k, 0)
    return "\n".join(lines).rstrip() + "\n"
