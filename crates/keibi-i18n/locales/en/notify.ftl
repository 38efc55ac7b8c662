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

# N1: the notifier's log lines in `keibi run`, and `keibi notify test` / `status`.
# Channel names come from the settings; $error and $detail are a receiver's answer
# on one line (secrets left out).

notify-run-started = notifications: sending to { $n ->
    [one] one channel
   *[other] { $n } channels
} ({ $names })
notify-run-sent = notification sent to { $channel }: { $event } of finding { $id } ({ $detail })
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
