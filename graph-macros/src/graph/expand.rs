//! Generates the graph's API: small functions, composed at the end. The expansion is glue:
//! every behaviour lives in graph-core, reached through `<crate>::__private`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Type};

use super::docs;
use super::model::{EdgeModel, Endpoint, GraphModel, NodeModel, RouterModel};

/// The whole module. With `stub`, the API is generated but calls no user fn and has no
/// edges, so that one mistake gives one error rather than a cascade.
pub(crate) fn module(graph: &GraphModel, stub: bool) -> TokenStream {
    let module = &graph.module;
    let attrs = &module.attrs;
    let vis = &module.vis;
    let ident = &module.ident;
    let other = &module.other;
    let nodes = graph.nodes.iter().map(|node| &node.item);
    let routers = graph.routers.iter().map(|router| &router.item);
    let extra_tags = &graph.extra_tags;
    let module_docs = docs::module_docs(graph);
    let node_enum = node_enum(graph);
    let tag_enum = tag_enum(graph);
    let route_enums = graph
        .routers
        .iter()
        .filter_map(|router| route_enum(graph, router));
    let graph_struct = graph_struct(graph);
    let graph_def = graph_def_impl(graph, stub);
    quote! {
        #(#attrs)*
        #module_docs
        #vis mod #ident {
            #(#other)*
            #(#nodes)*
            #(#routers)*
            #(#extra_tags)*
            #node_enum
            #tag_enum
            #(#route_enums)*
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
    let variants: Vec<&Ident> = graph.nodes.iter().map(|node| &node.variant).collect();
    let variant_docs = graph.nodes.iter().map(docs::node_variant_docs);
    let names: Vec<String> = graph.nodes.iter().map(NodeModel::name).collect();
    let triggers = names.iter().map(|name| format!("branch:to:{name}"));
    let indices = 0..graph.nodes.len();
    let vis = item_vis(graph);
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
            pub const ALL: &'static [Node] = &[ #( Node::#variants ),* ];

            /// The node's name: its fn name.
            pub const fn name(self) -> &'static str {
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
    let declaration = match &graph.tags {
        Some(tags) => {
            let derives = missing_tag_derives(tags);
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
            pub const fn name(self) -> &'static str {
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

/// The routed edge that uses `router`, if any.
fn routed_edge<'g>(
    graph: &'g GraphModel,
    router: &RouterModel,
) -> Option<(&'g Endpoint, &'g [Endpoint])> {
    graph.edges.iter().find_map(|edge| match edge {
        EdgeModel::Routed {
            from,
            router: name,
            targets,
            ..
        } if name == router.ident() => Some((from, targets.as_slice())),
        _ => None,
    })
}

fn route_enum(graph: &GraphModel, router: &RouterModel) -> Option<TokenStream> {
    let (from, targets) = routed_edge(graph, router)?;
    let ident = &router.enum_ident;
    let vis = item_vis(graph);
    let docs = docs::route_enum_docs(router, from, targets);
    let variants = targets.iter().map(|target| {
        let variant = target.route_variant();
        let doc = match target {
            Endpoint::End(_) => "Stop the graph: go to `END`.".to_owned(),
            other => format!("Run `{}` next.", other.ident()),
        };
        quote!(#[doc = #doc] #variant)
    });
    Some(quote! {
        #docs
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug,
            ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash,
        )]
        #vis enum #ident {
            #( #variants, )*
        }
    })
}

fn graph_struct(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let context = context_type(graph);
    let tag = graph.tag_ident();
    let docs = docs::graph_docs(graph);
    let mermaid = docs::mermaid(graph);
    let vis = item_vis(graph);
    let (new, default) = match &graph.context {
        Some(context) => (
            quote! {
                /// The graph, with the dependencies its nodes reach through `ctx.context()`.
                pub fn new(context: #context) -> Self {
                    Self { context: #private::Arc::new(context) }
                }
            },
            quote!(),
        ),
        None => (
            quote! {
                /// The graph.
                pub fn new() -> Self {
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
    quote! {
        #docs
        #vis struct Graph {
            context: #private::Arc<#context>,
        }

        /// The context type of this graph's nodes: `ctx: &Ctx` in a `#[node]` fn.
        #vis type Ctx = #private::NodeContext<Graph>;

        impl Graph {
            #new

            /// The dependencies given to [`Graph::new`].
            pub fn context(&self) -> &#context {
                &self.context
            }

            /// Runs the graph on `input` and streams the items of `mode`
            /// (`Messages`, `Custom`). The stream is `Send + 'static`; drop it to cancel the run.
            pub fn stream<M: #private::StreamMode<Self>>(&self, input: #state, mode: M) -> #private::GraphStream<Self, M> {
                self.stream_with(input, mode, #private::RunConfig::default())
            }

            /// [`Graph::stream`] with per-run settings: recursion limit, run id, tags, metadata.
            pub fn stream_with<M: #private::StreamMode<Self>>(
                &self,
                input: #state,
                mode: M,
                config: #private::RunConfig<#tag>,
            ) -> #private::GraphStream<Self, M> {
                let _ = mode;
                #private::GraphStream::new(#private::Arc::clone(&self.context), input, config)
            }

            /// Runs the graph on `input` to the end and returns the final state.
            pub fn invoke(&self, input: #state) -> impl ::core::future::Future<Output = ::core::result::Result<#state, #private::GraphError>> + Send + 'static {
                self.invoke_with(input, #private::RunConfig::default())
            }

            /// [`Graph::invoke`] with per-run settings.
            pub fn invoke_with(
                &self,
                input: #state,
                config: #private::RunConfig<#tag>,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<#state, #private::GraphError>> + Send + 'static {
                #private::invoke::<Self>(#private::Arc::clone(&self.context), input, config)
            }

            /// The graph as Mermaid text.
            pub const fn mermaid() -> &'static str {
                #mermaid
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

fn is_ctx_param(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    let Type::Path(path) = &*reference.elem else {
        return false;
    };
    path.path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "Ctx")
}

/// `call_model(&*__state, &__ctx).await`, converted to the node result, with each argument
/// spanned at the user's parameter so type errors land there.
fn node_call(graph: &GraphModel, node: &NodeModel) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let ident = node.ident();
    let args = node.item.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(param) if is_ctx_param(&param.ty) => {
            Some(quote_spanned!(param.ty.span()=> &__ctx))
        }
        FnArg::Typed(param) => Some(quote_spanned!(param.ty.span()=> &*__state)),
        FnArg::Receiver(_) => None,
    });
    let output_span = match &node.item.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => ident.span(),
    };
    let result = quote_spanned!(output_span=> __result);
    quote_spanned! {output_span=>
        {
            let #result = #ident(#(#args),*).await;
            <_ as #private::IntoNodeResult<<#state as #private::State>::Update>>::into_node_result(#result)
        }
    }
}

fn endpoint_source(private: &TokenStream, endpoint: &Endpoint) -> TokenStream {
    match endpoint {
        Endpoint::Node { ident, .. } => {
            let variant = Ident::new(
                &crate::case::to_pascal_case(&ident.to_string()),
                Span::call_site(),
            );
            quote!(#private::Source::Node(Node::#variant))
        }
        _ => quote!(#private::Source::Start),
    }
}

fn endpoint_target(private: &TokenStream, endpoint: &Endpoint) -> TokenStream {
    match endpoint {
        Endpoint::Node { ident, .. } => {
            let variant = Ident::new(
                &crate::case::to_pascal_case(&ident.to_string()),
                Span::call_site(),
            );
            quote!(#private::Target::Node(Node::#variant))
        }
        _ => quote!(#private::Target::End),
    }
}

fn route_fn_ident(router: &Ident) -> Ident {
    format_ident!("__route_{}", router)
}

fn edge_table(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let edges = graph.edges.iter().map(|edge| match edge {
        EdgeModel::Direct { from, to } => {
            let from = endpoint_source(&private, from);
            let to = endpoint_target(&private, to);
            quote!(#private::Edge::Direct { from: #from, to: #to })
        }
        EdgeModel::Join { from, to } => {
            let names: Vec<String> = from
                .iter()
                .map(|source| source.ident().to_string())
                .collect();
            let trigger = format!("join:{}:{}", names.join("+"), to.ident());
            let from = from.iter().map(|source| {
                let variant = Ident::new(
                    &crate::case::to_pascal_case(&source.ident().to_string()),
                    Span::call_site(),
                );
                quote!(Node::#variant)
            });
            let to = endpoint_target(&private, to);
            quote!(#private::Edge::Join { from: &[#(#from),*], to: #to, trigger: #trigger })
        }
        EdgeModel::Routed { from, router, .. } => {
            let from = endpoint_source(&private, from);
            let route = route_fn_ident(router);
            let name = router.to_string();
            quote!(#private::Edge::Routed { from: #from, router: #name, route: #route })
        }
    });
    quote!(&[#(#edges),*])
}

fn route_fns(graph: &GraphModel) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    graph
        .routers
        .iter()
        .filter_map(|router| {
            let (_, targets) = routed_edge(graph, router)?;
            let ident = router.ident();
            let route = route_fn_ident(ident);
            let enum_ident = &router.enum_ident;
            let arms = targets.iter().map(|target| {
                let variant = target.route_variant();
                let to = endpoint_target(&private, target);
                quote!(#enum_ident::#variant => #to)
            });
            let span = match &router.item.sig.output {
                syn::ReturnType::Type(_, ty) => ty.span(),
                syn::ReturnType::Default => ident.span(),
            };
            let call = quote_spanned!(span=> #ident(__state));
            Some(quote! {
                fn #route(__state: &#state) -> #private::Target<Node> {
                    match #call {
                        #( #arms, )*
                    }
                }
            })
        })
        .collect()
}

fn graph_def_impl(graph: &GraphModel, stub: bool) -> TokenStream {
    let private = private(graph);
    let state = graph.state_type();
    let context = context_type(graph);
    let custom = custom_type(graph);
    let tag = graph.tag_ident();
    let variants = graph.nodes.iter().map(|node| &node.variant);
    let (edges, route_fns, bodies): (TokenStream, TokenStream, Vec<TokenStream>) = if stub {
        let bodies = graph
            .nodes
            .iter()
            .map(|_| quote!(::core::result::Result::Err(#private::NodeError::msg("the graph did not compile"))))
            .collect();
        (quote!(&[]), quote!(), bodies)
    } else {
        let bodies = graph
            .nodes
            .iter()
            .map(|node| node_call(graph, node))
            .collect();
        (edge_table(graph), route_fns(graph), bodies)
    };
    let spans = graph.nodes.iter().map(|node| node.ident().span());
    let arms = variants.zip(bodies).zip(spans).map(|((variant, body), span)| {
        quote_spanned!(span=> Node::#variant => ::std::boxed::Box::pin(async move { #body }))
    });
    quote! {
        const _: () = {
            static __TOPOLOGY: #private::Topology<Node, #state> = #private::Topology::new(#edges);

            #route_fns

            impl #private::GraphDef for Graph {
                type State = #state;
                type Node = Node;
                type Tag = #tag;
                type Custom = #custom;
                type Context = #context;

                fn topology() -> &'static #private::Topology<Node, #state> {
                    &__TOPOLOGY
                }

                #[allow(unused_variables)]
                fn run_node(
                    node: Node,
                    __state: #private::Arc<#state>,
                    __ctx: #private::NodeContext<Self>,
                ) -> #private::NodeFuture<Self> {
                    match node {
                        #( #arms, )*
                    }
                }
            }
        };
    }
}
