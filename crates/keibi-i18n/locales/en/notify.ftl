# Notifications (crates/keibi-notify): the words every channel shares. Attacker-
# written values ($by) arrive already on one line; each channel escapes them.

notify-test-prefix = [TEST]
notify-what = What
notify-where = Where
notify-who = Who
notify-when = When
notify-when-value = { $first } to { $last }
notify-count = Events
notify-severity = Severity
notify-description = What happened
notify-steps = What to do now
notify-link = Open in keibi
notify-id = Finding id
notify-change-new = New finding
notify-change-reopened = Reopened: activity came back after it was resolved
notify-change-raised = Severity rose from { $from } to { $to }
notify-change-still-going = Still going: { $n } events since { $since } ({ $more } more) from { $ips ->
    [one] one address
   *[other] { $ips } addresses
}
notify-change-resolved = Resolved
notify-change-resolved-by = Resolved by { $by }
notify-change-test = A test message from `keibi notify test`: nothing happened
notify-truncated = … (cut)

# N2: the chat channels (Slack, Teams, Chatwork): a digest of held notices and the
# daily summary.
notify-chat-digest-title = { $n ->
    [one] One notification
   *[other] { $n } notifications
} held back from { $from } to { $to }
notify-chat-more = …and { $n } more
notify-chat-summary-title = Open findings on { $at }: { $n }
notify-chat-summary-none = No open findings.

# N3: routing (`keibi notify routes`): why a route did not match, and what it does.
# Patterns, engines and values are the settings' and the finding's, one line each.
notify-miss-severity = severity { $was } is below { $at_least }
notify-miss-severity-label = severity { $was } is below { $label } ({ $at_least })
notify-miss-type = the type matches none of { $patterns }
notify-miss-resource = the resource matches none of { $patterns }
notify-miss-account = the account matches none of { $patterns }
notify-miss-no-account = the finding has no AWS account (the route wants { $patterns })
notify-miss-engine = the engine is not { $engines }
notify-miss-no-engine = the finding has no database engine (the route wants { $engines })
notify-routes-finding = { $id }: { $label } { $severity } { $type } on { $resource } ({ $status })
notify-routes-at = Routed as a new notice at { $at }, with what the notifier remembers (each route's last notice of this finding, the groups still waiting).
notify-routes-told = Last told on route { $route } at { $at } (severity { $severity }).
notify-routes-quiet = Quiet hours until { $until }: Low and Medium notices wait until then.
notify-routes-default = No routes are set: every channel hears of High and Critical findings.
notify-routes-miss = { $n }. { $name }: no match: { $why }
notify-routes-not-reached = { $n }. { $name }: not reached ({ $by } matched and does not continue)
notify-routes-throttled = { $n }. { $name }: matches, held back by its throttle until { $until }
notify-routes-match = { $n }. { $name }: matches
notify-routes-match-continue = { $n }. { $name }: matches, and the next routes are tried too
notify-routes-no-channels = no channels are set up
notify-routes-send-now = → { $channel }: now
notify-routes-send-later = → { $channel }: at { $at } ({ $why })
notify-routes-already = → { $channel }: already sent by an earlier route
notify-hold-group = group_wait
notify-hold-group-joined = group_wait, with the notices already waiting
notify-hold-quiet = quiet hours
notify-routes-nowhere = No route sends it anywhere: no channel would hear of this finding.
notify-routes-total = { $n ->
    [one] One channel would hear of it: { $channels }.
   *[other] { $n } channels would hear of it: { $channels }.
}

# Email (N4): the Subject and the digest and daily summary. $title and $label
# arrive on one line; the channel clips the Subject and escapes the HTML part.
notify-email-subject = [keibi] { $label } { $title }
notify-email-subject-resolved = [keibi] Resolved: { $title }
notify-email-digest-subject = [keibi] { $n ->
    [one] One notification
   *[other] { $n } notifications
} held back by the rate limit
notify-email-digest-intro = This channel's rate limit held back { $n ->
    [one] one notification
   *[other] { $n } notifications
} from { $from } to { $to }:
notify-email-summary-subject = [keibi] Daily summary: { $n ->
    [one] one open finding
   *[other] { $n } open findings
} ({ $critical } Critical, { $high } High)
notify-email-summary-intro = Open findings at { $at }: { $n }.
notify-email-col-finding = Finding
notify-email-col-change = Why
notify-email-more = … and { $n } more.

# N1: the notifier's log lines in `keibi run`, and `keibi notify test` / `status`.
# Channel names come from the settings; $error and $detail are a receiver's answer
# on one line (secrets left out).

