//! The server's log: one line per event on standard error, as text (the default) or JSON
//! lines (`--log-format json`), levels from `RUST_LOG` [info].
//!
//! Lines are formatted into one buffer and written by a thread of their own every 10 ms, so a
//! request never waits for the terminal or a pipe, and logging a line costs no allocation and
//! no thread wake-up; [`flush`] writes what is pending before the process exits.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use commerce_http::request_log::RequestLine;
use tracing::field::{Field, Visit};
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
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

/// Formatted lines not yet written. Events are formatted straight into it under its lock (no
/// allocation or thread wake-up per line); the writer thread takes it whole every
/// [`WRITE_EVERY`].
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// How often the writer thread writes what is pending: a line reaches standard error within
/// this.
const WRITE_EVERY: Duration = Duration::from_millis(10);

/// Bytes pending at most; past them (standard error slower than the log), a line is written
/// by the thread that logs it, so nothing is dropped and memory stays bounded.
const MOST_PENDING: usize = 4 * 1024 * 1024;

static STARTED: OnceLock<()> = OnceLock::new();

/// Installs the log for the whole process. `RUST_LOG` (such as `info`,
/// `warn,commerce_http::request=off`) chooses what is logged; an unreadable one is an error.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::try_new(&directives).map_err(|e| format!("RUST_LOG {directives:?}: {e}"))?
        }
        _ => EnvFilter::new("info"),
    };
    std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(write_pending)
        .map_err(|e| format!("cannot start the log writer: {e}"))?;
    let _ = STARTED.set(());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Pending)
        .with_timer(LineTime)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => {
            commerce_http::request_log::write_lines_with(write_request_line);
            builder.fmt_fields(TextFields).try_init()
        }
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| format!("cannot install the log: {e}"))
}

/// Each line's time as tracing-subscriber writes it (RFC 3339 in UTC, to the microsecond),
/// with the date and time of day formatted once a second per thread: formatting all of it on
/// every line was some 2,500 instructions, an eighth of what a bare Poem server spends on a
/// request.
struct LineTime;

impl FormatTime for LineTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        thread_local! {
            static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
        }
        let since = match std::time::SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => since,
            Err(_) => return SystemTime.format_time(w),
        };
        let secs = since.as_secs();
        SECOND.with_borrow_mut(|(second, text)| {
            if *second != secs {
                let Some(time) = i64::try_from(secs)
                    .ok()
                    .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                else {
                    return SystemTime.format_time(w);
                };
                text.clear();
                fmt::write(text, format_args!("{}", time.format("%Y-%m-%dT%H:%M:%S")))?;
                *second = secs;
            }
            let mut micros = since.subsec_micros();
            let mut fraction = *b".000000Z";
            for digit in fraction[1..7].iter_mut().rev() {
                *digit = b'0' + (micros % 10) as u8;
                micros /= 10;
            }
            w.write_str(text)?;
            w.write_str(std::str::from_utf8(&fraction).map_err(|_| fmt::Error)?)
        })
    }
}

/// A text line's fields as tracing-subscriber's default formatter writes them (the message
/// first, then `name=value` separated by spaces, strings quoted and escaped as Rust's `Debug`
/// does), with numbers and strings that need no escaping written directly: the default
/// formatter goes through `fmt::write` for every field, and the request line's fields were
/// about a tenth of a product read's instructions.
struct TextFields;

impl<'a> MakeVisitor<Writer<'a>> for TextFields {
    type Visitor = TextVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> TextVisitor<'a> {
        TextVisitor {
            writer,
            first: true,
            result: Ok(()),
        }
    }
}

struct TextVisitor<'a> {
    writer: Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl TextVisitor<'_> {
    /// The space before every field but the first, and `name=` unless it is the message.
    fn start(&mut self, field: &Field) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        match field.name() {
            "message" => Ok(()),
            name => {
                self.writer
                    .write_str(name.strip_prefix("r#").unwrap_or(name))?;
                self.writer.write_char('=')
            }
        }
    }

    fn write_u64(&mut self, field: &Field, value: u64) -> fmt::Result {
        self.start(field)?;
        write_digits(&mut self.writer, value)
    }

    fn write_str(&mut self, field: &Field, value: &str) -> fmt::Result {
        self.start(field)?;
        if field.name() == "message" {
            return self.writer.write_str(value);
        }
        write_quoted(&mut self.writer, value)
    }
}

