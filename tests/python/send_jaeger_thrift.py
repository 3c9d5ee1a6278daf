"""Sends spans with the OpenTelemetry Python SDK's Jaeger Thrift exporter
(opentelemetry-exporter-jaeger-thrift, the legacy environment): in agent mode as
emitBatch datagrams in the Thrift compact protocol over UDP, in collector mode as Thrift
binary batches posted to /api/traces.

Usage: send_jaeger_thrift.py --mode agent|collector --host 127.0.0.1 --port PORT

Three spans: `linked` (ended first), `parent` (a server span with typed attributes and an
event) and `child` (a client span, child of `parent`, linked to `linked`, status ERROR).
Prints one JSON object: {"spans": {name: {"trace_id": hex, "span_id": hex, "parent_id":
hex | null}}}. The exporter reports success whatever happens: in collector mode, a refusal
is only logged on stderr ("Traces cannot be uploaded"); agent mode has no answer. The
exporter sends the service name as the process and no other resource attribute, so the
spans are found by their trace IDs.
"""

import argparse
import json
import logging
import sys

from opentelemetry.exporter.jaeger.thrift import JaegerExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["agent", "collector"], required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    if args.mode == "agent":
        exporter = JaegerExporter(agent_host_name=args.host, agent_port=args.port,
                                  udp_split_oversized_batches=True)
    else:
        exporter = JaegerExporter(
            collector_endpoint=f"http://{args.host}:{args.port}/api/traces", timeout=10)

    # Record the spans to report their IDs; export them in one call to see the answer.
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(
        {"service.name": "jaeger-thrift-e2e"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("thrift.e2e", "2.0")

    with tracer.start_as_current_span("linked") as linked:
        linked_context = linked.get_span_context()
    with tracer.start_as_current_span(
            "parent", kind=SpanKind.SERVER,
            attributes={"http.method": "GET", "count": 7, "ratio": 0.25, "flag": True}) as parent:
        parent.add_event("checkpoint", {"step": "one"})
        with tracer.start_as_current_span(
                "child", kind=SpanKind.CLIENT, links=[Link(linked_context)]) as child:
            child.set_status(Status(StatusCode.ERROR, "boom"))

    spans = memory.get_finished_spans()
    exporter.export(spans)
    exporter.shutdown()
    report = {}
    for span in spans:
        context = span.get_span_context()
        report[span.name] = {
            "trace_id": format(context.trace_id, "032x"),
            "span_id": format(context.span_id, "016x"),
            "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        }
    print(json.dumps({"spans": report}))


if __name__ == "__main__":
    main()
