//! Every node limit at its boundary: the limit passes, one more is refused with its code.

use ebl_core::testkit::{self, key};
use ebl_core::{Action, Hash, PartyKey, PartyProfile, Role, Roles};
use ebl_node::limits::{BATCH_TRANSACTIONS_MAX, REQUEST_BODY_BYTES_MAX};
use ebl_node::Settings;

use crate::support::{assert_accepted, TestNode};

/// `n` chained registrations, each extending the one before: valid as one batch.
fn registrations(node: &mut TestNode, n: usize) -> Vec<ebl_core::SignedTransaction> {
    let operator = node.cast.operator.clone();
    let mut prev = serde_json::from_value::<ebl_core::api::Head>(node.get("/v1/head").1)
        .map(|_| ())
        .ok();
    let _ = prev.take();
    let registry = node
        .get_as("/v1/registry/history", &node.cast.operator.clone())
        .1;
    let mut head: Hash = registry
        .as_array()
        .and_then(|a| a.last())
        .and_then(|e| e["receipt"]["tx"].as_str())
        .and_then(|h| h.parse().ok())
        .unwrap_or(node.chain);
    (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1_000).to_le_bytes());
            let k = ebl_core::SigningKey::from_bytes(&seed);
            let action = Action::RegisterParty {
                key: PartyKey::of(&k),
                profile: PartyProfile {
                    name: format!("Trader {i}"),
                    roles: Roles::new(&[Role::Trader]).expect("roles"),
                    identifiers: vec![],
                },
            };
            let tx = node.sign(head, action, &[&operator]);
            head = tx.id();
            tx
        })
        .collect()
}

#[test]
fn batch_size_limit() {
    let mut node = TestNode::start();
    let txs = registrations(&mut node, BATCH_TRANSACTIONS_MAX + 1);
    let (status, body) = node.batch(&txs).expect_err("one over the limit");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("batch_size"))
    );
    let results = node
        .batch(&txs[..BATCH_TRANSACTIONS_MAX])
        .expect("at the limit");
    assert_eq!(results.len(), BATCH_TRANSACTIONS_MAX);
    results.iter().for_each(assert_accepted);
}

#[test]
fn request_body_limit() {
    let node = TestNode::start();
    let at_limit = vec![b' '; REQUEST_BODY_BYTES_MAX];
    let (status, body) = node.post_raw("/v1/transactions", "application/json", &at_limit);
    // At the limit the body is read and parsed (and is not JSON); one byte more is refused unread.
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let over = vec![b' '; REQUEST_BODY_BYTES_MAX + 1];
    let (status, body) = node.post_raw("/v1/transactions", "application/json", &over);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    assert_eq!(node.get("/v1/health").0, 200, "the node keeps serving");
}

#[test]
fn regression_a_refused_oversized_body_closes_its_connection_cleanly() {
    // A 413 leaves the unread body on the connection: the answer must say so (`connection: close`)
    // instead of letting a keep-alive client send its next request into a reset. The PINT receiver
    // too (issue 16: a sending platform's keep-alive connection broke), whose answers also name the
    // API version.
    use std::io::{Read, Write};
    let node = TestNode::start();
    let address = node.base.trim_start_matches("http://").to_owned();
    for path in ["/v1/transactions", "/v3/envelopes"] {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        let length = REQUEST_BODY_BYTES_MAX + 1;
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: keep-alive\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("head");
        // The whole body, from another thread: the node stops reading it at the limit and answers.
        let mut writer = stream.try_clone().expect("clone");
        let sender = std::thread::spawn(move || {
            let _ = writer.write_all(&vec![b' '; length]);
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = sender.join();
        let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        assert!(text.starts_with("http/1.1 413"), "{path}: {text}");
        assert!(text.contains("connection: close"), "{path}: {text}");
        if path.starts_with("/v3") {
            assert!(text.contains("api-version: 3.0.0"), "{text}");
        }
        assert_eq!(node.get("/v1/health").0, 200, "the node keeps serving");
    }
}

#[test]
fn pending_queue_limit_gives_back_pressure() {
    let mut node = TestNode::start_with(Settings {
        pending_transactions_max: 8,
        ..Settings::default()
    });
    let txs = registrations(&mut node, 9);
    let (status, body) = node.batch(&txs).expect_err("more than the queue holds");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("queue_full"))
    );
    let results = node.batch(&txs[..8]).expect("exactly the queue");
    results.iter().for_each(assert_accepted);
}