/// A number as `Display` writes it.
fn write_digits(w: &mut impl fmt::Write, mut value: u64) -> fmt::Result {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    w.write_str(std::str::from_utf8(&digits[at..]).map_err(|_| fmt::Error)?)
}

/// A string as `Debug` writes it.
fn write_quoted(w: &mut impl fmt::Write, value: &str) -> fmt::Result {
    // Printable ASCII other than `"` and `\` is its own `Debug` form.
    if value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        w.write_char('"')?;
        w.write_str(value)?;
        w.write_char('"')
    } else {
        write!(w, "{value:?}")
    }
}

/// A request's line (`commerce_http::request_log::write_lines_with`): the text the text
/// format writes for the `tracing` event it replaces, formatted by this thread and put with
/// the pending lines. Through `tracing` the line was about an eighth of a product read's
/// instructions.
fn write_request_line(line: &RequestLine<'_>) {
    thread_local! {
        static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
    }
    TEXT.with_borrow_mut(|text| {
        text.clear();
        if format_request_line(text, line).is_ok() {
            let _ = Pending.make_writer().write_all(text.as_bytes());
        }
    });
}

fn format_request_line(text: &mut String, line: &RequestLine<'_>) -> fmt::Result {
    use std::fmt::Write as _;
    LineTime.format_time(&mut Writer::new(text))?;
    // The level as tracing-subscriber pads it (`{:>5}`), after one space.
    text.push_str(if line.level == tracing::Level::WARN {
        "  WARN "
    } else {
        "  INFO "
    });
    text.push_str("commerce_http::request: request method=");
    text.push_str(line.method.as_str());
    text.push_str(" path=");
    write_quoted(text, line.path)?;
    text.push_str(" status=");
    write_digits(text, u64::from(line.status))?;
    text.push_str(" duration_us=");
    write_digits(text, line.duration_us)?;
    text.push_str(" request_id=");
    text.push_str(line.request_id);
    text.push_str(" client=");
    match line.client {
        Some(IpAddr::V4(ip)) => {
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                write_digits(text, u64::from(octet))?;
            }
        }
        Some(ip) => write!(text, "{ip}")?,
        None => {}
    }
    text.push_str(" user=");
    if let Some(user) = line.user {
        write!(text, "{user}")?;
    }
    text.push('\n');
    Ok(())
}

impl Visit for TextVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_ok() {
            self.result = self.write_str(field, value);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.result.is_ok() {
            self.result = self.write_u64(field, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_ok() {
            self.result = self
                .start(field)
                .and_then(|()| write!(self.writer, "{value:?}"));
        }
    }
}

impl VisitOutput<fmt::Result> for TextVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for TextVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// Writes every line logged so far.
pub fn flush() {
    let mut spare = Vec::new();
    write_out(&mut spare);
}

/// Swaps the pending lines out (keeping a buffer's capacity for the next round) and writes
/// them with one call.
fn write_out(spare: &mut Vec<u8>) {
    if let Ok(mut pending) = PENDING.lock() {
        std::mem::swap(&mut *pending, spare);
    }
    if !spare.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(spare);
        let _ = err.flush();
        spare.clear();
    }
}

fn write_pending() {
    let mut spare = Vec::with_capacity(64 * 1024);
    loop {
        std::thread::sleep(WRITE_EVERY);
        write_out(&mut spare);
    }
}

/// Formats each event into the pending lines.
struct Pending;

/// The pending lines, held while one event is formatted into them.
struct Line(Option<MutexGuard<'static, Vec<u8>>>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.as_mut() {
            Some(pending) => pending.extend_from_slice(buf),
            // The lock was poisoned: straight to standard error.
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        // Standard error is not keeping up (or there is no writer thread): this thread writes.
        if let Some(pending) = self.0.as_mut() {
            if pending.len() > MOST_PENDING || STARTED.get().is_none() {
                let _ = std::io::stderr().write_all(pending);
                pending.clear();
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Pending {
    type Writer = Line;

    fn make_writer(&'a self) -> Self::Writer {
        Line(PENDING.lock().ok())
    }
}
