# CloudTrail findings (keibi-detect detectors/cloudtrail): exposures, snapshots shared
# or deleted, logging and detection turned off, denied bursts, listed addresses.
# English is the contract's language: these render exactly as keibi always wrote them.

## Shared

ct-item = { $v }
ct-none = -
ct-list-more = { $list } and { $more } more
ct-origin = from { $ip } ({ $ua }) of account { $account }
ct-origin-region = from { $ip } ({ $ua }) in { $region } of account { $account }
ct-figures = { $count } call(s) between { $first } and { $last }; source addresses: { $ips }.
ct-revoke-ask = Ask the person behind the principal whether they did it; if not, revoke its keys or sessions.
ct-revoke-ask-review = Ask the person behind the principal whether they did it; if not, revoke its keys or sessions and review everything it did.

## Recon:IAMUser/MaliciousIPCaller and TorIPCaller

ct-what-tor = a Tor exit node
ct-what-threat = an address on a threat list
ct-rep-title = AWS API calls from { $what } ({ $ip }) by { $who }
ct-rep-called = { $who } called { $api } ({ $service }) { $origin }; { $ip } is { $what } (list { $list }).
ct-rep-nobody = Nobody in your team should reach AWS through such an address.
ct-rep-stolen = Treat the principal's credentials as stolen: deactivate its access keys or revoke its role sessions (IAM > Roles > Revoke active sessions), rotate them, and review every call listed in the evidence, failed ones included.

## Discovery:IAMUser/AccessDeniedBurst

ct-denied-title = Burst of denied AWS API calls by { $who }
ct-denied = { $who } was refused at least { $calls } times across { $apis } different APIs ({ $shown }) within { $secs } s, { $origin }.
ct-denied-why = Trying many APIs and being refused is what enumerating a stolen key's permissions looks like.
ct-denied-ask = Ask the owner of the principal what it was doing.
ct-denied-stolen = If nobody knows, treat its credentials as stolen: deactivate its access keys or revoke its role sessions, rotate them, and look at the calls that succeeded from the same addresses.

## Stealth:RDS/ProtectionWeakened: snapshots deleted in bulk

ct-deleted-title = RDS snapshots deleted in bulk by { $who }
ct-deleted = { $who } deleted at least { $n } RDS snapshots within { $secs } s ({ $shown }) { $origin }.
ct-deleted-why = Deleting the backups first is how ransom and sabotage attacks make sure nothing can be restored.
ct-deleted-ask = Ask the owner of the principal whether this is a planned clean-up.
ct-deleted-protect = If not, revoke its keys or sessions at once, check which snapshots and automated backups remain (aws rds describe-db-snapshots), copy the newest to another account, and turn on deletion protection for the databases.

## Stealth:RDS/ProtectionWeakened: logging parameters turned off

ct-param-title = Database logging turned off in parameter group { $group } by { $who }
ct-param = { $who } called { $api } on parameter group { $group } { $origin }: { $changes }.
ct-param-why = Every database using the group stops logging connections or audit records, so logins and queries after this go unseen.
ct-param-set = { $name }={ $value }
ct-param-reset = { $name } reset to default
ct-param-reset-all = all parameters reset to defaults
ct-param-ask = Ask the database owner whether this was planned.
ct-param-restore = If not, set the parameters back (log_connections=1, pgaudit.log to your audit classes, server_audit_logging=1), revoke the principal's keys or sessions, and review what the databases logged just before the change.

## Exfiltration:RDS/SnapshotSharedExternally

ct-label-snapshot = snapshot
ct-label-cluster-snapshot = cluster snapshot
ct-shared-title = RDS { $label } { $snapshot } shared with account { $accounts } by { $who }
ct-shared = { $who } let account(s) { $accounts } restore RDS { $label } { $snapshot } ({ $api }) { $origin }.
ct-shared-why = Those accounts are not yours, trusted (--trusted-account) or in your organization (cloudtrail.org_accounts): they can copy the whole database.
ct-shared-remove = If the share is not a planned migration or backup, remove it now (aws rds modify-db-snapshot-attribute --attribute-name restore --values-to-remove <account>, or modify-db-cluster-snapshot-attribute), revoke the principal's keys or sessions, and treat the data as copied.
ct-shared-remove-cluster = If the share is not a planned migration or backup, remove it now (aws rds modify-db-snapshot-attribute --attribute-name restore --values-to-remove <account>, or modify-db-cluster-snapshot-attribute), revoke the principal's keys or sessions, and treat the data as copied.
ct-shared-yours = If the account is one of yours, add it to cloudtrail.org_accounts or --trusted-account.

