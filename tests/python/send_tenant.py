"""Sends spans for one tenant with the OpenTelemetry Python SDK, as a tenant's application would.

Usage: send_tenant.py --protocol grpc|http --endpoint 127.0.0.1:4317 --tenant NAME
                      --via resource|header [--count N]

The tenant is named either by the resource attribute `tenant` or by the request header
`X-Tenant`. Prints, as one JSON object on stdout, the span names it sent.
"""

import argparse
import json

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--via", choices=["resource", "header"], required=True)
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()

    attributes = {"service.name": f"app-{args.tenant}"}
    headers = {}
    if args.via == "resource":
        attributes["tenant"] = args.tenant
    else:
        headers["X-Tenant"] = args.tenant

    if args.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(
            endpoint=f"http://{args.endpoint}", insecure=True, headers=headers
        )
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(
            endpoint=f"http://{args.endpoint}/v1/traces", headers=headers
        )

    provider = TracerProvider(resource=Resource.create(attributes))
    # One export per span, answered before the next: the caller sees every result.
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("send_tenant")
    names = []
    for i in range(args.count):
        name = f"{args.tenant}-{args.via}-{i}"
        with tracer.start_as_current_span(name):
            pass
        names.append(name)
    provider.shutdown()
    print(json.dumps({"spans": names}))


if __name__ == "__main__":
    main()
