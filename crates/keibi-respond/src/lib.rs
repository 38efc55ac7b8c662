//! keibi's response core (`docs/response.md`): what to do about a finding, and the
//! record of what was done.
//!
//! * [`policy`]: ordered rules → planned actions, first match wins, allowlists
//!   checked once here; no rule: the finding's suggested actions, simulated.
//! * [`action`]: the journal's model (`Action`, `State`, `Transition`); the store
//!   keeps it (`keibi-store`'s `journal`).
//! * [`executor`]: the one trait each way of acting implements, in the edge crate
//!   that can reach the world (`keibi-aws`, `keibi-dbprobe`, `keibi-engine`).
//! * [`target`]: what an action acts on, and the key by which two actions on the
//!   same thing are one.
//!
//! Pure: no I/O, no clock, no threads. `keibi-engine`'s responder drives it.

pub mod action;
pub mod executor;
pub mod policy;
pub mod target;

pub use action::{action_id, Action, Mode, State, Transition};
pub use executor::{ExecError, Executor, Request};
pub use policy::{ActionRef, Never, Pattern, Planned, Policy, Rule};
pub use target::{Kind, Place, Target};
