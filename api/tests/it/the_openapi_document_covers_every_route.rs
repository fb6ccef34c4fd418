use axum::http::{Method, Request, StatusCode};

use crate::support::{TestChain, get, json, send};

/// A sample value for each path parameter, so every route can be called.
fn fill(path: &str, chain: &TestChain) -> String {
    let account = chain.faucet().account().to_address();
    path.replace("{address}", &account)
        .replace("{hotkey}", &account)
        .replace("{coldkey}", &account)
        .replace("{hash}", &"00".repeat(32))
        .replace("{netuid}", "1")
        .replace("{uid}", "0")
        .replace("{id}", "0")
}

#[tokio::test]
async fn every_route_in_the_router_is_documented_with_its_method() {
    let state = TestChain::new().state();
    let (status, doc) = get(&state, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let routes = plexus_api::routes();
    assert!(routes.len() >= 20);
    for route in &routes {
        let operation = &doc["paths"][route.path][route.method];
        assert!(
            operation.is_object(),
            "{} {} is not in the OpenAPI document",
            route.method,
            route.path
        );
        assert!(
            operation["responses"]["200"].is_object() || operation["responses"]["202"].is_object(),
            "{} {} documents no success response",
            route.method,
            route.path
        );
    }
    // And nothing is documented that the router does not serve.
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(documented, routes.len());
}

#[tokio::test]
async fn every_route_in_the_table_is_served_by_the_router() {
    let chain = TestChain::new();
    chain.setup_subnet();
    let state = chain.state();
    for route in plexus_api::routes() {
        if route.path == "/v1/events" {
            continue; // a stream: covered by its own tests
        }
        let method = Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
        let request = Request::builder()
            .method(method)
            .uri(fill(route.path, &chain))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(if route.method == "post" {
                "{}"
            } else {
                ""
            }))
            .unwrap();
        let (status, body) = send(&state, request).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{route:?}");
        if route.path != "/metrics" {
            let body = json(&body);
            assert_ne!(
                body["error"]["code"], "no_route",
                "{route:?} fell through to the fallback"
            );
        }
    }
}

#[tokio::test]
async fn every_schema_reference_in_the_document_resolves() {
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => out.push(r.to_string()),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let state = TestChain::new().state();
    let (_, doc) = get(&state, "/openapi.json").await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20);
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
    }
}
