#!/usr/bin/env python3
"""Writes the managed-platform scenarios (cnpg-*, cloudsql-*, heroku-*, azure-*) from
login-bruteforce-pg's logs: the same real PostgreSQL 15 lines (RDS log_line_prefix,
captured from a real server, see that folder's expect), re-wrapped in each platform's
documented envelope, so each platform carries the same hydra run and the same
near-misses. Run from this directory: python3 platforms.py"""
import json
import os
import re
from datetime import datetime, timezone

SRC = "login-bruteforce-pg"
LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC:([^:(]*)(?:\((\d+)\))?:([^@]*)@([^:]*):\[(\d+)\]:([A-Z]+):  (.*)$"
)


def records(path):
    """One dict a report: the RDS line's fields, its DETAIL attached."""
    out = []
    for raw in open(path, encoding="utf-8"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            raise SystemExit(f"{path}: not an RDS line: {raw!r}")
        time, host, port, user, db, pid, level, msg = m.groups()
        if level == "DETAIL":
            out[-1]["detail"] = msg
            continue
        code = "28P01" if msg.startswith("password authentication failed") else "00000"
        t = datetime.strptime(time, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
        out.append(dict(time=t, host=host, port=port, user=user, db=db, pid=pid,
                        level=level, msg=msg, code=code))
    # Sub-second times, as the platforms write them, keeping the order.
    seen = {}
    for r in out:
        n = seen.get(r["time"], 0)
        seen[r["time"]] = n + 1
        r["time"] = r["time"].replace(microsecond=n * 1000 + 17)
    return out


def files(part):
    base = os.path.join(SRC, part)
    for d, _, fs in os.walk(base):
        for f in fs:
            yield os.path.join(d, f)


def known(v):
    return v if v not in ("", "[unknown]") else None


def cnpg(recs):
    lines = []
    for i, r in enumerate(recs):
        rec = {"log_time": r["time"].strftime("%Y-%m-%d %H:%M:%S.") + f"{r['time'].microsecond // 1000:03d} UTC"}
        if known(r["user"]):
            rec["user_name"] = r["user"]
        if known(r["db"]):
            rec["database_name"] = r["db"]
        rec["process_id"] = r["pid"]
        if r["host"]:
            rec["connection_from"] = f"{r['host']}:{r['port']}" if r["port"] else r["host"]
        rec["session_id"] = f"6b0af627.{int(r['pid']):x}"
        rec["error_severity"] = r["level"]
        rec["sql_state_code"] = r["code"]
        logger = "postgres"
        if r["msg"].startswith("AUDIT: "):
            logger = "pgaudit"
            f = r["msg"][7:].split(",", 7)
            stmt = f[7].rsplit(",", 1)[0]
            rec["audit"] = dict(zip(
                ["audit_type", "statement_id", "substatement_id", "class", "command",
                 "object_type", "object_name"], f[:7]))
            rec["audit"]["statement"] = stmt
            rec["audit"]["parameter"] = "<not logged>"
        else:
            rec["message"] = r["msg"]
        if "detail" in r:
            rec["detail"] = r["detail"]
        rec["backend_type"] = "client backend"
        lines.append({"level": "info", "ts": r["time"].timestamp(), "logger": logger,
                      "msg": "record", "logging_pod": "shop-pg-1", "record": rec})
        if i % 50 == 0:
            lines.append({"level": "info", "ts": r["time"].timestamp(), "logger": "wal-archive",
                          "msg": "Backup not configured, skip WAL archiving",
                          "logging_pod": "shop-pg-1", "walName": "pg_wal/000000010000000000000003"})
    return "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines)


def cloudsql(recs):
    """Cloud Logging entries as a sink writes them to Cloud Storage: the line without its
    time (Cloud SQL's prefix `[%p]: [%l-1] db=%d,user=%u `), the time in the entry."""
    sev = {"LOG": "INFO", "FATAL": "ALERT", "ERROR": "ERROR", "DETAIL": "INFO"}
    lines, n = [], {}
    for i, r in enumerate(recs):
        n[r["pid"]] = n.get(r["pid"], 0) + 1
        db = r["db"] or "[unknown]"
        user = r["user"] or "[unknown]"
        parts = [(r["level"], r["msg"])]
        if "detail" in r:
            parts.append(("DETAIL", r["detail"]))
        for j, (level, msg) in enumerate(parts):
            ts = r["time"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            lines.append({
                "insertId": f"s=5e1f;i={i:x}{j}",
                "logName": "projects/shop-prod/logs/cloudsql.googleapis.com%2Fpostgres.log",
                "receiveTimestamp": ts,
                "resource": {"labels": {"database_id": "shop-prod:shop-postgres",
                                        "project_id": "shop-prod", "region": "europe"},
                             "type": "cloudsql_database"},
                "severity": sev.get(r["level"], "INFO"),
                "textPayload": f"[{r['pid']}]: [{n[r['pid']]}-1] db={db},user={user} {level}:  {msg}",
                "timestamp": ts})
    return "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines)


def azure(recs):
    """Azure Database for PostgreSQL Flexible Server records as diagnostic settings
    archive them to a storage account (PT1H.json: one record per line), the server's
    default prefix `%t-%c-` in `message`."""
    lines = []
    for r in recs:
        t = r["time"]
        stamp = t.strftime("%Y-%m-%d %H:%M:%S")
        sid = f"6b0af627.{int(r['pid']):x}"
        props = {"timestamp": t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} UTC",
                 "processId": int(r["pid"]), "errorLevel": r["level"], "sqlerrcode": r["code"],
                 "message": f"{stamp} UTC-{sid}-{r['level']}:  {r['msg']}"}
        if "detail" in r:
            props["detail"] = r["detail"]
        lines.append({"time": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
                      "resourceId": "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/SHOP/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/SHOP-PG",
                      "location": "westeurope", "category": "PostgreSQLLogs",
                      "operationName": "LogEvent", "properties": props})
    return "".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines)


def heroku(recs):
    """`heroku logs -p postgres` output: Logplex's time and process, the attachment,
    syslog's [report-chunk] and Heroku's prefix ` sql_error_code = %e `."""
    lines, n = [], {}
    for i, r in enumerate(recs):
        n[r["pid"]] = n.get(r["pid"], 0) + 1
        head = f"{r['time'].strftime('%Y-%m-%dT%H:%M:%S')}+00:00 app[postgres.{r['pid']}]: [DATABASE] [{n[r['pid']]}"
        lines.append(f"{head}-1]  sql_error_code = {r['code']} {r['level']}:  {r['msg']}")
        if "detail" in r:
            lines.append(f"{head}-2]  sql_error_code = {r['code']} DETAIL:  {r['detail']}")
        if i % 40 == 0:
            lines.append(f"{r['time'].strftime('%Y-%m-%dT%H:%M:%S')}+00:00 heroku[router]: at=info method=GET path=\"/\" host=shop.herokuapp.com status=200 bytes=512")
    return "".join(l + "\n" for l in lines)


def supabase_rows(recs):
    """Rows of Supabase's postgres_logs as its Management API returns them: the
    message in event_message, the report's csvlog columns in metadata[0].parsed[0]."""
    rows = []
    for i, r in enumerate(recs):
        t = r["time"]
        parsed = {"timestamp": t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} UTC",
                  "process_id": int(r["pid"]), "error_severity": r["level"],
                  "sql_state_code": r["code"], "session_id": f"6b0af627.{int(r['pid']):x}",
                  "backend_type": "client backend"}
        if known(r["user"]):
            parsed["user_name"] = r["user"]
        if known(r["db"]):
            parsed["database_name"] = r["db"]
        if r["host"]:
            parsed["connection_from"] = f"{r['host']}:{r['port']}" if r["port"] else r["host"]
        if "detail" in r:
            parsed["detail"] = r["detail"]
        rows.append({"id": f"6f1c2a4e-0000-4000-8000-{i:012d}",
                     "timestamp": int(t.timestamp() * 1_000_000),
                     "event_message": r["msg"], "metadata": [{"parsed": [parsed]}]})
    return rows


def supabase(recs):
    return json.dumps(supabase_rows(recs), indent=2) + "\n"


FORMATS = {"cnpg": (cnpg, "shop-pg-1.log"), "cloudsql": (cloudsql, "postgres.log.json"),
           "azure": (azure, "PT1H.json"), "heroku": (heroku, "shop-heroku.log"),
           "supabase": (supabase, "shop-supabase/postgres_logs.json")}


def main():
    for name, (render, out_name) in FORMATS.items():
        for part in ("attack", "benign"):
            recs = [r for f in sorted(files(part)) for r in records(f)]
            path = os.path.join(f"{name}-bruteforce", part, out_name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(render(recs))


if __name__ == "__main__":
    main()
