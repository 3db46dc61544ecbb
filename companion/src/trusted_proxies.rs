//! `--trusted-proxy` / `ALTEGIO_COMPANION_TRUSTED_PROXIES`: the reverse proxies whose
//! `X-Forwarded-For` the companion believes, as IP addresses or CIDR ranges
//! (`127.0.0.1,10.0.0.0/8,fd00::/8`). Parsed with the standard library only.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`, what a dual-stack socket reports for an
//! IPv4 peer) are compared as the IPv4 address they carry, here and in [`crate::client_ip`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::{err, ConfigError};

/// The flag of the setting.
pub const FLAG: &str = "--trusted-proxy";
/// The environment variable of the setting.
pub const ENV: &str = "ALTEGIO_COMPANION_TRUSTED_PROXIES";

/// One address range: the addresses sharing the first `prefix` bits of `network`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `10.0.0.0/8`, `fd00::/8` or a single address (`127.0.0.1`, `::1`). A range
    /// with bits set past its prefix (`10.0.0.1/8`) is refused: it is most likely a typo.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (address, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let network: IpAddr = address.parse().map_err(|_| {
            format!(
                "{raw:?} is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8)"
            )
        })?;
        let bits = max_prefix(network);
        let prefix = match prefix {
            None => bits,
            Some(p) => {
                let parsed = p
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| p.parse::<u8>().ok())
                    .flatten()
                    .filter(|n| !p.is_empty() && *n <= bits);
                parsed.ok_or_else(|| {
                    format!("{raw:?}: the prefix length must be a number from 0 to {bits}")
                })?
            }
        };
        let range = Self::canonical(network, prefix);
        if masked(range.network, range.prefix) != range.network {
            let suggested = Self {
                network: masked(range.network, range.prefix),
                prefix: range.prefix,
            };
            return Err(format!(
                "{raw:?} has address bits set past its prefix; did you mean {suggested}?"
            ));
        }
        Ok(range)
    }

    /// An IPv4-mapped IPv6 range of at least 96 bits becomes the IPv4 range it carries.
    fn canonical(network: IpAddr, prefix: u8) -> Self {
        if let IpAddr::V6(v6) = network {
            if let Some(v4) = v6.to_ipv4_mapped() {
                if prefix >= 96 {
                    return Self {
                        network: IpAddr::V4(v4),
                        prefix: prefix - 96,
                    };
                }
            }
        }
        Self { network, prefix }
    }

    /// Whether `ip` is in this range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                masked(ip, self.prefix) == self.network
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `ip` with every bit past the first `prefix` cleared.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// The validated list; empty when the companion is reached directly (no proxy trusted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    /// Parses the setting's entries (the flag is repeatable and each value comma-separated);
    /// blank entries are ignored. The error names the setting and the first bad entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, ConfigError> {
        let mut ranges = Vec::new();
        for raw in entries.iter().flat_map(|e| e.as_ref().split(',')) {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let range = IpRange::parse(raw).map_err(|problem| err(FLAG, ENV, problem))?;
            if !ranges.contains(&range) {
                ranges.push(range);
            }
        }
        Ok(Self(ranges))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|r| r.contains(ip))
    }

    /// The ranges, as configured (normalised).
    pub fn ranges(&self) -> &[IpRange] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_and_ranges() {
        let t = TrustedProxies::parse(&["127.0.0.1, 10.0.0.0/8", "fd00::/8,::1", ""]).unwrap();
        let shown: Vec<String> = t.ranges().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8", "::1/128"]);
        for yes in ["127.0.0.1", "10.0.0.1", "10.255.255.255", "fd12::7", "::1"] {
            assert!(t.contains(ip(yes)), "{yes}");
        }
        for no in ["127.0.0.2", "11.0.0.1", "fe80::1", "::2", "2001:db8::1"] {
            assert!(!t.contains(ip(no)), "{no}");
        }
        // A dual-stack socket's view of an IPv4 peer.
        assert!(t.contains(ip("::ffff:10.1.2.3")));
        assert!(!t.contains(ip("::ffff:11.1.2.3")));
        // Written mapped, compared as IPv4.
        let mapped = TrustedProxies::parse(&["::ffff:192.168.0.0/112"]).unwrap();
        assert_eq!(mapped.ranges()[0].to_string(), "192.168.0.0/16");
        assert!(mapped.contains(ip("192.168.4.5")));
        // Everything, for the brave.
        let all = TrustedProxies::parse(&["0.0.0.0/0", "::/0"]).unwrap();
        assert!(all.contains(ip("203.0.113.9")) && all.contains(ip("2001:db8::1")));
        assert!(TrustedProxies::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn bad_entries_are_named_with_the_setting() {
        for (bad, says) in [
            ("localhost", "not an IP address"),
            ("10.0.0.0/33", "from 0 to 32"),
            ("fd00::/129", "from 0 to 128"),
            ("10.0.0.0/", "from 0 to 32"),
            ("10.0.0.0/+8", "from 0 to 32"),
            ("10.0.0.0/8/8", "from 0 to 32"),
            ("10.0.0.1/8", "did you mean 10.0.0.0/8?"),
            ("fd00::1/8", "did you mean fd00::/8?"),
            ("300.1.1.1", "not an IP address"),
        ] {
            let e = TrustedProxies::parse(&["127.0.0.1", bad])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(FLAG) && e.contains(ENV) && e.contains(bad) && e.contains(says),
                "{bad}: {e}"
            );
        }
    }
}
