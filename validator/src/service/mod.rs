//! The validator's epoch loop as an actor: every epoch, probe every provider of the
//! subnet over the private path, re-execute a secret sample by teacher forcing, fold
//! the results into the scoreboard, reveal the previous epoch's weights and commit
//! this one's.
//!
//! The actor is generic over how probes travel ([`Transport`]: the private path in
//! production, [`PrivatePath`]) and how answers are re-executed ([`Reexecutor`]: the
//! declared model, loaded by the binary), and reads the chain through a
//! [`plexus_client::Client`]; the scoreboard, the seed and the pending weights commit
//! live in files, so a restart resumes where it stopped.

mod settings;
mod state;
mod transport;

use std::{path::PathBuf, time::Duration};

use futures::future::BoxFuture;
use plexus_client::{
    Client, ClientError,
    weights::{CommitFile, RevealProgress, Weights, WeightsError},
};
use plexus_session::{chat::Message, providers::ProviderTarget};
use plexus_types::{AccountId, Hash, Keypair, Netuid};
use serde::Serialize;
use tokio::time::Instant;

pub use self::{
    settings::{SettingsError, ValidatorSettings},
    state::{State, StateError},
    transport::{DEFAULT_BUNDLE, DEFAULT_PROBE_TIMEOUT, PrivatePath, ProbeError, Timed, Transport},
};
use crate::{
    corpus::{ChatRequest, CorpusError, Params, default_public_dataset, draw_probe, load_or_build},
    probe::{arrivals, sampled},
    score::{Check, Policy, Probe, Scoreboard},
    verify::{TokenScore, Verdict, VerifyPolicy, judge, judge_ended, sampled_policy},
};

/// Re-execute answers with the declared model (teacher forcing).
pub trait Reexecutor: Send + Sync {
    /// The model's tokens for `text`.
    fn tokenize(&self, text: &str) -> Vec<u32>;
    /// The tokens that end generation, the one that ends a turn first; empty when the
    /// engine cannot tell (answers are then not checked for where they end).
    fn end_tokens(&self) -> Vec<u32> {
        Vec::new()
    }
    /// Score `tokens` as the answer to the conversation `messages` (ending on a user
    /// turn), rendered with the model's chat template; tokens are ranked in the model's
    /// distribution at `temperature` (greedy answers, judged by the argmax, are scored
    /// at 1).
    fn score_tokens(
        &self,
        messages: &[Message],
        tokens: Vec<u32>,
        temperature: f32,
    ) -> BoxFuture<'_, Result<Vec<TokenScore>, String>>;
}

impl<R: Reexecutor + ?Sized> Reexecutor for std::sync::Arc<R> {
    fn tokenize(&self, text: &str) -> Vec<u32> {
        (**self).tokenize(text)
    }

    fn end_tokens(&self) -> Vec<u32> {
        (**self).end_tokens()
    }

    fn score_tokens(
        &self,
        messages: &[Message],
        tokens: Vec<u32>,
        temperature: f32,
    ) -> BoxFuture<'_, Result<Vec<TokenScore>, String>> {
        (**self).score_tokens(messages, tokens, temperature)
    }
}

/// What the actor needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The inference subnet to validate.
    pub netuid: Netuid,
    /// The validator hotkey (it signs weights).
    pub hotkey: Keypair,
    /// The weights hash of the model this validator re-executes with: providers
    /// declaring others cannot be checked and earn nothing.
    pub declared: Hash,
    /// The secret seed probes and samples are drawn from.
    pub seed: [u8; 32],
    /// Where the scoreboard is kept.
    pub state_path: PathBuf,
    /// Where a weights commit waits for its reveal.
    pub commit_path: PathBuf,
    /// Stop after this many epochs (`None`: until the future is dropped).
    pub epochs: Option<u64>,
    /// The operator's own probe corpus (JSONL chat requests, [`crate::corpus`]);
    /// `None`: the private corpus kept beside the state file, built on first start
    /// from the public data set `scripts/setup.sh` installs.
    pub corpus: Option<PathBuf>,
}

