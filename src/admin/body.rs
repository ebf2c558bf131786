//! Request bodies of the admin API: the media type checked, the size bounded while reading
//! (and refused up front when `Content-Length` already says too much), the JSON parsed.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use super::error::ApiError;

/// Media types a JSON body may be sent as.
pub const JSON: &[&str] = &["application/json"];
/// PATCH takes a JSON merge patch (RFC 7396), under either name.
pub const MERGE_PATCH: &[&str] = &["application/json", "application/merge-patch+json"];

/// Reads the whole body as JSON, at most `limit` bytes. `accepted` are the media types
/// allowed (parameters such as `charset` are ignored; JSON is UTF-8 anyway).
pub async fn read_json<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
    accepted: &'static [&'static str],
) -> Result<Value, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    check_media_type(headers, accepted)?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    let bytes = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                ApiError::BodyTooLarge { limit }
            } else {
                ApiError::BadBody
            }
        })?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadJson("the body is empty".into()));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadJson(e.to_string()))
}

fn check_media_type(
    headers: &HeaderMap,
    accepted: &'static [&'static str],
) -> Result<(), ApiError> {
    let expected = if accepted.len() > 1 {
        "application/json or application/merge-patch+json"
    } else {
        "application/json"
    };
    let essence = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim());
    match essence {
        Some(essence) if accepted.iter().any(|a| a.eq_ignore_ascii_case(essence)) => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType { expected }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http_body_util::Full;

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        h
    }

    async fn read(ct: Option<&str>, body: &'static str, limit: usize) -> Result<Value, ApiError> {
        read_json(
            &headers(ct),
            Full::new(Bytes::from_static(body.as_bytes())),
            limit,
            JSON,
        )
        .await
    }

    #[tokio::test]
    async fn media_type_size_and_syntax() {
        assert!(read(Some("application/json"), "{}", 10).await.is_ok());
        assert!(
            read(Some("Application/JSON; charset=utf-8"), "[1]", 10)
                .await
                .is_ok()
        );
        for ct in [None, Some("text/plain"), Some("application/jsonx")] {
            assert!(matches!(
                read(ct, "{}", 10).await,
                Err(ApiError::UnsupportedMediaType { .. })
            ));
        }
        assert!(matches!(
            read(Some("application/json"), "[1, 2, 3, 4]", 5).await,
            Err(ApiError::BodyTooLarge { limit: 5 })
        ));
        for bad in ["", "  ", "{", "{} {}", "nope"] {
            assert!(
                matches!(
                    read(Some("application/json"), bad, 10).await,
                    Err(ApiError::BadJson(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let mut h = headers(Some("application/json"));
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("1000"));
        let result = read_json(&h, Full::new(Bytes::from_static(b"{}")), 10, JSON).await;
        assert!(matches!(result, Err(ApiError::BodyTooLarge { .. })));
    }
}
