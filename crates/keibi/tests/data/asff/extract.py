#!/usr/bin/env python3
"""Writes securityhub-shapes.json: the trimmed extract of Security Hub's API model
that keibi's ASFF output is checked against (crates/keibi/src/output/asff.rs, its
tests).

Origin: botocore's data/securityhub/2018-10-26/service-2.json.gz (the AWS API model
of Security Hub, as the AWS SDKs ship it), botocore 1.x; licence Apache-2.0. The
extract keeps the shapes reachable from AwsSecurityFinding (the ASFF finding), with
each structure's members and required members, each string's enum and length
bounds, each list's and map's member shapes and bounds; of the resource details it
keeps `Other` only (keibi writes no other details type).

Usage: extract.py <path to service-2.json.gz> > securityhub-shapes.json
"""
import gzip
import json
import sys

model = json.load(gzip.open(sys.argv[1]))
shapes = model["shapes"]
out = {}


def walk(name):
    if name in out:
        return
    s = shapes[name]
    keep = {"type": s["type"]}
    for k in ("required", "enum", "min", "max", "pattern"):
        if k in s:
            keep[k] = s[k]
    out[name] = keep
    if s["type"] == "structure":
        members = {}
        for m, spec in s["members"].items():
            if name == "ResourceDetails" and m != "Other":
                continue
            members[m] = spec["shape"]
        keep["members"] = members
        for t in members.values():
            walk(t)
    elif s["type"] == "list":
        keep["member"] = s["member"]["shape"]
        walk(s["member"]["shape"])
    elif s["type"] == "map":
        keep["key"] = s["key"]["shape"]
        keep["value"] = s["value"]["shape"]
        walk(s["key"]["shape"])
        walk(s["value"]["shape"])


walk("AwsSecurityFinding")
walk("BatchImportFindingsResponse")
json.dump({
    "origin": "botocore data/securityhub/2018-10-26/service-2.json.gz, version "
              + model["metadata"].get("apiVersion", "?"),
    "licence": "Apache-2.0",
    "shapes": out,
}, sys.stdout, indent=0, sort_keys=True)
print()
