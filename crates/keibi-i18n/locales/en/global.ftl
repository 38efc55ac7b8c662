# The second stage's findings (keibi-engine global): what spans instances or accounts,
# judged from the findings each partition committed.

## Shared

global-block = Block { $ip } where all these instances are reachable: in the security groups they share or a network ACL of their VPCs, not one instance at a time; on self-managed servers, a firewall rule.
global-private = If the instances need not be reachable from the Internet, make them private (`aws rds modify-db-instance --no-publicly-accessible`) and allow only your applications' security groups.
global-each = Open each instance's own finding (listed in the evidence): a login that succeeded after the failures is there, with what to do on that instance.

## CredentialAccess:RDS/BruteForce.MultipleInstances

global-spread-title = Login attacks from { $ip } on { $n } instances
global-spread-what = { $ip } failed to log in on { $n } instances within { $window } of each other ({ $instances }): { $failures ->
    [one] { $failures } failure
   *[other] { $failures } failures
} between { $first } and { $last }, in the instances' own findings.
global-spread-why = Each instance saw one attacker; together they show one source working through your databases, as scanners and campaigns that know your instance names do. People and applications with a wrong password fail on the instance they use, not on several at once.

## CredentialAccess:RDS/CredentialStuffing.MultipleInstances

global-stuffing-title = Credential stuffing from { $ip }: { $users } user names on { $n } instances
global-stuffing-what = { $ip } failed to log in as { $users } different users on { $n } instances within { $window } ({ $instances }): { $names }.
global-stuffing-why = Many user names, a few attempts each, on several databases is a list of leaked or common credentials being replayed (credential stuffing): a user whose password is reused from elsewhere is the one it finds.
global-stuffing-passwords = Check which of these users exist on each instance; give every one that does a long random password that is used nowhere else, and drop accounts nobody uses.

## Behavior:IAMUser/MultipleAccounts

global-principal-title = { $principal } raised findings in { $accounts ->
    [one] { $accounts } account
   *[other] { $accounts } accounts
} and { $regions ->
    [one] { $regions } region
   *[other] { $regions } regions
}
global-principal-what = { $principal } raised control-plane findings within { $window } in { $accounts ->
    [one] { $accounts } AWS account
   *[other] { $accounts } AWS accounts
} ({ $account_list }) and { $regions ->
    [one] { $regions } region
   *[other] { $regions } regions
} ({ $region_list }): { $types }.
global-principal-why = One credential acting in several accounts or regions at once is how a stolen key or role session is used to move across an organisation; planned work rarely raises findings in several accounts in one day.
global-principal-revoke = If this is not planned work, stop the credential now: deactivate the access keys of { $principal } (`aws iam update-access-key --status Inactive`), or for a role revoke its active sessions (IAM console → [Roles] → the role → [Revoke active sessions]).
global-principal-review = Then handle each account's own finding (listed in the evidence), and check in CloudTrail what else the principal did in those accounts.
