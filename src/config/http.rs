//! What one client may cost the server: timeouts, the connection cap and the header size,
//! read from the `[http]` table of `site.toml`. Applied when the server starts; a change
//! needs a restart, like `listen`. How each is enforced is `server`'s and `connection`'s.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::in_range;

/// The `[http]` table of `site.toml`. Every key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Seconds a client that is sending may go without completing a request's head
    /// (slowloris defence).
    #[serde(deserialize_with = "seconds")]
    pub header_read_timeout: Duration,
    /// Seconds a connection may sit with nothing arriving and no request in progress before
    /// it is closed (HTTP/1.1 keep-alive, HTTP/2, connections that never send a byte), and
    /// seconds a response may wait on a client that does not read it. Both timeouts are
    /// checked every `min(header_read_timeout, idle_timeout)`, so each may take up to one
    /// such period longer.
    #[serde(deserialize_with = "seconds")]
    pub idle_timeout: Duration,
    /// Open connections at most; past it a new connection is answered 503 and closed.
    #[serde(deserialize_with = "connections")]
    pub max_connections: usize,
    /// Bytes of a request's head (request line and headers, or an HTTP/2 header list) at
    /// most; past it the answer is 431.
    #[serde(deserialize_with = "header_bytes")]
    pub max_header_bytes: usize,
}

/// Ten seconds is ample for any real client on a slow mobile link, yet a trickling client
/// holds its connection no longer than that.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Below the unit file's `LimitNOFILE=65536` with room for the store and lingering sockets;
/// far above what an aggregator-facing feed server holds open in practice.
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Feed readers send a few hundred bytes; 32 KiB leaves room for big cookies and long URLs
/// while 10 000 connections still cannot pin more than ~320 MiB of header buffers.
const DEFAULT_MAX_HEADER_BYTES: usize = 32 << 10;
/// hyper's HTTP/1 read buffer cannot be smaller (it panics below 8 KiB).
const MIN_HEADER_BYTES: usize = 8 << 10;
const MAX_HEADER_BYTES: usize = 1 << 20;
const MAX_SECONDS: u64 = 3600;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    in_range(d, 1, MAX_SECONDS, "seconds").map(Duration::from_secs)
}

fn connections<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    in_range(d, 1, 1 << 20, "connections").map(|n| n as usize)
}

fn header_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    in_range(d, MIN_HEADER_BYTES as u64, MAX_HEADER_BYTES as u64, "bytes").map(|n| n as usize)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{ConfigError, parse_toml};

    #[derive(Debug, Deserialize)]
    struct Site {
        #[serde(default)]
        http: Limits,
    }

    fn parse(text: &str) -> Result<Site, ConfigError> {
        parse_toml(Path::new("site.toml"), text)
    }

    #[test]
    fn every_key_is_optional() {
        let site = parse("").unwrap();
        assert_eq!(site.http, Limits::default());
        let site = parse("[http]\nidle_timeout = 3\n").unwrap();
        assert_eq!(site.http.idle_timeout, Duration::from_secs(3));
        assert_eq!(site.http.max_connections, DEFAULT_MAX_CONNECTIONS);
    }

    #[test]
    fn out_of_range_and_unknown_keys_name_the_field() {
        for (text, field) in [
            (
                "[http]\nheader_read_timeout = 0\n",
                "http.header_read_timeout",
            ),
            ("[http]\nmax_header_bytes = 100\n", "http.max_header_bytes"),
            ("[http]\nmax_connections = 0\n", "http.max_connections"),
            ("[http]\nidle_timeout = -1\n", "http.idle_timeout"),
        ] {
            let ConfigError(problems) = parse(text).unwrap_err();
            assert_eq!(
                problems[0].field.as_deref(),
                Some(field),
                "{text}: {problems:?}"
            );
            assert_eq!(problems[0].line, Some(2), "{problems:?}");
        }
        let ConfigError(problems) = parse("[http]\nmax_conns = 5\n").unwrap_err();
        assert_eq!(problems[0].field.as_deref(), Some("http.max_conns"));
    }
}
