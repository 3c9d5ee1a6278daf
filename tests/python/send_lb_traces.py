"""Sends traces whose spans are spread over many export requests, with the OpenTelemetry
Python SDK, for the loadbalancing cluster test; reports which spans the agent
acknowledged.

Usage: send_lb_traces.py --endpoint 127.0.0.1:4317 --traces 40 --waves 20 --prefix a
       [--pause 0.05] [--ready FILE]

Every trace `<prefix>t<i>` is a root span open for the whole run; each wave adds one
child span `<prefix>t<i>-w<w>` to every trace and flushes, so each wave is one export
request holding one span of every trace, and a trace's spans arrive in `waves` requests
(its root in a last one). `--ready FILE` is created after the first wave is
acknowledged. Prints, as one JSON object: `traces` (name → hex trace ID) and `acked`
(the names of the spans whose export the agent acknowledged).
"""

import argparse
import json
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)


class AckRecorder(SpanExporter):
    """Exports through OTLP and remembers the names of acknowledged spans."""

    def __init__(self, inner):
        self.inner = inner
        self.acked = []

    def export(self, spans):
        result = self.inner.export(spans)
        if result == SpanExportResult.SUCCESS:
            self.acked.extend(span.name for span in spans)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--traces", type=int, default=40)
    parser.add_argument("--waves", type=int, default=20)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--pause", type=float, default=0.0)
    parser.add_argument("--ready", default=None)
    args = parser.parse_args()

    recorder = AckRecorder(
        OTLPSpanExporter(endpoint=f"http://{args.endpoint}", insecure=True, timeout=30)
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "lb-test"}))
    # One export request per wave: the batch holds every span of the wave.
    provider.add_span_processor(
        BatchSpanProcessor(
            recorder,
            max_queue_size=100000,
            max_export_batch_size=100000,
            schedule_delay_millis=3600000,
        )
    )
    tracer = provider.get_tracer("lb-test")

    roots = [tracer.start_span(f"{args.prefix}t{i}") for i in range(args.traces)]
    for wave in range(args.waves):
        for i, root in enumerate(roots):
            child = tracer.start_span(
                f"{args.prefix}t{i}-w{wave}", context=trace.set_span_in_context(root)
            )
            child.end()
        provider.force_flush()
        if wave == 0 and args.ready:
            open(args.ready, "w").close()
        if args.pause:
            time.sleep(args.pause)
    for root in roots:
        root.end()
    provider.force_flush()
    provider.shutdown()

    print(
        json.dumps(
            {
                "traces": {
                    f"{args.prefix}t{i}": format(root.get_span_context().trace_id, "032x")
                    for i, root in enumerate(roots)
                },
                "acked": recorder.acked,
            }
        )
    )


if __name__ == "__main__":
    main()
