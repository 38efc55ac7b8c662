# keibi audit's table, summary and messages (crates/keibi/src/output/posture.rs,
# crates/keibi/src/cmd/audit.rs) and keibi run's scheduled audit.

audit-none-failed = No check failed.
audit-fix = fix: { $fix }
audit-suppressed-heading = Suppressed (accepted failures, not counted as failed):
audit-col-area = AREA
audit-col-controls-passed = CONTROLS PASSED
audit-col-controls-failed = FAILED
audit-col-suppressed = SUPPRESSED
audit-col-checks-passed = CHECKS PASSED
audit-col-checks-failed = FAILED
audit-col-score = SCORE
audit-col-control = CONTROL
audit-total = Total
audit-score = Score: { $score } ({ $passed } of { $total ->
    [one] { $total } control
   *[other] { $total } controls
} passed{ $suppressed ->
    [0] {""}
    [one] ; { $suppressed } check suppressed
   *[other] ; { $suppressed } checks suppressed
})
audit-score-none = Score: - (no control was evaluated)
audit-controls-count = { $n ->
    [one] { $n } control
   *[other] { $n } controls
}
audit-nothing = nothing to audit: give --aws, --aws-json PATH, --pg URL or --mysql URL, or --config FILE with an audit section
audit-closing = audit: { $failed } failed, { $passed } passed, { $suppressed } suppressed checks; score { $score }; { $problems ->
    [one] { $problems } problem
   *[other] { $problems } problems
}

# keibi run's scheduled audit (its log lines).
audit-run-done = posture audit: { $failed } failed, { $passed } passed, { $suppressed } suppressed checks; { $new } new, { $resolved } resolved, { $reopened } reopened findings; { $problems ->
    [one] { $problems } problem
   *[other] { $problems } problems
}
audit-run-problem = posture audit: { $problem }
audit-run-failed = posture audit could not be stored: { $error }
