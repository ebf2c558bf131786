//! Content negotiation of `Accept-Encoding` (RFC 9110 §12.5.3): which stored coding of a
//! feed a request gets.
//!
//! Rules:
//! 1. No `Accept-Encoding` field: identity (the client has said nothing).
//! 2. Each listed coding has a weight, `q=1` unless given; `q=0` means "not acceptable".
//!    `*` gives its weight to every coding not listed. `identity` is acceptable unless
//!    excluded by `identity;q=0` or by `*;q=0` without an `identity` entry.
//! 3. The acceptable coding with the highest weight wins; ties go to the smallest bytes
//!    (br, then gzip, then identity).
//! 4. Nothing acceptable: `None` (the caller answers 406).

use http::HeaderMap;
use http::header::ACCEPT_ENCODING;

use crate::catalog::Coding;

/// Preference when weights tie: smallest first.
const BY_SIZE: [Coding; 3] = [Coding::Brotli, Coding::Gzip, Coding::Identity];

/// The coding a request with these headers gets, by the rules above.
pub fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let mut fields = headers.get_all(ACCEPT_ENCODING).iter().peekable();
    if fields.peek().is_none() {
        return Some(Coding::Identity);
    }
    // Weights in thousandths (see `weight`).
    let mut listed: [Option<u16>; 3] = [None; 3];
    let mut star = None;
    for field in fields {
        let Ok(field) = field.to_str() else { continue };
        for element in field.split(',') {
            let mut parts = element.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let Some(weight) = weight(parts) else {
                continue;
            };
            let is = |token: &str| name.eq_ignore_ascii_case(token);
            let slot = if is("br") {
                &mut listed[Coding::Brotli as usize]
            } else if is("gzip") || is("x-gzip") {
                &mut listed[Coding::Gzip as usize]
            } else if is("identity") {
                &mut listed[Coding::Identity as usize]
            } else if name == "*" {
                &mut star
            } else {
                continue;
            };
            // A coding listed twice keeps its best weight.
            *slot = Some(slot.map_or(weight, |w: u16| w.max(weight)));
        }
    }
    let weight = |coding: Coding| match (listed[coding as usize], star, coding) {
        (Some(w), _, _) => w,
        (None, Some(w), _) => w,
        (None, None, Coding::Identity) => 1,
        (None, None, _) => 0,
    };
    BY_SIZE
        .into_iter()
        .filter(|&c| weight(c) > 0)
        .max_by_key(|&c| {
            (
                weight(c),
                std::cmp::Reverse(BY_SIZE.iter().position(|&b| b == c)),
            )
        })
}

/// The weight of a list element from its parameters (what follows its first `;`): its
/// `q`, 1000 without one, `None` when the `q` is malformed. Weights are in thousandths, as
/// qvalues have at most three decimals.
pub(super) fn weight<'a>(mut parameters: impl Iterator<Item = &'a str>) -> Option<u16> {
    parameters
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("q").then(|| qvalue(v.trim()))
        })
        .unwrap_or(Some(1000))
}

/// A qvalue (`0`, `0.5`, `1.000`) in thousandths; `None` if malformed.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Digits padded on the right to three, without an allocation on the request path.
    let thousandths = (fraction.bytes().chain(std::iter::repeat(b'0')))
        .take(3)
        .fold(0u16, |n, digit| n * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn pick(values: &[&str]) -> Option<Coding> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        negotiate(&headers)
    }

    #[test]
    fn the_rules_in_order() {
        use Coding::*;
        let cases: &[(&[&str], Option<Coding>)] = &[
            (&[], Some(Identity)),
            (&[""], Some(Identity)),
            (&["gzip"], Some(Gzip)),
            (&["gzip, deflate, br"], Some(Brotli)),
            (&["br;q=0, gzip"], Some(Gzip)),
            (&["br;q=0.5, gzip;q=0.8"], Some(Gzip)),
            (&["br;q=1.0, gzip;q=1"], Some(Brotli)),
            (&["GZIP;Q=0.9"], Some(Gzip)),
            (&["x-gzip"], Some(Gzip)),
            (&["*"], Some(Brotli)),
            (&["gzip;q=0.2, *;q=0.1"], Some(Gzip)),
            (&["*;q=0"], None),
            (&["*;q=0, identity"], Some(Identity)),
            (&["identity;q=0"], None),
            (&["identity;q=0, gzip"], Some(Gzip)),
            (&["deflate"], Some(Identity)),
            (&["gzip;q=2"], Some(Identity)),
            (&["gzip;q=0.0001"], Some(Identity)),
            (&["gzip;q=0, br;q=0"], Some(Identity)),
            (&["gzip", "br"], Some(Brotli)),
            (&["gzip;q=0", "gzip;q=0.5"], Some(Gzip)),
        ];
        for (headers, expected) in cases {
            assert_eq!(pick(headers), *expected, "{headers:?}");
        }
    }
}
