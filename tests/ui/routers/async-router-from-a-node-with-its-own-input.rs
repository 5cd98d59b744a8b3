use stategraph::prelude::*;

#[derive(Clone, Debug, Default, State)]
pub struct Research {
    pub questions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct SubTask {
    pub question: String,
}

#[graph(
    state = Research,
    edges = [START -> plan -> fan_out ? [research], research -> check ? [plan, END]]
)]
pub mod research {
    use super::*;

    #[node]
    pub async fn plan(_state: &Research) -> ResearchUpdate {
        ResearchUpdate::default()
    }

    #[router]
    pub fn fan_out(state: &Research) -> Vec<FanOut> {
        state
            .questions
            .iter()
            .map(|question| FanOut::Research(SubTask { question: question.clone() }))
            .collect()
    }

    #[node]
    pub async fn research(task: &SubTask) -> ResearchUpdate {
        ResearchUpdate::default().questions(vec![task.question.clone()])
    }

    #[router]
    pub async fn check(state: &Research, _ctx: &Ctx) -> Check {
        if state.questions.len() > 3 { Check::End } else { Check::Plan }
    }
}

fn main() {}
