//! The checks of each item on its own: the options, each node's and router's signature,
//! the tags, and the names the expansion derives from them.

use std::collections::HashSet;

use syn::{FnArg, ReturnType};

use super::state_text;
use crate::ctxt::Ctxt;
use crate::graph::model::{
    EdgeModel, Endpoint, GraphModel, RetryValue, RouterModel, TimeoutValue, is_ctx_param,
    retry_value, timeout_value, type_text,
};
use crate::suggest::backticked;

const MAX_TAGS: usize = 64;

pub(super) fn check_options(graph: &GraphModel, cx: &mut Ctxt) {
    let mut seen = HashSet::new();
    for key in &graph.options {
        if !seen.insert(key.to_string()) {
            cx.error_spanned_by(
                key,
                format!("duplicate option `{key}` in `#[graph]`; give it once"),
            );
        }
    }
    if !seen.contains("state") {
        let message = match graph.state_from_nodes() {
            Some(state) => format!(
                "missing `state` in `#[graph]`: the graph's state type, e.g. `state = {}`",
                type_text(state)
            ),
            None => "missing `state` in `#[graph]`: the graph's state type, e.g. `state = MyState`"
                .to_owned(),
        };
        cx.error_at(proc_macro2::Span::call_site(), message);
    }
}

pub(super) fn check_nodes(graph: &GraphModel, cx: &mut Ctxt) {
    for duplicate in &graph.duplicate_nodes {
        let ident = &duplicate.sig.ident;
        cx.error_spanned_by(
            ident,
            format!("duplicate node `{ident}`; each `#[node]` fn of a graph needs its own name"),
        );
    }
    let state = state_text(graph);
    for node in &graph.nodes {
        let sig = &node.item.sig;
        if sig.asyncness.is_none() {
            cx.error_spanned_by(
                sig.fn_token,
                format!(
                    "node `{}` is not `async`; a `#[node]` fn is an `async fn`",
                    sig.ident
                ),
            );
        }
        if !sig.generics.params.is_empty() {
            cx.error_spanned_by(&sig.generics, "a `#[node]` fn cannot be generic");
        }
        if let Some(third) = sig.inputs.iter().nth(2) {
            cx.error_spanned_by(
                third,
                format!(
                    "a `#[node]` fn takes at most two parameters: `state: &{state}` and `ctx: &Ctx`"
                ),
            );
        }
        for input in &sig.inputs {
            if let FnArg::Receiver(receiver) = input {
                cx.error_spanned_by(receiver, "a `#[node]` fn cannot take `self`");
            }
        }
        if matches!(sig.output, ReturnType::Default) {
            cx.error_spanned_by(
                &sig.ident,
                format!(
                    "node `{}` returns nothing; a node returns the state's update: `-> {state}Update` or `-> Result<{state}Update, NodeError>`",
                    sig.ident
                ),
            );
        }
    }
}

/// The `retry` and `timeout` literals of each node and of the graph: what rustc cannot
/// check (a count of zero, a duration string that does not parse). Expressions are left to
/// rustc, which checks their types at the user's tokens.
pub(super) fn check_node_policies(graph: &GraphModel, cx: &mut Ctxt) {
    let own = graph.nodes.iter().map(|node| (&node.retry, &node.timeout));
    for (retry, timeout) in std::iter::once((&graph.retry, &graph.timeout)).chain(own) {
        if let Some((_, value)) = retry
            && let RetryValue::Invalid(message) = retry_value(value)
        {
            cx.error_spanned_by(value, message);
        }
        if let Some((_, value)) = timeout
            && let TimeoutValue::Invalid(message) = timeout_value(value)
        {
            cx.error_spanned_by(value, message);
        }
    }
}

/// Whether a routed edge names router `index`, or probably means it.
fn routes_with(edge: &EdgeModel, index: usize) -> bool {
    matches!(
        edge,
        EdgeModel::Routed { router_index: Some(used), .. } if *used == index
    ) || matches!(
        edge,
        EdgeModel::Routed { router_index: None, router_guess: Some(guess), .. } if *guess == index
    )
}

