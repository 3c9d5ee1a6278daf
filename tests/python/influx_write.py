"""Writes line protocol with InfluxData's own Python clients, as an application would.

Usage: influx_write.py --api v1|v2 --endpoint 127.0.0.1:8086

v1 uses the `influxdb` client (InfluxDB 1.x `/write`), v2 the `influxdb-client` package
(InfluxDB 2.x `/api/v2/write`, gzip on). Each writes a few points, then one malformed
line, and prints as one JSON object what the server answered to that one.
"""

import argparse
import json


def v1(host, port):
    from influxdb import InfluxDBClient
    from influxdb.exceptions import InfluxDBClientError

    client = InfluxDBClient(host=host, port=port, database="e2e")
    points = [
        {"measurement": "cpu_temp", "tags": {"host": "a"}, "fields": {"gauge": 87.5}, "time": 1700000000},
        {"measurement": "http_requests_total", "tags": {"code": "200"}, "fields": {"counter": 1027}, "time": 1700000000},
        {
            "measurement": "latency",
            "tags": {"service.name": "shop"},
            "fields": {"0.1": 3.0, "0.5": 7.0, "count": 9.0, "sum": 2.5},
            "time": 1700000000,
        },
    ]
    assert client.write_points(points, time_precision="s")
    try:
        client.write_points(["cpu_temp,host=a gauge=1", "broken line"], protocol="line")
        return {"malformed": None}
    except InfluxDBClientError as error:
        return {"malformed": {"status": error.code, "body": error.content}}


def v2(host, port):
    from influxdb_client import InfluxDBClient, Point, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS
    from influxdb_client.rest import ApiException

    with InfluxDBClient(url=f"http://{host}:{port}", token="token", org="org", enable_gzip=True) as client:
        write = client.write_api(write_options=SYNCHRONOUS)
        point = Point("mem").tag("host", "b").field("used", 3).field("free", 5.5).time(1700000000000, WritePrecision.MS)
        write.write(bucket="bucket", record=point, write_precision=WritePrecision.MS)
        write.write(
            bucket="bucket",
            record=[
                "prometheus,le=0.5 rpc_bucket=7 1700000000000",
                "prometheus,le=0.1 rpc_bucket=3 1700000000000",
                "prometheus rpc_count=9,rpc_sum=2.5 1700000000000",
            ],
            write_precision=WritePrecision.MS,
        )
        try:
            write.write(bucket="bucket", record="ok value=1\nweather,location=us temp=")
            return {"malformed": None}
        except ApiException as error:
            return {"malformed": {"status": error.status, "body": error.body.decode() if isinstance(error.body, bytes) else error.body}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", choices=["v1", "v2"], required=True)
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    host, port = args.endpoint.rsplit(":", 1)
    report = v1(host, int(port)) if args.api == "v1" else v2(host, int(port))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
