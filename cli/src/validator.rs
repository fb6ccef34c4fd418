//! `plexus validator`: keep an inference subnet's providers honest.
//!
//! Every epoch: draw the epoch's probes from a secret seed, send each provider
//! `probes_per_provider` of them over the private path (credits bought like any
//! user's, requests built like `plexus chat`'s), re-execute a secret sample by
//! teacher forcing with the declared model, fold the results into the scoreboard,
//! reveal the previous epoch's weights and commit this one's. The scoreboard and the
//! seed live in the state folder, so a restart resumes. The rules are
//! [`plexus_validator::score::Policy`]'s defaults.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_client::Client;
use plexus_inference::{
    ChatMessage, LlamaConfig, LlamaEngine, Prompt, Role,
    models::{default_chat_model, weights_hash},
};
use plexus_privacy::oblivious::decode_key_list;
use plexus_types::{AccountId, Hash, Keypair, Netuid, Payload, tx::weights_commit_hash};
use plexus_validator::{
    probe::{DEFAULT_MAX_TOKENS, Message, challenge_set, chat_body, sampled},
    score::{Check, Policy, Probe, Scoreboard},
    verify::{Verdict, judge},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    context::{Context, load_or_create_secret, read_json, write_json},
    credits::{CreditStore, DEFAULT_RELAY_URL, ProviderTarget, buy_tokens},
    session::{Answer, Session, read_stream},
};

/// How long one probe may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a weights transaction may take to finalize.
const TX_TIMEOUT: Duration = Duration::from_secs(60);

/// Credits bought at a time when the store runs low.
const BUNDLE: u32 = 100;

/// Flags of `plexus validator`.
#[derive(Debug, Args)]
pub(crate) struct ValidatorArgs {
    /// Wallet holding the validator hotkey (its coldkey buys the credits).
    #[arg(long, default_value = "default")]
    name: String,
    /// The validator hotkey (it needs a validator permit for its weights to count).
    #[arg(long, default_value = "default")]
    hotkey: String,
    /// The inference subnet to validate.
    #[arg(long)]
    netuid: Netuid,
    /// The OHTTP relay probes go through, like any user's requests.
    #[arg(long, env = "PLEXUS_RELAY", default_value = DEFAULT_RELAY_URL)]
    relay: String,
    /// The model to re-execute answers with (a `.gguf` path, a folder or `ORG/NAME`):
    /// providers declaring other weights cannot be checked and earn nothing.
    #[arg(long)]
    model: Option<String>,
    /// CPU threads for re-execution.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// State folder (seed, scoreboard, pending commit). Default:
    /// ~/.plexus/validator/HOTKEY.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Stop after this many epochs (default: run until interrupted).
    #[arg(long)]
    epochs: Option<u64>,
}

/// A weights commit waiting for its reveal.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// The epoch the commit landed in: the reveal must land in the next one.
    epoch: u64,
    uids: Vec<u16>,
    weights: Vec<u16>,
    salt: String,
}

/// What the validator keeps across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    board: Scoreboard<AccountId>,
    /// The last epoch probed.
    last_epoch: Option<u64>,
    pending: Option<Pending>,
}

/// One provider's results in one epoch, for the log and `--json`.
#[derive(Debug, Clone, Serialize)]
struct ProviderReport {
    uid: u16,
    hotkey: AccountId,
    model: String,
    probes: Vec<Probe>,
    verdicts: Vec<Verdict>,
    score: f64,
    ema: f64,
    note: Option<String>,
}