pub(super) fn check_routers(graph: &GraphModel, cx: &mut Ctxt) {
    let state = state_text(graph);
    for (index, router) in graph.routers.iter().enumerate() {
        let sig = &router.item.sig;
        let ident = &sig.ident;
        let enum_ident = &router.enum_ident;
        check_router_parameters(router, &state, cx);
        let edge = graph.edges.iter().find(|edge| routes_with(edge, index));
        let Some(EdgeModel::Routed { from, targets, .. }) = edge else {
            cx.error_spanned_by(
                ident,
                format!(
                    "router `{ident}` is not used by any edge; route with it in the edge list: `node -> {ident} ? [a, END]`"
                ),
            );
            continue;
        };
        if router.in_task
            && let Endpoint::Start(start) = from
        {
            cx.error_spanned_by(
                start,
                format!(
                    "router `{ident}` is `async`: it runs in the task of the node it routes from, and `START` is no node; route from a node, or make `{ident}` a plain `fn`"
                ),
            );
        }
        if router.sends {
            if let Some(asyncness) = sig.asyncness {
                cx.error_spanned_by(
                    asyncness,
                    format!(
                        "router `{ident}` returns a `Vec`, so it sends, and a sending router is a plain `fn`: its items start the next step from the merged state"
                    ),
                );
            }
            // A sending router starts node instances; `END` has none to start.
            for target in targets.iter() {
                if let Endpoint::End(end) = target {
                    cx.error_spanned_by(
                        end,
                        format!(
                            "router `{ident}` returns a `Vec`, so it sends: each item starts an instance of a node; `END` cannot be one of its targets"
                        ),
                    );
                }
            }
            // rustc checks the `Vec`'s item type against the generated enum.
            continue;
        }
        let targets = backticked(
            targets
                .iter()
                .map(|target| target.ident().to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        let returns_enum = match &sig.output {
            ReturnType::Type(_, ty) => {
                names(ty, enum_ident) || (router.in_task && result_of(ty, enum_ident))
            }
            ReturnType::Default => false,
        };
        if !returns_enum {
            let allowed = if router.in_task {
                format!("`{enum_ident}` (or `Result<{enum_ident}, E>`)")
            } else {
                format!("`{enum_ident}`")
            };
            let message = format!(
                "router `{ident}` must return {allowed}, the enum `#[graph]` generates from its targets {targets}"
            );
            match &sig.output {
                ReturnType::Type(_, ty) => cx.error_spanned_by(ty, message),
                ReturnType::Default => cx.error_spanned_by(ident, message),
            }
        }
    }
}

/// A router's parameters: a plain router takes the state alone (it runs between steps,
/// where no task has a context); an `async` one takes the state and, if it asks a model,
/// the context. rustc checks their types at the user's tokens.
fn check_router_parameters(router: &RouterModel, state: &str, cx: &mut Ctxt) {
    let sig = &router.item.sig;
    let ident = &sig.ident;
    let enum_ident = &router.enum_ident;
    for input in &sig.inputs {
        if let FnArg::Receiver(receiver) = input {
            cx.error_spanned_by(receiver, "a `#[router]` fn cannot take `self`");
        }
    }
    if router.in_task {
        let message = format!(
            "an `async` `#[router]` fn takes the state and, to ask a model, the context: `async fn {ident}(state: &{state}, ctx: &Ctx) -> {enum_ident}`"
        );
        match sig.inputs.iter().nth(2) {
            Some(extra) => cx.error_spanned_by(extra, message),
            None if sig.inputs.is_empty() => cx.error_at(sig.paren_token.span.join(), message),
            None => {}
        }
        return;
    }
    let ctx = sig
        .inputs
        .iter()
        .find(|input| matches!(input, FnArg::Typed(param) if is_ctx_param(&param.ty)));
    if let Some(ctx) = ctx {
        cx.error_spanned_by(
            ctx,
            format!(
                "router `{ident}` takes the context, so it is an `async fn`: it then runs in the task of the node it routes from: `async fn {ident}(state: &{state}, ctx: &Ctx) -> {enum_ident}`"
            ),
        );
    } else if sig.inputs.len() != 1 {
        let message = format!(
            "a `#[router]` fn takes one parameter, the state: `fn {ident}(state: &{state}) -> {enum_ident}` (an `async fn` may take `ctx: &Ctx` too)"
        );
        match sig.inputs.iter().nth(1) {
            Some(extra) => cx.error_spanned_by(extra, message),
            None => cx.error_at(sig.paren_token.span.join(), message),
        }
    }
}

/// Whether `ty` is a path ending in `name`.
fn names(ty: &syn::Type, name: &syn::Ident) -> bool {
    matches!(ty, syn::Type::Path(path)
        if path.path.segments.last().is_some_and(|segment| segment.ident == *name))
}

/// Whether `ty` is `Result<name, ..>`.
fn result_of(ty: &syn::Type, name: &syn::Ident) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    last.ident == "Result"
        && matches!(args.args.first(), Some(syn::GenericArgument::Type(ok)) if names(ok, name))
}

pub(super) fn check_tags(graph: &GraphModel, cx: &mut Ctxt) {
    for extra in &graph.extra_tags {
        let first = graph.tag_ident();
        cx.error_spanned_by(
            &extra.ident,
            format!(
                "a graph has one `#[tags]` enum, and `{first}` is already it; move these variants into `{first}`"
            ),
        );
    }
    let Some(tags) = &graph.tags else { return };
    for variant in &tags.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            let name = &variant.ident;
            cx.error_spanned_by(
                &variant.fields,
                format!("a tag is a unit variant: `{name}`, without fields"),
            );
        }
    }
    if tags.variants.len() > MAX_TAGS {
        cx.error_spanned_by(
            &tags.ident,
            format!(
                "a graph has at most {MAX_TAGS} tags; this enum has {}",
                tags.variants.len()
            ),
        );
    }
    if !tags.generics.params.is_empty() {
        cx.error_spanned_by(&tags.generics, "the `#[tags]` enum cannot be generic");
    }
}

