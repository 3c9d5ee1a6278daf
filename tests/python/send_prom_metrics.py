"""Sends metrics with the OpenTelemetry Python SDK over OTLP/HTTP, for the prometheus
exporter tests: a counter, a byte counter, a histogram in seconds, a ratio gauge and an
up-down counter, recorded in two rounds with a flush between them (so delta temporality
sends two contiguous deltas), with a recording span active so histograms carry exemplars.

Usage: send_prom_metrics.py --endpoint 127.0.0.1:4318 [--delta]

Prints, as one JSON object on stdout, the totals it recorded.
"""

import argparse
import json

from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, Observation


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--delta", action="store_true")
    parser.add_argument("--instance", default="inst-1")
    args = parser.parse_args()

    temporality = {}
    if args.delta:
        temporality = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
    exporter = OTLPMetricExporter(
        endpoint=f"http://{args.endpoint}/v1/metrics", preferred_temporality=temporality
    )
    # A long interval: exports happen at the explicit flushes only.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create(
        {
            "service.name": "checkout",
            "service.namespace": "shop",
            "service.instance.id": args.instance,
            "host.name": "e2e-host",
        }
    )
    views = [
        View(
            instrument_name="e2e.latency",
            aggregation=ExplicitBucketHistogramAggregation(boundaries=[0.1, 0.5, 1.0]),
        )
    ]
    provider = MeterProvider(resource=resource, metric_readers=[reader], views=views)
    meter = provider.get_meter("e2e.meter", "0.1")
    tracer = TracerProvider(resource=resource).get_tracer("e2e")

    requests = meter.create_counter("e2e.requests", unit="1", description="Requests handled.")
    sent = meter.create_counter("e2e.sent", unit="By", description="Bytes sent.")
    latency = meter.create_histogram("e2e.latency", unit="s", description="Request latency.")
    queue = meter.create_up_down_counter("e2e.queue", unit="{item}", description="Queued items.")

    def load(_options: CallbackOptions):
        return [Observation(0.75, {"cpu": "0"})]

    meter.create_observable_gauge("e2e.load", callbacks=[load], unit="1", description="Load.")

    totals = {"requests": {"/a": 0, "/b": 0}, "sent": 0, "latency": [], "queue": 0}
    rounds = [
        [("/a", 0.05), ("/a", 0.3), ("/b", 0.7)],
        [("/a", 0.2), ("/b", 2.0), ("/b", 0.09)],
    ]
    trace_ids = []
    for observations in rounds:
        for route, seconds in observations:
            with tracer.start_as_current_span("handle") as span:
                trace_ids.append(format(span.get_span_context().trace_id, "032x"))
                requests.add(1, {"route": route})
                latency.record(seconds, {"route": route})
            sent.add(100)
            queue.add(2)
            queue.add(-1)
            totals["requests"][route] += 1
            totals["latency"].append(seconds)
            totals["sent"] += 100
            totals["queue"] += 1
        provider.force_flush()
    provider.shutdown()
    totals["trace_ids"] = trace_ids
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
