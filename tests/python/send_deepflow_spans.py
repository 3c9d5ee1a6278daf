"""Exports spans once with the OpenTelemetry Python SDK's OTLP/HTTP (protobuf) exporter to a
full URL, as an SDK configured for a DeepFlow agent's `/api/v1/otel/trace` does.

Usage: send_deepflow_spans.py --url http://127.0.0.1:38086/api/v1/otel/trace --name NAME
         [--count N] [--compression none|gzip]

Prints one JSON object on stdout: {"result": "SUCCESS" | "FAILURE"}.
"""

import argparse
import json
import logging
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--compression", default="none", choices=["none", "gzip"])
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "deepflow-e2e"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tributary-tests")
    for i in range(args.count):
        with tracer.start_as_current_span(f"{args.name}-{i}"):
            pass
    compression = {"none": Compression.NoCompression, "gzip": Compression.Gzip}[args.compression]
    exporter = OTLPSpanExporter(endpoint=args.url, compression=compression, timeout=10)
    result = exporter.export(memory.get_finished_spans())
    print(json.dumps({"result": result.name}))


if __name__ == "__main__":
    main()
