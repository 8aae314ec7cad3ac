#!/usr/bin/env bash
# The demo behind 'make demo': a fresh AVLEDGER_HOME, initialised, and a summary.
set -euo pipefail
: "${AVLEDGER_HOME:?}" "${BIN:?}"
export AVLEDGER_HOME
av() { echo "+ avledger $*" >&2; "$BIN/avledger" "$@"; }
rm -rf "$AVLEDGER_HOME"
av init
av status
av ledger verify
