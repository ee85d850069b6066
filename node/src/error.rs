//! How the ledger's errors meet HTTP: each kind's status, and the JSON body
//! `{"error": code, "message"}` (the code is [`Error::code`], never derived
//! from the message).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use client::{Error, wire::ErrorBody};

/// The HTTP status for a ledger error. Infrastructure failures are 500,
/// never a verdict on the request.
pub fn status(e: &Error) -> StatusCode {
    let code = match e {
        Error::TooLarge { .. } => 413,
        Error::BadEntry(_)
        | Error::BadPayload(_)
        | Error::BadRequest(_)
        | Error::WrongLog { .. } => 400,
        Error::BadSignature(_) | Error::UnknownSigner(_) => 401,
        Error::Forbidden(_) => 403,
        Error::Rule(_) | Error::FromTheFuture { .. } => 422,
        Error::NotFound(_) => 404,
        Error::ShuttingDown => 503,
        _ => 500,
    };
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A ledger error on its way out as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<ledger::Error> for ApiError {
    fn from(e: ledger::Error) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.0.code().to_string(),
            message: self.0.to_string(),
        };
        (status(&self.0), Json(body)).into_response()
    }
}
