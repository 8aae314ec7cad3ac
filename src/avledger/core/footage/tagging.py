"""Saying what a clip is about: its category, matter, step (a checklist row), tags and note.

Set at check-in for the checkout's clips, or later with ``clips tag``. Every change is one
``clip.tagged`` ledger event per clip, its payload holding the values before and after (the
event names the actor and the time), so an earlier value stays on record after it is changed.
A step given alone brings its row's category and matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avledger.config.loader import Config
from avledger.core.app import Avledger
from avledger.core.clipref import fetch_clips, unique_ids
from avledger.core.footage.checklist import check_category, find_step
from avledger.errors import InputError, RefusedError
from avledger.i18n import _
from avledger.store import db

TAG_ROLES = ("clerk", "handler", "records_manager")
MAX_TAG = 64


@dataclass(frozen=True)
class Change:
    """What to set; None leaves a field as it is, '' clears it."""

    category: str | None = None
    matter: str | None = None
    step: str | None = None
    note: str | None = None
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return (self.category is None and self.matter is None and self.step is None
                and self.note is None and not self.add_tags and not self.remove_tags)

    def over(self, base: Change) -> Change:
        """This change, with ``base`` filling in what it leaves unsaid (tags: both)."""
        return Change(category=_first(self.category, base.category),
                      matter=_first(self.matter, base.matter),
                      step=_first(self.step, base.step), note=_first(self.note, base.note),
                      add_tags=list(dict.fromkeys([*base.add_tags, *self.add_tags])),
                      remove_tags=list(dict.fromkeys([*base.remove_tags, *self.remove_tags])))

    def declared(self) -> dict[str, Any]:
        """What a checkout keeps for its clips (no note: that is said at check-in)."""
        return {"category": self.category, "matter": self.matter, "step": self.step,
                "tags": list(self.add_tags)}

    @classmethod
    def from_declared(cls, data: dict[str, Any] | None) -> Change:
        data = data or {}
        return cls(category=data.get("category"), matter=data.get("matter"),
                   step=data.get("step"), add_tags=list(data.get("tags") or []))

    def checked(self, config: Config) -> Change:
        """Validated against the checklist; a step fills in its row's category and matter."""
        category, matter = self.category, self.matter
        if self.step:
            row = find_step(config, self.step)
            category = row.category if category is None else category
            matter = row.matter if matter is None else matter
        if category:
            category = check_category(category)
        return Change(category=category, matter=_clean(matter), step=self.step,
                      note=None if self.note is None else self.note.strip(),
                      add_tags=[_tag(t) for t in self.add_tags],
                      remove_tags=[_tag(t) for t in self.remove_tags])


def _first(value: str | None, fallback: str | None) -> str | None:
    return fallback if value is None else value


def _clean(value: str | None) -> str | None:
    return None if value is None else value.strip()


def _tag(value: str) -> str:
    tag = value.strip()
    if not tag or len(tag) > MAX_TAG or any(c.isspace() for c in tag):
        raise InputError(_("tag {tag!r} must be one word of 1 to {n} characters, no spaces")
                         .format(tag=value, n=MAX_TAG))
    return tag


def tags_of(conn: db.Connection, clip_id: int) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT tag FROM clip_tags WHERE clip_id = ? ORDER BY tag", (clip_id,))]


def current(conn: db.Connection, clip_id: int) -> dict[str, Any]:
    """What a clip is said to be about now."""
    row = conn.execute("SELECT category, matter, step, note FROM clips WHERE id = ?",
                       (clip_id,)).fetchone()
    return {"category": row["category"], "matter": row["matter"], "step": row["step"],
            "tags": tags_of(conn, clip_id), "note": row["note"]}


def tag_clips(app: Avledger, clip_ids: list[int], change: Change) -> dict[str, Any]:
    """Apply ``change`` to the clips, one ledger event per clip that actually changed."""
    app.actor.require(*TAG_ROLES, action="tag clips")
    if change.is_empty():
        raise InputError(_("nothing to change"),
                         hint=_("give --category, --matter, --step, --tag, --untag or --note"))
    checked = change.checked(app.config)
    with app.transaction() as conn:
        return apply(app, conn, unique_ids(clip_ids), checked)


def apply(app: Avledger, conn: db.Connection, ids: list[int], change: Change) -> dict[str, Any]:
    """In the caller's transaction: set the (already checked) change on each clip."""
    clips = fetch_clips(conn, ids)
    purged = [i for i, row in clips.items() if row["status"] == "purged"]
    if purged:
        raise RefusedError(_("clip(s) {ids} were purged; only their tombstone remains")
                           .format(ids=", ".join(map(str, purged))))
    changed: list[dict[str, Any]] = []
    unchanged: list[int] = []
    for clip_id in ids:
        old = current(conn, clip_id)
        new = _merged(old, change)
        if new == old:
            unchanged.append(clip_id)
            continue
        conn.execute("UPDATE clips SET category = ?, matter = ?, step = ?, note = ?"
                     " WHERE id = ?", (new["category"], new["matter"], new["step"],
                                       new["note"], clip_id))
        for tag in sorted(set(old["tags"]) - set(new["tags"])):
            conn.execute("DELETE FROM clip_tags WHERE clip_id = ? AND tag = ?", (clip_id, tag))
        for tag in sorted(set(new["tags"]) - set(old["tags"])):
            conn.execute("INSERT INTO clip_tags (clip_id, tag) VALUES (?, ?)", (clip_id, tag))
        event = app.record(conn, "clip.tagged", f"clip:{clip_id}", {"old": old, "new": new})
        changed.append({"clip": clip_id, "old": old, "new": new, "event": event.seq})
    return {"changed": changed, "unchanged": unchanged}


def _merged(old: dict[str, Any], change: Change) -> dict[str, Any]:
    def pick(name: str) -> Any:
        value = getattr(change, name)
        if value is None:
            return old[name]
        return value or None

    tags = (set(old["tags"]) | set(change.add_tags)) - set(change.remove_tags)
    return {"category": pick("category"), "matter": pick("matter"), "step": pick("step"),
            "tags": sorted(tags), "note": old["note"] if change.note is None else change.note}
