//! The binary at its file-descriptor limit (issue 18): clients that open more connections
//! than the process may hold do not take the last descriptors. The brokers stop accepting
//! at their budget (the limit less a reserve), so the control API still answers, and the
//! clients waiting in the listen backlog are served as soon as others close.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kafka_protocol::messages::ApiVersionsRequest;
use support::*;

const DEADLINE: Duration = Duration::from_secs(30);

struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` on the control API with a bare HTTP/1.1 request: the status line.
fn control_status(control: &str, path: &str) -> String {
    let host = control.trim_start_matches("http://");
    let mut conn = TcpStream::connect(host).expect("the control API accepts");
    conn.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn the_control_api_answers_while_clients_hold_every_descriptor_brokers_may_use() {
    // 200 descriptors: the brokers may hold 72 connections; 150 clients try (the rest of
    // them fit in the listen backlog of 128).
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 200 && exec {} --brokers 1 --port 0 --control-port 0 --log-level error",
            env!("CARGO_BIN_EXE_broker-sim")
        ))
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("broker-sim starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let bootstrap = lines.next().unwrap().unwrap();
    let control = lines
        .next()
        .unwrap()
        .unwrap()
        .trim_start_matches("control=")
        .to_string();
    let _binary = Binary(child);

    let mut clients: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(&bootstrap).expect("the backlog takes the connection"))
        .collect();
    // The brokers accept as many as their budget allows (200 − 128 reserved) and serve
    // them; the rest wait in the backlog.
    let budget = 200 - 128;
    let mut answered = vec![false; clients.len()];
    for client in &mut clients {
        client
            .write_all(&encode_frame(3, 1, &ApiVersionsRequest::default()))
            .unwrap();
        client.set_nonblocking(true).unwrap();
    }
    let give_up = Instant::now() + DEADLINE;
    while answered.iter().filter(|a| **a).count() < budget {
        assert!(
            Instant::now() < give_up,
            "the brokers did not serve {budget} clients"
        );
        for (client, answered) in clients.iter_mut().zip(&mut answered) {
            let mut size = [0u8; 4];
            if !*answered && client.peek(&mut size).is_ok_and(|n| n > 0) {
                *answered = true;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // With the process's descriptors held by clients, the control API still answers.
    assert!(control_status(&control, "/v1/cluster").contains("200"));
    for (client, answered) in clients.iter_mut().zip(&mut answered) {
        let mut size = [0u8; 4];
        *answered |= client.peek(&mut size).is_ok_and(|n| n > 0);
    }
    assert_eq!(
        answered.iter().filter(|a| **a).count(),
        budget,
        "no more than the budget"
    );

    // Once the others leave, the last one to connect, which waited, is served.
    let give_up = Instant::now() + DEADLINE;
    let mut last = clients.pop().expect("a waiting client");
    clients.clear();
    last.set_nonblocking(false).unwrap();
    last.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut size = [0u8; 4];
    last.read_exact(&mut size)
        .expect("a client that waited in the backlog is answered");
    assert!(Instant::now() < give_up);
}
