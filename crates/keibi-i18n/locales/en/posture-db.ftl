# In-database posture controls (keibi-posture db: KB.PG.*, KB.MySQL.*) and the
# database probe's notes (keibi-dbprobe). Every message gets $resource (the server,
# postgres://host:5432), $kind, $engine, $account, $region; most get $count and
# $items (the failing lines, roles or accounts).

## Notes of the probe

db-note-unreadable = { $target }: could not read { $what } ({ $reason }); the checks that need it were skipped. Grant the audit role what docs/posture.md lists.
db-note-truncated = { $target }: { $what } has more than { $max } rows; only the first { $max } were checked.

## KB.PG.1 HbaTrustOverNetwork

pg-hba-trust-title = { $resource } lets network clients in without a password (pg_hba.conf trust)
pg-hba-trust-what = { $count ->
    [one] Line { $items } of pg_hba.conf
   *[other] Lines { $items } of pg_hba.conf ({ $count })
} { $count ->
    [one] accepts TCP connections with
   *[other] accept TCP connections with
} the `trust` method: anyone who reaches the port logs in as any role they name, superusers included, with no password. Connections from this machine only (127.0.0.1, ::1) are not counted.
pg-hba-trust-console = Replace `trust` with `scram-sha-256` on those lines of pg_hba.conf (or `reject` for addresses that need no access), then reload the configuration. On RDS and Aurora pg_hba.conf is managed by AWS and cannot say `trust`.
pg-hba-trust-cli = After editing pg_hba.conf: `SELECT pg_reload_conf();` and check `SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE auth_method = 'trust';` lists only `local` lines.

## KB.PG.2 HbaWeakPasswordMethod

pg-hba-weak-title = { $resource } accepts network logins with cleartext or MD5 passwords
pg-hba-weak-what = { $count ->
    [one] Line { $items } of pg_hba.conf
   *[other] Lines { $items } of pg_hba.conf ({ $count })
} { $count ->
    [one] authenticates TCP clients
   *[other] authenticate TCP clients
} with `password` (sent in clear unless the line is `hostssl`) or `md5` (a weak hash that a captured or stolen hash replays): a network eavesdropper or a leaked pg_authid can become that role.
pg-hba-weak-console = Set `password_encryption = scram-sha-256`, have each role set its password again (`\password` in psql), then change `md5` and `password` to `scram-sha-256` on those lines (preferably `hostssl`) and reload.
pg-hba-weak-cli = `ALTER SYSTEM SET password_encryption = 'scram-sha-256'; SELECT pg_reload_conf();` then, per role, `ALTER ROLE name PASSWORD '...';` and edit pg_hba.conf; check with `SELECT rolname FROM pg_authid WHERE rolpassword LIKE 'md5%';`.

## KB.PG.3 HbaOpenToAnyAddress

