//! Serve the node's HTTP API and the web UI.
//!
//! Everything lives under `/v1` and speaks JSON; errors are
//! `{"error": {"code": "...", "message": "..."}}` with a stable code (the ledger's
//! rejection codes pass through) and a message that says what to do. The routes:
//!
//! | method | path | answer |
//! |---|---|---|
//! | POST | `/v1/transactions` | submit `{"tx": "<hex of the canonical encoding>"}` |
//! | GET | `/v1/transactions/{hash}` | pending, or finalized with height and index |
//! | GET | `/v1/accounts/{address}` | balance and nonce (`plx1…` or hex) |
//! | GET | `/v1/accounts/{address}/stakes` | a coldkey's stakes |
//! | GET | `/v1/accounts/{address}/hotkeys` | a coldkey's hotkeys |
//! | GET | `/v1/hotkeys/{address}` | owner, take, stake, registrations |
//! | GET | `/v1/subnets`, `/v1/subnets/{netuid}` | subnets |
//! | GET | `/v1/subnets/{netuid}/metagraph` | every UID with keys, stake, scores, endpoint |
//! | GET | `/v1/subnets/{netuid}/weights/{uid}` | weights and bonds rows, pending commit |
//! | GET | `/v1/blocks/latest`, `/v1/blocks/{height or digest}`, `/v1/blocks?from=&limit=` | blocks |
//! | GET | `/v1/blocks/{height or digest}/finalization` | the block's finality certificate |
//! | GET | `/v1/supply`, `/v1/chain`, `/v1/status` | supply, chain config, progress |
//! | GET | `/v1/data/tasks` (`?netuid=&limit=`), `/v1/data/tasks/{id}` | data tasks, with contributions |
//! | GET | `/v1/data/tasks/{id}/dataset`, `…/training` (`?format=csv\|parquet`) | a task's published dataset or training half, checked against the chain |
//! | GET | `/v1/data/tasks/{id}/reports` | validators' signed score reports |
//! | GET | `/v1/proofs/account/{address}` | proof + header (also `stake/{hotkey}/{coldkey}`, `registration/{netuid}/{hotkey}`, `endpoint/{netuid}/{uid}`, `issuer/{hotkey}`, `issuer-key/{key_id}`; `?height=`) | |
//! | GET | `/v1/events` | server-sent events: `block`, `lagged` |
//! | GET | `/metrics` | node and API metrics (OpenMetrics text) |
//! | GET | `/openapi.json` | the OpenAPI document |
//! | GET | any other path | the web app ([`web`]): its files, else `index.html` (`/vN/…` stay JSON 404s) |
//!
//! The server reaches the node only through [`Backend`], so this crate does not
//! depend on the node. [`wire`] holds every JSON shape; `plexus-client` uses it with
//! this crate's default `server` feature turned off.
//!
//! Owns the node's HTTP API: routes, wire types (a client needs only `default-features
//! = false`), limits and the embedded web app. May not depend on the node or consensus
//! (it reaches the chain through the [`Backend`] trait), nor on any service crate.

pub mod wire;

#[cfg(feature = "server")]
mod backend;
#[cfg(feature = "server")]
mod error;
#[cfg(feature = "server")]
pub mod openapi;
#[cfg(feature = "server")]
mod routes;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod state;
#[cfg(feature = "server")]
pub mod web;

#[cfg(feature = "server")]
pub use backend::{
    Backend, DataFiles, DataFilesError, DatasetFormat, DatasetWanted, FinalizedBlock, NodeStatus,
    SubmitError,
};
#[cfg(feature = "server")]
pub use error::ApiError;
#[cfg(feature = "server")]
pub use server::{Route, router, routes, serve};
#[cfg(feature = "server")]
pub use state::{
    ApiConfig, ApiState, Cors, DEFAULT_BODY_LIMIT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_STREAMS, DEFAULT_REQUEST_TIMEOUT,
};