pub(crate) async fn run(ctx: &Context, args: &ValidatorArgs) -> anyhow::Result<()> {
    let (wallet, password, coldkey) = ctx.unlock(&args.name)?;
    let hotkey = wallet
        .unlock_hotkey(&args.hotkey, &password)
        .with_context(|| format!("wallet '{}' has no hotkey '{}'", args.name, args.hotkey))?;
    let dir = ctx.state_dir(
        &format!("validator/{}", hotkey.account().to_address()),
        args.data_dir.as_ref(),
    )?;
    let model_path = match &args.model {
        Some(spec) => plexus_inference::models::locate_gguf(spec)?,
        None => default_chat_model(),
    };
    let declared = weights_hash(&model_path)
        .with_context(|| format!("cannot read the model {}", model_path.display()))?;
    let engine = LlamaEngine::load(
        &model_path,
        LlamaConfig {
            threads: args.threads.max(1),
            ..LlamaConfig::default()
        },
    )
    .with_context(|| format!("cannot load {}", model_path.display()))?;
    let store = CreditStore::open(&CreditStore::path_for(ctx, &args.name)?, &coldkey)?;
    let client = ctx.client()?;
    let session = Session::new(client.clone(), args.relay.clone(), store);
    let seed = load_or_create_secret(&dir.join("seed"))?;
    let validator = Validator {
        ctx,
        client,
        session,
        coldkey,
        hotkey,
        netuid: args.netuid,
        relay: args.relay.clone(),
        engine: Arc::new(engine),
        declared,
        seed,
        state_path: dir.join("state.json"),
    };
    eprintln!(
        "Validating subnet {} with {} (weights {}), probes through {}; state in {}",
        args.netuid,
        model_path.display(),
        declared,
        args.relay,
        dir.display()
    );
    validator.run(args.epochs).await
}

struct Validator<'a> {
    ctx: &'a Context,
    client: Client,
    session: Session,
    coldkey: Keypair,
    hotkey: Keypair,
    netuid: Netuid,
    relay: String,
    engine: Arc<LlamaEngine>,
    declared: Hash,
    seed: [u8; 32],
    state_path: PathBuf,
}