pg-hba-any-title = { $resource } accepts logins from any address (pg_hba.conf 0.0.0.0/0)
pg-hba-any-what = { $count ->
    [one] Line { $items } of pg_hba.conf
   *[other] Lines { $items } of pg_hba.conf ({ $count })
} { $count ->
    [one] admits clients from every address
   *[other] admit clients from every address
} (`all`, `0.0.0.0/0` or `::/0`): pg_hba.conf then stops no one, and anyone who reaches the port can try passwords (keibi's brute-force detections see them only once they try).
pg-hba-any-console = Narrow those lines to the networks your applications and people connect from (`10.0.2.0/24`), add `host all all 0.0.0.0/0 reject` last, and reload; keep the port closed in the firewall or security group too.
pg-hba-any-cli = After editing pg_hba.conf: `SELECT pg_reload_conf();` and check `SELECT line_number, address, auth_method FROM pg_hba_file_rules WHERE address IN ('all', '0.0.0.0', '::');`.

## KB.PG.4 SslNotEnforced

pg-ssl-title = { $resource } does not require encrypted connections ({ $reason ->
    [hba] pg_hba.conf host lines
   *[other] { $setting } = { $value }
})
pg-ssl-what = { $reason ->
    [hba] `ssl` is on, but { $count ->
        [one] line { $items } of pg_hba.conf accepts
       *[other] lines { $items } of pg_hba.conf accept
    } TCP connections without TLS (`host` rather than `hostssl`)
   *[other] `{ $setting }` is `{ $value }`
}: clients may connect without TLS, so passwords (with `password` or `md5`), queries and results cross the network readable by anyone on the path.
pg-ssl-console = Self-managed: install a certificate, set `ssl = on` and use `hostssl` lines in pg_hba.conf. RDS: Amazon RDS console → Parameter groups → the instance's DB parameter group → Edit → `rds.force_ssl` = 1 (a custom group: the default one cannot be edited), then have clients use `sslmode=verify-full` with the RDS CA bundle.
pg-ssl-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=rds.force_ssl,ParameterValue=1,ApplyMethod=immediate"`; self-managed: `ALTER SYSTEM SET ssl = on; SELECT pg_reload_conf();`

## KB.PG.5 WeakPasswordEncryption

pg-password-encryption-title = { $resource } stores new passwords as MD5 (password_encryption = { $value })
pg-password-encryption-what = `password_encryption` is `{ $value }`: every password set from now on is stored as an MD5 hash, which is fast to crack and, once read from pg_authid, works to log in with `md5` authentication without knowing the password.
pg-password-encryption-console = Set `password_encryption` to `scram-sha-256` (RDS: in the DB parameter group), then have each role set its password again so it is stored as SCRAM.
pg-password-encryption-cli = `ALTER SYSTEM SET password_encryption = 'scram-sha-256'; SELECT pg_reload_conf();` (RDS: `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=password_encryption,ParameterValue=scram-sha-256,ApplyMethod=immediate"`)

## KB.PG.6 UnexpectedPrivilegedRole

pg-admin-roles-title = { $resource } has { $count ->
    [one] a role
   *[other] { $count } roles
} with superuser, CREATEROLE or BYPASSRLS beyond the expected ones
pg-admin-roles-what = { $items } { $count ->
    [one] holds
   *[other] hold
} SUPERUSER, CREATEROLE or BYPASSRLS and { $count ->
    [one] is
   *[other] are
} neither the bootstrap superuser, `rdsadmin`, nor in the audit settings' allowlist. A superuser can read every table, run programs on the server and turn auditing off; CREATEROLE can make new roles, BYPASSRLS reads past row-level security. Attackers add such roles to stay in.
pg-admin-roles-console = Check who created each role and why. Remove the attribute from roles that do not need it, or drop the role; if it is expected, add it to `allowed_admins` under `[audit.database]` in keibi's settings.
pg-admin-roles-cli = `ALTER ROLE name NOSUPERUSER NOCREATEROLE NOBYPASSRLS;` or `DROP ROLE name;` (list them: `SELECT rolname FROM pg_roles WHERE rolsuper OR rolcreaterole OR rolbypassrls;`)

## KB.PG.7 LoginRoleWithoutExpiry

pg-valid-until-title = { $resource } has { $count ->
    [one] a login role
   *[other] { $count } login roles
} whose password never expires
pg-valid-until-what = Your policy asks for password expiry, and { $items } can log in with a password that has no `VALID UNTIL`: a leaked password keeps working until someone changes it.
pg-valid-until-console = Set an expiry on each login role and rotate its password before then, or turn `require_password_expiry` off under `[audit.database]` if expiry is not your policy.
pg-valid-until-cli = `ALTER ROLE name VALID UNTIL '2027-06-30';`

## KB.PG.8 PublicSchemaCreate

pg-public-create-title = Every role may create objects in schema public on { $resource }
pg-public-create-what = PUBLIC has CREATE on schema `public` (the default before PostgreSQL 15; this server is { $version }): any role can create functions and operators there that shadow built-ins on other roles' `search_path`, and run code as them (CVE-2018-1058).
pg-public-create-console = Revoke CREATE on schema public from PUBLIC in each database, and grant it to the roles that own objects there.
pg-public-create-cli = `REVOKE CREATE ON SCHEMA public FROM PUBLIC;` (in every database)

## KB.PG.9 ConnectionLoggingOff

pg-log-connections-title = { $resource } does not log connections ({ $items })
pg-log-connections-what = { $items }: logins and session ends are not written to the server log, so keibi's login detections (brute force, password spraying, logins from Tor or threat-listed addresses) and any investigation see nothing of who connected.
pg-log-connections-console = Set `log_connections` and `log_disconnections` to on (RDS: in the DB parameter group; both apply without a restart).
pg-log-connections-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=log_connections,ParameterValue=1,ApplyMethod=immediate" "ParameterName=log_disconnections,ParameterValue=1,ApplyMethod=immediate"`; self-managed: `ALTER SYSTEM SET log_connections = on; ALTER SYSTEM SET log_disconnections = on; SELECT pg_reload_conf();`

## KB.PG.10 AuditLoggingOff

pg-audit-title = { $resource } does not audit statements with pgaudit
pg-audit-what = { $items }: statements are not audited, so keibi's statement detections (privilege escalation, new accounts, server-side commands, bulk exports, audit tampering) have nothing to read for this server.
pg-audit-console = Add `pgaudit` to `shared_preload_libraries` (a restart), run `CREATE EXTENSION pgaudit;`, and set `pgaudit.log` to at least `ddl, role` (RDS: both in the DB parameter group, then reboot the instance).
pg-audit-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=shared_preload_libraries,ParameterValue=pgaudit,ApplyMethod=pending-reboot" "ParameterName=pgaudit.log,ParameterValue='ddl,role',ApplyMethod=immediate"` then `aws rds reboot-db-instance --db-instance-identifier <instance>`

## KB.PG.11 OsAccessExtension

pg-os-extension-title = { $resource } has extensions or languages that reach the operating system: { $items }
pg-os-extension-what = { $items } { $count ->
    [one] lets
   *[other] let
} SQL read or write the server's files or run programs as the server's operating-system user (untrusted languages run without a sandbox; adminpack and file_fdw touch files). Whoever becomes superuser gets a shell on the host through them.
pg-os-extension-console = Drop what is not used, in each database where it is installed.
pg-os-extension-cli = `DROP EXTENSION adminpack;` `DROP EXTENSION plpython3u;` (or `DROP LANGUAGE name;`)

## KB.PG.12 RemoteDataExtension

pg-remote-extension-title = { $resource } can connect out to other servers: { $items }
pg-remote-extension-what = { $items } { $count ->
    [one] lets
   *[other] let
} SQL open connections from the database server to other servers: a way to copy data out that bypasses the application, and to reach internal hosts.
pg-remote-extension-console = Drop the extension where it is not used, and allow outbound connections from the database host only where it is.
pg-remote-extension-cli = `DROP EXTENSION dblink;` / `DROP EXTENSION postgres_fdw;`

## KB.MySQL.1 EmptyPassword

my-empty-password-title = { $resource } has { $count ->
    [one] an account
   *[other] { $count } accounts
} with an empty password
my-empty-password-what = { $items } { $count ->
    [one] logs in with a password, and that password is
   *[other] log in with a password, and those passwords are
} empty: anyone who can reach the server from the account's host is in.
my-empty-password-console = Give each account a long random password, or drop it if nothing uses it.
my-empty-password-cli = `ALTER USER 'name'@'host' IDENTIFIED BY '<long random password>';` or `DROP USER 'name'@'host';` (list them: `SELECT user, host FROM mysql.user WHERE authentication_string = '';`)

## KB.MySQL.2 AdminFromAnyHost

my-admin-any-host-title = { $resource } lets root or an administrator log in from any host
my-admin-any-host-what = { $items } { $count ->
    [one] is
   *[other] are
} root or { $count ->
    [one] holds
   *[other] hold
} administrative privileges (ALL, SUPER, FILE, GRANT OPTION, CREATE USER) and may log in from a host wildcard (`%`): a guessed or leaked password works from anywhere.
my-admin-any-host-console = Restrict administrators to the hosts they work from (`'root'@'localhost'`, a bastion's address), or drop the wildcard account.
my-admin-any-host-cli = `RENAME USER 'root'@'%' TO 'root'@'10.0.0.5';` or `DROP USER 'root'@'%';`

## KB.MySQL.3 AnonymousAccount

my-anonymous-title = { $resource } has anonymous accounts
my-anonymous-what = { $items }: an account with an empty user name matches any user name a client sends, so anyone can log in (often with no password) and see what it may see.
my-anonymous-console = Drop the anonymous accounts (mysql_secure_installation does this).
my-anonymous-cli = `DROP USER ''@'%';` (list them: `SELECT user, host FROM mysql.user WHERE user = '';`)

## KB.MySQL.4 SecureTransportNotRequired

my-secure-transport-title = { $resource } does not require encrypted connections (require_secure_transport = { $value })
my-secure-transport-what = `require_secure_transport` is `{ $value }`: clients may connect without TLS, so passwords, queries and results cross the network readable by anyone on the path.
my-secure-transport-console = Set `require_secure_transport` to ON (RDS: in the DB parameter group; it applies without a restart) once every client connects with TLS.
my-secure-transport-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=require_secure_transport,ParameterValue=1,ApplyMethod=immediate"`; self-managed: `SET PERSIST require_secure_transport = ON;` (MariaDB: `SET GLOBAL` and the same line in my.cnf)

## KB.MySQL.5 LocalInfileEnabled

my-local-infile-title = { $resource } allows LOAD DATA LOCAL (local_infile = { $value })
my-local-infile-what = `local_infile` is `{ $value }`: an SQL injection or a hostile server can make a client send any file it can read (LOAD DATA LOCAL INFILE).
my-local-infile-console = Turn `local_infile` off unless a loader needs it (RDS: in the DB parameter group).
my-local-infile-cli = `aws rds modify-db-parameter-group --db-parameter-group-name <group> --parameters "ParameterName=local_infile,ParameterValue=0,ApplyMethod=immediate"`; self-managed: `SET GLOBAL local_infile = OFF;` and `local_infile=OFF` in my.cnf

## KB.MySQL.6 SecureFilePrivEmpty

my-secure-file-priv-title = { $resource } lets FILE holders read and write files anywhere (secure_file_priv = { $value })
my-secure-file-priv-what = `secure_file_priv` is empty: an account with FILE can read any file the server can (`LOAD_FILE('/etc/passwd')`) and write query results anywhere (`SELECT … INTO OUTFILE`), a web shell included.
my-secure-file-priv-console = Set `secure_file_priv` to a dedicated directory (MySQL also takes NULL: no file access at all) in the server's configuration file and restart it. RDS sets it for you.
my-secure-file-priv-cli = In my.cnf under `[mysqld]`: `secure_file_priv=/var/lib/mysql-files`, then restart the server; check `SELECT @@GLOBAL.secure_file_priv;`

## KB.MySQL.7 AuditLoggingOff

my-audit-title = { $resource } does not write an audit log
my-audit-what = { $value }: connections and statements are not audited, so keibi's login and statement detections have nothing to read for this server.
my-audit-console = MariaDB and RDS for MySQL: load the server_audit plugin (RDS: an option group with MARIADB_AUDIT_PLUGIN) and set `server_audit_logging = ON`, `server_audit_events = CONNECT,QUERY`. Aurora MySQL: `server_audit_logging = 1` in the DB cluster parameter group.
my-audit-cli = `INSTALL SONAME 'server_audit'; SET GLOBAL server_audit_events = 'CONNECT,QUERY'; SET GLOBAL server_audit_logging = ON;` (RDS: `aws rds add-option-to-option-group --option-group-name <group> --options "OptionName=MARIADB_AUDIT_PLUGIN,OptionSettings=[{"{"}Name=SERVER_AUDIT_EVENTS,Value=CONNECT,QUERY{"}"}]" --apply-immediately`)

## KB.MySQL.8 UnexpectedPrivilegedAccount

my-admin-accounts-title = { $resource } has { $count ->
    [one] an account
   *[other] { $count } accounts
} with FILE, SUPER or GRANT OPTION beyond the expected ones
my-admin-accounts-what = { $items } { $count ->
    [one] holds
   *[other] hold
} global administrative privileges (FILE reads and writes server files, SUPER and ALL control the server, GRANT OPTION and CREATE USER hand out access) and { $count ->
    [one] is
   *[other] are
} neither root on this machine, a system account, nor in the audit settings' allowlist.
my-admin-accounts-console = Revoke the global privileges applications do not need (grant on their database instead), or add an expected administrator to `allowed_admins` under `[audit.database]` in keibi's settings.
my-admin-accounts-cli = `REVOKE FILE, SUPER, GRANT OPTION ON *.* FROM 'name'@'host';` (see them: `SHOW GRANTS FOR 'name'@'host';`)
