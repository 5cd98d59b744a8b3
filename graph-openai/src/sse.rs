//! A sans-IO decoder of `text/event-stream` bodies, as the WHATWG HTML standard defines
//! them, tolerant of what real OpenAI-compatible servers send.
//!
//! It works on bytes and only decodes whole lines as UTF-8, so a read that ends inside a
//! multi-byte character (or inside `\r\n`) is never a problem: the rest of the line simply
//! waits for the next read.

use std::ops::Range;

/// One dispatched event: its `event:` name, if any, and its `data:` lines joined by `\n`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server sent one (OpenAI does not; some gateways send
    /// `event: error`).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// What went wrong in the byte stream itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A line was not valid UTF-8; `offset` is the line's start in the whole body.
    #[error("the event stream is not valid UTF-8 (line starting at byte {offset})")]
    InvalidUtf8 {
        /// Where the offending line starts, counted from the body's first byte.
        offset: u64,
    },
    /// One event (its pending lines plus the line being read) grew past the limit.
    #[error("an event is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The first line is not an SSE field: the body is something else (JSON, HTML, ...).
    #[error("the body is not an event stream; it starts with {line:?}")]
    NotSse {
        /// The start of the offending line, lossily decoded, at most 200 bytes.
        line: String,
    },
}

/// Decodes SSE incrementally: feed it each network read with [`push`](Self::push), take
/// complete events with [`next_event`](Self::next_event), and call
/// [`finish`](Self::finish) when the body ends.
///
/// ```
/// use stategraph_openai::SseDecoder;
/// let mut decoder = SseDecoder::new(1 << 20);
/// decoder.push(b"data: {\"a\":1}\r\n\r\ndata: [DO");
/// assert_eq!(decoder.next_event().unwrap().unwrap().data, "{\"a\":1}");
/// assert!(decoder.next_event().unwrap().is_none()); // the second event is incomplete
/// decoder.push(b"NE]\n\n");
/// assert_eq!(decoder.next_event().unwrap().unwrap().data, "[DONE]");
/// ```
#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes received and not yet consumed; `start` is where the unread part begins.
    buffer: Vec<u8>,
    start: usize,
    /// How far past `start` we already looked for a line end, so a long line split over
    /// many reads is scanned once, not once per read.
    scanned: usize,
    /// A `\r` ended the last line: a `\n` right after it belongs to that line end.
    skip_lf: bool,
    /// Bytes consumed before `buffer[0]`, for error offsets.
    consumed: u64,
    max_event_size: usize,
    seen_first_line: bool,
    pending: PendingEvent,
    /// `pending` was lent out by [`next_event_ref`](Self::next_event_ref) and is cleared
    /// before reading on: its buffer is reused, so an event costs no allocation.
    lent: bool,
}

/// An event borrowed from the decoder, valid until it reads on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SseEventRef<'a> {
    pub(crate) event: Option<&'a str>,
    pub(crate) data: &'a str,
}

impl SseEvent {
    pub(crate) fn as_ref(&self) -> SseEventRef<'_> {
        SseEventRef {
            event: self.event.as_deref(),
            data: &self.data,
        }
    }
}

