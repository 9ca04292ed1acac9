//! Engine.IO HTTP errors on the wire, in one place: status codes and the
//! `{"code":N,"message":"…"}` bodies engine.io sends (PROTOCOL.md §1.2).
use bytes::Bytes;
use http::StatusCode;
use http::header::CONTENT_TYPE;

use crate::transport::{Body, Error, Response};

/// The HTTP response for a failed Engine.IO request.
pub fn error_response(err: &Error) -> Response {
    let (status, code, message) = match err {
        Error::TransportUnknown => (StatusCode::BAD_REQUEST, 0, "Transport unknown"),
        Error::SessionUnknown => (StatusCode::BAD_REQUEST, 1, "Session ID unknown"),
        Error::BadHandshakeMethod => (StatusCode::BAD_REQUEST, 2, "Bad handshake method"),
        Error::BadRequest => (StatusCode::BAD_REQUEST, 3, "Bad request"),
        Error::Forbidden => (StatusCode::FORBIDDEN, 4, "Forbidden"),
        Error::UnsupportedProtocolVersion => {
            (StatusCode::BAD_REQUEST, 5, "Unsupported protocol version")
        }
        // engine.io 6 answers an oversize POST with a bare 413.
        Error::PayloadTooLarge => return bare(StatusCode::PAYLOAD_TOO_LARGE),
        Error::ShuttingDown => return bare(StatusCode::SERVICE_UNAVAILABLE),
        Error::TooManySessions => {
            return retry_later(json(
                StatusCode::SERVICE_UNAVAILABLE,
                3,
                "Too many sessions",
            ));
        }
        Error::TooManySessionsFromIp => {
            return retry_later(json(
                StatusCode::TOO_MANY_REQUESTS,
                3,
                "Too many sessions from this address",
            ));
        }
        Error::UrlTooLong => (StatusCode::URI_TOO_LONG, 3, "URL too long"),
        Error::Rejected(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
            return json(status, r.code, &r.message);
        }
    };
    json(status, code, message)
}

fn json(status: StatusCode, code: u8, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut resp = http::Response::new(Body::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// Limit refusals say when to try again (socket.io-client ignores it and
/// retries with its own reconnection backoff; other clients may use it).
fn retry_later(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    resp
}

fn bare(status: StatusCode) -> Response {
    let mut resp = http::Response::new(Body::default());
    *resp.status_mut() = status;
    resp
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::server::backend::Reject;

    async fn body(resp: Response) -> String {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn bodies_match_engineio() {
        let r = error_response(&Error::SessionUnknown);
        assert_eq!(r.status(), 400);
        assert_eq!(
            body(r).await,
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        let r = error_response(&Error::TransportUnknown);
        assert_eq!(body(r).await, r#"{"code":0,"message":"Transport unknown"}"#);
        let r = error_response(&Error::Forbidden);
        assert_eq!(r.status(), 403);
        assert_eq!(body(r).await, r#"{"code":4,"message":"Forbidden"}"#);
        assert_eq!(error_response(&Error::PayloadTooLarge).status(), 413);
        let r = error_response(&Error::TooManySessionsFromIp);
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(
            body(r).await,
            r#"{"code":3,"message":"Too many sessions from this address"}"#
        );
        assert_eq!(error_response(&Error::TooManySessions).status(), 503);
        assert_eq!(error_response(&Error::UrlTooLong).status(), 414);
    }

    #[tokio::test]
    async fn reject_uses_backend_status_and_escapes_message() {
        let reject = Reject {
            status: 403,
            code: 4,
            message: "no \"token\"".into(),
        };
        let r = error_response(&Error::Rejected(reject));
        assert_eq!(r.status(), 403);
        assert_eq!(body(r).await, r#"{"code":4,"message":"no \"token\""}"#);
    }
}
