"""Sends spans with the OpenTelemetry Python SDK's Zipkin exporter, as an application would.

Usage: send_zipkin.py --format json|json-v1|proto --endpoint http://127.0.0.1:9411/api/v2/spans
         --run-id ID

`json` is opentelemetry-exporter-zipkin-json (v2 JSON; `json-v1`: its v1 JSON, to be sent to
/api/v1/spans), `proto` is
opentelemetry-exporter-zipkin-proto-http (v2 protobuf; the legacy environment). Prints one
JSON object on stdout: {"result": "SUCCESS" | "FAILURE", "spans": [...]}, each span with
the IDs, name, kind, attributes and status it was sent with, so the caller can compare with
what the collector wrote. The exporter is called directly, so the result is the
receiver's answer.
"""

import argparse
import json
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", choices=["json", "json-v1", "proto"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--run-id", required=True)
    args = parser.parse_args()

    if args.format == "json":
        from opentelemetry.exporter.zipkin.json import ZipkinExporter
    elif args.format == "json-v1":
        from functools import partial

        from opentelemetry.exporter.zipkin.encoder import Protocol
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        # The v1 encoder compares string tags with max_tag_value_length, which must be set.
        ZipkinExporter = partial(ZipkinExporter, version=Protocol.V1, max_tag_value_length=1024)
    else:
        from opentelemetry.exporter.zipkin.proto.http import ZipkinExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"shop-{args.run_id}"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("shop.http", "0.9")

    run = args.run_id
    with tracer.start_as_current_span(f"checkout-{run}", kind=SpanKind.SERVER) as parent:
        parent.set_attribute("run", run)
        parent.set_attribute("http.status_code", 503)
        parent.set_attribute("retry", True)
        parent.set_attribute("ratio", 0.5)
        parent.add_event("retrying")
        with tracer.start_as_current_span(f"db-{run}", kind=SpanKind.CLIENT) as child:
            child.set_attribute("run", run)
            child.set_attribute("db.system", "postgresql")
        parent.set_status(Status(StatusCode.ERROR, "upstream unavailable"))

    spans = memory.get_finished_spans()
    result = ZipkinExporter(endpoint=args.endpoint).export(spans)
    report = {
        "result": result.name,
        "spans": [
            {
                "trace_id": format(s.context.trace_id, "032x"),
                "span_id": format(s.context.span_id, "016x"),
                "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
                "name": s.name,
                "kind": s.kind.name,
                "attributes": dict(s.attributes),
                "events": [e.name for e in s.events],
                "status": s.status.status_code.name,
                "description": s.status.description,
            }
            for s in spans
        ],
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