notify-run-started = notifications: sending to { $n ->
    [one] one channel
   *[other] { $n } channels
} ({ $names })
notify-run-sent = notification sent to { $channel }: { $event } of finding { $id } ({ $detail })
notify-run-sent-digest = { $n } notifications sent to { $channel } as one message ({ $detail })
notify-run-sent-summary = daily summary sent to { $channel } ({ $detail })
notify-run-retry = notification to { $channel } not delivered ({ $error }); trying again at { $at }
notify-run-failed = notification to { $channel } failed and will not be retried: { $error }
notify-run-store = notifications: the store cannot be read or written ({ $reason }); trying again in a second
notify-run-cannot-start = notifications cannot start: { $reason }
notify-test-sent = Sent a test message to { $channel } ({ $kind }): { $detail }
notify-test-failed = Could not send a test message to { $channel } ({ $kind }): { $reason }
notify-test-unknown = no channel named { $channel } in { $file } (its channels: { $names })
notify-test-no-section = { $file } has no notify section with channels
notify-status-unrouted = { $n ->
    [one] One change is
   *[other] { $n } changes are
} not yet given to channels (keibi run is not running, or runs without notify settings)
notify-status-empty = The outbox is empty: nothing has been announced yet.
notify-status-pending = Pending
notify-status-failed = Failed
notify-col-channel = CHANNEL
notify-col-pending = PENDING
notify-col-failed = FAILED
notify-col-sent = SENT
notify-col-event = EVENT
notify-col-finding = FINDING
notify-col-attempts = TRIES
notify-col-next = NEXT TRY
notify-col-when = WHEN
notify-col-error = LAST ERROR

# Notices of actions (automated response): what keibi did, would do, waits to do,
# could not do or undid about a finding. $what is a notify-action-do-* (or did-*)
# phrase; $user, $instance, $resource, $principal, $key, $port, $cidr, $name and
# $by arrive on one line, written by whoever wrote the logs; each channel escapes
# them. $mode is simulate, approve or auto as the settings write it.
notify-action-simulated = Simulated: keibi would { $what } (nothing was changed)
notify-action-approval = Awaiting approval: keibi would { $what } — run keibi actions approve { $id }
notify-action-planned = Planned: keibi will { $what }
notify-action-executed = keibi { $what }
notify-action-executed-until = keibi { $what } until { $until }
notify-action-failed = Failed: keibi could not { $what }
notify-action-undoing = Undoing: keibi is reverting what it did ({ $what })
notify-action-undone = Undone by { $by }: keibi reverted what it did ({ $what })
notify-action-expired = Expired: keibi reverted what it did ({ $what }) at its expiry
notify-action-skipped = Skipped: keibi did not { $what }
notify-action-cancelled = Cancelled by { $by }: keibi will not { $what }
notify-action-placed = { $what } at { $where }
notify-action-for = { $what } for { $instance }
notify-action-where-host = this host's firewall (nftables)
notify-action-where-nacl = the network ACL of { $instance }
notify-action-where-nacls = the configured network ACLs
notify-action-do-block = block { $address }
notify-action-did-block = blocked { $address }
notify-action-do-lock = lock role { $user } on { $instance }
notify-action-did-lock = locked role { $user } on { $instance }
notify-action-do-end = end the sessions of { $user } on { $instance }
notify-action-did-end = ended the sessions of { $user } on { $instance }
notify-action-do-end-from = end the sessions of { $user } from { $address } on { $instance }
notify-action-did-end-from = ended the sessions of { $user } from { $address } on { $instance }
notify-action-do-close = make { $resource } private
notify-action-did-close = made { $resource } private
notify-action-do-revoke = remove the rule of { $resource } that opens port { $port } to { $cidr }
notify-action-did-revoke = removed the rule of { $resource } that opened port { $port } to { $cidr }
notify-action-do-deactivate-key = deactivate access key { $key } of { $principal }
notify-action-did-deactivate-key = deactivated access key { $key } of { $principal }
notify-action-do-revoke-sessions = revoke the sessions of { $principal }
notify-action-did-revoke-sessions = revoked the sessions of { $principal }
notify-action-do-restore-logging = turn logging of trail { $resource } back on
notify-action-did-restore-logging = turned logging of trail { $resource } back on
notify-action-do-webhook = send the finding to webhook { $name }
notify-action-did-webhook = sent the finding to webhook { $name }
notify-action-do-exec = run command { $name } with the finding
notify-action-did-exec = ran command { $name } with the finding
notify-action = Action
notify-action-id-value = { $id } (rule { $rule }, mode { $mode })
notify-action-reason = Reason
notify-action-step-approve = Approve it: keibi actions approve { $id }
notify-action-step-cancel = Or cancel it: keibi actions cancel { $id }
notify-action-step-undo = Undo it: keibi actions undo { $id }
notify-action-step-show = Its details and history: keibi actions show { $id }
notify-email-subject-action = [keibi] { $title }
