"""Sends spans and logs carrying sensitive and structured attributes with the OpenTelemetry
Python SDK over OTLP/HTTP, with an `x-tenant` header, as an application behind a tenant
proxy would.

Usage: send_attributes.py --endpoint 127.0.0.1:4318 --run-id ID

Prints, as one JSON object on stdout, the span names and log bodies it sent.
"""

import argparse
import json
import logging
import sys

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--run-id", required=True)
    args = parser.parse_args()

    base = f"http://{args.endpoint}"
    headers = {"x-tenant": "acme"}
    resource = Resource.create(
        {"service.name": "checkout", "test.run": args.run_id, "host.secret": "s3cr3t"}
    )
    sent = {"spans": [], "logs": []}

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", headers=headers))
    )
    tracer = tracer_provider.get_tracer("shop")
    name = f"{args.run_id}-pay"
    with tracer.start_as_current_span(name) as span:
        span.set_attribute("user.email", "someone@example.com")
        span.set_attribute("db.statement", "SELECT * FROM cards")
        span.set_attribute("http.url", "https://shop.example.com/pay?x=1")
        span.set_attribute("http.status_code", "200")
        span.set_attribute("note", "paid with 4111111111111111")
    sent["spans"].append(name)
    tracer_provider.force_flush()
    tracer_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs", headers=headers))
    )
    logger = logging.getLogger(f"shop.{args.run_id}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
    body = f"{args.run_id}-paid"
    logger.warning(body, extra={"user.email": "someone@example.com", "card": "5105105105105100"})
    sent["logs"].append(body)
    logger_provider.force_flush()
    logger_provider.shutdown()

    json.dump(sent, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
