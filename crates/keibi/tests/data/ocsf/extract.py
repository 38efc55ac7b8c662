#!/usr/bin/env python3
"""Writes schema-1.8.0.json: the trimmed extract of the OCSF schema that keibi's
OCSF output is checked against (crates/keibi/src/output/ocsf.rs, its tests).

Origin: https://github.com/ocsf/ocsf-schema, commit 3dcb905d ("v1.8.0 prep"),
version.json 1.8.0. Licence: Apache-2.0 (the schema's LICENSE). The extract keeps,
for the two classes and the objects keibi writes, each attribute's requirement,
its type (object name when it is an object), its enum values and the profile
that brings it (a profile's attributes are required only where it is applied), with the class
and object inheritance (`extends`, `$include` of profiles) resolved.

Usage: extract.py <ocsf-schema git dir> [commit] > schema-1.8.0.json
"""
import json
import subprocess
import sys

repo = sys.argv[1]
commit = sys.argv[2] if len(sys.argv) > 2 else "3dcb905d"


def show(path):
    try:
        out = subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"],
                             check=True, capture_output=True).stdout
    except subprocess.CalledProcessError:
        return None
    return json.loads(out)


dictionary = show("dictionary.json")["attributes"]
categories = show("categories.json")["attributes"]
object_types = set()


def merge(into, attrs, profile=None):
    for name, spec in attrs.items():
        if name == "$include":
            for inc in spec:
                d = show(inc)
                if d:
                    prof = inc.rsplit("/", 1)[-1][:-5] if inc.startswith("profiles/") else None
                    merge(into, d.get("attributes", {}), prof or profile)
            continue
        cur = dict(into.get(name, {}))
        if profile and "profile" not in cur:
            cur["profile"] = profile
        for k, v in spec.items():
            if v is not None:
                cur[k] = v
            elif k == "profile":
                cur.pop("profile", None)  # the class takes it out of its profile
        into[name] = cur


def resolve(kind, name):
    """Attributes of an event class (kind 'events/...') or object, inheritance resolved."""
    d = show(f"{kind}.json") if kind else None
    if d is None:
        return None, {}
    parent = d.get("extends")
    attrs = {}
    if parent:
        base = kind.rsplit("/", 1)[0]
        if kind.startswith("objects/"):
            _, attrs = resolve(f"objects/{parent}", parent)
        elif parent == "base_event":
            _, attrs = resolve("events/base_event", parent)
        else:
            _, attrs = resolve(f"{base}/{parent}", parent)
    merge(attrs, d.get("attributes", {}))
    return d, attrs


def describe(attrs):
    out = {}
    for name, spec in sorted(attrs.items()):
        dic = dictionary.get(name, {})
        typ = dic.get("type", "")
        entry = {"requirement": spec.get("requirement", dic.get("requirement", "optional")) or "optional",
                 "type": typ}
        if spec.get("profile"):
            entry["profile"] = spec["profile"]
        if dic.get("is_array"):
            entry["is_array"] = True
        enum = spec.get("enum") or dic.get("enum")
        if enum:
            entry["enum"] = sorted(int(k) for k in enum)
        if typ and not typ.endswith("_t"):
            object_types.add(typ)
        out[name] = entry
    return out


observable_types = {}
for tname, t in show("dictionary.json")["types"]["attributes"].items():
    if "observable" in t:
        observable_types[str(t["observable"])] = t.get("caption", tname)
for aname, a in dictionary.items():
    if "observable" in a:
        observable_types[str(a["observable"])] = a.get("caption", aname)

result = {
    "observable_types": observable_types,
    "origin": f"https://github.com/ocsf/ocsf-schema commit {commit} (v1.8.0 prep)",
    "licence": "Apache-2.0",
    "version": "1.8.0",
    "classes": {},
    "objects": {},
}
for cls in ["detection_finding", "compliance_finding"]:
    d, attrs = resolve(f"events/findings/{cls}", cls)
    cat = categories[d.get("category") or "findings"]["uid"]
    described = describe(attrs)
    # The dictionary's enums of these two are placeholders: the class fixes them.
    described["category_uid"]["enum"] = [cat]
    described["class_uid"]["enum"] = [cat * 1000 + d["uid"]]
    result["classes"][cls] = {
        "category_uid": cat,
        "class_uid": cat * 1000 + d["uid"],
        "attributes": described,
    }

# The objects keibi writes (and the ones they hold, one level down).
wanted = ["finding_info", "metadata", "product", "resource_details", "observable",
          "evidences", "attack", "tactic", "technique", "remediation", "user",
          "network_endpoint", "analytic", "cloud", "account", "compliance", "actor", "sub_technique",
          "group"]
for obj in wanted:
    d, attrs = resolve(f"objects/{obj}", obj)
    if d is None:
        continue
    described = describe(attrs)
    if obj == "observable":
        # Its type_id enum is built from the dictionary's observable types.
        described["type_id"]["enum"] = sorted({0, 99} | {int(k) for k in observable_types})
    result["objects"][obj] = {
        "constraints": d.get("constraints", {}),
        "attributes": described,
    }
json.dump(result, sys.stdout, indent=1, sort_keys=True)
print()
