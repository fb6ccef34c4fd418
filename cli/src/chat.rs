//! `plexus chat`: a terminal chat over the private path.
//!
//! One random provider per conversation (among those serving the model that this
//! wallet holds tokens for); every turn goes through the relay; the answer streams in.
//! The conversation lives only in a file on this machine, encrypted with a key only
//! the wallet's coldkey derives. The provider sees each request's whole context (the
//! conversation so far), never who sent it.

use std::io::{BufRead as _, Write as _};

use anyhow::Context as _;
use clap::Args;
use plexus_session::{
    Session,
    chat::DEFAULT_MAX_TOKENS,
    history::{Conversation, History, HistoryError},
};
use serde_json::json;

use crate::{
    context::Context,
    credits::{DEFAULT_RELAY_URL, open_session},
    output,
};

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

pub(crate) async fn run(ctx: &Context, args: &ChatArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let history = History::new(&ctx.wallets()?.join(&args.name).join("chats"), &coldkey);
    if args.list {
        list(ctx, &history);
        return Ok(());
    }
    let session = open_session(ctx, &args.name, &coldkey, args.relay.clone()).await?;
    let convo = match &args.conversation {
        Some(id) => history.load(id).map_err(|e| match e {
            HistoryError::Unknown(_) | HistoryError::BadId(_) => anyhow::Error::new(e)
                .context("no such conversation: list them with `plexus chat --list`"),
            e => e.into(),
        })?,
        None => {
            let provider = session.pick_for_chat(args.model.as_deref(), args.max_tokens);
            let provider = provider.await?;
            Conversation::new(provider.hotkey, provider.model)
        }
    };
    chat(ctx, args, &session, &history, convo).await
}

/// `plexus chat --list`.
fn list(ctx: &Context, history: &History) {
    let saved = history.list();
    let view: Vec<_> = saved.iter().map(Conversation::summary).collect();
    output::print(ctx, &view, || match saved.is_empty() {
        true => "No saved conversations.".to_owned(),
        false => saved.iter().map(|c| format!("{c}\n")).collect(),
    });
}

/// The conversation's turns, typed at the prompt or `--message` once.
async fn chat(
    ctx: &Context,
    args: &ChatArgs,
    session: &Session,
    history: &History,
    mut convo: Conversation,
) -> anyhow::Result<()> {
    let provider = session.provider(&convo.provider).await?.with_context(|| {
        format!(
            "provider {} of this conversation no longer serves privately",
            convo.provider
        )
    })?;
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
    let mut lines = std::io::stdin().lock().lines();
    let mut once = args.message.clone();
    let echo = !ctx.json;
    loop {
        // The next message: a line typed at the prompt, or `--message` once.
        let next = match interactive {
            true => {
                eprint!("> ");
                let _ = std::io::stderr().flush();
                lines.next().and_then(Result::ok)
            }
            false => once.take(),
        };
        let Some(text) = next.map(|t| t.trim().to_owned()) else {
            return Ok(());
        };
        match text.as_str() {
            "" => continue,
            "/quit" | "/exit" => return Ok(()),
            _ => {}
        }
        let mut out = std::io::stdout();
        let print = |delta: &str| {
            if echo {
                print!("{delta}");
                let _ = out.flush();
            }
        };
        let turn = session.chat_turn(&provider, &mut convo, text, args.max_tokens, print);
        let reply = turn.await?;
        if echo {
            println!();
        }
        history.save(&convo)?;
        if ctx.json {
            println!(
                "{}",
                json!({"conversation": convo.id, "model": convo.model, "answer": reply, "credits": session.credits()})
            );
        }
    }
}
