#!/usr/bin/env bash
# The demo behind 'make demo': a fresh AVLEDGER_HOME, a simulated recorder docked and
# ingested (with progress and a summary), then the state of the installation.
set -euo pipefail
: "${AVLEDGER_HOME:?}" "${BIN:?}"
export AVLEDGER_HOME
av() { echo "+ avledger $*" >&2; "$BIN/avledger" "$@"; }
rm -rf "$AVLEDGER_HOME"
av init
recorder="$AVLEDGER_HOME/recorder-BWR0042"
# A recorder whose clock runs 95 s fast, with six 8 MiB clips and one file whose name the
# profile cannot read; the recorder writes its clock file when it is plugged in.
av simulate recorder "$recorder" --profile generic --serial BWR0042 --badge 0001 \
   --clips 6 --size 8MiB --drift 95 --bad-names 1
av profile check "$recorder"
av ingest "$recorder"
echo "+ (docked again: nothing is copied twice)" >&2
av ingest "$recorder"
av status
av clips list
av ledger verify
