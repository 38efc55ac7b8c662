//! The engine behind `keibi run`. For now its settings: one YAML file (`keibi.yaml`)
//! in sections — `sources`, `detection`, `lists`, `tuning`, `rules`, `store`,
//! `server`, `log` — read within the bounds of [`keibi_detect::yamlguard`], with
//! every problem reported by file, line and column (see `docs/configuration.md`).
//! [`daemon`] is `keibi run`'s loop: live sources, time order, the scanner and the
//! store, one transaction per round; signals stop and reload it. [`metrics`] is what
//! the loop publishes about itself, [`http`] serves it (`/metrics`, `/healthz`) from
//! a thread of its own, [`retention`] prunes the store on a schedule. [`pipeline`] is
//! `keibi scan` and `keibi learn`: a source of events → named detection lanes on
//! threads of their own → one joined report. [`posture`] is `keibi run`'s scheduled
//! audit: failed checks committed as findings, resolved by `keibi audit` when they pass.
//! [`responder`] acts on findings: the policy's actions journaled in the store before
//! each executor call, undone at expiry (`docs/response.md`).

pub mod daemon;
pub mod global;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod notifier;
pub mod pipeline;
pub mod posture;
pub mod respond;
pub mod responder;
pub mod retention;
pub mod settings;
pub mod worker;

pub use settings::{LoadError, Problem, Settings};
