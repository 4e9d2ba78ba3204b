"""The service's Prometheus metrics, defined once for every room that counts something.

With several uvicorn workers each is a process of its own: prometheus-client's
multi-process mode keeps each worker's values in files under ``PROMETHEUS_MULTIPROC_DIR``
and ``/metrics`` adds them up, so any worker answers for all. The directory must be set
before this module is first imported (``opportunity serve`` does it for its workers);
without it, one process counts for itself, as in the tests.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter("opportunity_requests_total", "HTTP requests answered, by route template, method and status",
                   ["route", "method", "status"])
REQUEST_SECONDS = Histogram("opportunity_request_seconds", "Time to answer an HTTP request, by route template",
                            ["route", "method"], buckets=LATENCY_BUCKETS)
QUEUE_WAITING = Gauge("opportunity_queue_waiting", "Requests waiting in an expensive kind's queue",
                      ["queue"], multiprocess_mode="livesum")
QUEUE_WORKING = Gauge("opportunity_queue_working", "Requests at work in an expensive kind's queue",
                      ["queue"], multiprocess_mode="livesum")
QUEUE_WAIT_SECONDS = Histogram("opportunity_queue_wait_seconds", "Time waited for a slot, by queue",
                               ["queue"], buckets=LATENCY_BUCKETS)
QUEUE_REFUSED = Counter("opportunity_queue_refused_total", "Requests told 503 by a full or slow queue", ["queue"])
UPLOADS = Counter("opportunity_uploads_total", "Workbooks uploaded to intake, by outcome (stored, duplicate, "
                  "or the reason they were refused)", ["outcome"])
NOTIFICATIONS = Counter("opportunity_notifications_total", "Notifications queued, sent, failed (retried later) and dead (given up)", ["event"])
DETECTION_RUNS = Counter("opportunity_detection_runs_total", "Brownfield detection runs stored")
DETECTION_SECONDS = Histogram("opportunity_detection_seconds", "Duration of a stored detection run",
                              buckets=(1, 10, 60, 300, 900, 3600, 4 * 3600))


def exposition() -> tuple[bytes, str]:
    """The metrics text of every worker (multi-process mode) or of this process."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
