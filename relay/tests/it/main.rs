//! Integration tests for plexus-relay: the router driven with `oneshot`, and the
//! relay served on loopback between a client and recording gateways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod a_chunked_response_reaches_the_client_piece_by_piece_while_the_gateway_is_still_sending;
mod a_client_over_its_rate_is_refused_with_429_and_retry_after;
mod a_gateway_that_is_down_slow_private_or_off_protocol_is_never_passed_through;
mod a_real_ohttp_exchange_crosses_the_relay_which_sees_and_logs_no_plaintext;
mod a_slow_loris_of_idle_connections_is_cut_off_and_real_requests_are_still_served;
mod forwarded_requests_carry_only_the_content_type_and_the_exact_bytes;
mod refused_requests_never_reach_a_gateway_and_the_relay_keeps_serving;
mod the_directory_lists_served_neurons_merges_other_sources_and_survives_a_failing_node;

/// Gateways, relays and clients on loopback.
pub(crate) mod support {
    use std::{
        net::{IpAddr, Ipv4Addr, SocketAddr},
        sync::{Arc, Mutex},
    };

    use axum::{
        Router,
        body::{Body, Bytes},
        extract::{ConnectInfo, Request, connect_info::MockConnectInfo},
        http::{HeaderMap, StatusCode},
        response::Response,
    };
    use http_body_util::BodyExt as _;
    use plexus_client::wire::ErrorBody;
    use plexus_relay::{Directory, Relay, RelayConfig, router};
    use plexus_types::AccountId;
    use tower::ServiceExt as _;

    /// The address test clients connect from: on loopback, yet distinct from the
    /// 127.0.0.1 the relay and the gateways use, so it can be searched for.
    pub(crate) const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

    /// A hotkey.
    pub(crate) fn hotkey(n: u8) -> AccountId {
        AccountId([n; 32])
    }

    /// A relay config for loopback gateways.
    pub(crate) fn local_config() -> RelayConfig {
        RelayConfig {
            allow_private_targets: true,
            ..RelayConfig::default()
        }
    }

    /// A relay whose directory holds `targets`, each checked as a registered URL.
    pub(crate) fn relay(config: RelayConfig, targets: &[(AccountId, String)]) -> Relay {
        let relay = Relay::new(config).unwrap();
        let mut directory = Directory::new();
        for (hotkey, url) in targets {
            let url = plexus_relay::directory::check_url(url, true).unwrap();
            directory.insert(*hotkey, url);
        }
        relay.set_directory(directory);
        relay
    }

    /// What a gateway received.
    #[derive(Debug, Clone)]
    pub(crate) struct Received {
        pub(crate) peer: SocketAddr,
        pub(crate) path: String,
        pub(crate) headers: HeaderMap,
        pub(crate) body: Bytes,
    }

    /// Everything a gateway received, in order.
    pub(crate) type Log = Arc<Mutex<Vec<Received>>>;

    /// Serve `app` on 127.0.0.1 with peer addresses; its base URL.
    pub(crate) async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        format!("http://{addr}")
    }

    /// A gateway that records every request and answers with `answer(body)`.
    pub(crate) async fn recording_gateway(
        answer: impl Fn(Bytes) -> Response + Clone + Send + Sync + 'static,
    ) -> (String, Log) {
        let log: Log = Arc::default();
        let recorded = Arc::clone(&log);
        let app = Router::new().fallback(move |request: Request| {
            let (log, answer) = (Arc::clone(&recorded), answer.clone());
            async move {
                let peer = request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .unwrap()
                    .0;
                let path = request.uri().path().to_owned();
                let headers = request.headers().clone();
                let body = request.into_body().collect().await.unwrap().to_bytes();
                log.lock().unwrap().push(Received {
                    peer,
                    path,
                    headers,
                    body: body.clone(),
                });
                answer(body)
            }
        });
        (serve(app).await, log)
    }

    /// A response with this status, content type and body.
    pub(crate) fn answer(
        status: StatusCode,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Response {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(body.into())
            .unwrap()
    }

    /// Serve `relay` on 127.0.0.1; its base URL.
    pub(crate) async fn serve_relay(relay: Relay) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(plexus_relay::serve(listener, relay, std::future::pending()));
        format!("http://{addr}")
    }

    /// An HTTP client connecting from [`CLIENT_IP`], never through a proxy.
    pub(crate) fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .local_address(CLIENT_IP)
            .build()
            .unwrap()
    }

    /// Send `request` to `relay`'s router as if from `peer`; status, headers, body.
    pub(crate) async fn oneshot(
        relay: &Relay,
        peer: SocketAddr,
        request: axum::http::Request<Body>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let response = router(relay.clone())
            .layer(MockConnectInfo(peer))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    }

    /// A POST of `body` with `content_type` to the relay route for `target`.
    pub(crate) fn post(
        target: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> axum::http::Request<Body> {
        let mut builder = axum::http::Request::post(format!("/v1/relay/{target}"));
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(body.into()).unwrap()
    }

    /// The error code of a JSON error body.
    pub(crate) fn code(body: &[u8]) -> String {
        serde_json::from_slice::<ErrorBody>(body)
            .unwrap_or_else(|e| panic!("not a JSON error ({e}): {}", String::from_utf8_lossy(body)))
            .error
            .code
    }

    /// The value of the sample `name` in a Prometheus exposition, 0 if absent.
    pub(crate) fn sample(metrics: &str, name: &str) -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    }

    /// A client address.
    pub(crate) fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40_000)
    }
}
