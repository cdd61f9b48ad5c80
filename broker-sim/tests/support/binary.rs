//! The `broker-sim` binary as the wire tests start it: on ephemeral broker and control
//! ports, its bootstrap list and control address read from its first two stdout lines
//! (bounded by a deadline, so a binary that never prints fails the test), an HTTP client
//! for the control API that returns error statuses rather than failing, and the process
//! killed when the guard drops, also when a test fails. Test files add the calls they
//! need in their own `impl Binary`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Bound on the binary's start and on any one HTTP exchange; only a broken binary gets
/// near it.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub struct Binary {
    pub child: Child,
    pub bootstrap: String,
    /// `http://127.0.0.1:PORT`.
    pub control: String,
    pub http: ureq::Agent,
}

impl Binary {
    /// Starts the binary with `--port 0 --control-port 0 --log-level warn` and `args`.
    pub fn start(args: &[&str]) -> Binary {
        let mut child = Command::new(env!("CARGO_BIN_EXE_broker-sim"))
            .args(["--port", "0", "--control-port", "0", "--log-level", "warn"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("broker-sim starts");
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut next_line = |what: &str| match lines.recv_timeout(DEADLINE) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("broker-sim printed no {what}: {e}")
            }
        };
        let bootstrap = next_line("bootstrap list");
        let control = next_line("control address");
        let control = control
            .strip_prefix("control=")
            .unwrap_or_else(|| panic!("second stdout line is not control=URL: {control:?}"))
            .to_string();
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(DEADLINE))
            .build()
            .into();
        Binary {
            child,
            bootstrap,
            control,
            http,
        }
    }
}

impl Binary {
    /// `GET path` on the control API, which must answer 200 with JSON.
    pub fn get_ok(&self, path: &str) -> serde_json::Value {
        let mut response = self
            .http
            .get(format!("{}{path}", self.control))
            .call()
            .expect("the control API answers");
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        let body = response.body_mut().read_to_string().expect("body reads");
        serde_json::from_str(&body).expect("JSON body")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
