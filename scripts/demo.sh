#!/usr/bin/env bash
# The demo behind 'make demo': a fresh AVLEDGER_HOME; a simulated recorder is registered and
# handed out at the desk, records, is docked and ingested (with progress and a summary), gets
# its clock set, and is checked in; then the state of the installation.
set -euo pipefail
: "${AVLEDGER_HOME:?}" "${BIN:?}"
export AVLEDGER_HOME
av() { echo "+ avledger $*" >&2; "$BIN/avledger" "$@"; }
rm -rf "$AVLEDGER_HOME"
av init
recorder="$AVLEDGER_HOME/recorder-BWR0042"
# A recorder whose clock runs 95 s fast, holding one old file whose name the profile cannot
# read; the desk registers it and hands it to officer 0001 before it records anything.
av device add BWR0042 --model "Generic BWR" --notes "demo unit"
av simulate recorder "$recorder" --profile generic --serial BWR0042 --badge 0001 \
   --clips 0 --drift 95 --bad-names 1
av checkout BWR0042 --to 0001 --task "river outfall inspection" --task-id HJ-2026-117 \
   --battery 95 --storage-free 90
# Out on the task: four 8 MiB clips, starting a second from now (in the site's zone,
# site.timezone: Asia/Shanghai in the starter config), named by the recorder's clock.
start=$(TZ=Asia/Shanghai date -d '+1 second' '+%Y-%m-%d %H:%M:%S')
av simulate record "$recorder" --clips 4 --seconds 1 --gap 0 --size 8MiB --start "$start" \
   --photos 2 --audio 1 --marked 1
sleep 5
# A docked recorder writes its clock file as it is plugged in; the dock measures that file
# against the moment of docking (udev's event), however long the ingest waits. A folder has no
# such moment, so the demo gives the simulated docking's with --docked-at, as udev would.
docked_moment() { "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)["docked_at"])'; }
echo "+ (back at the station: the recorder is docked and writes its clock file)" >&2
docked=$(av simulate dock "$recorder" --json | docked_moment)
echo "+ (docked at $docked)" >&2
av profile check "$recorder"
av ingest "$recorder" --docked-at "$docked"
echo "+ (docked again: nothing is copied twice)" >&2
av ingest "$recorder" --docked-at "$docked"
# Its clock is 95 s fast: set it (the one command that writes to a recorder); it takes the new
# time up when it is connected again, and the next clock reading shows that it did.
av clock sync "$recorder" --docked-at "$docked"
docked=$(av simulate dock "$recorder" --json | docked_moment)
av clock check "$recorder" --docked-at "$docked" || echo "(clock check: see above)" >&2
av checkin BWR0042 --docked "$recorder"
av status
av clips list
# The recorder marked one clip important (a flag file beside it): a hold is proposed, not placed.
av hold proposals
av checkout list
av ledger verify
