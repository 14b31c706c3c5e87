//! The emulator binary as a child process: killed during saves, starved of file descriptors by
//! stalled clients, stopped by SIGTERM while clients hold partial requests, started with caps
//! too large for the machine. Every wait is bounded by a generous deadline that only fails the
//! test; nothing measures speed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod reliability_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reliability_common::{ARN, CONTROL, PATIENCE, temp_dir};

const BIN: &str = env!("CARGO_BIN_EXE_iot-jobs-emulator");

/// A child emulator and the address it listens on.
struct Emu {
    child: Child,
    addr: SocketAddr,
    /// The MQTT broker's address, if it printed one.
    mqtt: Option<SocketAddr>,
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (the emulator, maybe under a shell) and reads the address it prints.
fn spawn(mut command: Command) -> Emu {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap();
    // The broker's address is on one of the next lines, when it runs.
    let mut mqtt = None;
    if line.contains("listening on") {
        for _ in 0..2 {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(a) = line.split("mqtt://").nth(1).and_then(|r| r.split_whitespace().next()) {
                mqtt = a.parse().ok();
                break;
            }
        }
    }
    // Keep reading what it prints so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Emu { child, addr, mqtt }
}

/// Free ports, the manual clock, errors only: every child emulator's first arguments.
const BASE_ARGS: [&str; 8] =
    ["--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0", "--clock", "manual", "--log-level", "error"];

fn emulator(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(BASE_ARGS).args(args);
    c
}

/// One request on a new connection; the status and the body, or None if there was no answer
/// within `PATIENCE`.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    request_signed(addr, CONTROL, method, path, body)
}

/// [`request`] with this `Authorization` header (which names the plane).
fn request_signed(
    addr: SocketAddr,
    auth: &str,
    method: &str,
    path: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(PATIENCE)).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.get(9..12)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map_or(String::new(), |(_, b)| b.to_owned());
    Some((status, body))
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn state_args(path: &Path) -> Vec<String> {
    vec!["--state-file".into(), path.display().to_string()]
}

