//! How a node meets its peers: where it listens, the address it tells them to dial,
//! the bootstrappers it dials first, and which of commonware's p2p profiles it runs.
//!
//! Addresses are configuration, never genesis state: validators are named by key in
//! the genesis, and learn each other's addresses through authenticated discovery
//! (each node signs the address it can be dialed at and peers gossip those records),
//! starting from bootstrappers named by key and address.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    str::FromStr,
};

use plexus_types::AccountId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// The p2p port a node listens on when the caller names none.
pub const DEFAULT_P2P_PORT: u16 = 30_300;
/// Longest hostname (RFC 1035).
const MAX_HOSTNAME: usize = 253;
/// Longest label of a hostname (RFC 1035).
const MAX_LABEL: usize = 63;

/// Why a p2p address or bootstrapper does not parse, or may not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AddressError {
    /// Not `host:port`.
    #[error("{0:?} is not HOST:PORT (an IP address or a hostname, and a port)")]
    NotHostPort(String),
    /// The host is neither an IP address nor a valid hostname.
    #[error("{0:?} is not an IP address or a valid hostname (RFC 1123)")]
    BadHost(String),
    /// Not `KEY@HOST:PORT`.
    #[error(
        "{0:?} is not a bootstrapper: expected PUBLIC_KEY@HOST:PORT (e.g. plx1...@seed.example.org:30300)"
    )]
    NotBootstrapper(String),
    /// The key part is not an account address.
    #[error("bootstrapper key {0:?} is not a plx1 address")]
    BadKey(String),
    /// A private, loopback or link-local IP where only public ones are allowed.
    #[error(
        "{0} is a private or loopback address: pass --allow-private-ips (a LAN) or --local-p2p (a devnet on one machine)"
    )]
    Private(IpAddr),
}

/// Where a peer can be dialed: an IP socket address or a hostname and port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// An IP address and port.
    Socket(SocketAddr),
    /// A hostname (resolved when dialed) and port.
    Dns {
        /// The hostname, checked against RFC 1123.
        host: String,
        /// The port.
        port: u16,
    },
}

impl Endpoint {
    /// The IP address, if this is one (hostnames are checked after resolution).
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Socket(addr) => Some(addr.ip()),
            Self::Dns { .. } => None,
        }
    }

    /// Refuse a private, loopback or link-local IP unless `allow_private` holds.
    pub fn check_public(&self, allow_private: bool) -> Result<(), AddressError> {
        match self.ip() {
            Some(ip) if !allow_private && !is_public(ip) => Err(AddressError::Private(ip)),
            _ => Ok(()),
        }
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Self {
        Self::Socket(addr)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Socket(addr) => write!(f, "{addr}"),
            Self::Dns { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

impl FromStr for Endpoint {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(Self::Socket(addr));
        }
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| AddressError::NotHostPort(s.to_owned()))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| AddressError::NotHostPort(s.to_owned()))?;
        if host.parse::<IpAddr>().is_ok() || host.starts_with('[') {
            // An IPv6 address must be bracketed, and a bracketed one parsed above.
            return Err(AddressError::NotHostPort(s.to_owned()));
        }
        if !is_hostname(host) {
            return Err(AddressError::BadHost(host.to_owned()));
        }
        Ok(Self::Dns {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// A peer to dial first: its key (checked in the handshake) and where it listens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bootstrapper {
    /// Its p2p identity (the validator's or full node's key).
    pub key: AccountId,
    /// Where it can be dialed.
    pub endpoint: Endpoint,
}

impl fmt::Display for Bootstrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.key, self.endpoint)
    }
}

impl FromStr for Bootstrapper {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (key, endpoint) = s
            .split_once('@')
            .ok_or_else(|| AddressError::NotBootstrapper(s.to_owned()))?;
        let key = key
            .parse::<AccountId>()
            .map_err(|_| AddressError::BadKey(key.to_owned()))?;
        Ok(Self {
            key,
            endpoint: endpoint.parse()?,
        })
    }
}

macro_rules! serde_as_string {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_string!(Endpoint);
serde_as_string!(Bootstrapper);

/// Which of commonware's p2p configurations a node runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// `Config::recommended`: public addresses only (unless
    /// [`P2pConfig::allow_private_ips`]), one handshake per IP every 5 s, a minute's
    /// cooldown between connection attempts to a peer.
    #[default]
    Recommended,
    /// `Config::local`: private and loopback addresses allowed, quick redial. For
    /// devnets and tests on one machine.
    Local,
}

/// How a node joins the p2p network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P2pConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// The address it tells peers to dial (behind NAT or a load balancer); `None`:
    /// [`P2pConfig::listen`].
    pub dialable: Option<Endpoint>,
    /// Peers to dial first; a validator that is not alone needs at least one.
    pub bootstrappers: Vec<Bootstrapper>,
    /// commonware's recommended or local configuration.
    pub profile: Profile,
    /// Dial and accept private IP addresses under the recommended profile (a LAN).
    pub allow_private_ips: bool,
    /// Full nodes this node accepts and serves finalized blocks and certificates to,
    /// by key (commonware's authenticated p2p only admits peers it tracks).
    pub followers: Vec<AccountId>,
}

