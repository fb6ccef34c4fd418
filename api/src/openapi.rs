//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::{routes, wire};

/// The OpenAPI document of every route (served at `GET /openapi.json`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plexus node API",
        description = "Transactions, state, blocks, proofs and events of a Plexus node. \
            Amounts are integers in base units (1 PLX = 10^9); accounts are bech32m `plx1…`; \
            hashes and bytes are hex. Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        routes::transactions::submit,
        routes::transactions::get,
        routes::chain::account,
        routes::chain::stakes,
        routes::chain::owned_hotkeys,
        routes::chain::hotkey,
        routes::chain::subnets,
        routes::chain::subnet,
        routes::chain::metagraph,
        routes::chain::weights,
        routes::chain::supply,
        routes::chain::chain,
        routes::data::tasks,
        routes::data::task,
        routes::blocks::latest,
        routes::blocks::get,
        routes::blocks::list,
        routes::proofs::account,
        routes::proofs::stake,
        routes::proofs::registration,
        routes::node::status,
        routes::node::events,
        routes::node::metrics,
        routes::node::openapi,
    ),
    components(schemas(
        wire::ErrorBody,
        wire::ErrorDetail,
        wire::SubmitRequest,
        wire::SubmitResponse,
        wire::TxStatus,
        wire::TransactionView,
        wire::Account,
        wire::Stake,
        wire::Stakes,
        wire::OwnedHotkeys,
        wire::Registration,
        wire::Hotkey,
        wire::Subnet,
        wire::SubnetAt,
        wire::Subnets,
        wire::Neuron,
        wire::Metagraph,
        wire::RowEntry,
        wire::PendingCommit,
        wire::Weights,
        wire::Supply,
        wire::Validator,
        wire::DataContribution,
        wire::DataPublication,
        wire::DataTask,
        wire::DataTasks,
        wire::DataTaskAt,
        wire::Chain,
        wire::Header,
        wire::TxSummary,
        wire::BlockView,
        wire::BlockSummary,
        wire::BlockPage,
        wire::NodeStatus,
        wire::Tip,
        wire::Status,
        wire::Proof,
        wire::ProofResponse,
        wire::BlockEvent,
        wire::LaggedEvent,
    )),
    tags(
        (name = "transactions", description = "Submit transactions and follow them"),
        (name = "accounts", description = "Balances, nonces, stakes and hotkeys"),
        (name = "subnets", description = "Subnets, metagraphs, weights and bonds"),
        (name = "chain", description = "Chain configuration and supply"),
        (name = "data", description = "Data tasks, contributions and published datasets"),
        (name = "blocks", description = "Finalized blocks"),
        (name = "proofs", description = "Merkle proofs against a header's state root"),
        (name = "node", description = "Status, events, metrics and this document"),
    )
)]
pub struct ApiDoc;
