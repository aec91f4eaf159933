#!/usr/bin/env bash
# Create .venv with Python 3.12 and install the project with its dev tools.
# Idempotent: skips the install when pyproject.toml has not changed since the last one.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP=$VENV/.installed
find_python() {
  for c in "${PYTHON312:-}" python3.12 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/3.12"*/bin/python3.12 \
           "$HOME/.pyenv/versions/3.12"*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    echo "bootstrap: installing Python 3.12 with pyenv" >&2
    pyenv install -s 3.12 >&2 && echo "$(pyenv root)/versions/$(pyenv latest 3.12)/bin/python3.12" && return 0
  fi
  return 1
}
if [ ! -x "$VENV/bin/python" ]; then
  PY=$(find_python) || { echo "bootstrap: Python 3.12 not found (set PYTHON312=/path/to/python3.12)" >&2; exit 1; }
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[dev]"
  touch "$STAMP"
fi
