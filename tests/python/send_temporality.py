"""Sends a counter, an up-down counter and a histogram with the OpenTelemetry Python SDK over OTLP/HTTP in
several rounds, flushing after each, with the temporality asked for: delta sends each
round's increments, cumulative the running totals. For the temporality processor tests.

Usage: send_temporality.py --endpoint 127.0.0.1:4318 --temporality delta|cumulative

Prints, as one JSON object on stdout, the totals it recorded per route.
"""

import argparse
import json

from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, UpDownCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

# Irregular increments per round; route /b is quiet in the second round (a gap).
ROUNDS = [
    {"/a": [5, 1], "/b": [2]},
    {"/a": [7]},
    {"/a": [1, 1, 1], "/b": [10, 3]},
    {"/a": [20], "/b": [1]},
]
LATENCIES = [[0.05, 0.3], [0.7], [2.0, 0.09, 0.4], [0.2]]
QUEUE = [[3, -1], [4], [-5, 2], [1]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--temporality", choices=["delta", "cumulative"], required=True)
    args = parser.parse_args()

    kind = AggregationTemporality.DELTA if args.temporality == "delta" else AggregationTemporality.CUMULATIVE
    exporter = OTLPMetricExporter(
        endpoint=f"http://{args.endpoint}/v1/metrics",
        preferred_temporality={Counter: kind, Histogram: kind, UpDownCounter: kind},
    )
    # A long interval: exports happen at the explicit flushes only.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create({"service.name": "temporality", "service.instance.id": args.temporality})
    views = [
        View(
            instrument_name="t.latency",
            aggregation=ExplicitBucketHistogramAggregation(boundaries=[0.1, 0.5, 1.0]),
        )
    ]
    provider = MeterProvider(resource=resource, metric_readers=[reader], views=views)
    meter = provider.get_meter("t.meter", "0.1")
    requests = meter.create_counter("t.requests", unit="1", description="Requests handled.")
    latency = meter.create_histogram("t.latency", unit="s", description="Request latency.")
    queue = meter.create_up_down_counter("t.queue", unit="{item}", description="Queued items.")

    totals = {"requests": {"/a": 0, "/b": 0}, "latency_count": 0, "latency_sum": 0.0, "queue": 0}
    for increments, latencies, changes in zip(ROUNDS, LATENCIES, QUEUE):
        for route, adds in increments.items():
            for add in adds:
                requests.add(add, {"route": route})
                totals["requests"][route] += add
        for change in changes:
            queue.add(change)
            totals["queue"] += change
        for seconds in latencies:
            latency.record(seconds)
            totals["latency_count"] += 1
            totals["latency_sum"] += seconds
        provider.force_flush()
    provider.shutdown()
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
