# Posture checks on the AWS side (keibi-posture aws): Security Hub's RDS, EC2,
# CloudTrail and GuardDuty controls and keibi's KB.NACL.1 and KB.RDS.1.
# Each control has {msg}-title, -what (the description), -console and -cli (the
# remediation's two steps). Every message gets $resource, $kind, $account, $region
# and $engine; $qid (and $qgroup, $qtrail, $qdetector) is the same name quoted for a
# shell, used in the commands. Titles use only the arguments every outcome has.

## RDS.1 snapshot public

pa-rds-1-title = { $kind ->
    [db_cluster_snapshot] RDS cluster snapshot { $resource } is public
   *[other] RDS snapshot { $resource } is public
  }
pa-rds-1-what = The snapshot's restore attribute is set to all: any AWS account can copy it and restore the whole database in its own account, without a password or a network path. { $encrypted ->
    [no] The snapshot is not encrypted, so nothing else protects the data.
    [yes] The snapshot is encrypted; only a key shared with other accounts would let them use it, but a public snapshot is never intended.
   *[other] {""}
  }
pa-rds-1-console = In the Amazon RDS console, open Snapshots, select { $resource }, choose Actions, Share snapshot, set DB snapshot visibility to Private, remove any account you do not own, and save.
pa-rds-1-cli = { $kind ->
    [db_cluster_snapshot] aws rds modify-db-cluster-snapshot-attribute --db-cluster-snapshot-identifier { $qid } --attribute-name restore --values-to-remove all --region { $region }
   *[other] aws rds modify-db-snapshot-attribute --db-snapshot-identifier { $qid } --attribute-name restore --values-to-remove all --region { $region }
  }

## RDS.2 publicly accessible

pa-rds-2-title = RDS instance { $resource } is publicly accessible
pa-rds-2-what = { $resource } ({ $engine }) has a public IP address (PubliclyAccessible is true): anyone on the internet whom its security groups and network ACLs let through can connect to it and try passwords. A database seldom needs a public address; applications reach it inside the VPC.
pa-rds-2-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Connectivity set Public access to Not publicly accessible, continue, choose Apply immediately, and modify the instance.
pa-rds-2-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --no-publicly-accessible --apply-immediately --region { $region }

## RDS.3 instance not encrypted

pa-rds-3-title = RDS instance { $resource } is not encrypted at rest
pa-rds-3-what = The storage, automated backups, read replicas and snapshots of { $resource } are not encrypted: a copied volume or snapshot gives away the data. Encryption cannot be turned on for an existing instance; it is restored from an encrypted copy of a snapshot.
pa-rds-3-console = In the Amazon RDS console, take a snapshot of { $resource } (Actions, Take snapshot), copy it with Enable encryption and a KMS key (Snapshots, Actions, Copy snapshot), restore the copy (Actions, Restore snapshot), then move the applications to the new instance.
pa-rds-3-cli = aws rds create-db-snapshot --db-instance-identifier { $qid } --db-snapshot-identifier { $qid }-plain --region { $region } && aws rds copy-db-snapshot --source-db-snapshot-identifier { $qid }-plain --target-db-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }

## RDS.4 snapshot not encrypted

pa-rds-4-title = { $kind ->
    [db_cluster_snapshot] RDS cluster snapshot { $resource } is not encrypted
   *[other] RDS snapshot { $resource } is not encrypted
  }
pa-rds-4-what = Whoever gets a copy of { $resource } (a shared account, a mistaken public share) reads the whole database. An encrypted copy can be made and the plain one deleted.
pa-rds-4-console = In the Amazon RDS console, open Snapshots, select { $resource }, choose Actions, Copy snapshot, check Enable encryption, choose a KMS key, copy, and delete the unencrypted snapshot once the copy is available.
pa-rds-4-cli = { $kind ->
    [db_cluster_snapshot] aws rds copy-db-cluster-snapshot --source-db-cluster-snapshot-identifier { $qid } --target-db-cluster-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }
   *[other] aws rds copy-db-snapshot --source-db-snapshot-identifier { $qid } --target-db-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }
  }

## RDS.5 not Multi-AZ

