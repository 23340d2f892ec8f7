//! The server's log: one line per event on standard error, as text (the default) or JSON
//! lines (`--log-format json`), levels from `RUST_LOG` [info].
//!
//! Lines are written by one thread of their own in batches, so a request never waits for the
//! terminal or a pipe; [`flush`] waits for what is queued before the process exits.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::OnceLock;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("the log format is text or json, not {other}")),
        }
    }
}

enum Message {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// Lines waiting for the writer at most; past it, the logging thread waits (better a slower
/// request than a lost security event).
const QUEUED_LINES: usize = 16 * 1024;

static QUEUE: OnceLock<SyncSender<Message>> = OnceLock::new();

/// Installs the log for the whole process. `RUST_LOG` (such as `info`,
/// `warn,commerce_http::request=off`) chooses what is logged; an unreadable one is an error.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(&directives).map_err(|e| format!("RUST_LOG {directives:?}: {e}"))?
        }
        _ => EnvFilter::new("info"),
    };
    let (queue, lines) = sync_channel(QUEUED_LINES);
    std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_lines(lines))
        .map_err(|e| format!("cannot start the log writer: {e}"))?;
    let _ = QUEUE.set(queue);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Queued)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| format!("cannot install the log: {e}"))
}

/// Waits until every line logged so far is written.
pub fn flush() {
    if let Some(queue) = QUEUE.get() {
        let (done, written) = sync_channel(1);
        if queue.send(Message::Flush(done)).is_ok() {
            let _ = written.recv();
        }
    }
}

fn write_lines(lines: Receiver<Message>) {
    // Not locked for good: the server's own messages (eprintln!) share standard error.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    while let Ok(first) = lines.recv() {
        let mut next = Some(first);
        // Everything queued goes out in one write.
        while let Some(message) = next {
            match message {
                Message::Line(line) => {
                    let _ = out.write_all(&line);
                }
                Message::Flush(done) => {
                    let _ = out.flush();
                    let _ = done.send(());
                }
            }
            next = lines.try_recv().ok();
        }
        let _ = out.flush();
    }
}

/// Hands each formatted event to the writer thread.
struct Queued;

/// One event's line, sent when the formatter is done with it.
struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.0);
        match QUEUE.get() {
            Some(queue) => {
                let _ = queue.send(Message::Line(line));
            }
            None => {
                let _ = std::io::stderr().write_all(&line);
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Queued {
    type Writer = Line;

    fn make_writer(&'a self) -> Self::Writer {
        Line(Vec::with_capacity(256))
    }
}
