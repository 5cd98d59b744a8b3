//! Generates the graph's API: small functions, composed at the end. The expansion is glue:
//! every behaviour lives in graph-core, reached through `<crate>::__private`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident};

use super::docs;
use super::lower::{Lowered, NodeGoto, Route, RouteTarget};
use super::model::{
    EdgeModel, Endpoint, GraphModel, NodeModel, RetryValue, RouterModel, TimeoutValue,
    is_ctx_param, retry_value, timeout_value, type_text,
};
use stategraph_diagram::{ArrowKind, Diagram, Vertex};

/// The whole module. With `stub`, the API is generated but calls no user fn and has no
/// edges, so that one mistake gives one error rather than a cascade.
pub(crate) fn module(lowered: &Lowered<'_>, stub: bool) -> TokenStream {
    let graph = lowered.graph;
    let module = &graph.module;
    // The user's docs, `//!` ones included, go first and outside, then the generated ones;
    // other inner attributes stay inside.
    let (inner, outer): (Vec<&syn::Attribute>, Vec<&syn::Attribute>) = module
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
    let (inner_docs, inner): (Vec<&syn::Attribute>, Vec<&syn::Attribute>) = inner
        .into_iter()
        .partition(|attr| attr.path().is_ident("doc"));
    let inner_docs = inner_docs.into_iter().map(|attr| syn::Attribute {
        style: syn::AttrStyle::Outer,
        ..attr.clone()
    });
    let vis = &module.vis;
    let ident = &module.ident;
    let other = &module.other;
    let nodes = graph.nodes.iter().map(|node| &node.item);
    let routers = lowered.routers.iter().map(|router| &router.item);
    let extra_tags = &graph.extra_tags;
    let module_docs = docs::module_docs(&docs::overview(graph, &lowered.diagram));
    let node_enum = node_enum(graph);
    let tag_enum = tag_enum(graph);
    let route_enums = lowered
        .routes
        .iter()
        .map(|route| route_enum(lowered, route));
    let goto_enums = lowered.gotos.iter().map(|goto| goto_enum(lowered, goto));
    let graph_struct = graph_struct(graph, &lowered.diagram);
    let graph_def = graph_def_impl(lowered, stub);
    quote! {
        #(#outer)*
        #(#inner_docs)*
        #module_docs
        #vis mod #ident {
            #(#inner)*
            #(#other)*
            #(#nodes)*
            #(#routers)*
            #(#extra_tags)*
            #node_enum
            #tag_enum
            #(#route_enums)*
            #(#goto_enums)*
            #graph_struct
            #graph_def
        }
    }
}

/// The visibility of generated items: that of the module, seen from inside it. A private
/// module's items are `pub(super)`, so a graph whose state is private to the parent still
/// compiles, and nothing is reachable from further than the module itself.
fn item_vis(graph: &GraphModel) -> TokenStream {
    match &graph.module.vis {
        syn::Visibility::Public(_) => quote!(pub),
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(restricted) if restricted.path.is_ident("super") => {
            quote!(pub(in super::super))
        }
        syn::Visibility::Restricted(restricted) if restricted.path.is_ident("self") => {
            quote!(pub(super))
        }
        syn::Visibility::Restricted(_) => quote!(pub(crate)),
    }
}

/// Where errors about the state type land: on the user's `state = Topic` when there is one.
/// rustc reports an unsatisfied `State` bound at each use of the type, so the API that uses
/// it is spanned there too, rather than at the whole attribute.
fn state_span(graph: &GraphModel) -> Span {
    graph
        .state
        .as_ref()
        .map_or_else(Span::call_site, |state| state.span())
}

/// `tokens` with every span set to `span`, for items whose definition rustc points at.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = proc_macro2::TokenTree::Group(respanned);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

fn private(graph: &GraphModel) -> TokenStream {
    let krate = &graph.krate;
    quote!(#krate::__private)
}

fn context_type(graph: &GraphModel) -> TokenStream {
    graph
        .context
        .as_ref()
        .map_or_else(|| quote!(()), |ty| quote!(#ty))
}

fn custom_type(graph: &GraphModel) -> TokenStream {
    graph
        .custom
        .as_ref()
        .map_or_else(|| quote!(()), |ty| quote!(#ty))
}

fn node_enum(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let docs = docs::node_enum_docs(graph);
    let variants: Vec<&Ident> = graph.variant_nodes().map(|node| &node.variant).collect();
    let variant_docs = graph.variant_nodes().map(docs::node_variant_docs);
    let names: Vec<String> = graph.variant_nodes().map(NodeModel::name).collect();
    let triggers = names.iter().map(|name| format!("branch:to:{name}"));
    let indices = 0..variants.len();
    // The tag enum names `Node` in its `GraphTag` impl: a `pub` tag enum in a private
    // module needs a `pub` node enum too (module privacy still bounds both).
    let tags_are_pub = graph
        .emitted_tags()
        .is_some_and(|tags| matches!(tags.vis, syn::Visibility::Public(_)));
    let vis = if tags_are_pub {
        quote!(pub)
    } else {
        item_vis(graph)
    };
    quote! {
        #docs
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq,
            ::core::cmp::Eq, ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord,
        )]
        #vis enum Node {
            #( #variant_docs #variants, )*
        }

        impl Node {
            /// Every node, in declaration order.
            #vis const ALL: &'static [Node] = &[ #( Node::#variants ),* ];

            /// The node's name: its fn name.
            #vis const fn name(self) -> &'static str {
                match self { #( Node::#variants => #names, )* }
            }
        }

        impl #private::GraphNode for Node {
            const ALL: &'static [Self] = Node::ALL;
            fn name(self) -> &'static str {
                Node::name(self)
            }
            fn index(self) -> usize {
                match self { #( Node::#variants => #indices, )* }
            }
            fn branch_trigger(self) -> &'static str {
                match self { #( Node::#variants => #triggers, )* }
            }
        }

        impl ::core::fmt::Display for Node {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(Node::name(*self))
            }
        }

        impl #private::serde::Serialize for Node {
            fn serialize<S: #private::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(Node::name(*self))
            }
        }
    }
}

