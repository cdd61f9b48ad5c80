//! The binary's client side: subcommands that drive a running broker-sim from a terminal
//! or a shell script (`broker-sim topics list`, `broker-sim brokers stop 2`,
//! `broker-sim faults add --api Produce --error NOT_LEADER_OR_FOLLOWER`).
//!
//! They talk only HTTP to the control API (`broker_sim::control`), never to the library:
//! the cluster runs in another process, and going through the API keeps the CLI one more
//! client of it, so anything it shows a script can also get with `curl`. Each command
//! prints a table for people, or with `--json` the control API's own JSON for scripts; an
//! error answer is printed with its Kafka code on stderr and exits 1.
//!
//! One file per command group — `topics`, `records` (records, tail, produce), `groups`,
//! `brokers`, `faults`, `clock`, `requests`, `schemas`, `snapshot` — over `http` (the blocking client and its errors) and
//! `output` (tables, record decoding, stdout). A new command is a variant of [`Command`],
//! a file with its arguments and a `run`, and a line in [`run`].

mod brokers;
mod clock;
mod faults;
mod groups;
mod http;
mod output;
mod records;
mod requests;
mod schemas;
mod snapshot;
mod topics;

use std::process::ExitCode;

use clap::Subcommand;

use http::{Api, Error};

/// Where the control API is when neither --control nor BROKER_SIM_CONTROL says.
const DEFAULT_CONTROL: &str = "http://127.0.0.1:9644";

/// The client subcommands, listed in `broker-sim --help` beside `serve`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, describe or create topics.
    Topics(topics::Args),
    /// Print a topic's records (offset, partition, timestamp, key, value, headers).
    Records(records::RecordsArgs),
    /// Follow a topic's new records until Ctrl-C (or --max records).
    Tail(records::TailArgs),
    /// Write records to a topic, from arguments or one per stdin line.
    Produce(records::ProduceArgs),
    /// List consumer groups, or describe one with its members and lag.
    Groups(groups::Args),
    /// List brokers, or stop, start, restart, isolate or heal one.
    Brokers(brokers::Args),
    /// List, add or remove fault rules.
    Faults(faults::Args),
    /// Show the cluster clock, or advance a manual one.
    Clock(clock::Args),
    /// Show the request log (what clients sent and were answered), or clear it.
    Requests(requests::Args),
    /// List the schema registry's subjects, show or register a schema, or check a topic's
    /// records against their schemas (exits 1 on any violation).
    Schemas(schemas::Args),
    /// Save the cluster's topics, records, group offsets and configs to a file, to start
    /// copies from with `broker-sim --snapshot FILE`.
    Snapshot(snapshot::Args),
    /// Print a shell completion script (e.g. `broker-sim completions bash > /etc/bash_completion.d/broker-sim`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// How to reach the control API, and how to print; every client subcommand takes these,
/// before or after its own subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The control API of a running broker-sim (its second stdout line).
    #[arg(
        long,
        global = true,
        help_heading = "Control API",
        value_name = "URL",
        env = "BROKER_SIM_CONTROL",
        hide_env_values = true,
        default_value = DEFAULT_CONTROL
    )]
    control: String,
    /// The server's --control-token, sent as `Authorization: Bearer TOKEN`.
    #[arg(
        long,
        global = true,
        help_heading = "Control API",
        value_name = "TOKEN",
        env = "BROKER_SIM_CONTROL_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Print the control API's JSON instead of tables (one document; one per line for tail).
    #[arg(long, global = true, help_heading = "Control API")]
    json: bool,
}

impl Connection {
    fn api(&self) -> Api {
        Api::new(&self.control, self.token.as_deref())
    }
}

/// Runs one client subcommand; `app` is the whole binary's command, for completions.
pub fn run(command: Command, app: clap::Command) -> ExitCode {
    let result = match command {
        Command::Topics(args) => topics::run(args),
        Command::Records(args) => records::records(args),
        Command::Tail(args) => records::tail(args),
        Command::Produce(args) => records::produce(args),
        Command::Groups(args) => groups::run(args),
        Command::Brokers(args) => brokers::run(args),
        Command::Faults(args) => faults::run(args),
        Command::Clock(args) => clock::run(args),
        Command::Requests(args) => requests::run(args),
        Command::Schemas(args) => schemas::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Completions { shell } => completions(shell, app),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): what it wanted was printed.
        Err(Error::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn completions(shell: clap_complete::Shell, mut app: clap::Command) -> Result<(), Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut app, "broker-sim", &mut script);
    output::emit(&String::from_utf8_lossy(&script))
}
