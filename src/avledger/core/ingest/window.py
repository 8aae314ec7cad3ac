"""The hand-in window (rule B, Art. 13): footage is due 24 hours after recording.

Deadline = corrected recording end + window; for a remote/continuous checkout (out-of-town
work), the later of that and check-in + window. A checkout still open counts as checked in
at the moment of ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from avledger.core.ingest.attribution import Checkout


@dataclass(frozen=True)
class Timeliness:
    deadline: datetime | None
    on_time: bool | None  # None when the recording time is unknown


def judge(corrected_end: datetime | None, checkout: Checkout | None, ingested_at: datetime,
          hours: int) -> Timeliness:
    if corrected_end is None:
        return Timeliness(None, None)
    window = timedelta(hours=hours)
    deadline = corrected_end + window
    if checkout is not None and checkout.remote:
        returned = checkout.in_at or ingested_at
        deadline = max(deadline, returned + window)
    return Timeliness(deadline, ingested_at <= deadline)
