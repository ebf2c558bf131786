//! `ApiError`: every way an admin request can fail, and the one place that turns it into a
//! status, headers and the JSON body `{"error": {"code", "message", "field"}}`.

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;

use super::auth::{AuthFailure, Scope};
use crate::http::Body;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{}", .0.message())]
    Unauthorized(AuthFailure),
    /// Authenticated, but the token has neither this scope nor `admin`.
    #[error("this token may not do this: it needs the {0} scope (or admin)")]
    Forbidden(Scope),
    #[error("{0}")]
    NotFound(String),
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: &'static str },
    #[error("the body is not valid JSON: {0}")]
    BadJson(String),
    #[error("the request body could not be read")]
    BadBody,
    #[error("Content-Type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("the body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("a request holds at most {max} articles; this one has {count}")]
    BatchTooLarge { count: usize, max: usize },
    /// A value that is well-formed JSON but not acceptable.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error(
        "the resource changed since the If-Match tag was read; read it again and reapply the change"
    )]
    PreconditionFailed,
    /// The store or a section file cannot be used now (disk full, read-only, I/O error):
    /// nothing was changed, and the same request may succeed once the fault ends.
    #[error("{what} is unavailable: {reason}; nothing was changed, retry once the fault is fixed")]
    Unavailable {
        what: String,
        reason: String,
        /// The error behind it, which may name server paths: logged, never sent.
        detail: String,
    },
    /// The detail goes to the log, not to the client.
    #[error("internal error; the server log has the details")]
    Internal(String),
}

/// Seconds a client is asked to wait after a 503; the store is probed every second.
const RETRY_AFTER_SECS: &str = "5";

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadJson(_) | ApiError::BadBody => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BodyTooLarge { .. } | ApiError::BatchTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable name of the error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::BadJson(_) => "invalid_json",
            ApiError::BadBody => "bad_body",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::BatchTooLarge { .. } => "batch_too_large",
            ApiError::Invalid { .. } => "invalid",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::Unavailable { .. } => "storage_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn into_response(self) -> Response<Body> {
        match &self {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "admin request failed"),
            ApiError::Unavailable { detail, .. } => {
                tracing::warn!(error = %self, detail, "admin request failed");
            }
            _ => {}
        }
        #[derive(Serialize)]
        struct Envelope<'a> {
            error: Detail<'a>,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            code: &'a str,
            message: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
        }
        let field = match &self {
            ApiError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        };
        let body = Envelope {
            error: Detail {
                code: self.code(),
                message: self.to_string(),
                field,
            },
        };
        let mut response = json_response(self.status(), &body);
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized(failure) => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(failure.challenge()),
                );
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                headers.insert(ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Unavailable { .. } => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e.fault() {
            Some(fault) => ApiError::Unavailable {
                what: "the article store".into(),
                reason: fault.to_string(),
                detail: e.to_string(),
            },
            None => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}

/// A JSON response that no cache keeps: admin answers are private and change.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "serializing an admin response");
            br#"{"error":{"code":"internal","message":"internal error"}}"#.to_vec()
        }
    };
    let mut response = Response::new(Body::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
