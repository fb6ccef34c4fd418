//! What `plexus chat` and `plexus proxy` share: pick a provider, pay it with tokens
//! from the wallet's store, and send the request over the private path.

use std::time::Duration;

use anyhow::{Context as _, bail};
use plexus_client::private::{PlainRequest, PlainResponse, StreamedResponse, send, send_streamed};
use plexus_provider::private::credits_for;
use rand::seq::IndexedRandom as _;

use crate::credits::{CreditStore, ProviderTarget, StoredCredit, providers, route};

/// How long one private request may take.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A wallet's credits and the relay its requests go through.
pub(crate) struct Session {
    client: plexus_client::Client,
    relay: String,
    store: CreditStore,
    http: reqwest::Client,
}

/// What a request got back.
pub(crate) enum Answer {
    /// A whole answer.
    Whole(PlainResponse),
    /// A streamed answer.
    Streamed(StreamedResponse),
}

impl Answer {
    /// The provider's HTTP status.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Whole(r) => r.status,
            Self::Streamed(r) => r.head.status,
        }
    }
}

/// How many times one request is paid for when the provider says a token was spent.
pub(crate) const PAYMENT_TRIES: u32 = 3;

impl Session {
    pub(crate) fn new(client: plexus_client::Client, relay: String, store: CreditStore) -> Self {
        Self {
            client,
            relay,
            store,
            http: reqwest::Client::new(),
        }
    }

    /// Credits left, in total.
    pub(crate) fn credits(&self) -> u64 {
        self.store
            .per_origin()
            .map(|p| p.values().sum())
            .unwrap_or(0)
    }

    /// Credits held per provider address.
    pub(crate) fn per_origin(&self) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
        self.store.per_origin()
    }

    /// Put newly bought tokens in the store and save it.
    pub(crate) fn add(&self, bought: Vec<StoredCredit>) -> anyhow::Result<()> {
        self.store.add(bought)
    }

    /// Providers serving `model` (any model when `None`) for which the store holds at
    /// least `need` credits.
    pub(crate) async fn payable(
        &self,
        model: Option<&str>,
        need: u64,
    ) -> anyhow::Result<Vec<ProviderTarget>> {
        let held = self.store.per_origin()?;
        Ok(providers(&self.client)
            .await?
            .into_iter()
            .filter(|p| model.is_none_or(|m| m == p.model))
            .filter(|p| held.get(&p.hotkey.to_address()).copied().unwrap_or(0) >= need)
            .collect())
    }

    /// Every model some provider serves privately.
    pub(crate) async fn models(&self) -> anyhow::Result<Vec<String>> {
        let mut models: Vec<String> = providers(&self.client)
            .await?
            .into_iter()
            .map(|p| p.model)
            .collect();
        models.sort();
        models.dedup();
        Ok(models)
    }

    /// A random provider of `model` this wallet can pay for a request costing `need`.
    pub(crate) async fn pick(
        &self,
        model: Option<&str>,
        need: u64,
    ) -> anyhow::Result<ProviderTarget> {
        let payable = self.payable(model, need).await?;
        match payable.choose(&mut rand::rng()) {
            Some(p) => Ok(p.clone()),
            None => {
                let what = model.map_or("any model".to_owned(), |m| format!("model '{m}'"));
                bail!(
                    "no provider of {what} is payable with the credits in this wallet ({} left): buy more with `plexus credits buy`",
                    self.credits()
                )
            }
        }
    }

    /// Send `body` to `path` at `provider`, paying with its tokens; streamed when
    /// `stream`. The spent tokens leave the store (and the store is saved) before the
    /// request goes out, so a crash can never spend a token twice. A 409 says a token
    /// was spent already (by a request whose answer was lost, or a copy of the store
    /// restored from a backup): those tokens are gone, so the request is paid again
    /// with others, up to [`PAYMENT_TRIES`] times.
    pub(crate) async fn send(
        &self,
        provider: &ProviderTarget,
        path: &str,
        body: Vec<u8>,
        stream: bool,
    ) -> anyhow::Result<Answer> {
        let mut tries = 1;
        loop {
            let answer = self
                .pay_and_send(provider, path, body.clone(), stream)
                .await?;
            if answer.status() != 409 || tries >= PAYMENT_TRIES {
                return Ok(answer);
            }
            tries += 1;
            tracing::info!("a token was spent already; paying again with other tokens");
        }
    }

    async fn pay_and_send(
        &self,
        provider: &ProviderTarget,
        path: &str,
        body: Vec<u8>,
        stream: bool,
    ) -> anyhow::Result<Answer> {
        let need = credits_for(&body);
        let origin = provider.hotkey.to_address();
        let Some(taken) = self.store.take(&origin, need)? else {
            bail!("not enough credits for provider {origin}: buy more with `plexus credits buy`");
        };
        let tokens = taken
            .iter()
            .map(StoredCredit::decode)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let request = PlainRequest {
            method: "POST".into(),
            path: path.into(),
            body,
            tokens,
        };
        let route = route(&self.relay, &provider.hotkey, provider.config.clone())?;
        let answer = if stream {
            send_streamed(&self.http, &route, &request, REQUEST_TIMEOUT)
                .await
                .map(Answer::Streamed)
        } else {
            send(&self.http, &route, &request, REQUEST_TIMEOUT)
                .await
                .map(Answer::Whole)
        };
        let answer = match answer {
            Ok(a) => {
                // 401 and 402 come before the provider spends anything: keep the tokens.
                let status = a.status();
                if status == 401 || status == 402 {
                    self.store.add(taken)?;
                }
                a
            }
            Err(e) => {
                // The provider most likely never saw the tokens: keep them. Were they
                // spent after all, the provider refuses them next time (409).
                self.store.add(taken)?;
                return Err(e)
                    .with_context(|| format!("the private request through {} failed", self.relay));
            }
        };
        Ok(answer)
    }
}

/// A streamed chat answer, read to its end.
pub(crate) struct ReadStream {
    /// The text of every content delta.
    pub(crate) text: String,
    /// Whether a choice finished (a complete answer, not one cut off).
    pub(crate) finished: bool,
}

/// Read an OpenAI server-sent-event stream, handing each content delta to `on_delta`.
pub(crate) async fn read_stream(
    mut body: futures::stream::BoxStream<
        'static,
        Result<Vec<u8>, plexus_client::private::PrivateError>,
    >,
    mut on_delta: impl FnMut(&str),
) -> anyhow::Result<ReadStream> {
    use futures::StreamExt as _;
    let mut pending = Vec::new();
    let mut read = ReadStream {
        text: String::new(),
        finished: false,
    };
    while let Some(piece) = body.next().await {
        pending.extend_from_slice(&piece?);
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = pending.drain(..end + 2).collect();
            for line in String::from_utf8_lossy(&event).lines() {
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                if data == "[DONE]" {
                    continue;
                }
                let v: serde_json::Value =
                    serde_json::from_str(data).context("malformed event from the provider")?;
                if let Some(delta) = v["choices"][0]["delta"]["content"].as_str() {
                    read.text.push_str(delta);
                    on_delta(delta);
                }
                read.finished |= v["choices"][0]["finish_reason"].is_string();
            }
        }
    }
    Ok(read)
}
