#!/usr/bin/env bash
# One entry point for newcomers and CI.
#   ./run.sh          set up .venv, train (if needed), export (if needed), launch the app
#   ./run.sh test     set up .venv (if needed) and run the test suite
#   ./run.sh lint     ruff + mypy
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PY="$VENV/bin/python"
RUN=${RUN:-runs/default}

setup() {
  if [ ! -x "$PY" ] || ! cat requirements*.txt | cmp -s - "$VENV/.requirements.txt"; then
    python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
    # every module compiled once, here (where PYTHONDONTWRITEBYTECODE is set, as on these
    # machines, each process would compile what it imports afresh), on every core: pip
    # compiles on one (requirements.txt into a fresh venv: 95 s, 83 s this way)
    "$PY" -m pip install --quiet --no-compile -r requirements.txt
    "$PY" -m pip install --quiet --no-compile --no-deps -r requirements-nodeps.txt
    "$PY" -m compileall -qq -j 0 "$VENV/lib" || true  # a file that fails is what pip skips too
    cat requirements*.txt > "$VENV/.requirements.txt"
  fi
  # detector negatives (apt packages; quick when present); never fatal: training goes on without them
  scripts/fetch_people_free.sh || echo "people-free photos not installed; see scripts/fetch_people_free.sh" >&2
}

train_if_needed() {
  if [ ! -f "$RUN/model.pt" ]; then
    "$PY" -m train --out "$RUN"
  elif ! "$PY" -c 'import sys, pathlib; from train.checkpoint import load_checkpoint as load
load(pathlib.Path(sys.argv[1]))' "$RUN/model.pt" 2>/dev/null; then
    echo "$RUN/model.pt was written by an older version of this code: retraining" >&2
    "$PY" -m train --out "$RUN"
  else
    echo "using trained model $RUN/model.pt (delete it to retrain)"
  fi
}

case "${1:-main}" in
  main)
    setup
    train_if_needed
    if [ -f export/__main__.py ]; then "$PY" -m export --run "$RUN" --out models --if-needed; fi
    if [ -f app.py ]; then exec "$PY" app.py; fi
    ;;
  test)
    setup
    shift || true
    # one worker per core (at most 4: each holds its own models); a module's tests stay on
    # one worker, so its engine or server is built once; modules in the order conftest.py
    # gives them (xdist would sort them by test count), so no worker waits on the training
    exec "$PY" -m pytest -q -n auto --maxprocesses 4 --dist loadscope --no-loadscope-reorder "$@"
    ;;
  lint)
    setup
    "$PY" -m ruff check .
    exec "$PY" -m mypy inference train export bench webapp tests app.py
    ;;
  *)
    echo "usage: ./run.sh [main|test|lint]" >&2
    exit 2
    ;;
esac
