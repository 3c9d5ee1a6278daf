"""Sends spans with exact durations with the OpenTelemetry Python SDK, as services would.

Usage: send_timed_spans.py --protocol grpc|http --endpoint 127.0.0.1:4317 --run-id ID

Two services (each its own TracerProvider and resource, tagged `test.run = ID`) send spans
of several names, kinds and statuses, each started and ended at explicit timestamps so its
duration is known to the nanosecond. Prints, as one JSON object on stdout, every span sent:
service, name, kind (SPAN_KIND_...), status (STATUS_CODE_...) and duration in nanoseconds.
"""

import argparse
import json
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

MS = 1_000_000

# (service, span name, kind, status, durations in ms). Durations sit inside buckets and on
# their upper bounds (100ms, 1s), which belong to the bucket they close.
PLAN = [
    ("checkout", "GET /cart", SpanKind.SERVER, StatusCode.UNSET, [1, 3, 3, 45, 100, 150]),
    ("checkout", "GET /cart", SpanKind.SERVER, StatusCode.ERROR, [700, 1000, 1200]),
    ("checkout", "SELECT cart", SpanKind.CLIENT, StatusCode.OK, [7, 9, 30]),
    ("auth", "login", SpanKind.SERVER, StatusCode.UNSET, [2, 5, 3000, 20000]),
    ("auth", "publish", SpanKind.PRODUCER, StatusCode.UNSET, [0]),
]


def exporter(protocol, endpoint):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=f"http://{endpoint}", insecure=True)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"http://{endpoint}/v1/traces")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--run-id", required=True)
    args = parser.parse_args()

    sent = []
    providers = {}
    for service in sorted({plan[0] for plan in PLAN}):
        resource = Resource.create({"service.name": service, "test.run": args.run_id})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter(args.protocol, args.endpoint)))
        providers[service] = provider

    start = time.time_ns()
    for service, name, kind, status, durations in PLAN:
        tracer = providers[service].get_tracer("timed-spans")
        for duration_ms in durations:
            span = tracer.start_span(name, kind=kind, start_time=start)
            if status != StatusCode.UNSET:
                span.set_status(Status(status))
            span.end(end_time=start + duration_ms * MS)
            sent.append(
                {
                    "service": service,
                    "name": name,
                    "kind": f"SPAN_KIND_{kind.name}",
                    "status": f"STATUS_CODE_{status.name}",
                    "duration_ns": duration_ms * MS,
                }
            )

    for provider in providers.values():
        provider.force_flush()
        provider.shutdown()
    print(json.dumps({"spans": sent}))


if __name__ == "__main__":
    main()
