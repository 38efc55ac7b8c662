# Login findings (keibi-detect detectors/login): BruteForce, PasswordSpray,
# SuccessfulBruteForce (login_source) and the distributed campaign (login_stuffing).

failed-logins = { $count ->
    [one] { $count } failed login
   *[other] { $count } failed logins
}

## Shared by the source findings

login-rotation-one = All from one address of that network, { $ip }.
login-rotation-many = They came from { $more ->
    [yes] more than { $n }
   *[no] { $n }
} different addresses of that /64 (listed in actor.ips{ $more ->
    [yes] , the first 100
   *[no] {""}
}): one IPv6 client owns a whole /64 and can change address at will, so keibi counts the network, not the address.
login-between = between { $first } and { $last } ({ $span }{ $rate })
login-after-many = It logged in successfully as { $user } at { $at } ({ $logins ->
    [one] { $logins } login
   *[other] { $logins } logins
} after its failures began): assume it knows that password.
login-after-one = It logged in successfully as { $user } at { $at }, after failing: assume it knows that password.
login-after-none = No login from this address succeeded after its failures began.
login-block = If { $ip } is not one of yours, block it now: remove it from the inbound rules of the instance's security group (or add a network ACL deny rule); on a self-managed server add a pg_hba.conf `reject` line or a firewall rule.
login-make-private = If the instance need not be reachable from the Internet, make it private (`aws rds modify-db-instance --no-publicly-accessible`) and allow only your applications' security group.

## BruteForce

brute-force-title = Brute force on { $instance } from { $ip }: { $failures }
brute-force-title-login = Brute force on { $instance } from { $ip }: { $failures }, then a login as { $user }
brute-force-failed = { $ip } failed to log in to { $instance } { $count ->
    [one] { $count } time
   *[other] { $count } times
} { $between }, { $who }.
brute-force-who-one = all as user { $user }
brute-force-who-many = as { $n } users: { $users }
brute-force-volume = Attack tools such as hydra do this; people mistyping a password and applications retrying do not fail this often.
brute-force-burst = It was a short burst, faster than a person types: the first seconds of an attack tool, or a client opening several connections at once with a wrong password.
brute-force-unseen = { $ip } is a public address that had never logged in here: a tool's first seconds, cut short by a firewall, a ban or a wrong user list, not a client of yours.
brute-force-missing = The server said { $missing ->
    [one] { $missing } of the user names tried does
   *[other] { $missing } of the user names tried do
} not exist: someone is guessing user names (user enumeration).
brute-force-seen = { $ip } had logged in here before as a user it then failed for: most likely that user's own client with a changed or mistyped password.
brute-force-steady = They came from a private address, for one existing user, at a steady rate: most likely a connection pool or a health check inside your network still using an old password.
brute-force-probes = It also opened { $probes ->
    [one] { $probes } connection
   *[other] { $probes } connections
} that never authenticated.
brute-force-known = { $ip } had logged in successfully as { $user } { $times ->
    [one] { $times } time
   *[other] { $times } times
} before these failures: it is most likely one of your application servers still using an old password (after a rotation), not an attacker.
brute-force-rotate-login = Change the password of { $user } now (a login succeeded) and review what it did from { $ip }; check that the password of { $targets } is long and random.
brute-force-rotate = Check that the password of { $targets } is long and random; change it if it may be weak.
brute-force-own = If { $ip } is your own (an application with an out-of-date password), update the password it uses and add the address to a --trusted-list.

## PasswordSpray

spray-title = Password spray on { $instance } from { $ip }: { $n } user names tried
spray-tried = { $ip } tried { $n } different user names on { $instance } with { $failures } { $between }: { $users }.
spray-explain = Few attempts per name is password spraying: a few common passwords tried against many accounts, which stays under per-account lockout policies.
spray-missing = The server said { $missing } of these names do not exist: it is guessing account names.
spray-accounts = Check that none of the users tried has a default or weak password, drop accounts nobody uses, and do not let built-in administrator accounts (postgres, root, admin) log in from the network.

## SuccessfulBruteForce

