"""Prometheus metrics of one app instance.

Each app has its own registry (several apps in one test process do not share counters). With
``Settings.metrics_dir`` (``PROMETHEUS_MULTIPROC_DIR``) set -- ``serve(workers > 1)`` sets it before the workers start -- the
values go to per-process files and ``/metrics`` aggregates every worker, so a scrape through the
shared port sees the whole server, not whichever worker answered.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest

# Buckets from 0.5 ms: a cached answer takes well under a millisecond, a cold one a few.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256,
                   0.512, 1.024, 2.048, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, multiprocess_dir: str | None = None):
        # prometheus_client itself reads PROMETHEUS_MULTIPROC_DIR; Settings.metrics_dir is the same
        self.multiprocess = multiprocess_dir is not None
        # In multiprocess mode the values live in files; registering them in a registry would only
        # report this process, so collection goes through MultiProcessCollector instead.
        self.registry = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        reg = {"registry": self.registry}
        self.latency = Histogram(
            "servicematch_request_duration_seconds", "Request latency by route template",
            ["method", "route"], buckets=LATENCY_BUCKETS, **reg)
        self.requests = Counter(
            "servicematch_requests", "Requests by route template and status code",
            ["method", "route", "status"], **reg)
        self.cache = Counter(
            "servicematch_recommendation_cache", "Recommendation cache lookups", ["result"], **reg)
        self.cache_hits = self.cache.labels("hit")
        self.cache_misses = self.cache.labels("miss")
        self.events_accepted = Counter(
            "servicematch_events_accepted", "Feedback events newly stored", **reg)
        self.events_duplicate = Counter(
            "servicematch_events_duplicate", "Feedback events replayed (already stored)", **reg)
        self.model_reloads = Counter(
            "servicematch_model_reloads", "Model loads after start-up", ["result"], **reg)
        gauge_mode = {"multiprocess_mode": "liveall"} if self.multiprocess else {}
        # An info-style gauge (1 for the version served): Info does not work across processes.
        self.model_info = Gauge(
            "servicematch_model_info", "Model version being served (value 1)", ["version"],
            **gauge_mode, **reg)
        self.audit_pending = Gauge(
            "servicematch_audit_pending", "Audit entries buffered, not yet written to the store",
            **({"multiprocess_mode": "livesum"} if self.multiprocess else {}), **reg)
        self._children: dict[tuple[str, str], object] = {}
        self._counters: dict[tuple[str, str, int], object] = {}
        self._version: str | None = None

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        child = self._children.get(key)
        if child is None:  # label lookup is the costly part of an observation: do it once per route
            child = self._children[key] = self.latency.labels(method, route)
        child.observe(seconds)
        ckey = (method, route, status)
        counter = self._counters.get(ckey)
        if counter is None:
            counter = self._counters[ckey] = self.requests.labels(method, route, str(status))
        counter.inc()

    def set_model_version(self, version: str) -> None:
        if self._version is not None and self._version != version:
            self.model_info.labels(self._version).set(0)
        self.model_info.labels(version).set(1)
        self._version = version

    def render(self) -> bytes:
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def close(self) -> None:
        """Mark this worker's live gauges dead so a scrape after it exits does not count them."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())
