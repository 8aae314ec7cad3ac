"""Suggestions, never decisions: face boxes proposed once per second, written as a draft spec
for a person to review, correct and complete before anything is redacted.

Faces are found with OpenCV's Haar cascade (``haarcascade_frontalface_default.xml``), shipped
inside the ``opencv-python-headless`` package (the optional extra ``avledger[suggest]``):
nothing is downloaded at run time. Frames are decoded by ffmpeg (one per second, gray). A box
found in consecutive seconds at about the same place becomes one blur over those seconds.
The draft says at its top that it is a suggestion; it misses faces in profile, small or dark,
and finds some that are not faces.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from avledger.core.app import Avledger
from avledger.core.redact.derived import original_file
from avledger.core.redact.render import probe, tool
from avledger.errors import NotFoundError
from avledger.i18n import _

CASCADE = "haarcascade_frontalface_default.xml"
MARGIN = 0.25  # each box grown by this share of its size on every side
HEADER = ("# DRAFT — suggested by 'avledger redact-suggest' (automatic face detection).\n"
          "# These are SUGGESTIONS, not a redaction: review every box, remove wrong ones, add\n"
          "# what was missed (faces in profile, plates, documents, voices), then use it with\n"
          "# 'avledger redact CLIP --spec FILE' or 'access request ... --redaction FILE'.\n")

Box = tuple[int, int, int, int]  # x, y, w, h
Detector = Callable[[bytes, int, int], list[Box]]  # gray frame, width, height -> boxes


@dataclass
class _Run:
    start: int  # first second
    end: int  # last second (inclusive)
    box: Box


def haar_detector() -> Detector:
    """The OpenCV frontal-face detector, from the cascade file the package ships."""
    try:
        import cv2  # the optional extra
        import numpy
    except ImportError as exc:
        raise NotFoundError(_("face suggestions need OpenCV (the optional extra 'suggest')"),
                            hint=_("pip install 'avledger[suggest]'")) from exc
    path = Path(cv2.data.haarcascades) / CASCADE  # type: ignore[attr-defined]
    if not path.is_file():
        raise NotFoundError(_("{path} is missing: this OpenCV "
                              "package ships no Haar cascades").format(
                                path=path),
                            hint=_("install opencv-python-headless 4.x"))
    cascade = cv2.CascadeClassifier(str(path))

    def detect(frame: bytes, width: int, height: int) -> list[Box]:
        image = numpy.frombuffer(frame, dtype=numpy.uint8).reshape(height, width)
        found = cascade.detectMultiScale(image, scaleFactor=1.1, minNeighbors=5,
                                         minSize=(24, 24))
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]

    return detect


def frames_per_second(path: Path, width: int, height: int,
                      pass_fds: tuple[int, ...] = ()) -> Iterator[bytes]:
    """One gray frame per second of the clip, decoded by ffmpeg."""
    proc = subprocess.Popen([tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path),
                             "-vf", "fps=1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                            stdout=subprocess.PIPE, pass_fds=pass_fds)
    assert proc.stdout is not None
    size = width * height
    try:
        while chunk := proc.stdout.read(size):
            if len(chunk) == size:
                yield chunk
    finally:
        proc.stdout.close()
        proc.wait()


def _grown(box: Box, width: int, height: int) -> Box:
    x, y, w, h = box
    dx, dy = int(w * MARGIN), int(h * MARGIN)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    return x0, y0, min(width - x0, w + 2 * dx), min(height - y0, h + 2 * dy)


def _near(a: Box, b: Box) -> bool:
    """The same face a second later: the boxes overlap by at least half the smaller one."""
    ox = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    oy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return ox > 0 and oy > 0 and ox * oy >= 0.5 * min(a[2] * a[3], b[2] * b[3])


def draft(per_second: list[list[Box]], width: int, height: int,
          duration: float) -> dict[str, Any]:
    """Boxes per second as a spec: one blur per run of nearby boxes in consecutive seconds,
    covering the union of the run's boxes."""
    runs: list[_Run] = []
    open_runs: list[_Run] = []
    for second, boxes in enumerate(per_second):
        still: list[_Run] = []
        for box in (_grown(b, width, height) for b in boxes):
            run = next((r for r in open_runs if r.end == second - 1 and _near(r.box, box)
                        and r not in still), None)
            if run is None:
                run = _Run(second, second, box)
                runs.append(run)
            else:
                x0, y0 = min(run.box[0], box[0]), min(run.box[1], box[1])
                x1 = max(run.box[0] + run.box[2], box[0] + box[2])
                y1 = max(run.box[1] + run.box[3], box[1] + box[3])
                run.box, run.end = (x0, y0, x1 - x0, y1 - y0), second
            still.append(run)
        open_runs = still
    ops = [{"op": "blur", "from": r.start, "to": round(min(r.end + 1.0, duration), 3),
            "rect": {"x": r.box[0], "y": r.box[1], "w": max(8, r.box[2]),
                     "h": max(8, r.box[3])},
            "reason": "个人隐私"} for r in runs]
    return {"version": 1, "operations": ops}


def suggest_for_clip(app: Avledger, clip_id: int, out: Path,
                     detector: Detector | None = None) -> dict[str, Any]:
    """A draft spec of face boxes for a stored clip (read-only from the store)."""
    row = app.catalog.conn.execute("SELECT digest, status FROM clips WHERE id = ?",
                                   (clip_id,)).fetchone()
    if row is None or row["status"] == "purged":
        raise NotFoundError(_("no stored clip {clip_id}").format(clip_id=clip_id),
                            hint=_("see 'avledger clips list'"))
    with tempfile.TemporaryDirectory(prefix="avledger-suggest-") as tmp, \
            original_file(app, row["digest"], Path(tmp)) as (source, fds):
        return {"clip": clip_id, **suggest(source, out, detector, fds)}


def suggest(path: Path, out: Path, detector: Detector | None = None,
            pass_fds: tuple[int, ...] = ()) -> dict[str, Any]:
    """Write a draft spec of face boxes for ``path`` to ``out``; what was found."""
    media = probe(path, pass_fds)
    detect = detector or haar_detector()
    per_second = [detect(frame, media.width, media.height)
                  for frame in frames_per_second(path, media.width, media.height, pass_fds)]
    doc = draft(per_second, media.width, media.height, media.duration)
    text = HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    out.write_text(text, encoding="utf-8")
    return {"draft": str(out), "seconds": len(per_second),
            "faces": sum(len(b) for b in per_second), "operations": len(doc["operations"])}