impl Default for P2pConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_P2P_PORT)),
            dialable: None,
            bootstrappers: Vec::new(),
            profile: Profile::Recommended,
            allow_private_ips: false,
            followers: Vec::new(),
        }
    }
}

impl P2pConfig {
    /// Whether private and loopback addresses may be dialed and advertised.
    pub fn private_allowed(&self) -> bool {
        self.profile == Profile::Local || self.allow_private_ips
    }

    /// The address peers are told to dial.
    pub fn dialable(&self) -> Endpoint {
        self.dialable
            .clone()
            .unwrap_or(Endpoint::Socket(self.listen))
    }

    /// Refuse bootstrappers and a dialable address that the profile would never use,
    /// so a misconfigured node fails at start rather than waiting for ever.
    pub fn check(&self) -> Result<(), AddressError> {
        let allow = self.private_allowed();
        for bootstrapper in &self.bootstrappers {
            bootstrapper.endpoint.check_public(allow)?;
        }
        // Listening on loopback alone is a single-machine node: only what it
        // advertises matters, and only when it has someone to advertise it to.
        if self.dialable.is_some() || !self.bootstrappers.is_empty() {
            self.dialable().check_public(allow)?;
        }
        Ok(())
    }
}

/// Whether `ip` is routable on the internet (not private, loopback, link-local,
/// unspecified, documentation, shared or unique-local).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// RFC 1123 hostname: dot-separated labels of letters, digits and inner hyphens.
fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOSTNAME
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use plexus_types::Keypair;

    use super::*;

    #[test]
    fn endpoints_parse_ip_addresses_and_hostnames_and_refuse_the_rest() {
        assert_eq!(
            "127.0.0.1:30300".parse::<Endpoint>(),
            Ok(Endpoint::Socket("127.0.0.1:30300".parse().unwrap()))
        );
        assert_eq!(
            "[::1]:1".parse::<Endpoint>(),
            Ok(Endpoint::Socket("[::1]:1".parse().unwrap()))
        );
        assert_eq!(
            "Seed-1.Example.org:30300".parse::<Endpoint>(),
            Ok(Endpoint::Dns {
                host: "seed-1.example.org".into(),
                port: 30300
            })
        );
        for bad in [
            "seed.example.org",
            "seed.example.org:70000",
            "::1:30300",
            "-seed.example.org:1",
            "seed..example.org:1",
            "se_ed.example.org:1",
            ":1",
            "",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad:?} parsed");
        }
        let long = format!("{}.org:1", "a".repeat(64));
        assert!(matches!(
            long.parse::<Endpoint>(),
            Err(AddressError::BadHost(_))
        ));
    }

    #[test]
    fn a_bootstrapper_round_trips_as_key_at_host_port() {
        let key = Keypair::from_label("seed").account();
        let text = format!("{key}@seed.example.org:30300");
        let parsed: Bootstrapper = text.parse().unwrap();
        assert_eq!(parsed.key, key);
        assert_eq!(parsed.to_string(), text);
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(serde_json::from_str::<Bootstrapper>(&json).unwrap(), parsed);
        assert!(matches!(
            "seed.example.org:30300".parse::<Bootstrapper>(),
            Err(AddressError::NotBootstrapper(_))
        ));
        assert!(matches!(
            "plx1nope@seed.example.org:30300".parse::<Bootstrapper>(),
            Err(AddressError::BadKey(_))
        ));
    }

    #[test]
    fn the_recommended_profile_refuses_private_bootstrappers_unless_allowed() {
        let key = Keypair::from_label("seed").account();
        let mut config = P2pConfig {
            bootstrappers: vec![format!("{key}@127.0.0.1:30301").parse().unwrap()],
            ..P2pConfig::default()
        };
        assert!(matches!(config.check(), Err(AddressError::Private(_))));
        config.allow_private_ips = true;
        assert_eq!(config.check(), Ok(()));
        config.allow_private_ips = false;
        config.profile = Profile::Local;
        assert_eq!(config.check(), Ok(()));
        // A lone node on loopback advertises nothing to anyone: nothing to refuse.
        assert_eq!(P2pConfig::default().check(), Ok(()));
        let public = P2pConfig {
            listen: "0.0.0.0:30300".parse().unwrap(),
            dialable: Some("node.example.org:30300".parse().unwrap()),
            bootstrappers: vec![format!("{key}@8.8.8.8:30300").parse().unwrap()],
            ..P2pConfig::default()
        };
        assert_eq!(public.check(), Ok(()));
    }

    #[test]
    fn only_globally_routable_addresses_count_as_public() {
        for private in [
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.0.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
