//! The CONNECT namespace: path and query split, form decoding of the query,
//! `encodeURIComponent` re-encoding, and the v5 auth object ↔ query mapping.

/// A decoded query: pairs in wire order, repeated keys kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(pub Vec<(String, String)>);

/// A CONNECT namespace split into its raw path (never percent-decoded) and
/// its query (`None` when there was no `?`; `Some(empty)` for `/chat?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: String,
    pub query: Option<Query>,
}

impl Target {
    /// Splits `/chat?token=abc` into `/chat` and `{token: abc}`.
    pub fn parse(_nsp: &str) -> Target {
        todo!("socketio::connect::Target::parse")
    }
}

impl Query {
    /// Form-decodes `a=1&b=x+y&c=%E2%82%AC` (`+` is space, invalid escapes kept literally).
    pub fn parse(_s: &str) -> Query {
        todo!("socketio::connect::Query::parse")
    }

    /// Re-encodes with `encodeURIComponent` rules: `q=a%20b&x=%E2%82%AC`.
    pub fn encode(&self) -> String {
        todo!("socketio::connect::Query::encode")
    }

    /// First value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Flattens a v5 auth object into query pairs (strings as is, numbers and
    /// bools stringified, nested values JSON-encoded), dropping `pid`/`offset`
    /// when `drop_recovery` is set.
    pub fn from_auth(_auth: &serde_json::Map<String, serde_json::Value>, _drop_recovery: bool) -> Query {
        todo!("socketio::connect::Query::from_auth")
    }

    /// Turns the query into a v5 auth object; repeated keys become arrays.
    pub fn to_auth(&self) -> serde_json::Map<String, serde_json::Value> {
        todo!("socketio::connect::Query::to_auth")
    }
}
