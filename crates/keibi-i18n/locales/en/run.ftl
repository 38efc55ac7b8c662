# keibi run's log lines (crates/keibi/src/cmd/run.rs): the text after `keibi: LEVEL:`
# and the `msg` of a JSON log line (its other keys are machine fields and stay).

run-level-warn = warn
run-level-error = error
run-serving = serving http://{ $at }/metrics and /healthz
run-not-loopback = { $at } is not a loopback address: other machines can read /metrics and /healthz
run-listen-not-loopback = { $key }: { $at } is not a loopback address: other machines can send logs to it
run-store = store { $path }
run-no-reload = SIGHUP: no settings file to reload (--config)
run-reload-later = reload: sources, detection, rules, store, server and log take effect at the next start
run-reload-keeping = reload: keeping the old settings: { $reason }
run-reload-problem = reload: { $problem }
run-reload-kept = reload: keeping the old settings
run-store-failed = { $reason }; stopped: the store keeps everything committed before, and the next start reads the rest again
run-profiles-written = { NUMBER($n, useGrouping: "false") } profiles written to { $path }
run-stopped = stopped; everything read is committed
run-following = following { $what }
run-resumed = { NUMBER($n, useGrouping: "false") } file checkpoints in the store
run-retention = retention: { NUMBER($findings, useGrouping: "false") } findings and { NUMBER($history, useGrouping: "false") } history entries unchanged since { $cutoff } deleted; store { NUMBER($bytes, useGrouping: "false") } bytes ({ NUMBER($stored, useGrouping: "false") } findings){ $export }
run-retention-export = {", "}exported to { $path }
run-retention-failed = retention: nothing deleted, tried again at the next pass: { $reason }
run-global = second stage: finding changes read { NUMBER($read, useGrouping: "false") }, addresses and principals judged { NUMBER($keys, useGrouping: "false") }, global findings new or grown { NUMBER($found, useGrouping: "false") }
run-global-failed = second stage: nothing committed, tried again at the next round: { $reason }
run-profiles = { NUMBER($n, useGrouping: "false") } behavioural profiles in the store
run-profiles-skipped = { NUMBER($n, useGrouping: "false") } stored profiles could not be read (skipped)
run-finding = finding { $what }: { $label } { $severity } { $type } { $id } { $title }
run-finding-new = new
run-finding-reopened = reopened
run-finding-raised = severity raised
run-finding-changed = changed
run-reading = reading { $file } as { $format }
run-stopping = stopping: committing what was read
run-reloaded = settings and lists reloaded
run-store-back = the store takes writes again: the held batch is committed
run-held = { $reason }; the batch is held (nothing is read meanwhile, no checkpoint moves) and tried again in { NUMBER($secs, useGrouping: "false") } s
run-ended = every source has ended
run-no-sources = nothing to follow: give paths, or sources in the settings file
respond-run-started = responses: on ({ $rules ->
    [one] one rule
   *[other] { $rules } rules
  }; { $n ->
    [0] no executor: every action is recorded, none can run
    [one] executor { $names }
   *[other] executors { $names }
  })
respond-run-planned-why = action { $id }: { $what } — { $state } (rule { $rule }): { $reason }
respond-run-cannot-start = responses cannot start: { $reason }
respond-run-planned = action { $id }: { $what } — { $state } (rule { $rule })
respond-run-moved = action { $id }: { $what } — { $from } → { $to }
respond-run-moved-why = action { $id }: { $what } — { $from } → { $to }: { $detail }
respond-run-store = responses: the store refused a step ({ $reason }); trying again
