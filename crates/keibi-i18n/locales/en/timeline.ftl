# keibi timeline (crates/keibi/src/cmd/timeline.rs): the table's columns, the
# kinds of activity, and the lines said on standard error.

tl-col-time = TIME
tl-col-kind = WHAT
tl-col-count = COUNT
tl-col-address = ADDRESS
tl-col-who = USER
tl-col-resource = RESOURCE
tl-col-what = DETAIL

tl-kind-login_ok = login
tl-kind-login_failed = login failed
tl-kind-probe = probe
tl-kind-disconnect = disconnect
tl-kind-statement = statement
tl-kind-error = error
tl-kind-api_call = API call
# A moment of a finding: $what is a history word (new, resolved ...).
tl-kind-finding = finding { $what }
tl-finding-line = [{ $severity }] { $title } ({ $id })

tl-none = keibi: nothing for these actors in this window
tl-cut = keibi: only the first { NUMBER($limit, useGrouping: "false") } lines are shown; narrow the window or raise --limit
tl-dropped = keibi: { $n } events of these days were not kept (over a commit's cap), so some activity may be missing
tl-no-actor = keibi timeline: name an address (--ip), a user (--user) or a principal (--principal), or a finding (--around)
tl-too-many = keibi timeline: at most { $max } addresses, users and principals each
tl-window = keibi timeline: --until is before --since
tl-around-needs-store = keibi timeline: --around reads the finding from a store: give --store with the files
tl-nothing-read = keibi timeline: nothing could be read from the files given
