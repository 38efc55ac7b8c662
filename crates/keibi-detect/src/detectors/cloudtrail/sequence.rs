//! AttackSequence:IAM/CompromisedCredentials: a console sign-in that followed a brute
//! force (`console.rs`), then, by the same principal within
//! `cloudtrail.sequence_window_secs`, IAM changes that keep or widen access (a new
//! user, access keys, passwords, admin policies, trust, federation tokens, Roles
//! Anywhere). One finding tells the whole story, its steps in order; each step also
//! raises its own finding where it has one.

use chrono::{DateTime, Utc};

use super::bursts::Entry;
use super::*;

pub const ATTACK_SEQUENCE: &str = "AttackSequence:IAM/CompromisedCredentials";

/// Taken-over principals remembered at once; the oldest are forgotten first.
const MAX_TAKEN: usize = 1024;
/// Steps a story names; later ones are counted.
const MAX_STEPS: usize = 32;

struct Takeover {
    /// The successful sign-in, absorbed into the story when it starts.
    login: Entry,
    account: String,
    user: String,
    ip: String,
    failures: usize,
    root: bool,
    steps: Vec<String>,
    more: usize,
}

/// Principals whose console sign-in followed a brute force.
#[derive(Default)]
pub(super) struct Sequence {
    taken: HashMap<String, Takeover>,
}

impl Sequence {
    /// Remembers that `who` signed in after a brute force. A principal already
    /// taken over within `window` keeps its story (its first sign-in and the steps
    /// so far): later sign-ins while the failures are still counted do not restart it.
    pub(super) fn taken_over(
        &mut self,
        c: &Call<'_>,
        who: &str,
        failures: usize,
        root: bool,
        window: chrono::Duration,
    ) {
        if let Some(t) = self.taken.get(who) {
            let now = c.ev.time;
            if now >= t.login.time && now - t.login.time <= window {
                return;
            }
        }
        if !self.taken.contains_key(who) && self.taken.len() >= MAX_TAKEN {
            if let Some(oldest) = self
                .taken
                .iter()
                .min_by_key(|(_, t)| t.login.time)
                .map(|(k, _)| k.clone())
            {
                self.taken.remove(&oldest);
            }
        }
        let user = if root {
            "root".to_string()
        } else {
            who.rsplit('/').next().unwrap_or(who).to_string()
        };
        self.taken.insert(
            who.to_string(),
            Takeover {
                login: Entry::of(c.ev, String::new()),
                account: c.account.clone(),
                user: truncate(user, 64),
                ip: c
                    .ev
                    .client_ip
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "-".into()),
                failures,
                root,
                steps: Vec::new(),
                more: 0,
            },
        );
    }
}

/// The calls that keep or widen access, as steps of a story.
pub(super) fn is_step(source: &str, name: &str) -> bool {
    match source {
        "iam.amazonaws.com" => matches!(
            name,
            "CreateUser"
                | "CreateAccessKey"
                | "CreateLoginProfile"
                | "UpdateLoginProfile"
                | "AttachUserPolicy"
                | "AttachRolePolicy"
                | "AttachGroupPolicy"
                | "PutUserPolicy"
                | "PutRolePolicy"
                | "PutGroupPolicy"
                | "AddUserToGroup"
                | "CreateRole"
                | "UpdateAssumeRolePolicy"
                | "DeactivateMFADevice"
                | "DeleteVirtualMFADevice"
        ),
        "sts.amazonaws.com" => name == "GetFederationToken",
        "rolesanywhere.amazonaws.com" => name == "CreateTrustAnchor",
        _ => false,
    }
}

/// `CreateUser backup-admin`, `AttachUserPolicy AdministratorAccess backup-admin`:
/// the call and what it named.
fn step_of(c: &Call<'_>) -> String {
    let mut s = c.name.to_string();
    if let Some(p) = c.req_str(&["policyArn"]) {
        s.push(' ');
        s.push_str(p.rsplit('/').next().unwrap_or(p));
    } else if c.req_str(&["policyName"]).is_some() {
        s.push_str(" (inline)");
    }
    for k in ["userName", "roleName", "groupName", "name"] {
        if let Some(v) = c.req_str(&[k]) {
            s.push(' ');
            s.push_str(v);
            break;
        }
    }
    truncate(s, 96)
}

