//! `AuthenticationManager`: Login, LoginByToken, Logout, SetLocale.

use crate::soap::SoapFault;
use crate::vlsi::faults;
use crate::vlsi::types::{JwtTokenData, SecureString};
use crate::vlsi::{data_object, required_text, Call, CookieChange, Operation, Reply};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::FutureExt;

pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "AuthenticationManager_Login",
        needs_session: false,
        handler: |call| login(call).boxed_local(),
        on_fault: None,
    },
    Operation {
        name: "AuthenticationManager_LoginByToken",
        needs_session: false,
        handler: |call| login_by_token(call).boxed_local(),
        on_fault: None,
    },
    Operation {
        name: "AuthenticationManager_Logout",
        needs_session: true,
        handler: |call| logout(call).boxed_local(),
        on_fault: None,
    },
    Operation {
        name: "AuthenticationManager_SetLocale",
        needs_session: true,
        handler: |call| set_locale(call).boxed_local(),
        on_fault: None,
    },
];

/// The password: a `SecureString` (base64 of the UTF-8 bytes), or plain text from
/// hand-written requests.
fn password(call: &Call) -> Result<String, SoapFault> {
    let el = call.op.child("password").ok_or_else(|| {
        faults::invalid_argument("password", "The parameter password is required.")
    })?;
    if el.children.is_empty() {
        return Ok(el.text.clone());
    }
    let secure: SecureString = data_object(el, "password", "SecureString")?;
    let bytes = STANDARD.decode(secure.utf8_string.trim()).map_err(|_| {
        faults::invalid_argument("password.utf8String", "utf8String must be base64.")
    })?;
    String::from_utf8(bytes).map_err(|_| {
        faults::invalid_argument("password.utf8String", "utf8String must encode UTF-8 text.")
    })
}

async fn login(call: Call) -> Result<Reply, SoapFault> {
    let username = required_text(&call.op, "username")?.trim().to_string();
    let domain = call
        .op
        .child("domain")
        .map(|d| d.trimmed_text().to_string())
        .unwrap_or_default();
    let password = password(&call)?;
    let session = call
        .core()
        .horizon()
        .login(&username, &password, &domain)
        .await?;
    Ok(Reply::empty().with_cookie(CookieChange::Set(session.id)))
}

async fn login_by_token(call: Call) -> Result<Reply, SoapFault> {
    let el = call
        .op
        .child("data")
        .ok_or_else(|| faults::invalid_argument("data", "The parameter data is required."))?;
    let data: JwtTokenData = data_object(el, "data", "JwtTokenData")?;
    let session = call
        .core()
        .horizon()
        .login_by_token(data.token.trim())
        .await?;
    Ok(Reply::empty().with_cookie(CookieChange::Set(session.id)))
}

async fn logout(call: Call) -> Result<Reply, SoapFault> {
    call.core().horizon().logout(call.session()?).await?;
    Ok(Reply::empty().with_cookie(CookieChange::Clear))
}

async fn set_locale(call: Call) -> Result<Reply, SoapFault> {
    let locale = required_text(&call.op, "locale")?.trim().to_string();
    let mut session = call.session()?.clone();
    call.core().horizon().set_locale(&mut session, &locale)?;
    Ok(Reply::empty())
}
