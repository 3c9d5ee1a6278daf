"""Sends StatsD metrics as an application would, with a real client library.

Usage: send_statsd.py --client statsd-udp|statsd-tcp|dogstatsd-udp|dogstatsd-uds
                      --prefix RUN [--host 127.0.0.1 --port N | --socket PATH]

`statsd-*` use the `statsd` package (StatsClient over UDP, TCPStatsClient over TCP);
`dogstatsd-*` use the `datadog` package's DogStatsd over UDP or a Unix datagram socket,
with a constant tag and a container ID. Gauges and sets go in one datagram (a pipeline,
or DogStatsd's buffer), so they land in one aggregation interval. Metric names start
with RUN. Prints, as one JSON object on stdout, how many metric calls it made.
"""

import argparse
import json


def send_statsd(args):
    import statsd

    if args.client == "statsd-udp":
        client = statsd.StatsClient(args.host, args.port, prefix=args.prefix)
    else:
        client = statsd.TCPStatsClient(args.host, args.port, prefix=args.prefix)
    calls = 0
    for _ in range(3):
        client.incr("hits")
        calls += 1
    client.incr("hits", 5)
    client.timing("lat", 100)
    client.timing("lat", 200)
    client.timing("lat", 320)
    calls += 4
    with client.pipeline() as pipe:
        pipe.gauge("load", 10)
        pipe.gauge("load", 5, delta=True)
        pipe.gauge("load", -3, delta=True)
        pipe.set("users", "alice")
        pipe.set("users", "bob")
        pipe.set("users", "alice")
        pipe.incr("piped")
        pipe.incr("piped")
        calls += 8
    if args.client == "statsd-tcp":
        client.close()
    return calls


def send_dogstatsd(args):
    from datadog.dogstatsd import DogStatsd

    options = dict(
        disable_telemetry=True,
        disable_buffering=False,
        # No background flush: everything leaves in one datagram at flush().
        flush_interval=0,
        constant_tags=["env:test"],
        container_id="abc123",
        namespace=args.prefix,
    )
    if args.client == "dogstatsd-udp":
        client = DogStatsd(host=args.host, port=args.port, **options)
    else:
        client = DogStatsd(socket_path=args.socket, **options)
    calls = 0
    client.increment("hits", 2, tags=["route:/a"])
    client.increment("hits", 3, tags=["route:/a"])
    client.increment("hits", 1, tags=["route:/b"])
    client.gauge("temp", 21.5, tags=["room:lab"])
    for value in range(1, 11):
        client.distribution("size", value)
    client.histogram("reqsize", 42)
    client.set("users", "x")
    client.set("users", "y")
    client.set("users", "x")
    calls += 16
    client.flush()
    client.close_socket()
    return calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--client",
        choices=["statsd-udp", "statsd-tcp", "dogstatsd-udp", "dogstatsd-uds"],
        required=True,
    )
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8125)
    parser.add_argument("--socket")
    args = parser.parse_args()
    if args.client.startswith("statsd"):
        calls = send_statsd(args)
    else:
        calls = send_dogstatsd(args)
    print(json.dumps({"calls": calls}))


if __name__ == "__main__":
    main()
