#!/usr/bin/env python3
"""Runs REDbot (mnot's HTTP lint, `pip install redbot`) on one URL with the request fields
given, and fails on any note REDbot rates BAD. The CLI sends no Accept-Encoding, so it can
only check a compressed response through its own negotiation sub-request; this asks for the
compressed response itself.

usage: redbot_check.py URL [Name: value ...]
"""

import io
import json
import sys
from configparser import ConfigParser

import thor
from redbot.formatter import find_formatter
from redbot.resource import HttpResource


def main() -> int:
    url, fields = sys.argv[1], sys.argv[2:]
    headers = [tuple(part.strip() for part in field.split(":", 1)) for field in fields]
    parser = ConfigParser()
    parser.read_dict({"redbot": {"enable_local_access": "True"}})
    config = parser["redbot"]
    resource = HttpResource(config)
    resource.set_request(url, headers=headers)
    out = io.StringIO()
    formatter = find_formatter("har", "har", False)(config, resource, out.write, {})
    formatter.bind_resource(resource)

    @thor.events.on(formatter)
    def formatter_done() -> None:
        thor.stop()

    resource.check()
    thor.run()
    har = json.loads(out.getvalue())
    bad = 0
    for entry in har["log"]["entries"]:
        response = entry["response"]
        coding = [h["value"] for h in response["headers"] if h["name"].lower() == "content-encoding"]
        print(f"{entry['request']['method']} {entry['request']['url']} -> {response['status']} "
              f"Content-Encoding: {coding[0] if coding else '-'}")
        for note in entry.get("_red_messages", []):
            print(f"  {note['level']:<5} {note['subject']}: {note['summary']}")
            bad += note["level"] == "BAD"
    if bad:
        print(f"REDbot: {bad} BAD notes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
