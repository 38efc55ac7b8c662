# The baselines' other findings (keibi-detect detectors/baseline): a principal's
# sensitive AWS call from a new place or tool (Impact:IAMUser/AnomalousBehavior,
# principal.rs) and an instance's failed logins far above their usual volume
# (CredentialAccess:RDS/AnomalousBehavior.FailedLogin, logins.rs).

## Impact:IAMUser/AnomalousBehavior

principal-call = { $call } by { $arn } { $factors }
principal-history = The profile of { $principal } has { $calls } calls over { $days } days.
principal-why-located = A destructive or exposing call from somewhere this principal never worked from: its credentials may be in someone else's hands.
principal-why-tool = The network is usual for this principal, the tool is not.
principal-confirm = Confirm with the owner of { $principal } that they made this call.
principal-contain = If not: disable its access keys or revoke the role's sessions, review its other calls in CloudTrail, and restore or close what it changed.

## CredentialAccess:RDS/AnomalousBehavior.FailedLogin

failed-volume-title = { $count } failed logins at { $instance }, far above its usual volume
failed-volume = { $count } failed logins at { $instance } from { $first } to { $last }, from { $ips } addresses against { $users } users{ $usual }.
failed-volume-usual = {" "}(usual: at most { $max } in an hour, from { $sources }){ $new }
failed-volume-new = ; { $n } of these failures came from networks never seen failing here
failed-volume-block = Find who is trying: if the addresses are not yours, block them (security group, pg_hba.conf, firewall) and check whether any of the users they tried logged in successfully afterwards.
