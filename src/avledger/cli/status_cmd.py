"""``avledger status``."""

from __future__ import annotations

from avledger.cli.common import JsonOpt, console, emit, err_console, session, table
from avledger.core.status import summary
from avledger.i18n import _


def status(as_json: JsonOpt = False) -> None:
    """One-screen summary: store, clips, devices, checkouts, ledger and last verifications.

    On a real installation it also warns, one line each, about any file of the installation
    whose owner or mode is wrong (evidence, catalog, key and checkpoint file belong to the
    avledger account and are closed to others; the configuration belongs to root).

    Example: avledger status --json
    """
    with session() as app_:
        data = summary(app_)

    def render() -> None:
        rows = [
            ("unit / station", f"{data['unit']} / {data['station']}"),
            ("you are", data["actor"]),
            ("store", f"{data['store']['objects']} objects, "
                      f"{data['store']['bytes'] / 1e6:.1f} MB at {data['store']['path']}"),
            ("clips", f"{data['clips']['count']} ({data['clips']['hours']} h), "
                      f"{data['clips']['late']} late, "
                      f"{data['clips']['unattributed']} unattributed"),
            ("devices", data["devices"]),
            ("open checkouts", data["open_checkouts"]),
            ("ledger", f"{data['ledger']['events']} events, signed up to "
                       f"{data['ledger']['checkpointed']}"),
        ]
        if data["store"]["without_good_copy"]:
            rows.insert(3, ("[red]without a good copy[/]",
                            f"[red]{data['store']['without_good_copy']} object(s), "
                            f"{data['store']['clips_without_good_copy']} clip(s)[/] — "
                            "'avledger store restore PATH'"))
        copies = data["store"]["copies"]
        if copies["second_missing"]:
            rows.insert(3, (_("[red]second store location[/]"), _(
                "[red]{where} is missing[/] (its disk gone?)").format(where=copies["second"])))
        if copies["wanted"] > 1 and copies["clips_short"]:
            rows.insert(3, (_("[yellow]fewer copies than configured[/]"), _(
                "[yellow]{n} clip(s) with fewer than {wanted} good copies, the oldest for "
                "{hours} h[/] — 'avledger store verify' makes the missing copies").format(
                    n=copies["clips_short"], wanted=copies["wanted"],
                    hours=copies["oldest_age_hours"])))
        for kind, run in sorted(data["last_verify"].items()):
            rows.append((f"last {kind} verify",
                         f"{run['finished_at']}: {run['checked']} checked, "
                         f"{run['problems']} problems"))
        console.print(table("avledger status", ["", ""], rows))

    emit(data, as_json, render)
    for line in data["permission_problems"]:
        err_console.print(f"avledger: warning: {line}", markup=False, highlight=False,
                          soft_wrap=True)
