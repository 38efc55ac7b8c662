//! IAM persistence and escalation (an IAM admin owns every database of the account):
//!
//! * PrivilegeEscalation:IAMUser/AdminPolicyAttached: an admin or RDS-wide policy
//!   (AWS's AdministratorAccess, PowerUserAccess, IAMFullAccess, AmazonRDSFullAccess,
//!   AmazonRDSDataFullAccess, or an inline policy allowing `*`, `iam:*` or `rds:*` on
//!   every resource) given to a user, role or group; High when the user or role was
//!   created within `sequence_window_secs` (a new admin is a way back in).
//! * Persistence:IAMUser/CredentialsForAnotherUser: an access key or console
//!   password created or changed for an existing user by someone else. Onboarding
//!   (keys or a password for a user created in the window) is not it.
//! * Persistence:IAMRole/TrustedOutsideAccount: a role created or its trust policy
//!   changed so that an account that is not this one, trusted (`--trusted-account`)
//!   or in the organization (`cloudtrail.org_accounts`) may assume it.
//!
//! `GetFederationToken` and Roles Anywhere trust anchors are one-call rules
//! (`rules/cloudtrail/alternate-credentials.yml`).

use chrono::{DateTime, Duration, Utc};

use super::*;

pub const ADMIN_POLICY: &str = "PrivilegeEscalation:IAMUser/AdminPolicyAttached";
pub const OTHERS_CREDENTIALS: &str = "Persistence:IAMUser/CredentialsForAnotherUser";
pub const OUTSIDE_TRUST: &str = "Persistence:IAMRole/TrustedOutsideAccount";

/// Users and roles remembered as new at once; the oldest are forgotten first.
const MAX_CREATED: usize = 4096;

/// AWS managed policies that own every database of the account.
const POWERFUL: &[&str] = &[
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
    "AmazonRDSFullAccess",
    "AmazonRDSDataFullAccess",
];

/// Users and roles created lately, by (account, kind, name).
#[derive(Default)]
pub(super) struct Created {
    map: HashMap<String, DateTime<Utc>>,
}

impl Created {
    fn insert(&mut self, key: String, time: DateTime<Utc>, window: Duration) {
        if !self.map.contains_key(&key) && self.map.len() >= MAX_CREATED {
            self.map.retain(|_, t| time - *t <= window);
            if self.map.len() >= MAX_CREATED {
                let mut times: Vec<DateTime<Utc>> = self.map.values().copied().collect();
                times.sort_unstable();
                let cut = times[times.len() / 2];
                self.map.retain(|_, t| *t > cut);
            }
        }
        self.map.insert(key, time);
    }

    fn is_new(&self, key: &str, now: DateTime<Utc>, window: Duration) -> bool {
        self.map
            .get(key)
            .is_some_and(|t| now >= *t && now - *t <= window)
    }
}

fn principal_key(account: &str, kind: &str, name: &str) -> String {
    format!("{account}\u{1f}{kind}\u{1f}{name}")
}

/// The calls this module reads.
pub(super) fn is_iam(name: &str) -> bool {
    matches!(
        name,
        "CreateUser"
            | "CreateRole"
            | "AttachUserPolicy"
            | "AttachRolePolicy"
            | "AttachGroupPolicy"
            | "PutUserPolicy"
            | "PutRolePolicy"
            | "PutGroupPolicy"
            | "CreateAccessKey"
            | "CreateLoginProfile"
            | "UpdateLoginProfile"
            | "UpdateAssumeRolePolicy"
    )
}

/// The name of a powerful AWS managed policy, from its ARN.
fn managed_powerful(arn: &str) -> Option<&'static str> {
    let (_, rest) = arn.split_once(":iam::aws:policy/")?;
    let name = rest.rsplit('/').next()?;
    POWERFUL.iter().copied().find(|p| *p == name)
}

/// A JSON policy document that CloudTrail writes as a string (sometimes already
/// parsed).
fn document(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) => serde_json::from_str(s).ok(),
        o @ Value::Object(_) => Some(o.clone()),
        _ => None,
    }
}

/// A string or a list of strings.
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    items(doc.get("Statement"))
}