impl CloudTrail {
    /// One IAM call by a principal taken over in the window: a step of its story.
    pub(super) fn sequence_step(&mut self, c: &Call<'_>, cx: &mut Context<'_>) {
        let window = chrono::Duration::seconds(
            cx.config
                .cloudtrail
                .sequence_window_secs
                .min(crate::config::MAX_WINDOW_SECS) as i64,
        );
        let Some(t) = self.sequence.taken.get_mut(&c.who) else {
            return;
        };
        let now: DateTime<Utc> = c.ev.time;
        if now < t.login.time || now - t.login.time > window {
            return;
        }
        let first = t.steps.is_empty() && t.more == 0;
        if t.steps.len() < MAX_STEPS {
            t.steps.push(step_of(c));
        } else {
            t.more += 1;
        }
        let login = first.then(|| t.login.event(&c.who));
        let text = story(t, cx.config.cloudtrail.sequence_window_secs);
        let (account, root) = (t.account.clone(), t.root);
        let found = Found {
            finding_type: ATTACK_SEQUENCE,
            severity: if root { 9.5 } else { 9.0 },
            resource_kind: "aws_account",
            resource_id: &account,
            mitre: &["T1110.001", "T1078.004", "T1098", "T1136.003"],
            title: text.title.clone().unwrap_or_else(|| Msg::new("ct-none")),
            description: text.description.clone(),
            remediation: text.remediation.clone(),
        };
        let evs: Vec<&Event> = login.iter().chain(std::iter::once(c.ev)).collect();
        let who = c.who.clone();
        if let Some(id) = self.raise(cx, &who, found, &evs) {
            self.texts.insert(id, text);
        }
    }
}

/// The story's texts, rebuilt as steps come.
fn story(t: &Takeover, window_secs: u64) -> FindingText {
    FindingText {
        title: Some(
            Msg::new("ct-seq-title")
                .arg("user", t.user.as_str())
                .arg("account", t.account.as_str())
                .arg("n", t.steps.len() + t.more),
        ),
        description: vec![
            Msg::new("ct-seq")
                .arg("user", t.user.as_str())
                .arg("account", t.account.as_str())
                .arg("ip", t.ip.as_str())
                .arg("failures", t.failures)
                .arg("min", (window_secs / 60).max(1))
                .arg("n", t.steps.len() + t.more)
                .arg("steps", text::values_arg(&t.steps, t.more > 0)),
            Msg::new("ct-seq-why"),
        ],
        remediation: vec![
            Msg::new(if t.root {
                "ct-seq-lock-root"
            } else {
                "ct-seq-lock-user"
            }),
            Msg::new("ct-seq-undo"),
            Msg::new("ct-seq-db"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::tests::detect;
    use super::super::tests_identity::{iam, signin};
    use super::*;
    use crate::config::Config;
    use crate::iplist::ThreatLists;

    fn bob() -> Value {
        json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEBOB000001",
            "arn": "arn:aws:iam::123456789012:user/bob", "accountId": "123456789012",
            "userName": "bob"})
    }

    #[test]
    fn a_second_sign_in_keeps_the_story() {
        let ip = "203.0.113.50";
        let mut r: Vec<Value> = (0..5)
            .map(|i| signin(i * 10, bob(), ip, false, false))
            .collect();
        r.push(signin(60, bob(), ip, true, false));
        r.push(iam(
            70,
            "CreateUser",
            json!({"userName": "backup-admin"}),
            Some(bob()),
            ip,
        ));
        // Signs in again while the failures are still in the window.
        r.push(signin(80, bob(), ip, true, false));
        r.push(iam(
            90,
            "CreateAccessKey",
            json!({"userName": "backup-admin"}),
            Some(bob()),
            ip,
        ));
        let fs = detect(Config::default(), ThreatLists::default(), &r);
        let seq: Vec<_> = fs
            .iter()
            .filter(|f| f.finding_type == ATTACK_SEQUENCE)
            .collect();
        assert_eq!(seq.len(), 1, "{fs:#?}");
        for step in ["CreateUser backup-admin", "CreateAccessKey backup-admin"] {
            assert!(
                seq[0].description.contains(step),
                "{step}: {}",
                seq[0].description
            );
        }
        assert!(
            seq[0].title.contains("made 2 IAM change(s)"),
            "{}",
            seq[0].title
        );
    }
}
