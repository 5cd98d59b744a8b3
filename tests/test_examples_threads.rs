//! The examples run as their users run them: each command a new process, offline (the
//! children never see `OPENAI_BASE_URL` / `OPENAI_API_KEY`). `durable_chat` remembers a
//! thread's turns and lists its checkpoints; `approval` stops on its question, and a later
//! process answers it; `map_reduce` streams its researchers' tokens interleaved.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use serde_json::Value;
use stategraph::checkpoint::{ListOptions, Source};

/// This package's example `name`, built when missing or stale.
fn example(name: &str) -> PathBuf {
    stategraph_test_support::examples::example(env!("CARGO_MANIFEST_DIR").as_ref(), name)
}

/// Runs an example offline with `args`, its database `db` (the default when `None`) and
/// `dir` as its working directory.
fn run(name: &str, dir: &Path, db: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(example(name));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("STATEGRAPH_DB");
    if let Some(db) = db {
        command.env("STATEGRAPH_DB", db);
    }
    command.output().expect("the example starts")
}

/// The output of a run that must succeed: its stdout.
fn succeeds(output: Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what}: {:?}\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    String::from_utf8(output.stdout).expect("utf-8 on stdout")
}

/// The output of a run that must fail: its stderr, after checking it fails cleanly with
/// `code` and nothing on stdout.
fn fails(output: Output, code: i32, what: &str) -> String {
    let stderr = String::from_utf8(output.stderr).expect("utf-8 on stderr");
    assert_eq!(output.status.code(), Some(code), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(output.stdout.is_empty(), "{what}: {:?}", output.stdout);
    stderr
}

#[test]
fn durable_chat_remembers_a_thread_and_lists_its_checkpoints_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let chat = |args: &[&str]| run("durable_chat", dir.path(), None, args);

    let first = succeeds(chat(&["--thread", "alice", "hello"]), "first turn");
    assert_eq!(first, "You have sent 1 message in this thread.\n");
    assert!(
        dir.path().join("stategraph.db").is_file(),
        "the default database is created in the working directory"
    );
    let second = succeeds(chat(&["--thread", "alice", "and again"]), "second turn");
    assert_eq!(second, "You have sent 2 messages in this thread.\n");
    let other = succeeds(chat(&["--thread", "bob", "hi"]), "another thread");
    assert_eq!(other, "You have sent 1 message in this thread.\n");

    let history = succeeds(chat(&["--thread", "alice", "--history"]), "--history");
    let mut ids = BTreeSet::new();
    let mut rows = Vec::new();
    for line in history.lines() {
        let row: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4, "{line}");
        // Written in the order: checkpoint_id, step, source, next.
        let at: Vec<usize> = ["checkpoint_id", "step", "source", "next"]
            .iter()
            .map(|key| {
                line.find(&format!("\"{key}\":"))
                    .unwrap_or_else(|| panic!("{line}"))
            })
            .collect();
        assert!(at.is_sorted(), "{line}");
        assert!(ids.insert(row["checkpoint_id"].as_str().unwrap().to_owned()));
        rows.push((
            row["step"].clone(),
            row["source"].clone(),
            row["next"].clone(),
        ));
    }
    let expected: Vec<(Value, Value, Value)> = [
        (4, "loop", vec![]),
        (3, "loop", vec!["reply"]),
        (2, "input", vec!["__start__"]),
        (1, "loop", vec![]),
        (0, "loop", vec!["reply"]),
        (-1, "input", vec!["__start__"]),
    ]
    .into_iter()
    .map(|(step, source, next)| (step.into(), source.into(), next.into()))
    .collect();
    assert_eq!(rows, expected, "two turns, newest first");

    let stderr = fails(chat(&["--thread", "alice"]), 2, "no message");
    assert!(stderr.contains("give a message, or --history"), "{stderr}");
    let stderr = fails(chat(&["--thread", "alice", "hi", "--history"]), 2, "both");
    assert!(stderr.contains("not both"), "{stderr}");
    let stderr = fails(
        chat(&["--thread", "alice", "hi", "there"]),
        2,
        "two messages",
    );
    assert!(stderr.contains("one message only"), "{stderr}");
    let stderr = fails(chat(&["--thread", "alice", "--verbose", "hi"]), 2, "a flag");
    assert!(stderr.contains("unknown option `--verbose`"), "{stderr}");
}

