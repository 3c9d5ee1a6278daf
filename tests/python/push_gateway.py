"""Pushes to a Pushgateway with the `prometheus_client` package, as a batch job would.

Usage: push_gateway.py --gateway 127.0.0.1:9091 --action push|pushadd|replace|delete|reserved

push: PUT a gauge with two series, a counter and a histogram to job "nightly",
      grouping key {instance: "db/1"} (a `/`, so the client writes it in base64);
pushadd: POST only backup_rows{table="a"};
replace: PUT only backup_done;
delete: DELETE the group;
reserved: PUT a metric named push_time_seconds (the gateway refuses it).
Prints {"ok": true} or {"status": <HTTP status>, "reason": <body>} as one JSON object.
"""

import argparse
import json
import urllib.error

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import delete_from_gateway, push_to_gateway, pushadd_to_gateway

JOB = "nightly"
GROUP = {"instance": "db/1"}


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
