//! The typed graph: nodes, routers, tags and edges with every name resolved, each element
//! keeping the user's tokens for error spans. Nothing is checked or generated here.

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::{Ident, ItemEnum, ItemFn, Path, Type};

use super::parse::{EdgeSyntax, Element, GraphOption, ModuleSyntax};
use crate::case::{to_pascal_case, to_snake_case};
use crate::ctxt::Ctxt;

pub(crate) struct GraphModel {
    /// Where the runtime is: `::stategraph` unless `crate = ..` says otherwise.
    pub(crate) krate: Path,
    pub(crate) state: Option<Type>,
    pub(crate) context: Option<Type>,
    pub(crate) custom: Option<Type>,
    pub(crate) options: Vec<Ident>,
    /// The `edges` key, where graph-wide edge errors point; the attribute if absent.
    pub(crate) edges_span: Span,
    pub(crate) module: ModuleSyntax,
    pub(crate) nodes: Vec<NodeModel>,
    pub(crate) routers: Vec<RouterModel>,
    pub(crate) tags: Option<ItemEnum>,
    pub(crate) extra_tags: Vec<ItemEnum>,
    pub(crate) edges: Vec<EdgeModel>,
    pub(crate) malformed_edges: Vec<Span>,
}

pub(crate) struct NodeModel {
    pub(crate) item: ItemFn,
    /// `CallModel` for `call_model`.
    pub(crate) variant: Ident,
}

impl NodeModel {
    pub(crate) fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }
    pub(crate) fn name(&self) -> String {
        self.item.sig.ident.to_string()
    }
}

pub(crate) struct RouterModel {
    pub(crate) item: ItemFn,
    /// `RouteAfterMerge` for `route_after_merge`.
    pub(crate) enum_ident: Ident,
}

impl RouterModel {
    pub(crate) fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }
}

/// One end of an edge, resolved.
#[derive(Clone)]
pub(crate) enum Endpoint {
    Start(Ident),
    End(Ident),
    Node { index: usize, ident: Ident },
    Unknown(Ident),
}

impl Endpoint {
    pub(crate) fn ident(&self) -> &Ident {
        match self {
            Self::Start(ident)
            | Self::End(ident)
            | Self::Node { ident, .. }
            | Self::Unknown(ident) => ident,
        }
    }

