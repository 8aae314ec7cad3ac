"""A one-screen summary of an installation (``avledger status``)."""

from __future__ import annotations

from typing import Any

from avledger.core.app import Avledger
from avledger.core.clips import UNATTRIBUTED_SQL
from avledger.core.custody.copies import short_of_copies
from avledger.core.custody.restore import WITHOUT_GOOD_COPY
from avledger.core.install import permissions
from avledger.store import ledger as ledger_store


def summary(app: Avledger) -> dict[str, Any]:
    conn = app.catalog.conn

    def one(sql: str) -> Any:
        return conn.execute(sql).fetchone()

    objects = one("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects"
                  " WHERE quarantined_at IS NULL")
    clips = one("SELECT COUNT(*), COALESCE(SUM(duration_seconds), 0),"
                f" SUM(on_time = 0), SUM({UNATTRIBUTED_SQL}) FROM clips"
                " WHERE status != 'purged'")
    bad = one(f"SELECT COUNT(*) FROM objects WHERE {WITHOUT_GOOD_COPY}")[0]
    bad_clips = one("SELECT COUNT(*) FROM clips c JOIN objects o ON o.digest = c.digest"
                    f" WHERE c.status != 'purged' AND ({WITHOUT_GOOD_COPY})")[0]
    st = ledger_store.state(conn)
    last_cp = ledger_store.latest_checkpoint_size(conn)
    runs = {r["kind"]: dict(r) for r in conn.execute(
        "SELECT kind, finished_at, checked, problems FROM verify_runs"
        " WHERE id IN (SELECT MAX(id) FROM verify_runs GROUP BY kind)")}
    return {
        "unit": app.config.get("site.unit"),
        "station": app.config.get("site.station"),
        "actor": app.actor.label,
        "store": {"path": app.store.location, "objects": objects[0], "bytes": objects[1],
                  "without_good_copy": bad, "clips_without_good_copy": bad_clips,
                  "copies": short_of_copies(app)},
        "catalog": {"path": app.catalog.describe(), "schema": sorted(app.catalog.applied())},
        "devices": one("SELECT COUNT(*) FROM devices")[0],
        "clips": {"count": clips[0], "hours": round(clips[1] / 3600, 2),
                  "late": clips[2] or 0, "unattributed": clips[3] or 0},
        "open_checkouts": one("SELECT COUNT(*) FROM checkouts WHERE in_at IS NULL")[0],
        "ledger": {"events": st.size, "head": st.head, "checkpointed": last_cp},
        "last_verify": runs,
        "permission_problems": permissions.problems(app.config),
    }
