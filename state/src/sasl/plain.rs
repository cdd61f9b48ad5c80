//! SASL/PLAIN (RFC 4616): one message, `authzid NUL username NUL password`, checked
//! against the users' PLAIN passwords, with the failures Kafka's `PlainSaslServer`
//! reports.

use super::Step;
use crate::state::State;

pub(super) fn authenticate(state: &State, token: &[u8]) -> Step {
    let Ok(text) = std::str::from_utf8(token) else {
        return Step::Fail("Authentication failed: the SASL/PLAIN response is not UTF-8".into());
    };
    let parts: Vec<&str> = text.split('\u{0}').collect();
    let [authzid, username, password] = parts.as_slice() else {
        return Step::Fail(format!(
            "Invalid SASL/PLAIN response: expected 3 tokens, got {}",
            parts.len()
        ));
    };
    if username.is_empty() {
        return Step::Fail("Authentication failed: username not specified".into());
    }
    if password.is_empty() {
        return Step::Fail("Authentication failed: password not specified".into());
    }
    if !state.plain_password_matches(username, password) {
        return Step::Fail("Authentication failed: Invalid username or password".into());
    }
    if !authzid.is_empty() && authzid != username {
        return Step::Fail(
            "Authentication failed: Client requested an authorization id that is different from username"
                .into(),
        );
    }
    Step::Done {
        principal: format!("User:{username}"),
        response: Vec::new(),
        expires_at: None,
    }
}
