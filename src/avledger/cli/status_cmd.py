"""``avledger status``."""

from __future__ import annotations

from avledger.cli.common import JsonOpt, console, emit, err_console, session, table
from avledger.core.status import summary
from avledger.i18n import N_, _
from avledger.timestamps import display

# What 'last … verify' names (the keys of core.status's summary).
VERIFY_KINDS = {"store": N_("store"), "ledger": N_("ledger"), "archive": N_("archive")}


def status(as_json: JsonOpt = False) -> None:
    """One-screen summary: store, clips, devices, checkouts, ledger and last verifications.

    On a real installation it also warns, one line each, about any file of the installation
    whose owner or mode is wrong (evidence, catalog, key and checkpoint file belong to the
    avledger account and are closed to others; the configuration belongs to root).

    Example: avledger status --json
    """
    with session() as app_:
        data = summary(app_)
        tz = app_.config.timezone

    def render() -> None:
        store, clips, ledger = data["store"], data["clips"], data["ledger"]
        rows = [
            (_("unit / station"), f"{data['unit']} / {data['station']}"),
            (_("you are"), data["actor"]),
            (_("store"), _("{objects} objects, {megabytes:.1f} MB at {path}").format(
                objects=store["objects"], megabytes=store["bytes"] / 1e6, path=store["path"])),
            (_("clips"), _("{count} ({hours} h), {late} late, {unattributed} unattributed")
             .format(count=clips["count"], hours=clips["hours"], late=clips["late"],
                     unattributed=clips["unattributed"])),
            (_("devices"), data["devices"]),
            (_("open checkouts"), data["open_checkouts"]),
            (_("ledger"), _("{events} events, signed up to {checkpointed}").format(
                events=ledger["events"], checkpointed=ledger["checkpointed"])),
        ]
        if store["without_good_copy"]:
            rows.insert(3, ("[red]" + _("without a good copy") + "[/]",
                            "[red]" + _("{objects} object(s), {clips} clip(s)").format(
                                objects=store["without_good_copy"],
                                clips=store["clips_without_good_copy"])
                            + "[/] — 'avledger store restore PATH'"))
        copies = store["copies"]
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
            rows.append((_("last {kind} verify").format(kind=_(VERIFY_KINDS.get(kind, kind))),
                         _("{finished}: {checked} checked, {problems} problems").format(
                             finished=display(run["finished_at"], tz), checked=run["checked"],
                             problems=run["problems"])))
        console.print(table(_("avledger status"), ["", ""], rows))

    emit(data, as_json, render)
    for line in data["permission_problems"]:
        err_console.print(_("avledger: warning: {message}").format(message=line), markup=False,
                          highlight=False, soft_wrap=True)
