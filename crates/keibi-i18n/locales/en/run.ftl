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

# keibi run --worker (crates/keibi/src/cmd/run_worker.rs).
run-worker-no-stream = keibi run --worker reads a partitioned stream: name one in the settings file's stream section (stream.nats or stream.kinesis; docs/scaling.md)
run-worker-stream-unavailable = stream { $what }: { $reason }
run-worker-started = worker { $id } reading { $stream }; leases of { NUMBER($ttl, useGrouping: "false") } s renewed every { NUMBER($renew, useGrouping: "false") } s
worker-claimed = partition { $partition } claimed (lease epoch { NUMBER($epoch, useGrouping: "false") })
worker-released = partition { $partition } handed back after its last commit
worker-ended = partition { $partition } read to its end
worker-lost = lease { $lease } lost (not renewed in time, or taken over): its work stopped without a commit, and its new owner reads it again from the store's checkpoint
worker-rebalance = { NUMBER($owned, useGrouping: "false") } partitions held, over the fair share of { NUMBER($share, useGrouping: "false") } among { NUMBER($workers, useGrouping: "false") } workers: handing the newest back
worker-role-sender = notifications, responses, retention and the posture audit
worker-role-global = the detections across partitions
worker-role-started = this worker now runs { $role }
worker-role-stopped = this worker no longer runs { $role }
worker-role-failed = { $role } cannot start here: { $reason }
worker-partition-failed = partition { $partition } stopped: { $reason }; claimed again later
worker-store = the store cannot be used: { $reason } (leases held expire if this lasts)
worker-stream = the stream cannot be listed: { $reason }
