# AWS calls that reach a database's data (keibi-detect detectors/cloudtrail/secrets.rs):
# secrets and RDS log files read in bulk, snapshots copied, EBS snapshots and AMIs shared.

## Shared

ctd-item = { $v }
ctd-list-more = { $list } and { $more } more
ctd-origin = from { $ip } ({ $ua }) in { $region } of account { $account }
ctd-figures = { $count } call(s) between { $first } and { $last }; source addresses: { $ips }.
ctd-unusual = { $principal } had made no such burst on an earlier day of these logs (its first read seen at { $first }).

## CredentialAccess:IAMUser/AnomalousBehavior: secrets read in bulk

ctd-secrets-title = Secrets read in bulk by { $who }
ctd-secrets = { $who } read { $n } different secrets or encrypted parameters within { $secs } s ({ $shown }) { $origin }.
ctd-secrets-filter = { $who } asked BatchGetSecretValue for every secret a filter matches, without naming them, { $origin }.
ctd-secrets-why = An application reads the few secrets it needs; reading many at once is how a stolen key is turned into database passwords and API keys.
ctd-secrets-ask = Ask the owner of the principal why it read these secrets.
ctd-secrets-rotate = If nobody knows, deactivate its access keys or revoke its role sessions, rotate every secret it read (database passwords first: aws secretsmanager rotate-secret --secret-id <secret>), and review the database logins since the read.

## CredentialAccess:RDS/LogFilesDownloaded

ctd-logs-title = RDS log files downloaded in bulk by { $who }
ctd-logs = { $who } downloaded { $n } different RDS log files within { $secs } s ({ $shown }) { $origin }.
ctd-logs-why = Database logs name every user, client address and failed statement, and sometimes a password typed into the user name field: they are a map of the database for whoever reads them.
ctd-logs-ask = Ask the owner of the principal why it downloaded the logs.
ctd-logs-contain = If nobody knows, revoke its keys or sessions, change the passwords of database users whose names or passwords appear in the logs, and allow rds:DownloadDBLogFilePortion only to the roles that collect logs.

## Exfiltration:RDS/SnapshotCopied

ctd-label-snapshot = snapshot
ctd-label-cluster-snapshot = cluster snapshot
ctd-copy-title = RDS { $label } { $source } copied by { $who }
ctd-copy = { $who } copied RDS { $label } { $source } to { $target } ({ $api }) { $origin }: { $why }.
ctd-copy-foreign-key = re-encrypted with KMS key { $key } of account { $account }, which is not yours, trusted (--trusted-account) or in your organization (cloudtrail.org_accounts)
ctd-copy-own-key = re-encrypted with KMS key { $key }
ctd-copy-region = from region { $from } to { $to }
ctd-copy-why-foreign = A snapshot encrypted with another account's key can be shared with that account and restored there: this is how a database is taken out of an account.
ctd-copy-why = Copying a snapshot under a new key or into another region is the first step of sharing it with another account.
ctd-copy-delete = If the copy is not planned, delete it (aws rds delete-db-snapshot --db-snapshot-identifier <copy>), check that no snapshot is shared (aws rds describe-db-snapshot-attributes), and revoke the principal's keys or sessions.
ctd-copy-delete-cluster = If the copy is not planned, delete it (aws rds delete-db-cluster-snapshot --db-cluster-snapshot-identifier <copy>), check that no snapshot is shared (aws rds describe-db-cluster-snapshot-attributes), and revoke the principal's keys or sessions.
ctd-copy-yours = If the account is one of yours, add it to cloudtrail.org_accounts or --trusted-account.

## Exfiltration:EC2/SnapshotShared

ctd-label-ebs = EBS snapshot
ctd-label-ami = AMI
ctd-ec2-public-title = { $label } { $id } made public by { $who }
ctd-ec2-shared-title = { $label } { $id } shared with account { $accounts } by { $who }
ctd-ec2-shared = { $who } granted { $accounts } the right to use { $label } { $id } ({ $api }) { $origin }.
ctd-ec2-why-public = Every AWS account can now create a volume from it and read the disk, databases on it included.
ctd-ec2-why = Those accounts are not yours, trusted (--trusted-account) or in your organization (cloudtrail.org_accounts): they can create a volume from it and read the disk, databases on it included.
ctd-ec2-remove-ebs = If the share is not planned, remove it now (aws ec2 modify-snapshot-attribute --snapshot-id <snapshot> --attribute createVolumePermission --operation-type remove --group-names all, or --user-ids <account>), revoke the principal's keys or sessions, and treat the data on the disk as copied.
ctd-ec2-remove-ami = If the share is not planned, remove it now (aws ec2 modify-image-attribute --image-id <ami> --launch-permission "Remove=[{"{"}Group=all{"}"}]", or "Remove=[{"{"}UserId=<account>{"}"}]"), revoke the principal's keys or sessions, and treat the data on its disks as copied.
