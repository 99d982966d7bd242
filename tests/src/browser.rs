//! A real browser for the web app's tests: headless Chromium driven by `chromedriver` over the W3C
//! WebDriver protocol (plain HTTP + JSON on 127.0.0.1), and the `ebl ui` process it talks to.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a test waits for a page or an element before it fails.
pub const WAIT_MS: u64 = 20_000;

/// Where screenshots go: `target/ui-screenshots/`, kept as test artifacts.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// RFC 4648 base64 (with padding), as WebDriver sends screenshots.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// A running `chromedriver`, stopped by its PID when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Driver {
    /// Starts `chromedriver` (Debian's `chromium-driver`, which `.ci/run` installs).
    pub fn start() -> Driver {
        let port = crate::ports::free_port();
        let program = ["chromedriver", "/usr/bin/chromedriver"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .status()
                    .is_ok()
            })
            .expect("chromedriver is not installed: apt-get install chromium chromium-driver");
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let started = Instant::now();
        while driver.call("GET", "/status", None).is_err() {
            assert!(
                started.elapsed() < Duration::from_millis(WAIT_MS),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({}))),
        }
        .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let value: Value = response
            .into_body()
            .read_json()
            .map_err(|e| e.to_string())?;
        if status >= 400 {
            return Err(format!("{method} {path}: {status} {}", value["value"]));
        }
        Ok(value["value"].clone())
    }

    /// A new headless browser window, 1280 wide, with a profile of its own.
    pub fn session(&self, profile: &Path) -> Session<'_> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1800", "--lang=en-US", "--no-first-run",
                         format!("--user-data-dir={}", profile.display())],
                "prefs": {"intl.accept_languages": "en-US,en"}
            }
        }}});
        let value = self
            .call("POST", "/session", Some(caps))
            .expect("a browser session");
        let id = value["sessionId"].as_str().expect("session id").to_owned();
        Session { driver: self, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window.
#[derive(Debug)]
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .expect("navigate");
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .expect("url")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
        .collect()
    }

    /// The first element matching `css`, waiting for it to appear (pages load after a submit).
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find_all(css).into_iter().next() {
                return e;
            }
            assert!(
                started.elapsed() < Duration::from_millis(WAIT_MS),
                "no element {css:?} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, e: &Element) -> String {
        self.call("GET", &format!("/element/{}/text", e.0), None)
            .expect("text")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// The text of the first element matching `css`.
    #[track_caller]
    pub fn text_of(&self, css: &str) -> String {
        let e = self.find(css);
        self.text(&e)
    }

    pub fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.call("GET", &format!("/element/{}/attribute/{name}", e.0), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// A DOM property of an element (`value` of a field or select, as the form will send it).
    pub fn property(&self, e: &Element, name: &str) -> Option<String> {
        self.call("GET", &format!("/element/{}/property/{name}", e.0), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    pub fn click(&self, e: &Element) {
        self.call("POST", &format!("/element/{}/click", e.0), Some(json!({})))
            .expect("click");
    }

    /// Types into a field; for a file input, `text` is the file's path.
    pub fn type_into(&self, e: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        )
        .expect("type");
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .expect("script")
    }

    /// What in `main` reaches past the window's right edge, outside the timeline's own scrolling box
    /// (which scrolls sideways by design): each as `tag.class "text"`.
    pub fn off_screen(&self) -> Vec<String> {
        let found = self.execute(
            r#"const width = document.documentElement.clientWidth; const out = [];
             for (const e of document.querySelectorAll('main *')) {
               if (e.closest('.timeline-scroll')) continue;
               const r = e.getBoundingClientRect();
               if (r.width > 0 && r.right > width + 1)
                 out.push(e.tagName.toLowerCase() + '.' + e.className + ' "' + (e.textContent || '').trim().slice(0, 40) + '"');
             }
             return out;"#,
        );
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The browser's cookies for the current page, as a `Cookie` header would carry them: for a download
    /// the test fetches itself, with the session the page has.
    pub fn cookie_header(&self) -> String {
        self.call("GET", "/cookie", None)
            .expect("cookies")
            .as_array()
            .map(|cookies| {
                cookies
                    .iter()
                    .map(|c| {
                        format!(
                            "{}={}",
                            c["name"].as_str().unwrap_or(""),
                            c["value"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    /// The page's whole HTML.
    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .expect("source")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Saves a PNG of the window as `target/ui-screenshots/<name>.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call("GET", "/screenshot", None).expect("screenshot");
        let png = base64_decode(data.as_str().expect("base64")).expect("PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Resizes the window (phone width, for one).
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .expect("resize");
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
    }
}

/// A running `ebl ui`, stopped by its PID when dropped.
#[cfg(test)]
mod tests {
    #[test]
    fn base64_reads_what_rfc_4648_writes() {
        assert_eq!(
            super::base64_decode("Zm9vYmFy").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(
            super::base64_decode("Zm9vYg==").as_deref(),
            Some(&b"foob"[..])
        );
        assert_eq!(super::base64_decode("Zg==").as_deref(), Some(&b"f"[..]));
        assert_eq!(super::base64_decode("Z!=="), None);
    }
}

#[derive(Debug)]
pub struct UiProcess {
    child: Child,
    /// The address it printed, with its session token.
    pub url: String,
    /// The same address without the token: what a page's own links start with.
    pub base: String,
}

impl UiProcess {
    /// `ebl ui` for the wallet at `home`, against `node`, with `extra` arguments.
    pub fn start(home: &Path, node: &str, extra: &[&str]) -> UiProcess {
        let mut child = Command::new(crate::bin("ebl"))
            .args(["ui", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("EBL_HOME", home)
            .env("EBL_NODE", node)
            .env("EBL_PASSPHRASE", crate::PASSPHRASE)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ebl ui");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("ebl ui's address");
        // Whatever it prints later is read and dropped, so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        let base = url.split("/?").next().unwrap_or(&url).to_owned();
        UiProcess { child, url, base }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for UiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
