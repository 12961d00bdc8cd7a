#!/usr/bin/env bash
# Runs distributed_search.py as one chief and WORKERS workers on this machine,
# as Keras Tuner's chief/worker mode runs on several: same script, same folder,
# the chief's address in KERASTUNER_ORACLE_IP/PORT, one KERASTUNER_TUNER_ID each.
#
#   WORKERS=2 PORT=8000 bash examples/distributed_local.sh [script flags]
#
# Exits non-zero if any process fails; stops them all if interrupted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python}
export KERASTUNER_ORACLE_IP=127.0.0.1
export KERASTUNER_ORACLE_PORT=${PORT:-8000}
trap 'kill $(jobs -p) 2>/dev/null || true' INT TERM

KERASTUNER_TUNER_ID=chief "$python" "$here/distributed_search.py" "$@" &
pids=($!)
for ((i = 0; i < ${WORKERS:-2}; i++)); do
  KERASTUNER_TUNER_ID=tuner$i "$python" "$here/distributed_search.py" "$@" >/dev/null &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=$?
done
exit "$status"