## Stealth:IAMUser/CloudTrailLoggingDisabled: event selectors

ct-selectors-title = Trail { $trail } no longer records management events (by { $who })
ct-selectors = { $who } called PutEventSelectors on trail { $trail } { $origin }, leaving no selector that records management write events.
ct-selectors-why = The trail still looks enabled, but changes to the account (IAM, RDS, security groups) are no longer recorded.
ct-selectors-restore = Restore the selectors (aws cloudtrail put-event-selectors --trail-name <trail> with IncludeManagementEvents=true and ReadWriteType=All).

## Stealth:IAMUser/DetectionDisabled: GuardDuty RDS protection

ct-guardduty-title = GuardDuty RDS login monitoring turned off by { $who }
ct-guardduty = { $who } turned off the RDS_LOGIN_EVENTS feature of GuardDuty detector { $detector } { $origin }: GuardDuty no longer watches database logins in this account and region.
ct-guardduty-restore = Turn it back on (aws guardduty update-detector --detector-id <id> --features Name=RDS_LOGIN_EVENTS,Status=ENABLED).

## Policy:EC2/DatabasePortOpenToInternet

ct-label-sg = Security group
ct-label-sg-lower = security group
ct-label-acl = Network ACL
ct-label-acl-lower = network acl
ct-port = port { $port }
ct-port-all = all ports
ct-port-range = ports { $from }-{ $to } ({ $ports })
ct-port-from = { $port } from { $cidr }
ct-open-title = { $label } { $resource } opens { $port } to { $cidr } (by { $who })
ct-open = { $who } called { $api } on { $label } { $resource } { $origin }, allowing inbound { $rules }.
ct-open-why = A database listening there can now be reached by every scanner on the internet.
ct-open-remove-sg = If nobody meant to open it, remove the rule now (aws ec2 revoke-security-group-ingress, or replace the ACL entry) and allow only your application's security group or office/VPN ranges.
ct-open-remove-acl = If nobody meant to open it, remove the rule now (aws ec2 revoke-security-group-ingress, or replace the ACL entry) and allow only your application's security group or office/VPN ranges.
ct-open-check = Then check the databases behind it for logins from unknown addresses since the change.

## Discovery:IAMUser/AccessDeniedBurst on one sensitive API

ct-denied-one = { $who } was refused at least { $calls } times calling { $shown }, an API that hands out secrets or power, within { $secs } s, { $origin }.
ct-denied-one-why = Asking one such API again and again while refused (GetPasswordData on every instance, GetSecretValue on every secret) is what probing a stolen key for a way to secrets looks like; an application missing a permission fails a few times, not dozens.

## CredentialAccess:IAMUser/ConsoleBruteForce and ConsoleBruteForce.SuccessfulLogin

