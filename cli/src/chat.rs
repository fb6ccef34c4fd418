//! `plexus chat`: a terminal chat over the private path.
//!
//! One random provider per conversation (among those serving the model that this
//! wallet holds tokens for); every turn goes through the relay; the answer streams in.
//! The conversation lives only in a file on this machine, encrypted with a key only
//! the wallet's coldkey derives. The provider sees each request's whole context (the
//! conversation so far), never who sent it.

use std::io::{BufRead as _, Write as _};

use anyhow::{Context as _, bail};
use clap::Args;
use plexus_session::{
    Answer, Session,
    chat::{DEFAULT_MAX_TOKENS, Message, chat_body, read_stream},
    history::{Conversation, History, HistoryError},
};
use plexus_types::credits::credits_for;
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

#[allow(clippy::needless_pass_by_value)] // clap hands the flags over by value
pub(crate) async fn run(ctx: &Context, args: ChatArgs) -> anyhow::Result<()> {
    let coldkey = ctx.coldkey(&args.name)?;
    let history = History::new(&ctx.wallets()?.join(&args.name).join("chats"), &coldkey);
    if args.list {
        list(ctx, &history);
        return Ok(());
    }
    let session = open_session(ctx, &args.name, &coldkey, args.relay.clone()).await?;
    chat(ctx, &args, &session, &history).await
}

fn list(ctx: &Context, history: &History) {
    let saved = history.list();
    let view: Vec<_> = saved
        .iter()
        .map(|c| json!({"id": c.id, "model": c.model, "turns": c.turns(), "first": c.messages.first().map(|_| c.title(60))}))
        .collect();
    output::print(ctx, &view, || {
        if saved.is_empty() {
            return "No saved conversations.".to_owned();
        }
        saved
            .iter()
            .map(|c| format!("{}  {} turns  {}", c.id, c.turns(), c.title(60)))
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// The conversation to continue, or a new one with a provider this wallet can pay.
async fn open_conversation(
    args: &ChatArgs,
    session: &Session,
    history: &History,
) -> anyhow::Result<Conversation> {
    match &args.conversation {
        Some(id) => history.load(id).map_err(|e| match e {
            HistoryError::Unknown(_) | HistoryError::BadId(_) => anyhow::Error::new(e)
                .context("no such conversation: list them with `plexus chat --list`"),
            e => e.into(),
        }),
        None => {
            let need = credits_for(
                plexus_types::credits::CHAT_PATH,
                &chat_body("", &[], args.max_tokens),
            );
            let provider = session.pick(args.model.as_deref(), need).await?;
            Ok(Conversation::new(provider.hotkey, provider.model))
        }
    }
}

/// The next message: a line typed at the prompt, or `--message` once.
fn next_message(
    interactive: bool,
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    once: &mut Option<String>,
) -> Option<String> {
    if interactive {
        eprint!("> ");
        let _ = std::io::stderr().flush();
        lines.next().and_then(Result::ok)
    } else {
        once.take()
    }
}

async fn chat(
    ctx: &Context,
    args: &ChatArgs,
    session: &Session,
    history: &History,
) -> anyhow::Result<()> {
    let mut convo = open_conversation(args, session, history).await?;
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
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut once = args.message.clone();
    while let Some(text) = next_message(interactive, &mut lines, &mut once) {
        let text = text.trim().to_owned();
        if text.is_empty() {
            continue;
        }
        if text == "/quit" || text == "/exit" {
            break;
        }
        convo.messages.push(Message::user(text));
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
        convo.messages.push(Message::assistant(reply.clone()));
        history.save(&convo)?;
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
