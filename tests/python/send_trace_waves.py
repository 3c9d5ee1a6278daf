"""Sends traces whose spans are exported in several batches, with the OpenTelemetry
Python SDK, for the tail sampling test.

Usage: send_trace_waves.py --endpoint 127.0.0.1:4317 --traces 12

Each trace `t<i>` gets three spans sent in three waves, one export batch per wave
(a BatchSpanProcessor flushed after each wave): wave 1 a child span with nothing of
note, wave 2 a child span that is an ERROR when i % 4 == 0 (and carries `health=true`
when also i >= 8), wave 3 the root span, with `tier=gold` when i % 4 == 1. Prints, as one
JSON object, each trace's name and hex trace ID.
"""

import argparse
import json

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--traces", type=int, default=12)
    args = parser.parse_args()

    provider = TracerProvider(resource=Resource.create({"service.name": "waves"}))
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"http://{args.endpoint}", insecure=True),
            max_export_batch_size=5,
        )
    )
    tracer = provider.get_tracer("waves")

    roots = []
    for i in range(args.traces):
        roots.append(tracer.start_span(f"t{i}"))

    # Wave 1: a plain child of every trace.
    for root in roots:
        with tracer.start_as_current_span("step-1", context=trace.set_span_in_context(root)):
            pass
    provider.force_flush()

    # Wave 2: errors (and health checks) on some traces.
    for i, root in enumerate(roots):
        span = tracer.start_span("step-2", context=trace.set_span_in_context(root))
        if i % 4 == 0:
            span.set_status(Status(StatusCode.ERROR, "boom"))
            if i >= 8:
                span.set_attribute("health", True)
        span.end()
    provider.force_flush()

    # Wave 3: the roots, some marked gold.
    for i, root in enumerate(roots):
        if i % 4 == 1:
            root.set_attribute("tier", "gold")
        root.end()
    provider.force_flush()
    provider.shutdown()

    report = {
        f"t{i}": format(root.get_span_context().trace_id, "032x") for i, root in enumerate(roots)
    }
    print(json.dumps({"traces": report}))


if __name__ == "__main__":
    main()
