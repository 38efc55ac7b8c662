//! The `respond` section (`docs/response.md`): whether keibi acts on findings, the
//! policy (ordered rules, allowlists, rate limit), and how each executor reaches
//! what it changes. Off until `enabled: true`; once on, every rule acts in mode
//! `simulate` unless it says `auto` or `approve`.

use std::collections::BTreeMap;

use keibi_model::Severity;
use keibi_notify::Secret;
use keibi_respond::{ActionRef, Mode, Never, Pattern, Policy, Rule};
use serde::{Deserialize, Deserializer, Serialize};

use super::values::{Cidr, Duration};

/// Automated response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Respond {
    /// Plan and record actions at all. Off by default; `keibi actions pause` is the
    /// switch that needs no restart.
    pub enabled: bool,
    /// At most this many actions start executing in any hour; the rest are skipped
    /// (and notified). Simulated actions do not count.
    pub max_per_hour: u32,
    /// How long a block stays when its rule does not say.
    pub block_for: Duration,
    /// With no rule matching a finding, record its suggested actions as simulated.
    pub simulate_suggested: bool,
    /// What no action ever touches.
    pub never: RespondNever,
    /// Ordered rules; the first that matches a finding decides.
    pub rules: Vec<RespondRule>,
    /// AWS executors: network ACL blocks, public access, security-group rules, IAM
    /// containment, trail logging.
    pub aws: RespondAws,
    /// Host executor: an nftables set with timeouts.
    pub nftables: RespondNftables,
    /// Database executors: how to reach each instance findings name.
    pub databases: Vec<RespondDatabase>,
    /// `webhook:NAME` actions.
    pub webhooks: BTreeMap<String, RespondWebhook>,
    /// `exec:NAME` actions.
    pub exec: BTreeMap<String, RespondExec>,
}

impl Default for Respond {
    fn default() -> Self {
        Respond {
            enabled: false,
            max_per_hour: 20,
            block_for: Duration::from_secs(24 * 3600),
            simulate_suggested: true,
            never: RespondNever::default(),
            rules: Vec::new(),
            aws: RespondAws::default(),
            nftables: RespondNftables::default(),
            databases: Vec::new(),
            webhooks: BTreeMap::new(),
            exec: BTreeMap::new(),
        }
    }
}

/// `respond.never`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondNever {
    /// Office and VPN networks, application servers (`lists.trusted` is added).
    pub addresses: Vec<Cidr>,
    /// Database roles: `name` on every instance, or `instance/name`.
    pub roles: Vec<String>,
    /// IAM principal ARNs (glob patterns). (The IAM executor itself refuses the
    /// principal keibi runs as.)
    pub principals: Vec<String>,
    /// Resource ids (glob patterns).
    pub resources: Vec<String>,
}

/// One rule of `respond.rules`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondRule {
    /// Shown in the journal (unset: `#N`, 1-based).
    pub name: Option<String>,
    /// Glob patterns on the finding type; one must match (none given: any).
    pub types: Vec<String>,
    /// The finding's severity is at least this: a label (`high`) or a number.
    pub severity_at_least: Option<Severity>,
    /// Glob patterns on the resource id.
    pub resources: Vec<String>,
    /// AWS account ids.
    pub accounts: Vec<String>,
    /// `block_address`, `lock_role`, `end_sessions`, `close_public_access`,
    /// `revoke_ingress`, `contain_principal`, `restore_logging`, `webhook:NAME`,
    /// `exec:NAME`; unset: the finding's suggested actions; `[]`: nothing.
    pub actions: Option<Vec<String>>,
    /// `simulate` (the default), `approve` or `auto`.
    pub mode: Mode,
    /// How long an executed action stays before the daemon undoes it (unset: a
    /// block `block_for`, anything else until undone).
    pub expire_after: Option<Duration>,
}

