"""``opportunity serve``: start the catalogue, migrate, then serve the API with uvicorn."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import cluster as embedded_cluster
from app.cli.common import (
    console,
    database_url,
    fail,
    load_demo_samples,
    load_reference,
    migrate_schema,
)
from app.core.errors import OpportunityError
from app.core.settings import api_settings, database_settings, storage_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (per replica with --replicas).")] = None,
    replicas: Annotated[int, typer.Option(
        min=0, max=32, help="Run nginx on host:port in front of this many API processes (ports port+1...).")] = 0,
    demo: Annotated[bool, typer.Option(help="Load reference data and samples first.")] = False,
    migrate: Annotated[
        bool, typer.Option(help="Migrate to head first (turn off where a release job migrates).")
    ] = True,
) -> None:
    """Start the catalogue (embedded PostGIS unless DATABASE_URL), migrate, then serve."""
    from app.accounts.auth import SecretKeyError, secret_key

    try:  # before anything starts: production refuses a missing or weak signing key
        secret_key()
    except SecretKeyError as exc:
        raise fail(str(exc)) from exc
    settings = api_settings()
    embedded = None if database_settings().url else embedded_cluster()
    started_here = embedded is not None and not embedded.status().running
    try:
        url = database_url(start_embedded=True)
        if migrate:
            migrate_schema(url)
        if demo:
            load_reference(url, None)
            load_demo_samples(url)
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    bind_host, bind_port = host or settings.host, port or settings.port
    prepare_metrics_dir()
    try:
        if replicas:
            _serve_replicas(bind_host, bind_port, replicas, workers or 1)
            return
        _serve_one(bind_host, bind_port, workers or settings.workers)
    finally:
        if started_here and embedded is not None:
            console.print("Stopping the embedded PostGIS cluster started for this server.")
            embedded.stop()


def _serve_one(bind_host: str, bind_port: int, workers: int) -> None:
    import uvicorn

    console.print(f"Serving on http://{bind_host}:{bind_port}  (docs: /docs, health: /health)")
    uvicorn.run(
        "app.api.main:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        log_level="info",
        # X-Forwarded-For is read by app.api.security.client_ip, from trusted proxies only
        proxy_headers=False,
        server_header=False,
    )


def _serve_replicas(bind_host: str, bind_port: int, replicas: int, workers: int) -> None:
    """nginx in front of ``replicas`` uvicorn processes (app/cli/production.py) until
    SIGTERM or Ctrl-C; a replica that dies is started again."""
    import signal

    from app.cli.production import Stack
    from app.core.settings import limit_settings, upload_settings

    body = max(upload_settings().max_bytes, limit_settings().max_body_bytes) + 1024 * 1024
    stack = Stack(bind_host, bind_port, replicas, storage_settings().data_dir / "proxy", workers, body)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stack.stop())
    try:
        stack.start()
    except RuntimeError as exc:
        stack.stop()
        raise fail(str(exc)) from exc
    console.print(f"Serving on http://{bind_host}:{bind_port} through nginx, {replicas} replicas on ports "
                  f"{bind_port + 1}-{bind_port + replicas}; access log {stack.access_log}")
    try:
        stack.watch()
    finally:
        stack.stop()


def prepare_metrics_dir() -> None:
    """The workers' metrics files (prometheus-client's multi-process mode): a fresh folder
    under the data directory unless PROMETHEUS_MULTIPROC_DIR names one; set before any
    worker starts, so each imports the metrics in that mode."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or storage_settings().data_dir / "metrics")
    shutil.rmtree(folder, ignore_errors=True)  # the values of processes long gone
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
