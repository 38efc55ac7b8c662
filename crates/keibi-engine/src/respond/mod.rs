//! The executors that live in the engine (`docs/response.md`): they reach the host
//! keibi runs on and the URLs it is configured with. [`nft`] blocks addresses in
//! keibi's own nftables table. Each implements [`keibi_respond::Executor`]; the
//! responder calls them.

pub mod nft;