#[test]
fn document_and_field_limits_hold_through_the_api() {
    let mut node = TestNode::start();
    let carrier = node.cast.carrier.key.clone();
    let shipper = node.cast.shipper.id;
    let max = ebl_core::limits::DOCUMENT_REFERENCE_BYTES_MAX;
    let issue = |reference: &str| Action::Issue {
        document: testkit::to_order_document(reference).expect("document"),
        issue_to: shipper,
        shipper,
        consignee: None,
        replaces: None,
    };
    let ok = node.sign(Hash::ZERO, issue(&"R".repeat(max)), &[&carrier]);
    assert_accepted(&node.submit(&ok));
    // A document over the reference limit cannot even be built, so send its JSON by hand.
    let mut json =
        serde_json::to_value(node.sign(Hash::ZERO, issue("SHORT"), &[&carrier])).expect("json");
    json["body"]["action"]["ISSUE"]["document"]["transportDocumentReference"] =
        "R".repeat(max + 1).into();
    let (status, body) = node.post_raw(
        "/v1/transactions",
        "application/json",
        &serde_json::to_vec(&json).expect("json"),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("transportDocumentReference")),
        "{body}"
    );
    // A weak key at registration is refused before it reaches the registry.
    let mut json = serde_json::to_value(node.sign(
        node.chain,
        node.cast.buyer.registration().expect("reg"),
        &[&key(1)],
    ))
    .expect("json");
    let mut identity = [0u8; 32];
    identity[0] = 1;
    json["body"]["action"]["REGISTER_PARTY"]["key"] = ebl_core::bytes::to_hex(&identity).into();
    let (status, body) = node.post_raw(
        "/v1/transactions",
        "application/json",
        &serde_json::to_vec(&json).expect("json"),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("weak")),
        "{body}"
    );
}

