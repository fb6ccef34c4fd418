//! The gateways the relay forwards to, and the checks a registered URL must pass
//! before it becomes one. Free of I/O: [`crate::source`] fetches the listings.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use plexus_types::{AccountId, subnet::MAX_URL};
use thiserror::Error;
use url::{Host, Url};

/// One gateway a source lists: a hotkey and the URL it registered on chain, as
/// registered (not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The hotkey clients name as the relay target.
    pub hotkey: AccountId,
    /// The registered base URL; the relay posts to `{url}/ohttp`.
    pub url: String,
}

/// Why a registered URL is not a target.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadUrl {
    /// The URL is empty: the hotkey serves nothing.
    #[error("the URL is empty")]
    Empty,
    /// Longer than the chain allows.
    #[error("the URL is longer than {MAX_URL} bytes")]
    TooLong,
    /// Not a URL.
    #[error("not a URL: {0}")]
    Parse(String),
    /// Neither `http` nor `https`.
    #[error("the scheme must be http or https, not {0}")]
    Scheme(String),
    /// No host, or user name, password, query or fragment present.
    #[error("the URL must be scheme://host[:port][/path] with no credentials, query or fragment")]
    Shape,
    /// The host is a loopback, private, link-local or otherwise non-public address.
    #[error("the host {0} is not a public address (allow private targets for a local network)")]
    NotPublic(String),
}

/// Check a registered URL: `http` or `https`, a host, no credentials, query or
/// fragment, and unless `allow_private`, a host that is not a loopback, private or
/// link-local address (names are checked again when resolved).
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, BadUrl> {
    if raw.trim().is_empty() {
        return Err(BadUrl::Empty);
    }
    if raw.len() > MAX_URL {
        return Err(BadUrl::TooLong);
    }
    let url = Url::parse(raw).map_err(|e| BadUrl::Parse(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BadUrl::Scheme(url.scheme().to_owned()));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(BadUrl::Shape);
    }
    let public = match url.host() {
        None => return Err(BadUrl::Shape),
        Some(Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
    };
    if !public && !allow_private {
        return Err(BadUrl::NotPublic(
            url.host_str().unwrap_or_default().to_owned(),
        ));
    }
    Ok(url)
}

/// Where the relay posts for a gateway registered at `url`: the URL with its
/// trailing slashes trimmed, then `/ohttp`.
pub fn forward_url(url: &Url) -> String {
    format!("{}/ohttp", url.as_str().trim_end_matches('/'))
}

/// Whether `ip` is a globally routable unicast address: not unspecified, loopback,
/// private (RFC 1918, RFC 4193), shared (RFC 6598), link-local, multicast,
/// broadcast, documentation or benchmarking space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || first == 0x0064)
}

/// The targets: for each hotkey, the base URL of its gateway. A hotkey listed twice
/// keeps its first URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    targets: BTreeMap<AccountId, Url>,
}

