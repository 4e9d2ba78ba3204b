"""TiPg's application behind the keep-alive limit this service uses (load bench only).

uvicorn's workers share one listening socket and the first to wake takes every pending
connection: in runs of bench/api_load.py TiPg's two workers split the CPU 100/0, which
halves its capacity for a reason that has nothing to do with TiPg. Wrapped in the same
``KeepAliveLimit`` as this service, both are compared on equal terms. Run by uvicorn from
TiPg's own environment with the repository on PYTHONPATH (``app.api.hardening`` needs only
starlette and orjson, which TiPg has)."""

from tipg.main import app as tipg

from app.api.hardening import KeepAliveLimit

app = KeepAliveLimit(tipg, requests=20)
