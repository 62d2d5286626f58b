"""gunicorn's settings for Bindery's web tier: `gunicorn bindery.wsgi`, run from this folder, reads them.

Sized as docs/capacity.md assumes, per 2-core web node: 2 processes of 8 threads. Threads, because a
request spends its time waiting, not computing: on ExpressPlay for a device-check token (up to
EXPRESSPLAY_TIMEOUT), an operator's record lookup, a SEES request (up to twice SEES_WAIT), /health/'s first
run; and in the demo the shop calls the sandbox it serves itself (decision 0001), which a single-threaded
worker could not answer. Command-line options win over these (`make demo` and the benchmarks pass their own);
WEB_CONCURRENCY and GUNICORN_THREADS change the sizing, GUNICORN_BIND the address, GUNICORN_CMD_ARGS anything.
"""

import os

wsgi_app = "bindery.wsgi"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind the proxy that terminates TLS
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A worker that has not checked in for this long is stuck and restarted. The longest request Bindery makes
# waits about 10 s (two SEES waits, or one ExpressPlay call), well inside it.
timeout = 60
# On a restart or deploy, requests in flight get this long to finish.
graceful_timeout = 30
# The proxy keeps connections to us open between requests.
keepalive = 5
