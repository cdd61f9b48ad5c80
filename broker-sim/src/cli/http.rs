//! The blocking HTTP client of the control API, and the errors a subcommand ends with.
//!
//! ureq, blocking: a command makes a handful of requests one after another, so an async
//! runtime would buy nothing. Every answer is read as JSON; an error answer becomes
//! [`Error::Api`] with the API's own message and Kafka code, and a refused connection
//! says plainly that no broker-sim is listening there and how to start or find one.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Bound on one exchange: the API answers at once, except lifecycle calls that wait for
/// the cluster (a broker stopped), which take well under this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The largest answer read (a records page of big values).
const MAX_ANSWER: u64 = 1 << 30;

/// What ends a subcommand early.
#[derive(Debug)]
pub enum Error {
    /// Nothing answered at the control URL.
    Unreachable { url: String, reason: String },
    /// The control API refused: its `error` message, and Kafka's code name when the cluster
    /// refused with one.
    Api {
        status: u16,
        message: String,
        code: Option<String>,
    },
    /// Bad input, or an answer that is not the control API's.
    Other(String),
    /// Stdout was closed by its reader.
    StdoutClosed,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unreachable { url, reason } => write!(
                f,
                "no broker-sim control API at {url}: {reason}; start one with `broker-sim` \
                 or set BROKER_SIM_CONTROL"
            ),
            Error::Api {
                status,
                message,
                code: Some(code),
            } => write!(f, "{message} ({code}, HTTP {status})"),
            Error::Api {
                status,
                message,
                code: None,
            } => write!(f, "{message} (HTTP {status})"),
            Error::Other(message) => f.write_str(message),
            Error::StdoutClosed => f.write_str("stdout closed"),
        }
    }
}

/// Characters left as they are in a path segment: RFC 3986's unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A name (topic, group) as one URL path segment: a group may be called "a/b c".
pub fn segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// A control API at one base URL.
pub struct Api {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Api {
    pub fn new(base: &str, token: Option<&str>) -> Api {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Api {
            base: base.trim_end_matches('/').to_string(),
            token: token.map(str::to_string),
            agent,
        }
    }

    /// `GET path` with query parameters.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, Error> {
        let mut request = self.agent.get(self.url(path));
        for (name, value) in query {
            request = request.query(*name, value);
        }
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.answer(request.call())
    }

    /// `POST path` with a JSON body (the API asks every POST to say it is JSON, even an
    /// empty one).
    pub fn post(&self, path: &str, body: Option<&Value>) -> Result<Value, Error> {
        let mut request = self
            .agent
            .post(self.url(path))
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let sent = match body {
            Some(body) => request.send(body.to_string()),
            None => request.send_empty(),
        };
        self.answer(sent)
    }

    pub fn delete(&self, path: &str) -> Result<Value, Error> {
        let mut request = self.agent.delete(self.url(path));
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.answer(request.call())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The JSON of a 2xx answer (`null` for 204), or the error it carries.
    fn answer(
        &self,
        sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, Error> {
        let mut response = sent.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| self.unreachable(e))?;
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                Error::Other(format!(
                    "{} answered HTTP {status} with something other than the control API's \
                     JSON: {}",
                    self.base,
                    text.chars().take(200).collect::<String>()
                ))
            })?
        };
        if (200..300).contains(&status) {
            return Ok(body);
        }
        // The schema registry's endpoints answer as Confluent's do: `message`, and a
        // numeric `error_code` (40401...).
        let message = body["error"].as_str().or(body["message"].as_str());
        let code = match (&body["code"], &body["error_code"]) {
            (Value::String(code), _) => Some(code.clone()),
            (_, Value::Number(code)) => Some(code.to_string()),
            _ => None,
        };
        Err(Error::Api {
            status,
            message: message.map_or_else(|| body.to_string(), str::to_string),
            code,
        })
    }

    fn unreachable(&self, e: ureq::Error) -> Error {
        Error::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        }
    }
}