success-title = Login as { $user } on { $instance } from { $ip } after a brute force
success-login = { $ip } logged in to { $instance } as { $user } at { $at } after { $failures }{ $since } ({ $which }).
success-since = {" "}since { $at }
success-all-as = all of them as { $user }
success-some-as = { $n } of them as { $user }
success-known = A password found by guessing is the likeliest explanation: treat the password of { $user } as known to whoever controls { $ip }.
success-again = It logged in as { $user } { $count ->
    [one] { $count } time
   *[other] { $count } times
} in all, the last at { $last }.
success-now = Now: change the password of { $user } ({ $change }), end its sessions from { $ip } ({ $kill }), and block { $ip } in the instance's security group or firewall.
success-review = Then review what { $user } did from { $ip } after { $at } (pgaudit or server_audit statements): new users, changed privileges, data read or exported.
success-harden = Make the instance private if it need not be reachable from the Internet, and give every database user a long random password.

## Distributed password guessing (login_stuffing)

stuffing-title = Distributed password guessing on { $instance }: { $failures } from { $ips } addresses as { $targets }
stuffing-per-user = Failures per user: { $list }.
stuffing-failed = { $failures } to { $instance } as { $targets } came from { $ips } addresses in { $nets } networks between { $first } and { $last } ({ $span }{ $rate }): { $shown }.
stuffing-explain = Many unrelated networks guessing the same account is a botnet or a leaked-credentials list being replayed; your own clients (application servers, a NAT gateway) share one or a few networks.
stuffing-login = Then { $ip }, one of the failing addresses, logged in successfully as { $user } at { $at }{ $logins ->
    [0] {""}
    [1] {""}
   *[other] {" "}({ $logins } such logins)
}: the campaign found a working password.
stuffing-no-login = None of the failing addresses has logged in successfully as the targeted user.
stuffing-change = Change the password of { $targets } to a long random one now, or disable the account if nobody needs it to log in over the network.
stuffing-restrict = Blocking single addresses does not stop a distributed campaign: restrict the instance's security group to your own networks, or make the instance private (`aws rds modify-db-instance --no-publicly-accessible`).
stuffing-review = A login succeeded: end that user's sessions and review what it did (pgaudit or server_audit statements) since the first successful login.

## Threat-listed and Tor sources (login_reputation)

rep-an-address = an address
rep-on-a-list = a threat list
rep-on-tor = the Tor exit list '{ $tor }'
rep-on-threat = the threat list '{ $threat }'
rep-on-tor-and-threat = the Tor exit list '{ $tor }' (and on the threat list '{ $threat }')
rep-what-tor = Tor exit node
rep-what-threat = threat-listed address
rep-why-tor = Tor hides where a connection really comes from; your applications and colleagues do not normally reach a database through it.
rep-why-threat = Threat lists name addresses seen attacking, scanning or running malware.
rep-at = at { $at }
rep-listed = { $ip } is on { $list }. { $why }
rep-block = Block { $ip } in the instance's security group inbound rules or a network ACL (on a self-managed server: a pg_hba.conf `reject` line or a firewall rule){ $tor ->
    [yes] ; to keep all of Tor out, block the published exit list
   *[no] {""}
}, and make the instance private (`aws rds modify-db-instance --no-publicly-accessible`) if it need not be reachable from the Internet.
rep-login-title = Login to { $instance } as { $who } from { $what } { $ip }
rep-logged-in = { $ip } logged in to { $instance } as { $who } { $count ->
    [0] {""}
    [1] {""}
    [one] {""}
   *[other] { $count } times{" "}
}{ $when }.
rep-also-failed = It also failed to log in (see the FailedLogin finding for the same address).
rep-knows-password = Whoever connected from there knows the password of { $who }.
rep-treat-stolen = Unless you know this login (a colleague on Tor, a tester), treat the password of { $who } as stolen: change it now, end its sessions from { $ip }, and review what it did (pgaudit or server_audit statements from { $ip }).
rep-failed-title = Failed logins to { $instance } from { $what } { $ip }: { $count ->
    [one] { $count } attempt
   *[other] { $count } attempts
}
rep-failed = { $ip } failed to log in to { $instance } { $count ->
    [one] { $count } time
   *[other] { $count } times
} { $when }, as { $who }.
rep-also-logged-in = It also logged in successfully: see the SuccessfulLogin finding for the same address.
rep-never-logged-in = It never logged in successfully.
rep-check-password = Check that the password of { $who } is long and random.
rep-probe-title = Database port of { $instance } probed from { $what } { $ip }
rep-probed = { $ip } opened { $count ->
    [one] { $count } connection
   *[other] { $count } connections
} to { $instance } { $when } and never tried to log in: a scan checking what answers on the database port.
rep-reachable = It reached the database port, so the instance is reachable from where that address is (usually the Internet).
rep-restrict = Restrict the instance's security group inbound rules to your applications' addresses or security groups.