/// The derives the tag enum needs, minus those the user already wrote.
fn missing_tag_derives(tags: &syn::ItemEnum) -> Vec<TokenStream> {
    let mut present = Vec::new();
    for attr in tags
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                present.push(last.ident.to_string());
            }
            Ok(())
        });
    }
    [
        ("Clone", quote!(::core::clone::Clone)),
        ("Copy", quote!(::core::marker::Copy)),
        ("Debug", quote!(::core::fmt::Debug)),
        ("PartialEq", quote!(::core::cmp::PartialEq)),
        ("Eq", quote!(::core::cmp::Eq)),
        ("Hash", quote!(::core::hash::Hash)),
    ]
    .into_iter()
    .filter(|(name, _)| !present.iter().any(|p| p == name))
    .map(|(_, path)| path)
    .collect()
}

fn tag_enum(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let vis = item_vis(graph);
    let ident = graph.tag_ident();
    let declaration = match graph.emitted_tags() {
        Some(tags) => {
            let derives = missing_tag_derives(tags);
            // Fields and generics are reported by validation; without them the enum still
            // gets its impls, so they give no second error.
            let mut tags = tags.clone();
            tags.generics = syn::Generics::default();
            for variant in &mut tags.variants {
                variant.fields = syn::Fields::Unit;
            }
            quote!(#[derive(#(#derives),*)] #tags)
        }
        None => quote! {
            /// The graph declares no `#[tags]` enum, so no call carries a tag.
            #[derive(
                ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug,
                ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
            )]
            #vis enum Tag {}
        },
    };
    let (variants, names): (Vec<Ident>, Vec<String>) = graph.tag_names().into_iter().unzip();
    let bits = 0..variants.len() as u32;
    quote! {
        #declaration

        impl #ident {
            /// The tag's name, as it appears in LangGraph's `tags`: snake_case.
            #vis const fn name(self) -> &'static str {
                match self { #( #ident::#variants => #names, )* }
            }
        }

        impl #private::GraphTag for #ident {
            type Node = Node;
            const ALL: &'static [Self] = &[ #( #ident::#variants ),* ];
            fn name(self) -> &'static str {
                #ident::name(self)
            }
            fn bit(self) -> u32 {
                match self { #( #ident::#variants => #bits, )* }
            }
        }

        impl #private::serde::Serialize for #ident {
            fn serialize<S: #private::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(#ident::name(*self))
            }
        }
    }
}

fn route_enum(lowered: &Lowered<'_>, route: &Route<'_>) -> TokenStream {
    let graph = lowered.graph;
    let Route {
        router,
        written,
        from,
        targets,
    } = route;
    // The enum is spanned at the router's name in the edge list, where its variants are
    // declared: "no variant `Publish`" then points at `review ? [write, END]`.
    let ident = Ident::new(&router.enum_ident.to_string(), written.span());
    let vis = respan(item_vis(graph), written.span());
    let docs = docs::route_enum_docs(router, from, targets);
    if router.sends {
        // Each item the router returns starts one instance of its node, on its own input:
        // the node's own type, or the state.
        let state = graph.state_type();
        let variants = targets
            .iter()
            .filter(|target| !matches!(target.endpoint, Endpoint::End(_)))
            .map(|RouteTarget { endpoint, variant }| {
                let input = endpoint
                    .node()
                    .and_then(|index| lowered.sent_input(&graph.nodes[index]));
                let (doc, ty) = match input {
                    Some(ty) => (
                        format!(
                            "Run an instance of `{}` in the next step, with this input.",
                            endpoint.ident()
                        ),
                        quote!(#ty),
                    ),
                    None => (
                        format!(
                            "Run an instance of `{}` in the next step, with this state as its input.",
                            endpoint.ident()
                        ),
                        state.clone(),
                    ),
                };
                quote!(#[doc = #doc] #variant(#ty))
            });
        return quote_spanned! {written.span()=>
            #docs
            #[derive(::core::clone::Clone)]
            #vis enum #ident {
                #( #variants, )*
            }
        };
    }
    let variants = targets.iter().map(|RouteTarget { endpoint, variant }| {
        let doc = match endpoint {
            Endpoint::End(_) => "Stop the graph: go to `END`.".to_owned(),
            other => format!("Run `{}` next.", other.ident()),
        };
        quote!(#[doc = #doc] #variant)
    });
    quote_spanned! {written.span()=>
        #docs
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug,
            ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
        )]
        #vis enum #ident {
            #( #variants, )*
        }
    }
}