pa-rds-5-title = RDS instance { $resource } is not Multi-AZ
pa-rds-5-what = { $resource } runs in one Availability Zone: an outage of that zone or of the host stops the database until it is restored, and a ransomware or deletion incident has no standby to fail over to.
pa-rds-5-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Availability and durability choose Create a standby instance, continue and apply.
pa-rds-5-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --multi-az --apply-immediately --region { $region }

## RDS.6 enhanced monitoring off

pa-rds-6-title = RDS instance { $resource } has no enhanced monitoring
pa-rds-6-what = Enhanced monitoring is off for { $resource }: the operating system's metrics (processes, CPU, memory), which show a crypto miner or a runaway export, are not collected.
pa-rds-6-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Monitoring turn on Enhanced monitoring with a granularity of 60 seconds and a monitoring role, continue and apply.
pa-rds-6-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --monitoring-interval 60 --monitoring-role-arn arn:aws:iam::{ $account }:role/rds-monitoring-role --apply-immediately --region { $region }

## RDS.7 cluster deletion protection

pa-rds-7-title = RDS cluster { $resource } has no deletion protection
pa-rds-7-what = Anyone with rds:DeleteDBCluster, an attacker with stolen keys or a mistaken script, can delete { $resource } in one call.
pa-rds-7-console = In the Amazon RDS console, open Databases, select the cluster { $resource }, choose Modify, check Enable deletion protection, continue and apply immediately.
pa-rds-7-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --deletion-protection --apply-immediately --region { $region }

## RDS.8 instance deletion protection

pa-rds-8-title = RDS instance { $resource } has no deletion protection
pa-rds-8-what = Anyone with rds:DeleteDBInstance, an attacker with stolen keys or a mistaken script, can delete { $resource } in one call.
pa-rds-8-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, check Enable deletion protection, continue and apply immediately.
pa-rds-8-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --deletion-protection --apply-immediately --region { $region }

## RDS.9 logs not exported

pa-rds-9-title = RDS instance { $resource } does not send its logs to CloudWatch Logs
pa-rds-9-what = { $resource } does not export { $missing } to CloudWatch Logs: logins, errors and audit records stay on the instance, where they rotate away and die with it, and keibi and other tools cannot read them.
pa-rds-9-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Log exports check { $missing }, continue and apply immediately.
pa-rds-9-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.10 IAM authentication

pa-rds-10-title = RDS instance { $resource } does not use IAM database authentication
pa-rds-10-what = Only passwords let users into { $resource }: a password that leaks keeps working until someone changes it. With IAM database authentication, users log in with short-lived tokens tied to IAM identities that can be revoked at once.
pa-rds-10-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Database authentication choose Password and IAM database authentication, continue and apply.
pa-rds-10-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --enable-iam-database-authentication --apply-immediately --region { $region }

## RDS.11 backups

pa-rds-11-title = RDS instance { $resource } keeps automated backups less than 7 days
pa-rds-11-what = { $resource } keeps automated backups { $days ->
    [0] not at all
    [one] for { $days } day
   *[other] for { $days } days
  }: after a deletion, ransomware or a bad change noticed late, there is no point in time to restore to.
pa-rds-11-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Backup set the Backup retention period to 7 days or more, continue and apply immediately.
pa-rds-11-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --backup-retention-period 7 --apply-immediately --region { $region }

## RDS.13 minor upgrades

pa-rds-13-title = RDS instance { $resource } does not upgrade minor versions automatically
pa-rds-13-what = { $resource } keeps its engine's minor version until someone upgrades it by hand: the security fixes of new minor versions never arrive on their own.
pa-rds-13-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Maintenance check Enable auto minor version upgrade, continue and apply.
pa-rds-13-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --auto-minor-version-upgrade --apply-immediately --region { $region }

## RDS.23 default port

pa-rds-23-title = RDS instance { $resource } listens on its engine's default port
pa-rds-23-what = { $resource } listens on port { $port }, the { $engine } default that every scanner tries first. Another port is no protection on its own, but it takes the instance out of the mass scans.
pa-rds-23-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Connectivity, Additional configuration set Database port to another port, update the security groups and the applications, and apply.
pa-rds-23-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --db-port-number NEW_PORT --apply-immediately --region { $region }

## RDS.24 cluster default admin