/// Why the actor stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The node could not be read.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The state file could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// Credits for the probes could not be bought.
    #[error("cannot buy credits for the probes")]
    Credits(#[source] ProbeError),
    /// The probe corpus could not be read or built.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
}

impl ServiceError {
    /// Whether the same epoch may succeed when tried again: a chain read the node
    /// could not serve for now, or a credit purchase (a transaction of the same
    /// coldkey waiting, a node restarting).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Client(e) => e.is_retryable(),
            Self::Credits(_) => true,
            Self::State(_) | Self::Corpus(_) => false,
        }
    }
}

/// One provider's results in one epoch.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderReport {
    /// Its UID.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: AccountId,
    /// The model it declares.
    pub model: String,
    /// Each probe's outcome.
    pub probes: Vec<Probe>,
    /// The re-executed probes' verdicts.
    pub verdicts: Vec<Verdict>,
    /// This epoch's score.
    pub score: f64,
    /// The moving average.
    pub ema: f64,
    /// Why it scored nothing, if it did not answer or cannot be checked.
    pub note: Option<String>,
}

/// What the actor did, for its operator.
#[derive(Debug, Clone)]
pub enum Event {
    /// Every provider was probed for `epoch`.
    Probed {
        /// The epoch.
        epoch: u64,
        /// One report per provider, by UID.
        providers: Vec<ProviderReport>,
    },
    /// The previous epoch's weights were revealed.
    Revealed {
        /// The epoch.
        epoch: u64,
        /// The block that includes the reveal.
        height: u64,
    },
    /// No provider earned weight: nothing was committed.
    NoWeights {
        /// The epoch.
        epoch: u64,
    },
    /// Weights were set directly (no commit-reveal on this subnet).
    Set {
        /// The epoch.
        epoch: u64,
        /// The block that includes them.
        height: u64,
    },
    /// The chain could not be read or the probes' credits bought: the epoch is tried
    /// again after [`RETRY_AFTER`], with nothing recorded for it yet.
    Retrying {
        /// The epoch, when known.
        epoch: Option<u64>,
        /// What failed, with its causes.
        error: String,
    },
    /// Weights were committed; they are revealed in the next epoch.
    Committed {
        /// The epoch.
        epoch: u64,
        /// `(uid, weight)` pairs.
        weights: Vec<(u16, u16)>,
        /// The block that includes the commit.
        height: u64,
    },
}

/// How long the actor waits before trying again after a failed chain read or credit
/// purchase.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The file beside the state file that keeps a validator's private corpus.
pub const CORPUS_FILE: &str = "corpus.jsonl";

/// The time probes are spread over before the validator has seen an epoch go by.
pub const FIRST_EPOCH_WINDOW: Duration = Duration::from_secs(30);

/// Probes of an epoch leave within this share of the epoch (per mille), so their
/// answers mostly come back before the next round starts: the last 5 % of each epoch
/// carries no probe, the one timing trace left (the red-team bench measures with it).
pub const WINDOW_PER_MILLE: u32 = 950;

/// The operator's lines: one per provider for [`Event::Probed`], one otherwise.
impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Probed { epoch, providers } => {
                let lines: Vec<String> = providers.iter().map(|r| r.line(*epoch)).collect();
                write!(f, "{}", lines.join("\n"))
            }
            Self::Retrying { epoch, error } => match epoch {
                Some(epoch) => write!(f, "epoch {epoch}: {error}; trying again"),
                None => write!(f, "{error}; trying again"),
            },
            Self::Revealed { epoch, height } => {
                write!(f, "epoch {epoch}: revealed weights in block {height}")
            }
            Self::NoWeights { epoch } => {
                write!(
                    f,
                    "epoch {epoch}: no provider earned weight; nothing committed"
                )
            }
            Self::Set { epoch, height } => {
                write!(f, "epoch {epoch}: set weights in block {height}")
            }
            Self::Committed {
                epoch,
                weights,
                height,
            } => {
                let pairs: Vec<String> = weights.iter().map(|(u, w)| format!("{u}:{w}")).collect();
                let pairs = pairs.join(",");
                write!(
                    f,
                    "epoch {epoch}: committed weights {pairs} in block {height}"
                )
            }
        }
    }
}

