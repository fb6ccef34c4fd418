//! `plexus chat`: a terminal chat over the private path.
//!
//! One random provider per conversation (among those serving the model that this
//! wallet holds tokens for); every turn goes through the relay; the answer streams in.
//! The conversation lives only in a file on this machine, encrypted with a key only
//! the wallet's coldkey derives. The provider sees each request's whole context (the
//! conversation so far), never who sent it.

use std::{
    io::{BufRead as _, Write as _},
    path::PathBuf,
};

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_types::AccountId;
use plexus_validator::probe::{DEFAULT_MAX_TOKENS, Message, chat_body};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    context::Context,
    credits::{CreditStore, DEFAULT_RELAY_URL, local_key, open_sealed, providers, write_sealed},
    output,
    session::{Answer, Session, read_stream},
};

const HISTORY_AAD: &[u8] = b"plexus/chat/history/v1";

/// Flags of `plexus chat`.
#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// Wallet whose credits pay.
    #[arg(long, default_value = "default")]
    name: String,
    /// The model (default: any model some payable provider serves).
    #[arg(long)]
    model: Option<String>,
    /// The OHTTP relay every turn goes through.
    #[arg(long, env = "PLEXUS_RELAY", default_value = DEFAULT_RELAY_URL)]
    relay: String,
    /// Continue this conversation (its id; see --list).
    #[arg(long)]
    conversation: Option<String>,
    /// Send this one message, print the answer, and exit (for scripts).
    #[arg(long, short)]
    message: Option<String>,
    /// List the saved conversations and exit.
    #[arg(long)]
    list: bool,
    /// Most tokens per answer. Answers are greedy (temperature 0), the same shape
    /// as validators' probes, so a provider cannot tell the two apart.
    #[arg(long, default_value_t = DEFAULT_MAX_TOKENS)]
    max_tokens: u32,
}

/// A conversation, as saved (encrypted) on this machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Conversation {
    id: String,
    provider: AccountId,
    model: String,
    messages: Vec<Message>,
}

fn history_dir(ctx: &Context, name: &str) -> anyhow::Result<PathBuf> {
    Ok(ctx.wallets()?.join(name).join("chats"))
}

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) async fn run(ctx: &Context, args: ChatArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let key = local_key(&coldkey, "chat-history");
    let dir = history_dir(ctx, &args.name)?;
    if args.list {
        return list(ctx, &dir, &key);
    }
    let store = CreditStore::open(&CreditStore::path_for(ctx, &args.name)?, &coldkey)?;
    let session = Session::new(ctx.client()?, args.relay.clone(), store);
    chat(ctx, &args, &session, &dir, &key).await
}

fn list(ctx: &Context, dir: &std::path::Path, key: &[u8; 32]) -> anyhow::Result<()> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if let Some(plain) = open_sealed(&e.path(), key, HISTORY_AAD)?
                && let Ok(c) = serde_json::from_slice::<Conversation>(&plain)
            {
                out.push(c);
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    let view: Vec<_> = out
        .iter()
        .map(|c| json!({"id": c.id, "model": c.model, "turns": c.messages.len() / 2, "first": c.messages.first().map(|m| m.content.chars().take(60).collect::<String>())}))
        .collect();
    output::print(ctx, &view, || {
        if out.is_empty() {
            return "No saved conversations.".to_owned();
        }
        out.iter()
            .map(|c| {
                format!(
                    "{}  {} turns  {}",
                    c.id,
                    c.messages.len() / 2,
                    c.messages
                        .first()
                        .map(|m| m.content.chars().take(60).collect::<String>())
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

async fn chat(
    ctx: &Context,
    args: &ChatArgs,
    session: &Session,
    dir: &std::path::Path,
    key: &[u8; 32],
) -> anyhow::Result<()> {
    let need = u64::from(
        args.max_tokens
            .div_ceil(plexus_provider::private::TOKENS_PER_CREDIT)
            .max(1),
    );
    let mut convo = match &args.conversation {
        Some(id) => {
            let path = dir.join(format!("{id}.enc"));
            let plain = open_sealed(&path, key, HISTORY_AAD)?.with_context(|| {
                format!("no saved conversation {id}: list them with `plexus chat --list`")
            })?;
            serde_json::from_slice::<Conversation>(&plain)?
        }
        None => {
            let provider = session.pick(args.model.as_deref(), need).await?;
            let mut id = [0u8; 8];
            rand::Rng::fill_bytes(&mut rand::rng(), &mut id);
            Conversation {
                id: hex::encode(id),
                provider: provider.hotkey,
                model: provider.model,
                messages: Vec::new(),
            }
        }
    };
    let provider = providers(&ctx.client()?)
        .await?
        .into_iter()
        .find(|p| p.hotkey == convo.provider)
        .with_context(|| {
            format!(
                "provider {} of this conversation no longer serves privately",
                convo.provider
            )
        })?;
    let path = dir.join(format!("{}.enc", convo.id));
    let interactive = args.message.is_none();
    if interactive && !ctx.json {
        eprintln!(
            "Private chat with {} at provider {} (operator {}), conversation {}. {} credits left. History stays on this machine, encrypted.\nType a message; /quit to leave.",
            convo.model,
            provider.hotkey,
            provider.operator,
            convo.id,
            session.credits()
        );
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut once = args.message.clone();
    loop {
        let text = if interactive {
            eprint!("> ");
            let _ = std::io::stderr().flush();
            match lines.next() {
                Some(Ok(l)) => l,
                _ => break,
            }
        } else {
            match once.take() {
                Some(m) => m,
                None => break,
            }
        };
        let text = text.trim().to_owned();
        if text.is_empty() {
            continue;
        }
        if text == "/quit" || text == "/exit" {
            break;
        }
        convo.messages.push(Message {
            role: "user".into(),
            content: text,
        });
        let body = chat_body(&convo.model, &convo.messages, args.max_tokens);
        let answer = match session
            .send(&provider, "/v1/chat/completions", body, true)
            .await?
        {
            Answer::Streamed(s) => s,
            Answer::Whole(_) => bail!("expected a streamed answer"),
        };
        if answer.head.status != 200 {
            convo.messages.pop();
            bail!(
                "the provider refused: HTTP {}: {}",
                answer.head.status,
                String::from_utf8_lossy(&answer.head.body)
            );
        }
        let reply = print_stream(answer.body, !ctx.json).await?;
        convo.messages.push(Message {
            role: "assistant".into(),
            content: reply.clone(),
        });
        write_sealed(&path, key, HISTORY_AAD, &serde_json::to_vec(&convo)?)?;
        if ctx.json {
            println!(
                "{}",
                json!({"conversation": convo.id, "model": convo.model, "answer": reply, "credits": session.credits()})
            );
        }
    }
    Ok(())
}

/// Print the streamed SSE answer as it arrives; return its text.
async fn print_stream(
    body: futures::stream::BoxStream<
        'static,
        Result<Vec<u8>, plexus_client::private::PrivateError>,
    >,
    echo: bool,
) -> anyhow::Result<String> {
    let mut out = std::io::stdout();
    let read = read_stream(body, |delta| {
        if echo {
            print!("{delta}");
            let _ = out.flush();
        }
    })
    .await?;
    if echo {
        println!();
    }
    Ok(read.text)
}
