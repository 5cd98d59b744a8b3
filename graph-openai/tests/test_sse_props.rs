//! Property tests of the SSE decoder: any valid event stream, split at any points, decodes
//! to the same events; arbitrary bytes never panic it.
//!
//! CI runs the default case count; a long campaign: `PROPTEST_CASES=10000000 cargo test
//! --release -p stategraph-openai --test test_sse_props`.

use proptest::prelude::*;
use stategraph_openai::{SseDecoder, SseError, SseEvent};

/// One event's data lines (each free of line ends), its optional name, and how its lines
/// end, as a server might write it.
fn event() -> impl Strategy<Value = (Option<String>, Vec<String>, &'static str, bool)> {
    (
        proptest::option::of("[a-z]{1,8}"),
        proptest::collection::vec("[^\r\n]{0,40}", 1..4),
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        any::<bool>(),
    )
}

fn encode(
    events: &[(Option<String>, Vec<String>, &'static str, bool)],
) -> (Vec<u8>, Vec<SseEvent>) {
    let mut body = String::new();
    let mut expected = Vec::new();
    for (name, lines, end, comment) in events {
        if *comment {
            body.push_str(": keep-alive");
            body.push_str(end);
        }
        if let Some(name) = name {
            body.push_str(&format!("event: {name}{end}"));
        }
        for line in lines {
            // "data:" with or without the optional space; a value that itself starts with
            // a space keeps it only when the separator space is written.
            body.push_str(&format!("data: {line}{end}"));
        }
        body.push_str(end);
        expected.push(SseEvent {
            event: name.clone(),
            data: lines.join("\n"),
        });
    }
    (body.into_bytes(), expected)
}

fn decode(parts: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
    let mut decoder = SseDecoder::new(1 << 20);
    let mut events = Vec::new();
    for part in parts {
        decoder.push(part);
        while let Some(event) = decoder.next_event()? {
            events.push(event);
        }
    }
    events.extend(decoder.finish()?.event);
    Ok(events)
}

proptest! {
    #[test]
    fn a_valid_stream_split_anywhere_decodes_to_its_events(
        events in proptest::collection::vec(event(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let (body, expected) = encode(&events);
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(body.len() + 1)).collect();
        points.sort_unstable();
        let mut parts = Vec::new();
        let mut from = 0;
        for point in points {
            parts.push(&body[from..point]);
            from = point;
        }
        parts.push(&body[from..]);
        prop_assert_eq!(decode(&parts).unwrap(), expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(
        parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
        limit in 1usize..256,
    ) {
        let mut decoder = SseDecoder::new(limit);
        for part in &parts {
            decoder.push(part);
            while let Ok(Some(_)) = decoder.next_event() {}
        }
        let _ = decoder.finish();
    }
}
