//! The server limits of `axes demo` and `axes serve`, against the real
//! binary: thousands of half-sent requests neither stall `/healthz` nor a
//! login and are closed by the server itself; a trickling body gets 408; a
//! full server makes new connections wait; a client that does not read is
//! cut off; oversized bodies get 413; SIGTERM lets the request in flight
//! finish.
//!
//! Timeouts here are upper bounds for liveness, never speed requirements.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process_support;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process_support::{AxesEnv, DemoProcess, PASSWORD, USER};

/// How many half-sent requests the big tests hold open (fewer only when the
/// open-file limit cannot be raised that far).
const HALF_SENT: usize = 2500;

/// A request cut off in the middle of its headers.
const HALF_HEAD: &[u8] = b"POST /login HTTP/1.1\r\nHost: x\r\n";

/// Liveness bound: anything expected must happen well within this.
const WITHIN: Duration = Duration::from_secs(60);

/// The tests holding thousands of sockets run one at a time (open files,
/// and two shared cores).
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Demo,
    Serve,
}

impl Mode {
    fn start(self, env: &AxesEnv, extra: &[&str]) -> DemoProcess {
        match self {
            Mode::Demo => env.demo_with("demo", USER, extra),
            Mode::Serve => env.serve("serve", extra),
        }
    }

    /// A login request and the status it must get: the demo lets the user
    /// in (303), `serve` has no admin accounts here (401).
    fn login(self) -> (String, u16) {
        let (path, user, status) = match self {
            Mode::Demo => ("/login", USER, 303),
            Mode::Serve => ("/admin/login", "nobody", 401),
        };
        let body = format!("username={user}&password={PASSWORD}");
        (post(path, &body), status)
    }
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

fn addr(process: &DemoProcess) -> SocketAddr {
    process
        .url
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap()
}

/// Raises the soft open-file limit far enough for [`HALF_SENT`] sockets
/// here and in the server (which inherits it); returns how many to open.
fn half_sent_count() -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let wanted = HALF_SENT as u64 + 1024;
    let limit = getrlimit(Resource::Nofile);
    let mut soft = limit.current.unwrap_or(u64::MAX);
    if soft < wanted {
        let target = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
        let raised = Rlimit {
            current: Some(target),
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            soft = target;
        }
    }
    let n = usize::try_from(soft.saturating_sub(512))
        .unwrap_or(usize::MAX)
        .min(HALF_SENT);
    assert!(
        n >= 1000,
        "the open-file limit ({soft}) is too low for this test: raise `ulimit -n`"
    );
    n
}

/// Opens `n` connections that each send [`HALF_HEAD`] and nothing more;
/// they are left non-blocking for [`is_open`].
fn open_half_sent(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    open_half_sent_counting(addr, n, &AtomicUsize::new(0))
}

/// As [`open_half_sent`], counting the connections opened so far in `opened`.
fn open_half_sent_counting(addr: SocketAddr, n: usize, opened: &AtomicUsize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut s = TcpStream::connect_timeout(&addr, WITHIN)
                .unwrap_or_else(|e| panic!("connection {i} of {n}: {e}"));
            s.write_all(HALF_HEAD).unwrap();
            s.set_nonblocking(true).unwrap();
            opened.fetch_add(1, Ordering::Relaxed);
            s
        })
        .collect()
}

/// Whether the server still holds `s` open (a non-blocking read would
/// block); a close, a reset or any answer counts as closed.
fn is_open(mut s: &TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    match s.read(&mut buf) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => true,
        Err(e) if e.kind() == ErrorKind::Interrupted => true,
        _ => false,
    }
}

