//! `async` routers that take `&Ctx`: a model decides where the run goes. The router runs in
//! the task of the node it routes from, as LangGraph runs a conditional edge's function, so
//! its chunks carry that node's metadata; it reads the state as that node left it; its
//! failure is a typed error naming it; and a plain router beside it is unchanged.

use futures::TryStreamExt;
use stategraph::ChatCallError;
use stategraph::prebuilt::{FakeChatModel, FakeModelError, Reply};
use stategraph::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, State)]
pub struct Ticket {
    pub text: String,
    pub handled_by: Vec<String>,
}

pub struct Models {
    triage: FakeChatModel,
}

#[graph(
    state = Ticket,
    context = Models,
    edges = [
        START -> read,
        read -> triage ? [billing, support, END],
        billing -> END,
        support -> END,
    ]
)]
pub mod desk {
    use super::*;

    /// Writes the text the router reads: the router sees what this node left.
    #[node]
    pub async fn read(state: &Ticket) -> TicketUpdate {
        TicketUpdate::default().text(format!("{} (read)", state.text))
    }

    #[node]
    pub async fn billing(_state: &Ticket) -> TicketUpdate {
        TicketUpdate::default().handled_by(vec!["billing".to_owned()])
    }

    #[node]
    pub async fn support(_state: &Ticket) -> TicketUpdate {
        TicketUpdate::default().handled_by(vec!["support".to_owned()])
    }

    /// Asks the model which desk takes the ticket.
    #[router]
    pub async fn triage(state: &Ticket, ctx: &Ctx) -> Result<Triage, NodeError> {
        let reply = ctx
            .chat(&ctx.context().triage)
            .invoke([Message::user(state.text.clone())])
            .await?;
        Ok(match reply.content.trim() {
            "billing" => Triage::Billing,
            "support" => Triage::Support,
            _ => Triage::End,
        })
    }
}

fn desk(reply: Reply) -> desk::Graph {
    desk::Graph::new(Models {
        triage: FakeChatModel::new([reply]),
    })
}

fn ticket() -> Ticket {
    Ticket {
        text: "refund please".to_owned(),
        ..Ticket::default()
    }
}

#[tokio::test]
async fn the_router_routes_on_the_models_answer_reading_what_its_node_left() {
    let graph = desk(Reply::text_in(["bill", "ing"]));
    let state = graph.invoke(ticket()).await.unwrap();
    assert_eq!(state.handled_by, ["billing"]);
    let requests = graph.context().triage.requests();
    assert_eq!(requests.len(), 1);
    // The router read the state with `read`'s update applied.
    assert_eq!(requests[0].messages[0].content, "refund please (read)");

    let graph = desk(Reply::text("support"));
    let state = graph.invoke(ticket()).await.unwrap();
    assert_eq!(state.handled_by, ["support"]);

    let graph = desk(Reply::text("spam"));
    let state = graph.invoke(ticket()).await.unwrap();
    assert!(state.handled_by.is_empty(), "{state:?}");
}

#[tokio::test]
async fn the_routers_chunks_stream_with_its_nodes_metadata() {
    let graph = desk(Reply::text_in(["bill", "ing"]));
    let items: Vec<_> = graph
        .stream(ticket(), Messages)
        .try_collect()
        .await
        .unwrap();
    let chunks: Vec<_> = items
        .iter()
        .filter(|chunk| !chunk.content().is_empty())
        .collect();
    let contents: Vec<&str> = chunks.iter().map(|chunk| chunk.content()).collect();
    assert_eq!(contents, ["bill", "ing"]);
    for chunk in chunks {
        assert_eq!(chunk.node(), desk::Node::Read);
        let json = serde_json::to_value(chunk.metadata()).unwrap();
        assert_eq!(json["langgraph_node"], "read", "{json}");
        assert_eq!(json["langgraph_step"], 1, "{json}");
        assert_eq!(
            json["langgraph_triggers"],
            serde_json::json!(["branch:to:read"])
        );
    }
}

#[tokio::test]
async fn a_failed_model_call_fails_the_run_with_an_error_naming_the_router() {
    let graph = desk(Reply::error("overloaded"));
    let error = graph.invoke(ticket()).await.unwrap_err();
    let GraphError::Router {
        router,
        node,
        step,
        source,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!((*router, *node, *step), ("triage", "read", 1));
    let model_error = source
        .downcast_ref::<ChatCallError<FakeModelError>>()
        .and_then(ChatCallError::model);
    assert!(
        matches!(model_error, Some(FakeModelError::Scripted { message }) if message == "overloaded"),
        "{source:?}"
    );
    assert!(error.to_string().contains("router `triage`"), "{error}");
}

/// A router that panics.
#[graph(state = Ticket, edges = [START -> read, read -> check ? [read, END]])]
pub mod panicky {
    use super::*;

    #[node]
    pub async fn read(_state: &Ticket) -> TicketUpdate {
        TicketUpdate::default()
    }

    #[router]
    pub async fn check(_state: &Ticket, _ctx: &Ctx) -> Check {
        panic!("no route")
    }
}

#[tokio::test]
async fn a_panic_in_an_async_router_is_an_error_naming_it() {
    let error = panicky::Graph::new().invoke(ticket()).await.unwrap_err();
    assert!(
        matches!(&error, GraphError::RouterPanicked { router: "check", step: 1, message } if message == "no route"),
        "{error:?}"
    );
}

fn the_models_error(error: &NodeError) -> bool {
    error
        .downcast_ref::<ChatCallError<FakeModelError>>()
        .is_some()
}

/// The node's retry policy covers its router, which runs in its task.
#[graph(
    state = Ticket,
    context = Models,
    edges = [START -> read, read -> triage ? [billing, END], billing -> END]
)]
pub mod retried {
    use super::*;

    #[node(retry = stategraph::RetryPolicy::new(2).jitter(false).retry_on(the_models_error))]
    pub async fn read(_state: &Ticket) -> TicketUpdate {
        TicketUpdate::default()
    }

    #[node]
    pub async fn billing(_state: &Ticket) -> TicketUpdate {
        TicketUpdate::default().handled_by(vec!["billing".to_owned()])
    }

    #[router]
    pub async fn triage(state: &Ticket, ctx: &Ctx) -> Result<Triage, NodeError> {
        let reply = ctx
            .chat(&ctx.context().triage)
            .invoke([Message::user(state.text.clone())])
            .await?;
        Ok(if reply.content == "billing" {
            Triage::Billing
        } else {
            Triage::End
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_routers_failure_is_retried_under_its_nodes_policy() {
    let graph = retried::Graph::new(Models {
        triage: FakeChatModel::new([Reply::error("overloaded"), Reply::text("billing")]),
    });
    let state = graph.invoke(ticket()).await.unwrap();
    assert_eq!(state.handled_by, ["billing"]);
    assert_eq!(graph.context().triage.requests().len(), 2);
}