/// What [`Directory::build`] left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Listings whose URL failed [`check_url`].
    pub bad_url: usize,
    /// Listings of a hotkey already listed with another URL.
    pub conflicting: usize,
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// The directory of `listings`, taken in order (earlier listings win a hotkey
    /// listed twice), keeping only URLs that pass [`check_url`].
    pub fn build<'a>(
        listings: impl IntoIterator<Item = &'a Listed>,
        allow_private: bool,
    ) -> (Self, Skipped) {
        let mut directory = Self::new();
        let mut skipped = Skipped::default();
        for listed in listings {
            let Ok(url) = check_url(&listed.url, allow_private) else {
                skipped.bad_url += 1;
                continue;
            };
            match directory.targets.get(&listed.hotkey) {
                Some(known) if *known == url => {}
                Some(_) => skipped.conflicting += 1,
                None => {
                    directory.targets.insert(listed.hotkey, url);
                }
            }
        }
        (directory, skipped)
    }

    /// Add a target unless its hotkey is already one; whether it was added.
    pub fn insert(&mut self, hotkey: AccountId, url: Url) -> bool {
        match self.targets.entry(hotkey) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(url);
                true
            }
        }
    }

    /// Merge in the targets of `other` whose hotkeys are not targets yet; how many
    /// were added.
    pub fn extend(&mut self, other: Directory) -> usize {
        other
            .targets
            .into_iter()
            .filter(|(hotkey, url)| self.insert(*hotkey, url.clone()))
            .count()
    }

    /// The base URL of `hotkey`'s gateway.
    pub fn get(&self, hotkey: &AccountId) -> Option<&Url> {
        self.targets.get(hotkey)
    }

    /// How many targets there are.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Every target, by hotkey.
    pub fn iter(&self) -> impl Iterator<Item = (&AccountId, &Url)> {
        self.targets.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> AccountId {
        AccountId([n; 32])
    }

    fn listed(n: u8, url: &str) -> Listed {
        Listed {
            hotkey: key(n),
            url: url.to_owned(),
        }
    }

    #[test]
    fn a_public_http_or_https_base_url_is_accepted_and_forwarded_to_its_ohttp_path() {
        for (raw, forward) in [
            ("https://gw.example", "https://gw.example/ohttp"),
            ("https://gw.example/", "https://gw.example/ohttp"),
            (
                "http://9.9.9.9:8080/base/",
                "http://9.9.9.9:8080/base/ohttp",
            ),
            ("https://gw.example/a/b//", "https://gw.example/a/b/ohttp"),
            (
                "http://[2606:4700::1]:9000",
                "http://[2606:4700::1]:9000/ohttp",
            ),
        ] {
            let url = check_url(raw, false).unwrap();
            assert_eq!(forward_url(&url), forward, "{raw}");
        }
    }

    #[test]
    fn odd_shapes_and_schemes_are_refused() {
        assert_eq!(check_url("", false), Err(BadUrl::Empty));
        assert_eq!(check_url("  ", true), Err(BadUrl::Empty));
        assert!(matches!(
            check_url("gw.example", true),
            Err(BadUrl::Parse(_))
        ));
        assert!(matches!(
            check_url("ftp://gw.example", true),
            Err(BadUrl::Scheme(_))
        ));
        assert!(matches!(
            check_url("file:///etc/passwd", true),
            Err(BadUrl::Scheme(_))
        ));
        for raw in [
            "https://user:pw@gw.example",
            "https://gw.example/?x=1",
            "https://gw.example/#top",
        ] {
            assert_eq!(check_url(raw, true), Err(BadUrl::Shape), "{raw}");
        }
        let long = format!("https://gw.example/{}", "a".repeat(MAX_URL));
        assert_eq!(check_url(&long, true), Err(BadUrl::TooLong));
    }

    #[test]
    fn private_hosts_are_targets_only_when_allowed() {
        for raw in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://api.localhost",
            "http://10.1.2.3",
            "http://172.16.0.1",
            "http://192.168.1.1",
            "http://169.254.169.254",
            "http://100.64.0.1",
            "http://0.0.0.0",
            "http://[::1]",
            "http://[fd00::1]",
            "http://[fe80::1]",
            "http://[::ffff:127.0.0.1]",
        ] {
            assert!(
                matches!(check_url(raw, false), Err(BadUrl::NotPublic(_))),
                "{raw}"
            );
            assert!(check_url(raw, true).is_ok(), "{raw}");
        }
    }

    #[test]
    fn a_directory_keeps_the_first_url_of_a_hotkey_and_skips_bad_ones() {
        let listings = [
            listed(1, "https://one.example"),
            listed(2, "not a url"),
            listed(1, "https://one.example"),
            listed(1, "https://other.example"),
            listed(3, "http://127.0.0.1:1"),
            listed(4, "https://four.example/gw"),
        ];
        let (directory, skipped) = Directory::build(&listings, false);
        assert_eq!(
            skipped,
            Skipped {
                bad_url: 2,
                conflicting: 1
            }
        );
        assert_eq!(directory.len(), 2);
        assert_eq!(
            directory.get(&key(1)).unwrap().as_str(),
            "https://one.example/"
        );
        assert!(directory.get(&key(2)).is_none());
        assert_eq!(
            directory.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [key(1), key(4)]
        );
    }

    #[test]
    fn extending_adds_new_hotkeys_and_keeps_existing_urls() {
        let (mut chain, _) = Directory::build(&[listed(1, "https://a.example")], false);
        let (issuers, _) = Directory::build(
            &[
                listed(1, "https://b.example"),
                listed(2, "https://c.example"),
            ],
            false,
        );
        assert_eq!(chain.extend(issuers), 1);
        assert_eq!(chain.get(&key(1)).unwrap().as_str(), "https://a.example/");
        assert_eq!(chain.get(&key(2)).unwrap().as_str(), "https://c.example/");
        assert!(!chain.insert(key(2), Url::parse("https://d.example").unwrap()));
    }
}
