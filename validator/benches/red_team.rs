//! Red team: can a provider tell a validator's probes from users' requests?
//!
//! The peer is the validator's previous probe set (384 public templates, one user
//! turn, no system prompt, `plexus chat`'s parameters, sent in a burst at the start
//! of the epoch), measured in the same run against the same users.
//!
//! Users are stood in for by held-out ShareGPT V3 conversations (one block in five,
//! never seen by the validator): each request is a prefix of a conversation ending on
//! a user turn, sent in the client shape of [`corpus::client_shape`] at a uniform time
//! in the epoch. Probes are drawn by the validator's code from its private corpus,
//! built from the other four blocks with a secret seed the attacker does not know.
//!
//! Attackers, each reading only what a provider sees (the messages, the parameters,
//! the arrival time within the epoch) plus the public repository and data set:
//! 1. a logistic regression over hashed features (words and word pairs of the last
//!    user turn, words of the history and of the system prompt, lengths, turn count,
//!    parameters, arrival decile, counts of the substitution lists' names and of
//!    years), trained on half of the labelled requests and scored on the other half;
//! 2. an exact match: whether the last user turn is, byte for byte, a user turn of
//!    the public data set (the validator's source blocks);
//! 3. a near-duplicate search: the share of the last user turn's word 8-grams found
//!    in the public data set's user turns.
//!
//! Prints each attacker's ROC AUC (0.5: no better than chance; the issue's target is
//! at most 0.60) and the share of probes it flags (TPR) when it flags one user in ten
//! and one in four (FPR). Train and test sets come from disjoint conversations.
//!
//! Run: `cargo bench -p plexus-validator --bench red_team` (needs the data set that
//! `scripts/setup.sh` installs; `PLEXUS_SHAREGPT=FILE` points elsewhere).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::{collections::BTreeSet, path::PathBuf, time::Duration};

use plexus_validator::{
    corpus::{
        self, ChatRequest, Params, Rng, build_private, client_shape, default_public_dataset,
        draw_probe, read_sharegpt, trim_context,
    },
    probe::{Message, arrivals, challenge_set},
    service::WINDOW_PER_MILLE,
};

/// requests per class
const N: usize = 3_000;
const DIMS: usize = 1 << 18;

/// A request as the provider sees it: what was sent, and when within the epoch
/// (a fraction in `[0, 1)`).
struct Seen {
    request: ChatRequest,
    arrival: f64,
}

/// splitmix64: the bench's own randomness, independent of the validator's seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Rng for Mix {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn bucket(x: usize) -> String {
    (usize::BITS - x.leading_zeros()).to_string()
}

const NAMES: &[&str] = &[
    "james", "mary", "john", "maria", "london", "paris", "tokyo", "sarah", "david", "emma",
];

/// Hashed features of what the provider sees.
fn features(s: &Seen) -> Vec<usize> {
    let r = &s.request;
    let mut f: Vec<u64> = Vec::new();
    let last = r.messages.last().map(|m| m.content.as_str()).unwrap_or("");
    let lw = words(last);
    for w in lw.iter().take(400) {
        f.push(fnv(&["u", w]));
    }
    for p in lw.windows(2).take(400) {
        f.push(fnv(&["b", &p[0], &p[1]]));
    }
    let history: Vec<&Message> = r.messages[..r.messages.len().saturating_sub(1)]
        .iter()
        .filter(|m| m.role != "system")
        .collect();
    for m in &history {
        for w in words(&m.content).iter().take(100) {
            f.push(fnv(&["h", &m.role, w]));
        }
    }
    let system = r.messages.iter().find(|m| m.role == "system");
    if let Some(m) = system {
        for w in words(&m.content) {
            f.push(fnv(&["s", &w]));
        }
    }
    let total: usize = r.messages.iter().map(|m| m.content.len()).sum();
    let years = lw
        .iter()
        .filter(|w| w.len() == 4 && (w.starts_with("19") || w.starts_with("20")))
        .count();
    let all_words: Vec<String> = r.messages.iter().flat_map(|m| words(&m.content)).collect();
    let names = all_words
        .iter()
        .filter(|w| NAMES.contains(&w.as_str()))
        .count();
    let p = &r.params;
    let arrival_decile = ((s.arrival * 10.0) as usize).min(9).to_string();
    let numeric = [
        ("len_last", bucket(last.len())),
        ("len_total", bucket(total)),
        ("turns", r.messages.len().min(30).to_string()),
        ("system", system.is_some().to_string()),
        ("max_tokens", format!("{:?}", p.max_tokens)),
        ("temperature", format!("{:?}", p.temperature)),
        ("stop", format!("{:?}", p.stop)),
        ("stream", format!("{:?}", p.stream)),
        ("arrival", arrival_decile),
        ("years", bucket(years)),
        ("names", bucket(names)),
        ("question", last.trim_end().ends_with('?').to_string()),
        ("code", last.contains("```").to_string()),
        ("ascii", last.is_ascii().to_string()),
    ];
    for (k, v) in &numeric {
        f.push(fnv(&["n", k, v]));
    }
    let mut out: Vec<usize> = f.into_iter().map(|h| (h % DIMS as u64) as usize).collect();
    out.sort_unstable();
    out.dedup();
    out
}

