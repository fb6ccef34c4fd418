//! Probe inference providers privately, check their answers against the declared model, and turn the results into weights.
//!
//! Owns the validator's rules: the challenge sets, the teacher-forcing verdict and
//! its engine-neutral input ([`verify::TokenScore`]), the scoreboard and the weights.
//! May not depend on an inference engine (`plexus-inference`, llama.cpp): engines
//! depend on this crate's types, never the reverse, so a validator can be generic over
//! the engine that re-executes.
//!
//! A validator on an inference subnet is a user like any other: it buys credits and
//! sends chat requests through a relay, over the session `plexus chat` uses, so the
//! transport does not tell a probe from a user's request. What a probe asks comes
//! from the validator's private corpus ([`corpus`]: the operator's own chat requests,
//! or a secret sample of a public conversation data set), in the shapes clients send
//! (multi-turn, system prompts, `max_tokens`, temperature, stop words, streaming or
//! not), and probes leave at random times over the epoch, a Poisson process per
//! provider ([`probe::arrivals`]). The validator re-executes a secret sample of the
//! answers with the declared model by teacher forcing ([`verify::judge`]: the argmax
//! for greedy requests, a looser margin for sampled ones), and folds availability,
//! latency, throughput and correctness into an exponential moving average per
//! provider ([`score::Scoreboard`]). A sampled answer that the declared model would
//! not have given zeroes that provider's weight for [`score::Policy::penalty_epochs`]
//! chain epochs and as many of the validator's rounds (proof of sampling).
//!
//! [`corpus`] (but for reading and writing corpus files), [`probe`], [`score`] and
//! [`verify`] are free of I/O (`plexus-sim` runs them over
//! a simulated subnet); [`service`] is the actor that runs the epoch loop against a
//! node, through the private path, with its settings ([`service::ValidatorSettings`])
//! and what it prints for its operator.
//!
//! Owns the validation of inference subnets. May not depend on an inference engine
//! (the binary hands one in through [`service::Reexecutor`]) nor on the server halves
//! of the private path.

pub mod corpus;
pub mod probe;
pub mod score;
pub mod service;
pub mod verify;
