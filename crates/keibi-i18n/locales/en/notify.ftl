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
