"""Sends host-style metrics with the OpenTelemetry Python SDK over OTLP/HTTP: a CPU time
counter per host, cpu and state, a memory gauge per host and state, a request duration
histogram per host, and a queue depth up-down counter. Points carry `host.name`, as
metrics scraped from many hosts by one agent do. The SDK exports twice (cumulative
temporality), with the values moving in between, then once more at shutdown.

Usage: send_host_metrics.py --endpoint 127.0.0.1:4318 --run-id ID

Prints, as one JSON object on stdout, the final value of every series it sent.
"""

import argparse
import json
import sys

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

HOSTS = ["web-1", "web-2"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--run-id", required=True)
    args = parser.parse_args()

    # Exports only when flushed: an hour-long period never fires during the run.
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"http://{args.endpoint}/v1/metrics"),
        export_interval_millis=3_600_000,
    )
    provider = MeterProvider(
        resource=Resource.create({"service.name": "hosts", "test.run": args.run_id}),
        metric_readers=[reader],
    )
    meter = provider.get_meter("e2e.hosts")
    cpu_time = meter.create_counter("system.cpu.time", unit="s")
    memory = meter.create_gauge("system.memory.usage", unit="By")
    duration = meter.create_histogram("http.server.duration", unit="ms")
    depth = meter.create_up_down_counter("queue.depth")

    cpu_totals = {}
    memory_last = {}
    durations = {host: 0 for host in HOSTS}
    for round_ in (1, 2):
        for h, host in enumerate(HOSTS):
            for cpu in ("0", "1"):
                for s, state in enumerate(("idle", "user")):
                    amount = round_ * 10 + h * 100 + int(cpu) * 3 + s
                    cpu_time.add(amount, {"host.name": host, "cpu": cpu, "state": state})
                    key = f"{host}|{cpu}|{state}"
                    cpu_totals[key] = cpu_totals.get(key, 0) + amount
            for state, value in (
                ("slab_reclaimable", 100 * round_ + h),
                ("slab_unreclaimable", 50 * round_),
                ("used", 1000 + round_),
            ):
                memory.set(value, {"host.name": host, "state": state})
                memory_last[f"{host}|{state}"] = value
            for value in range(round_ * 3):
                duration.record(value * 7.5, {"host.name": host})
                durations[host] += 1
            depth.add(round_, {"host.name": host})
        provider.force_flush()
    provider.shutdown()

    json.dump({"cpu": cpu_totals, "memory": memory_last, "durations": durations}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
