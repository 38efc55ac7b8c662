# The binary's findings table and summary (crates/keibi/src/output/findings.rs).

col-status = STATUS
col-severity = SEVERITY
col-count = COUNT
col-type = TYPE
col-actor = ACTOR
col-resource = RESOURCE
col-seen = SEEN
col-title = TITLE

actor-addresses = { $n } addresses
actor-users = { $n } users

severity-critical = Critical
severity-high = High
severity-medium = Medium
severity-low = Low

summary-none = no findings
summary = { $total ->
    [one] { $total } finding
   *[other] { $total } findings
}: { $parts }
summary-part = { $n } { $label }

# Workflow status words of stored findings (keibi findings list).
status-new = new
status-acknowledged = acknowledged
status-resolved = resolved
status-suppressed = suppressed