ct-console-bf-title-ip = AWS console brute force from { $ip } on account { $account }
ct-console-bf-title-user = AWS console brute force against { $user } on account { $account }
ct-console-bf-ip = { $ip } failed to sign in to the AWS console of account { $account } { $n } times within { $min } min.
ct-console-bf-user = Sign-ins to the AWS console of account { $account } as { $user } failed { $n } times within { $min } min.
ct-console-bf-why = A person who mistypes a password fails once or twice and then signs in; this many failures is someone guessing.
ct-console-bf-mfa = Make sure every console user, and the root user, has an MFA device (IAM > Users > Security credentials > Assign MFA device), and block the address if it is not yours.
ct-console-bf-watch = Watch for a successful sign-in from the same address or as the same user: keibi reports it as a takeover.
ct-console-takeover-title = { $user } signed in to the AWS console of account { $account } from { $ip } after a brute force
ct-console-takeover = { $user } signed in to the AWS console of account { $account } after { $n } failed sign-ins within { $min } min, { $origin }.
ct-console-takeover-mfa = The sign-in used MFA: the attacker may hold the MFA device too, or the failures and the success are not the same person; ask the user now.
ct-console-takeover-nomfa = The sign-in used no MFA: the guessed password was all it took.
ct-console-takeover-elsewhere = The sign-in came from none of the addresses the failures came from: it may be the user, not whoever failed; ask the user.
ct-console-takeover-reset-root = Sign in as root yourself, change the root password, replace its MFA device and delete any root access keys (account menu > Security credentials); if you cannot sign in, use AWS's account recovery at once.
ct-console-takeover-reset = Reset the user's console password (aws iam update-login-profile --user-name <user> --password-reset-required), require MFA, and deactivate the user's access keys until you know.
ct-console-takeover-review = Review everything the session did after the sign-in (CloudTrail, this principal, from this time): new users, keys, policies and roles are how an attacker stays.

## AttackSequence:IAM/CompromisedCredentials

ct-seq-title = Account { $account } taken over: { $user } signed in after a brute force, then made { $n } IAM change(s)
ct-seq = { $user } signed in to the AWS console of account { $account } from { $ip } after { $failures } failed sign-ins, and within { $min } min made { $n } change(s) that keep or widen access: { $steps }.
ct-seq-why = Guess the password, then add a way back in that survives a password reset: this is how an account takeover goes, and the steps above are one story, not separate events.
ct-seq-lock-root = Secure the root user now: change its password, replace its MFA device and delete any root access keys; if you cannot sign in, use AWS's account recovery.
ct-seq-lock-user = Lock the taken-over user now: delete its console password, deactivate its access keys and require MFA.
ct-seq-undo = Undo every step listed: delete the users, access keys and console passwords it made, detach the policies, restore the trust policies.
ct-seq-db = An IAM admin owns every database of the account: rotate the databases' master passwords and check their logs for logins since the sign-in.

## PrivilegeEscalation:IAMUser/AdminPolicyAttached

ct-admin-user = user
ct-admin-role = role
ct-admin-group = group
ct-admin-title = { $policy } given to { $kind } { $name } by { $who }
ct-admin = { $who } gave { $kind } { $name } { $policy } ({ $api }) { $origin }.
ct-admin-new = The { $kind } was created less than { $min } min before: a new principal with this power is a way back in that outlives a password reset.
ct-admin-why = With it, the principal can change anything in the account, its databases included.
ct-admin-ask = Ask the person behind the caller who asked for this grant and why.
ct-admin-undo = If nobody did, detach the policy (IAM > Users or Roles > Permissions > Remove), delete the user or role if it is new, and treat the caller's credentials as stolen.

## Persistence:IAMUser/CredentialsForAnotherUser

ct-creds-key = An access key
ct-creds-password = A console password
ct-creds-password-changed = A new console password
ct-creds-title = { $what } made for { $user } by { $who }
ct-creds = { $who } made { $what } for the existing user { $user } ({ $api }) { $origin }.
ct-creds-why = Credentials made for someone else are a way to act as them, and to come back after the caller's own access is removed.
ct-creds-ask = Ask { $user } whether they asked for it.
ct-creds-undo = If not, delete the access key or console password (IAM > Users > { $user } > Security credentials) and treat the caller's credentials as stolen.

## Persistence:IAMRole/TrustedOutsideAccount

ct-trust-title = Role { $role } may now be assumed from outside: { $accounts }
ct-trust = { $who } let account(s) { $accounts } assume role { $role } ({ $api }) { $origin }; they are neither this account, a trusted account (--trusted-account) nor in the organization.
ct-trust-anyone = The trust policy names "*": any AWS account can assume the role.
ct-trust-why = A role trusted by an outside account is a door its owner can open at any time, without any key of yours.
ct-trust-ask = Find out whether the account belongs to a partner you work with (then add it with --trusted-account).
ct-trust-undo = If not, remove it from the role's trust policy (IAM > Roles > { $role } > Trust relationships) and find out who added it.
