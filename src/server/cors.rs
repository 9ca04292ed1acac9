//! CORS for the Engine.IO endpoint. Browsers send `Origin` on polling
//! requests (credentials included, so the origin is echoed, never `*`) and on
//! WebSocket handshakes. An empty allow-list admits every origin; a request
//! from an origin not on the list is refused with 403 (code 4) — polling,
//! preflight and WebSocket alike — instead of being served without headers.
use http::HeaderValue;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN,
    VARY,
};

use crate::transport::{Body, Response};

/// The CORS verdict for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cors {
    /// No `Origin` header (not a browser cross-origin request).
    NoOrigin,
    /// Allowed: echo this origin.
    Allowed(HeaderValue),
    /// The origin is not on the allow-list.
    Denied,
}

/// Checks the request's `Origin` against the allow-list.
pub fn check(allowed: &[String], headers: &http::HeaderMap) -> Cors {
    let Some(origin) = headers.get(ORIGIN) else {
        return Cors::NoOrigin;
    };
    if allowed.is_empty() || allowed.iter().any(|a| a.as_bytes() == origin.as_bytes()) {
        Cors::Allowed(origin.clone())
    } else {
        Cors::Denied
    }
}

/// Adds the CORS headers for an allowed origin.
pub fn apply(resp: &mut Response, cors: &Cors) {
    if let Cors::Allowed(origin) = cors {
        let h = resp.headers_mut();
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.append(VARY, HeaderValue::from_static("Origin"));
    }
}

/// The answer to an `OPTIONS` preflight (204, methods GET/POST, the
/// requested headers echoed).
pub fn preflight(req_headers: &http::HeaderMap, cors: &Cors) -> Response {
    let mut resp = http::Response::new(Body::default());
    *resp.status_mut() = http::StatusCode::NO_CONTENT;
    let h = resp.headers_mut();
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    let allow_headers = req_headers
        .get(ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("content-type"));
    h.insert(ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    apply(&mut resp, cors);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: &'static str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(ORIGIN, HeaderValue::from_static(origin));
        h
    }

    #[test]
    fn empty_list_echoes_any_origin() {
        assert_eq!(
            check(&[], &headers("https://a.example")),
            Cors::Allowed(HeaderValue::from_static("https://a.example"))
        );
        assert_eq!(check(&[], &http::HeaderMap::new()), Cors::NoOrigin);
    }

    #[test]
    fn allow_list_is_exact() {
        let list = vec!["https://a.example".to_owned()];
        assert!(matches!(
            check(&list, &headers("https://a.example")),
            Cors::Allowed(_)
        ));
        assert_eq!(
            check(&list, &headers("https://a.example.evil")),
            Cors::Denied
        );
    }

    #[test]
    fn preflight_echoes_requested_headers() {
        let mut h = headers("https://a.example");
        h.insert(
            ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("x-token"),
        );
        let cors = check(&[], &h);
        let resp = preflight(&h, &cors);
        assert_eq!(resp.status(), 204);
        assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_HEADERS], "x-token");
        assert_eq!(
            resp.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://a.example"
        );
        assert_eq!(resp.headers()[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    }
}
