"""Reads what carbon-cache stored: the points of each named series from its whisper files.

Usage: read_whisper.py --data-dir DIR NAME...

Runs under the system python3 (Debian's graphite-carbon and python3-whisper). Each NAME is
a Graphite path, tagged (`a.b;k=v`) or not; tags are normalised and the file found as
carbon-cache names it (`_tagged/<hash>` for tagged series). Prints one JSON object:
{NAME: [[timestamp, value], ...]} with the non-empty points, or null when there is no file.
"""

import argparse
import json
import os
import sys
import time

import whisper
from carbon.util import TaggedSeries


def path_of(data_dir, name):
    if ";" in name:
        normalised = TaggedSeries.parse(name).path
        relative = TaggedSeries.encode(normalised, os.sep, hash_only=True)
    else:
        relative = name.replace(".", os.sep)
    return os.path.join(data_dir, relative + ".wsp")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    found = {}
    now = int(time.time())
    for name in args.names:
        path = path_of(args.data_dir, name)
        if not os.path.exists(path):
            found[name] = None
            continue
        (start, end, step), values = whisper.fetch(path, now - 3600, now + 60)
        found[name] = [
            [start + i * step, value] for i, value in enumerate(values) if value is not None
        ]
    json.dump(found, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