#[derive(Debug, Default)]
struct PendingEvent {
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseDecoder {
    /// A decoder that refuses events larger than `max_event_size` bytes.
    pub fn new(max_event_size: usize) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            scanned: 0,
            skip_lf: false,
            consumed: 0,
            max_event_size,
            seen_first_line: false,
            pending: PendingEvent::default(),
            lent: false,
        }
    }

    /// Appends one read of the body.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buffer.len() / 2 {
            // Compact before growing, so the buffer stays about one event long.
            self.buffer.drain(..self.start);
            self.consumed += self.start as u64;
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete event, if the bytes pushed so far hold one.
    ///
    /// # Errors
    /// On invalid UTF-8, an event over the size limit, or a first line that is not SSE.
    /// After an error the decoder should be dropped.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, SseError> {
        Ok(self.complete_event()?.then(|| self.take_pending()))
    }

    /// As [`next_event`](Self::next_event), lending the event instead of allocating it.
    pub(crate) fn next_event_ref(&mut self) -> Result<Option<SseEventRef<'_>>, SseError> {
        if !self.complete_event()? {
            return Ok(None);
        }
        self.lent = true;
        Ok(Some(SseEventRef {
            event: self.pending.event.as_deref(),
            data: &self.pending.data,
        }))
    }

    /// Reads lines until one ends an event with data; whether one did.
    fn complete_event(&mut self) -> Result<bool, SseError> {
        self.reclaim_lent();
        while let Some(line) = self.next_line()? {
            if self.process_line(line)? {
                return Ok(true);
            }
        }
        let unread = self.buffer.len() - self.start;
        if self.pending.data.len() + unread > self.max_event_size {
            return Err(SseError::TooLarge {
                limit: self.max_event_size,
            });
        }
        Ok(false)
    }

    fn reclaim_lent(&mut self) {
        if std::mem::take(&mut self.lent) {
            self.pending.event = None;
            self.pending.data.clear();
            self.pending.has_data = false;
        }
    }

    fn take_pending(&mut self) -> SseEvent {
        let pending = std::mem::take(&mut self.pending);
        SseEvent {
            event: pending.event,
            data: pending.data,
        }
    }

    /// Ends the body: returns the event whose lines arrived without the blank line that
    /// ends it (servers that close right after the last `data:` line), including a last
    /// line that has no line end, and whether there was such a cut line.
    ///
    /// Call it after [`next_event`](Self::next_event) has returned `None`.
    ///
    /// # Errors
    /// As [`next_event`](Self::next_event), for the last line.
    pub fn finish(&mut self) -> Result<Finished, SseError> {
        self.reclaim_lent();
        if self.skip_lf && self.buffer.get(self.start) == Some(&b'\n') {
            self.start += 1;
        }
        let cut_mid_line = self.start < self.buffer.len();
        if cut_mid_line {
            let line = self.start..self.buffer.len();
            self.start = self.buffer.len();
            self.process_line(line)?;
        }
        let event = self.pending.has_data.then(|| self.take_pending());
        Ok(Finished {
            event,
            cut_mid_line,
        })
    }

    /// The byte range of the next complete line, without its line end.
    fn next_line(&mut self) -> Result<Option<Range<usize>>, SseError> {
        if self.skip_lf && self.start < self.buffer.len() {
            if self.buffer[self.start] == b'\n' {
                self.start += 1;
            }
            self.skip_lf = false;
        }
        let from = self.start + self.scanned;
        let Some(found) = memchr::memchr2(b'\n', b'\r', &self.buffer[from..]) else {
            self.scanned = self.buffer.len() - self.start;
            return Ok(None);
        };
        let end = from + found;
        let line = self.start..end;
        self.skip_lf = self.buffer[end] == b'\r';
        self.start = end + 1;
        self.scanned = 0;
        Ok(Some(line))
    }

    /// Applies one line to the pending event; whether the line ended an event with data.
    fn process_line(&mut self, line: Range<usize>) -> Result<bool, SseError> {
        let offset = self.consumed + line.start as u64;
        let mut bytes = &self.buffer[line];
        if !self.seen_first_line {
            self.seen_first_line = true;
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            if !bytes.is_empty() && !is_sse_line(bytes) {
                let shown = &bytes[..bytes.len().min(200)];
                return Err(SseError::NotSse {
                    line: String::from_utf8_lossy(shown).into_owned(),
                });
            }
        }
        if bytes.is_empty() {
            if !self.pending.has_data {
                // An event with no data lines is not dispatched, as the standard says.
                self.pending.event = None;
            }
            return Ok(self.pending.has_data);
        }
        if bytes[0] == b':' {
            return Ok(false); // a comment, e.g. OpenRouter's `: OPENROUTER PROCESSING`
        }
        let line = std::str::from_utf8(bytes).map_err(|_| SseError::InvalidUtf8 { offset })?;
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.pending.data.len() + value.len() + 1 > self.max_event_size {
                    return Err(SseError::TooLarge {
                        limit: self.max_event_size,
                    });
                }
                if self.pending.has_data {
                    self.pending.data.push('\n');
                }
                self.pending.data.push_str(value);
                self.pending.has_data = true;
            }
            "event" => self.pending.event = Some(value.to_owned()),
            // `id` and `retry` matter to browsers reconnecting, not to one completion.
            _ => {}
        }
        Ok(false)
    }
}

/// What was left when the body ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Finished {
    /// An event whose lines arrived without the blank line that ends it.
    pub event: Option<SseEvent>,
    /// The body ended in the middle of a line (that line is part of `event`).
    pub cut_mid_line: bool,
}

