"""A Zipkin stand-in that decodes what it receives with Zipkin's own schema: v2 protobuf
bodies with the zipkin_pb2 module that opentelemetry-exporter-zipkin-proto-http ships
(the legacy environment), JSON bodies with json.loads.

Usage: zipkin_sink.py --out FILE

Listens on 127.0.0.1 on a free port and prints the port on stdout. Every POST to
/api/v2/spans is decoded by its Content-Type (and Content-Encoding: gzip) and each span
appended to FILE as one JSON line in Zipkin's v2 JSON form, with "format" saying how it
came; the answer is 202, as Zipkin's. A body that does not decode gets 400.
"""

import argparse
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.zipkin.proto.http.v2.gen import zipkin_pb2

KINDS = {1: "CLIENT", 2: "SERVER", 3: "PRODUCER", 4: "CONSUMER"}


def endpoint(message):
    out = {}
    if message.service_name:
        out["serviceName"] = message.service_name
    if message.ipv4:
        out["ipv4"] = ".".join(str(b) for b in message.ipv4)
    if message.port:
        out["port"] = message.port
    return out


def from_proto(body):
    spans = zipkin_pb2.ListOfSpans()
    spans.ParseFromString(body)
    for span in spans.spans:
        out = {
            "traceId": span.trace_id.hex(),
            "id": span.id.hex(),
            "name": span.name,
            "timestamp": span.timestamp,
            "duration": span.duration,
            "tags": dict(span.tags),
            "annotations": [{"timestamp": a.timestamp, "value": a.value} for a in span.annotations],
        }
        if span.parent_id:
            out["parentId"] = span.parent_id.hex()
        if span.kind in KINDS:
            out["kind"] = KINDS[span.kind]
        if span.HasField("local_endpoint"):
            out["localEndpoint"] = endpoint(span.local_endpoint)
        if span.HasField("remote_endpoint"):
            out["remoteEndpoint"] = endpoint(span.remote_endpoint)
        yield out


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.headers.get("Content-Type") == "application/x-protobuf":
                spans = [dict(s, format="proto") for s in from_proto(body)]
            else:
                spans = [dict(s, format="json") for s in json.loads(body)]
        except Exception as error:  # any decoding failure is the sender's fault
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(error).encode())
            return
        with open(self.server.out, "a") as out:
            for span in spans:
                out.write(json.dumps(span) + "\n")
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.out = args.out
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
