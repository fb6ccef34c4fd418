//! The web app: its built assets (embedded by `build.rs` from `web/dist`), served at `/`
//! with a single-page fallback to `index.html`; API-like paths (`/v1/…`, `/v2/…`) keep
//! their JSON 404.

use axum::{
    extract::State,
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};

use crate::{routes::node, state::ApiState};

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The page served when the app was not built before this crate was compiled.
const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Plexus</title></head>\
<body><main><h1>Plexus</h1><p>This node's API answers under <a href=\"/v1/status\">/v1</a> \
(<a href=\"/openapi.json\">OpenAPI</a>), but its web app was not built when it was compiled.</p>\
<p>Build it with <code>./scripts/setup.sh</code> (or <code>npm ci &amp;&amp; npm run build</code> \
in <code>web/</code>), then rebuild <code>plexus</code>.</p></main></body></html>";

/// Scripts and styles only from this origin; private requests may go to any relay.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; connect-src 'self' http: https:; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether the embedded assets hold a built app.
pub fn is_built() -> bool {
    find("/index.html").is_some()
}

fn find(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// A path of the API's namespace: `/v` followed by digits, alone or before `/`, or a
/// known non-app route.
fn is_api_path(path: &str) -> bool {
    if path == "/metrics" || path == "/openapi.json" {
        return true;
    }
    let Some(rest) = path.strip_prefix("/v") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && (rest.len() == digits || rest.as_bytes()[digits] == b'/')
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn asset(path: &str, body: &'static [u8], head: bool) -> Response {
    let html = path.ends_with(".html");
    // Vite puts content-hashed names under /assets/: cache those for good.
    let cache = if path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if head {
        StatusCode::OK.into_response()
    } else {
        body.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    response
}

/// Every request no API route matched: the app's files, `index.html` for the app's
/// own paths, and the API's JSON errors for everything else.
pub(crate) async fn fallback(state: State<ApiState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let head = method == Method::HEAD;
    // Dot segments (`..`, hidden files) and empty segments name nothing of the app.
    let odd = path.contains("/.") || path.contains("//");
    if odd || is_api_path(path) || !(method == Method::GET || head) {
        return node::not_found(state, method).await.into_response();
    }
    if let Some(body) = find(path) {
        return asset(path, body, head);
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        // A file the app does not have: never answer it with the app's HTML.
        return node::not_found(state, method).await.into_response();
    }
    match find("/index.html") {
        Some(index) => asset("/index.html", index, head),
        None => asset("/index.html", PLACEHOLDER.as_bytes(), head),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_told_apart_from_app_paths() {
        for p in [
            "/v1",
            "/v1/status",
            "/v2/accounts",
            "/v10/x",
            "/metrics",
            "/openapi.json",
        ] {
            assert!(is_api_path(p), "{p}");
        }
        for p in [
            "/",
            "/wallet",
            "/blocks/5",
            "/vault",
            "/v1x",
            "/assets/a.js",
        ] {
            assert!(!is_api_path(p), "{p}");
        }
    }
}
