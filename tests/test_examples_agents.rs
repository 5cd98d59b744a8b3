//! The agent examples run as their users run them, offline (the children never see
//! `OPENAI_BASE_URL` / `OPENAI_API_KEY`, so they use the fake model).

use std::process::Command;

#[test]
fn react_agent_streams_the_tool_call_its_result_and_the_answer_by_node() {
    let binary = stategraph_test_support::examples::example(
        env!("CARGO_MANIFEST_DIR").as_ref(),
        "react_agent",
    );
    let output = Command::new(binary)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("the example starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().filter(|line| !line.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "[user] What is the weather in Paris?",
            r#"[agent] calls get_weather({"city":"Paris"})"#,
            "[tools] get_weather -> Sunny and 18°C in Paris (success)",
            "[agent] It is sunny and 18°C in Paris.",
        ]
    );
}
