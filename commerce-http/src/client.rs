//! Who the client of a request is: the TCP peer, or, when the peer is a proxy the shop
//! trusts, the address that proxy says it forwarded for. Client limits, the sign-in throttle
//! and the request log all see this one address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use poem::http::HeaderMap;

/// A block of addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

/// Why a text is not an address block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address or a block such as 10.0.0.0/8")]
pub struct BadIpBlock(String);

impl FromStr for IpBlock {
    type Err = BadIpBlock;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadIpBlock(s.to_string());
        let (address, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let most = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(bad)?,
            None => most,
        };
        Ok(IpBlock { network, prefix })
    }
}

impl fmt::Display for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl IpBlock {
    /// Whether `ip` is in the block; an IPv4 address mapped into IPv6 counts as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.network), ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address. Only a peer inside `trusted` is believed about whom it forwarded
/// for: the hops of `Forwarded` (or, without it, `X-Forwarded-For`) are read from the nearest
/// back, and the first that is not a trusted proxy is the client. A hop that cannot be read
/// stops the walk at the last trusted one, so a client cannot hide behind garbage.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpBlock],
) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|b| b.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = canonical(*ip);
                if !is_trusted(client) {
                    break;
                }
            }
            None => break,
        }
    }
    Some(client)
}

/// The addresses a chain of proxies recorded, the client's first; `None` for a hop that is
/// not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_address(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// An address with or without a port: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let b: IpBlock = "10.0.0.0/8".parse().unwrap();
        assert!(b.contains(ip("10.1.2.3")));
        assert!(!b.contains(ip("11.0.0.1")));
        assert!(b.contains(ip("::ffff:10.9.9.9")), "mapped IPv4");
        let one: IpBlock = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: IpBlock = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        let all: IpBlock = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0/8", "::/129", ""] {
            assert!(bad.parse::<IpBlock>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_the_nearest_untrusted_hop_is_the_client() {
        let trusted: Vec<IpBlock> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy = Some(ip("10.0.0.2"));
        let forged = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            client_address(Some(ip("198.51.100.9")), &forged, &trusted),
            Some(ip("198.51.100.9")),
            "an untrusted peer's header is ignored"
        );
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5, 10.0.0.9")]);
        assert_eq!(
            client_address(proxy, &chain, &trusted),
            Some(ip("203.0.113.5")),
            "a client's own forged first hop is not believed"
        );
        let split = headers(&[
            ("x-forwarded-for", "203.0.113.5"),
            ("x-forwarded-for", "10.0.0.9"),
        ]);
        assert_eq!(
            client_address(proxy, &split, &trusted),
            Some(ip("203.0.113.5"))
        );
        let std = headers(&[(
            "forwarded",
            "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.9",
        )]);
        assert_eq!(
            client_address(proxy, &std, &trusted),
            Some(ip("2001:db8:cafe::17"))
        );
        let garbage = headers(&[("x-forwarded-for", "203.0.113.5, nonsense, 10.0.0.9")]);
        assert_eq!(
            client_address(proxy, &garbage, &trusted),
            Some(ip("10.0.0.9")),
            "an unreadable hop stops the walk at the last trusted one"
        );
        assert_eq!(
            client_address(proxy, &HeaderMap::new(), &trusted),
            proxy,
            "a trusted peer that says nothing is the client"
        );
        assert_eq!(
            client_address(proxy, &chain, &[]),
            proxy,
            "no proxy is trusted by default"
        );
    }
}
