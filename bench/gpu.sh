#!/usr/bin/env bash
# The GPU variant of bench/generation.py: the same ratios on a CUDA machine with larger
# models (GPT-2-small-shaped text, 512 px images). Needs what the platform needs there:
# PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL), as on the GPU node pool.
# CI never runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
python -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device")'
exec "${PYTHON:-.venv/bin/python}" bench/generation.py --device "${DEVICE:-cuda}" "$@"
