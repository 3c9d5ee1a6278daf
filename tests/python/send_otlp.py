"""Sends traces, metrics and logs with the OpenTelemetry Python SDK, as an application would.

Usage: send_otlp.py --protocol grpc|http --endpoint 127.0.0.1:4317 --run-id ID [--count N]

Prints, as one JSON object on stdout, exactly what it sent: span names, metric points and
log bodies, so the caller can compare with what the collector wrote.
"""

import argparse
import json
import logging
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor


def exporters(protocol, endpoint):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        url = f"http://{endpoint}"
        return (
            OTLPSpanExporter(endpoint=url, insecure=True),
            OTLPMetricExporter(endpoint=url, insecure=True),
            OTLPLogExporter(endpoint=url, insecure=True),
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    base = f"http://{endpoint}"
    return (
        OTLPSpanExporter(endpoint=f"{base}/v1/traces"),
        OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
        OTLPLogExporter(endpoint=f"{base}/v1/logs"),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", choices=["grpc", "http"], required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()

    resource = Resource.create({"service.name": "interop-test", "test.run": args.run_id})
    span_exporter, metric_exporter, log_exporter = exporters(args.protocol, args.endpoint)
    sent = {"spans": [], "metrics": {}, "logs": []}

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    tracer = tracer_provider.get_tracer("interop")
    for i in range(args.count):
        name = f"{args.run_id}-span-{i}"
        with tracer.start_as_current_span(name) as span:
            span.set_attribute("index", i)
            span.set_attribute("protocol", args.protocol)
        sent["spans"].append(name)
    tracer_provider.force_flush()
    tracer_provider.shutdown()

    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=3_600_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = meter_provider.get_meter("interop")
    counter = meter.create_counter(f"{args.run_id}.requests")
    for i in range(args.count):
        counter.add(i + 1, {"route": f"/r{i}"})
    sent["metrics"][f"{args.run_id}.requests"] = {f"/r{i}": i + 1 for i in range(args.count)}
    meter_provider.force_flush()
    meter_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
    logger = logging.getLogger(f"interop.{args.run_id}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
    for i in range(args.count):
        body = f"{args.run_id}-log-{i}"
        logger.warning(body)
        sent["logs"].append(body)
    logger_provider.force_flush()
    logger_provider.shutdown()

    json.dump(sent, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