pa-rds-24-title = RDS cluster { $resource } uses a default master user name
pa-rds-24-what = The master user of { $resource } is { $username }, a name every password-guessing tool tries first: attackers only have to guess the password.
pa-rds-24-console = The master user name cannot be changed. Create a new cluster with another master user name (Amazon RDS console, Databases, Create database, Settings, Master username), move the data to it, and until then use a long random master password kept in Secrets Manager.
pa-rds-24-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --manage-master-user-password --apply-immediately --region { $region }

## RDS.25 instance default admin

pa-rds-25-title = RDS instance { $resource } uses a default master user name
pa-rds-25-what = The master user of { $resource } is { $username }, a name every password-guessing tool tries first: attackers only have to guess the password.
pa-rds-25-console = The master user name cannot be changed. Create a new instance with another master user name (Amazon RDS console, Databases, Create database, Settings, Master username), move the data to it, and until then use a long random master password kept in Secrets Manager.
pa-rds-25-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --manage-master-user-password --apply-immediately --region { $region }

## RDS.27 cluster not encrypted

pa-rds-27-title = RDS cluster { $resource } is not encrypted at rest
pa-rds-27-what = The storage and snapshots of the cluster { $resource } are not encrypted: a copied snapshot gives away the data. Encryption cannot be turned on for an existing cluster; it is restored from an encrypted copy of a snapshot.
pa-rds-27-console = In the Amazon RDS console, take a snapshot of the cluster { $resource }, copy it with Enable encryption and a KMS key (Snapshots, Actions, Copy snapshot), restore the copy, then move the applications to the new cluster.
pa-rds-27-cli = aws rds create-db-cluster-snapshot --db-cluster-identifier { $qid } --db-cluster-snapshot-identifier { $qid }-plain --region { $region } && aws rds copy-db-cluster-snapshot --source-db-cluster-snapshot-identifier { $qid }-plain --target-db-cluster-snapshot-identifier { $qid }-encrypted --kms-key-id alias/aws/rds --region { $region }

## RDS.34 Aurora MySQL audit log export

pa-rds-34-title = Aurora MySQL cluster { $resource } does not send its audit log to CloudWatch Logs
pa-rds-34-what = The cluster { $resource } does not export { $missing } to CloudWatch Logs: who logged in and what they ran is not kept where it can be searched and alerted on.
pa-rds-34-console = In the Amazon RDS console, open Databases, select the cluster { $resource }, choose Modify, under Log exports check Audit log, continue and apply immediately.
pa-rds-34-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.35 cluster minor upgrades

pa-rds-35-title = RDS cluster { $resource } does not upgrade minor versions automatically
pa-rds-35-what = The cluster { $resource } keeps its engine's minor version until someone upgrades it by hand: the security fixes of new minor versions never arrive on their own.
pa-rds-35-console = In the Amazon RDS console, open Databases, select the cluster { $resource } (for Aurora, each of its instances), choose Modify, under Maintenance check Enable auto minor version upgrade, continue and apply.
pa-rds-35-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --auto-minor-version-upgrade --apply-immediately --region { $region }

## RDS.36 PostgreSQL log export

pa-rds-36-title = RDS for PostgreSQL instance { $resource } does not send its log to CloudWatch Logs
pa-rds-36-what = { $resource } does not export { $missing } to CloudWatch Logs: failed logins, errors and pgaudit records stay on the instance, where they rotate away.
pa-rds-36-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Log exports check PostgreSQL log, continue and apply immediately.
pa-rds-36-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.37 Aurora PostgreSQL log export

pa-rds-37-title = Aurora PostgreSQL cluster { $resource } does not send its log to CloudWatch Logs
pa-rds-37-what = The cluster { $resource } does not export { $missing } to CloudWatch Logs: failed logins, errors and pgaudit records stay on the instances, where they rotate away.
pa-rds-37-console = In the Amazon RDS console, open Databases, select the cluster { $resource }, choose Modify, under Log exports check PostgreSQL log, continue and apply immediately.
pa-rds-37-cli = aws rds modify-db-cluster --db-cluster-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.38, 39, 44 encryption in transit