/// Runs an example as [`run`] does, its stdout a pipe nobody reads any more (a reader such
/// as `| head -1` that has gone): every write gets `EPIPE`.
fn run_into_closed_pipe(name: &str, dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(example(name))
        .args(args)
        .current_dir(dir)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("STATEGRAPH_DB")
        .stdout(writer)
        .output()
        .expect("the example starts")
}

#[test]
fn a_closed_stdout_neither_panics_nor_loses_the_turn() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("durable_chat", &["--thread", "t", "hello"][..]),
        ("durable_chat", &["--thread", "t", "--history"][..]),
        ("approval", &["--thread", "j", "deploy"][..]),
        ("approval", &["--thread", "j", "--resume", "yes"][..]),
    ] {
        let output = run_into_closed_pipe(name, dir.path(), args);
        succeeds(output, &format!("{name} {args:?}"));
    }
    // Both runs were stored though nobody read them.
    let chat = |args: &[&str]| run("durable_chat", dir.path(), None, args);
    let second = succeeds(chat(&["--thread", "t", "again"]), "after");
    assert_eq!(second, "You have sent 2 messages in this thread.\n");
    let approval = run(
        "approval",
        dir.path(),
        None,
        &["--thread", "j", "--resume", "no"],
    );
    let stderr = fails(approval, 1, "answered already");
    assert!(stderr.contains("no question waiting"), "{stderr}");
}

/// The approval flow on the database `db`, with thread ids starting with `prefix`.
async fn approval_flow(db: &str, prefix: &str) {
    let dir = tempfile::tempdir().unwrap();
    let approval = |args: &[&str]| run("approval", dir.path(), Some(db), args);
    let (yes, no) = (format!("{prefix}-yes"), format!("{prefix}-no"));

    let asked = succeeds(approval(&["--thread", &yes, "deploy the docs"]), "ask");
    let question = only_line_as_json(&asked);
    assert_eq!(question["value"]["task"], "deploy the docs");
    assert!(
        question["value"]["plan"]
            .as_str()
            .unwrap()
            .contains("`deploy the docs`"),
        "the question shows the plan: {question}"
    );
    assert!(question["value"]["question"].is_string(), "{question}");

    let stderr = fails(approval(&["--thread", &yes, "another task"]), 1, "new task");
    assert!(stderr.contains("waits for an answer"), "{stderr}");

    let done = succeeds(approval(&["--thread", &yes, "--resume", "yes"]), "yes");
    assert_eq!(
        done,
        "Done: `deploy the docs` was carried out in three steps.\n\
         approved: Done: `deploy the docs` was carried out in three steps.\n",
        "act's tokens, then the final line"
    );

    let asked = succeeds(approval(&["--thread", &no, "wipe the disk"]), "ask again");
    let other = only_line_as_json(&asked);
    assert_eq!(other["value"]["task"], "wipe the disk");
    let rejected = succeeds(approval(&["--thread", &no, "--resume", "no"]), "no");
    assert_eq!(
        rejected,
        "rejected: Not done: the plan for `wipe the disk` was rejected.\n"
    );

    // Each thread went on from its own checkpoints: plan ran once, approve's step was
    // stored only once answered, then act or reject.
    let store = stategraph_checkpoint::open(db).await.unwrap();
    for (thread, last) in [(&yes, "act"), (&no, "reject")] {
        let history = store
            .list(thread, "", ListOptions::default())
            .await
            .unwrap();
        let steps: Vec<(i64, Source)> = history.iter().rev().map(|m| (m.step, m.source)).collect();
        assert_eq!(
            steps,
            [
                (-1, Source::Input),
                (0, Source::Loop),
                (1, Source::Loop),
                (2, Source::Loop),
                (3, Source::Loop)
            ],
            "{thread}"
        );
        assert!(
            history[0].next.is_empty(),
            "{thread} ended: {:?}",
            history[0].next
        );
        assert_eq!(history[1].next, [last], "{thread}'s last step");
    }

    let stderr = fails(
        approval(&["--thread", &yes, "--resume", "yes"]),
        1,
        "finished",
    );
    assert!(
        stderr.contains("no question waiting for an answer"),
        "{stderr}"
    );
    let never = format!("{prefix}-never-started");
    let stderr = fails(
        approval(&["--thread", &never, "--resume", "no"]),
        1,
        "unknown",
    );
    assert!(
        stderr.contains("no question waiting for an answer"),
        "{stderr}"
    );
    let stderr = fails(
        approval(&["--thread", &no, "--resume", "maybe"]),
        2,
        "maybe",
    );
    assert!(stderr.contains("`yes` or `no`, not `maybe`"), "{stderr}");
    let stderr = fails(approval(&["--thread", &no, "--force", "x"]), 2, "a flag");
    assert!(stderr.contains("unknown option `--force`"), "{stderr}");
    let stderr = fails(
        approval(&["--thread", &no, "x", "--resume", "yes"]),
        2,
        "both",
    );
    assert!(stderr.contains("not both"), "{stderr}");
}

