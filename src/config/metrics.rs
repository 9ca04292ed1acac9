//! `[metrics]`: where the operations endpoints (`/metrics`, `/healthz`,
//! `/readyz`) listen.
use serde::Deserialize;

use super::error::Invalid;
use super::validate::check_socket_addr;

/// `[metrics]` in the TOML file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// IP:PORT serving `/metrics` (Prometheus text format), `/healthz` and
    /// `/readyz` (`--metrics-listen`). Default none: no metrics endpoint;
    /// `/healthz` and `/readyz` are answered on the main listener anyway.
    pub listen: Option<String>,
}

impl MetricsConfig {
    /// The address must be `IP:PORT`.
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(addr) = &self.listen {
            check_socket_addr("metrics.listen", addr)?;
        }
        Ok(())
    }
}
