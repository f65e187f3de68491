//! The `Host` check of every request (no DNS rebinding): a page at `evil.example` whose name the attacker points at
//! 127.0.0.1 reaches amc's port from the user's browser, but its requests still say `Host: evil.example`. So every
//! request, on every route (the JSON API, SSE, the dashboard, gRPC-Web, gRPC), must name this server: by the `Host`
//! header (HTTP/1.1) or the `:authority` (HTTP/2; hyper puts it into the URI), each present one checked.
//!
//! A name is this server when it is
//! - a loopback name (`localhost`, a `127.0.0.0/8` address, `[::1]`) with the bound port;
//! - the bound address with the bound port (when bound to `0.0.0.0` or `[::]`: any IP literal with the bound port);
//!   an IP literal cannot be rebound, a name can;
//! - a name given with `--allowed-host` / `allowed_hosts` / `AMC_ALLOWED_HOSTS`, with any port (a reverse proxy).
//!
//! Others get 421 Misdirected Request with the JSON error ([`Error::MisdirectedHost`]; gRPC callers also read
//! `PERMISSION_DENIED` from the `grpc-status` header). Each refused name is logged once (at most
//! [`LOGGED_CAP`] names are remembered, so a flood of names cannot grow memory).
//!
//! The check runs inside the one access middleware ([`super::auth::require_token`]), before the token check.

use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
    sync::Mutex,
};

use axum::{extract::Request, http::header};

use crate::error::Error;

/// How many refused names are remembered for logging each once.
pub const LOGGED_CAP: usize = 1024;

/// The names this server answers to.
#[derive(Debug)]
pub struct HostCheck {
    bound: SocketAddr,
    /// Extra names (lowercase), any port.
    allowed: Vec<String>,
    logged: Mutex<HashSet<String>>,
}

impl HostCheck {
    /// The check for a server bound to `bound` that also answers to `allowed` names.
    pub fn new(bound: SocketAddr, allowed: &[String]) -> Self {
        HostCheck {
            bound,
            allowed: allowed
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            logged: Mutex::new(HashSet::new()),
        }
    }

    /// Returns whether `host` (`name`, `name:port`, `[v6]:port`) names this server.
    pub fn allows(&self, host: &str) -> bool {
        let Some((name, port)) = split(host) else {
            return false;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if self.allowed.contains(&name) {
            return true;
        }
        // Without a port the client meant the scheme's default one.
        let port_ok = port.unwrap_or(80) == self.bound.port();
        let named = match name.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback() || ip == self.bound.ip() || self.bound.ip().is_unspecified(),
            Err(_) => name == "localhost",
        };
        named && port_ok
    }

    /// Checks every `Host` and `:authority` of `request`; the error to answer with when one does not name this
    /// server (or none is given).
    pub fn check(&self, request: &Request) -> Result<(), Error> {
        let mut names: Vec<&str> = Vec::with_capacity(2);
        for value in request.headers().get_all(header::HOST) {
            names.push(value.to_str().unwrap_or("\u{fffd}"));
        }
        if let Some(authority) = request.uri().authority() {
            names.push(authority.as_str());
        }
        if names.is_empty() {
            return Err(self.refuse(""));
        }
        match names.iter().find(|name| !self.allows(name)) {
            Some(bad) => Err(self.refuse(bad)),
            None => Ok(()),
        }
    }

    /// The error for `host`, logged the first time that name is refused.
    fn refuse(&self, host: &str) -> Error {
        let mut logged = self.logged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if logged.len() < LOGGED_CAP && logged.insert(host.to_owned()) {
            tracing::warn!(
                host,
                bound = %self.bound,
                "refused a request whose Host does not name this server (DNS rebinding?); add the name with \
                 --allowed-host if it is yours; logged once per name"
            );
        }
        Error::MisdirectedHost(format!(
            "Host {host:?} does not name this server; allowed: loopback names and the bound address with port {}, \
             or a name given with --allowed-host",
            self.bound.port()
        ))
    }
}

