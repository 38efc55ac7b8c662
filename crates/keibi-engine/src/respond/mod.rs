//! The executors that live in the engine (`docs/response.md`): they reach the host
//! keibi runs on and the URLs and programs it is configured with. [`nft`] blocks
//! addresses in keibi's own nftables table, [`webhook`] POSTs an action and its
//! finding, signed like the webhook notification channel, [`exec`] runs a configured
//! program with them on its standard input. Each implements
//! [`keibi_respond::Executor`]; the responder calls them.

pub mod exec;
pub mod nft;
pub mod webhook;