#[test]
fn connection_limit_queues_the_next_connection_until_one_closes() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("dir");
    let data = ebl_node::DataDir(dir.path().to_owned());
    ebl_node::init(&data, "limits", ebl_core::PartyKey::of(&key(1)), "EBL").expect("init");
    let node = ebl_node::LocalNode::open(
        &data,
        Settings {
            connections_max: 3,
            ..Settings::default()
        },
    )
    .expect("open");
    let addr = node.url.trim_start_matches("http://").to_owned();
    let request = |s: &mut std::net::TcpStream| -> std::io::Result<String> {
        s.set_read_timeout(Some(std::time::Duration::from_millis(800)))?;
        s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    };
    // Three clients keep their connections open (HTTP/1.1 keep-alive) after one request each.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        assert!(request(&mut s)
            .expect("served under the limit")
            .starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    // At the limit, a fourth connection waits: it is not served.
    let mut waiting = std::net::TcpStream::connect(&addr).expect("the kernel queues it");
    assert!(
        request(&mut waiting).is_err(),
        "a connection was served past the limit"
    );
    // One closes: the waiting connection is accepted and served.
    held.pop();
    let mut buf = [0u8; 64];
    waiting
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let n = waiting.read(&mut buf).expect("served once a slot is free");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[test]
fn a_request_slower_than_the_timeout_is_cut_off() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("dir");
    let data = ebl_node::DataDir(dir.path().to_owned());
    ebl_node::init(&data, "limits", ebl_core::PartyKey::of(&key(1)), "EBL").expect("init");
    let node = ebl_node::LocalNode::open(
        &data,
        Settings {
            request_timeout_ms: 300,
            ..Settings::default()
        },
    )
    .expect("open");
    let addr = node.url.trim_start_matches("http://").to_owned();
    // A body promised but sent too slowly: the node answers 408 instead of waiting for ever.
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    slow.write_all(b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{").expect("write");
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    // Within the limit, requests are served.
    assert_health_answers(&addr);
}

/// An honest `GET /v1/health` on a new raw connection to `addr` is answered 200.
#[track_caller]
fn assert_health_answers(addr: &str) {
    use std::io::{Read, Write};
    let mut fast = std::net::TcpStream::connect(addr).expect("connect");
    fast.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    fast.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut buf = [0u8; 32];
    let n = fast.read(&mut buf).expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

/// Issue 13: 520 idle connections, or connections that sent half a request header and stopped, made
/// every honest request fail, and the node closed none of them.
#[test]
fn regression_idle_and_half_header_connections_lock_nobody_out() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("dir");
    let data = ebl_node::DataDir(dir.path().to_owned());
    ebl_node::init(&data, "limits", ebl_core::PartyKey::of(&key(1)), "EBL").expect("init");
    let idle_ms = 1_500;
    let node = ebl_node::LocalNode::open(
        &data,
        Settings {
            connection_idle_ms: idle_ms,
            ..Settings::default()
        },
    )
    .expect("open");
    let addr: std::net::SocketAddr = node
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    // The attacker, from 127.0.0.1: half of the connections idle, half with half a header.
    let mut bad = Vec::new();
    for i in 0..520_u32 {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        if i.is_multiple_of(2) {
            let _ = s.write_all(b"GET /v1/health HTTP/1.1\r\nHo");
        }
        bad.push(s);
    }
    // An honest client from another address is answered within a second, throughout.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let honest = || {
        let started = Instant::now();
        let socket = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket
                .bind("127.0.0.2:0".parse().expect("address"))
                .expect("bind 127.0.0.2");
            tokio::time::timeout(Duration::from_secs(1), socket.connect(addr))
                .await
                .expect("connected within 1 s")
                .expect("connect")
        });
        let mut s = socket.into_std().expect("std stream");
        s.set_nonblocking(false).expect("blocking");
        s.set_read_timeout(Some(Duration::from_secs(1)))
            .expect("timeout");
        s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("answered within 1 s");
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
        started.elapsed()
    };
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        let took = honest();
        assert!(took < Duration::from_secs(1));
        slowest = slowest.max(took);
        std::thread::sleep(Duration::from_millis(300));
    }
    eprintln!("honest request under 520 bad connections: slowest {slowest:?}");
    // Once the idle timeout passes, the node has closed every one of the attacker's connections.
    std::thread::sleep(Duration::from_millis(idle_ms + 1_000));
    let mut open = 0;
    for s in &mut bad {
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let mut buf = [0u8; 256];
        match s.read(&mut buf) {
            // Closed (0), or answered and closed: the half header may get an error answer first.
            Ok(0) => {}
            Ok(_) => {
                if !matches!(s.read(&mut buf), Ok(0) | Err(_)) {
                    open += 1;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => open += 1,
            Err(_) => {}
        }
    }
    assert_eq!(open, 0, "connections still open past the idle timeout");
    assert!(honest() < Duration::from_secs(1));
}

/// Issue 13: a client that trickles its header a byte at a time is never idle, so the idle timeout
/// never cut it; the header-read timeout does, however often a byte arrives.
#[test]
fn regression_a_header_trickled_byte_by_byte_is_cut_at_the_header_timeout() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("dir");
    let data = ebl_node::DataDir(dir.path().to_owned());
    ebl_node::init(&data, "limits", ebl_core::PartyKey::of(&key(1)), "EBL").expect("init");
    let header_read_ms = 1_000;
    let node = ebl_node::LocalNode::open(
        &data,
        Settings {
            header_read_ms,
            ..Settings::default()
        },
    )
    .expect("open");
    let addr = node.url.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let started = Instant::now();
    let header = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let mut cut = None;
    // A byte every 100 ms, well inside the idle timeout, for up to five header timeouts.
    for byte in header.iter().chain(std::iter::repeat(&b'a')) {
        if started.elapsed() > Duration::from_millis(header_read_ms * 5) {
            break;
        }
        if slow.write_all(&[*byte]).is_err() {
            cut = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 256];
        match slow.read(&mut buf) {
            Ok(0) => {
                cut = Some(started.elapsed());
                break;
            }
            // An error answer (408) before the close counts as cut too.
            Ok(_) => {
                cut = Some(started.elapsed());
                break;
            }
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cut = cut.expect("the trickling connection was never closed");
    eprintln!("trickled header cut after {cut:?} (header timeout {header_read_ms} ms)");
    assert!(
        cut >= Duration::from_millis(header_read_ms - 100),
        "{cut:?}"
    );
    assert!(cut < Duration::from_millis(header_read_ms * 3), "{cut:?}");
    // An honest request on a new connection is answered.
    assert_health_answers(&addr);
}

/// Issue 13: early refusals left keep-alive clients with a broken connection. Headers larger than the
/// node reads are answered 431 and the connection closed; a 503 (the queue is full) says
/// `connection: close`, so the client comes back on a new connection.
#[test]
fn regression_early_refusals_answer_and_close_cleanly() {
    use std::io::{Read, Write};
    let mut node = TestNode::start_with(Settings {
        pending_transactions_max: 8,
        ..Settings::default()
    });
    let address = node.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let huge = "a".repeat(1024 * 1024);
    let head = format!("GET /v1/health HTTP/1.1\r\nhost: x\r\nx-big: {huge}\r\n\r\n");
    let writer = {
        let mut w = stream.try_clone().expect("clone");
        std::thread::spawn(move || {
            let _ = w.write_all(head.as_bytes());
        })
    };
    let mut answer = Vec::new();
    // Read to the end: the node answers and then closes (a read timeout here would fail).
    stream
        .read_to_end(&mut answer)
        .expect("answered, then closed");
    let _ = writer.join();
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 431"), "{text}");
    let txs = registrations(&mut node, 9);
    let (status, body) = node.batch(&txs).expect_err("more than the queue holds");
    assert_eq!(status, 503, "{body}");
    let body = serde_json::to_vec(&serde_json::json!({ "transactions": txs })).expect("json");
    let mut s = std::net::TcpStream::connect(&address).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "POST /v1/batches HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .expect("head");
    s.write_all(&body).expect("body");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("answered, then closed");
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 503"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    assert_eq!(node.get("/v1/health").0, 200, "the node keeps serving");
}

/// The header deadline covers a TLS handshake too: a client that opens TLS and stops is closed at it,
/// not held until the idle timeout.
#[test]
fn a_stalled_tls_handshake_is_cut_at_the_header_timeout() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().expect("dir");
    let data = ebl_node::DataDir(dir.path().to_owned());
    ebl_node::init(&data, "limits", ebl_core::PartyKey::of(&key(1)), "EBL").expect("init");
    ebl_node::tls::write_self_signed(
        &data.tls_cert(),
        &data.tls_key(),
        &ebl_node::tls::default_names(),
        None,
    )
    .expect("certificate");
    let tls = ebl_node::tls::server_config(&data.tls_cert(), &data.tls_key()).expect("tls");
    let header_read_ms = 1_000;
    let running = ebl_node::open_with(
        &data,
        Settings {
            header_read_ms,
            ..Settings::default()
        },
    )
    .expect("open");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = runtime.spawn(ebl_node::serve(listener, None, running, Some(tls), async {
        let _ = stopped.await;
    }));
    let mut stalled = std::net::TcpStream::connect(addr).expect("connect");
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The first bytes of a TLS record header, then nothing.
    stalled.write_all(&[0x16, 0x03, 0x01]).expect("write");
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let closed = matches!(stalled.read(&mut buf), Ok(0) | Err(_));
    let took = started.elapsed();
    assert!(closed, "the stalled handshake got an answer");
    assert!(
        took >= Duration::from_millis(header_read_ms - 100),
        "{took:?}"
    );
    assert!(took < Duration::from_millis(header_read_ms * 3), "{took:?}");
    let _ = stop.send(());
    runtime.block_on(served).expect("joined").expect("served");
}