/// `name[:port]`, `[v6][:port]` or a bare IPv6 address → (name, port); `None` when malformed (a bad port, an empty
/// name, userinfo).
fn split(host: &str) -> Option<(&str, Option<u16>)> {
    if host.is_empty() || host.contains('@') || host.contains('/') {
        return None;
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (v6, None),
            _ => (v6, Some(after.strip_prefix(':')?)),
        }
    } else if host.matches(':').count() > 1 {
        // A bare IPv6 address (no brackets).
        host.parse::<std::net::Ipv6Addr>().ok()?;
        (host, None)
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if name.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    Some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bound: &str) -> HostCheck {
        HostCheck::new(
            bound.parse().expect("an address"),
            &["AMC.example".to_owned(), "box.lan.".to_owned()],
        )
    }

    #[test]
    fn loopback_names_need_the_bound_port_configured_names_any_port() {
        let check = check("127.0.0.1:7400");
        for good in [
            "127.0.0.1:7400",
            "localhost:7400",
            "LOCALHOST:7400",
            "localhost.:7400",
            "[::1]:7400",
            "127.0.0.2:7400",
            "amc.example",
            "Amc.Example:80",
            "amc.example:8443",
            "box.lan:7400",
        ] {
            assert!(check.allows(good), "{good}");
        }
        for bad in [
            "evil.example",
            "evil.example:7400",
            "localhost.evil.example:7400",
            "amc.example.evil",
            "foo.localhost:7400",
            "localhost",
            "localhost:7401",
            "127.0.0.1",
            "127.0.0.1:80",
            "10.1.2.3:7400",
            "",
            ":7400",
            "localhost:",
            "localhost:99999",
            "user@localhost:7400",
            "[::1",
            "[evil]:7400",
        ] {
            assert!(!check.allows(bad), "{bad}");
        }
    }

    #[test]
    fn an_unspecified_bind_takes_any_ip_literal_with_its_port_never_a_foreign_name() {
        let check = check("0.0.0.0:7400");
        for good in ["10.1.2.3:7400", "192.168.1.5:7400", "[fe80::1]:7400", "localhost:7400"] {
            assert!(check.allows(good), "{good}");
        }
        for bad in ["10.1.2.3:7401", "evil.example:7400", "my-laptop:7400"] {
            assert!(!check.allows(bad), "{bad}");
        }
        let specific = HostCheck::new("192.168.1.5:7400".parse().expect("an address"), &[]);
        assert!(specific.allows("192.168.1.5:7400"));
        assert!(specific.allows("localhost:7400"));
        assert!(!specific.allows("192.168.1.6:7400"));
    }

    #[test]
    fn every_host_and_authority_of_a_request_is_checked() {
        let check = check("127.0.0.1:7400");
        let request = |uri: &str, hosts: &[&str]| {
            let mut builder = axum::http::Request::builder().uri(uri);
            for host in hosts {
                builder = builder.header("host", *host);
            }
            builder.body(axum::body::Body::empty()).expect("a request")
        };
        assert!(check.check(&request("/api/state", &["127.0.0.1:7400"])).is_ok());
        assert!(check.check(&request("http://localhost:7400/api/state", &[])).is_ok());
        for (uri, hosts) in [
            ("/api/state", &[][..]),
            ("/api/state", &["evil.example:7400"][..]),
            ("http://evil.example:7400/api/state", &["127.0.0.1:7400"][..]),
            ("http://127.0.0.1:7400/api/state", &["evil.example"][..]),
            ("/api/state", &["127.0.0.1:7400", "evil.example"][..]),
        ] {
            let result = check.check(&request(uri, hosts));
            assert!(matches!(result, Err(Error::MisdirectedHost(_))), "{uri} {hosts:?}");
        }
    }

    #[test]
    fn refused_names_are_remembered_up_to_the_cap() {
        let check = check("127.0.0.1:7400");
        for i in 0..LOGGED_CAP + 50 {
            let _ = check.refuse(&format!("evil{i}.example"));
        }
        let _ = check.refuse("evil0.example");
        assert_eq!(check.logged.lock().expect("not poisoned").len(), LOGGED_CAP);
    }
}
