//! The router, its layers, and the server loop.

use std::{io, time::Instant};

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    handler::Handler,
    http::{HeaderValue, Method, header},
    middleware::{self, Next},
    response::Response,
    routing,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    trace::TraceLayer,
};

use crate::{
    error::BodyLimit,
    routes::{blocks, chain, credits, data, node, proofs, state, transactions},
    state::{ApiState, Cors, RequestLabels, RouteLabels},
};

/// One route the router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Lower-case HTTP method, as OpenAPI names it (`get`, `post`).
    pub method: &'static str,
    /// The path template, e.g. `/v1/accounts/{address}`.
    pub path: &'static str,
}

/// Builds the router and the list of its routes together, so the list cannot drift.
struct Routes {
    router: Router<ApiState>,
    table: Vec<Route>,
}

impl Routes {
    fn get<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        self.table.push(Route {
            method: "get",
            path,
        });
        self.router = self.router.route(path, routing::get(handler));
        self
    }

    fn post<H, T>(mut self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        self.table.push(Route {
            method: "post",
            path,
        });
        self.router = self.router.route(path, routing::post(handler));
        self
    }
}

fn build() -> Routes {
    Routes {
        router: Router::new(),
        table: Vec::new(),
    }
    .post("/v1/transactions", transactions::submit)
    .get("/v1/transactions/{hash}", transactions::get)
    .get("/v1/accounts/{address}", chain::account)
    .get("/v1/accounts/{address}/stakes", chain::stakes)
    .get("/v1/accounts/{address}/hotkeys", chain::owned_hotkeys)
    .get("/v1/hotkeys/{address}", chain::hotkey)
    .get("/v1/subnets", chain::subnets)
    .get("/v1/subnets/{netuid}", chain::subnet)
    .get("/v1/subnets/{netuid}/metagraph", chain::metagraph)
    .get("/v1/subnets/{netuid}/history", chain::history)
    .get("/v1/subnets/{netuid}/weights/{uid}", chain::weights)
    .get("/v1/supply", chain::supply)
    .get("/v1/chain", chain::chain)
    .get("/v1/data/tasks", data::tasks)
    .get("/v1/data/tasks/{id}", data::task)
    .get("/v1/data/tasks/{id}/dataset", data::dataset)
    .get("/v1/data/tasks/{id}/training", data::training)
    .get("/v1/data/tasks/{id}/reports", data::reports)
    .get("/v1/credits/issuers", credits::issuers)
    .get("/v1/credits/issuers/{hotkey}", credits::issuer)
    .get("/v1/credits/deposits", credits::deposits)
    .get("/v1/credits/deposits/{id}", credits::deposit)
    .get("/v1/credits/nonces/{nonce}", credits::nonce)
    .get("/v1/proofs/settled/{nonce}", credits::settled_proof)
    .get("/v1/blocks", blocks::list)
    .get("/v1/blocks/latest", blocks::latest)
    .get("/v1/blocks/{id}", blocks::get)
    .get("/v1/blocks/{id}/finalization", blocks::finalization)
    .get("/v1/blocks/{id}/finalization/raw", blocks::finalization_raw)
    .get("/v1/state/chunks", state::chunks)
    .get("/v1/proofs/account/{address}", proofs::account)
    .get("/v1/proofs/stake/{hotkey}/{coldkey}", proofs::stake)
    .get(
        "/v1/proofs/registration/{netuid}/{hotkey}",
        proofs::registration,
    )
    .get("/v1/proofs/endpoint/{netuid}/{uid}", proofs::endpoint)
    .get("/v1/proofs/issuer/{hotkey}", proofs::issuer)
    .get("/v1/proofs/issuer-key/{key_id}", proofs::issuer_key_record)
    .get("/v1/proofs/validator-set/{epoch}", proofs::validator_set)
    .get("/v1/status", node::status)
    .get("/healthz", node::healthz)
    .get("/readyz", node::readyz)
    .get("/v1/events", node::events)
    .get("/metrics", node::metrics)
    .get("/openapi.json", node::openapi)
}

/// Every route [`router`] serves.
pub fn routes() -> Vec<Route> {
    build().table
}

/// The API over `state`: every route, the web app for other paths ([`crate::web`]),
/// JSON answers for unknown API routes, wrong methods, bad input and panics, a body
/// limit, a request timeout, CORS and metrics.
pub fn router(state: ApiState) -> Router {
    let config = state.config().clone();
    build()
        .router
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(node::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(Extension(BodyLimit(config.body_limit)))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(cors(&config.cors))
        .layer(CatchPanicLayer::custom(node::panicked))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve `state`'s router on `listener` until `shutdown` resolves; then stop
/// accepting, end the open event streams, let in-flight requests finish, and return.
///
/// The loop is `plexus-serve`'s, shared with the relay, the issuer and the provider:
/// each connection speaks HTTP/1.1, must send a request's headers within
/// [`ApiConfig::header_timeout`](crate::ApiConfig::header_timeout) (which also closes
/// connections idle that long), and at most
/// [`ApiConfig::max_connections`](crate::ApiConfig::max_connections) are open at once
/// (when all are taken, the idlest one is closed to make room).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = router(state.clone());
    let config = state.config().clone();
    let limits = plexus_serve::Limits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
        max_connections_per_peer: plexus_serve::DEFAULT_MAX_CONNECTIONS_PER_PEER,
        body_limit: config.body_limit,
        // The router's own deadline covers reading the body.
        body_timeout: None,
    };
    plexus_serve::serve_with(listener, app, limits, shutdown, || state.close_streams()).await
}

/// Count and time each request by its route template.
async fn track(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = state.metrics();
    metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method: method.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Answer `503 timeout` when producing a response takes longer than configured.
async fn deadline(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config().request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => node::timed_out(),
    }
}

fn cors(policy: &Cors) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    match policy {
        Cors::Loopback => layer.allow_origin(AllowOrigin::predicate(|origin, _| {
            is_loopback_origin(origin)
        })),
        Cors::Any => layer.allow_origin(tower_http::cors::Any),
        Cors::Disabled => CorsLayer::new(),
    }
}

/// Whether an `Origin` is a page served from this machine's loopback interface.
fn is_loopback_origin(origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        match v6.split_once(']') {
            Some((host, port)) if port.is_empty() || port.starts_with(':') => host,
            _ => return false,
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            None => rest,
            _ => return false,
        }
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_origins_pass_the_default_cors_policy() {
        let ok = |s: &str| is_loopback_origin(&HeaderValue::from_str(s).unwrap());
        assert!(ok("http://127.0.0.1:8080"));
        assert!(ok("http://localhost:3000"));
        assert!(ok("http://localhost"));
        assert!(ok("https://[::1]:9000"));
        assert!(ok("http://127.5.6.7:1"));
        assert!(!ok("http://example.com"));
        assert!(!ok("http://127.0.0.1.evil.com"));
        assert!(!ok("http://localhost.evil.com:80"));
        assert!(!ok("http://127.0.0.1:80@evil.com"));
        assert!(!ok("null"));
        assert!(!ok("http://[::2]:1"));
    }

    #[test]
    fn the_route_table_has_no_duplicates() {
        let table = routes();
        let mut seen = std::collections::BTreeSet::new();
        for r in &table {
            assert!(seen.insert((r.method, r.path)), "duplicate {r:?}");
        }
    }
}