    pub(crate) fn node(&self) -> Option<usize> {
        match self {
            Self::Node { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// A stable key for comparing endpoints: `START`, `END`, a node index, or the unknown name.
    pub(crate) fn key(&self) -> String {
        match self {
            Self::Start(_) => "START".to_owned(),
            Self::End(_) => "END".to_owned(),
            Self::Node { index, .. } => format!("#{index}"),
            Self::Unknown(ident) => format!("?{ident}"),
        }
    }

    /// The variant of a router's generated enum that leads here.
    pub(crate) fn route_variant(&self) -> Ident {
        let ident = self.ident();
        match self {
            Self::End(_) => Ident::new("End", ident.span()),
            Self::Start(_) => Ident::new("Start", ident.span()),
            _ => Ident::new(&to_pascal_case(&ident.to_string()), ident.span()),
        }
    }
}

pub(crate) enum EdgeModel {
    Direct {
        from: Endpoint,
        to: Endpoint,
    },
    Join {
        from: Vec<Endpoint>,
        to: Endpoint,
    },
    Routed {
        from: Endpoint,
        router: Ident,
        /// The `#[router]` fn, when one has this name.
        router_index: Option<usize>,
        targets: Vec<Endpoint>,
    },
}

impl EdgeModel {
    /// The nodes this edge starts from.
    pub(crate) fn sources(&self) -> Vec<&Endpoint> {
        match self {
            Self::Direct { from, .. } | Self::Routed { from, .. } => vec![from],
            Self::Join { from, .. } => from.iter().collect(),
        }
    }

    /// The places this edge may lead to.
    pub(crate) fn targets(&self) -> Vec<&Endpoint> {
        match self {
            Self::Direct { to, .. } | Self::Join { to, .. } => vec![to],
            Self::Routed { targets, .. } => targets.iter().collect(),
        }
    }
}

pub(crate) fn build(options: Vec<GraphOption>, module: ModuleSyntax, cx: &mut Ctxt) -> GraphModel {
    let mut model = GraphModel {
        krate: syn::parse_quote!(::stategraph),
        state: None,
        context: None,
        custom: None,
        options: options.iter().map(|option| option.key().clone()).collect(),
        edges_span: Span::call_site(),
        nodes: Vec::new(),
        routers: Vec::new(),
        tags: None,
        extra_tags: Vec::new(),
        edges: Vec::new(),
        malformed_edges: Vec::new(),
        module,
    };
    model.nodes = std::mem::take(&mut model.module.nodes)
        .into_iter()
        .map(|item| NodeModel {
            variant: Ident::new(
                &to_pascal_case(&item.sig.ident.to_string()),
                item.sig.ident.span(),
            ),
            item,
        })
        .collect();
    model.routers = std::mem::take(&mut model.module.routers)
        .into_iter()
        .map(|item| RouterModel {
            enum_ident: Ident::new(
                &to_pascal_case(&item.sig.ident.to_string()),
                item.sig.ident.span(),
            ),
            item,
        })
        .collect();
    let mut tags = std::mem::take(&mut model.module.tags).into_iter();
    model.tags = tags.next();
    model.extra_tags = tags.collect();

    let mut edge_syntax = Vec::new();
    for option in options {
        match option {
            GraphOption::State(_, ty) => model.state = Some(ty),
            GraphOption::Context(_, ty) => model.context = Some(ty),
            GraphOption::Custom(_, ty) => model.custom = Some(ty),
            GraphOption::Crate(_, path) => model.krate = path,
            GraphOption::Edges(key, edges) => {
                model.edges_span = key.span();
                edge_syntax.extend(edges);
            }
        }
    }
    for edge in edge_syntax {
        model.add_edges(edge, cx);
    }
    model
}

impl GraphModel {
    fn resolve(&self, ident: &Ident) -> Endpoint {
        if ident == "START" {
            return Endpoint::Start(ident.clone());
        }
        if ident == "END" {
            return Endpoint::End(ident.clone());
        }
        match self.nodes.iter().position(|node| node.ident() == ident) {
            Some(index) => Endpoint::Node {
                index,
                ident: ident.clone(),
            },
            None => Endpoint::Unknown(ident.clone()),
        }
    }

    /// Turns one chain `a -> [b, c] -> d -> r ? [..]` into its edges.
    fn add_edges(&mut self, edge: EdgeSyntax, cx: &mut Ctxt) {
        for pair in edge.elements.windows(2) {
            let [from, to] = pair else { continue };
            match (from, to) {
                (Element::Name(from), Element::Name(to)) => self.edges.push(EdgeModel::Direct {
                    from: self.resolve(from),
                    to: self.resolve(to),
                }),
                (Element::Name(from), Element::List(_, targets)) => {
                    for to in targets {
                        self.edges.push(EdgeModel::Direct {
                            from: self.resolve(from),
                            to: self.resolve(to),
                        });
                    }
                }
                (Element::List(_, sources), Element::Name(to)) if sources.len() == 1 => {
                    self.edges.push(EdgeModel::Direct {
                        from: self.resolve(&sources[0]),
                        to: self.resolve(to),
                    });
                }
                (Element::List(_, sources), Element::Name(to)) => {
                    self.edges.push(EdgeModel::Join {
                        from: sources.iter().map(|source| self.resolve(source)).collect(),
                        to: self.resolve(to),
                    })
                }
                (Element::Name(from), Element::Routed { router, targets }) => {
                    self.edges.push(EdgeModel::Routed {
                        from: self.resolve(from),
                        router_index: self.routers.iter().position(|r| r.ident() == router),
                        router: router.clone(),
                        targets: targets.iter().map(|target| self.resolve(target)).collect(),
                    });
                }
                (Element::List(span, _), Element::List(..)) => {
                    self.malformed_edges.push(edge.span);
                    cx.error_at(
                        *span,
                        "a fan-in `[a, b] -> c` must lead to one node; write one edge per target",
                    );
                }
                (Element::List(span, _), Element::Routed { .. }) => {
                    self.malformed_edges.push(edge.span);
                    cx.error_at(*span, "a router follows one node: `node -> router ? [..]`");
                }
                (Element::Routed { .. }, _) => {}
            }
        }
    }

    /// The tag enum's name: the user's `#[tags]` enum, or `Tag`.
    pub(crate) fn tag_ident(&self) -> Ident {
        self.tags
            .as_ref()
            .map_or_else(|| format_ident!("Tag"), |tags| tags.ident.clone())
    }

    /// The tags' snake_case names, in declaration order.
    pub(crate) fn tag_names(&self) -> Vec<(Ident, String)> {
        self.tags
            .iter()
            .flat_map(|tags| &tags.variants)
            .map(|variant| {
                (
                    variant.ident.clone(),
                    to_snake_case(&variant.ident.to_string()),
                )
            })
            .collect()
    }

    pub(crate) fn state_type(&self) -> proc_macro2::TokenStream {
        let krate = &self.krate;
        match &self.state {
            Some(state) => quote!(#state),
            None => quote!(#krate::__private::MissingState),
        }
    }
}
