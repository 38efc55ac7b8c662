# The dashboard's pages (keibi-server, issue 19): navigation, labels, workflow
# messages. Values from logs are never part of a message's pattern: they are
# arguments, escaped by the page.

dash-nav-overview = Overview
dash-nav-findings = Findings
dash-nav-suppressions = Suppressions
dash-logout = Log out
dash-nav-settings = Settings
dash-skip = Skip to content
dash-signed-in = { $user } ({ $role })
dash-role-viewer = viewer
dash-role-responder = responder
dash-role-admin = admin
dash-live-new = Findings changed since this page was loaded: %n
dash-live-reload = Reload
dash-none = None.
dash-any = Any
dash-never = Never

## Severity and status

dash-sev-critical = Critical
dash-sev-high = High
dash-sev-medium = Medium
dash-sev-low = Low
dash-sev-high-up = High and above
dash-sev-medium-up = Medium and above
dash-sev-low-up = Low and above
dash-status-new = New
dash-status-acknowledged = Acknowledged
dash-status-resolved = Resolved
dash-status-suppressed = Suppressed
dash-status-open = Open (new or acknowledged)
dash-status-by = by { $by } at { $at }
dash-status-note = : { $v }

## Overview

dash-open-findings = Open findings by severity
dash-chart-title = Findings over the last 30 days
dash-chart-label = Bar chart: findings first seen per day over the last 30 days, stacked by severity
dash-top-ips = Top source addresses
dash-top-users = Most targeted users and principals
dash-top-resources = Most targeted resources
dash-posture = Posture
dash-posture-line = { $failing ->
    [one] { $failing } check failing now
   *[other] { $failing } checks failing now
}; { $passing ->
    [one] { $passing } check that failed passes now
   *[other] { $passing } checks that failed pass now
} ({ $rate }% of the checks that ever failed).
dash-posture-note = From the audit's findings in the store: checks that always passed leave no finding, so this line is not a pass rate over every check (the last audit's line above is, when keibi run audits on a schedule).
dash-posture-rate = Last audit { $at }: { $passed } of { $checks } checks pass ({ $rate }%); { $suppressed } suppressed by the settings.
dash-posture-none = No posture findings in the store (run keibi audit, or the daemon's scheduled audit).
dash-sources = Sources
dash-sources-none = No source has been read into this store yet.
dash-sources-note = From the checkpoints: the position is the source's own (bytes, records); the time is when the daemon last committed it.
dash-col-source = Source
dash-col-position = Position
dash-col-read-at = Last read
dash-col-lag = Since

## Findings list

dash-col-severity = Severity
dash-col-title = Finding
dash-col-type = Type
dash-col-resource = Resource
dash-col-actor = Actor
dash-col-status = Status
dash-col-count = Count
dash-col-last-seen = Last seen
dash-f-severity = Severity at least
dash-f-account = Account
dash-f-ip = Address
dash-f-user = User or principal
dash-f-since = Last seen within
dash-f-until = Last seen until
dash-f-sort = Sort by
dash-f-apply = Apply
dash-f-clear = Clear
dash-f-saved = This page's address keeps the filter: bookmark it to save it.
dash-since-1h = 1 hour
dash-since-24h = 24 hours
dash-since-7d = 7 days
dash-since-30d = 30 days
dash-sort-severity = Severity
dash-sort-last-seen = Last seen
dash-sort-first-seen = First seen
dash-sort-count = Count
dash-showing = { $from }–{ $to } of { $total ->
    [one] { $total } finding
   *[other] { $total } findings
}
dash-no-findings = No findings match.
dash-pages = Pages
dash-prev = Previous
dash-next = Next

## A finding

dash-first-seen = First seen
dash-app = Client
dash-detector = Detector
dash-explanation = What happened
dash-remediation = Remediation
dash-workflow = Workflow
dash-note = Note
dash-note-optional = Note (optional)
dash-do-acknowledge = Acknowledge
dash-do-resolve = Resolve
dash-do-reopen = Reopen
dash-do-note = Add note
dash-do-suppress = Suppress findings like this…
dash-do-approve = Approve
dash-do-cancel = Cancel
dash-do-delete = Delete
dash-evidence = Evidence
dash-evidence-note = Where the events are: the log file and line, or the CloudTrail event ID. The store keeps only these references; for the first ten, the line itself is read from the log file when the file belongs to this keibi's configured sources and is still there.
dash-timeline = Timeline
dash-tl-window = What the same addresses, users and principals did from { $from } to { $to }, in database logs and CloudTrail, with the findings' history between.
dash-tl-no-actor = This has no address, user or principal to follow.
dash-tl-empty = Nothing stored for them in this window (the timeline is kept by keibi run from the logs it reads).
dash-tl-detail = Where
dash-tl-error-code = error { $v }
dash-tl-cut = Only the first { $n } entries are shown.
dash-tl-dropped = { $n ->
    [one] { $n } event of these days was not kept (a batch over its cap): the window may be incomplete.
   *[other] { $n } events of these days were not kept (batches over their cap): the window may be incomplete.
}
dash-tl-login_ok = Login
dash-tl-login_failed = Failed login
dash-tl-probe = Connection without login
dash-tl-disconnect = Disconnect
dash-tl-statement = Statement
dash-tl-error = Error
dash-tl-api_call = AWS API call
dash-actions = Response actions
dash-action = Action
dash-target = Target
dash-decide = Decision
dash-mode = Mode
dash-rule = Rule
dash-updated = Updated
dash-history = History
dash-when = When
dash-what = What
dash-by = By
dash-hist-new = Detected
dash-hist-grew = More activity
dash-hist-severity_raised = Severity raised
dash-hist-closed = Closed
dash-hist-reopened = Reopened
dash-hist-acknowledged = Acknowledged
dash-hist-resolved = Resolved
dash-hist-suppressed = Suppressed
dash-hist-unsuppressed = Unsuppressed
dash-hist-note = Note

## After a change

dash-done-acknowledged = Acknowledged.
dash-done-resolved = Resolved.
dash-done-reopened = Reopened.
dash-done-noted = Note added.
dash-done-suppressed = Suppression rule created.
dash-done-unsuppressed = Suppression rule deleted; the findings it held are open again.
dash-done-approved = Action approved: the responder executes it next.
dash-done-cancelled = Action cancelled.
dash-done-moved = The action changed meanwhile; nothing was done.

## Actors

dash-actor-ip = Source address
dash-actor-user = Database user
dash-actor-principal = IAM principal
dash-actor-count = { $n ->
    [one] { $n } finding
   *[other] { $n } findings
} (the latest 100 shown)
dash-actor-all = All in the findings list
dash-reputation = Reputation
dash-rep-none = On no list keibi knows of.
dash-rep-tor = A Tor exit node (a finding says so)
dash-rep-threat = On a threat list (a finding says so)
dash-rep-daemon = From the lists the daemon loaded.
dash-rep-store-only = From this address's findings in the store only: the daemon's loaded lists are not consulted here.
dash-profile = Profile
dash-profile-none = No stored profile: the baselines have not learned this user (or the store is not the daemon's).
dash-profile-login = Logins to { $v }
dash-profile-principal = AWS activity
dash-profile-nets = Usual networks
dash-profile-apps = Usual clients
dash-profile-countries = Countries
dash-profile-regions = Regions
dash-profile-calls = Usual API calls
dash-profile-hours = Usual hours (display zone)
dash-profile-events = Events learned from
dash-net-local = the database host itself

## Suppressions

dash-rule-new = New suppression rule
dash-rule-from = Filled from the finding
dash-rule-network = Network
dash-rule-expires = Expires
dash-rule-reason = Reason
dash-rule-help = Every field given must match; leave a field empty to match any. A network matches a finding only when all its addresses are inside it, a user only when it is the finding's only user.
dash-rule-fixed = (exactly as in the finding: it holds invisible or direction-changing characters, shown as escapes)
dash-rules = Rules
dash-expired = expired
dash-exp-1d = 1 day
dash-exp-7d = 7 days
dash-exp-30d = 30 days
dash-exp-90d = 90 days

## Settings

dash-settings-read-only = Read only: change the settings file and restart the daemon. Secrets are not shown.
dash-store = Store
dash-zone = Display time zone
dash-lists = Lists loaded
dash-list-name = List
dash-list-entries = Entries
dash-list-source = From
dash-list-loaded = Loaded
dash-configuration = Configuration
dash-not-given = Not given to the dashboard (keibi dashboard over a store alone does not know it).