/// Waits until the server has closed every one of `streams`; how long that
/// took.
fn wait_all_closed(streams: &mut Vec<TcpStream>) -> Duration {
    let start = Instant::now();
    loop {
        streams.retain(is_open);
        if streams.is_empty() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < WITHIN,
            "{} connections still open after {WITHIN:?}",
            streams.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `request` on a new connection and reads the answer to its end.
fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    s.set_read_timeout(Some(WITHIN)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    read_answer(&mut s)
}

/// Reads until the server closes; panics when it does not answer in time.
fn read_answer(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    if let Err(e) = s.read_to_end(&mut out) {
        panic!(
            "no complete answer ({e}); got so far: {:?}",
            String::from_utf8_lossy(&out)
        );
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of a response.
fn status(response: &str) -> u16 {
    response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

/// `/healthz` and a login answer while thousands of half-sent requests are
/// held open (a long header timeout keeps them open meanwhile).
fn answers_while_half_sent_requests_are_open(mode: Mode) {
    let _heavy = heavy();
    let n = half_sent_count();
    let env = AxesEnv::new();
    let server = mode.start(
        &env,
        &["--header-timeout", "10m", "--max-connections", "4096"],
    );
    let addr = addr(&server);

    let opening = Instant::now();
    let held = open_half_sent(addr, n);
    let opened = opening.elapsed();

    let asking = Instant::now();
    let health = http(addr, HEALTHZ);
    assert_eq!(status(&health), 200, "{health}");
    let (login, expected) = mode.login();
    let answer = http(addr, &login);
    assert_eq!(status(&answer), expected, "{answer}");
    let answered = asking.elapsed();

    let open = held.iter().filter(|s| is_open(s)).count();
    assert_eq!(open, n, "the half-sent requests should still be open");
    eprintln!(
        "{mode:?}: {n} half-sent requests opened in {opened:?}; /healthz and a login \
         answered in {answered:?} while all {open} were open"
    );
}

#[test]
fn demo_answers_while_half_sent_requests_are_open() {
    answers_while_half_sent_requests_are_open(Mode::Demo);
}

#[test]
fn serve_answers_while_half_sent_requests_are_open() {
    answers_while_half_sent_requests_are_open(Mode::Serve);
}

/// The server closes half-sent requests, silent connections and idle
/// keep-alive connections after `--header-timeout` by itself.
fn closes_half_sent_requests(mode: Mode) {
    let _heavy = heavy();
    let n = half_sent_count();
    let env = AxesEnv::new();
    let server = mode.start(
        &env,
        &["--header-timeout", "2s", "--max-connections", "4096"],
    );
    let addr = addr(&server);

    let opening = Instant::now();
    let mut held = open_half_sent(addr, n);
    // Connections that send nothing at all.
    for _ in 0..20 {
        let s = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
        s.set_nonblocking(true).unwrap();
        held.push(s);
    }
    // A keep-alive connection, idle after one answered request.
    let mut keep_alive = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    keep_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    keep_alive.set_read_timeout(Some(WITHIN)).unwrap();
    let mut buf = [0u8; 4096];
    let got = keep_alive.read(&mut buf).unwrap();
    assert!(buf[..got].starts_with(b"HTTP/1.1 200"));
    keep_alive.set_nonblocking(true).unwrap();
    held.push(keep_alive);
    let opened = opening.elapsed();

    let total = held.len();
    let closed_after = wait_all_closed(&mut held);
    eprintln!(
        "{mode:?}: {total} connections ({n} half-sent, 20 silent, 1 idle keep-alive) opened in \
         {opened:?}, all closed by the server {closed_after:?} later \
         ({:?} after the first was opened) with --header-timeout 2s",
        opening.elapsed()
    );
    let health = http(addr, HEALTHZ);
    assert_eq!(status(&health), 200, "{health}");
}

#[test]
fn demo_closes_half_sent_requests() {
    closes_half_sent_requests(Mode::Demo);
}

#[test]
fn serve_closes_half_sent_requests() {
    closes_half_sent_requests(Mode::Serve);
}

/// With the default connection bound (1024), more half-sent requests than
/// slots delay `/healthz` but do not stop it: slots free up as the header
/// timeout closes the half-sent requests.
#[test]
fn more_half_sent_requests_than_slots_only_delay_an_answer() {
    let _heavy = heavy();
    let n = half_sent_count();
    let env = AxesEnv::new();
    let server = Mode::Demo.start(&env, &["--header-timeout", "2s"]);
    let addr = addr(&server);

    let progress = Arc::new(AtomicUsize::new(0));
    let counter = progress.clone();
    let attacker = std::thread::spawn(move || {
        let start = Instant::now();
        let mut held = open_half_sent_counting(addr, n, &counter);
        let opened = start.elapsed();
        wait_all_closed(&mut held);
        (opened, start.elapsed())
    });
    // Ask once the half-sent requests outnumber the slots (1024).
    let start = Instant::now();
    while progress.load(Ordering::Relaxed) < 1100 {
        assert!(start.elapsed() < WITHIN, "the attacker got stuck");
        std::thread::sleep(Duration::from_millis(10));
    }
    let asking = Instant::now();
    let health = http(addr, HEALTHZ);
    assert_eq!(status(&health), 200, "{health}");
    let answered = asking.elapsed();
    let (opened, closed) = attacker.join().unwrap();
    eprintln!(
        "default --max-connections, --header-timeout 2s: {n} half-sent requests opened in \
         {opened:?}, all closed after {closed:?}; /healthz asked after the first 1100 answered \
         {answered:?} later"
    );
    assert!(
        server
            .log_text()
            .contains("new connections wait until one closes"),
        "the server should say that its connection slots are full:\n{}",
        server.log_text()
    );
}

/// When `--max-connections` are open, a new connection waits (in the
/// listen backlog) and is served as soon as one closes.
#[test]
fn a_full_server_makes_new_connections_wait() {
    let env = AxesEnv::new();
    let server = Mode::Demo.start(&env, &["--max-connections", "4", "--header-timeout", "10m"]);
    let addr = addr(&server);
    let mut held = open_half_sent(addr, 4);

    let mut waiting = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    waiting.write_all(HEALTHZ.as_bytes()).unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut buf = [0u8; 64];
    match waiting.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a fifth connection was served while four were open: {other:?}"),
    }
    assert!(held.iter().all(is_open));

    drop(held.pop());
    let freed = Instant::now();
    waiting.set_read_timeout(Some(WITHIN)).unwrap();
    let answer = read_answer(&mut waiting);
    assert_eq!(status(&answer), 200, "{answer}");
    eprintln!(
        "--max-connections 4: a fifth connection waited, and was served {:?} after one closed",
        freed.elapsed()
    );
}

/// A body that trickles in is cut off after `--request-timeout` with 408.
#[test]
fn a_trickling_body_is_cut_off() {
    let env = AxesEnv::new();
    let server = Mode::Demo.start(&env, &["--request-timeout", "2s"]);
    let addr = addr(&server);

    let mut s = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut sent = 0;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // One byte every 200 ms (the whole body would take over half an hour)
    // until the server answers and closes.
    let ended = loop {
        assert!(
            start.elapsed() < WITHIN,
            "the trickling request is still open after {WITHIN:?}"
        );
        if s.write_all(b"u").is_ok() {
            sent += 1;
        }
        match s.read(&mut buf) {
            Ok(0) => break "closed",
            Ok(got) => answer.extend_from_slice(&buf[..got]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // Bytes sent after the server stopped reading may turn its
            // close into a reset.
            Err(_) => break "reset",
        }
    };
    let answer = String::from_utf8_lossy(&answer);
    assert!(sent < 10_000);
    if !answer.is_empty() {
        assert_eq!(status(&answer), 408, "{answer}");
    }
    eprintln!(
        "--request-timeout 2s: a body trickling at 5 bytes/s was cut off after {:?} \
         ({sent} of 10000 bytes sent; answer {:?}; connection {ended})",
        start.elapsed(),
        answer.lines().next().unwrap_or("none")
    );
}

/// A client that sends requests but never reads the answers cannot hold
/// its connection (here: the only slot) beyond `--send-timeout`.
#[test]
fn a_client_that_does_not_read_is_cut_off() {
    let env = AxesEnv::new();
    let server = Mode::Demo.start(
        &env,
        &[
            "--max-connections",
            "1",
            "--send-timeout",
            "2s",
            "--header-timeout",
            "10m",
        ],
    );
    let addr = addr(&server);

    // Pipelined requests, forever, never reading an answer: both socket
    // buffers fill up and the server's writes stall.
    let reader_less = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    let writer = std::thread::spawn(move || {
        let mut s = reader_less;
        let mut sent = 0u64;
        while s
            .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
            .is_ok()
        {
            sent += 1;
        }
        sent
    });
    std::thread::sleep(Duration::from_millis(500));
    let asking = Instant::now();
    let health = http(addr, HEALTHZ);
    assert_eq!(status(&health), 200, "{health}");
    let sent = writer.join().unwrap();
    eprintln!(
        "--send-timeout 2s, --max-connections 1: a client that never read ({sent} pipelined \
         requests) was cut off; /healthz waiting behind it answered after {:?}",
        asking.elapsed()
    );
}

/// `--max-body-size` applies to every route: 413 for a longer body.
#[test]
fn an_oversized_body_gets_413() {
    let env = AxesEnv::new();
    let server = Mode::Serve.start(&env, &["--max-body-size", "1000"]);
    let addr = addr(&server);

    let small = format!("username=nobody&password=x&pad={}", "p".repeat(500));
    let answer = http(addr, &post("/admin/login", &small));
    assert_eq!(status(&answer), 401, "{answer}");

    let big = format!("username=nobody&password=x&pad={}", "p".repeat(2000));
    for path in ["/admin/login", "/healthz", "/no-such-page"] {
        let answer = http(addr, &post(path, &big));
        assert_eq!(status(&answer), 413, "{path}: {answer}");
    }
}

/// On SIGTERM the server stops accepting, finishes the request in flight,
/// and exits 0.
#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    use rustix::process::{Pid, Signal, kill_process};
    let env = AxesEnv::new();
    let mut server = Mode::Demo.start(&env, &[]);
    let addr = addr(&server);

    let body = format!("username={USER}&password={PASSWORD}");
    let (first, rest) = body.split_at(10);
    let mut in_flight = TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    write!(
        in_flight,
        "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    in_flight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let pid = Pid::from_raw(i32::try_from(server.pid()).unwrap()).unwrap();
    kill_process(pid, Signal::TERM).unwrap();
    let start = Instant::now();
    while server.count_log("shutting down") == 0 {
        assert!(
            start.elapsed() < WITHIN,
            "no shutdown after SIGTERM:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // No longer accepting…
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(5));
    assert!(refused.is_err(), "still accepting after SIGTERM");
    // …but the request in flight is answered.
    in_flight.write_all(rest.as_bytes()).unwrap();
    in_flight.set_read_timeout(Some(WITHIN)).unwrap();
    let answer = read_answer(&mut in_flight);
    assert_eq!(status(&answer), 303, "{answer}");
    let exit = server.wait_exit(WITHIN).expect("the server did not exit");
    assert!(exit.success(), "{exit:?}\n{}", server.log_text());
}
