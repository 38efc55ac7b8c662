# The baselines (keibi-detect detectors/baseline): what is new about a login and
# what is usual (explain.rs), and the AnomalousBehavior.SuccessfulLogin finding.

org-unknown = unknown organisation
usual-none = none
usual-list = { $shown }
usual-more = { $shown } and { $more } more
hours-none = none
hours-any = any hour

day-0 = Monday
day-1 = Tuesday
day-2 = Wednesday
day-3 = Thursday
day-4 = Friday
day-5 = Saturday
day-6 = Sunday
day-short-0 = Mon
day-short-1 = Tue
day-short-2 = Wed
day-short-3 = Thu
day-short-4 = Fri
day-short-5 = Sat
day-short-6 = Sun
days-none = none
days-range = { $from }-{ $to }
days-list = { $days }

factor-source-asn = from AS{ $asn } { $at } ({ $org }) (usual: { $usual })
factor-source = from { $at } (usual: { $usual })
factor-country = in { $now } (usual: { $usual })
factor-app = with { $now } (usual: { $usual })
factor-auth = authenticated by { $now } (usual: { $usual })
factor-plaintext = without TLS (usual: TLS)
factor-hour = at { $at } (usual { $usual })
factor-weekday = on a { $day } (usual { $usual })
factor-region = in region { $now } (usual: { $usual })
factor-call = its first { $name } (usual sensitive calls: { $usual })

baseline-first-login = First login of { $user } { $factors }
baseline-login = Login of { $user } { $factors }
baseline-sentence = { $text }.
baseline-history = The profile of { $user } on { $instance } has { $logins } logins over { $days } days.
baseline-why-usual-network = The network is usual for this user: most likely the same person with a new tool or at a new time.
baseline-why-private = The address is private: the client is inside your network (a new application server, a VPN pool, or a compromised host).
baseline-why-failed-first = { $failed } failed logins from this address came first: a password was guessed or tried.
baseline-why-several = Several factors are new at once.
baseline-why-public = The address is on the public Internet.
baseline-ask = Ask { $user } whether this login was theirs. If not: end its sessions (pg_terminate_backend / KILL), change the password of { $user }, and review what the session did after the evidence lines.

# Activity habits (habits.rs): why an activity finding is Low (the user's routine) or
# at least Medium (not the routine).
habit-what-catalog = reads the system catalogs
habit-what-account = creates accounts
habit-what-role = changes roles and grants
habit-doing-catalog = reading the system catalogs
habit-doing-account = creating accounts
habit-doing-role = changing roles or grants
habit-nets-unknown = an unknown network
habit-usual = { $user } { $what } as a routine: on { $days } different days over { $span } days, from { $nets }, usually { $hours }. This is usual for { $user }, so the severity is Low.
habit-unusual = { $user } { $what } as a routine, but not like this: { $factors }. The severity is not lowered.
habit-never = { $user } has a known routine here ({ $logins } logins over { $span } days) but was never seen { $doing } before: this is not its routine.