/// `respond.aws`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondAws {
    pub enabled: bool,
    /// The region of findings that name none; unset: the credential chain's.
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Send the calls here instead of AWS (moto, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// A role to assume (with the chain's or the profile's credentials) and act
    /// with.
    pub role_arn: Option<String>,
    /// The external id `role_arn`'s trust policy asks for.
    pub external_id: Option<String>,
    /// The network ACL rule numbers keibi may use for deny entries, `first-last`:
    /// below the ACL's own allow rules, never touching an entry outside the range.
    pub nacl_rule_numbers: String,
    /// Network ACLs to block in when a finding names no instance (a CloudTrail
    /// finding, a host log).
    pub network_acls: Vec<String>,
    /// Accounts a snapshot may stay shared with (anything else, and `all`, is
    /// removed by `close_public_access`).
    pub trusted_accounts: Vec<String>,
}

impl Default for RespondAws {
    fn default() -> Self {
        RespondAws {
            enabled: false,
            region: None,
            profile: None,
            endpoint_url: None,
            role_arn: None,
            external_id: None,
            nacl_rule_numbers: "1-50".to_string(),
            network_acls: Vec::new(),
            trusted_accounts: Vec::new(),
        }
    }
}

/// `respond.nftables`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondNftables {
    pub enabled: bool,
    /// The command and its first arguments (`[nft]`, `[sudo, -n, nft]`).
    pub command: Vec<String>,
    /// keibi's own table (family `inet`); keibi creates it and touches nothing else.
    pub table: String,
}

impl Default for RespondNftables {
    fn default() -> Self {
        RespondNftables {
            enabled: false,
            command: vec!["nft".to_string()],
            table: "keibi".to_string(),
        }
    }
}

/// One entry of `respond.databases`: where an instance findings name is reached
/// with a role allowed to lock roles and end sessions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondDatabase {
    /// The instance as findings name it (`resource.id`: the RDS instance id, or
    /// the `--instance` of a log source).
    pub instance: String,
    /// `postgres://keibi_responder@db:5432/postgres` or `mysql://…`, without the
    /// password.
    pub url: String,
    #[serde(deserialize_with = "secret")]
    pub password: Option<Secret>,
}

/// One entry of `respond.webhooks`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondWebhook {
    pub url: String,
    /// Signs the body (`X-Keibi-Signature`, as the webhook channel).
    #[serde(deserialize_with = "secret")]
    pub secret: Option<Secret>,
    /// Unset: 10s.
    pub timeout: Option<Duration>,
}

/// One entry of `respond.exec`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RespondExec {
    /// The program and its arguments (no shell): the finding and the action as JSON
    /// on its standard input.
    pub command: Vec<String>,
    /// Killed after this (unset: 30s).
    pub timeout: Option<Duration>,
}

/// A secret written as a one-key map (`{env: NAME}`).
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "a secret is {{env: NAME}}, {{file: PATH}} or {{value: ...}}: {e}"
            ))
        }),
    }
}

impl Respond {
    /// The policy keibi-respond plans with. `trusted` (the `lists.trusted`
    /// networks) and `principals` (the one keibi runs as) join the allowlists.
    /// Patterns and action names are checked by `problems`; a bad one here is left
    /// out (the daemon refuses to start on problems first).
    pub fn policy(&self, trusted: &[ipnet::IpNet], principals: &[String]) -> Policy {
        let pats = |v: &[String]| -> Vec<Pattern> {
            v.iter().filter_map(|p| Pattern::new(p).ok()).collect()
        };
        let mut addresses: Vec<ipnet::IpNet> = self
            .never
            .addresses
            .iter()
            .filter_map(|c| ipnet::IpNet::new(c.addr, c.prefix).ok())
            .collect();
        addresses.extend(trusted.iter().copied());
        let mut principal_pats = pats(&self.never.principals);
        principal_pats.extend(principals.iter().filter_map(|p| Pattern::new(p).ok()));
        Policy {
            rules: self
                .rules
                .iter()
                .map(|r| Rule {
                    name: r.name.clone(),
                    types: pats(&r.types),
                    min_severity: r.severity_at_least.map(|s| s.value()),
                    resources: pats(&r.resources),
                    accounts: r.accounts.clone(),
                    actions: r
                        .actions
                        .as_ref()
                        .map(|a| a.iter().filter_map(|s| ActionRef::parse(s).ok()).collect()),
                    mode: r.mode,
                    expire_after: r.expire_after.map(|d| d.std()),
                })
                .collect(),
            never: Never {
                addresses,
                roles: self.never.roles.clone(),
                principals: principal_pats,
                resources: pats(&self.never.resources),
            },
            simulate_suggested: self.simulate_suggested,
            block_for: self.block_for.std(),
        }
    }

