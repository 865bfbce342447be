"""Prometheus metrics of the gateway, on a registry of its own (one per app)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self._rpc_call_counters: dict[tuple[str, str], Counter] = {}
        self._rpc_call_seconds: dict[str, Histogram] = {}
        self.registry = CollectorRegistry()
        self.rpc_calls = Counter(
            "gateway_rpc_calls",
            "JSON-RPC calls by method and outcome (ok, or the error's code)",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.rpc_seconds = Histogram(
            "gateway_rpc_call_seconds",
            "Time to answer a JSON-RPC call",
            ["method"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.auth_refusals = Counter(
            "gateway_auth_refusals",
            "Requests refused before any call ran, by HTTP status (401 no valid credential, "
            "429 a login or address throttled after failures)",
            ["status"],
            registry=self.registry,
        )
        self.status_changes = Counter(
            "gateway_message_status_changes",
            "Messages moved to a status (by dispatch, receipts, expiry)",
            ["status"],
            registry=self.registry,
        )
        self.webhook_attempts = Counter(
            "gateway_webhook_attempts",
            "Webhook POSTs by result (delivered, failed)",
            ["result"],
            registry=self.registry,
        )
        self.write_batch_size = Histogram(
            "gateway_store_write_batch_size",
            "Writes committed together in one transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "gateway_queue_depth",
            "Work waiting: messages to dispatch, webhook events to deliver, jobs to run",
            ["queue"],
            registry=self.registry,
        )
        self.connections_refused = Counter(
            "gateway_connections_refused",
            "Connections closed at once: their client address already held "
            "[server] max_connections_per_address",
            registry=self.registry,
        )
        self.open_connections = Gauge(
            "gateway_open_connections",
            "HTTP connections open now",
            registry=self.registry,
        )

    # labels() takes a lock and builds its key on every call: the API's children are looked
    # up once per (method, outcome) and kept.
    def rpc_call_counter(self, method: str, outcome: str) -> Counter:
        key = (method, outcome)
        child = self._rpc_call_counters.get(key)
        if child is None:
            child = self._rpc_call_counters[key] = self.rpc_calls.labels(method, outcome)
        return child

    def rpc_call_seconds(self, method: str) -> Histogram:
        child = self._rpc_call_seconds.get(method)
        if child is None:
            child = self._rpc_call_seconds[method] = self.rpc_seconds.labels(method)
        return child