fn allows(st: &Value) -> bool {
    st.get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow"))
}

/// What makes an inline policy powerful: `*`, `iam:*` or `rds:*` allowed on `*`.
fn inline_powerful(doc: &Value) -> Option<String> {
    for st in statements(doc).into_iter().filter(|s| allows(s)) {
        if !strings(st.get("Resource")).contains(&"*") {
            continue;
        }
        for a in strings(st.get("Action")) {
            let a = a.trim().to_ascii_lowercase();
            if matches!(a.as_str(), "*" | "*:*" | "iam:*" | "rds:*") {
                return Some(format!("Allow {a} on *"));
            }
        }
    }
    None
}

/// Condition keys that narrow a `*` principal to named accounts, then to named
/// organizations (the standard organization-wide role).
const ACCOUNT_KEYS: &[&str] = &["aws:principalaccount", "aws:sourceaccount"];
const ORG_KEYS: &[&str] = &["aws:principalorgid"];

/// What a statement's `Condition` narrows `*` to: the accounts (or, failing those,
/// organization ids) its string-equality tests name. `None` when it names none, or
/// only through wildcards.
fn narrowed(st: &Value) -> Option<Vec<&str>> {
    let Some(Value::Object(cond)) = st.get("Condition") else {
        return None;
    };
    let mut accounts: Vec<&str> = Vec::new();
    let mut orgs: Vec<&str> = Vec::new();
    for (op, tests) in cond {
        let op = op.to_ascii_lowercase();
        let op = op.strip_prefix("forallvalues:").unwrap_or(&op);
        let op = op.strip_prefix("foranyvalue:").unwrap_or(op);
        let like = op.starts_with("stringlike");
        if !(like || op.starts_with("stringequals")) || op.contains("ifexists") {
            continue;
        }
        let Value::Object(tests) = tests else {
            continue;
        };
        for (k, v) in tests {
            let k = k.to_ascii_lowercase();
            let into = if ACCOUNT_KEYS.contains(&k.as_str()) {
                &mut accounts
            } else if ORG_KEYS.contains(&k.as_str()) {
                &mut orgs
            } else {
                continue;
            };
            let values = strings(Some(v));
            if values.is_empty() || values.iter().any(|v| v.contains(['*', '?'])) {
                // A wildcard narrows nothing: this test admits anyone.
                continue;
            }
            into.extend(values.into_iter().map(str::trim));
        }
    }
    if !accounts.is_empty() {
        Some(accounts)
    } else if !orgs.is_empty() {
        Some(orgs)
    } else {
        None
    }
}