/// Whether a first line looks like SSE: a known field or a comment.
fn is_sse_line(line: &[u8]) -> bool {
    const FIELDS: [&[u8]; 4] = [b"data", b"event", b"id", b"retry"];
    line[0] == b':'
        || FIELDS.iter().any(|field| {
            line.strip_prefix(*field)
                .is_some_and(|rest| rest.is_empty() || rest[0] == b':')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `parts` with the owned API, or with the lending one the client uses.
    fn decode_with(parts: &[&[u8]], lend: bool) -> Result<Vec<String>, SseError> {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut events = Vec::new();
        for part in parts {
            decoder.push(part);
            if lend {
                while let Some(event) = decoder.next_event_ref()? {
                    events.push(event.data.to_owned());
                }
            } else {
                while let Some(event) = decoder.next_event()? {
                    events.push(event.data);
                }
            }
        }
        events.extend(decoder.finish()?.event.map(|e| e.data));
        Ok(events)
    }

    /// Both APIs, which must agree.
    fn decode_all(parts: &[&[u8]]) -> Result<Vec<String>, SseError> {
        let owned = decode_with(parts, false);
        assert_eq!(owned, decode_with(parts, true), "the two APIs disagree");
        owned
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let body = "data: {\"c\":\"h\u{e9}llo \u{1F600}\"}\r\n\r\n: keep-alive\n\ndata: a\ndata: b\n\ndata:[DONE]\r\r";
        let whole = decode_all(&[body.as_bytes()]).unwrap();
        assert_eq!(
            whole,
            ["{\"c\":\"h\u{e9}llo \u{1F600}\"}", "a\nb", "[DONE]"]
        );
        let bytes = body.as_bytes();
        for i in 0..bytes.len() {
            for j in i..bytes.len() {
                let parts = [&bytes[..i], &bytes[i..j], &bytes[j..]];
                assert_eq!(decode_all(&parts).unwrap(), whole, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn invalid_utf8_is_an_error_with_its_offset() {
        let error = decode_all(&[b"data: ok\n\ndata: \xff\xfe\n\n"]).unwrap_err();
        assert_eq!(error, SseError::InvalidUtf8 { offset: 10 });
    }

    #[test]
    fn an_event_over_the_limit_is_an_error_even_before_its_line_ends() {
        let mut decoder = SseDecoder::new(16);
        decoder.push(b"data: 0123456789");
        assert!(decoder.next_event().unwrap().is_none());
        decoder.push(b"0123456789");
        assert_eq!(
            decoder.next_event().unwrap_err(),
            SseError::TooLarge { limit: 16 }
        );
    }

    #[test]
    fn a_json_body_is_not_sse() {
        let error = decode_all(&[b"{\"error\": {}}\n"]).unwrap_err();
        assert!(matches!(error, SseError::NotSse { line } if line.starts_with("{\"error\"")));
    }

    #[test]
    fn a_body_cut_mid_line_is_reported() {
        let mut decoder = SseDecoder::new(1 << 20);
        decoder.push(b"data: {\"a\":");
        assert!(decoder.next_event().unwrap().is_none());
        let finished = decoder.finish().unwrap();
        assert!(finished.cut_mid_line);
        assert_eq!(finished.event.unwrap().data, "{\"a\":");
    }

    #[test]
    fn event_names_are_kept_and_data_less_events_are_not_dispatched() {
        let mut decoder = SseDecoder::new(1 << 20);
        decoder.push(b"event: ping\n\nevent: error\ndata: {}\n\n");
        let event = decoder.next_event().unwrap().unwrap();
        assert_eq!(event.event.as_deref(), Some("error"));
        assert_eq!(event.data, "{}");
    }

    #[test]
    fn a_lent_event_is_cleared_before_the_next_one() {
        let mut decoder = SseDecoder::new(16);
        decoder.push(b"event: error\ndata: 0123456789\n\ndata: 0123456789\n\ndata: x");
        let first = decoder.next_event_ref().unwrap().unwrap();
        assert_eq!((first.event, first.data), (Some("error"), "0123456789"));
        // Not over the limit: the lent event does not count toward the next.
        let second = decoder.next_event_ref().unwrap().unwrap();
        assert_eq!((second.event, second.data), (None, "0123456789"));
        assert!(decoder.next_event().unwrap().is_none());
        let last = decoder.finish().unwrap().event.unwrap();
        assert_eq!((last.event, last.data.as_str()), (None, "x"));
    }
}
