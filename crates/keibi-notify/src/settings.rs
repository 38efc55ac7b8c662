//! The `notify` section of the settings file.
//!
//! For now only the channels (N1's spine): every outbox entry goes to every
//! channel. Routes, quiet hours, throttles and digests come with the routing work
//! (issue 15 §2-3), which replaces this struct and provides the `plan` the notifier
//! calls in one place.

use serde::{Deserialize, Serialize};

use crate::channels::ChannelSpec;

/// `notify:` in `keibi.yaml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Where notifications go; each has a name the routes (and `keibi notify test
    /// --channel`) refer to.
    pub channels: Vec<ChannelSpec>,
}

impl NotifySettings {
    /// The problems of the section as (place, reason): names empty or repeated.
    pub fn problems(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if c.name.trim().is_empty() {
                out.push((i, "a channel needs a name".to_string()));
            } else if self.channels[..i].iter().any(|o| o.name == c.name) {
                out.push((i, format!("the channel name {:?} is used twice", c.name)));
            }
        }
        out
    }

    /// The channel named `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelSpec> {
        self.channels.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_read_from_yaml_shapes() {
        let s: NotifySettings = serde_json::from_value(serde_json::json!({
            "channels": [
                {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/x",
                 "secret": {"env": "KEIBI_HOOK_SECRET"}},
                {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/y"},
            ]
        }))
        .unwrap();
        assert_eq!(s.channels.len(), 2);
        assert_eq!(s.problems().len(), 1);
        assert!(s.channel("hook").is_some());
        // A misspelt key, of the channel or of its kind, is refused.
        for bad in [
            serde_json::json!({"name": "h", "type": "webhook", "url": "http://x/", "secrt": {"env": "S"}}),
            serde_json::json!({"nme": "h", "type": "webhook", "url": "http://x/"}),
            serde_json::json!({"name": "h", "type": "webhok", "url": "http://x/"}),
        ] {
            let r =
                serde_json::from_value::<NotifySettings>(serde_json::json!({"channels": [bad]}));
            assert!(r.is_err(), "{r:?}");
        }
    }
}
