# keibi actions: the response journal on the command line (crates/keibi/src/cmd/actions.rs).
# Names, addresses, ARNs and reasons come escaped; never translate them.

act-no-store = { $path }: no store here (keibi run writes the journal into its store; or give --store FILE)
act-not-found = no action with an id starting with { $id }
act-bad-state = { $value } is not a state; one of { $states }
act-bad-by = --by: a name of at most 200 characters, without control characters
act-bad-wait = --wait { $value }: a duration such as 30s, 2m or 1h

act-col-id = ID
act-col-state = STATE
act-col-mode = MODE
act-col-action = ACTION
act-col-target = TARGET
act-col-finding = FINDING TYPE
act-col-rule = RULE
act-col-updated = UPDATED
act-col-expires = EXPIRES
act-none = No actions.
act-count = { $n ->
    [one] 1 action
   *[other] { $n } actions
}
act-paused-banner = PAUSED by { $by } since { $at }: keibi run plans and records actions but changes nothing until `keibi actions resume`.
act-paused-banner-reason = PAUSED by { $by } since { $at } ({ $reason }): keibi run plans and records actions but changes nothing until `keibi actions resume`.

act-state-planned = planned
act-state-approved = approved
act-state-executing = executing
act-state-executed = executed
act-state-failed = failed
act-state-undoing = undoing
act-state-undone = undone
act-state-expired = expired
act-state-simulated = simulated
act-state-skipped = skipped
act-state-cancelled = cancelled

act-mode-simulate = simulate
act-mode-approve = approve
act-mode-auto = auto

act-kind-block_address = block address
act-kind-lock_role = lock role
act-kind-end_sessions = end sessions
act-kind-close_public_access = close public access
act-kind-revoke_ingress = revoke ingress
act-kind-contain_principal = contain principal
act-kind-restore_logging = restore logging
act-kind-webhook = webhook
act-kind-exec = run command

act-target-address = { $address }
act-target-address-on = { $address } for { $instance }
act-target-role = role { $user } on { $instance }
act-target-sessions = sessions of { $user } on { $instance }
act-target-sessions-from = sessions of { $user } on { $instance } from { $address }
act-target-resource = { $kind } { $resource }
act-target-ingress = { $cidr } to port { $port } in { $resource }
act-target-principal = { $principal }
act-target-principal-key = access key { $key } of { $principal }
act-target-webhook = webhook { $name }
act-target-exec = command { $name }
act-target-place = account { $account }, region { $region }

act-label-action = Action
act-label-state = State
act-label-mode = Mode
act-label-target = Target
act-label-where = Where
act-label-finding = Finding
act-label-rule = Rule
act-label-reason = Reason
act-label-executor = Executor
act-label-attempts = Attempts
act-label-created = Created
act-label-updated = Updated
act-label-next = Next try
act-label-expires = Expires
act-label-expire-after = In force for
act-label-by = By
act-label-prior = Before
act-label-done = Done
act-history = History:
act-history-first = { $at }  { $to }, by { $by }
act-history-move = { $at }  { $from } → { $to }, by { $by }
act-never = never

act-approved = Approved { $id } ({ $action }: { $target }); keibi run executes it next.
act-cancelled = Cancelled { $id } ({ $action }: { $target }).
act-undo-requested = Undo of { $id } ({ $action }: { $target }) requested by { $by }: the daemon (keibi run) performs it and records the result; `keibi actions show { $id }` follows it.
act-still-paused = Responses are paused: nothing runs until `keibi actions resume`.
act-undo-waiting = Waiting up to { $wait } for keibi run …
act-undo-done = { $id } is undone.
act-undo-ended = { $id } is { $state }: { $reason }
act-undo-timeout = { $id } is still { $state } after { $wait }: is keibi run running with this store?

act-refused-approve = { $id } is { $state } in mode { $mode }: only an action planned in mode approve can be approved
act-refused-cancel = { $id } is { $state }: only a planned or approved action can be cancelled
act-refused-undo = { $id } is { $state }: only an executed action can be undone
act-refused-undoable = { $id } cannot be undone: { $action } is not undoable (ended sessions stay ended, a message stays sent, logging stays on)
act-refused-moved = { $id } moved on meanwhile (now { $state }): nothing changed

act-paused = Responses paused by { $by }: keibi run plans and records actions but executes none until `keibi actions resume`.
act-already-paused = Responses were already paused by { $by } since { $at }.
act-resumed = Responses resumed by { $by }: keibi run executes due actions again.
act-not-paused = Responses were not paused.
