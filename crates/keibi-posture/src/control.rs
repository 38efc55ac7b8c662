//! A control: one posture check's identity, severity and texts.

use keibi_model::Severity;

/// One check. Controls are `static` data, listed in [`crate::aws::CONTROLS`] and
/// [`crate::db::CONTROLS`]; the function that evaluates them lives beside each list.
#[derive(Debug, PartialEq)]
pub struct Control {
    /// The Security Hub control id (`RDS.2`, `EC2.19`, `CloudTrail.1`,
    /// `GuardDuty.1`) when AWS has one for the same check, else keibi's own id:
    /// `KB.RDS.1`, `KB.NACL.1`, `KB.PG.3`, `KB.MySQL.2`. Never renamed once released.
    pub id: &'static str,
    /// The type's last part, CamelCase: `Posture:RDS.2/PubliclyAccessible`.
    pub short: &'static str,
    /// Default severity, from Security Hub's label where AWS has the control
    /// (Critical 9.0, High 7.0, Medium 5.0, Low 2.0), keibi's judgment otherwise.
    pub severity: f64,
    /// The kind of resource the control looks at (`db_instance`, `db_cluster`,
    /// `db_snapshot`, `db_cluster_snapshot`, `security_group`, `network_acl`,
    /// `trail`, `aws_account`, `database`).
    pub resource_kind: &'static str,
    /// MITRE ATT&CK techniques an attacker uses through this door.
    pub mitre: &'static [&'static str],
    /// Whether `id` is AWS's (Security Hub's) id.
    pub aws_control: bool,
    /// Prefix of the control's catalog messages: `{msg}-title`, `{msg}-what`
    /// (description), `{msg}-console` and `{msg}-cli` (the remediation's two steps).
    pub msg: &'static str,
}

impl Control {
    /// `Posture:<id>/<short>`, the finding type.
    pub fn finding_type(&self) -> String {
        format!("Posture:{}/{}", self.id, self.short)
    }

    pub fn default_severity(&self) -> Severity {
        Severity::new(self.severity)
    }
}
