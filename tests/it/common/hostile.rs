//! A loopback HTTP server that answers every request with the next of a list of scripted
//! answers, whatever was asked: any status, any headers, any bytes, a `Content-Length`
//! that lies. `{SELF}` in an answer becomes the server's own base URL, so that upload
//! targets and `next` links point back at it. Each answer closes its connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Added to the body's true length in `Content-Length` (`None`: no header, the body
    /// ends when the connection closes).
    pub length_error: Option<i64>,
}

pub struct HostileServer {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HostileServer {
    pub fn start(answers: Vec<Answer>) -> HostileServer {
        assert!(!answers.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let (own_url, stopping) = (url.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for (n, conn) in listener.incoming().enumerate() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = answer(conn, &answers[n % answers.len()], &own_url);
                }
            }
        });
        HostileServer { url, stop, thread: Some(thread) }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request (head and declared body) and writes `reply`.
fn answer(conn: TcpStream, reply: &Answer, own_url: &str) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    conn.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut length = 0u64;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink())?;
    let body = String::from_utf8_lossy(&reply.body).replace("{SELF}", own_url).into_bytes();
    let mut out = format!("HTTP/1.1 {} Scripted\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {}\r\n", value.replace("{SELF}", own_url)));
    }
    if let Some(error) = reply.length_error {
        out.push_str(&format!("Content-Length: {}\r\n", (body.len() as i64 + error).max(0)));
    }
    out.push_str("\r\n");
    let mut conn = conn;
    conn.write_all(out.as_bytes())?;
    conn.write_all(&body)?;
    conn.flush()
}
