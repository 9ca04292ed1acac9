//! Small field checks shared by the sections (addresses, URLs, paths,
//! positive numbers), and the checks of `[server]` and `[log]`.
use std::net::SocketAddr;

use super::error::Invalid;
use super::{LogConfig, ServerConfig};

/// `value` must be `IP:PORT` (no host names: resolving them is I/O).
pub(crate) fn check_socket_addr(field: &str, value: &str) -> Result<SocketAddr, Invalid> {
    value.parse().map_err(|_| {
        Invalid::new(
            field,
            format!(
                "{value:?} is not an address; expected IP:PORT such as 127.0.0.1:3000 or [::]:3000"
            ),
        )
    })
}

/// `value` must be an absolute `http://` or `https://` URL with a host.
pub(crate) fn check_http_url(field: &str, value: &str) -> Result<http::Uri, Invalid> {
    let uri: http::Uri = value
        .parse()
        .map_err(|e| Invalid::new(field, format!("{value:?} is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(uri),
        _ => Err(Invalid::new(
            field,
            format!("{value:?} must be an http:// or https:// URL with a host"),
        )),
    }
}

/// `value` must be a URL path that starts and ends with `/`.
pub(crate) fn check_path_prefix(field: &str, value: &str) -> Result<(), Invalid> {
    if !value.starts_with('/') || !value.ends_with('/') {
        return Err(Invalid::new(
            field,
            format!("{value:?} must start and end with '/'"),
        ));
    }
    check_path_chars(field, value)
}

/// `value` must be a URL path: starts with `/`, no query, no spaces.
pub(crate) fn check_path(field: &str, value: &str) -> Result<(), Invalid> {
    if !value.starts_with('/') {
        return Err(Invalid::new(
            field,
            format!("{value:?} must start with '/'"),
        ));
    }
    check_path_chars(field, value)
}

fn check_path_chars(field: &str, value: &str) -> Result<(), Invalid> {
    if value.contains(['?', '#']) || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::new(
            field,
            format!("{value:?} may not contain '?', '#' or whitespace"),
        ));
    }
    Ok(())
}

/// A Redis URL (`redis://` or `rediss://`, never echoed: it may carry a
/// password) and its CA file, which only a `rediss://` URL uses.
pub(crate) fn check_redis_url(
    (url_field, url): (&str, Option<&super::Secret>),
    (ca_field, ca_file): (&str, Option<&std::path::Path>),
) -> Result<(), Invalid> {
    let url = url.map(super::Secret::expose);
    if let Some(u) = url
        && (!(u.starts_with("redis://") || u.starts_with("rediss://"))
            || u.len() <= "rediss://".len())
    {
        return Err(Invalid::new(
            url_field,
            "must look like redis://HOST:PORT or rediss://HOST:PORT",
        ));
    }
    if ca_file.is_some() && !url.is_some_and(|u| u.starts_with("rediss://")) {
        return Err(Invalid::new(ca_field, "only used with a rediss:// URL"));
    }
    Ok(())
}

/// `value` must not be zero (intervals, timeouts, sizes).
pub(crate) fn check_positive(field: &str, value: u64) -> Result<(), Invalid> {
    if value == 0 {
        return Err(Invalid::new(field, "must be greater than 0"));
    }
    Ok(())
}

/// Checks `[server]`.
pub(crate) fn server(s: &ServerConfig) -> Result<(), Invalid> {
    check_socket_addr("server.listen", &s.listen)?;
    check_path("server.path", &s.path)?;
    check_positive("server.ping_interval_ms", s.ping_interval_ms)?;
    check_positive("server.ping_timeout_ms", s.ping_timeout_ms)?;
    check_positive("server.max_payload_bytes", s.max_payload_bytes as u64)?;
    check_positive("server.connect_timeout_ms", s.connect_timeout_ms)?;
    check_positive("server.upgrade_timeout_ms", s.upgrade_timeout_ms)?;
    check_positive("server.max_queue_packets", s.max_queue_packets as u64)?;
    check_positive("server.backlog", u64::from(s.backlog))?;
    s.limits.validate()?;
    for (i, origin) in s.cors_origins.iter().enumerate() {
        if origin != "*" {
            check_http_url(&format!("server.cors_origins[{i}]"), origin)?;
        }
    }
    Ok(())
}

/// Checks `[log]`: the level must be a valid `RUST_LOG`-style filter.
pub(crate) fn log(l: &LogConfig) -> Result<(), Invalid> {
    tracing_subscriber::EnvFilter::builder()
        .parse(&l.level)
        .map(drop)
        .map_err(|e| {
            Invalid::new(
                "log.level",
                format!(
                    "{:?} is not a level or filter (e.g. info, debug, siogate=trace): {e}",
                    l.level
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_ip_and_port() {
        assert!(check_socket_addr("f", "127.0.0.1:3000").is_ok());
        assert!(check_socket_addr("f", "[::1]:80").is_ok());
        assert!(check_socket_addr("f", "localhost:3000").is_err());
        assert!(check_socket_addr("f", "127.0.0.1").is_err());
    }

    #[test]
    fn webhook_urls_must_be_http() {
        assert!(check_http_url("f", "http://127.0.0.1:8080/hook").is_ok());
        assert!(check_http_url("f", "https://example.com").is_ok());
        assert!(check_http_url("f", "ftp://example.com").is_err());
        assert!(check_http_url("f", "/relative").is_err());
    }

    #[test]
    fn default_server_settings_are_valid_and_zero_interval_is_not() {
        let mut s = ServerConfig::default();
        assert_eq!(server(&s), Ok(()));
        s.ping_interval_ms = 0;
        assert_eq!(server(&s).unwrap_err().field, "server.ping_interval_ms");
    }

    #[test]
    fn log_level_accepts_filters_and_rejects_garbage() {
        let mut l = LogConfig {
            level: "siogate=debug,hyper=warn".into(),
            ..Default::default()
        };
        assert_eq!(log(&l), Ok(()));
        l.level = "very=loud=please".into();
        assert_eq!(log(&l).unwrap_err().field, "log.level");
    }
}
