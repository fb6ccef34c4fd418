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
//! uses ([`plexus_session::chat::chat_body`]), so a provider cannot tell a probe from a user's
//! request. Each epoch it draws a challenge set from a secret seed
//! ([`probe::challenge_set`]), sends every provider a few probes, re-executes a
//! secret sample of the greedy answers with the declared model by teacher forcing
//! ([`verify::judge`]), and folds availability, latency, throughput and correctness
//! into an exponential moving average per provider ([`score::Scoreboard`]). A sampled
//! answer that the declared model would not have given zeroes that provider's weight
//! for [`score::Policy::penalty_epochs`] epochs (proof of sampling).
//!
//! [`probe`], [`score`] and [`verify`] are free of I/O (`plexus-sim` runs them over
//! a simulated subnet); [`service`] is the actor that runs the epoch loop against a
//! node, through the private path, with its settings ([`service::ValidatorSettings`])
//! and what it prints for its operator.
//!
//! Owns the validation of inference subnets. May not depend on an inference engine
//! (the binary hands one in through [`service::Reexecutor`]) nor on the server halves
//! of the private path.

pub mod probe;
pub mod score;
pub mod service;
pub mod verify;
