//! Probe inference providers privately, check their answers against the declared model, and turn the results into weights.
//!
//! Owns the validator's rules: the challenge sets, the teacher-forcing verdict and
//! its engine-neutral input ([`verify::TokenScore`]), the scoreboard and the weights.
//! May not depend on an inference engine (`plexus-inference`, llama.cpp): engines
//! depend on this crate's types, never the reverse, so a validator can be generic over
//! the engine that re-executes.
//!
//! A validator on an inference subnet is a user like any other: it buys credits and
//! sends chat requests through a relay, built by the same function `plexus chat`
//! uses ([`probe::chat_body`]), so a provider cannot tell a probe from a user's
//! request. Each epoch it draws a challenge set from a secret seed
//! ([`probe::challenge_set`]), sends every provider a few probes, re-executes a
//! secret sample of the greedy answers with the declared model by teacher forcing
//! ([`verify::judge`]), and folds availability, latency, throughput and correctness
//! into an exponential moving average per provider ([`score::Scoreboard`]). A sampled
//! answer that the declared model would not have given zeroes that provider's weight
//! for [`score::Policy::penalty_epochs`] epochs (proof of sampling).
//!
//! Everything here is free of I/O; `plexus validator` sends the probes and the
//! weights.

pub mod probe;
pub mod score;
pub mod sim;
pub mod verify;
