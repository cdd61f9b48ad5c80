//! The differential suite: every scenario of the corpus is sent to a reference Apache
//! Kafka 4.1 and to a fresh broker-sim cluster, and their answers are compared field by
//! field (see `compare` for the only normalisation). Differences are either listed as
//! intended, with a reason (`intended`), or fail the run. Each scenario also runs twice on
//! broker-sim with the same seed, and the answers must be byte-identical.
//!
//! ```sh
//! fidelity/run.sh                                   # starts Kafka, runs, writes the report
//! cargo run -p fidelity -- --kafka 127.0.0.1:29092  # against a Kafka already running
//! ```

mod client;
mod compare;
mod corpus;
mod intended;
mod scenario;
mod wire;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use broker_sim::Cluster;
use clap::Parser;
use kafka_protocol::messages::ApiKey;

use compare::{Change, NORMALISED};
use scenario::{Scenario, Step};
use wire::{Conn, Outcome};

#[derive(Parser)]
#[command(about = "Compare broker-sim's answers with Apache Kafka's")]
struct Args {
    /// The reference Kafka's bootstrap address (one broker).
    #[arg(long)]
    kafka: String,
    /// Run only the scenarios whose id starts with this.
    #[arg(long)]
    only: Option<String>,
    /// Where to write report.md.
    #[arg(long, default_value = "target/fidelity")]
    out: PathBuf,
    /// Rewrite the summary between the fidelity markers of this README.
    #[arg(long)]
    readme: Option<PathBuf>,
    /// Print both clusters' answers to each step of the scenarios run, as compared.
    #[arg(long)]
    show: bool,
    /// The class path of the client-level program (fidelity/java); without it only the
    /// request-level scenarios run.
    #[arg(long)]
    java_classpath: Option<String>,
}