pa-rds-38-title = RDS for PostgreSQL instance { $resource } accepts connections without TLS
pa-rds-38-what = The parameter group { $group } of { $resource } sets { $param } to 0: clients may connect in plain text, and passwords and data cross the network readable by anyone on the path.
pa-rds-38-console = In the Amazon RDS console, open Parameter groups, select { $group } (a default group cannot be edited: create a custom group, set it on the instance with Modify), choose Edit, set { $param } to { $on }, and save; check that every client connects with TLS first.
pa-rds-38-cli = aws rds modify-db-parameter-group --db-parameter-group-name { $qgroup } --parameters "ParameterName={ $param },ParameterValue={ $on },ApplyMethod=immediate" --region { $region }
pa-rds-39-title = RDS for MySQL instance { $resource } accepts connections without TLS
pa-rds-39-what = The parameter group { $group } of { $resource } sets { $param } off: clients may connect in plain text, and passwords and data cross the network readable by anyone on the path.
pa-rds-39-console = In the Amazon RDS console, open Parameter groups, select { $group } (a default group cannot be edited: create a custom group, set it on the instance with Modify), choose Edit, set { $param } to { $on }, and save; check that every client connects with TLS first.
pa-rds-39-cli = aws rds modify-db-parameter-group --db-parameter-group-name { $qgroup } --parameters "ParameterName={ $param },ParameterValue={ $on },ApplyMethod=immediate" --region { $region }
pa-rds-44-title = RDS for MariaDB instance { $resource } accepts connections without TLS
pa-rds-44-what = The parameter group { $group } of { $resource } sets { $param } off: clients may connect in plain text, and passwords and data cross the network readable by anyone on the path.
pa-rds-44-console = In the Amazon RDS console, open Parameter groups, select { $group } (a default group cannot be edited: create a custom group, set it on the instance with Modify), choose Edit, set { $param } to { $on }, and save; check that every client connects with TLS first.
pa-rds-44-cli = aws rds modify-db-parameter-group --db-parameter-group-name { $qgroup } --parameters "ParameterName={ $param },ParameterValue={ $on },ApplyMethod=immediate" --region { $region }

## RDS.42 MariaDB log export

pa-rds-42-title = RDS for MariaDB instance { $resource } does not send its logs to CloudWatch Logs
pa-rds-42-what = { $resource } does not export { $missing } to CloudWatch Logs: logins, errors and audit records stay on the instance, where they rotate away.
pa-rds-42-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Log exports check Audit log and Error log, continue and apply immediately.
pa-rds-42-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --cloudwatch-logs-export-configuration { $logtypes } --apply-immediately --region { $region }

## RDS.45 Aurora MySQL audit logging

pa-rds-45-title = Aurora MySQL cluster { $resource } does not record an audit log
pa-rds-45-what = The cluster parameter group { $group } of { $resource } does not turn on Advanced Auditing (server_audit_logging 1 with server_audit_events set): logins and statements are not recorded anywhere.
pa-rds-45-console = In the Amazon RDS console, open Parameter groups, select the cluster parameter group { $group } (a default group cannot be edited: create a custom one and set it on the cluster), choose Edit, set server_audit_logging to 1 and server_audit_events to CONNECT,QUERY_DCL,QUERY_DDL, and save.
pa-rds-45-cli = aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name { $qgroup } --parameters "ParameterName=server_audit_logging,ParameterValue=1,ApplyMethod=immediate" "ParameterName=server_audit_events,ParameterValue='CONNECT,QUERY_DCL,QUERY_DDL',ApplyMethod=immediate" --region { $region }

## RDS.46 public subnet

pa-rds-46-title = RDS instance { $resource } is in a subnet with a route to the internet
pa-rds-46-what = The subnet { $subnet } of { $resource } uses the route table { $routetable }, which sends { $destination } to the internet gateway { $gateway }: turning on public access, or a mistaken security group, is all it takes to expose the database.
pa-rds-46-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, and under Connectivity choose a DB subnet group made of private subnets (no route to an internet gateway); or, if nothing else in { $subnet } needs the internet, remove the { $destination } route from { $routetable } in the VPC console (Route tables, Routes, Edit routes).
pa-rds-46-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --db-subnet-group-name PRIVATE_SUBNET_GROUP --apply-immediately --region { $region }

## EC2.2 default security group