/// Accounts a trust policy lets assume the role (`*` for anyone), from its
/// `Principal.AWS` entries (account ids or ARNs). A `*` narrowed by a condition on
/// `aws:PrincipalAccount`, `aws:SourceAccount` or `aws:PrincipalOrgID` stands for
/// the accounts or organization ids the condition names.
fn trusted_accounts(doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for st in statements(doc).into_iter().filter(|s| allows(s)) {
        let narrow = narrowed(st);
        let principal = st.get("Principal");
        let aws = match principal {
            Some(Value::String(s)) if s == "*" => vec!["*"],
            Some(p) => strings(p.get("AWS")),
            None => Vec::new(),
        };
        let aws: Vec<&str> = aws
            .into_iter()
            .flat_map(|p| match (&narrow, p.trim()) {
                (Some(n), "*") => n.clone(),
                _ => vec![p],
            })
            .collect();
        for p in aws {
            let p = p.trim();
            let named = p == "*" || (p.starts_with("o-") && narrow.is_some());
            let account = if named || (p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())) {
                Some(p)
            } else {
                p.strip_prefix("arn:")
                    .and_then(|r| r.split(':').nth(3))
                    .filter(|a| !a.is_empty())
            };
            if let Some(a) = account {
                let a = truncate(a.to_string(), 64);
                if !out.contains(&a) && out.len() < 64 {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// The caller's own IAM user name, when the caller is an IAM user.
fn caller_user(rec: &Value) -> Option<&str> {
    if str_at(rec, &["userIdentity", "type"]) != Some("IAMUser") {
        return None;
    }
    str_at(rec, &["userIdentity", "userName"]).or_else(|| {
        let arn = str_at(rec, &["userIdentity", "arn"])?;
        arn.split_once(":user/")?.1.rsplit('/').next()
    })
}

impl CloudTrail {
    /// A successful IAM call of [`is_iam`].
    pub(super) fn iam_call(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let window = Duration::seconds(
            cx.config
                .cloudtrail
                .sequence_window_secs
                .min(crate::config::MAX_WINDOW_SECS) as i64,
        );
        let now = c.ev.time;
        match c.name {
            "CreateUser" => {
                if let Some(u) = c.req_str(&["userName"]) {
                    let k = principal_key(&c.account, "user", u);
                    self.created.insert(k, now, window);
                }
            }
            "CreateRole" => {
                if let Some(r) = c.req_str(&["roleName"]) {
                    let k = principal_key(&c.account, "role", r);
                    self.created.insert(k, now, window);
                }
                let doc = document(c.req(&["assumeRolePolicyDocument"]));
                self.outside_trust(c, cx, doc);
            }
            "UpdateAssumeRolePolicy" => {
                let doc = document(c.req(&["policyDocument"]));
                self.outside_trust(c, cx, doc);
            }
            "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" => {
                if let Some(p) = c.req_str(&["policyArn"]).and_then(managed_powerful) {
                    self.admin_policy(c, cx, p.to_string(), window);
                }
            }
            "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" => {
                let doc = document(c.req(&["policyDocument"]));
                if let Some(what) = doc.as_ref().and_then(inline_powerful) {
                    let name = c.req_str(&["policyName"]).unwrap_or("-");
                    let what = format!("{} ({what})", truncate(name.to_string(), 64));
                    self.admin_policy(c, cx, what, window);
                }
            }
            "CreateAccessKey" | "CreateLoginProfile" | "UpdateLoginProfile" => {
                self.others_credentials(c, cx, window)
            }
            _ => {}
        }
    }

    /// PrivilegeEscalation:IAMUser/AdminPolicyAttached.
    fn admin_policy(
        &mut self,
        c: &Call<'_>,
        cx: &mut Context<'_>,
        policy: String,
        window: Duration,
    ) {
        let (kind, label, name) = if let Some(u) = c.req_str(&["userName"]) {
            ("iam_user", "user", u)
        } else if let Some(r) = c.req_str(&["roleName"]) {
            ("iam_role", "role", r)
        } else if let Some(g) = c.req_str(&["groupName"]) {
            ("iam_group", "group", g)
        } else {
            return;
        };
        let name = short(name);
        let kind_msg = || {
            Msg::new(match label {
                "user" => "ct-admin-user",
                "role" => "ct-admin-role",
                _ => "ct-admin-group",
            })
        };
        let new = self
            .created
            .is_new(&principal_key(&c.account, label, &name), c.ev.time, window);
        let found = Found {
            finding_type: ADMIN_POLICY,
            severity: if new { 7.0 } else { 6.0 },
            resource_kind: kind,
            resource_id: &name,
            mitre: &["T1098.003", "T1136.003"],
            title: Msg::new("ct-admin-title")
                .arg("policy", truncate(policy.clone(), 96))
                .arg("kind", kind_msg())
                .arg("name", name.as_str())
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-admin")
                    .arg("who", c.who.as_str())
                    .arg("api", c.name)
                    .arg("policy", truncate(policy, 96))
                    .arg("kind", kind_msg())
                    .arg("name", name.as_str())
                    .arg("origin", c.origin()),
                if new {
                    Msg::new("ct-admin-new").arg("kind", kind_msg()).arg(
                        "min",
                        (cx.config.cloudtrail.sequence_window_secs / 60).max(1),
                    )
                } else {
                    Msg::new("ct-admin-why")
                },
            ],
            remediation: vec![Msg::new("ct-admin-ask"), Msg::new("ct-admin-undo")],
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }

    /// Persistence:IAMUser/CredentialsForAnotherUser.
    fn others_credentials(&mut self, c: &Call<'_>, cx: &mut Context<'_>, window: Duration) {
        // No userName: the caller's own key or password.
        let Some(target) = c.req_str(&["userName"]) else {
            return;
        };
        if caller_user(c.rec) == Some(target) {
            return;
        }
        let target = short(target);
        if self.created.is_new(
            &principal_key(&c.account, "user", &target),
            c.ev.time,
            window,
        ) {
            return;
        }
        let what = match c.name {
            "CreateAccessKey" => "ct-creds-key",
            "CreateLoginProfile" => "ct-creds-password",
            _ => "ct-creds-password-changed",
        };
        let found = Found {
            finding_type: OTHERS_CREDENTIALS,
            severity: if c.name == "UpdateLoginProfile" {
                6.0
            } else {
                7.0
            },
            resource_kind: "iam_user",
            resource_id: &target,
            mitre: &["T1098.001"],
            title: Msg::new("ct-creds-title")
                .arg("what", Msg::new(what))
                .arg("user", target.as_str())
                .arg("who", c.who.as_str()),
            description: vec![
                Msg::new("ct-creds")
                    .arg("who", c.who.as_str())
                    .arg("what", Msg::new(what))
                    .arg("api", c.name)
                    .arg("user", target.as_str())
                    .arg("origin", c.origin()),
                Msg::new("ct-creds-why"),
            ],
            remediation: vec![
                Msg::new("ct-creds-ask").arg("user", target.as_str()),
                Msg::new("ct-creds-undo").arg("user", target.as_str()),
            ],
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }

    /// Persistence:IAMRole/TrustedOutsideAccount.
    fn outside_trust(&mut self, c: &Call<'_>, cx: &mut Context<'_>, doc: Option<Value>) {
        let Some(doc) = doc else {
            return;
        };
        let own = [
            str_at(c.rec, &["userIdentity", "accountId"]),
            str_at(c.rec, &["recipientAccountId"]),
        ];
        let cfg = cx.config;
        let outside: Vec<String> = trusted_accounts(&doc)
            .into_iter()
            .filter(|a| {
                !own.contains(&Some(a.as_str()))
                    && !cfg.trusted_accounts.iter().any(|t| t.trim() == a)
                    && !cfg.cloudtrail.org_accounts.iter().any(|t| t.trim() == a)
                    && !cfg.cloudtrail.org_ids.iter().any(|t| t.trim() == a)
            })
            .collect();
        if outside.is_empty() {
            return;
        }
        let anyone = outside.iter().any(|a| a == "*");
        let role = short(c.req_str(&["roleName"]).unwrap_or("-"));
        let found = Found {
            finding_type: OUTSIDE_TRUST,
            severity: if anyone { 9.0 } else { 8.0 },
            resource_kind: "iam_role",
            resource_id: &role,
            mitre: &["T1098.003"],
            title: Msg::new("ct-trust-title")
                .arg("role", role.as_str())
                .arg("accounts", text::values_arg(&outside, false)),
            description: vec![
                Msg::new("ct-trust")
                    .arg("who", c.who.as_str())
                    .arg("api", c.name)
                    .arg("role", role.as_str())
                    .arg("accounts", text::values_arg(&outside, false))
                    .arg("origin", c.origin()),
                Msg::new(if anyone {
                    "ct-trust-anyone"
                } else {
                    "ct-trust-why"
                }),
            ],
            remediation: vec![
                Msg::new("ct-trust-ask"),
                Msg::new("ct-trust-undo").arg("role", role.as_str()),
            ],
        };
        self.raise(cx, &c.who, found, &[c.ev]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn powerful_policies() {
        assert_eq!(
            managed_powerful("arn:aws:iam::aws:policy/AdministratorAccess"),
            Some("AdministratorAccess")
        );
        assert_eq!(
            managed_powerful("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
            None
        );
        assert_eq!(
            managed_powerful("arn:aws:iam::123456789012:policy/AdministratorAccess"),
            None,
            "a customer policy with the name is not AWS's"
        );
        let star = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        assert!(inline_powerful(&star).is_some());
        let rds = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "RDS:*"], "Resource": ["*"]}]});
        assert!(inline_powerful(&rds).is_some());
        let narrow = json!({"Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "arn:aws:rds:eu-west-1:123456789012:db:dev"}]});
        assert!(inline_powerful(&narrow).is_none());
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        assert!(inline_powerful(&deny).is_none());
    }

    #[test]
    fn trust_policy_accounts() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::193672423079:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "*"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(
            trusted_accounts(&doc),
            vec!["193672423079", "111122223333", "*"]
        );
        assert_eq!(
            trusted_accounts(&json!({"Statement": "x"})),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_star_narrowed_by_a_condition_is_the_accounts_it_names() {
        let doc = |cond: Value| {
            json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole", "Condition": cond}]})
        };
        assert_eq!(
            trusted_accounts(&doc(
                json!({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
            )),
            vec!["o-a1b2c3d4e5"]
        );
        assert_eq!(
            trusted_accounts(&doc(json!({"StringEquals": {
                "aws:PrincipalOrgID": "o-a1b2c3d4e5",
                "aws:PrincipalAccount": ["123456789012", "111122223333"]}}))),
            vec!["123456789012", "111122223333"]
        );
        assert_eq!(
            trusted_accounts(&doc(
                json!({"StringEquals": {"aws:SourceAccount": "444455556666"}})
            )),
            vec!["444455556666"]
        );
        // Wildcards, other keys and IfExists narrow nothing.
        for cond in [
            json!({"StringLike": {"aws:PrincipalOrgID": "o-*"}}),
            json!({"StringEquals": {"aws:PrincipalTag/team": "data"}}),
            json!({"StringEqualsIfExists": {"aws:PrincipalAccount": "123456789012"}}),
            json!({"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}),
        ] {
            assert_eq!(trusted_accounts(&doc(cond.clone())), vec!["*"], "{cond}");
        }
        // An organization id is not an account outside a condition.
        let plain = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "o-a1b2c3d4e5"},
            "Action": "sts:AssumeRole"}]});
        assert!(trusted_accounts(&plain).is_empty());
    }

    #[test]
    fn an_organization_wide_role_is_no_outside_trust() {
        use super::super::tests::detect;
        use super::super::tests_identity::iam;
        use crate::config::Config;
        use crate::iplist::ThreatLists;
        let role = |n: u32, name: &str, cond: &str| {
            let doc = format!("{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"*\"}},\"Action\":\"sts:AssumeRole\",\"Condition\":{{\"StringEquals\":{cond}}}}}]}}");
            iam(
                n,
                "CreateRole",
                json!({"roleName": name, "assumeRolePolicyDocument": doc}),
                None,
                "198.51.100.23",
            )
        };
        let records = [
            role(1, "org-audit", r#"{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}"#),
            role(2, "own", r#"{"aws:PrincipalAccount":"123456789012"}"#),
            role(3, "partner", r#"{"aws:SourceAccount":["111122223333"]}"#),
        ];
        let cfg = Config {
            trusted_accounts: vec!["111122223333".into()],
            ..Config::default()
        };
        let mut ours = cfg.clone();
        ours.cloudtrail.org_ids = vec!["o-a1b2c3d4e5".into()];
        let fs = detect(ours, ThreatLists::default(), &records);
        assert!(fs.is_empty(), "{fs:#?}");
        // An organization not known to be ours is an outside one, not anyone.
        let fs = detect(cfg, ThreatLists::default(), &records);
        assert_eq!(fs.len(), 1, "{fs:#?}");
        assert_eq!(fs[0].finding_type, OUTSIDE_TRUST);
        assert_eq!(fs[0].severity.value(), 8.0);
        assert!(fs[0].title.contains("o-a1b2c3d4e5"), "{}", fs[0].title);
    }

    #[test]
    fn created_is_bounded() {
        let mut c = Created::default();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for i in 0..(MAX_CREATED * 3) {
            c.insert(
                format!("u{i}"),
                t + Duration::seconds(i as i64),
                Duration::seconds(3600),
            );
            assert!(c.map.len() <= MAX_CREATED);
        }
    }
}
