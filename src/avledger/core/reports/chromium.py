"""Printing the HTML report with headless Chromium (Debian package ``chromium``): to PDF for
filing, and to PNG for a quick look. Chinese needs a CJK font installed (``fonts-noto-cjk`` or
``fonts-wqy-zenhei``); Chromium finds it through fontconfig."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from avledger.errors import StorageError
from avledger.i18n import _

TIMEOUT = 180
COMMANDS = ("chromium", "chromium-browser", "google-chrome")


class ChromiumMissing(StorageError):
    """No headless browser to print with."""


def find(command: str | None = None) -> str:
    for name in ((command,) if command else COMMANDS):
        path = shutil.which(name)
        if path:
            return path
    raise ChromiumMissing(
        _("PDF needs headless Chromium, and '{command}' is not installed").format(
            command=command or 'chromium'),
        hint=_("apt-get install chromium fonts-noto-cjk"))


def _run(binary: str, args: list[str], target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="avledger-chromium-") as profile:
        argv = [binary, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}", *args]
        env = dict(os.environ, HOME=profile)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                  env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise StorageError(_("chromium did not finish within {TIMEOUT} s").format(
                                   TIMEOUT=TIMEOUT)) from None
        except OSError as exc:
            raise StorageError(_("cannot run {binary}: {error}").format(
                                   binary=binary, error=exc.strerror or exc)) from None
    if done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise StorageError(_("chromium could not write {target}: {detail}").format(
                               target=target,
                               detail=detail[-1] if detail else f'exit {done.returncode}'))


def print_pdf(html: Path, pdf: Path, *, command: str | None = None) -> None:
    binary = find(command)
    pdf = pdf.resolve()
    if pdf.exists():
        pdf.unlink()
    _run(binary, ["--no-pdf-header-footer", "--print-to-pdf-no-header",
                  f"--print-to-pdf={pdf}", html.resolve().as_uri()], pdf)


def screenshot(html: Path, png: Path, *, width: int = 1100, height: int = 1600,
               command: str | None = None) -> None:
    binary = find(command)
    png = png.resolve()
    if png.exists():
        png.unlink()
    _run(binary, [f"--screenshot={png}", f"--window-size={width},{height}",
                  html.resolve().as_uri()], png)
