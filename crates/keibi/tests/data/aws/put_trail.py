"""Puts CloudTrail files into a moto bucket as CloudTrail delivers them, for the
s3:// tests of keibi scan/events/run: gzipped, under
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz (or an organisation
trail's AWSLogs/<org-id>/<account>/...).

usage: put_trail.py ENDPOINT BUCKET [--create] KEY_PREFIX=FILE ...
Each argument KEY=FILE puts FILE, gzipped, at KEY. Prints nothing on success.
"""
import gzip
import sys

import boto3


def main():
    endpoint, bucket, *rest = sys.argv[1:]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for arg in rest:
        if arg == "--create":
            s3.create_bucket(Bucket=bucket)
            continue
        key, path = arg.split("=", 1)
        with open(path, "rb") as f:
            body = gzip.compress(f.read())
        s3.put_object(Bucket=bucket, Key=key, Body=body)


main()
