#!/bin/sh
# Run boaviztapi (installed outside the repository, see README.md) as a local HTTP oracle.
VENV=${BOAVIZTA_VENV:-/tmp/boavizta}
PORT=${BOAVIZTA_PORT:-5000}
cd /tmp || exit 1
BOAVIZTA_MAX_SIG_FIG=15 BOAVIZTA_UNCERTAINTY=1 \
  exec "$VENV/bin/uvicorn" boaviztapi.main:app --port "$PORT" --workers 2