pa-ec2-2-title = Default security group { $resource } allows traffic
pa-ec2-2-what = The default security group { $resource } of its VPC has { $inbound } inbound and { $outbound } outbound rules. Every resource launched without a group of its own gets this one: it should allow nothing, so that forgetting to choose a group never opens a door.
pa-ec2-2-console = In the EC2 console, open Security Groups, select { $resource } (default), on Inbound rules choose Edit inbound rules and delete every rule, then do the same on Outbound rules; first give the resources that rely on it a group of their own.
pa-ec2-2-cli = aws ec2 revoke-security-group-ingress --group-id { $qid } --ip-permissions "$(aws ec2 describe-security-groups --group-ids { $qid } --query 'SecurityGroups[0].IpPermissions' --region { $region })" --region { $region } && aws ec2 revoke-security-group-egress --group-id { $qid } --ip-permissions "$(aws ec2 describe-security-groups --group-ids { $qid } --query 'SecurityGroups[0].IpPermissionsEgress' --region { $region })" --region { $region }

## EC2.18 database security group open beyond the database port

pa-ec2-18-title = Security group { $resource } of a database allows unrestricted traffic beyond the database port
pa-ec2-18-what = { $resource } ({ $name }), the security group of { $databases } (port { $dbports }), lets { $cidr } in on { $ports ->
    [all] all ports
   *[other] port { $ports }
  }: the database's host is open to the internet beyond the database itself.
pa-ec2-18-console = In the EC2 console, open Security Groups, select { $resource }, choose Edit inbound rules, and delete the rule from { $cidr } or narrow its source to the addresses that need it.
pa-ec2-18-cli = aws ec2 revoke-security-group-ingress --group-id { $qid } --ip-permissions '{ $permission }' --region { $region }

## EC2.19 database port open to the internet

pa-ec2-19-title = Security group { $resource } opens a database port to the internet
pa-ec2-19-what = { $resource } ({ $name }) lets { $cidr } in on { $same ->
    [yes] the database port { $port }
   *[no] { $ports ->
        [all] all ports
       *[other] ports { $ports }
    }, which include the database port { $port }
  }: every database this group is attached to can be reached by anyone, who can then try passwords or exploit the engine.
pa-ec2-19-console = In the EC2 console, open Security Groups, select { $resource }, choose Edit inbound rules, and change the rule's source from { $cidr } to the application's security group or the addresses that need it (or delete it).
pa-ec2-19-cli = aws ec2 revoke-security-group-ingress --group-id { $qid } --ip-permissions '{ $permission }' --region { $region }

## KB.NACL.1 network ACL open to a database port

