//! The Engine.IO request URL, parsed once into a [`RequestInfo`]: revision,
//! transport, sid, `b64`, `j`, and the application query. Every later
//! decision matches on these types instead of strings (PROTOCOL.md §1.2).
use crate::protocol::engineio::Revision;
use crate::protocol::socketio::connect::Query;
use crate::server::backend::TransportKind;
use crate::transport::Error;

/// Query keys Engine.IO reserves; the rest is the application's.
const RESERVED: [&str; 6] = ["EIO", "transport", "sid", "t", "b64", "j"];

/// A parsed Engine.IO request URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub eio: Revision,
    pub transport: TransportKind,
    pub sid: Option<String>,
    /// EIO3 `b64`: any non-empty value (JS truthiness of a string).
    pub b64: bool,
    /// JSONP callback index.
    pub jsonp: Option<u32>,
    /// The application query (reserved keys removed), in wire order.
    pub query: Query,
}

impl RequestInfo {
    /// Parses the query string of an Engine.IO request. `EIO` missing is
    /// EIO3 (as engine.io reads it); values other than 3 and 4 are refused.
    pub fn parse(query: Option<&str>) -> Result<RequestInfo, Error> {
        let pairs = Query::parse(query.unwrap_or("")).0;
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let eio = match get("EIO") {
            None | Some("3") => Revision::V3,
            Some("4") => Revision::V4,
            Some(_) => return Err(Error::UnsupportedProtocolVersion),
        };
        let transport = match get("transport") {
            Some("polling") => TransportKind::Polling,
            Some("websocket") => TransportKind::WebSocket,
            _ => return Err(Error::TransportUnknown),
        };
        let sid = get("sid").filter(|s| !s.is_empty()).map(str::to_owned);
        let b64 = get("b64").is_some_and(|v| !v.is_empty());
        let jsonp = match get("j") {
            None => None,
            Some(j) if !j.is_empty() && j.bytes().all(|b| b.is_ascii_digit()) => {
                Some(j.parse().map_err(|_| Error::BadRequest)?)
            }
            Some(_) => return Err(Error::BadRequest),
        };
        let app = pairs
            .iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .cloned()
            .collect();
        Ok(RequestInfo {
            eio,
            transport,
            sid,
            b64,
            jsonp,
            query: Query(app),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reserved_keys_and_keeps_the_app_query() {
        let info = RequestInfo::parse(Some(
            "EIO=3&transport=polling&t=N1&b64=1&j=2&token=a%20b&sid=abc",
        ))
        .unwrap();
        assert_eq!(info.eio, Revision::V3);
        assert_eq!(info.transport, TransportKind::Polling);
        assert_eq!(info.sid.as_deref(), Some("abc"));
        assert!(info.b64);
        assert_eq!(info.jsonp, Some(2));
        assert_eq!(info.query, Query(vec![("token".into(), "a b".into())]));
    }

    #[test]
    fn errors_map_to_engineio_codes() {
        assert_eq!(
            RequestInfo::parse(Some("EIO=4&transport=carrier")),
            Err(Error::TransportUnknown)
        );
        assert_eq!(
            RequestInfo::parse(Some("EIO=4")),
            Err(Error::TransportUnknown)
        );
        assert_eq!(
            RequestInfo::parse(Some("EIO=5&transport=polling")),
            Err(Error::UnsupportedProtocolVersion)
        );
        assert_eq!(
            RequestInfo::parse(Some("EIO=4&transport=polling&j=x")),
            Err(Error::BadRequest)
        );
    }

    #[test]
    fn missing_eio_is_v3() {
        let info = RequestInfo::parse(Some("transport=websocket")).unwrap();
        assert_eq!(info.eio, Revision::V3);
        assert_eq!(info.transport, TransportKind::WebSocket);
        assert!(!info.b64);
        assert_eq!(info.sid, None);
    }
}
