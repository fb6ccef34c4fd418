//! A provider's private path on a loopback socket, for the attack tests: one issuer
//! key of 1-credit tokens, a scripted engine, the spent store in a temporary folder.

use std::{path::Path, time::Duration};

use plexus_client::private::{PlainRequest, Route, send};
use plexus_privacy::{
    oblivious::{Gateway, GatewayKey, PublicKeyConfig},
    token::Token,
};
use plexus_provider::{
    Provider, ProviderConfig,
    private::{GatewayLimits, Keyring, PrivateGateway, private_router},
    spent::SpentStore,
};
use reqwest::Url;

use crate::{
    support::{Scripted, provider},
    the_private_path_serves_each_token_once_and_refuses_hostile_requests::{issuer, token},
};

pub(crate) const ISSUER: &str = "plx1issuer";
pub(crate) const ORIGIN: &str = "plx1provider";
pub(crate) const T: Duration = Duration::from_secs(20);

pub(crate) struct Running {
    pub(crate) url: Url,
    pub(crate) config: PublicKeyConfig,
    pub(crate) gateway: PrivateGateway,
    pub(crate) provider: Provider,
    pub(crate) http: reqwest::Client,
    pub(crate) server: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A gateway over `engine` served as `config`, its spent store at `spent`.
pub(crate) async fn start(
    spent: &Path,
    engine: std::sync::Arc<Scripted>,
    config: ProviderConfig,
) -> Running {
    start_with(spent, engine, config, GatewayLimits::default()).await
}

/// A gateway as [`start`] makes, within `limits`.
pub(crate) async fn start_with(
    spent: &Path,
    engine: std::sync::Arc<Scripted>,
    config: ProviderConfig,
    limits: GatewayLimits,
) -> Running {
    let (provider, _) = provider(engine, config);
    let ohttp = Gateway::new(vec![GatewayKey::derive(1, &[5; 32]).unwrap()]).unwrap();
    let key = ohttp.public_configs().unwrap().remove(0);
    let gateway = PrivateGateway::new(
        ohttp,
        ORIGIN.into(),
        SpentStore::open(spent).unwrap(),
        provider.clone(),
        limits,
    );
    let mut keyring = Keyring::new();
    keyring.add(ISSUER, issuer().public().clone(), 1);
    gateway.set_keyring(keyring);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let app = private_router(gateway.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Running {
        url,
        config: key,
        gateway,
        provider,
        http: reqwest::Client::new(),
        server,
    }
}

/// `n` fresh 1-credit tokens for this gateway's origin.
pub(crate) fn tokens(n: usize) -> Vec<Token> {
    (0..n).map(|_| token(issuer(), ISSUER, ORIGIN)).collect()
}

impl Running {
    /// Send `body` to `path` over the private path, paid with `tokens`: the status and
    /// the sealed answer's body.
    pub(crate) async fn send(
        &self,
        path: &str,
        body: &serde_json::Value,
        tokens: Vec<Token>,
    ) -> (u16, serde_json::Value) {
        let route = Route::direct(&self.url, self.config.clone()).unwrap();
        let request = PlainRequest {
            method: "POST".into(),
            path: path.into(),
            body: body.to_string().into_bytes(),
            tokens,
        };
        let answer = send(&self.http, &route, &request, T).await.unwrap();
        let json = serde_json::from_slice(&answer.body).unwrap_or_default();
        (answer.status, json)
    }

    /// Whether the token's nonce is spent here.
    pub(crate) fn is_spent(&self, token: &Token) -> bool {
        self.gateway.spent().is_spent(&token.nonce).unwrap()
    }
}
