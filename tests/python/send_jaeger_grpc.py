"""Posts one Jaeger batch to a collector's api_v2 gRPC service with grpcio, the protos
compiled at run time from tests/python/jaeger/*.proto with grpcio-tools.

Usage: send_jaeger_grpc.py --endpoint 127.0.0.1:14250 --run RUN [--bad-ids]

The batch has a parent span and a child (CHILD_OF the parent, FOLLOWS_FROM a span of
another trace), tags of every type, a log with an `event` field. Prints one JSON object:
{"code": "OK" | <gRPC status name>, "trace_id": hex, "parent_id": hex, "child_id": hex,
"linked_trace_id": hex, "linked_span_id": hex, "start_ns": int}.
With --bad-ids the trace ID has 3 bytes, which the collector must refuse.
"""

import argparse
import json
import os
import sys
import tempfile

import grpc
import grpc_tools
from grpc_tools import protoc


def compile_protos():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jaeger")
    out = tempfile.mkdtemp(prefix="jaeger-protos-")
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    status = protoc.main([
        "protoc", f"-I{here}", f"-I{include}", f"--python_out={out}",
        f"--grpc_python_out={out}", "model.proto", "collector.proto",
    ])
    if status != 0:
        sys.exit(f"protoc failed: {status}")
    sys.path.insert(0, out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--bad-ids", action="store_true")
    args = parser.parse_args()
    compile_protos()
    import collector_pb2
    import collector_pb2_grpc
    import model_pb2 as m

    trace_id = os.urandom(16)
    parent_id, child_id = os.urandom(8), os.urandom(8)
    linked_trace, linked_span = os.urandom(16), os.urandom(8)
    start_ns = 1_700_000_000_123_456_000

    def ts(ns):
        from google.protobuf.timestamp_pb2 import Timestamp
        t = Timestamp()
        t.FromNanoseconds(ns)
        return t

    def dur(ns):
        from google.protobuf.duration_pb2 import Duration
        d = Duration()
        d.FromNanoseconds(ns)
        return d

    def s(key, value):
        return m.KeyValue(key=key, v_type=m.STRING, v_str=value)

    parent = m.Span(
        trace_id=trace_id[:3] if args.bad_ids else trace_id, span_id=parent_id,
        operation_name="grpc-parent", flags=1, start_time=ts(start_ns), duration=dur(5_000_000),
        tags=[
            s("span.kind", "server"), s("otel.scope.name", "grpc.e2e"),
            s("otel.scope.version", "3.1"),
            m.KeyValue(key="count", v_type=m.INT64, v_int64=42),
            m.KeyValue(key="ratio", v_type=m.FLOAT64, v_float64=0.75),
            m.KeyValue(key="cached", v_type=m.BOOL, v_bool=True),
            m.KeyValue(key="blob", v_type=m.BINARY, v_binary=b"\x00\x01"),
        ],
        logs=[m.Log(timestamp=ts(start_ns + 1_000_000),
                    fields=[s("event", "cache-miss"), s("key", "user:1")])],
    )
    child = m.Span(
        trace_id=trace_id, span_id=child_id, operation_name="grpc-child",
        start_time=ts(start_ns + 1_000), duration=dur(1_000_000),
        references=[
            m.SpanRef(trace_id=trace_id, span_id=parent_id, ref_type=m.CHILD_OF),
            m.SpanRef(trace_id=linked_trace, span_id=linked_span, ref_type=m.FOLLOWS_FROM),
        ],
        tags=[s("span.kind", "client"), s("otel.status_code", "ERROR"),
              s("otel.status_description", "upstream failed")],
    )
    batch = m.Batch(
        process=m.Process(service_name="jaeger-grpc-e2e", tags=[s("test.run", args.run)]),
        spans=[parent, child],
    )
    with grpc.insecure_channel(args.endpoint) as channel:
        stub = collector_pb2_grpc.CollectorServiceStub(channel)
        try:
            stub.PostSpans(collector_pb2.PostSpansRequest(batch=batch), timeout=10)
            code = "OK"
        except grpc.RpcError as error:
            code = error.code().name
    print(json.dumps({
        "code": code, "trace_id": trace_id.hex(), "parent_id": parent_id.hex(),
        "child_id": child_id.hex(), "linked_trace_id": linked_trace.hex(),
        "linked_span_id": linked_span.hex(), "start_ns": start_ns,
    }))


if __name__ == "__main__":
    main()
