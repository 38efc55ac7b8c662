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
