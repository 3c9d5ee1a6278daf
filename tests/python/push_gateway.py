"""Pushes to a Pushgateway with the `prometheus_client` package, as a batch job would.

Usage: push_gateway.py --gateway 127.0.0.1:9091 --action push|pushadd|replace|delete|reserved

push: PUT a gauge with two series, a counter and a histogram to job "nightly",
      grouping key {instance: "db/1"} (a `/`, so the client writes it in base64);
pushadd: POST only backup_rows{table="a"};
replace: PUT only backup_done;
delete: DELETE the group;
reserved: PUT a metric named push_time_seconds (the gateway refuses it);
protobuf: PUT delimited protobuf MetricFamily messages, as Go's client_golang `push`
      package does by default (the messages built with the protobuf runtime from
      Prometheus's metrics.proto schema) to job "proto".
Prints {"ok": true} or {"status": <HTTP status>, "reason": <body>} as one JSON object.
"""

import argparse
import json
import urllib.error

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import delete_from_gateway, push_to_gateway, pushadd_to_gateway

JOB = "nightly"
GROUP = {"instance": "db/1"}


def metric_family_class():
    """io.prometheus.client.MetricFamily (the fields used here) from its schema."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="metrics.proto", package="io.prometheus.client")

    def message(name, fields):
        m = file.message_type.add(name=name)
        for number, (field, kind, label, type_name) in enumerate(fields, start=1):
            f = m.field.add(name=field, number=number, type=kind, label=label)
            if type_name:
                f.type_name = ".io.prometheus.client." + type_name

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message("LabelPair", [("name", F.TYPE_STRING, opt, None), ("value", F.TYPE_STRING, opt, None)])
    message("Gauge", [("value", F.TYPE_DOUBLE, opt, None)])
    message("Counter", [("value", F.TYPE_DOUBLE, opt, None)])
    message("Metric", [
        ("label", F.TYPE_MESSAGE, rep, "LabelPair"),
        ("gauge", F.TYPE_MESSAGE, opt, "Gauge"),
        ("counter", F.TYPE_MESSAGE, opt, "Counter"),
    ])
    message("MetricFamily", [
        ("name", F.TYPE_STRING, opt, None),
        ("help", F.TYPE_STRING, opt, None),
        ("type", F.TYPE_INT32, opt, None),
        ("metric", F.TYPE_MESSAGE, rep, "Metric"),
    ])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("io.prometheus.client.MetricFamily"))


def push_protobuf(gateway):
    import urllib.request

    from google.protobuf.internal.encoder import _VarintBytes

    MetricFamily = metric_family_class()
    rows = MetricFamily(name="proto_rows", help="Rows.", type=1)
    m = rows.metric.add()
    m.label.add(name="table", value="a")
    m.gauge.value = 5
    runs = MetricFamily(name="proto_runs_total", help="Runs.", type=0)
    runs.metric.add().counter.value = 2
    body = b"".join(_VarintBytes(len(f.SerializeToString())) + f.SerializeToString() for f in (rows, runs))
    request = urllib.request.Request(
        f"http://{gateway}/metrics/job/proto/instance/db%2F1",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"},
    )
    urllib.request.urlopen(request)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--action", required=True)
    args = parser.parse_args()
    gateway = args.gateway
    registry = CollectorRegistry()
    try:
        if args.action == "push":
            rows = Gauge("backup_rows", "Rows backed up.", ["table"], registry=registry)
            rows.labels("a").set(10)
            rows.labels("b").set(20)
            Counter("backup_runs", "Backup runs.", registry=registry).inc(3)
            Histogram("backup_seconds", "Backup time.", buckets=[1, 10], registry=registry).observe(0.5)
            push_to_gateway(gateway, job=JOB, grouping_key=GROUP, registry=registry)
        elif args.action == "pushadd":
            rows = Gauge("backup_rows", "Rows backed up.", ["table"], registry=registry)
            rows.labels("a").set(11)
            pushadd_to_gateway(gateway, job=JOB, grouping_key=GROUP, registry=registry)
        elif args.action == "replace":
            Gauge("backup_done", "Whether the backup finished.", registry=registry).set(1)
            push_to_gateway(gateway, job=JOB, grouping_key=GROUP, registry=registry)
        elif args.action == "delete":
            delete_from_gateway(gateway, job=JOB, grouping_key=GROUP)
        elif args.action == "protobuf":
            push_protobuf(gateway)
        elif args.action == "reserved":
            Gauge("push_time_seconds", "Not allowed.", registry=registry).set(1)
            push_to_gateway(gateway, job=JOB, grouping_key=GROUP, registry=registry)
        else:
            raise SystemExit(f"unknown action {args.action}")
    except urllib.error.HTTPError as error:
        print(json.dumps({"status": error.code, "reason": error.read().decode()}))
        return
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