/// The enum a `#[node(goto = [..])]` fn returns its targets in: one variant per target, so
/// going anywhere else does not compile. A target with an input of its own is a `Send`: its
/// variant carries that input.
fn goto_enum(lowered: &Lowered<'_>, goto: &NodeGoto<'_>) -> TokenStream {
    let graph = lowered.graph;
    let NodeGoto {
        node,
        enum_ident,
        key,
        targets,
    } = goto;
    let vis = respan(item_vis(graph), key.span());
    let doc = format!(
        "Where node `{}` sends the run next: the targets of its `goto`. It returns them in a `Goto`.",
        node.ident()
    );
    let input_of = |endpoint: &Endpoint| {
        endpoint
            .node()
            .and_then(|index| lowered.sent_input(&graph.nodes[index]))
    };
    let variants = targets.iter().map(|RouteTarget { endpoint, variant }| {
        if let Some(ty) = input_of(endpoint) {
            let doc = format!(
                "Start an instance of `{}` in the next step with this input (a `Send`).",
                endpoint.ident()
            );
            return quote!(#[doc = #doc] #variant(#ty));
        }
        let doc = match endpoint {
            Endpoint::End(_) => {
                "Stop here: go to `END` (the node's edges still lead on).".to_owned()
            }
            other => format!("Run `{}` next.", other.ident()),
        };
        quote!(#[doc = #doc] #variant)
    });
    if targets
        .iter()
        .all(|target| input_of(target.endpoint).is_none())
    {
        return quote_spanned! {key.span()=>
            #[doc = #doc]
            #[derive(
                ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug,
                ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
            )]
            #vis enum #enum_ident {
                #( #variants, )*
            }
        };
    }
    // With `Send`s among the targets: `Goto` keeps each node named once, and every `Send`
    // (two `Send`s to one node are two instances), so no two `Send`s compare equal.
    let same = targets
        .iter()
        .filter(|target| input_of(target.endpoint).is_none())
        .map(|RouteTarget { variant, .. }| quote!((Self::#variant, Self::#variant) => true));
    quote_spanned! {key.span()=>
        #[doc = #doc]
        #vis enum #enum_ident {
            #( #variants, )*
        }

        impl ::core::cmp::PartialEq for #enum_ident {
            fn eq(&self, other: &Self) -> bool {
                #[allow(unreachable_patterns)]
                match (self, other) {
                    #( #same, )*
                    _ => false,
                }
            }
        }
    }
}