impl ProviderReport {
    /// One line on this provider's results in `epoch`.
    fn line(&self, epoch: u64) -> String {
        let answered = self
            .probes
            .iter()
            .filter(|p| matches!(p, Probe::Answered { .. }))
            .count();
        let checks: Vec<String> = self
            .verdicts
            .iter()
            .map(|v| {
                let end = if v.ends_there == Some(false) {
                    " cut short"
                } else {
                    ""
                };
                format!("{}/{}{end}", v.passed, v.judged)
            })
            .collect();
        let note = self
            .note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        format!(
            "epoch {epoch}: uid {} {} answered {answered}/{} checks [{}] score {:.3} ema {:.3}{note}",
            self.uid,
            self.model,
            self.probes.len(),
            checks.join(" "),
            self.score,
            self.ema,
        )
    }
}

/// How a provider says an answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// By itself (`stop` with no client stop word): the model must end it there too.
    Itself,
    /// At `max_tokens` (`length`).
    Limit,
    /// Any other way (a client's stop word, another reason): not checked.
    Other,
}

impl Ending {
    /// From the request's parameters and the answer's `finish_reason`.
    pub fn of(params: &Params, finish_reason: Option<&str>) -> Self {
        match finish_reason {
            Some("stop") if params.stop.as_ref().is_none_or(Vec::is_empty) => Self::Itself,
            Some("length") => Self::Limit,
            _ => Self::Other,
        }
    }
}

/// Teacher-force `tokens` after `messages` through `engine` and judge; when the
/// provider said the answer `ended` by itself, also whether the model would end it
/// there. An end that fails is tried once more one token later, after the token the
/// model prefers there: the validator scores the answer's text re-tokenised, and an
/// honest answer's last characters can tokenise differently from how they were
/// generated (a devnet's honest greedy answer failed the 4-nat end margin so, and its
/// provider served nothing for the penalty's 8 rounds). A cheat that cuts an answer
/// short gains one token at most from this.
pub async fn reexecute<E: Reexecutor + ?Sized>(
    engine: &E,
    messages: &[Message],
    mut tokens: Vec<u32>,
    temperature: f32,
    verify: &VerifyPolicy,
    ended: bool,
) -> Verdict {
    let ends = if ended {
        engine.end_tokens()
    } else {
        Vec::new()
    };
    let Some(&end) = ends.first() else {
        return match engine.score_tokens(messages, tokens, temperature).await {
            Ok(scores) => judge(&scores, verify),
            Err(e) => unchecked(&e, verify),
        };
    };
    tokens.push(end);
    let scores = match engine
        .score_tokens(messages, tokens.clone(), temperature)
        .await
    {
        Ok(scores) => scores,
        Err(e) => return unchecked(&e, verify),
    };
    let verdict = judge_ended(&scores, &ends, verify);
    let Some(last) = scores.last().filter(|_| verdict.ends_there == Some(false)) else {
        return verdict;
    };
    // One token of slack: the model's preferred token, then the end.
    let preferred = last.argmax;
    if let Some(forced) = tokens.last_mut() {
        *forced = preferred;
    }
    tokens.push(end);
    let later = match engine.score_tokens(messages, tokens, temperature).await {
        Ok(later) => later,
        Err(_) => return verdict,
    };
    let ends_later = later.last().is_some_and(|l| {
        judge_ended(std::slice::from_ref(l), &ends, verify).ends_there == Some(true)
    });
    if !ends_later {
        return verdict;
    }
    let head = judge(&scores[..scores.len() - 1], verify);
    Verdict {
        ends_there: Some(true),
        ..head
    }
}

fn unchecked(error: &str, verify: &VerifyPolicy) -> Verdict {
    tracing::warn!(%error, "re-execution failed; the answer counts as unchecked");
    judge(&[], verify)
}

/// The validator actor.
pub struct Validator<T, E> {
    config: Config,
    client: Client,
    transport: T,
    engine: E,
    commits: CommitFile,
}

