"""Exports spans once with the OpenTelemetry Python SDK's OTLP exporter and reports whether
the collector accepted them: for tests of authentication, compression and TLS.

Usage: send_spans.py --protocol grpc|http --endpoint 127.0.0.1:4317 --name NAME
         [--header key=value ...] [--compression none|gzip|deflate]
         [--ca FILE] [--cert FILE --key FILE]

Prints one JSON object on stdout: {"result": "SUCCESS" | "FAILURE"}. The exporter is called
directly (no batch processor) so the result is the collector's answer.
"""

import argparse
import json
import logging
import sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def exporter(args):
    headers = dict(h.split("=", 1) for h in args.header)
    tls = args.ca is not None
    scheme = "https" if tls else "http"
    if args.protocol == "grpc":
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        compression = {"none": Compression.NoCompression, "gzip": Compression.Gzip,
                       "deflate": Compression.Deflate}[args.compression]
        credentials = None
        if tls:
            read = lambda path: open(path, "rb").read() if path else None
            credentials = grpc.ssl_channel_credentials(
                read(args.ca), read(args.key), read(args.cert))
        return OTLPSpanExporter(endpoint=f"{scheme}://{args.endpoint}", insecure=not tls,
                                credentials=credentials, headers=headers,
                                compression=compression, timeout=10)
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    compression = {"none": Compression.NoCompression, "gzip": Compression.Gzip,
                   "deflate": Compression.Deflate}[args.compression]
    return OTLPSpanExporter(endpoint=f"{scheme}://{args.endpoint}/v1/traces", headers=headers,
                            compression=compression, timeout=10, certificate_file=args.ca,
                            client_certificate_file=args.cert, client_key_file=args.key)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--compression", default="none", choices=["none", "gzip", "deflate"])
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("tributary-tests").start_as_current_span(args.name):
        pass
    result = exporter(args).export(memory.get_finished_spans())
    print(json.dumps({"result": result.name}))


if __name__ == "__main__":
    main()