/// `stdout` as its one line, parsed: an interrupt as LangGraph writes it.
fn only_line_as_json(stdout: &str) -> Value {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {stdout:?}");
    let interrupt: Value = serde_json::from_str(lines[0]).unwrap();
    let keys: Vec<&str> = interrupt
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "value"], "{interrupt}");
    assert!(!interrupt["id"].as_str().unwrap().is_empty());
    interrupt
}

#[tokio::test]
async fn approval_stops_on_its_question_and_a_new_process_answers_it_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("approval.db").display());
    approval_flow(&db, "job").await;
}

#[tokio::test]
#[ignore = "needs Postgres: run scripts/test"]
async fn approval_stops_on_its_question_and_a_new_process_answers_it_postgres() {
    let url = std::env::var("STATEGRAPH_TEST_POSTGRES_URL")
        .expect("STATEGRAPH_TEST_POSTGRES_URL (scripts/test sets it)");
    // The database outlives the test: thread ids of their own for each run.
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    approval_flow(&url, &format!("approval-{}-{nanos}", std::process::id())).await;
}

#[test]
fn map_reduce_streams_one_researcher_per_sub_question_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = succeeds(
        run(
            "map_reduce",
            dir.path(),
            None,
            &["How do bees find their way home?"],
        ),
        "map_reduce",
    );
    let labels: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix('[')?.split_once(']'))
        .map(|(label, _)| label)
        .collect();
    assert_eq!(
        labels.into_iter().collect::<Vec<_>>(),
        ["plan", "research#0", "research#1", "research#2", "write"],
        "{stdout}"
    );
    // The researchers run in one step: the first token of each comes before the last of any.
    let lines: Vec<&str> = stdout.lines().collect();
    let first = |label: &str| lines.iter().position(|line| line.starts_with(label));
    let last = |label: &str| lines.iter().rposition(|line| line.starts_with(label));
    let firsts: Vec<usize> = (0..3)
        .filter_map(|n| first(&format!("[research#{n}]")))
        .collect();
    let lasts: Vec<usize> = (0..3)
        .filter_map(|n| last(&format!("[research#{n}]")))
        .collect();
    assert!(
        firsts.iter().max() < lasts.iter().min(),
        "interleaved: {stdout}"
    );
    assert!(
        stdout.contains("report: Bees combine the sun's position, learned landmarks"),
        "{stdout}"
    );
}