impl Validator<'_> {
    async fn run(&self, epochs: Option<u64>) -> anyhow::Result<()> {
        let mut state = load_state(&self.state_path)?;
        let mut done = 0u64;
        loop {
            let subnet = self.client.subnet(self.netuid).await?.subnet;
            let epoch = subnet.epoch_index;
            let commit_reveal = subnet.hyperparams.commit_reveal;
            if state.last_epoch.is_none_or(|last| last < epoch) {
                // A round of probes can outlast an epoch, and a reveal is accepted only
                // in the epoch after its commit: reveal beside the probes, not after.
                let pending = state.pending.take();
                let (reports, ()) = tokio::join!(
                    self.probe_epoch(&mut state.board, epoch),
                    self.reveal_when_due(pending, commit_reveal),
                );
                let reports = reports?;
                state.last_epoch = Some(epoch);
                write_json(&self.state_path, &state)?;
                self.print_epoch(epoch, &reports);
                self.set_weights(&mut state, commit_reveal).await;
                write_json(&self.state_path, &state)?;
                done += 1;
                if epochs.is_some_and(|n| done >= n) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Probe every provider of the subnet once for `epoch` and record the results.
    async fn probe_epoch(
        &self,
        board: &mut Scoreboard<AccountId>,
        epoch: u64,
    ) -> anyhow::Result<Vec<ProviderReport>> {
        let policy = board.policy;
        let me = self.hotkey.account();
        let neurons = self.client.metagraph(self.netuid).await?.neurons;
        board.retain(|k| neurons.iter().any(|n| n.hotkey == *k));
        let mut targets = Vec::new();
        let mut reports = Vec::new();
        for n in &neurons {
            let Some(e) = &n.endpoint else { continue };
            if n.hotkey == me {
                continue;
            }
            let Some(config) = decode_key_list(&e.ohttp_keys)
                .ok()
                .and_then(|c| c.into_iter().last())
            else {
                continue;
            };
            let target = ProviderTarget {
                hotkey: n.hotkey,
                model: e.model.clone(),
                config,
                operator: e.operator.clone(),
            };
            if e.weights_hash != self.declared {
                board.record(epoch, n.hotkey, &[]);
                reports.push(ProviderReport {
                    uid: n.uid,
                    hotkey: n.hotkey,
                    model: e.model.clone(),
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
        if targets.is_empty() {
            return Ok(reports);
        }
        self.ensure_credits(&targets, policy.probes_per_provider)
            .await?;
        let per = policy.probes_per_provider as usize;
        let prompts = challenge_set(&self.seed, epoch, targets.len() * per);
        // Providers in parallel, each one's probes in sequence (so a probe never waits
        // behind another of ours).
        let runs = targets.iter().enumerate().map(|(i, (_, target))| {
            let prompts = &prompts[i * per..(i + 1) * per];
            async move {
                let mut out = Vec::with_capacity(per);
                for prompt in prompts {
                    out.push(self.probe(target, prompt).await);
                }
                out
            }
        });
        let answers = futures::future::join_all(runs).await;
        for (i, ((uid, target), answers)) in targets.iter().zip(answers).enumerate() {
            let mut probes = Vec::with_capacity(answers.len());
            let mut verdicts = Vec::new();
            let mut note = None;
            for (j, (prompt, answer)) in prompts[i * per..(i + 1) * per]
                .iter()
                .zip(answers)
                .enumerate()
            {
                let probe = match answer {
                    Err(e) => {
                        note = Some(format!("{e:#}"));
                        Probe::Failed
                    }
                    Ok(a) => {
                        let tokens = self.engine.tokenize(&a.text);
                        let check = if sampled(
                            &self.seed,
                            epoch,
                            target.hotkey.as_bytes(),
                            j as u32,
                            policy.sample_per_mille,
                        ) {
                            let verdict = self.reexecute(prompt, tokens.clone(), &policy).await;
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
                        Probe::Answered {
                            ttft: a.ttft,
                            generation: a.generation,
                            completion_tokens: tokens.len() as u32,
                            check,
                        }
                    }
                };
                probes.push(probe);
            }
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

    /// Teacher-force `tokens` after `prompt` through the declared model and judge.
    async fn reexecute(&self, prompt: &str, tokens: Vec<u32>, policy: &Policy) -> Verdict {
        let prompt = Prompt::Chat(vec![ChatMessage {
            role: Role::User,
            content: prompt.to_owned(),
        }]);
        match self.engine.score_tokens(prompt, tokens).await {
            Ok(scores) => judge(&scores, &policy.verify),
            Err(e) => {
                tracing::warn!(error = %e, "re-execution failed; the answer counts as unchecked");
                judge(&[], &policy.verify)
            }
        }
    }

    /// Send one probe, exactly as `plexus chat` sends a first turn.
    async fn probe(&self, target: &ProviderTarget, prompt: &str) -> anyhow::Result<Timed> {
        let body = chat_body(&target.model, &[Message::user(prompt)], DEFAULT_MAX_TOKENS);
        let started = Instant::now();
        let run = async {
            let answer = match self
                .session
                .send(target, "/v1/chat/completions", body, true)
                .await?
            {
                Answer::Streamed(s) => s,
                Answer::Whole(_) => bail!("expected a streamed answer"),
            };
            if answer.head.status != 200 {
                bail!(
                    "HTTP {}: {}",
                    answer.head.status,
                    String::from_utf8_lossy(&answer.head.body)
                );
            }
            let mut first = None;
            let read = read_stream(answer.body, |_| {
                first.get_or_insert_with(Instant::now);
            })
            .await?;
            if !read.finished {
                bail!("the answer was cut off");
            }
            let first = first.unwrap_or_else(Instant::now);
            Ok(Timed {
                text: read.text,
                ttft: first - started,
                generation: first.elapsed(),
            })
        };
        tokio::time::timeout(PROBE_TIMEOUT, run)
            .await
            .unwrap_or_else(|_| bail!("no complete answer within {PROBE_TIMEOUT:?}"))
    }

    /// Buy bundles until every target has `need` tokens (tokens are bound to
    /// providers at random, so a few bundles may be needed).
    async fn ensure_credits(
        &self,
        targets: &[(u16, ProviderTarget)],
        need: u32,
    ) -> anyhow::Result<()> {
        for _ in 0..4 {
            let held = self.session.per_origin()?;
            let short = targets.iter().any(|(_, t)| {
                held.get(&t.hotkey.to_address()).copied().unwrap_or(0) < u64::from(need)
            });
            if !short {
                return Ok(());
            }
            let bought = buy_tokens(&self.client, &self.coldkey, BUNDLE, None, &self.relay)
                .await
                .context("cannot buy credits for the probes")?;
            self.session.add(bought)?;
            tracing::info!(credits = BUNDLE, "bought credits for probes");
        }
        Ok(())
    }

    /// Reveal `pending` once its reveal epoch (the one after its commit) begins;
    /// drop it if that epoch has already passed.
    async fn reveal_when_due(&self, pending: Option<Pending>, commit_reveal: bool) {
        let Some(p) = pending else {
            return;
        };
        let mut salt = [0u8; 32];
        if !commit_reveal || hex::decode_to_slice(&p.salt, &mut salt).is_err() {
            return;
        }
        let epoch = loop {
            match self.client.subnet(self.netuid).await {
                Ok(s) if s.subnet.epoch_index > p.epoch => break s.subnet.epoch_index,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot read the subnet; retrying"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        if epoch > p.epoch + 1 {
            tracing::warn!(
                committed = p.epoch,
                epoch,
                "a commit was not revealed in time; dropped"
            );
            return;
        }
        let payload = Payload::RevealWeights {
            netuid: self.netuid,
            uids: p.uids.clone(),
            weights: p.weights.clone(),
            salt,
            version: 0,
        };
        match self
            .client
            .send_tx(&self.hotkey, payload, None, TX_TIMEOUT)
            .await
        {
            Ok(sent) => eprintln!("epoch {epoch}: revealed weights in block {}", sent.height),
            Err(e) => tracing::warn!(error = %e, "reveal failed"),
        }
    }

    /// Commit (or, without commit-reveal, set) the scoreboard's weights.
    async fn set_weights(&self, state: &mut State, commit_reveal: bool) {
        let Some(epoch) = state.last_epoch else {
            return;
        };
        let neurons = match self.client.metagraph(self.netuid).await {
            Ok(m) => m.neurons,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the metagraph; no weights this epoch");
                return;
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
            eprintln!("epoch {epoch}: no provider earned weight; nothing committed");
            return;
        }
        let uids: Vec<u16> = pairs.iter().map(|p| p.0).collect();
        let weights: Vec<u16> = pairs.iter().map(|p| p.1).collect();
        if !commit_reveal {
            let payload = Payload::SetWeights {
                netuid: self.netuid,
                uids,
                weights,
                version: 0,
            };
            match self
                .client
                .send_tx(&self.hotkey, payload, None, TX_TIMEOUT)
                .await
            {
                Ok(sent) => eprintln!("epoch {epoch}: set weights in block {}", sent.height),
                Err(e) => tracing::warn!(error = %e, "setting weights failed"),
            }
            return;
        }
        let mut salt = [0u8; 32];
        rand::fill(&mut salt);
        let commit = weights_commit_hash(
            &self.hotkey.account(),
            self.netuid,
            &uids,
            &weights,
            &salt,
            0,
        );
        let payload = Payload::CommitWeights {
            netuid: self.netuid,
            commit,
        };
        match self
            .client
            .send_tx(&self.hotkey, payload, None, TX_TIMEOUT)
            .await
        {
            Ok(sent) => {
                // The reveal is due in the epoch after the one the commit landed in.
                let landed = match self.client.subnet(self.netuid).await {
                    Ok(s) if s.subnet.last_epoch_block >= sent.height => {
                        s.subnet.epoch_index.saturating_sub(1)
                    }
                    Ok(s) => s.subnet.epoch_index,
                    Err(_) => epoch,
                };
                eprintln!(
                    "epoch {epoch}: committed weights {} in block {}",
                    pairs
                        .iter()
                        .map(|(u, w)| format!("{u}:{w}"))
                        .collect::<Vec<_>>()
                        .join(","),
                    sent.height
                );
                state.pending = Some(Pending {
                    epoch: landed,
                    uids,
                    weights,
                    salt: hex::encode(salt),
                });
            }
            Err(e) => tracing::warn!(error = %e, "commit failed"),
        }
    }

    fn print_epoch(&self, epoch: u64, reports: &[ProviderReport]) {
        if self.ctx.json {
            println!("{}", json!({"epoch": epoch, "providers": reports}));
            return;
        }
        for r in reports {
            let answered = r
                .probes
                .iter()
                .filter(|p| matches!(p, Probe::Answered { .. }))
                .count();
            let checks: Vec<String> = r
                .verdicts
                .iter()
                .map(|v| format!("{}/{}", v.passed, v.judged))
                .collect();
            eprintln!(
                "epoch {epoch}: uid {} {} answered {answered}/{} checks [{}] score {:.3} ema {:.3}{}",
                r.uid,
                r.model,
                r.probes.len(),
                checks.join(" "),
                r.score,
                r.ema,
                r.note
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            );
        }
    }
}

/// A complete answer with its timing.
struct Timed {
    text: String,
    ttft: Duration,
    generation: Duration,
}

fn load_state(path: &Path) -> anyhow::Result<State> {
    Ok(read_json(
        path,
        "is not a validator state file: move it away to start afresh",
    )?
    .unwrap_or_else(|| State {
        board: Scoreboard::new(Policy::default()),
        last_epoch: None,
        pending: None,
    }))
}