/// The startup banner gives the variable to export for both planes (the CLI and the SDKs read
/// it), with the address the emulator listens on, and warns of the data plane's wrong name.
#[test]
fn the_banner_gives_the_endpoint_variable_to_export() {
    let mut child = emulator(&[]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in out.lines() {
        let line = line.unwrap();
        let last = line.contains("boto3.client(\"iot-jobs-data\"");
        lines.push(line);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let first = lines.first().unwrap();
    let addr = first.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap();
    let export = lines.iter().find_map(|l| l.trim().strip_prefix("export AWS_ENDPOINT_URL="));
    assert_eq!(export, Some(format!("http://{addr}").as_str()), "{lines:#?}");
    let text = lines.join("\n");
    assert!(
        text.contains("AWS_ENDPOINT_URL_IOT_JOBS_DATA_PLANE")
            && text.contains("not AWS_ENDPOINT_URL_IOT_JOBS_DATA,"),
        "{text}"
    );
}

/// A state file named `x.tmp` is never written in place (every checkpoint replaces it whole,
/// by a rename: a new inode) and survives SIGKILLs during checkpoints: after every kill it
/// loads, and the state holds every change that was acknowledged before the kill. (When the
/// temporary file was the path with its extension replaced by `tmp`, it was the state file
/// itself, truncated and rewritten by every save, so a kill during a save emptied it.)
#[test]
fn a_state_file_named_like_a_temporary_file_survives_kills_during_saves() {
    let dir = temp_dir("kill-tmp");
    let path = dir.join("x.tmp");
    let mut args = state_args(&path);
    // A checkpoint after every change: the snapshot is rewritten all the time.
    args.extend(["--checkpoint-records".into(), "1".into(), "--checkpoint-growth".into(), "0".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // About 1 MB of state, so that every save takes a while.
    {
        let e = spawn(emulator(&args));
        assert_eq!(request(e.addr, "POST", "/things/t", "{}").map(|r| r.0), Some(200));
        let doc = "x".repeat(32_000);
        let mut inode = std::fs::metadata(&path).unwrap().ino();
        let mut replaced = 0;
        for j in 0..32 {
            let body = format!(r#"{{"targets":["{ARN}:thing/t"],"document":"\"{doc}\""}}"#);
            assert_eq!(request(e.addr, "PUT", &format!("/jobs/j{j}"), &body).map(|r| r.0), Some(200));
            std::thread::sleep(Duration::from_millis(100));
            let now = std::fs::metadata(&path).unwrap().ino();
            replaced += usize::from(now != inode);
            inode = now;
        }
        // Every checkpoint gives the file a new inode; a file written in place never changes it.
        assert!(replaced > 0, "the state file was written in place");
        // The checkpoint of the last job (on a loaded machine it may come after the loop).
        let deadline = Instant::now() + PATIENCE;
        while std::fs::metadata(&path).map_or(0, |m| m.len()) <= 1_000_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..10_u64 {
        let mut e = spawn(emulator(&args));
        // Every change acknowledged before is there.
        for name in &acknowledged {
            let got = request(e.addr, "GET", &format!("/things/{name}"), "");
            assert_eq!(got.map(|r| r.0), Some(200), "round {round}: {name} was acknowledged, then lost");
        }
        let (_, stats) = request(e.addr, "GET", "/_emulator/stats", "").unwrap();
        assert!(stats.contains(r#""jobs":32"#), "round {round}: {stats}");
        // Writers until a kill at a moment that varies from round to round.
        let kill_at = Instant::now() + Duration::from_millis(30 + round * 37 % 200);
        let mut n = 0;
        while Instant::now() < kill_at {
            let name = format!("r{round}n{n}");
            if request(e.addr, "POST", &format!("/things/{name}"), "{}").is_some_and(|r| r.0 == 200) {
                acknowledged.push(name);
            }
            n += 1;
        }
        // One more, in flight when the kill comes.
        let addr = e.addr;
        let late = std::thread::spawn(move || request(addr, "POST", "/things/late", "{}"));
        std::thread::sleep(Duration::from_millis(2));
        e.child.kill().unwrap();
        e.child.wait().unwrap();
        if late.join().unwrap().is_some_and(|r| r.0 == 200) {
            acknowledged.push("late".into());
        }
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1_000_000, "round {round}: the state file has {len} bytes");
    }
    // A clean stop leaves no temporary file behind (the lock file stays: removing it could
    // let two emulators lock two different files of one name).
    let mut e = spawn(emulator(&args));
    assert!(Command::new("kill").args(["-TERM", &e.child.id().to_string()]).status().unwrap().success());
    assert!(wait_exit(&mut e.child, PATIENCE).is_some_and(|s| s.success()));
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|f| f.unwrap().file_name()).collect();
    files.sort();
    assert_eq!(files, ["x.tmp", "x.tmp.lock"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stalled clients (partial headers never finished, or connections that send nothing) cannot
/// wedge the server, even when there
/// are more of them than file descriptors: a connection cap keeps the emulator below the limit,
/// the header read timeout closes them, and a well-behaved request is answered. The log says,
/// once, that the cap held connections back.
#[test]
fn stalled_clients_do_not_wedge_the_server_under_a_low_descriptor_limit() {
    let dir = temp_dir("stalled");
    let log = dir.join("stderr");
    let mut sh = Command::new("sh");
    sh.args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\" 2>\"$LOG\"", BIN])
        .env("LOG", &log)
        .args(["--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0", "--clock", "manual"])
        .args(["--log-level", "warn", "--max-connections", "16", "--header-timeout-ms", "500"]);
    let e = spawn(sh);
    let mut stalled = Vec::new();
    for i in 0..90 {
        let mut s = TcpStream::connect(e.addr).unwrap();
        // Half send part of their headers, half nothing at all.
        if i % 2 == 0 {
            s.write_all(b"POST /things/stalled HTTP/1.1\r\nHost: x\r\nContent-Le").unwrap();
        }
        stalled.push(s);
    }
    let answered = request(e.addr, "POST", "/things/fine", "{}");
    assert_eq!(answered.map(|r| r.0), Some(200));
    // Every stalled connection was closed by the server (end of stream or a reset).
    for mut s in stalled {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(n) => assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"), "{n}"),
            Err(err) => assert!(
                !matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                "a stalled connection stayed open: {err}"
            ),
        }
    }
    assert_eq!(request(e.addr, "GET", "/things/stalled", "").map(|r| r.0), Some(404));
    let logged = std::fs::read_to_string(&log).unwrap();
    let warning = "every connection this listener serves at once is open (--max-connections)";
    assert_eq!(logged.matches(warning).count(), 1, "{logged}");
    assert!(logged.contains("max_connections=16"), "{logged}");
    drop(e);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An MQTT 3.1.1 CONNECT: clean session, no keep-alive (the connection may stay idle for ever),
/// client id `id`.
fn mqtt_connect(id: &str) -> Vec<u8> {
    let mut p = vec![0x10, u8::try_from(12 + id.len()).unwrap(), 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 0];
    p.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
    p.extend_from_slice(id.as_bytes());
    p
}

/// Idle MQTT clients do not starve the HTTP API of file descriptors: under a limit of 256, the
/// broker's default cap is lowered to what HTTP (16) and the emulator itself (32) leave, 208;
/// the clients beyond it are closed at once, and an HTTP request is answered while 208 are
/// held. (With the broker's cap at 10,000 it took every descriptor, and HTTP answered nothing
/// until a client left.) The log says so, and the refusals are logged at most once a second, not
/// once each.
#[test]
fn idle_mqtt_clients_do_not_starve_http_under_a_low_descriptor_limit() {
    let dir = temp_dir("idle-mqtt");
    let log = dir.join("stderr");
    let mut sh = Command::new("sh");
    sh.args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\" 2>\"$LOG\"", BIN])
        .env("LOG", &log)
        .args(["--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0", "--clock", "manual"])
        .args(["--log-level", "warn", "--max-connections", "16"]);
    let e = spawn(sh);
    let mqtt = e.mqtt.expect("no MQTT address");
    let (mut held, mut closed) = (Vec::new(), 0);
    for i in 0..300 {
        let mut s = TcpStream::connect(mqtt).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        // A refused connection may be closed before the CONNECT is written.
        let _ = s.write_all(&mqtt_connect(&format!("idle-{i}")));
        let mut ack = [0u8; 4];
        match s.read_exact(&mut ack) {
            Ok(()) => {
                assert_eq!(ack, [0x20, 2, 0, 0], "client {i}");
                held.push(s);
            }
            Err(err) => {
                assert!(
                    !matches!(err.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                    "client {i} was neither answered nor closed: {err}"
                );
                closed += 1;
            }
        }
    }
    assert_eq!((held.len(), closed), (208, 92));
    assert_eq!(request(e.addr, "POST", "/things/fine", "{}").map(|r| r.0), Some(200));
    // One leaves: once the broker has seen it go, the next one is taken.
    drop(held.pop());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut s = TcpStream::connect(mqtt).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let _ = s.write_all(&mqtt_connect("next"));
        let mut ack = [0u8; 4];
        if s.read_exact(&mut ack).is_ok() {
            assert_eq!(ack, [0x20, 2, 0, 0]);
            break;
        }
        assert!(Instant::now() < deadline, "no room for a client after one left");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(e);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("leaves room for 208 MQTT connections (not 10000)"), "{log}");
    let warnings = log.matches("208 MQTT connections are open").count();
    assert!((1..92).contains(&warnings), "{warnings} warnings for 92 refusals: {log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Connection caps that cannot fit under the hard file-descriptor limit stop the start with the
/// numbers and what to change; the default MQTT cap alone shrinks (above).
#[test]
fn connection_caps_beyond_the_descriptor_limit_stop_the_start_with_the_numbers() {
    let too_many: [(&[&str], &str); 2] = [
        (&["--max-connections", "16", "--mqtt-max-connections", "300"], "348"),
        (&["--max-connections", "300"], "10332"),
    ];
    for (caps, needed) in too_many {
        let mut sh = Command::new("sh");
        sh.args(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", BIN]).args(BASE_ARGS).args(caps);
        let out = sh.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{caps:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("need {needed} file descriptors")), "{caps:?}: {err}");
        assert!(err.contains("the limit is 256 (hard limit 256)") && err.contains("ulimit -n"), "{err}");
    }
}

/// SIGTERM finishes within a bounded time although clients hold partial requests (headers,
/// a body) and an idle connection, with read timeouts far longer than the test, and it saves
/// the state.
#[test]
fn sigterm_finishes_while_clients_hold_partial_requests() {
    let dir = temp_dir("sigterm");
    let path = dir.join("state.json");
    let mut args = state_args(&path);
    args.extend(
        ["--header-timeout-ms", "600000", "--body-timeout-ms", "600000", "--shutdown-timeout-ms", "500"]
            .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut e = spawn(emulator(&args));
    assert_eq!(request(e.addr, "POST", "/things/kept", "{}").map(|r| r.0), Some(200));
    let mut head = TcpStream::connect(e.addr).unwrap();
    head.write_all(b"POST /things/h HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut body = TcpStream::connect(e.addr).unwrap();
    body.write_all(b"POST /things/b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"attr").unwrap();
    let idle = TcpStream::connect(e.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = e.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_exit(&mut e.child, PATIENCE);
    assert!(status.is_some_and(|s| s.success()), "SIGTERM did not finish cleanly: {status:?}");
    drop((head, body, idle));
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("\"kept\""), "{saved}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A second SIGTERM (a second or more after the first) stops at once (status 130) instead of
/// waiting `--shutdown-timeout-ms` for a client that holds a partial request; what was
/// acknowledged is recovered from the journal. Standard input's end and a SIGTERM together, as
/// the Python package's `stop()` sends them, are one graceful stop.
#[test]
fn a_second_sigterm_stops_at_once() {
    let dir = temp_dir("sigterm-twice");
    let path = dir.join("state.json");
    let mut args = state_args(&path);
    args.extend(["--header-timeout-ms", "600000", "--shutdown-timeout-ms", "600000"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut e = spawn(emulator(&args));
    assert_eq!(request(e.addr, "POST", "/things/kept", "{}").map(|r| r.0), Some(200));
    let mut head = TcpStream::connect(e.addr).unwrap();
    head.write_all(b"POST /things/h HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = e.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // The first waits for the partial request (600 s here); a repeat within a second is the
    // same request to stop.
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(wait_exit(&mut e.child, Duration::from_millis(1200)).is_none(), "stopped without waiting");
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_exit(&mut e.child, PATIENCE);
    assert_eq!(status.and_then(|s| s.code()), Some(130), "{status:?}");
    drop(head);
    let again = spawn(emulator(&args));
    assert_eq!(request(again.addr, "GET", "/things/kept", "").map(|r| r.0), Some(200));
    drop(again);

    let mut command = emulator(&args);
    command.arg("--stop-on-stdin-eof").stdin(Stdio::piped());
    let mut e = spawn(command);
    drop(e.child.stdin.take());
    let pid = e.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_exit(&mut e.child, PATIENCE);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Caps too large to allocate, or beyond what a table of the registry can hold: a clear error
/// and a non-zero exit, not an abort, and not tables silently smaller than the caps.
#[test]
fn huge_caps_fail_with_a_clear_error_not_an_abort() {
    let beyond = (iot_jobs_core::registry::MAX_ENTRIES + 1).to_string();
    for (flag, cap) in [
        ("--max-executions", "1000000000000000"),
        ("--max-executions", &usize::MAX.to_string()),
        ("--max-executions", &beyond),
        ("--max-things", &beyond),
        ("--max-status-details", &beyond),
    ] {
        let out = emulator(&[flag, cap]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag} {cap}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{flag} {cap}")) && err.contains("lower it"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A negative number is a flag's value, refused naming the flag and the value (exit 2), not
/// taken for an unknown argument.
#[test]
fn a_negative_number_is_refused_as_the_value_of_its_flag() {
    for (flag, value) in [("--max-jobs", "-1"), ("--deletion-delay", "-5"), ("--max-connections", "-0")] {
        let out = emulator(&[flag, value]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("invalid value '{value}' for '{flag} ")), "{err}");
    }
}

/// `--max-state-bytes`: a byte count up to the largest a journal record holds, or exit 2 saying
/// why; the limit set is the one `POST /_emulator/state` answers 413 past, naming the flag.
#[test]
fn the_state_limit_flag_is_bounded_and_applied() {
    let largest = iot_jobs_emulator::MAX_STATE_LIMIT.to_string();
    let beyond = (iot_jobs_emulator::MAX_STATE_LIMIT + 1).to_string();
    for (value, words) in [(beyond.as_str(), "is more than 1065353216"), ("x", "is not a byte count")] {
        let mut child = emulator(&["--max-state-bytes", value])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_exit(&mut child, PATIENCE);
        if status.is_none() {
            let _ = child.kill();
        }
        assert_eq!(status.and_then(|s| s.code()), Some(2), "--max-state-bytes {value} was taken");
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert!(err.contains("--max-state-bytes") && err.contains(words), "{err}");
    }
    for (limit, body, status) in
        [(largest.as_str(), "{}", 400), ("10", "{}", 400), ("10", "not a snapshot", 413)]
    {
        let e = spawn(emulator(&["--max-state-bytes", limit]));
        let (got, answer) = request(e.addr, "POST", "/_emulator/state", body).unwrap();
        assert_eq!(got, status, "{limit}: {answer}");
        if status == 413 {
            assert!(answer.contains("larger than 10 bytes (--max-state-bytes)"), "{answer}");
        }
    }
}

// ---- crash torture ---------------------------------------------------------------------------------

/// A data-plane `Authorization` header.
const DATA: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot-jobs-data/aws4_request, SignedHeaders=host, Signature=00";

/// What one writer knows: the changes acknowledged to it, and the one it had in flight when
/// the emulator was killed (sent, no answer).
#[derive(Debug, Default, Clone)]
struct Writer {
    /// The writer's thing `t{w}`: the last statusDetails `n` acknowledged (its execution of job
    /// `j` then has version `n + 1`: version 1 when queued, one more per accepted update).
    n: u64,
    /// Things `w{w}-{k}` whose creation was acknowledged.
    created: Vec<String>,
    /// The update (`n`) or creation in flight at the kill, if any.
    update_in_flight: Option<u64>,
    create_in_flight: Option<String>,
}

/// A tiny deterministic generator (xorshift64), for kill moments that vary between rounds
/// and runs of the test alike.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// An MQTT writer: updates its execution over `$aws/things/t{w}/jobs/j/update` until `stop` or
/// until the connection dies (then the update sent and not answered is in flight).
fn mqtt_writer(
    mqtt: SocketAddr,
    w: usize,
    round: u64,
    model: &mut Writer,
    stop: &std::sync::atomic::AtomicBool,
) {
    use rumqttc::{Event, MqttOptions, Packet, QoS};
    let mut options = MqttOptions::new(format!("t{w}-{round}"), mqtt.ip().to_string(), mqtt.port());
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut connection) = rumqttc::Client::new(options, 16);
    let topic = format!("$aws/things/t{w}/jobs/j/update");
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let n = model.n + 1;
        let body =
            format!(r#"{{"status":"IN_PROGRESS","statusDetails":{{"n":"{n}"}},"expectedVersion":{n}}}"#);
        if client.publish(&topic, QoS::AtLeastOnce, false, body).is_err() {
            return;
        }
        model.update_in_flight = Some(n);
        loop {
            match connection.recv_timeout(PATIENCE) {
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) if p.topic == format!("{topic}/accepted") => {
                    model.n = n;
                    model.update_in_flight = None;
                    break;
                }
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) if p.topic == format!("{topic}/rejected") => {
                    panic!("MQTT writer {w}: update {n} refused: {}", String::from_utf8_lossy(&p.payload))
                }
                Ok(Ok(_)) => {}
                // The connection died (the kill): the update stays in flight.
                Ok(Err(_)) | Err(_) => return,
            }
        }
    }
}

/// Crash torture of the journal: concurrent writers over HTTP (six: each updating its own
/// execution with `expectedVersion` and creating things) and MQTT (two: updating their own
/// executions with `expectedVersion`), while the emulator is SIGKILLed at a random
/// moment, 24 rounds, with a checkpoint every 64 changes (so kills also land during
/// checkpoints). After every restart, the state is exactly the replay of the acknowledged
/// changes plus, per writer, at most the one change it had in flight (sent, unanswered):
/// - each writer's execution has `statusDetails.n` equal to its last acknowledged `n`, or to
///   the `n` in flight; its version is `n + 1` (no update lost, none applied twice);
/// - every acknowledged thing exists, a thing in flight may, and no other thing does (the
///   thing count is the setup's plus the acknowledged plus the in-flight ones found).
#[test]
fn acknowledged_changes_survive_sigkills_at_random_moments() {
    const WRITERS: usize = 8;
    // Writers from this one on update over MQTT (and create no things).
    const FIRST_MQTT: usize = 6;
    const ROUNDS: u64 = 24;
    let dir = temp_dir("torture");
    let path = dir.join("state.json");
    let mut args = state_args(&path);
    args.extend(["--checkpoint-records".into(), "64".into(), "--checkpoint-growth".into(), "0".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    {
        let e = spawn(emulator(&args));
        let mut targets = Vec::new();
        for w in 0..WRITERS {
            assert_eq!(request(e.addr, "POST", &format!("/things/t{w}"), "{}").map(|r| r.0), Some(200));
            targets.push(format!("\"{ARN}:thing/t{w}\""));
        }
        let job = format!(r#"{{"targets":[{}],"document":"{{}}"}}"#, targets.join(","));
        assert_eq!(request(e.addr, "PUT", "/jobs/j", &job).map(|r| r.0), Some(200));
    }
    let mut writers = vec![Writer::default(); WRITERS];
    let mut random = 0x9e37_79b9_7f4a_7c15_u64;
    let mut kills = 0;
    for round in 0..ROUNDS {
        let mut e = spawn(emulator(&args));
        let mut things = WRITERS;
        for (w, model) in writers.iter_mut().enumerate() {
            let (status, body) = request(e.addr, "GET", &format!("/things/t{w}/jobs/j"), "").unwrap();
            assert_eq!(status, 200, "round {round}: {body}");
            let got: serde_json::Value = serde_json::from_str(&body).unwrap();
            let n: u64 = got["execution"]["statusDetails"]["detailsMap"]["n"]
                .as_str()
                .map_or(0, |s| s.parse().unwrap());
            let version = got["execution"]["versionNumber"].as_u64().unwrap();
            assert!(
                n == model.n || Some(n) == model.update_in_flight,
                "round {round}, writer {w}: n {n}, acknowledged {}, in flight {:?}",
                model.n,
                model.update_in_flight
            );
            assert_eq!(version, n + 1, "round {round}, writer {w}: version {version} after update {n}");
            model.n = n;
            model.update_in_flight = None;
            for name in &model.created {
                let got = request(e.addr, "GET", &format!("/things/{name}"), "").map(|r| r.0);
                assert_eq!(got, Some(200), "round {round}: thing {name} was acknowledged, then lost");
            }
            if let Some(name) = model.create_in_flight.take()
                && request(e.addr, "GET", &format!("/things/{name}"), "").map(|r| r.0) == Some(200)
            {
                model.created.push(name);
            }
            things += model.created.len();
        }
        let (_, stats) = request(e.addr, "GET", "/_emulator/stats", "").unwrap();
        let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
        assert_eq!(stats["usage"]["things"].as_u64(), Some(things as u64), "round {round}: {stats}");

        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (addr, mqtt) = (e.addr, e.mqtt.unwrap());
        let handles: Vec<_> = writers
            .iter()
            .cloned()
            .enumerate()
            .map(|(w, mut model)| {
                let stop = std::sync::Arc::clone(&stop);
                std::thread::spawn(move || {
                    if w >= FIRST_MQTT {
                        mqtt_writer(mqtt, w, round, &mut model, &stop);
                        return model;
                    }
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let n = model.n + 1;
                        let body = format!(
                            r#"{{"status":"IN_PROGRESS","statusDetails":{{"n":"{n}"}},"expectedVersion":{}}}"#,
                            model.n + 1
                        );
                        match request_signed(addr, DATA, "POST", &format!("/things/t{w}/jobs/j"), &body) {
                            Some((200, _)) => model.n = n,
                            Some(other) => panic!("writer {w}: update {n} refused: {other:?}"),
                            None => {
                                model.update_in_flight = Some(n);
                                break;
                            }
                        }
                        let name = format!("w{w}-r{round}-{n}");
                        match request(addr, "POST", &format!("/things/{name}"), "{}") {
                            Some((200, _)) => model.created.push(name),
                            Some(other) => panic!("writer {w}: thing {name} refused: {other:?}"),
                            None => {
                                model.create_in_flight = Some(name);
                                break;
                            }
                        }
                    }
                    model
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + next_random(&mut random) % 300));
        e.child.kill().unwrap();
        e.child.wait().unwrap();
        kills += 1;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writers = handles.into_iter().map(|h| h.join().unwrap()).collect();
    }
    let acknowledged: usize = writers.iter().map(|w| w.n as usize + w.created.len()).sum();
    let over_mqtt: u64 = writers[FIRST_MQTT..].iter().map(|w| w.n).sum();
    assert!(acknowledged > 100, "only {acknowledged} changes acknowledged in {kills} rounds");
    assert!(writers[FIRST_MQTT..].iter().all(|w| w.n > 10), "MQTT writers: {:?}", &writers[FIRST_MQTT..]);
    eprintln!(
        "crash torture: {ROUNDS} rounds, {kills} SIGKILLs, {acknowledged} acknowledged changes checked \
         ({over_mqtt} over MQTT)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A journal write that fails after its change was applied in memory (the segment's next
/// allocation passes the file-size limit, `prlimit --fsize`: `EFBIG`) answers 503 naming the segment and the
/// cause, and the state goes back to the records on disk: the refused change is not in memory,
/// later changes are refused too, the acknowledged ones stay; a restart without the limit cuts
/// the torn record and has exactly the acknowledged changes.
#[test]
fn a_journal_write_that_fails_after_its_change_rolls_the_state_back() {
    let dir = temp_dir("efbig");
    let path = dir.join("state.json");
    let state = path.to_str().unwrap();
    let journal =
        ["--checkpoint-records", "1000000", "--checkpoint-growth", "0", "--checkpoint-seconds", "3600"];
    // A segment is allocated 1 MiB at a time (`journal::PREALLOCATE`): the first fits under the
    // limit, the second does not. SIGXFSZ is ignored (the disposition survives exec), so the
    // write past the limit fails instead of killing the process.
    let mut sh = Command::new("prlimit");
    sh.args(["--fsize=1572864", "sh", "-c", "trap '' XFSZ && exec \"$0\" \"$@\"", BIN])
        .args(BASE_ARGS)
        .args(["--state-file", state])
        .args(journal);
    let e = spawn(sh);
    let attributes: String =
        (0..3).map(|i| format!(r#""a{i}":"{}""#, "v".repeat(800))).collect::<Vec<_>>().join(",");
    let body = format!(r#"{{"attributePayload":{{"attributes":{{{attributes}}}}}}}"#);
    let mut acknowledged = Vec::new();
    let refused = loop {
        let name = format!("t{}", acknowledged.len());
        let (status, answer) = request(e.addr, "POST", &format!("/things/{name}"), &body).unwrap();
        match status {
            200 => acknowledged.push(name),
            _ => break (name, status, answer),
        }
        assert!(acknowledged.len() < 2_000, "no write failed under a file-size limit of 1.5 MiB");
    };
    let (name, status, answer) = refused;
    assert_eq!(status, 503, "{answer}");
    assert!(answer.contains("ServiceUnavailableException") && answer.contains("File too large"), "{answer}");
    assert!(answer.contains(dir.to_str().unwrap()), "{answer}");
    assert!(!acknowledged.is_empty());
    // Nothing of the refused change is in memory; a later change is refused, reads go on.
    assert_eq!(request(e.addr, "GET", &format!("/things/{name}"), "").map(|r| r.0), Some(404));
    assert_eq!(request(e.addr, "POST", "/things/later", "{}").map(|r| r.0), Some(503));
    for t in &acknowledged {
        assert_eq!(request(e.addr, "GET", &format!("/things/{t}"), "").map(|r| r.0), Some(200), "{t}");
    }
    drop(e);
    let again = spawn(emulator(&["--state-file", state]));
    for t in &acknowledged {
        assert_eq!(request(again.addr, "GET", &format!("/things/{t}"), "").map(|r| r.0), Some(200), "{t}");
    }
    let (status, stats) = request(again.addr, "GET", "/_emulator/stats", "").unwrap();
    assert_eq!(status, 200, "{stats}");
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        stats["usage"]["things"].as_u64(),
        u64::try_from(acknowledged.len()).ok(),
        "{}",
        stats["usage"]
    );
    drop(again);
    let _ = std::fs::remove_dir_all(&dir);
}
