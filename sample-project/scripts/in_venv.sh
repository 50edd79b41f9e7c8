#!/bin/sh
# Run a command with the project's locked environment (.venv, made by
# `make install` from uv.lock) first on PATH, so that pre-commit's hooks use
# exactly the tools CI uses. Without .venv (pip users, CI containers), the
# tools come from PATH.
if [ -d .venv/bin ]; then
  PATH="$PWD/.venv/bin:$PATH"
  export PATH
fi
exec "$@"
