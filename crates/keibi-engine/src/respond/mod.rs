//! The executors that live in the engine (`docs/response.md`): they reach the host
//! keibi runs on and the URLs it is configured with. [`nft`] blocks addresses in
//! keibi's own nftables table, [`webhook`] POSTs an action and its finding, signed
//! like the webhook notification channel. Each implements
//! [`keibi_respond::Executor`]; the responder calls them.

pub mod nft;
pub mod webhook;
