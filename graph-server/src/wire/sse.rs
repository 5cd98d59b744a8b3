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

#[cfg(test)]
mod tests {
    use super::*;

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
