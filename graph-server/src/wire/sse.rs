//! Server-sent event frames as LangGraph's server writes them: `event:` then one `data:`
//! line of compact JSON, `\r\n` line ends, a blank line after each event.

use bytes::{BufMut, BytesMut};

/// The comment LangGraph's server sends every 5 s, which the JS SDK's idle watchdog counts.
pub(crate) const HEARTBEAT: &[u8] = b": heartbeat\r\n\r\n";

/// Appends one event whose data is already JSON. `json` must hold no line break, which
/// serde_json's compact output never does.
pub(crate) fn frame(out: &mut BytesMut, event: &str, ns: &[String], json: &[u8]) {
    start(out, event, ns);
    out.put_slice(json);
    finish(out);
}

/// Writes `event: <event>[|<ns>...]\r\ndata: `; the caller writes the JSON, then [`finish`].
pub(crate) fn start(out: &mut BytesMut, event: &str, ns: &[String]) {
    out.put_slice(b"event: ");
    out.put_slice(event.as_bytes());
    for segment in ns {
        out.put_u8(b'|');
        out.put_slice(segment.as_bytes());
    }
    out.put_slice(b"\r\ndata: ");
}

/// Ends the event started with [`start`].
pub(crate) fn finish(out: &mut BytesMut) {
    out.put_slice(b"\r\n\r\n");
}

/// The frames of `frames` (whole events, each ending with its blank line) whose event
/// name `keep` accepts, in order; the name is given without its `|namespace`.
pub(crate) fn keep_frames(frames: &[u8], keep: impl Fn(&str) -> bool) -> BytesMut {
    let mut kept = BytesMut::new();
    let mut rest = frames;
    while !rest.is_empty() {
        let end = rest
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .map_or(rest.len(), |at| at + 4);
        let (frame, after) = rest.split_at(end);
        let name = frame
            .strip_prefix(b"event: ")
            .and_then(|named| named.split(|&byte| byte == b'\r').next())
            .and_then(|name| std::str::from_utf8(name).ok())
            .map(|name| name.split('|').next().unwrap_or(name));
        // A frame without a readable name is kept: dropping what cannot be read would
        // lose it silently.
        if name.is_none_or(&keep) {
            kept.put_slice(frame);
        }
        rest = after;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_kept_by_their_event_name_without_the_namespace() {
        let mut out = BytesMut::new();
        frame(&mut out, "messages", &[], b"[1]");
        frame(&mut out, "values", &["child:1".into()], b"{}");
        frame(&mut out, "updates", &[], b"{}");
        let kept = keep_frames(&out, |name| name == "values" || name == "updates");
        assert_eq!(
            &kept[..],
            b"event: values|child:1\r\ndata: {}\r\n\r\nevent: updates\r\ndata: {}\r\n\r\n"
        );
        assert!(keep_frames(&out, |_| false).is_empty());
        assert_eq!(keep_frames(&out, |_| true), out);
    }

    #[test]
    fn a_frame_names_its_namespace_after_the_mode() {
        let mut out = BytesMut::new();
        frame(&mut out, "updates", &["child:1".into()], br#"{"a":1}"#);
        assert_eq!(
            &out[..],
            b"event: updates|child:1\r\ndata: {\"a\":1}\r\n\r\n"
        );
    }
}
