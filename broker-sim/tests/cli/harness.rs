//! What the CLI tests share: a server process, running subcommands and reading what
//! they print.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_broker-sim");

/// Bound on the server's startup and on any one command.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A running `broker-sim` server, killed when dropped (also when a test fails).
pub struct Server {
    pub child: Child,
    pub bootstrap: String,
    pub control: String,
}

impl Server {
    /// `broker-sim ARGS` on ephemeral ports, or `broker-sim serve ARGS` with `serve`.
    pub fn start(serve: bool, args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(serve.then_some("serve"))
            .args(["--port", "0", "--control-port", "0"])
            // A snapshot brings its own broker count.
            .args(
                (!args.contains(&"--snapshot"))
                    .then_some(["--brokers", "3"])
                    .into_iter()
                    .flatten(),
            )
            .args(["--log-level", "error"])
            .args(args)
            .env_remove("BROKER_SIM_CONTROL_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("broker-sim starts");
        let lines = lines_of(child.stdout.take().unwrap());
        let bootstrap = lines.recv_timeout(DEADLINE).expect("a bootstrap line");
        assert!(
            bootstrap.contains(':'),
            "not a bootstrap list: {bootstrap:?}"
        );
        let control = lines.recv_timeout(DEADLINE).expect("a control line");
        let control = control
            .strip_prefix("control=")
            .unwrap_or_else(|| panic!("second stdout line is not control=URL: {control:?}"))
            .to_string();
        Server {
            child,
            bootstrap,
            control,
        }
    }

    /// Runs `broker-sim ARGS --control URL`.
    pub fn cli(&self, args: &[&str]) -> Run {
        run(&with_control(args, &self.control), None)
    }

    /// As [`Server::cli`], with `input` on stdin.
    pub fn cli_stdin(&self, args: &[&str], input: &str) -> Run {
        run(&with_control(args, &self.control), Some(input))
    }

    /// As [`Server::cli`], which must succeed: its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.cli(args).ok(args)
    }

    /// As [`Server::ok`] with `--json`: the document printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.ok(&args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server most tests share, started by the first test that asks.
///
/// A static is never dropped, so its process is killed when the test binary exits, by
/// an `atexit` hook that reads its pid.
pub fn shared() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    static PID: AtomicU32 = AtomicU32::new(0);
    extern "C" fn kill_shared() {
        let pid = PID.load(Ordering::SeqCst);
        if pid != 0 {
            // SAFETY: kill(2) on the pid of the child this process started.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
    SERVER.get_or_init(|| {
        let server = Server::start(false, &["--manual-clock", "1700000000000"]);
        PID.store(server.child.id(), Ordering::SeqCst);
        // SAFETY: registers a plain function that only calls kill(2).
        unsafe { libc::atexit(kill_shared) };
        server
    })
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout, after asserting exit 0.
    pub fn ok(self, args: &[&str]) -> String {
        assert_eq!(self.code, Some(0), "{args:?} failed: {self:?}");
        self.stdout
    }

    /// Stderr, after asserting exit 1 and nothing on stdout.
    pub fn failed(self, args: &[&str]) -> String {
        assert_eq!(self.code, Some(1), "{args:?} should fail: {self:?}");
        assert_eq!(self.stdout, "", "{args:?}");
        self.stderr
    }
}

pub fn with_control(args: &[&str], control: &str) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.extend(["--control".to_string(), control.to_string()]);
    all
}

/// Lines of `from`, read on a thread so that a reader can give up after a deadline.
pub fn lines_of(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

pub fn spawn(args: &[String]) -> Child {
    Command::new(BIN)
        .args(args)
        .env_remove("BROKER_SIM_CONTROL")
        .env_remove("BROKER_SIM_CONTROL_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("broker-sim runs")
}

/// Runs the binary to its end (killed past the deadline) with `input` on stdin.
pub fn run(args: &[String], input: Option<&str>) -> Run {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input.as_bytes()).unwrap();
    }
    drop(stdin);
    finish(child, args)
}

/// Waits for `child` to exit, up to the deadline: what it printed and its exit code.
pub fn finish(mut child: Child, args: &[String]) -> Run {
    let read_all = |from: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(from).read_to_string(&mut text);
            let _ = tx.send(text);
        });
        rx
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    // A caller that took stderr to follow it gets it empty here.
    let stderr = match child.stderr.take() {
        Some(stderr) => read_all(Box::new(stderr)),
        None => read_all(Box::new(std::io::empty())),
    };
    // Both pipes close when the process exits.
    let (Ok(stdout), Ok(stderr)) = (stdout.recv_timeout(DEADLINE), stderr.recv_timeout(DEADLINE))
    else {
        let _ = child.kill();
        panic!("{args:?} did not finish within {DEADLINE:?}");
    };
    let status = child.wait().expect("the command is waited for");
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// The rows of a table printed by the CLI, split on whitespace, header first (blank
/// lines between sections left out).
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// POST to the control API directly, for what the CLI does not do (seeding offsets).
pub fn post(server: &Server, path: &str, body: &str) {
    let answer = ureq::post(format!("{}{path}", server.control))
        .header("content-type", "application/json")
        .send(body)
        .expect("the control API answers");
    assert_eq!(answer.status().as_u16(), 200, "POST {path}");
}