/// How a scenario came out.
enum Verdict {
    Identical,
    /// Every difference is listed in `intended`; the reasons used.
    Intended(Vec<&'static str>),
    Different(String),
}

/// How long a step may be repeated until Kafka settles.
const SETTLE: Duration = Duration::from_secs(30);

/// The seed of every broker-sim cluster.
pub const SEED: u64 = 42;

fn main() {
    let args = Args::parse();
    let corpus: Vec<Scenario> = corpus::all()
        .into_iter()
        .filter(|s| args.only.as_ref().is_none_or(|o| s.id.starts_with(o)))
        .collect();
    check_unique(&corpus);
    wait_for_kafka(&args.kafka);
    let authorizer = kafka_runs_an_authorizer(&args.kafka);
    AUTHORIZER.store(authorizer, std::sync::atomic::Ordering::Relaxed);
    let before = corpus.len();
    let corpus: Vec<Scenario> = corpus
        .into_iter()
        .filter(|s| s.authorizer.is_none_or(|a| a == authorizer))
        .collect();
    eprintln!(
        "the reference Kafka runs {}: {} scenarios that need {} skipped",
        if authorizer {
            "an authorizer"
        } else {
            "no authorizer"
        },
        before - corpus.len(),
        if authorizer { "none" } else { "one" },
    );
    let mut results = Vec::with_capacity(corpus.len());
    let started = Instant::now();
    for s in &corpus {
        if args.show {
            show(&args.kafka, s);
        }
        let verdict = run(&args.kafka, s);
        if let Verdict::Different(d) = &verdict {
            eprintln!("DIFFERENT {}\n{d}", s.id);
        }
        results.push((s, verdict));
    }
    let client = args.java_classpath.as_ref().map(|cp| {
        let prefix = format!("observe-{}-", std::process::id());
        client::run(cp, &args.kafka, &prefix)
    });
    let client_failed = match &client {
        Some(Ok(outcome)) => !outcome.different.is_empty(),
        Some(Err(why)) => {
            eprintln!("client-level run failed: {why}");
            true
        }
        None => false,
    };
    let mut report = report(&results, started.elapsed());
    if let Some(client) = &client {
        client_report(&mut report, client);
    }
    std::fs::create_dir_all(&args.out).expect("report directory");
    std::fs::write(args.out.join("report.md"), &report.full).expect("report written");
    if let Some(readme) = &args.readme {
        update_readme(readme, &report.summary);
    }
    println!("{}", report.summary);
    // Named again beside the count: CI shows the end of the output, and the full
    // differences printed as they came may be cut from what it keeps.
    let mut different = usize::from(client_failed);
    for (s, v) in &results {
        if let Verdict::Different(d) = v {
            let first = d.lines().next().unwrap_or_default();
            println!("different: {} ({first})", s.id);
            different += 1;
        }
    }
    let total = results.len() + usize::from(client.is_some());
    println!("fidelity: {} passed, {different} failed", total - different);
    if different > 0 {
        std::process::exit(1);
    }
}

fn check_unique(corpus: &[Scenario]) {
    let mut seen = BTreeMap::new();
    for s in corpus {
        assert!(seen.insert(&s.id, ()).is_none(), "scenario {} twice", s.id);
    }
}

/// Waits until the reference Kafka answers Metadata with its broker and a controller.
fn wait_for_kafka(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let request =
            kafka_protocol::messages::MetadataRequest::default().with_topics(Some(vec![]));
        if let Ok(mut conn) = Conn::connect(addr)
            && let Outcome::Answer(answer, _) = conn.exchange(ApiKey::Metadata, 12, &request.into())
            && let kafka_protocol::messages::ResponseKind::Metadata(m) = *answer
            && !m.brokers.is_empty()
            && m.controller_id.0 >= 0
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the reference Kafka at {addr} is not ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether the reference Kafka runs an authorizer, which broker-sim then runs too.
static AUTHORIZER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the reference Kafka runs an authorizer: without one it answers DescribeAcls
/// with SECURITY_DISABLED. (`fidelity/kafka/start.sh --authorizer` runs Kafka's
/// StandardAuthorizer with `allow.everyone.if.no.acl.found=true`.)
fn kafka_runs_an_authorizer(addr: &str) -> bool {
    let request = kafka_protocol::messages::DescribeAclsRequest::default()
        .with_resource_type_filter(2)
        .with_resource_name_filter(Some(kafka_protocol::protocol::StrBytes::from_static_str(
            "fidelity-probe",
        )))
        .with_pattern_type_filter(3)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_operation(1)
        .with_permission_type(1);
    let mut conn = Conn::connect(addr).expect("the reference Kafka accepts connections");
    match conn.exchange(ApiKey::DescribeAcls, 3, &request.into()) {
        Outcome::Answer(answer, _) => match *answer {
            kafka_protocol::messages::ResponseKind::DescribeAcls(d) => {
                d.error_code != kafka_protocol::ResponseError::SecurityDisabled.code()
            }
            _ => false,
        },
        _ => false,
    }
}

/// A fresh single-broker broker-sim with the reference Kafka's settings, on `ports` (its
/// PLAINTEXT and SASL_PLAINTEXT listeners'; 0: any free one). The determinism check runs
/// its second cluster on the first one's ports, since answers name the broker's port.
fn sim((port, sasl_port): (u16, u16)) -> Cluster {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The reference Kafka's listeners and SASL settings (fidelity/kafka/start.sh).
        match Cluster::builder()
            .brokers(1)
            .port(port)
            .seed(SEED)
            .manual_clock(corpus::corpus_time())
            .listener(broker_sim::Listener::new(
                broker_sim::SecurityProtocol::Plaintext,
            ))
            .listener(
                broker_sim::Listener::new(broker_sim::SecurityProtocol::SaslPlaintext)
                    .port(sasl_port),
            )
            .sasl_user("alice", "alice-secret")
            .connections_max_reauth(Duration::from_secs(3600))
            .authorizer(AUTHORIZER.load(std::sync::atomic::Ordering::Relaxed))
            .allow_everyone_if_no_acl_found(true)
            .start()
        {
            Ok(cluster) => return cluster,
            Err(e) if Instant::now() < deadline => {
                eprintln!("broker-sim cannot start on port {port} yet: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("broker-sim does not start: {e}"),
        }
    }
}

/// Sends every step to `conn`, repeating `until` steps, and returns each answer.
fn play(conn: &mut Conn, steps: &[Step]) -> Vec<Outcome> {
    let mut seen = scenario::Seen::default();
    steps
        .iter()
        .map(|step| {
            let deadline = Instant::now() + SETTLE;
            let mut request = step.request.clone();
            if let Some(set) = step.fill {
                set(&mut request, &seen);
            }
            loop {
                let announced = step.announced.unwrap_or(step.version);
                let outcome = conn.exchange_announcing(step.key, step.version, announced, &request);
                if let Outcome::Answer(answer, _) = &outcome {
                    seen.topic_id = last_topic_id(answer).unwrap_or(seen.topic_id);
                    use kafka_protocol::messages::ResponseKind as R;
                    match answer.as_ref() {
                        R::JoinGroup(j) if !j.member_id.is_empty() => {
                            seen.member_id = j.member_id.to_string();
                            seen.generation = j.generation_id;
                            seen.classic_member_id = j.member_id.to_string();
                            seen.classic_generation = j.generation_id;
                        }
                        R::ConsumerGroupHeartbeat(h)
                            if h.error_code == 0 && h.member_epoch >= 0 =>
                        {
                            seen.member_id = h
                                .member_id
                                .as_ref()
                                .map(|m| m.to_string())
                                .unwrap_or_default();
                            seen.generation = h.member_epoch;
                        }
                        R::InitProducerId(i) if i.error_code == 0 => {
                            seen.producer_id = i.producer_id.0;
                            seen.producer_epoch = i.producer_epoch;
                        }
                        R::EndTxn(e) if e.error_code == 0 && e.producer_id.0 >= 0 => {
                            seen.producer_id = e.producer_id.0;
                            seen.producer_epoch = e.producer_epoch;
                        }
                        _ => {}
                    }
                }
                let settled = match (&outcome, step.until) {
                    (Outcome::Answer(answer, _), Some(done)) => done(answer),
                    _ => true,
                };
                let transient = matches!(&outcome, Outcome::Answer(answer, _) if transient(answer));
                if (settled && !transient) || Instant::now() >= deadline {
                    return outcome;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .collect()
}

/// Whether an answer carries, anywhere, an error every client retries and that only Kafka
/// gives in these scenarios, while it settles what broker-sim does at once:
/// LEADER_NOT_AVAILABLE (5) and NOT_LEADER_OR_FOLLOWER (6) just after a topic is created
/// (its metadata can name the leader before the leader serves the partition), and
/// COORDINATOR_LOAD_IN_PROGRESS (14), COORDINATOR_NOT_AVAILABLE (15) and NOT_COORDINATOR
/// (16) while a fresh cluster's coordinator loads its internal partition. No scenario
/// expects them (one broker leads and coordinates everything), so the request is repeated.
fn transient(answer: &kafka_protocol::messages::ResponseKind) -> bool {
    let text = format!("{answer:?}");
    [5, 6, 14, 15, 16].iter().any(|code| {
        text.contains(&format!("error_code: {code},"))
            || text.contains(&format!("error_code: {code} }}"))
    })
}

/// The first non-zero error code anywhere in an answer, or the failure to answer.
fn first_error(outcome: &Outcome) -> Option<String> {
    let Outcome::Answer(answer, _) = outcome else {
        return Some("(no answer)".into());
    };
    let text = format!("{answer:?}");
    text.split("error_code: ")
        .skip(1)
        .map(|rest| rest.split([',', ' ']).next().unwrap_or_default())
        .find(|code| *code != "0")
        .map(str::to_string)
}

/// The id of the first topic a CreateTopics or Metadata answer names.
fn last_topic_id(answer: &kafka_protocol::messages::ResponseKind) -> Option<uuid::Uuid> {
    use kafka_protocol::messages::ResponseKind;
    let id = match answer {
        ResponseKind::CreateTopics(r) => r.topics.first()?.topic_id,
        ResponseKind::Metadata(r) => r.topics.first()?.topic_id,
        _ => return None,
    };
    (!id.is_nil()).then_some(id)
}

/// The reference Kafka's address for `s`: its SASL_PLAINTEXT listener is on the
/// PLAINTEXT port + 200 (fidelity/kafka/start.sh).
fn kafka_addr(kafka: &str, s: &Scenario) -> String {
    if !s.sasl {
        return kafka.to_string();
    }
    match kafka.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(port) => format!("{host}:{}", port + 200),
            Err(_) => kafka.to_string(),
        },
        None => kafka.to_string(),
    }
}

fn run(kafka: &str, s: &Scenario) -> Verdict {
    let kafka_answers = match Conn::connect(&kafka_addr(kafka, s)) {
        Ok(mut conn) => play(&mut conn, &s.steps),
        Err(e) => return Verdict::Different(format!("cannot connect to Kafka: {e}")),
    };
    let (sim_answers, ports) = play_sim(s, (0, 0));
    // Determinism: the same scenario on another fresh cluster, same seed, same bytes.
    let (again, _) = play_sim(s, ports);
    for (i, (a, b)) in sim_answers.iter().zip(&again).enumerate() {
        let same = match (a, b) {
            (Outcome::Answer(_, x), Outcome::Answer(_, y)) => x == y,
            (Outcome::Closed, Outcome::Closed) => true,
            _ => false,
        };
        if !same {
            return Verdict::Different(format!(
                "step {i}: broker-sim answered differently on a second run with the same seed"
            ));
        }
    }
    let mut out = String::new();
    let mut reasons = Vec::new();
    let mut unlisted = false;
    for (i, ((step, k), b)) in s
        .steps
        .iter()
        .zip(&kafka_answers)
        .zip(&sim_answers)
        .enumerate()
    {
        if let Outcome::Failed(why) = b {
            return Verdict::Different(format!(
                "step {i} ({:?} v{}): broker-sim: {why}",
                step.key, step.version
            ));
        }
        if let Outcome::Failed(why) = k {
            return Verdict::Different(format!(
                "step {i} ({:?} v{}): Kafka: {why}",
                step.key, step.version
            ));
        }
        if !step.compared {
            // A setup step must have worked on both, or the comparison after it means
            // nothing.
            for (side, outcome) in [("Kafka", k), ("broker-sim", b)] {
                if let Some(code) = first_error(outcome) {
                    return Verdict::Different(format!(
                        "setup step {i} ({:?} v{}) failed on {side} with error code {code}",
                        step.key, step.version
                    ));
                }
            }
            continue;
        }
        let changes = compare::diff(&compare::lines(k, &s.prefix), &compare::lines(b, &s.prefix));
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "step {i}: {:?} v{}", step.key, step.version);
        for c in &changes {
            let listed = intended::find(&s.id, c.path());
            match listed {
                Some(entry) => {
                    if !reasons.contains(&entry.reason) {
                        reasons.push(entry.reason);
                    }
                }
                None => unlisted = true,
            }
            let (side, line) = match c {
                Change::Kafka(l) => ("kafka", l),
                Change::Sim(l) => ("sim  ", l),
            };
            let mark = if listed.is_some() { " (intended)" } else { "" };
            let _ = writeln!(out, "  {side} {}  [{}]{mark}", line.text.trim(), line.path);
        }
    }
    match (unlisted, reasons.is_empty()) {
        (true, _) => Verdict::Different(out),
        (false, true) => Verdict::Identical,
        (false, false) => Verdict::Intended(reasons),
    }
}

/// Prints both answers to every step of `s`.
fn show(kafka: &str, s: &Scenario) {
    let kafka_answers = play(
        &mut Conn::connect(&kafka_addr(kafka, s)).expect("Kafka accepts"),
        &s.steps,
    );
    let (sim_answers, _) = play_sim(s, (0, 0));
    for (i, (k, b)) in kafka_answers.iter().zip(&sim_answers).enumerate() {
        let text = |o| {
            compare::lines(o, &s.prefix)
                .into_iter()
                .map(|l| l.text)
                .collect::<Vec<_>>()
                .join("\n")
        };
        println!(
            "== {} step {i}\n-- kafka\n{}\n-- broker-sim\n{}",
            s.id,
            text(k),
            text(b)
        );
    }
}

/// The scenario's answers from a fresh broker-sim on `port`, and the port it ran on.
fn play_sim(s: &Scenario, ports: (u16, u16)) -> (Vec<Outcome>, (u16, u16)) {
    let cluster = sim(ports);
    let broker = cluster.brokers()[0].clone();
    let listener = usize::from(s.sasl);
    let mut conn = Conn::connect(&format!("{}:{}", broker.host, broker.port_on(listener)))
        .expect("broker-sim accepts");
    let answers = play(&mut conn, &s.steps);
    drop(conn);
    cluster.shutdown();
    (
        answers,
        (broker.port_on(0) as u16, broker.port_on(1) as u16),
    )
}

struct Report {
    summary: String,
    full: String,
}

fn report(results: &[(&Scenario, Verdict)], took: Duration) -> Report {
    #[derive(Default)]
    struct Row {
        scenarios: usize,
        identical: usize,
        intended: usize,
        different: usize,
    }
    let mut rows: BTreeMap<i16, (ApiKey, Row)> = BTreeMap::new();
    let mut reasons: Vec<&str> = Vec::new();
    for (s, v) in results {
        let (_, row) = rows.entry(s.api as i16).or_insert((s.api, Row::default()));
        row.scenarios += 1;
        match v {
            Verdict::Identical => row.identical += 1,
            Verdict::Intended(r) => {
                row.intended += 1;
                for reason in r {
                    if !reasons.contains(reason) {
                        reasons.push(reason);
                    }
                }
            }
            Verdict::Different(_) => row.different += 1,
        }
    }
    let total = results.len();
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|(_, v)| f(v)).count();
    let identical = count(|v| matches!(v, Verdict::Identical));
    let intended = count(|v| matches!(v, Verdict::Intended(_)));
    let different = total - identical - intended;
    let mut summary = format!(
        "{total} scenarios against Apache Kafka 4.1: {identical} identical, {intended} with intended differences only, {different} different.\n\n| API | scenarios | identical | intended | different |\n|---|---|---|---|---|\n"
    );
    for (api, row) in rows.values() {
        let _ = writeln!(
            summary,
            "| {api:?} | {} | {} | {} | {} |",
            row.scenarios, row.identical, row.intended, row.different
        );
    }
    summary.push_str("\nNormalised before comparing (the value is replaced in both answers):\n\n");
    for (field, why) in NORMALISED {
        let _ = writeln!(summary, "- `{field}`: {why}");
    }
    summary.push_str("- generated member ids (`member_id`, `leader`): the random UUID after the client id is replaced, the rest compared\n");
    summary.push_str("- the bounds in Produce's invalid-timestamp messages (now − `message.timestamp.before.max.ms`, now + `message.timestamp.after.max.ms`): each cluster reads its own clock\n");
    summary.push_str("- listings of the whole cluster keep only the scenario's own topics and groups: one Kafka serves every scenario of a run, and holds internal topics\n");
    summary.push_str("- Metadata's topics and partitions are compared in name and index order: Kafka lists them in its hash maps' order\n");
    summary.push_str("- ApiVersions is compared without the APIs the README lists as not served, or as served beyond a default Kafka, each with its reason\n");
    if !reasons.is_empty() {
        summary.push_str("\nIntended differences:\n\n");
        for r in &reasons {
            let _ = writeln!(summary, "- {r}");
        }
    }
    let mut full = format!(
        "# Fidelity report\n\n{summary}\nTook {:.1} s.\n\n## Differences\n\n",
        took.as_secs_f64()
    );
    for (s, v) in results {
        match v {
            Verdict::Different(d) => {
                let _ = writeln!(full, "### {} (different)\n\n```\n{d}```\n", s.id);
            }
            Verdict::Intended(r) => {
                let _ = writeln!(full, "- {}: intended ({})", s.id, r.join("; "));
            }
            Verdict::Identical => {}
        }
    }
    Report { summary, full }
}

/// Adds the client-level comparison to the report.
fn client_report(report: &mut Report, outcome: &Result<client::Outcome, String>) {
    let line = match outcome {
        Ok(o) if o.different.is_empty() => format!(
            "\nClient level: the same Java program (kafka-clients 4.1: admin, idempotent producer, consumers by assignment and in a group, offsets, errors) observed {} things on each cluster, all identical.\n",
            o.observations
        ),
        Ok(o) => format!(
            "\nClient level: the same Java program observed {} things on each cluster; {} lines differ:\n\n```\n{}\n```\n",
            o.observations,
            o.different.len(),
            o.different.join("\n")
        ),
        Err(why) => format!("\nClient level: the Java program did not complete: {why}\n"),
    };
    report.summary.push_str(&line);
    report.full.push_str(&line);
}

/// Replaces the text between `<!-- fidelity -->` and `<!-- /fidelity -->`.
fn update_readme(path: &PathBuf, summary: &str) {
    let text = std::fs::read_to_string(path).expect("README readable");
    let (start, end) = ("<!-- fidelity -->", "<!-- /fidelity -->");
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        eprintln!(
            "{}: no fidelity markers; summary not written",
            path.display()
        );
        return;
    };
    let updated = format!("{}{start}\n{summary}{}", &text[..a], &text[b..]);
    std::fs::write(path, updated).expect("README written");
}