impl<T: Transport, E: Reexecutor> Validator<T, E> {
    /// A validator reading the chain through `client`, probing through `transport`
    /// and re-executing with `engine`.
    pub fn new(config: Config, client: Client, transport: T, engine: E) -> Self {
        let commits = CommitFile::new(config.commit_path.clone());
        Self {
            config,
            client,
            transport,
            engine,
            commits,
        }
    }

    /// Run epoch after epoch, telling `events` what happened, until `config.epochs`
    /// epochs are done (or forever).
    pub async fn run(&self, mut events: impl FnMut(Event) + Send) -> Result<(), ServiceError> {
        let mut state = State::load(&self.config.state_path)?;
        let private = self.config.state_path.with_file_name(CORPUS_FILE);
        let corpus = load_or_build(
            self.config.corpus.as_deref(),
            &private,
            &default_public_dataset(),
            &self.config.seed,
        )?;
        // When the last epoch change was seen, to estimate how long an epoch lasts.
        let mut seen: Option<(u64, Instant)> = None;
        let mut window = FIRST_EPOCH_WINDOW;
        let mut done = 0u64;
        loop {
            let subnet = match self.client.subnet(self.config.netuid).await {
                Ok(at) => at.subnet,
                Err(e) if e.is_retryable() => {
                    events(Event::Retrying {
                        epoch: seen.map(|(e, _)| e),
                        error: plexus_types::error_chain(&e),
                    });
                    tokio::time::sleep(RETRY_AFTER).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let epoch = subnet.epoch_index;
            let commit_reveal = subnet.hyperparams.commit_reveal;
            if seen.is_none_or(|(e, _)| e < epoch) {
                // Epochs seen go by at the chain's pace: time since the last change
                // seen over the epochs passed since (a round can outlast an epoch).
                if let Some((e, at)) = seen {
                    let passed = u32::try_from(epoch - e).unwrap_or(u32::MAX);
                    window = at.elapsed() / passed * WINDOW_PER_MILLE / 1000;
                }
                seen = Some((epoch, Instant::now()));
            }
            if state.last_epoch.is_none_or(|last| last < epoch) {
                // A round of probes can outlast an epoch, and a reveal is accepted only
                // in the epoch after its commit: reveal beside the probes, not after.
                let (providers, revealed) = tokio::join!(
                    self.probe_epoch(&mut state.board, epoch, &corpus, window),
                    self.reveal_when_due(commit_reveal),
                );
                if let Some(height) = revealed {
                    events(Event::Revealed { epoch, height });
                }
                let providers = match providers {
                    Ok(providers) => providers,
                    // The chain or the credit purchase failed for now (a node
                    // restarting, another transaction of the coldkey waiting): nothing
                    // was recorded for this epoch, so try it again shortly.
                    Err(e) if e.is_transient() => {
                        events(Event::Retrying {
                            epoch: Some(epoch),
                            error: plexus_types::error_chain(&e),
                        });
                        tokio::time::sleep(RETRY_AFTER).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                state.last_epoch = Some(epoch);
                state.save(&self.config.state_path)?;
                events(Event::Probed { epoch, providers });
                if let Some(event) = self.set_weights(&state, epoch, commit_reveal).await {
                    events(event);
                }
                done += 1;
                if self.config.epochs.is_some_and(|n| done >= n) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The providers of the subnet this validator can check, and reports for those it
    /// cannot (they score nothing).
    async fn targets(
        &self,
        board: &mut Scoreboard<AccountId>,
        epoch: u64,
    ) -> Result<(Vec<(u16, ProviderTarget)>, Vec<ProviderReport>), ServiceError> {
        let me = self.config.hotkey.account();
        let neurons = self.client.metagraph(self.config.netuid).await?.neurons;
        board.retain(|k| neurons.iter().any(|n| n.hotkey == *k));
        let mut targets = Vec::new();
        let mut reports = Vec::new();
        for n in &neurons {
            let (Some(e), Some(target)) = (
                &n.endpoint,
                ProviderTarget::from_neuron(self.config.netuid, n),
            ) else {
                continue;
            };
            if n.hotkey == me {
                continue;
            }
            if e.weights_hash != self.config.declared {
                board.record(epoch, n.hotkey, &[]);
                reports.push(ProviderReport {
                    uid: n.uid,
                    hotkey: n.hotkey,
                    model: target.model,
                    probes: Vec::new(),
                    verdicts: Vec::new(),
                    score: 0.0,
                    ema: board.standings.get(&n.hotkey).map_or(0.0, |s| s.ema),
                    note: Some(format!(
                        "declares weights {} that this validator cannot re-execute",
                        e.weights_hash
                    )),
                });
                continue;
            }
            targets.push((n.uid, target));
        }
        Ok((targets, reports))
    }

    /// Probe every provider of the subnet for `epoch` and record the results: each
    /// provider gets a Poisson process of probes at `probes_per_provider` per epoch,
    /// spread over `window` from now, each a request drawn from `corpus`.
    async fn probe_epoch(
        &self,
        board: &mut Scoreboard<AccountId>,
        epoch: u64,
        corpus: &[ChatRequest],
        window: Duration,
    ) -> Result<Vec<ProviderReport>, ServiceError> {
        let policy = board.policy;
        let (targets, mut reports) = self.targets(board, epoch).await?;
        if targets.is_empty() {
            return Ok(reports);
        }
        let hotkeys: Vec<AccountId> = targets.iter().map(|(_, t)| t.hotkey).collect();
        // Each provider's probes: when they leave and what they ask.
        let plans: Vec<Vec<(Duration, ChatRequest, Vec<u8>)>> = targets
            .iter()
            .map(|(_, t)| {
                let times = arrivals(
                    &self.config.seed,
                    epoch,
                    t.hotkey.as_bytes(),
                    policy.probes_per_provider,
                    window,
                );
                times
                    .into_iter()
                    .enumerate()
                    .filter_map(|(j, at)| {
                        let index = u64::from(t.uid) << 32 | j as u64;
                        let request = draw_probe(corpus, &self.config.seed, epoch, index)?;
                        let body = request.body(&t.model);
                        Some((at, request, body))
                    })
                    .collect()
            })
            .collect();
        // Credits are priced per request (input and `max_tokens`): enough for the
        // costliest provider's plan at every provider.
        let need = plans
            .iter()
            .map(|plan| {
                plan.iter()
                    .map(|(_, _, body)| {
                        plexus_types::credits::credits_for(plexus_types::credits::CHAT_PATH, body)
                    })
                    .sum::<u64>()
            })
            .max()
            .unwrap_or(0);
        self.transport
            .top_up(&hotkeys, need)
            .await
            .map_err(ServiceError::Credits)?;
        let start = Instant::now();
        // Providers in parallel, each one's probes at their own random times.
        let runs = targets
            .iter()
            .zip(plans)
            .map(|((_, target), plan)| async move {
                let mut out = Vec::with_capacity(plan.len());
                for (at, request, body) in plan {
                    tokio::time::sleep_until(start + at).await;
                    let answer = self
                        .transport
                        .chat(target, body, request.params.streamed())
                        .await;
                    out.push((request, answer));
                }
                out
            });
        let answers = futures::future::join_all(runs).await;
        for ((uid, target), answers) in targets.iter().zip(answers) {
            let (probes, verdicts, note) =
                self.judge_answers(epoch, target, answers, &policy).await;
            board.record(epoch, target.hotkey, &probes);
            let standing = board
                .standings
                .get(&target.hotkey)
                .copied()
                .unwrap_or_default();
            reports.push(ProviderReport {
                uid: *uid,
                hotkey: target.hotkey,
                model: target.model.clone(),
                probes,
                verdicts,
                score: standing.last,
                ema: standing.ema,
                note,
            });
        }
        reports.sort_by_key(|r| r.uid);
        Ok(reports)
    }

    /// Turn one provider's answers into probe outcomes, re-executing the sampled ones.
    async fn judge_answers(
        &self,
        epoch: u64,
        target: &ProviderTarget,
        answers: Vec<(ChatRequest, Result<Timed, ProbeError>)>,
        policy: &Policy,
    ) -> (Vec<Probe>, Vec<Verdict>, Option<String>) {
        let mut probes = Vec::with_capacity(answers.len());
        let mut verdicts = Vec::new();
        let mut note = None;
        for (j, (request, answer)) in answers.into_iter().enumerate() {
            let answer = match answer {
                Err(e) => {
                    note = Some(e.to_string());
                    probes.push(Probe::Failed);
                    continue;
                }
                Ok(a) => a,
            };
            let tokens = self.engine.tokenize(&answer.text);
            let is_sampled = sampled(
                &self.config.seed,
                epoch,
                target.hotkey.as_bytes(),
                j as u32,
                policy.sample_per_mille,
            );
            let check = if is_sampled {
                let verify = if request.params.greedy() {
                    policy.verify
                } else {
                    sampled_policy(&policy.verify, request.params.temperature)
                };
                let ending = Ending::of(&request.params, answer.finish_reason.as_deref());
                let verdict = if ending == Ending::Limit
                    && request
                        .params
                        .max_tokens
                        .is_some_and(|m| (tokens.len() as u64) * 4 < u64::from(m) * 3)
                {
                    // "Stopped at max_tokens" with under three quarters of them: cut
                    // short and passed off as the limit (re-tokenising the text may
                    // merge a few of the provider's tokens, never a quarter).
                    Verdict {
                        judged: 0,
                        passed: 0,
                        first_failure: Some(tokens.len()),
                        accepted: false,
                        ends_there: Some(false),
                    }
                } else {
                    self.reexecute(
                        &request.messages,
                        tokens.clone(),
                        request.params.scoring_temperature(),
                        &verify,
                        ending == Ending::Itself,
                    )
                    .await
                };
                let check = if verdict.accepted {
                    Check::Passed
                } else {
                    Check::Failed
                };
                verdicts.push(verdict);
                check
            } else {
                Check::NotSampled
            };
            probes.push(Probe::Answered {
                ttft: answer.ttft,
                generation: answer.generation,
                completion_tokens: tokens.len() as u32,
                check,
            });
        }
        (probes, verdicts, note)
    }

    /// Teacher-force `tokens` after `messages` through the declared model and judge;
    /// when the provider said the answer `ended` by itself, also whether the model would
    /// end it there.
    async fn reexecute(
        &self,
        messages: &[Message],
        tokens: Vec<u32>,
        temperature: f32,
        verify: &VerifyPolicy,
        ended: bool,
    ) -> Verdict {
        reexecute(&self.engine, messages, tokens, temperature, verify, ended).await
    }

    /// Reveal the pending commit once its reveal epoch (the one after its commit)
    /// begins; drop it if that epoch has already passed. The block of the reveal.
    async fn reveal_when_due(&self, commit_reveal: bool) -> Option<u64> {
        let pending = match self.commits.load() {
            Ok(Some(pending)) => pending,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "the pending commit is unreadable; dropped");
                let _ = self.commits.remove();
                return None;
            }
        };
        // Without commit-reveal there is nothing to reveal; a commit whose transaction
        // never landed (no epoch recorded) cannot be revealed either.
        if !commit_reveal || pending.epoch.is_none() {
            let _ = self.commits.remove();
            return None;
        }
        let wait = loop {
            match self
                .client
                .wait_for_reveal(&pending, |_: RevealProgress| {})
                .await
            {
                Err(WeightsError::Client(e)) => {
                    tracing::warn!(error = %e, "cannot read the subnet; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                other => break other,
            }
        };
        if let Err(e) = wait {
            tracing::warn!(error = %e, "a commit was not revealed in time; dropped");
            let _ = self.commits.remove();
            return None;
        }
        match self
            .client
            .reveal_weights(&self.config.hotkey, &self.commits)
            .await
        {
            Ok(sent) => Some(sent.height),
            Err(e) => {
                tracing::warn!(error = %e, "reveal failed");
                None
            }
        }
    }

    /// Commit (or, without commit-reveal, set) the scoreboard's weights.
    async fn set_weights(&self, state: &State, epoch: u64, commit_reveal: bool) -> Option<Event> {
        let neurons = match self.client.metagraph(self.config.netuid).await {
            Ok(m) => m.neurons,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the metagraph; no weights this epoch");
                return None;
            }
        };
        let mut pairs: Vec<(u16, u16)> = state
            .board
            .weights(epoch)
            .into_iter()
            .filter_map(|(k, w)| neurons.iter().find(|n| n.hotkey == k).map(|n| (n.uid, w)))
            .collect();
        pairs.sort_unstable();
        if pairs.is_empty() {
            return Some(Event::NoWeights { epoch });
        }
        let weights = Weights::from_pairs(&pairs);
        let netuid = self.config.netuid;
        if !commit_reveal {
            return match self
                .client
                .set_weights_now(&self.config.hotkey, netuid, weights, 0)
                .await
            {
                Ok(sent) => Some(Event::Set {
                    epoch,
                    height: sent.height,
                }),
                Err(e) => {
                    tracing::warn!(error = %e, "setting weights failed");
                    None
                }
            };
        }
        match self
            .client
            .commit_weights(&self.config.hotkey, netuid, weights, 0, &self.commits)
            .await
        {
            Ok((sent, _)) => Some(Event::Committed {
                epoch,
                weights: pairs,
                height: sent.height,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "commit failed");
                let _ = self.commits.remove();
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An engine that answers each `score_tokens` with the next scripted scores and
    /// records the tokens it was asked to score.
    struct Scripted {
        answers: Mutex<Vec<Vec<TokenScore>>>,
        asked: Mutex<Vec<Vec<u32>>>,
    }

    impl Reexecutor for Scripted {
        fn tokenize(&self, _: &str) -> Vec<u32> {
            Vec::new()
        }
        fn end_tokens(&self) -> Vec<u32> {
            vec![2, 0]
        }
        fn score_tokens(
            &self,
            _: &[Message],
            tokens: Vec<u32>,
            _: f32,
        ) -> BoxFuture<'_, Result<Vec<TokenScore>, String>> {
            self.asked.lock().unwrap().push(tokens);
            let next = self.answers.lock().unwrap().remove(0);
            Box::pin(async move { Ok(next) })
        }
    }

    fn argmax() -> TokenScore {
        TokenScore {
            token: 5,
            argmax: 5,
            is_argmax: true,
            logprob_margin: 0.0,
            rank: 0.0,
            rank_variance: 0.0,
        }
    }

    /// The forced end token where the model prefers token 9 by `margin` nats.
    fn end(margin: f32) -> TokenScore {
        TokenScore {
            token: 2,
            argmax: 9,
            is_argmax: false,
            logprob_margin: margin,
            ..argmax()
        }
    }

    fn engine(answers: Vec<Vec<TokenScore>>) -> Scripted {
        Scripted {
            answers: Mutex::new(answers),
            asked: Mutex::new(Vec::new()),
        }
    }

    async fn run(engine: &Scripted) -> Verdict {
        reexecute(engine, &[], vec![5; 3], 1.0, &VerifyPolicy::default(), true).await
    }

    #[tokio::test]
    async fn an_end_the_model_reaches_one_token_later_passes_and_a_cut_short_answer_does_not() {
        // Honest, re-tokenised: the model wants token 9 (a newline, say), then ends.
        let honest = engine(vec![
            vec![argmax(), argmax(), argmax(), end(6.0)],
            vec![argmax(), argmax(), argmax(), argmax(), end(0.5)],
        ]);
        let v = run(&honest).await;
        assert!(v.accepted, "{v:?}");
        assert_eq!((v.passed, v.ends_there), (3, Some(true)));
        assert_eq!(honest.asked.lock().unwrap()[1], vec![5, 5, 5, 9, 2]);

        // Cut short: one more token does not bring the end either.
        let cut = engine(vec![
            vec![argmax(), argmax(), argmax(), end(6.0)],
            vec![argmax(), argmax(), argmax(), argmax(), end(7.0)],
        ]);
        let v = run(&cut).await;
        assert!(!v.accepted);
        assert_eq!(v.ends_there, Some(false));

        // An end the model makes at once costs one re-execution.
        let prompt = engine(vec![vec![argmax(), argmax(), argmax(), end(1.0)]]);
        assert!(run(&prompt).await.accepted);
        assert_eq!(prompt.asked.lock().unwrap().len(), 1);
    }
}
