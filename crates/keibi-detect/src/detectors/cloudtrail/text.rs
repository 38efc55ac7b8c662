//! The CloudTrail findings' words as catalog messages (`locales/*/cloudtrail.ftl`):
//! the caller's origin, bounded lists and the closing figures. English renders as
//! these findings always read (docs/i18n.md).

use keibi_model::{Arg, Finding, Msg};

use super::*;

/// Items a list shows before "and N more", and the longest item kept (as
/// `list_text`, whose English these lists keep).
const SHOWN: usize = 5;
const ITEM: usize = 64;

/// One attacker-written value of a list, cut to [`ITEM`] characters.
pub(super) fn item(s: &str) -> Msg {
    Msg::new("ct-item").arg("v", truncate(s.to_string(), ITEM))
}

/// Up to five items, then how many more (`a, b, c, d, e and 3 more`, with `+` when
/// the list behind them was bounded), or `-` when there is none.
pub(super) fn list_arg(items: Vec<Msg>, truncated: bool) -> Arg {
    if items.is_empty() {
        return Msg::new("ct-none").into();
    }
    let rest = items.len().saturating_sub(SHOWN);
    let shown = Arg::Join(items.into_iter().take(SHOWN).collect());
    if rest > 0 || truncated {
        let more = format!("{rest}{}", if truncated { "+" } else { "" });
        Msg::new("ct-list-more")
            .arg("list", shown)
            .arg("more", more)
            .into()
    } else {
        shown
    }
}

/// [`list_arg`] of plain values.
pub(super) fn values_arg(values: &[String], truncated: bool) -> Arg {
    list_arg(values.iter().map(|v| item(v)).collect(), truncated)
}

impl Call<'_> {
    /// `from 203.0.113.7 (aws-cli/2.15) in eu-west-1 of account 123456789012`.
    pub(super) fn origin(&self) -> Msg {
        let ip = self
            .rec
            .get("sourceIPAddress")
            .and_then(Value::as_str)
            .unwrap_or("-");
        let ua = self.ev.application.as_deref().unwrap_or("-");
        let region = self.rec.get("awsRegion").and_then(Value::as_str);
        let m = Msg::new(if region.is_some() {
            "ct-origin-region"
        } else {
            "ct-origin"
        })
        .arg("ip", truncate(ip.to_string(), 64))
        .arg("ua", truncate(ua.to_string(), 120))
        .arg("account", self.account.as_str());
        match region {
            Some(r) => m.arg("region", truncate(r.to_string(), 32)),
            None => m,
        }
    }
}

/// `3 call(s) between A and B; source addresses: x, y.`
pub(super) fn figures(f: &Finding) -> Msg {
    let ips: Vec<String> = if f.actor.ips.is_empty() {
        f.actor.ip.iter().map(IpAddr::to_string).collect()
    } else {
        f.actor.ips.iter().map(IpAddr::to_string).collect()
    };
    Msg::new("ct-figures")
        .arg("count", f.count)
        .arg("first", f.first_seen)
        .arg("last", f.last_seen)
        .arg("ips", values_arg(&ips, f.actor.ips_truncated))
}
