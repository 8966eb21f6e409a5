//! Routes as Meta has them: `/{vX.Y}/{phone-number-id}/{messages|marketing_messages}`.

use crate::config::is_phone_number_id;
use crate::message::Endpoint;

/// A parsed send path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendRoute {
    /// API version (`v24.0`).
    pub version: String,
    /// Business phone-number id.
    pub phone_number_id: String,
    /// Which endpoint.
    pub endpoint: Endpoint,
}

/// Parses a request path; `None` when it is not a send path.
pub fn parse_send_path(path: &str) -> Option<SendRoute> {
    let mut parts = path.strip_prefix('/')?.split('/');
    let version = parts.next()?;
    let phone_number_id = parts.next()?;
    let endpoint = match parts.next()? {
        "messages" => Endpoint::Messages,
        "marketing_messages" => Endpoint::MarketingMessages,
        _ => return None,
    };
    if parts.next().is_some() || !is_version(version) || !is_phone_number_id(phone_number_id) {
        return None;
    }
    Some(SendRoute {
        version: version.to_owned(),
        phone_number_id: phone_number_id.to_owned(),
        endpoint,
    })
}

/// `v` + digits + `.` + digits.
fn is_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let Some((major, minor)) = rest.split_once('.') else {
        return false;
    };
    let digits = |s: &str| (1..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_paths_parse_for_any_version() {
        let r = parse_send_path("/v24.0/1234567890/messages");
        assert_eq!(r.map(|r| r.endpoint), Some(Endpoint::Messages));
        let r = parse_send_path("/v9.1/1/marketing_messages");
        assert_eq!(r.map(|r| r.endpoint), Some(Endpoint::MarketingMessages));
    }

    #[test]
    fn other_paths_do_not() {
        for p in [
            "/v24/1/messages",
            "/24.0/1/messages",
            "/v24.0/abc/messages",
            "/v24.0/1/media",
            "/v24.0/1/messages/x",
            "/",
            "",
        ] {
            assert_eq!(parse_send_path(p), None, "{p}");
        }
    }
}