struct Logistic {
    w: Vec<f32>,
    b: f32,
}

impl Logistic {
    fn score(&self, x: &[usize]) -> f64 {
        let z: f32 =
            self.b + x.iter().map(|i| self.w[*i]).sum::<f32>() / (x.len().max(1) as f32).sqrt();
        f64::from(z)
    }

    /// Plain SGD on the log loss with L2, a few passes in a shuffled order.
    fn train(data: &[(Vec<usize>, bool)], rng: &mut Mix) -> Self {
        let mut m = Self {
            w: vec![0.0; DIMS],
            b: 0.0,
        };
        let mut order: Vec<usize> = (0..data.len()).collect();
        let lr = 0.2f32;
        let l2 = 1e-5f32;
        for _ in 0..8 {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            for &i in &order {
                let (x, y) = &data[i];
                let p = 1.0 / (1.0 + (-m.score(x)).exp());
                let g = (p - if *y { 1.0 } else { 0.0 }) as f32;
                let scale = 1.0 / (x.len().max(1) as f32).sqrt();
                for j in x {
                    m.w[*j] -= lr * (g * scale + l2 * m.w[*j]);
                }
                m.b -= lr * g;
            }
        }
        m
    }
}

/// ROC AUC of `scores` (higher: more probe-like) for labels (true: probe), by ranks
/// with ties averaged.
fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut v: Vec<(f64, bool)> = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        rank_sum += mid * v[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let pos = v.iter().filter(|x| x.1).count() as f64;
    let neg = v.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Share of probes flagged at the threshold that flags `fpr` of users.
fn tpr_at(scored: &[(f64, bool)], fpr: f64) -> f64 {
    let mut users: Vec<f64> = scored.iter().filter(|x| !x.1).map(|x| x.0).collect();
    users.sort_by(f64::total_cmp);
    let t = users[((1.0 - fpr) * users.len() as f64) as usize];
    let probes: Vec<f64> = scored.iter().filter(|x| x.1).map(|x| x.0).collect();
    probes.iter().filter(|s| **s > t).count() as f64 / probes.len() as f64
}

fn classifier(
    train_users: &[Seen],
    train_probes: &[Seen],
    test_users: &[Seen],
    test_probes: &[Seen],
    rng: &mut Mix,
) -> Vec<(f64, bool)> {
    let label = |users: &[Seen], probes: &[Seen]| -> Vec<(Vec<usize>, bool)> {
        users
            .iter()
            .map(|s| (features(s), false))
            .chain(probes.iter().map(|s| (features(s), true)))
            .collect()
    };
    let model = Logistic::train(&label(train_users, train_probes), rng);
    label(test_users, test_probes)
        .iter()
        .map(|(x, y)| (model.score(x), *y))
        .collect()
}

/// Conversations split in two by blocks of 50 (neighbouring records are often parts
/// of one conversation).
fn halves(convs: &[Vec<Message>]) -> (Vec<Vec<Message>>, Vec<Vec<Message>>) {
    let (a, b): (Vec<_>, Vec<_>) = convs
        .iter()
        .enumerate()
        .partition(|(i, _)| (i / 50) % 2 == 0);
    (
        a.into_iter().map(|(_, c)| c.clone()).collect(),
        b.into_iter().map(|(_, c)| c.clone()).collect(),
    )
}

/// `N` user requests: a user turn of `convs`, uniformly over all user turns, in the
/// client shape, at a uniform time in the epoch.
fn users_from(convs: &[Vec<Message>], rng: &mut Mix) -> Vec<Seen> {
    let turns = corpus::user_turns(convs);
    (0..N)
        .map(|_| {
            let (c, i) = turns[rng.below(turns.len() as u64) as usize];
            Seen {
                request: client_shape(
                    trim_context(convs[c][..=i].to_vec()),
                    &Params::default(),
                    rng,
                ),
                arrival: rng.unit(),
            }
        })
        .collect()
}

/// `N` probes as a validator with `seed` sends them from a corpus built of `convs`:
/// drawn by the validator's code, at the times its Poisson process gives.
fn probes_from(convs: &[Vec<Message>], seed: &[u8; 32]) -> Vec<Seen> {
    let private = build_private(convs, seed, corpus::DEFAULT_CORPUS_SIZE);
    let window = Duration::from_secs(1_000);
    let mut out = Vec::new();
    let mut epoch = 0u64;
    while out.len() < N {
        for provider in 0u8..8 {
            for (j, at) in arrivals(seed, epoch, &[provider], 4, window)
                .iter()
                .enumerate()
            {
                let index = u64::from(provider) << 32 | j as u64;
                out.push(Seen {
                    request: draw_probe(&private, seed, epoch, index).unwrap(),
                    // As the service spreads them: over the first 95 % of the epoch.
                    arrival: at.as_secs_f64() / window.as_secs_f64() * f64::from(WINDOW_PER_MILLE)
                        / 1000.0,
                });
            }
        }
        epoch += 1;
    }
    out.truncate(N);
    out
}

/// Like [`probes_from`] without the entity substitution of [`draw_probe`].
fn plain_probes(convs: &[Vec<Message>], seed: &[u8; 32], rng: &mut Mix) -> Vec<Seen> {
    let private = build_private(convs, seed, corpus::DEFAULT_CORPUS_SIZE);
    (0..N)
        .map(|_| Seen {
            request: client_shape(
                private[rng.below(private.len() as u64) as usize]
                    .messages
                    .clone(),
                &Params::default(),
                rng,
            ),
            arrival: rng.unit(),
        })
        .collect()
}

fn shingles(text: &str) -> Vec<u64> {
    let w = words(text);
    if w.len() < 8 {
        return vec![fnv(&w.iter().map(String::as_str).collect::<Vec<_>>())];
    }
    w.windows(8)
        .map(|g| fnv(&g.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect()
}

/// The last message of a request: the user turn it asks about.
fn last_turn(s: &Seen) -> &str {
    s.request.messages.last().map_or("", |m| m.content.as_str())
}

fn near_match(index: &BTreeSet<u64>, s: &Seen) -> f64 {
    let sh = shingles(last_turn(s));
    sh.iter().filter(|h| index.contains(h)).count() as f64 / sh.len().max(1) as f64
}

fn main() {
    let path = std::env::var_os("PLEXUS_SHAREGPT")
        .map(PathBuf::from)
        .unwrap_or_else(default_public_dataset);
    let started = std::time::Instant::now();
    let convs = read_sharegpt(&path).expect("the ShareGPT data set (scripts/setup.sh)");
    println!(
        "decoded {} complete conversations from {} in {:.1?}",
        convs.len(),
        path.display(),
        started.elapsed()
    );
    let (held_out, public): (Vec<_>, Vec<_>) = convs
        .into_iter()
        .enumerate()
        .partition(|(i, _)| (i / 100) % 5 == 0);
    let held_out: Vec<Vec<Message>> = held_out.into_iter().map(|(_, c)| c).collect();
    let public: Vec<Vec<Message>> = public.into_iter().map(|(_, c)| c).collect();

    let mut rng = Mix(0x5eed);
    // Train and test sets come from disjoint conversations, so the classifier cannot
    // recognise a conversation it saw in training (a provider has never seen the
    // validator's secret selection); the attacker makes its own probes with the
    // validator's public code, its own seed and other public conversations.
    let (users_train, users_test) = halves(&held_out);
    let (public_train, public_test) = halves(&public);
    let train_users = users_from(&users_train, &mut rng);
    let test_users = users_from(&users_test, &mut rng);
    let train_new = probes_from(&public_train, &[0x17; 32]);
    let test_new = probes_from(&public_test, &[0x42; 32]);
    // Without entity substitution (the corpus requests as they are), to see what it
    // changes.
    let train_plain = plain_probes(&public_train, &[0x17; 32], &mut rng);
    let test_plain = plain_probes(&public_test, &[0x42; 32], &mut rng);
    let old = |rng: &mut Mix, epoch: u64| -> Vec<Seen> {
        challenge_set(&[0x42; 32], epoch, N)
            .into_iter()
            .enumerate()
            .map(|(j, p)| Seen {
                request: ChatRequest {
                    messages: vec![Message::user(p)],
                    params: Params::plexus_chat(),
                },
                // Four in a row at the start of the epoch.
                arrival: (j % 4) as f64 * 0.01 + 0.01 * rng.unit(),
            })
            .collect()
    };
    let train_old = old(&mut rng, 1);
    let test_old = old(&mut rng, 2);

    let mut index = BTreeSet::new();
    for conv in &public {
        for m in conv.iter().filter(|m| m.role == "user") {
            index.extend(shingles(&m.content));
        }
    }
    let mut exact_index = BTreeSet::new();
    for conv in &public {
        for m in conv.iter().filter(|m| m.role == "user") {
            exact_index.insert(fnv(&[m.content.as_str()]));
        }
    }
    let exact = |probes: &[Seen]| -> Vec<(f64, bool)> {
        let hit = |s: &Seen| f64::from(u8::from(exact_index.contains(&fnv(&[last_turn(s)]))));
        test_users
            .iter()
            .map(|s| (hit(s), false))
            .chain(probes.iter().map(|s| (hit(s), true)))
            .collect()
    };
    let near = |probes: &[Seen]| -> Vec<(f64, bool)> {
        test_users
            .iter()
            .map(|s| (near_match(&index, s), false))
            .chain(probes.iter().map(|s| (near_match(&index, s), true)))
            .collect()
    };

    println!(
        "{N} user requests (held-out ShareGPT) against {N} probes of each kind; AUC 0.5 = chance, target <= 0.60"
    );
    println!(
        "{:<50} {:>8} {:>15} {:>15}",
        "attacker / probes", "ROC AUC", "TPR @ FPR 10%", "TPR @ FPR 25%"
    );
    for (name, train, probes) in [
        ("new (private corpus)", &train_new, &test_new),
        ("corpus w/o substitution", &train_plain, &test_plain),
        ("old (384 templates)", &train_old, &test_old),
    ] {
        let scored = classifier(&train_users, train, &test_users, probes, &mut rng);
        let row = |attacker: &str, scored: &[(f64, bool)]| {
            println!(
                "{:<50} {:>8.3} {:>15.3} {:>15.3}",
                format!("{attacker}, {name}"),
                auc(scored),
                tpr_at(scored, 0.1),
                tpr_at(scored, 0.25)
            );
        };
        row("logistic regression", &scored);
        row("exact last turn in ShareGPT", &exact(probes));
        row("8-gram match to ShareGPT", &near(probes));
    }
    println!("total {:.1?}", started.elapsed());
}
