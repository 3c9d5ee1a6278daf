"""Sends named traces crafted for the tail sampling policies, with the OpenTelemetry
Python SDK, for the tail sampling test.

Usage:
    send_policy_traces.py --endpoint 127.0.0.1:4317
    send_policy_traces.py --endpoint 127.0.0.1:4317 --late TRACE:SPAN [--late-error TRACE:SPAN]

Without `--late`, every trace in TRACES gets a root and two children, sent in three
waves, one export batch (one request) per wave: wave 1 a plain child `step-1` of every
trace, in TRACES order; wave 2 a child `step-2` (and, for `big`, ten more children);
wave 3 the roots. Each trace carries what its name says (see TRACES). Prints, as one JSON
object, each trace's hex trace ID (`traces`), its root's hex span ID (`roots`) and the
order of the traces' first spans in wave 1 (`order`).

With `--late` (or `--late-error`), sends one span per TRACE:SPAN, a child of that remote
span so it joins the existing trace, in one request; `--late-error` spans are ERRORs.
Prints `{"late": <count>}`.
"""

import argparse
import json
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

# The traces, in the order their first spans are sent. What each carries:
TRACES = [
    "plain",  # nothing of note
    "error",  # step-2 is an ERROR; step-1 has debug=true
    "slow",  # the root lasts 5 s (explicit start and end times)
    "retries",  # step-2 has retries=5
    "retries-high",  # step-2 has retries=50
    "gold",  # the root has tier=gold
    "silver",  # the root has tier=silver
    "admin",  # step-2 has http.route=/admin/users
    "big",  # 13 spans: ten more children in wave 2
    "vendor-keep",  # the root's remote parent has trace state vendor=keep
    "vendor-other",  # the root's remote parent has trace state vendor=other
    "debug",  # the root has debug=true
    "checkout",  # step-2 has checkout.step=pay
    "cache-miss",  # step-2 has a span event `cache.miss`
    "health",  # the root has http.route=/health, step-2 is an ERROR
]


def provider_for(endpoint):
    provider = TracerProvider(resource=Resource.create({"service.name": "policies"}))
    # Only force_flush exports: one request per wave (the batch is larger than a wave,
    # the timer longer than the script).
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"http://{endpoint}", insecure=True),
            max_export_batch_size=512,
            schedule_delay_millis=600_000,
        )
    )
    return provider


def remote_parent(trace_id, span_id, trace_state=None):
    return trace.set_span_in_context(
        NonRecordingSpan(
            SpanContext(
                trace_id=trace_id,
                span_id=span_id,
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
                trace_state=trace_state,
            )
        )
    )


def send_policy_traces(endpoint):
    provider = provider_for(endpoint)
    tracer = provider.get_tracer("policies")
    ids = RandomIdGenerator()

    roots = {}
    slow_start = time.time_ns()
    for name in TRACES:
        if name.startswith("vendor-"):
            state = TraceState([("vendor", name.removeprefix("vendor-"))])
            context = remote_parent(ids.generate_trace_id(), ids.generate_span_id(), state)
            roots[name] = tracer.start_span(name, context=context)
        elif name == "slow":
            roots[name] = tracer.start_span(name, start_time=slow_start)
        else:
            roots[name] = tracer.start_span(name)

    def child(name, span_name):
        return tracer.start_span(span_name, context=trace.set_span_in_context(roots[name]))

    # Wave 1: the first span of every trace, in TRACES order, in one request.
    for name in TRACES:
        span = child(name, "step-1")
        if name == "error":
            span.set_attribute("debug", True)
        span.end()
    provider.force_flush()

    # Wave 2: what most policies look for.
    for name in TRACES:
        span = child(name, "step-2")
        if name in ("error", "health"):
            span.set_status(Status(StatusCode.ERROR, "boom"))
        elif name == "retries":
            span.set_attribute("retries", 5)
        elif name == "retries-high":
            span.set_attribute("retries", 50)
        elif name == "admin":
            span.set_attribute("http.route", "/admin/users")
        elif name == "checkout":
            span.set_attribute("checkout.step", "pay")
        elif name == "cache-miss":
            span.add_event("cache.miss")
        elif name == "big":
            for i in range(10):
                child(name, f"item-{i}").end()
        span.end()
    provider.force_flush()

    # Wave 3: the roots.
    for name in TRACES:
        root = roots[name]
        if name == "gold":
            root.set_attribute("tier", "gold")
        elif name == "silver":
            root.set_attribute("tier", "silver")
        elif name == "debug":
            root.set_attribute("debug", True)
        elif name == "health":
            root.set_attribute("http.route", "/health")
        if name == "slow":
            root.end(end_time=slow_start + 5_000_000_000)
        else:
            root.end()
    provider.force_flush()
    provider.shutdown()

    report = {
        "traces": {
            name: format(root.get_span_context().trace_id, "032x") for name, root in roots.items()
        },
        "roots": {
            name: format(root.get_span_context().span_id, "016x") for name, root in roots.items()
        },
        "order": TRACES,
    }
    print(json.dumps(report))


def send_late_spans(endpoint, plain, errors):
    provider = provider_for(endpoint)
    tracer = provider.get_tracer("policies")
    for target, is_error in [(t, False) for t in plain] + [(t, True) for t in errors]:
        trace_id, span_id = target.split(":")
        span = tracer.start_span("late", context=remote_parent(int(trace_id, 16), int(span_id, 16)))
        if is_error:
            span.set_status(Status(StatusCode.ERROR, "late boom"))
        span.end()
    provider.force_flush()
    provider.shutdown()
    print(json.dumps({"late": len(plain) + len(errors)}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--late", action="append", default=[], metavar="TRACE:SPAN")
    parser.add_argument("--late-error", action="append", default=[], metavar="TRACE:SPAN")
    args = parser.parse_args()
    if args.late or args.late_error:
        send_late_spans(args.endpoint, args.late, args.late_error)
    else:
        send_policy_traces(args.endpoint)


if __name__ == "__main__":
    main()