pa-nacl-1-title = Network ACL { $resource } lets the internet in to a database port
pa-nacl-1-what = Inbound rule { $rule } of the network ACL { $resource } allows { $cidr } to port { $port }, a database port, and no earlier rule denies it: the subnets' second line of defence is open, and only the security groups stand in the way.
pa-nacl-1-console = In the VPC console, open Network ACLs, select { $resource }, choose Inbound rules, Edit inbound rules, and add a Deny rule for port { $port } from { $cidr } with a number lower than { $rule } (or narrow rule { $rule }'s source).
pa-nacl-1-cli = aws ec2 create-network-acl-entry --network-acl-id { $qid } --ingress --rule-number RULE_BELOW_{ $rule } --protocol tcp --port-range From={ $port },To={ $port } { $cidrflag } { $cidr } --rule-action deny --region { $region }

## KB.RDS.1 reachable from the internet

pa-kb-rds-1-title = RDS instance { $resource } is reachable from the internet
pa-kb-rds-1-what = Anyone on the internet can connect to { $resource } ({ $engine }) at { $address } port { $port }: it is publicly accessible, its security group { $group } lets { $cidr } in on that port, and its subnet { $subnet } routes { $destination } to the internet gateway { $gateway } (route table { $routetable }). Only the database's passwords stand between an attacker and the data.
pa-kb-rds-1-console = In the Amazon RDS console, open Databases, select { $resource }, choose Modify, under Connectivity set Public access to Not publicly accessible and apply immediately; then in the EC2 console remove the inbound rule from { $cidr } on port { $port } from { $group }.
pa-kb-rds-1-cli = aws rds modify-db-instance --db-instance-identifier { $qid } --no-publicly-accessible --apply-immediately --region { $region }

## CloudTrail

pa-ct-1-title = No multi-region CloudTrail trail records all management events in account { $resource }
pa-ct-1-what = Of the { $trails } trails of account { $resource }, none is multi-region, logging, and recording read and write management events: API calls in some regions, or reads such as Describe and Get calls an attacker makes first, leave no record.
pa-ct-1-console = In the CloudTrail console, open Trails, choose Create trail (or select a trail and Edit), enable it for all regions, under Management events choose Read and Write, and make sure logging is on.
pa-ct-1-cli = aws cloudtrail create-trail --name account-trail --s3-bucket-name BUCKET --is-multi-region-trail --region { $region } && aws cloudtrail start-logging --name account-trail --region { $region }
pa-ct-2-title = CloudTrail trail { $trail } is not encrypted with a KMS key
pa-ct-2-what = The trail { $trail } stores its logs with the bucket's default encryption only: anyone who can read the bucket reads the account's whole API history, and no key policy decides who may.
pa-ct-2-console = In the CloudTrail console, open Trails, select { $trail }, choose Edit in General details, check Log file SSE-KMS encryption, choose or create a KMS key, and save.
pa-ct-2-cli = aws cloudtrail update-trail --name { $qtrail } --kms-key-id KMS_KEY_ARN --region { $region }
pa-ct-3-title = CloudTrail is not logging in account { $resource }
pa-ct-3-what = None of the { $trails } trails of account { $resource } is logging: API calls, including those that open databases, share snapshots or stop logging, are kept only 90 days in the Event history, and nothing is sent to keibi.
pa-ct-3-console = In the CloudTrail console, open Trails, select a trail and choose Start logging, or choose Create trail for all regions.
pa-ct-3-cli = aws cloudtrail create-trail --name account-trail --s3-bucket-name BUCKET --is-multi-region-trail --region { $region } && aws cloudtrail start-logging --name account-trail --region { $region }
pa-ct-4-title = CloudTrail trail { $trail } does not validate its log files
pa-ct-4-what = Log file validation is off for { $trail }: someone who can write to the bucket can change or delete log files and no one can prove it.
pa-ct-4-console = In the CloudTrail console, open Trails, select { $trail }, choose Edit in General details, check Log file validation under Additional settings, and save.
pa-ct-4-cli = aws cloudtrail update-trail --name { $qtrail } --enable-log-file-validation --region { $region }
pa-ct-5-title = CloudTrail trail { $trail } does not send to CloudWatch Logs
pa-ct-5-what = The trail { $trail } only writes to S3: its events cannot raise CloudWatch alarms or reach tools that read CloudWatch Logs in near real time.
pa-ct-5-console = In the CloudTrail console, open Trails, select { $trail }, choose Edit under CloudWatch Logs, enable it with a new or existing log group and an IAM role, and save.
pa-ct-5-cli = aws cloudtrail update-trail --name { $qtrail } --cloud-watch-logs-log-group-arn LOG_GROUP_ARN --cloud-watch-logs-role-arn ROLE_ARN --region { $region }

## GuardDuty

pa-gd-1-title = GuardDuty is not enabled in { $region }
pa-gd-1-what = Account { $resource } has no enabled GuardDuty detector in { $region } ({ $found ->
    [no] none exists
   *[other] detector { $detector } is suspended
  }): credential theft, unusual API calls and attacks on databases in this region raise no GuardDuty finding.
pa-gd-1-console = In the GuardDuty console for { $region }, choose Get started and Enable GuardDuty (or, for a suspended detector, Settings and Enable GuardDuty).
pa-gd-1-cli = { $found ->
    [no] aws guardduty create-detector --enable --region { $region }
   *[other] aws guardduty update-detector --detector-id { $qdetector } --enable --region { $region }
  }
pa-gd-9-title = GuardDuty RDS Protection is off in { $region }
pa-gd-9-what = GuardDuty's RDS Protection is not on in { $region } for account { $resource } ({ $found ->
    [yes] detector { $detector }
   *[no] GuardDuty itself is off
  }): logins to Aurora and RDS databases are not checked for brute force or access from unusual places.
pa-gd-9-console = In the GuardDuty console for { $region }, open Protection plans, RDS Protection, choose Edit, select Enable, and save.
pa-gd-9-cli = { $found ->
    [no] aws guardduty create-detector --enable --features Name=RDS_LOGIN_EVENTS,Status=ENABLED --region { $region }
   *[other] aws guardduty update-detector --detector-id { $qdetector } --features Name=RDS_LOGIN_EVENTS,Status=ENABLED --region { $region }
  }