    /// What is wrong with the section, each as (dotted key, reason).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            for (key, v) in [("types", &r.types), ("resources", &r.resources)] {
                for p in v {
                    if let Err(e) = Pattern::new(p) {
                        out.push((format!("respond.rules[{i}].{key}"), e));
                    }
                }
            }
            for a in r.actions.iter().flatten() {
                match ActionRef::parse(a) {
                    Err(e) => out.push((format!("respond.rules[{i}].actions"), e)),
                    Ok(ActionRef {
                        kind: keibi_respond::Kind::Webhook,
                        name: Some(n),
                    }) if !self.webhooks.contains_key(&n) => out.push((
                        format!("respond.rules[{i}].actions"),
                        format!("no webhook {n:?} in respond.webhooks"),
                    )),
                    Ok(ActionRef {
                        kind: keibi_respond::Kind::Exec,
                        name: Some(n),
                    }) if !self.exec.contains_key(&n) => out.push((
                        format!("respond.rules[{i}].actions"),
                        format!("no command {n:?} in respond.exec"),
                    )),
                    Ok(_) => {}
                }
            }
        }
        for (key, v) in [
            ("respond.never.principals", &self.never.principals),
            ("respond.never.resources", &self.never.resources),
        ] {
            for p in v {
                if let Err(e) = Pattern::new(p) {
                    out.push((key.to_string(), e));
                }
            }
        }
        if parse_range(&self.aws.nacl_rule_numbers).is_none() {
            out.push((
                "respond.aws.nacl_rule_numbers".into(),
                format!(
                    "{:?} is not a range of rule numbers: write first-last within 1-32766, as 1-50",
                    self.aws.nacl_rule_numbers
                ),
            ));
        }
        for (k, why) in super::audit::role_problems(
            self.aws.role_arn.as_deref(),
            self.aws.external_id.as_deref(),
        ) {
            out.push((format!("respond.aws.{k}"), why));
        }
        if self.nftables.command.is_empty() {
            out.push(("respond.nftables.command".into(), "is empty".into()));
        }
        if !self
            .nftables
            .table
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || self.nftables.table.is_empty()
        {
            out.push((
                "respond.nftables.table".into(),
                "a table name is letters, digits, `_` and `-`".into(),
            ));
        }
        for (i, d) in self.databases.iter().enumerate() {
            if d.instance.is_empty() {
                out.push((
                    format!("respond.databases[{i}].instance"),
                    "is empty".into(),
                ));
            }
            if !(d.url.starts_with("postgres://")
                || d.url.starts_with("postgresql://")
                || d.url.starts_with("mysql://")
                || d.url.starts_with("mariadb://"))
            {
                out.push((
                    format!("respond.databases[{i}].url"),
                    "a database URL starts with postgres:// or mysql://".into(),
                ));
            }
        }
        for (n, e) in &self.exec {
            if e.command.is_empty() {
                out.push((format!("respond.exec.{n}.command"), "is empty".into()));
            }
        }
        for (n, w) in &self.webhooks {
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                out.push((
                    format!("respond.webhooks.{n}.url"),
                    "is not an http(s) URL".into(),
                ));
            }
        }
        out
    }
}

/// `first-last` within 1-32766.
pub fn parse_range(s: &str) -> Option<std::ops::RangeInclusive<u16>> {
    let (a, b) = s.trim().split_once('-')?;
    let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (1..=32766).contains(&a).then_some(())?;
    (a..=32766).contains(&b).then_some(a..=b)
}
