"""Reads every finding of a Security Hub (moto server) back with boto3's
GetFindings, page by page, and prints them as one JSON array.

Usage: securityhub_get.py ENDPOINT REGION
"""
import json
import sys

import boto3

endpoint, region = sys.argv[1], sys.argv[2]
hub = boto3.client("securityhub", endpoint_url=endpoint, region_name=region,
                   aws_access_key_id="testing", aws_secret_access_key="testing")
found = []
for page in hub.get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 100}):
    found.extend(page["Findings"])
print(json.dumps(found, default=str))
