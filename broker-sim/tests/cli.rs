//! The binary's client subcommands (`broker-sim topics list`, `produce`, `faults add`...),
//! end to end: a real `broker-sim` server process on ephemeral ports, and each subcommand
//! run as its own process with `--control URL`, its stdout, stderr and exit code checked.
//!
//! One server (on a manual clock, so record times and the clock are the test's) serves
//! every test that only adds its own topics and groups; tests that stop brokers or need a
//! token get their own. Nothing waits on time: startup waits (bounded) for the lines the
//! server prints, `tail` is followed once it says on stderr that it started, and each
//! command is bounded by a deadline only a broken binary reaches.

mod support;

#[path = "cli/harness.rs"]
mod harness;

use std::time::Duration;

use serde_json::Value;

use harness::*;

#[test]
fn topics_are_created_listed_and_described() {
    let sim = shared();
    let out = sim.ok(&[
        "topics",
        "create",
        "cli-orders",
        "--partitions",
        "3",
        "--replication-factor",
        "2",
        "--config",
        "cleanup.policy=compact",
    ]);
    assert!(out.starts_with("created topic cli-orders"), "{out}");
    assert!(out.contains("configs: cleanup.policy=compact"), "{out}");

    let list = rows(&sim.ok(&["topics", "list"]));
    assert_eq!(list[0], ["TOPIC", "PARTITIONS", "REPLICATION", "RECORDS"]);
    assert!(
        list.contains(&vec![
            "cli-orders".into(),
            "3".into(),
            "2".into(),
            "0".into()
        ]),
        "{list:?}"
    );
    let names = sim.json(&["topics", "list"]);
    assert!(
        names["topics"]
            .as_array()
            .unwrap()
            .contains(&"cli-orders".into())
    );

    let described = sim.json(&["topics", "describe", "cli-orders"]);
    assert_eq!(described["partitions"].as_array().unwrap().len(), 3);
    assert_eq!(described["configs"]["cleanup.policy"], "compact");
    let table = rows(&sim.ok(&["topics", "describe", "cli-orders"]));
    assert_eq!(table[2][0], "PARTITION", "{table:?}");
    assert_eq!(
        table.len(),
        6,
        "summary, configs, header, three partitions: {table:?}"
    );

    let again = sim
        .cli(&["topics", "create", "cli-orders", "--partitions", "1"])
        .failed(&["topics", "create"]);
    assert!(again.contains("TOPIC_ALREADY_EXISTS"), "{again}");
}

