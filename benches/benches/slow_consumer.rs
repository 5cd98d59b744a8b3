//! A consumer reading one item per millisecond while a node offers 10 million chunks,
//! against the same graph with a consumer that reads all 10 million as fast as it can.
//! Each runs in a process of its own (this binary re-runs itself), so each peak resident
//! set (VmHWM) and peak heap is its own.

use std::time::{Duration, Instant};

use futures::StreamExt;
use stategraph::AnyChatModel;
use stategraph::mode::Messages;
use stategraph_benches::alloc::{self, CountingAllocator};
use stategraph_benches::graphs::{Empty, drained_call};
use stategraph_benches::models::Endless;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const OFFERED: usize = 10_000_000;
const SLOW_READS: usize = 3_000;

fn run(slow: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let before = alloc::reset_peak();
    let start = Instant::now();
    let read = runtime.block_on(async {
        let graph = drained_call::Graph::new(AnyChatModel::new(Endless::new(OFFERED)));
        let mut stream = graph.stream(Empty::default(), Messages);
        let mut read = 0usize;
        while let Some(chunk) = stream.next().await {
            chunk.expect("no error");
            read += 1;
            if slow {
                if read == SLOW_READS {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        read
    });
    let expected = if slow { SLOW_READS } else { OFFERED };
    assert_eq!(read, expected, "nothing dropped");
    println!(
        "BENCH slow_consumer mode={} read={read} secs={:.2} peak_heap_bytes={} peak_rss_kib={}",
        if slow { "slow" } else { "fast" },
        start.elapsed().as_secs_f64(),
        alloc::peak() - before,
        alloc::peak_rss_kib().unwrap_or(0)
    );
}

fn main() {
    if stategraph_benches::listing_only("slow_consumer") {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(mode) = args.iter().find_map(|arg| arg.strip_prefix("--mode=")) {
        run(mode == "slow");
        return;
    }
    let me = std::env::current_exe().expect("this binary");
    for mode in ["fast", "slow"] {
        let status = std::process::Command::new(&me)
            .arg(format!("--mode={mode}"))
            .status()
            .expect("re-run this benchmark");
        assert!(status.success(), "the {mode} run failed");
    }
}
