//! The client that posts to gateways: HTTP/1.1 over TCP or TLS, sending exactly the
//! headers it is given (plus `host` and `content-length`), never redirected, and,
//! unless private targets are allowed, connecting only to public addresses.

use std::{
    io,
    net::SocketAddr,
    task::{Context, Poll},
    time::Duration,
};

use axum::body::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use hyper::{Method, Request, Response, body::Incoming, header};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{
        Client,
        connect::{HttpConnector, dns::Name},
    },
    rt::TokioExecutor,
};
use thiserror::Error;

use crate::directory::is_public;

/// Why a gateway gave no response.
#[derive(Debug, Error)]
pub(crate) enum UpstreamError {
    /// No connection: refused, unreachable, resolved to no allowed address, or TLS failed.
    #[error("cannot connect to the gateway: {0}")]
    Connect(String),
    /// Connected, but the exchange failed.
    #[error("the exchange with the gateway failed: {0}")]
    Exchange(String),
    /// The forward URL is not a valid URI.
    #[error("the forward URL is not a valid URI")]
    Uri,
}

/// Resolves names with the system resolver, keeping only the addresses the target
/// policy allows (so a public name cannot point the relay at a private host).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyResolver {
    allow_private: bool,
}

impl tower::Service<Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<Self::Response>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    "the name resolves to no public address",
                ));
            }
            Ok(addrs.into_iter())
        })
    }
}

/// A pooled client for gateways.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    client: Client<HttpsConnector<HttpConnector<PolicyResolver>>, Full<Bytes>>,
    allow_private: bool,
}

impl Upstream {
    /// A client that connects within `connect_timeout` and only to public
    /// addresses unless `allow_private`.
    pub(crate) fn new(connect_timeout: Duration, allow_private: bool) -> Result<Self, String> {
        let mut http = HttpConnector::new_with_resolver(PolicyResolver { allow_private });
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(|e| e.to_string())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// Post `body` to `url` with only `content-type: media_type`.
    pub(crate) async fn post(
        &self,
        url: &str,
        media_type: &'static str,
        body: Bytes,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let uri: hyper::Uri = url.parse().map_err(|_| UpstreamError::Uri)?;
        // Literal addresses skip the resolver: check them here.
        let literal = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<std::net::IpAddr>().ok());
        if !self.allow_private && literal.is_some_and(|ip| !is_public(ip)) {
            return Err(UpstreamError::Connect(
                "the gateway's address is not public".to_owned(),
            ));
        }
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, media_type)
            .body(Full::new(body))
            .map_err(|_| UpstreamError::Uri)?;
        self.client.request(request).await.map_err(|e| {
            let detail =
                std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
            if e.is_connect() {
                UpstreamError::Connect(detail)
            } else {
                UpstreamError::Exchange(detail)
            }
        })
    }
}