#[test]
fn an_unknown_topic_prints_the_control_apis_error_and_exits_1() {
    let sim = shared();
    for args in [
        &["topics", "describe", "cli-nope"][..],
        &["records", "cli-nope"],
        &["tail", "cli-nope", "--max", "1"],
        &["produce", "cli-nope", "v"],
    ] {
        let stderr = sim.cli(args).failed(args);
        assert!(
            stderr.contains("unknown topic \"cli-nope\"") && stderr.contains("404"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn produced_records_read_back_with_keys_headers_and_decoding() {
    let sim = shared();
    sim.ok(&["topics", "create", "cli-produce", "--partitions", "1"]);
    let out = sim.ok(&[
        "produce",
        "cli-produce",
        "--key",
        "k",
        "-H",
        "src=args",
        "one",
        "two",
    ]);
    assert_eq!(
        out,
        "wrote 2 records to cli-produce: partition 0 offsets 0-1\n"
    );
    let out = sim
        .cli_stdin(
            &["produce", "cli-produce", "--key-separator", ":"],
            "a:{\"n\": 1}\nb:plain\n",
        )
        .ok(&["produce", "--key-separator"]);
    assert_eq!(
        out,
        "wrote 2 records to cli-produce: partition 0 offsets 2-3\n"
    );
    sim.cli_stdin(&["produce", "cli-produce"], "no key\r\n")
        .ok(&["produce"]);

    let read = sim.json(&["records", "cli-produce"]);
    let records = read["records"].as_array().unwrap();
    let values: Vec<&str> = records
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["one", "two", "{\"n\": 1}", "plain", "no key"]);
    let keys: Vec<Option<&str>> = records.iter().map(|r| r["key"].as_str()).collect();
    assert_eq!(keys, [Some("k"), Some("k"), Some("a"), Some("b"), None]);
    assert_eq!(records[0]["headers"][0]["key"], "src");
    assert_eq!(records[0]["headers"][0]["value"], "args");

    let table = rows(&sim.ok(&[
        "records",
        "cli-produce",
        "--decode",
        "json",
        "--offset",
        "2",
    ]));
    assert_eq!(
        table[0],
        [
            "PARTITION",
            "OFFSET",
            "TIMESTAMP",
            "KEY",
            "VALUE",
            "HEADERS"
        ]
    );
    // The record's time on the cluster clock, printed as RFC 3339.
    let at =
        std::time::UNIX_EPOCH + Duration::from_millis(records[2]["timestamp"].as_u64().unwrap());
    let at = humantime::format_rfc3339_millis(at).to_string();
    assert!(
        at.starts_with("2023-11-14T"),
        "the manual clock's day: {at}"
    );
    assert_eq!(table[1][..5], ["0", "2", &at, "a", "{\"n\":1}"]);
    assert_eq!(table[3][3], "<null>");
    let hex = rows(&sim.ok(&["records", "cli-produce", "--decode", "hex", "--limit", "1"]));
    assert_eq!(hex[1][3..], ["6b", "6f6e65", "src=61726773"]);
    let by_key = sim.json(&["records", "cli-produce", "--key", "b"]);
    assert_eq!(by_key["records"].as_array().unwrap().len(), 1, "{by_key}");
    assert_eq!(by_key["records"][0]["value"], "plain");

    let bad = sim
        .cli_stdin(
            &["produce", "cli-produce", "--key-separator", ":"],
            "nokey\n",
        )
        .failed(&["produce"]);
    assert!(bad.contains("stdin line 1 has no key separator"), "{bad}");
}

#[test]
fn tail_follows_records_produced_after_it_started() {
    let sim = shared();
    sim.ok(&["topics", "create", "cli-tail", "--partitions", "2"]);
    sim.ok(&["produce", "cli-tail", "old"]);

    let args = with_control(&["tail", "cli-tail", "--max", "2", "--json"], &sim.control);
    let mut child = spawn(&args);
    let stderr = lines_of(child.stderr.take().unwrap());
    let started = stderr.recv_timeout(DEADLINE).expect("tail says it started");
    assert!(
        started.starts_with("following cli-tail (2 partitions) from the end"),
        "{started}"
    );
    sim.ok(&[
        "produce",
        "cli-tail",
        "--partition",
        "1",
        "new-1",
        "new-2",
        "new-3",
    ]);
    let out = finish(child, &args).ok(&["tail"]);
    let values: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["value"].to_string())
        .collect();
    assert_eq!(values, ["\"new-1\"", "\"new-2\""]);

    let from_start = sim.ok(&[
        "tail",
        "cli-tail",
        "--from-beginning",
        "--max",
        "1",
        "-p",
        "0",
    ]);
    let table = rows(&from_start);
    assert_eq!(table[1][4], "old", "{from_start}");
}

#[test]
fn a_group_shows_committed_offsets_and_lag_per_partition() {
    let sim = shared();
    sim.ok(&["topics", "create", "cli-lag", "--partitions", "2"]);
    sim.ok(&["produce", "cli-lag", "-p", "0", "a", "b", "c"]);
    sim.ok(&["produce", "cli-lag", "-p", "1", "d"]);
    post(
        sim,
        "/v1/groups/cli-group/reset-offsets",
        r#"{"topic": "cli-lag", "offset": 1}"#,
    );

    let list = rows(&sim.ok(&["groups", "list"]));
    assert!(
        list.iter()
            .any(|r| r[0] == "cli-group" && r[1] == "Empty" && r[4] == "2"),
        "{list:?}"
    );
    let described = sim.ok(&["groups", "describe", "cli-group"]);
    let table = rows(&described);
    let header = table
        .iter()
        .position(|r| r[0] == "TOPIC")
        .expect("an offsets table");
    assert_eq!(
        table[header],
        ["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "CONSUMER"]
    );
    assert_eq!(table[header + 1], ["cli-lag", "0", "1", "3", "2", "-"]);
    assert_eq!(table[header + 2], ["cli-lag", "1", "1", "1", "0", "-"]);
    assert!(described.ends_with("total lag: 2\n"), "{described}");
    assert_eq!(
        sim.json(&["groups", "describe", "cli-group"])["total_lag"],
        2
    );

    let missing = sim
        .cli(&["groups", "describe", "cli-no-group"])
        .failed(&["groups"]);
    assert!(
        missing.contains("unknown group \"cli-no-group\""),
        "{missing}"
    );
}

#[test]
fn a_group_member_shows_its_client_and_assignment_and_an_uncommitted_partition_its_end() {
    use kafka_protocol::messages::FindCoordinatorRequest;
    use support::{Conn, assert_no_error, assignment, commit_request, join_request, str_bytes};

    let sim = shared();
    sim.ok(&["topics", "create", "cli-members", "--partitions", "2"]);
    sim.ok(&["produce", "cli-members", "-p", "0", "a", "b"]);
    sim.ok(&["produce", "cli-members", "-p", "1", "c", "d", "e"]);
    let cluster = sim.json(&["brokers"]);
    let addr = |id: &Value| {
        let b = cluster["brokers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == *id)
            .unwrap();
        format!("{}:{}", b["host"].as_str().unwrap(), b["port"])
    };

    // One consumer joins, takes both partitions and commits offset 1 of partition 0 only.
    let group = "cli-members-group";
    let find = FindCoordinatorRequest::default()
        .with_key_type(0)
        .with_key(str_bytes(group));
    let found = Conn::connect(addr(&1.into())).send(3, &find);
    assert_no_error(found.error_code, "FindCoordinator");
    let mut conn = Conn::connect(addr(&found.node_id.0.into()));
    let joined = conn.join(5, join_request(group, "", &["range"]));
    assert_no_error(joined.error_code, "JoinGroup");
    let member = joined.member_id.to_string();
    let mine = assignment(&[("cli-members", &[0, 1])]);
    let sync = support::sync_request(group, joined.generation_id, &member, &[(&member, mine)]);
    assert_no_error(conn.send(3, &sync).error_code, "SyncGroup");
    let commit = commit_request(
        group,
        joined.generation_id,
        &member,
        &[("cli-members", 0, 1)],
        None,
        -1,
    );
    let committed = conn.send(8, &commit);
    assert_no_error(committed.topics[0].partitions[0].error_code, "OffsetCommit");

    let table = rows(&sim.ok(&["groups", "describe", group]));
    assert_eq!(
        table[1],
        ["MEMBER", "CLIENT-ID", "HOST", "ASSIGNMENT"],
        "{table:?}"
    );
    assert_eq!(table[2][0], member);
    assert_eq!(table[2][1], support::CLIENT_ID);
    assert_eq!(table[2][3], "cli-members-0,cli-members-1");
    assert_eq!(table[3][0], "TOPIC", "{table:?}");
    let consumer = support::CLIENT_ID.to_string();
    assert_eq!(table[4], ["cli-members", "0", "1", "2", "1", &consumer]);
    assert_eq!(table[5], ["cli-members", "1", "-", "3", "-", &consumer]);
    let list = rows(&sim.ok(&["groups", "list"]));
    assert!(
        list.contains(&vec![
            group.to_string(),
            "Stable".into(),
            "consumer/range".into(),
            "1".into(),
            "1".into()
        ]),
        "{list:?}"
    );
}

#[test]
fn faults_are_added_listed_removed_and_cleared() {
    let sim = shared();
    let added = sim.ok(&[
        "faults",
        "add",
        "--api",
        "Produce",
        "--topic",
        "cli-faulty",
        "--error",
        "NOT_LEADER_OR_FOLLOWER",
        "--times",
        "3",
    ]);
    let first: u64 = added
        .trim()
        .strip_prefix("added fault ")
        .unwrap()
        .parse()
        .unwrap();
    let rule = r#"{"match": {"api": "Fetch", "topic": "cli-faulty"}, "action": {"type": "latency", "ms": 5}}"#;
    let second = sim.json(&["faults", "add", "--json-rule", rule])["id"]
        .as_u64()
        .unwrap();
    let third = sim
        .cli_stdin(&["faults", "add", "--json"], rule)
        .ok(&["faults", "add"]);
    let third = serde_json::from_str::<Value>(&third).unwrap()["id"]
        .as_u64()
        .unwrap();

    let table = rows(&sim.ok(&["faults", "list"]));
    assert_eq!(
        table[0],
        ["ID", "MATCH", "ACTION", "TIMES", "PROBABILITY", "HITS"]
    );
    let row = table
        .iter()
        .find(|r| r[0] == first.to_string())
        .expect("the first rule");
    assert_eq!(
        row[1..],
        [
            "api=Produce",
            "topic=cli-faulty",
            "error",
            "NOT_LEADER_OR_FOLLOWER",
            "3",
            "-",
            "0"
        ]
    );
    let listed = sim.json(&["faults", "list"]);
    let ids: Vec<u64> = listed["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_u64().unwrap())
        .collect();
    assert!(
        [first, second, third].iter().all(|id| ids.contains(id)),
        "{listed}"
    );

    assert_eq!(
        sim.ok(&["faults", "remove", &second.to_string()]),
        format!("removed fault {second}\n")
    );
    let again = sim
        .cli(&["faults", "remove", &second.to_string()])
        .failed(&["faults"]);
    assert!(
        again.contains(&format!("unknown fault {second}")),
        "{again}"
    );
    let bad = sim
        .cli(&[
            "faults",
            "add",
            "--api",
            "Produce",
            "--error",
            "NO_SUCH_CODE",
        ])
        .failed(&["faults", "add"]);
    assert!(bad.contains("NO_SUCH_CODE") && bad.contains("400"), "{bad}");
    let nothing = sim
        .cli(&["faults", "add", "--api", "Produce"])
        .failed(&["faults", "add"]);
    assert!(nothing.contains("say what the fault does"), "{nothing}");

    sim.ok(&["faults", "clear"]);
    assert_eq!(
        sim.json(&["faults", "list"])["faults"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn the_manual_clock_is_shown_and_advanced() {
    let sim = shared();
    let before = sim.json(&["clock"]);
    assert_eq!(before["manual"], true);
    let start = before["now_ms"].as_i64().unwrap();
    let shown = sim.ok(&["clock"]);
    assert!(
        shown.ends_with(&format!("({start} ms), manual clock\n")),
        "{shown}"
    );
    let after = sim.json(&["clock", "advance", "1500ms"]);
    assert_eq!(after["now_ms"].as_i64().unwrap(), start + 1500);
    let out = sim.ok(&["clock", "advance", "2s"]);
    assert!(out.contains(&format!("({} ms)", start + 3500)), "{out}");
    sim.ok(&["clock", "advance", "250"]);
    assert_eq!(
        sim.json(&["clock"])["now_ms"].as_i64().unwrap(),
        start + 3750
    );
}

#[test]
fn brokers_stop_start_isolate_and_heal_with_a_token() {
    let sim = Server::start(true, &["--control-token", "s3cret"]);
    let cli = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--token", "s3cret"]);
        sim.ok(&args)
    };
    let refused = sim.cli(&["brokers"]).failed(&["brokers"]);
    assert!(
        refused.contains("Authorization: Bearer") && refused.contains("401"),
        "{refused}"
    );

    let table = rows(&cli(&["brokers"]));
    assert_eq!(table[1][..2], ["ID", "ADDRESS"], "{table:?}");
    assert_eq!(table.len(), 5, "summary, header, three brokers: {table:?}");
    assert_eq!(cli(&["brokers", "stop", "2"]), "broker 2: down\n");
    assert_eq!(cli(&["brokers", "isolate", "3"]), "broker 3: isolated\n");
    let status: Vec<String> = rows(&cli(&["brokers", "list"]))[2..]
        .iter()
        .map(|r| r[r.len() - 2].clone())
        .collect();
    assert_eq!(status, ["up", "down", "isolated"]);
    assert_eq!(cli(&["brokers", "heal", "3"]), "broker 3: up\n");
    assert_eq!(cli(&["brokers", "start", "2"]), "broker 2: up\n");
    let brokers = serde_json::from_str::<Value>(&cli(&["brokers", "--json"])).unwrap();
    assert!(
        brokers["brokers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["up"] == true),
        "{brokers}"
    );

    let unknown = run(
        &with_control(&["brokers", "stop", "9", "--token", "s3cret"], &sim.control),
        None,
    )
    .failed(&["brokers", "stop"]);
    assert!(unknown.contains("unknown broker 9"), "{unknown}");
    // The system clock cannot be advanced: the API's 409 is the error.
    let clock = run(
        &with_control(
            &["clock", "advance", "1s", "--token", "s3cret"],
            &sim.control,
        ),
        None,
    )
    .failed(&["clock", "advance"]);
    assert!(
        clock.contains("system clock") && clock.contains("409"),
        "{clock}"
    );
}

#[test]
fn an_unreachable_control_api_is_named_with_how_to_start_one() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let args = with_control(&["topics", "list"], &url);
    let stderr = run(&args, None).failed(&["topics", "list"]);
    assert!(
        stderr.contains(&format!("no broker-sim control API at {url}"))
            && stderr.contains("start one with `broker-sim` or set BROKER_SIM_CONTROL"),
        "{stderr}"
    );
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out =
            run(&["completions".to_string(), shell.to_string()], None).ok(&["completions", shell]);
        assert!(
            out.contains("broker-sim") && out.contains("topics"),
            "{shell}: {out}"
        );
    }
}

#[test]
fn every_subcommand_has_help_and_the_top_level_help_documents_serving() {
    let top = run(&["--help".to_string()], None).ok(&["--help"]);
    for needle in [
        "serve",
        "topics",
        "faults",
        "completions",
        "requests",
        "snapshot",
        "--brokers",
        "--control-port",
        "--config",
        "--snapshot",
        "--request-log-size",
    ] {
        assert!(top.contains(needle), "--help lacks {needle}: {top}");
    }
    let commands: &[&[&str]] = &[
        &["serve"],
        &["topics"],
        &["topics", "list"],
        &["topics", "describe"],
        &["topics", "create"],
        &["records"],
        &["tail"],
        &["produce"],
        &["groups"],
        &["groups", "list"],
        &["groups", "describe"],
        &["brokers"],
        &["brokers", "stop"],
        &["brokers", "isolate"],
        &["faults"],
        &["faults", "add"],
        &["faults", "remove"],
        &["faults", "clear"],
        &["clock"],
        &["clock", "advance"],
        &["requests"],
        &["snapshot"],
        &["completions"],
    ];
    for command in commands {
        let mut args: Vec<String> = command.iter().map(|a| a.to_string()).collect();
        args.push("--help".to_string());
        let out = run(&args, None).ok(command);
        assert!(out.contains("Usage: broker-sim"), "{command:?}: {out}");
    }
}

#[test]
fn serving_flags_conflict_with_a_client_subcommand() {
    let args = [
        "--brokers".to_string(),
        "1".to_string(),
        "topics".to_string(),
        "list".to_string(),
    ];
    let stderr = run(&args, None).stderr;
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn a_snapshot_is_saved_and_a_server_started_from_it_serves_the_records() {
    let server = shared();
    server.ok(&["topics", "create", "snapshotted", "--partitions", "2"]);
    server.ok(&[
        "produce",
        "snapshotted",
        "--key",
        "k",
        "--partition",
        "1",
        "kept",
    ]);
    let dir = std::env::temp_dir().join(format!("broker-sim-cli-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("snapshot.json");
    let path = file.to_str().unwrap();
    let saved = server.json(&["snapshot", path]);
    assert_eq!(saved["path"], path);
    assert!(saved["topics"].as_u64().unwrap() >= 1, "{saved}");
    let said = server.ok(&["snapshot", path]);
    assert!(said.contains("broker-sim --snapshot"), "{said}");

    let copy = Server::start(false, &["--snapshot", path]);
    let records = copy.json(&["records", "snapshotted"]);
    let records = records["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        (&records[0]["partition"], &records[0]["value"]),
        (&1.into(), &"kept".into())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_request_log_is_listed_filtered_and_cleared() {
    let server = Server::start(false, &[]);
    server.ok(&["topics", "create", "logged", "--partitions", "1"]);
    server.ok(&["groups", "list"]);
    // The CLI itself sends no Kafka requests: the log is empty until a client's arrive.
    let empty = server.json(&["requests"]);
    assert_eq!(empty["requests"], serde_json::json!([]), "{empty}");
    let mut conn = support::Conn::connect(server.bootstrap.split(',').next().unwrap());
    support::metadata(&mut conn, 12, &["logged"]);
    let metadata = server.json(&["requests", "--api", "Metadata", "--topic", "logged"]);
    let entries = metadata["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{metadata}");
    assert_eq!(entries[0]["topics"][0]["topic"], "logged");
    let table = server.ok(&["requests", "--api", "Metadata"]);
    assert!(
        table.contains("Metadata v12") && table.contains("logged"),
        "{table}"
    );
    let refused = server
        .cli(&["requests", "--api", "Bogus"])
        .failed(&["requests"]);
    assert!(refused.contains("unknown api"), "{refused}");
    let cleared = server.ok(&["requests", "--clear"]);
    assert!(cleared.starts_with("cleared "), "{cleared}");
    assert_eq!(
        server.json(&["requests"])["requests"],
        serde_json::json!([])
    );
}

#[test]
fn schemas_are_registered_listed_shown_and_checked() {
    let sim = shared();
    let file = std::env::temp_dir().join(format!("cli-schema-{}.json", std::process::id()));
    std::fs::write(
        &file,
        r#"{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = sim.ok(&[
        "schemas",
        "register",
        "cli-events-value",
        path,
        "--type",
        "json",
    ]);
    std::fs::remove_file(&file).unwrap();
    let id: i32 = out
        .trim()
        .strip_prefix("cli-events-value: id ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));

    let list = rows(&sim.ok(&["schemas", "list"]));
    assert!(
        list.contains(&vec![
            "cli-events-value".into(),
            "1".into(),
            id.to_string(),
            "JSON".into()
        ]),
        "{list:?}"
    );
    let shown = sim.ok(&["schemas", "show", "cli-events-value"]);
    assert!(shown.starts_with(&format!("cli-events-value version 1, id {id}, JSON\n")));
    assert!(shown.contains("\"required\""), "{shown}");
    let missing = sim.cli(&["schemas", "show", "cli-absent"]).failed(&[]);
    assert!(missing.contains("40401"), "{missing}");

    // One valid record, one that breaks the schema: `check` lists the second and exits 1.
    sim.ok(&["topics", "create", "cli-events", "--partitions", "1"]);
    let framed = |json: &str| {
        let mut bytes = vec![0u8];
        bytes.extend(id.to_be_bytes());
        bytes.extend(json.as_bytes());
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
    };
    let body = serde_json::json!({ "records": [
        { "value": framed(r#"{"id": "e-1"}"#), "value_encoding": "base64" },
        { "value": framed(r#"{"total": 1}"#), "value_encoding": "base64" },
    ]});
    post(sim, "/v1/topics/cli-events/records", &body.to_string());
    let decoded = sim.ok(&["records", "cli-events", "--decode", "schema"]);
    assert!(
        decoded.contains(&format!("#{id} {{\"id\":\"e-1\"}}")),
        "{decoded}"
    );
    let check = sim.cli(&["schemas", "check", "cli-events"]);
    assert_eq!(check.code, Some(1), "{check:?}");
    let table = rows(&check.stdout);
    assert_eq!(
        table[1][..5],
        ["0", "1", "value", &id.to_string(), "does_not_decode"]
    );
    assert!(
        check.stderr.contains("1 of 2 records of cli-events"),
        "{check:?}"
    );
}