/// Names the expansion derives must not clash, or rustc would report a second declaration
/// of a name the user never wrote. Each clash is reported on the second of the two.
pub(super) fn check_generated_names(graph: &GraphModel, cx: &mut Ctxt) {
    for (index, node) in graph.nodes.iter().enumerate() {
        if let Some(earlier) = graph.node_variant_taken_by(index) {
            cx.error_spanned_by(
                node.ident(),
                format!(
                    "node `{}` clashes with node `{}`: both become the variant `Node::{}`; rename one of them",
                    node.ident(),
                    earlier.ident(),
                    node.variant
                ),
            );
        }
    }
    if let (Some(tags), Some(clash)) = (&graph.tags, graph.tags_clash()) {
        cx.error_spanned_by(
            &tags.ident,
            format!(
                "the `#[tags]` enum `{}` clashes with {clash}; rename it, e.g. `Tag`",
                tags.ident
            ),
        );
    }
    for (index, router) in graph.routers.iter().enumerate() {
        if let Some(clash) = graph.router_clash(index) {
            cx.error_spanned_by(
                router.ident(),
                format!(
                    "router `{}` clashes with {clash}: its generated enum is `{}`; rename the router",
                    router.ident(),
                    router.enum_ident
                ),
            );
        }
    }
    for edge in &graph.edges {
        let EdgeModel::Routed {
            router, targets, ..
        } = edge
        else {
            continue;
        };
        for (at, target) in targets.iter().enumerate() {
            let variant = target.route_variant();
            if let Some(earlier) = targets[..at]
                .iter()
                .find(|earlier| earlier.route_variant() == variant)
            {
                cx.error_spanned_by(
                    target.ident(),
                    format!(
                        "target `{}` of router `{router}` clashes with target `{}`: both become the variant `{}::{variant}`; rename the node",
                        target.ident(),
                        earlier.ident(),
                        crate::case::to_pascal_case(&router.to_string())
                    ),
                );
            }
        }
    }
}
