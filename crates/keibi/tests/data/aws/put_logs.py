"""Puts RDS log lines into a moto CloudWatch Logs group as RDS exports them: one
event per line, timestamped by the line (continuation lines by the line before).

usage: put_logs.py ENDPOINT GROUP [--create] STREAM=FILE ...
"""
import sys
from datetime import datetime, timezone

import boto3


def stamp(line, last):
    # PostgreSQL's "2026-11-28 09:00:01 UTC:...", MariaDB audit's "20261128 09:00:01,..."
    for text, form in ((line[:19], "%Y-%m-%d %H:%M:%S"), (line[:17], "%Y%m%d %H:%M:%S")):
        try:
            t = datetime.strptime(text, form).replace(tzinfo=timezone.utc)
            return int(t.timestamp() * 1000)
        except ValueError:
            pass
    return last


def main():
    endpoint, group, *rest = sys.argv[1:]
    logs = boto3.client(
        "logs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for arg in rest:
        if arg == "--create":
            logs.create_log_group(logGroupName=group)
            continue
        stream, path = arg.split("=", 1)
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass  # more lines for a stream made before
        events, last = [], 0
        with open(path, encoding="utf-8") as f:
            for line in f.read().splitlines():
                if not line:
                    continue
                last = stamp(line, last)
                events.append({"timestamp": last, "message": line})
        for i in range(0, len(events), 1000):
            logs.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events[i : i + 1000]
            )


main()
