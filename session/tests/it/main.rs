//! The private-path session against an in-process node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod a_forged_issuer_key_from_a_malicious_node_is_never_paid_or_blinded_to;
mod a_forged_provider_key_from_a_malicious_node_is_never_sealed_to;
mod a_node_cannot_time_private_requests_by_the_clients_chain_reads;
