"""gunicorn settings for Assay's web process: the one Kubernetes runs, and `make run` too.

    gunicorn -c python:assay.gunicorn_conf

Every value is read from the environment through assay.conf, like Django's settings, so
one table (the README's) documents both. gthread workers: each process serves
ASSAY_WEB_THREADS requests at once; its threads share one database pool of at most
ASSAY_DB_POOL_MAX_SIZE connections (a thread beyond it waits up to ASSAY_DB_POOL_TIMEOUT),
so the web tier never holds more than workers x pool size connections.
"""

from __future__ import annotations

import os

from assay.conf import env, env_bool, env_int

wsgi_app = "assay.wsgi:application"
bind = [env("ASSAY_WEB_BIND")]
workers = env_int("ASSAY_WEB_WORKERS")
threads = env_int("ASSAY_WEB_THREADS")
worker_class = "gthread"
timeout = env_int("ASSAY_WEB_TIMEOUT")
graceful_timeout = env_int("ASSAY_WEB_GRACEFUL_TIMEOUT")
keepalive = 5
# Not preloaded: each worker imports Django and opens its own pool after the fork, so no
# connection or pool thread is ever shared between processes.
preload_app = False
accesslog = "-" if env_bool("ASSAY_WEB_ACCESS_LOG") else None
errorlog = "-"
# The heartbeat file on tmpfs: a container's overlay disk can stall it into a false timeout.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn 27's control socket lives in $HOME, which a container may not have writable,
# and two servers on one machine would share it; Assay does not use it.
control_socket_disable = True