/// The user's `///` docs on `attrs`, one line each.
fn doc_text(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(doc) if doc.path.is_ident("doc") => match &doc.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // `/// text` keeps the space after the slashes.
    lines
        .iter()
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `GraphDescription` expression: the diagram's vertices and arrows as static data, so
/// `Graph::description()` shows at run time exactly what the docs draw.
fn description(graph: &GraphModel, diagram: &Diagram) -> TokenStream {
    let private = private(graph);
    let name = graph.module.ident.to_string();
    let nodes = graph.nodes.iter().map(|node| {
        let name = node.name();
        let docs = doc_text(&node.item.attrs);
        quote!(#private::NodeDescription { name: #name, docs: #docs })
    });
    let vertex = |vertex: &Vertex| match vertex {
        Vertex::Start => quote!(#private::Vertex::Start),
        Vertex::End => quote!(#private::Vertex::End),
        Vertex::Node(name) => quote!(#private::Vertex::Node(#name)),
    };
    let edges = diagram.arrows.iter().map(|arrow| {
        let source = vertex(&diagram.vertices[arrow.from]);
        let target = vertex(&diagram.vertices[arrow.to]);
        let kind = match &arrow.kind {
            ArrowKind::Direct => quote!(#private::EdgeKind::Direct),
            ArrowKind::Join => quote!(#private::EdgeKind::Join),
            ArrowKind::Routed(router) if is_goto_arrow(graph, diagram, arrow, router) => {
                quote!(#private::EdgeKind::Goto)
            }
            ArrowKind::Routed(router) => {
                let sends = graph.edges.iter().any(|edge| {
                    matches!(edge, EdgeModel::Routed { router: name, .. } if name == router)
                        && graph.edge_sends(edge)
                });
                if sends {
                    quote!(#private::EdgeKind::Sent(#router))
                } else {
                    quote!(#private::EdgeKind::Routed(#router))
                }
            }
        };
        quote!(#private::EdgeDescription { source: #source, target: #target, kind: #kind })
    });
    quote! {
        #private::GraphDescription {
            name: #name,
            nodes: &[#(#nodes),*],
            edges: &[#(#edges),*],
        }
    }
}

/// Whether a dashed arrow labelled `label` is a node's `goto` rather than a router's edge
/// (a router may be called `goto` too): no routed edge from its source uses that router.
fn is_goto_arrow(
    graph: &GraphModel,
    diagram: &Diagram,
    arrow: &stategraph_diagram::Arrow,
    label: &str,
) -> bool {
    let Vertex::Node(source) = &diagram.vertices[arrow.from] else {
        return false;
    };
    label == docs::GOTO_LABEL
        && !graph.edges.iter().any(|edge| {
            matches!(edge, EdgeModel::Routed { from, router, .. }
                if router == label && from.ident() == source.as_str())
        })
}

fn graph_struct(graph: &GraphModel, diagram: &Diagram) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let context = context_type(graph);
    let tag = graph.tag_ident();
    let docs = docs::graph_docs(graph);
    let mermaid = stategraph_diagram::mermaid(diagram);
    let description = description(graph, diagram);
    let vis = item_vis(graph);
    let (new, default) = match &graph.context {
        Some(context) => (
            quote! {
                /// The graph, with the dependencies its nodes reach through `ctx.context()`.
                #vis fn new(context: #context) -> Self {
                    Self { context: #private::Arc::new(context) }
                }
            },
            quote!(),
        ),
        None => (
            quote! {
                /// The graph.
                #vis fn new() -> Self {
                    Self { context: #private::Arc::new(()) }
                }
            },
            quote! {
                impl ::core::default::Default for Graph {
                    fn default() -> Self {
                        Self::new()
                    }
                }
            },
        ),
    };
    quote_spanned! {state_span(graph)=>
        #docs
        #vis struct Graph {
            context: #private::Arc<#context>,
        }

        /// The context type of this graph's nodes: `ctx: &Ctx` in a `#[node]` fn.
        #vis type Ctx = #private::NodeContext<Graph>;

        impl Graph {
            #new

            /// The dependencies given to [`Graph::new`].
            #vis fn context(&self) -> &#context {
                &self.context
            }

            /// Runs the graph on `input` and streams the items of `mode` (one of the
            /// `mode` module's `Messages`, `Custom`, `Values`, `Updates`, `Tasks`, or a
            /// tuple of them). The stream is `Send + 'static`; drop it to cancel the run.
            #vis fn stream<M: #private::StreamMode<Self>>(&self, input: #state, mode: M) -> #private::GraphStream<Self, M> {
                self.stream_with(input, mode, #private::RunConfig::default())
            }

            /// [`Graph::stream`] with per-run settings: recursion limit, run id, tags, metadata.
            #vis fn stream_with<M: #private::StreamMode<Self>>(
                &self,
                input: #state,
                mode: M,
                config: #private::RunConfig<#tag>,
            ) -> #private::GraphStream<Self, M> {
                let _ = mode;
                #private::stream::<Self, M>(#private::Arc::clone(&self.context), input, config)
            }

            /// Runs the graph on `input` to the end and returns the final state.
            #vis fn invoke(&self, input: #state) -> impl ::core::future::Future<Output = ::core::result::Result<#state, #private::GraphError>> + ::core::marker::Send + 'static {
                self.invoke_with(input, #private::RunConfig::default())
            }

            /// [`Graph::invoke`] with per-run settings.
            #vis fn invoke_with(
                &self,
                input: #state,
                config: #private::RunConfig<#tag>,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<#state, #private::GraphError>> + ::core::marker::Send + 'static {
                #private::invoke::<Self>(#private::Arc::clone(&self.context), input, config)
            }

            /// Thread `id` of this graph in `store`: runs on it start from where its last
            /// run ended, and each step is stored as it finishes. The state must derive
            /// `Default` and its fields serde's traits.
            #vis fn thread<__S>(
                &self,
                store: &#private::Arc<dyn #private::checkpoint::Checkpointer>,
                id: impl ::core::convert::Into<::std::string::String>,
            ) -> #private::Thread<Self>
            where
                Self: #private::GraphDef<State = __S>,
                __S: #private::checkpoint::Durable + ::core::default::Default,
            {
                #private::Thread::new(
                    #private::Arc::clone(&self.context),
                    #private::Arc::clone(store),
                    id,
                )
            }

            /// The graph as Mermaid text.
            #vis const fn mermaid() -> &'static str {
                #mermaid
            }

            /// The graph's nodes and edges as plain data: what the docs draw, for drawing
            /// it at run time or serving it as LangGraph's `GET /assistants/{id}/graph`.
            #vis fn description() -> &'static #private::GraphDescription {
                static __DESCRIPTION: #private::GraphDescription = #description;
                &__DESCRIPTION
            }
        }

        impl ::core::clone::Clone for Graph {
            fn clone(&self) -> Self {
                Self { context: #private::Arc::clone(&self.context) }
            }
        }

        #default
    }
}

/// `call_model(<&Topic as NodeParameter>::supply(..), ..).await`, converted to the node
/// result. Each argument is spanned at the user's parameter type, so a parameter the graph
/// cannot supply is reported there, through `NodeParameter`'s `on_unimplemented`; the
/// return type likewise through `IntoNodeResult`'s.
fn node_call(
    graph: &GraphModel,
    node: &NodeModel,
    goto: Option<&NodeGoto<'_>>,
    own_input: Option<&syn::Type>,
) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let ident = node.ident();
    let args = node.item.sig.inputs.iter().filter_map(|input| match input {
        // A node with an input of its own is given that input (`__payload`) and the context.
        FnArg::Typed(param) if own_input.is_some() => {
            let ty = &param.ty;
            Some(if is_ctx_param(ty) {
                quote_spanned!(ty.span()=> { let __ctx: #ty = &__ctx; __ctx })
            } else {
                quote_spanned!(ty.span()=> __payload)
            })
        }
        FnArg::Typed(param) => {
            let ty = &param.ty;
            Some(quote_spanned!(ty.span()=> <#ty as NodeParameter<'_>>::supply(__state, &__ctx)))
        }
        FnArg::Receiver(_) => None,
    });
    let output_span = match &node.item.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => ident.span(),
    };
    let result = quote_spanned!(output_span=> __result);
    let Some(goto) = goto else {
        return quote_spanned! {output_span=>
            {
                let #result = #ident(#(#args),*).await;
                <_ as #private::IntoNodeResult<<#state as #private::State>::Update>>::into_node_result(#result)
                    .map(#private::NodeOutput::update)
            }
        };
    };
    let enum_ident = goto.enum_ident;
    let arms = goto.targets.iter().map(|RouteTarget { endpoint, variant }| {
        let sent = endpoint
            .node()
            .is_some_and(|index| graph.own_input(index).is_some());
        match graph.node_variant(endpoint) {
            Some(node) if sent => quote!(#enum_ident::#variant(__input) => __sends.push((Node::#node, __Sent::#node(__input)))),
            Some(node) => quote!(#enum_ident::#variant => __goto.push(Node::#node)),
            None => quote!(#enum_ident::#variant => {}),
        }
    });
    quote_spanned! {output_span=>
        {
            let #result = #ident(#(#args),*).await;
            <_ as #private::IntoNodeGoto<<#state as #private::State>::Update, #enum_ident>>::into_node_goto(#result)
                .map(|__returned| {
                    let (__update, __targets) = __returned.into_parts();
                    // A loop, not `filter_map`: with no `END` among the targets every arm
                    // would keep its target, which clippy flags in the user's crate.
                    let mut __goto = ::std::vec::Vec::with_capacity(__targets.len());
                    #[allow(unused_mut)]
                    let mut __sends = ::std::vec::Vec::new();
                    for __target in __targets {
                        match __target { #( #arms, )* }
                    }
                    #private::NodeOutput { update: __update, goto: __goto, sends: __sends }
                })
        }
    }
}

/// The trait through which node arguments are supplied: one impl for the state, one for
/// the context. Local to the expansion so that its message can name this graph's types.
fn node_parameter_trait(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let state_text = type_text(&state);
    let message = "a `#[node]` fn cannot take `{Self}`";
    let label = format!("the graph supplies `&{state_text}` and `&Ctx` only");
    let note = format!(
        "a `#[node]` fn takes the state, the context or both, in any order: `state: &{state_text}`, `ctx: &Ctx`; only a node that every edge into it is a `Send` to may take an input of its own instead of the state"
    );
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait NodeParameter<'a> {
            fn supply(state: &'a #state, ctx: &'a #private::NodeContext<Graph>) -> Self;
        }

        impl<'a> NodeParameter<'a> for &'a #state {
            fn supply(state: &'a #state, _: &'a #private::NodeContext<Graph>) -> Self {
                state
            }
        }

        impl<'a> NodeParameter<'a> for &'a #private::NodeContext<Graph> {
            fn supply(_: &'a #state, ctx: &'a #private::NodeContext<Graph>) -> Self {
                ctx
            }
        }
    }
}

fn endpoint_source(graph: &GraphModel, endpoint: &Endpoint) -> TokenStream {
    let private = private(graph);
    match graph.node_variant(endpoint) {
        Some(variant) => quote!(#private::Source::Node(Node::#variant)),
        None => quote!(#private::Source::Start),
    }
}

fn endpoint_target(graph: &GraphModel, endpoint: &Endpoint) -> TokenStream {
    let private = private(graph);
    match graph.node_variant(endpoint) {
        Some(variant) => quote!(#private::Target::Node(Node::#variant)),
        None => quote!(#private::Target::End),
    }
}

fn route_fn_ident(router: &Ident) -> Ident {
    format_ident!("__route_{}", router)
}

fn edge_table(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let edges = graph.edges.iter().filter_map(|edge| {
        Some(match edge {
            EdgeModel::Direct { from, to } => {
                let from = endpoint_source(graph, from);
                let to = endpoint_target(graph, to);
                quote!(#private::Edge::Direct { from: #from, to: #to })
            }
            // The node's own return value leads there, not an edge the executor follows.
            EdgeModel::Goto { .. } => return None,
            EdgeModel::Join { from, to } => {
                let names: Vec<String> = from
                    .iter()
                    .map(|source| source.ident().to_string())
                    .collect();
                let trigger = format!("join:{}:{}", names.join("+"), to.ident());
                let from = graph.nodes_of(from).map(|variant| quote!(Node::#variant));
                let to = endpoint_target(graph, to);
                quote!(#private::Edge::Join { from: &[#(#from),*], to: #to, trigger: #trigger })
            }
            // Its node's task runs the router and adds the target to its `goto`.
            EdgeModel::Routed { .. } if graph.edge_routes_in_task(edge) => return None,
            EdgeModel::Routed { from, router, .. } => {
                let from = endpoint_source(graph, from);
                let route = route_fn_ident(router);
                let name = router.to_string();
                if graph.edge_sends(edge) {
                    quote!(#private::Edge::Send { from: #from, router: #name, send: #route })
                } else {
                    quote!(#private::Edge::Routed { from: #from, router: #name, route: #route })
                }
            }
        })
    });
    quote!(&[#(#edges),*])
}

/// `__policy`, each node's retry policy and timeout (its own, else the graph's), when any
/// node has either; `None` otherwise, so the executor asks nothing when it starts a task.
/// Each value is bound to its type at the user's tokens, so a wrong type is reported there.
fn policy_fn(graph: &GraphModel) -> Option<TokenStream> {
    let private = private(graph);
    if graph.retry.is_none()
        && graph.timeout.is_none()
        && graph
            .variant_nodes()
            .all(|node| node.retry.is_none() && node.timeout.is_none())
    {
        return None;
    }
    // The graph's values are written once, in fns of their own, so a mistake in one is
    // reported once, not once per node that inherits it.
    let graph_retry = retry_tokens(graph, graph.retry.as_ref().map(|(_, value)| value));
    let graph_timeout = timeout_tokens(graph.timeout.as_ref().map(|(_, value)| value));
    let arms = graph.variant_nodes().map(|node| {
        let variant = &node.variant;
        let retry = match &node.retry {
            Some((_, value)) => retry_tokens(graph, Some(value)),
            None => quote!(__graph_retry()),
        };
        let timeout = match &node.timeout {
            Some((_, value)) => timeout_tokens(Some(value)),
            None => quote!(__graph_timeout()),
        };
        quote!(Node::#variant => #private::NodePolicy { retry: #retry, timeout: #timeout })
    });
    Some(quote! {
        fn __policy(node: Node) -> #private::NodePolicy {
            match node {
                #( #arms, )*
            }
        }

        #[allow(dead_code)]
        fn __graph_retry() -> ::core::option::Option<#private::RetryPolicy> {
            #graph_retry
        }

        #[allow(dead_code)]
        fn __graph_timeout() -> ::core::option::Option<::core::time::Duration> {
            #graph_timeout
        }
    })
}

/// A `retry = ..` value as an `Option<RetryPolicy>`, bound to its type at the user's tokens.
fn retry_tokens(graph: &GraphModel, value: Option<&syn::Expr>) -> TokenStream {
    let private = private(graph);
    match value.map(retry_value) {
        None | Some(RetryValue::Invalid(_)) => quote!(::core::option::Option::None),
        Some(RetryValue::Attempts(attempts)) => {
            quote!(::core::option::Option::Some(#private::RetryPolicy::new(#attempts)))
        }
        Some(RetryValue::Policy(value)) => {
            let ty = quote_spanned!(value.span()=> #private::RetryPolicy);
            quote_spanned!(value.span()=> ::core::option::Option::Some({ let __retry: #ty = #value; __retry }))
        }
    }
}

/// A `timeout = ..` value as an `Option<Duration>`, bound to its type at the user's tokens.
fn timeout_tokens(value: Option<&syn::Expr>) -> TokenStream {
    match value.map(timeout_value) {
        None | Some(TimeoutValue::Invalid(_)) => quote!(::core::option::Option::None),
        Some(TimeoutValue::Literal(duration)) => {
            let secs = duration.as_secs();
            let nanos = duration.subsec_nanos();
            quote!(::core::option::Option::Some(::core::time::Duration::new(#secs, #nanos)))
        }
        Some(TimeoutValue::Expr(value)) => {
            let ty = quote_spanned!(value.span()=> ::core::time::Duration);
            quote_spanned!(value.span()=> ::core::option::Option::Some({ let __timeout: #ty = #value; __timeout }))
        }
    }
}

fn route_fns(lowered: &Lowered<'_>) -> TokenStream {
    let graph = lowered.graph;
    let private = private(graph);
    let state = graph.state_type();
    lowered
        .routes
        .iter()
        .map(
            |Route {
                 router, targets, ..
             }| {
                let ident = router.ident();
                let route = route_fn_ident(ident);
                let enum_ident = &router.enum_ident;
                let span = match &router.item.sig.output {
                    syn::ReturnType::Type(_, ty) => ty.span(),
                    syn::ReturnType::Default => ident.span(),
                };
                if router.in_task {
                    return async_route_fn(graph, router, targets, span);
                }
                let call = quote_spanned!(span=> #ident(__state));
                if router.sends {
                    let routes_type = quote_spanned!(span=> ::std::vec::Vec<#enum_ident>);
                    let arms = targets
                        .iter()
                        .filter_map(|RouteTarget { endpoint, variant }| {
                            let node = graph.node_variant(endpoint)?;
                            Some(quote!(#enum_ident::#variant(__input) => (Node::#node, __Sent::#node(__input))))
                        });
                    return quote! {
                        fn #route(__state: &#state) -> ::std::vec::Vec<(Node, __Sent)> {
                            let __routes: #routes_type = #call;
                            __routes
                                .into_iter()
                                .map(|__route| match __route {
                                    #( #arms, )*
                                })
                                .collect()
                        }
                    };
                }
                let arms = targets.iter().map(|RouteTarget { endpoint, variant }| {
                    let to = endpoint_target(graph, endpoint);
                    quote!(#enum_ident::#variant => #to)
                });
                let route_type = quote_spanned!(span=> #enum_ident);
                quote! {
                    fn #route(__state: &#state) -> #private::Target<Node> {
                        let __route: #route_type = #call;
                        match __route {
                            #( #arms, )*
                        }
                    }
                }
            },
        )
        .collect()
}

/// `__route_<router>` for an `async` router: calls it with the state its node left and the
/// node's context, and maps its enum to a target. Boxed, as its node's task awaits it
/// through a fn pointer; a plain router's fn stays unboxed. Each argument is spanned at the
/// user's parameter type and the result at the return type, as a node's are.
fn async_route_fn(
    graph: &GraphModel,
    router: &RouterModel,
    targets: &[RouteTarget<'_>],
    span: Span,
) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let ident = router.ident();
    let route = route_fn_ident(ident);
    let enum_ident = &router.enum_ident;
    let args = router.item.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(param) => {
            let ty = &param.ty;
            Some(quote_spanned!(ty.span()=> <#ty as RouterParameter<'_>>::supply(__state, __ctx)))
        }
        FnArg::Receiver(_) => None,
    });
    let arms = targets.iter().map(|RouteTarget { endpoint, variant }| {
        let to = endpoint_target(graph, endpoint);
        quote!(#enum_ident::#variant => #to)
    });
    let result = quote_spanned!(span=> __result);
    let convert =
        quote_spanned!(span=> <_ as #private::IntoRoute<#enum_ident>>::into_route(#result));
    quote! {
        fn #route<'a>(
            __state: &'a #state,
            __ctx: &'a #private::NodeContext<Graph>,
        ) -> #private::BoxFuture<'a, ::core::result::Result<#private::Target<Node>, #private::NodeError>> {
            ::std::boxed::Box::pin(async move {
                let #result = #ident(#(#args),*).await;
                let __route: #enum_ident = #convert?;
                ::core::result::Result::Ok(match __route {
                    #( #arms, )*
                })
            })
        }
    }
}

/// The trait through which an `async` router's arguments are supplied, as
/// [`node_parameter_trait`]'s for nodes, with a message that names routers.
fn router_parameter_trait(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let state_text = type_text(&state);
    let message = "an `async` `#[router]` fn cannot take `{Self}`";
    let label = format!("the graph supplies `&{state_text}` and `&Ctx` only");
    let note = format!(
        "an `async` `#[router]` fn takes the state and, to ask a model, the context: `state: &{state_text}`, `ctx: &Ctx`"
    );
    quote! {
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        trait RouterParameter<'a> {
            fn supply(state: &'a #state, ctx: &'a #private::NodeContext<Graph>) -> Self;
        }

        impl<'a> RouterParameter<'a> for &'a #state {
            fn supply(state: &'a #state, _: &'a #private::NodeContext<Graph>) -> Self {
                state
            }
        }

        impl<'a> RouterParameter<'a> for &'a #private::NodeContext<Graph> {
            fn supply(_: &'a #state, ctx: &'a #private::NodeContext<Graph>) -> Self {
                ctx
            }
        }
    }
}

/// The node's body, followed by the `async` routers that route from it, if any: they run in
/// its task, on what it returned.
fn with_routers_in_task(lowered: &Lowered<'_>, node: &NodeModel, body: TokenStream) -> TokenStream {
    let graph = lowered.graph;
    let private = private(graph);
    let routers: Vec<&RouterModel> = lowered
        .routes
        .iter()
        .filter(|route| {
            route.router.in_task
                && route
                    .from
                    .node()
                    .is_some_and(|index| graph.nodes[index].ident() == node.ident())
        })
        .map(|route| route.router)
        .collect();
    if routers.is_empty() {
        return body;
    }
    let names = routers.iter().map(|router| router.ident().to_string());
    let fns = routers.iter().map(|router| route_fn_ident(router.ident()));
    quote! {
        {
            const __ROUTERS: &[(&str, #private::AsyncRoute<Graph>)] = &[ #( (#names, #fns) ),* ];
            let __output = #body;
            #private::route_in_task::<Graph>(__output, &*__state, &__ctx, __ROUTERS).await
        }
    }
}

/// The node's body, after binding what its task was given: `__state`, or for a node with
/// an input of its own, `__payload`. A task given the wrong one (a node with an input of its
/// own started by name, from a command or a stored thread) fails with an error naming it.
fn with_input(
    graph: &GraphModel,
    node: &NodeModel,
    own_input: Option<&syn::Type>,
    body: TokenStream,
) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let name = node.name();
    let variant = &node.variant;
    match own_input {
        Some(ty) => {
            let message = format!(
                "node `{name}` takes a `{}`, which only a `Send` gives it",
                type_text(ty)
            );
            quote! {
                {
                    let __payload: &#ty = match __input.sent() {
                        ::core::option::Option::Some(__Sent::#variant(__payload)) => __payload,
                        _ => return ::core::result::Result::Err(#private::NodeError::msg(#message)),
                    };
                    #body
                }
            }
        }
        None => {
            let message = format!("node `{name}` takes the state, and was given none");
            quote! {
                {
                    let __state: &#state = match __input.state() {
                        ::core::option::Option::Some(__state) => __state,
                        ::core::option::Option::None => {
                            return ::core::result::Result::Err(#private::NodeError::msg(#message));
                        }
                    };
                    #body
                }
            }
        }
    }
}

/// The graph's `Send` inputs: one variant per node, holding what the node takes (its own
/// type or the state), and how each is written as JSON.
fn sent_enum(lowered: &Lowered<'_>) -> TokenStream {
    let graph = lowered.graph;
    let private = private(graph);
    let state = graph.state_type();
    let vis = item_vis(graph);
    let variants = lowered.sent.iter().map(|sent| {
        let variant = &sent.node.variant;
        match sent.own_input {
            Some(ty) => quote!(#variant(#ty)),
            None => quote!(#variant(#state)),
        }
    });
    let nodes = lowered.sent.iter().map(|sent| {
        let variant = &sent.node.variant;
        quote!(__Sent::#variant(_) => Node::#variant)
    });
    let states = lowered.sent.iter().map(|sent| {
        let variant = &sent.node.variant;
        match sent.own_input {
            Some(_) => quote!(__Sent::#variant(_) => ::core::option::Option::None),
            None => quote!(__Sent::#variant(ref __state) => ::core::option::Option::Some(__state)),
        }
    });
    let from_states = lowered
        .sent
        .iter()
        .filter(|sent| sent.own_input.is_none())
        .map(|sent| {
            let variant = &sent.node.variant;
            quote!(Node::#variant => ::core::option::Option::Some(__Sent::#variant(__state)))
        });
    let payloads = lowered.sent.iter().map(|sent| {
        let variant = &sent.node.variant;
        match sent.own_input {
            Some(ty) => quote!(__Sent::#variant(ref __payload) => ::core::option::Option::Some(
                (&#private::PayloadProbe::<#ty>::new()).to_json(__payload)
            )),
            None => quote!(__Sent::#variant(_) => ::core::option::Option::None),
        }
    });
    let from_payloads = lowered.sent.iter().filter_map(|sent| {
        let variant = &sent.node.variant;
        let ty = sent.own_input?;
        Some(quote!(Node::#variant => (&#private::PayloadProbe::<#ty>::new()).parse_json(__value).map(__Sent::#variant)))
    });
    // Each sending router's enum converts into the `Send` inputs, so a `Command` can carry
    // a `Send` built the way a router builds one, its payload typed.
    let from_routes = lowered
        .routes
        .iter()
        .filter(|route| route.router.sends)
        .map(|route| {
            let enum_ident = &route.router.enum_ident;
            let arms = route
                .targets
                .iter()
                .filter_map(|RouteTarget { endpoint, variant }| {
                    let node = graph.node_variant(endpoint)?;
                    Some(quote!(#enum_ident::#variant(__input) => __Sent::#node(__input)))
                });
            quote! {
                impl ::core::convert::From<#enum_ident> for __Sent {
                    fn from(__route: #enum_ident) -> Self {
                        match __route {
                            #( #arms, )*
                        }
                    }
                }
            }
        });
    quote! {
        #( #from_routes )*

        #[doc(hidden)]
        #[allow(clippy::large_enum_variant)]
        #vis enum __Sent {
            #( #variants, )*
        }

        impl #private::SentInput for __Sent {
            type Node = Node;
            type State = #state;

            fn node(&self) -> Node {
                match *self {
                    #( #nodes, )*
                }
            }

            fn state(&self) -> ::core::option::Option<&#state> {
                match *self {
                    #( #states, )*
                }
            }

            #[allow(unreachable_patterns, unused_variables)]
            fn from_state(node: Node, __state: #state) -> ::core::option::Option<Self> {
                match node {
                    #( #from_states, )*
                    _ => ::core::option::Option::None,
                }
            }

            fn payload_json(&self) -> ::core::option::Option<::core::result::Result<#private::SentJson, ::std::string::String>> {
                #[allow(unused_imports)]
                use #private::{PayloadJson as _, PayloadNoJson as _};
                match *self {
                    #( #payloads, )*
                }
            }

            #[allow(unreachable_patterns, unused_variables)]
            fn payload_from_json(node: Node, __value: #private::SentJson) -> ::core::result::Result<Self, ::std::string::String> {
                #[allow(unused_imports)]
                use #private::{PayloadJson as _, PayloadNoJson as _};
                match node {
                    #( #from_payloads, )*
                    _ => ::core::result::Result::Err(::std::format!(
                        "node `{}` takes no input of its own from a `Send`",
                        node.name(),
                    )),
                }
            }
        }
    }
}

fn graph_def_impl(lowered: &Lowered<'_>, stub: bool) -> TokenStream {
    let graph = lowered.graph;
    let private = private(graph);
    let state = graph.state_type();
    let context = context_type(graph);
    let custom = custom_type(graph);
    let tag = graph.tag_ident();
    let variants = graph.variant_nodes().map(|node| &node.variant);
    let (edges, route_fns, bodies): (TokenStream, TokenStream, Vec<TokenStream>) = if stub {
        let bodies = graph
            .variant_nodes()
            .map(|_| quote!(::core::result::Result::Err(#private::NodeError::msg("the graph did not compile"))))
            .collect();
        (quote!(#private::Topology::new(&[])), quote!(), bodies)
    } else {
        let bodies = graph
            .variant_nodes()
            .map(|node| {
                let own_input = lowered.sent_input(node);
                let call = node_call(graph, node, lowered.goto_of(node), own_input);
                with_input(
                    graph,
                    node,
                    own_input,
                    with_routers_in_task(lowered, node, call),
                )
            })
            .collect();
        let mut helpers = route_fns(lowered);
        helpers.extend(node_parameter_trait(graph));
        if lowered.routes.iter().any(|route| route.router.in_task) {
            helpers.extend(router_parameter_trait(graph));
        }
        let edges = edge_table(graph);
        let topology = match policy_fn(graph) {
            Some(policy) => {
                helpers.extend(policy);
                quote!(#private::Topology::new(#edges).with_policy(__policy))
            }
            None => quote!(#private::Topology::new(#edges)),
        };
        (topology, helpers, bodies)
    };
    let spans = graph.variant_nodes().map(|node| node.ident().span());
    let arms = variants.zip(bodies).zip(spans).map(|((variant, body), span)| {
        quote_spanned!(span=> Node::#variant => ::std::boxed::Box::pin(async move { #body }))
    });
    let sent_enum = sent_enum(lowered);
    quote_spanned! {state_span(graph)=>
        const _: () = {
            static __TOPOLOGY: #private::Topology<Node, #state, __Sent> = #edges;

            #sent_enum

            #route_fns

            impl #private::GraphDef for Graph {
                type State = #state;
                type Node = Node;
                type Tag = #tag;
                type Custom = #custom;
                type Context = #context;
                type Sent = __Sent;

                fn topology() -> &'static #private::Topology<Node, #state, __Sent> {
                    &__TOPOLOGY
                }

                fn shared_context(&self) -> &#private::Arc<#context> {
                    &self.context
                }

                fn description() -> &'static #private::GraphDescription {
                    Graph::description()
                }
            }

            impl #private::RunNode for Graph {
                #[allow(unused_variables)]
                fn run_node(
                    node: Node,
                    __input: #private::TaskInput<Self>,
                    __ctx: #private::NodeContext<Self>,
                ) -> #private::NodeFuture<Self> {
                    match node {
                        #( #arms, )*
                    }
                }

                fn child_on_thread() -> ::core::option::Option<#private::ChildOnThread<Self>> {
                    // Method resolution picks the durable answer when the state can be
                    // stored, and `None` otherwise: a question generic code cannot ask.
                    #[allow(unused_imports)]
                    use #private::{ChildOnThreadIfDurable as _, ChildOnThreadNever as _};
                    (&#private::Probe::<Self>::new()).child_on_thread()
                }
            }
        };
    }
}
