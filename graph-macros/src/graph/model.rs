//! The typed graph: nodes, routers, tags and edges with every name resolved, each element
//! keeping the user's tokens for error spans. Nothing is checked or generated here.

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::{Ident, ItemEnum, ItemFn, Path, Type};

use super::parse::{EdgeSyntax, Element, GraphOption, ModuleSyntax, NodeSyntax};
use crate::case::{to_pascal_case, to_snake_case};
use crate::ctxt::Ctxt;

/// The types every expansion declares in the module, with what they are, for messages.
pub(crate) const GENERATED_TYPES: [(&str, &str); 3] = [
    ("Graph", "the generated graph struct"),
    ("Node", "the generated node enum"),
    ("Ctx", "the generated context type"),
];

pub(crate) struct GraphModel {
    /// Where the runtime is: `::stategraph` unless `crate = ..` says otherwise.
    pub(crate) krate: Path,
    pub(crate) state: Option<Type>,
    pub(crate) context: Option<Type>,
    pub(crate) custom: Option<Type>,
    pub(crate) options: Vec<Ident>,
    /// `retry = ..` of the attribute: the policy of every node without its own.
    pub(crate) retry: Option<(Ident, syn::Expr)>,
    /// `timeout = ..` of the attribute: the timeout of every node without its own.
    pub(crate) timeout: Option<(Ident, syn::Expr)>,
    /// The `edges` key, where graph-wide edge errors point; the attribute if absent.
    pub(crate) edges_span: Span,
    pub(crate) module: ModuleSyntax,
    pub(crate) nodes: Vec<NodeModel>,
    /// Second and later `#[node]` fns of a name already taken: reported, not emitted, so
    /// rustc does not report the name again.
    pub(crate) duplicate_nodes: Vec<ItemFn>,
    pub(crate) routers: Vec<RouterModel>,
    pub(crate) tags: Option<ItemEnum>,
    pub(crate) extra_tags: Vec<ItemEnum>,
    pub(crate) edges: Vec<EdgeModel>,
    pub(crate) malformed_edges: Vec<Span>,
    /// A router's target named twice: reported, and left out of its enum.
    pub(crate) duplicate_targets: Vec<Ident>,
}

pub(crate) struct NodeModel {
    pub(crate) item: ItemFn,
    /// `CallModel` for `call_model`.
    pub(crate) variant: Ident,
    /// `goto = [..]` of its attribute: the key, for spans, and the enum the node returns
    /// its targets in (`AgentGoto` for `agent`). Its targets are a `Goto` edge.
    pub(crate) goto: Option<(Ident, Ident)>,
    /// `retry = ..` of its attribute: the key and the value as written.
    pub(crate) retry: Option<(Ident, syn::Expr)>,
    /// `timeout = ..` of its attribute: the key and the value as written.
    pub(crate) timeout: Option<(Ident, syn::Expr)>,
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
    /// Whether the router sends (LangGraph's `Send`): it returns a `Vec` of its enum, whose
    /// variants carry each instance's input, instead of one target. Read off the signature
    /// once, here; every phase after reads this.
    pub(crate) sends: bool,
    /// Whether the router is an `async fn`: it then runs in the task of the node it routes
    /// from, with that task's context, and its target joins the task's `goto`.
    pub(crate) in_task: bool,
}

impl RouterModel {
    pub(crate) fn ident(&self) -> &Ident {
        &self.item.sig.ident
    }
}

/// Whether a router returns a `Vec`: whether it sends.
fn returns_vec(item: &ItemFn) -> bool {
    let syn::ReturnType::Type(_, ty) = &item.sig.output else {
        return false;
    };
    matches!(&**ty, syn::Type::Path(path)
        if path.path.segments.last().is_some_and(|segment| segment.ident == "Vec"))
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

    /// The endpoint as written in the edge list, for messages and docs: `START`, `END`, or
    /// the name.
    pub(crate) fn name(&self) -> String {
        match self {
            Self::Start(_) => "START".to_owned(),
            Self::End(_) => "END".to_owned(),
            other => other.ident().to_string(),
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
    /// A node's `#[node(goto = [..])]`: the node picks among `targets` itself.
    Goto {
        from: Endpoint,
        targets: Vec<Endpoint>,
    },
    Routed {
        from: Endpoint,
        router: Ident,
        /// The `#[router]` fn, when one has this name.
        router_index: Option<usize>,
        /// When no router has this name, the one it is probably a misspelling of: its
        /// enum is still generated from these targets, so the router's body type-checks
        /// and the misspelling is reported once.
        router_guess: Option<usize>,
        targets: Vec<Endpoint>,
    },
}

impl EdgeModel {
    /// The nodes this edge starts from.
    pub(crate) fn sources(&self) -> Vec<&Endpoint> {
        match self {
            Self::Direct { from, .. } | Self::Routed { from, .. } | Self::Goto { from, .. } => {
                vec![from]
            }
            Self::Join { from, .. } => from.iter().collect(),
        }
    }

    /// The places this edge may lead to.
    pub(crate) fn targets(&self) -> Vec<&Endpoint> {
        match self {
            Self::Direct { to, .. } | Self::Join { to, .. } => vec![to],
            Self::Routed { targets, .. } | Self::Goto { targets, .. } => targets.iter().collect(),
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
        retry: None,
        timeout: None,
        edges_span: Span::call_site(),
        nodes: Vec::new(),
        duplicate_nodes: Vec::new(),
        routers: Vec::new(),
        tags: None,
        extra_tags: Vec::new(),
        edges: Vec::new(),
        malformed_edges: Vec::new(),
        duplicate_targets: Vec::new(),
        module,
    };
    let mut gotos = Vec::new();
    for NodeSyntax { item, args } in std::mem::take(&mut model.module.nodes) {
        if model
            .nodes
            .iter()
            .any(|node| node.ident() == &item.sig.ident)
        {
            model.duplicate_nodes.push(item);
            continue;
        }
        let name = to_pascal_case(&item.sig.ident.to_string());
        let goto = args.goto.map(|(key, targets)| {
            gotos.push((item.sig.ident.clone(), targets));
            (
                key,
                format_ident!("{name}Goto", span = item.sig.ident.span()),
            )
        });
        model.nodes.push(NodeModel {
            variant: Ident::new(&name, item.sig.ident.span()),
            item,
            goto,
            retry: args.retry,
            timeout: args.timeout,
        });
    }
    model.routers = std::mem::take(&mut model.module.routers)
        .into_iter()
        .map(|item| RouterModel {
            enum_ident: Ident::new(
                &to_pascal_case(&item.sig.ident.to_string()),
                item.sig.ident.span(),
            ),
            sends: returns_vec(&item),
            in_task: item.sig.asyncness.is_some(),
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
            GraphOption::Retry(key, value) => model.retry = Some((key, value)),
            GraphOption::Timeout(key, value) => model.timeout = Some((key, value)),
            GraphOption::Edges(key, edges) => {
                model.edges_span = key.span();
                edge_syntax.extend(edges);
            }
            GraphOption::Malformed(_) => {}
        }
    }
    for edge in edge_syntax {
        match edge {
            EdgeSyntax::Chain(elements) => model.add_edges(&elements, cx),
            EdgeSyntax::Malformed(span) => model.malformed_edges.push(span),
        }
    }
    for (from, targets) in gotos {
        let targets = model.resolve_targets(&targets);
        model.edges.push(EdgeModel::Goto {
            from: model.resolve(&from),
            targets,
        });
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

    fn routed(&mut self, from: &Ident, router: &Ident, targets: &[Ident]) -> EdgeModel {
        let router_index = self.routers.iter().position(|r| r.ident() == router);
        let router_guess = match router_index {
            Some(_) => None,
            None => {
                let name = router.to_string();
                let names: Vec<String> =
                    self.routers.iter().map(|r| r.ident().to_string()).collect();
                crate::suggest::closest(&name, names.iter().map(String::as_str))
                    .and_then(|closest| names.iter().position(|n| n == closest))
            }
        };
        EdgeModel::Routed {
            from: self.resolve(from),
            router: router.clone(),
            router_index,
            router_guess,
            targets: self.resolve_targets(targets),
        }
    }

    /// A router's or a `goto`'s targets resolved, each once: a second mention is kept
    /// apart to be reported.
    fn resolve_targets(&mut self, targets: &[Ident]) -> Vec<Endpoint> {
        let mut seen = Vec::new();
        let mut resolved = Vec::new();
        for target in targets {
            let target = self.resolve(target);
            if seen.contains(&target.key()) {
                self.duplicate_targets.push(target.ident().clone());
            } else {
                seen.push(target.key());
                resolved.push(target);
            }
        }
        resolved
    }

    /// Turns one chain `a -> [b, c] -> d -> r ? [..]` into its edges.
    fn add_edges(&mut self, elements: &[Element], cx: &mut Ctxt) {
        for pair in elements.windows(2) {
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
                    let edge = self.routed(from, router, targets);
                    self.edges.push(edge);
                }
                (Element::List(span, sources), Element::List(_, targets)) => {
                    self.malformed_edges.push(*span);
                    let edges: Vec<String> = targets
                        .iter()
                        .map(|target| format!("`{} -> {target}`", list_text(sources)))
                        .collect();
                    cx.error_at(
                        *span,
                        format!(
                            "a fan-in leads to one node; write one edge per target: {}",
                            edges.join(", ")
                        ),
                    );
                }
                (Element::List(span, sources), Element::Routed { router, targets }) => {
                    self.malformed_edges.push(*span);
                    cx.error_at(
                        *span,
                        format!(
                            "a router follows one node, not a fan-in; join first, then route: `{} -> merge`, `merge -> {router} ? [..]`",
                            list_text(sources)
                        ),
                    );
                    // Still declares the router's targets, so its enum exists.
                    if let Some(first) = sources.first() {
                        let edge = self.routed(first, router, targets);
                        self.edges.push(edge);
                    }
                }
                (Element::Routed { .. }, _) => {}
            }
        }
    }

    /// The `Node` variant of a resolved node endpoint, as computed when the node was read.
    pub(crate) fn node_variant(&self, endpoint: &Endpoint) -> Option<&Ident> {
        endpoint.node().map(|index| &self.nodes[index].variant)
    }

    /// The `Node` variants of the resolved nodes among `endpoints`.
    pub(crate) fn nodes_of<'a>(
        &'a self,
        endpoints: &'a [Endpoint],
    ) -> impl Iterator<Item = &'a Ident> + 'a {
        endpoints
            .iter()
            .filter_map(|endpoint| self.node_variant(endpoint))
    }

    /// Whether a routed edge's router sends; `false` for an unknown router (reported).
    pub(crate) fn edge_sends(&self, edge: &EdgeModel) -> bool {
        matches!(edge, EdgeModel::Routed { router_index: Some(index), .. } if self.routers[*index].sends)
    }

    /// Whether a routed edge's router is `async`, so it runs in its node's task instead of
    /// being an edge the executor follows; `false` for an unknown router (reported).
    pub(crate) fn edge_routes_in_task(&self, edge: &EdgeModel) -> bool {
        matches!(edge, EdgeModel::Routed { router_index: Some(index), .. } if self.routers[*index].in_task)
    }

    /// The input type of node `index` when it takes one of its own: every edge into it is
    /// a sending router's or a `goto` (so each instance gets its input from a `Send`) and
    /// it takes a reference to a type other than the state (`task: &SubTask`). `None` for a
    /// node that takes the state, or that another edge starts (then the node's parameter is
    /// checked against the state, and a wrong one reported there).
    pub(crate) fn own_input(&self, index: usize) -> Option<&Type> {
        let input = node_input_type(&self.nodes[index].item)?;
        let state = self.state.as_ref()?;
        if type_text(input) == type_text(state) {
            return None;
        }
        let mut sent = false;
        for edge in &self.edges {
            if !edge
                .targets()
                .iter()
                .any(|target| target.node() == Some(index))
            {
                continue;
            }
            if !self.edge_sends(edge) && !matches!(edge, EdgeModel::Goto { .. }) {
                return None;
            }
            sent = true;
        }
        sent.then_some(input)
    }

    /// An earlier node whose fn name gives the same `Node` variant as node `index`'s
    /// (`a_b` and `aB` both give `AB`).
    pub(crate) fn node_variant_taken_by(&self, index: usize) -> Option<&NodeModel> {
        let variant = &self.nodes[index].variant;
        self.nodes[..index]
            .iter()
            .find(|node| node.variant == *variant)
    }

    /// The nodes that have a `Node` variant: all but a second one giving the same variant
    /// (reported), which is left out so the clash gives one error.
    pub(crate) fn variant_nodes(&self) -> impl Iterator<Item = &NodeModel> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(index, _)| self.node_variant_taken_by(*index).is_none())
            .map(|(_, node)| node)
    }

    /// The generated type a user's `#[tags]` enum is named like, described.
    pub(crate) fn tags_clash(&self) -> Option<String> {
        let tags = self.tags.as_ref()?;
        GENERATED_TYPES
            .iter()
            .find(|(name, _)| tags.ident == name)
            .map(|(name, what)| format!("{what} `{name}`"))
    }

    /// The type router `index`'s generated enum is named like, described: a type the
    /// expansion always declares, the tag enum, or an earlier router's enum.
    pub(crate) fn router_clash(&self, index: usize) -> Option<String> {
        let enum_ident = &self.routers[index].enum_ident;
        if let Some((name, what)) = GENERATED_TYPES.iter().find(|(name, _)| enum_ident == name) {
            return Some(format!("{what} `{name}`"));
        }
        if *enum_ident == self.tag_ident() {
            return Some(match self.emitted_tags() {
                Some(_) => format!("the `#[tags]` enum `{enum_ident}`"),
                None => format!("the generated tag enum `{enum_ident}`"),
            });
        }
        self.routers[..index]
            .iter()
            .find(|router| router.enum_ident == *enum_ident)
            .map(|router| format!("the enum of router `{}`", router.ident()))
    }

    /// The user's `#[tags]` enum, unless it is named like a generated type (reported): the
    /// expansion then declares `Tag` instead, so the clash gives one error, not a cascade.
    pub(crate) fn emitted_tags(&self) -> Option<&ItemEnum> {
        self.tags.as_ref().filter(|_| self.tags_clash().is_none())
    }

    /// The tag enum's name: the user's `#[tags]` enum, or `Tag`.
    pub(crate) fn tag_ident(&self) -> Ident {
        self.emitted_tags()
            .map_or_else(|| format_ident!("Tag"), |tags| tags.ident.clone())
    }

    /// The tags' snake_case names, in declaration order.
    pub(crate) fn tag_names(&self) -> Vec<(Ident, String)> {
        self.emitted_tags()
            .into_iter()
            .flat_map(|tags| &tags.variants)
            .map(|variant| {
                (
                    variant.ident.clone(),
                    to_snake_case(&variant.ident.to_string()),
                )
            })
            .collect()
    }

    /// The state type: as given, else (the error already reported) the type the nodes
    /// take by reference, so that code using the graph still type-checks, else a stub.
    pub(crate) fn state_type(&self) -> proc_macro2::TokenStream {
        let krate = &self.krate;
        match self.state.as_ref().or(self.state_from_nodes()) {
            Some(state) => quote!(#state),
            None => quote!(#krate::__private::MissingState),
        }
    }

    /// `Topic` when a node takes `state: &Topic`.
    pub(crate) fn state_from_nodes(&self) -> Option<&Type> {
        self.nodes
            .iter()
            .find_map(|node| node_input_type(&node.item))
    }
}

fn list_text(names: &[Ident]) -> String {
    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
    format!("[{}]", names.join(", "))
}

/// `SubTask` for a node fn taking `task: &SubTask` (its first parameter that is not the
/// context, when it is a reference).
pub(crate) fn node_input_type(item: &ItemFn) -> Option<&Type> {
    item.sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(param) if !is_ctx_param(&param.ty) => match &*param.ty {
            Type::Reference(reference) => Some(&*reference.elem),
            _ => None,
        },
        _ => None,
    })
}

/// Whether a node parameter is the context: `&Ctx` (or a path ending in `Ctx`).
pub(crate) fn is_ctx_param(ty: &Type) -> bool {
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

/// A type as a user writes it, for messages: `Vec<u8>`, not `Vec < u8 >`.
pub(crate) fn type_text(tokens: &impl quote::ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    for part in text.split(' ') {
        let glue = matches!(part, "::" | "<" | ">" | "," | ")" | "]")
            || out.ends_with("::")
            || out.ends_with('<')
            || out.ends_with('&')
            || out.ends_with('(')
            || out.ends_with('[');
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(part);
        if part == "," {
            out.push(' ');
        }
    }
    out.replace(", >", ",>").replace("  ", " ")
}

/// What a node's or the graph's `retry = ..` says, read off its tokens.
pub(crate) enum RetryValue<'a> {
    /// `retry = 3`: that many attempts, with the default policy.
    Attempts(u32),
    /// An expression rustc checks to be a `RetryPolicy`.
    Policy(&'a syn::Expr),
    /// A literal that is neither (the message says why).
    Invalid(String),
}

pub(crate) fn retry_value(expr: &syn::Expr) -> RetryValue<'_> {
    let syn::Expr::Lit(syn::ExprLit { lit, .. }) = expr else {
        return RetryValue::Policy(expr);
    };
    match lit {
        syn::Lit::Int(int) => match int.base10_parse::<u32>() {
            Ok(0) => RetryValue::Invalid(
                "`retry = 0`: a node makes at least one attempt; give the most attempts, e.g. `retry = 3`".to_owned(),
            ),
            Ok(attempts) => RetryValue::Attempts(attempts),
            Err(_) => RetryValue::Invalid(format!(
                "`retry = {int}` is not a number of attempts (a `u32`), e.g. `retry = 3`"
            )),
        },
        _ => RetryValue::Invalid(
            "`retry` takes the most attempts (`retry = 3`) or a `RetryPolicy` (`retry = RetryPolicy::new(3)`)".to_owned(),
        ),
    }
}

/// What a node's or the graph's `timeout = ..` says, read off its tokens.
pub(crate) enum TimeoutValue<'a> {
    /// `timeout = "30s"`, parsed.
    Literal(std::time::Duration),
    /// An expression rustc checks to be a `Duration`.
    Expr(&'a syn::Expr),
    /// A literal that is not a duration (the message says why).
    Invalid(String),
}

pub(crate) fn timeout_value(expr: &syn::Expr) -> TimeoutValue<'_> {
    let syn::Expr::Lit(syn::ExprLit { lit, .. }) = expr else {
        return TimeoutValue::Expr(expr);
    };
    match lit {
        syn::Lit::Str(text) => match humantime::parse_duration(&text.value()) {
            Ok(duration) if duration.is_zero() => TimeoutValue::Invalid(
                "a timeout of zero fails every attempt; give a positive duration, e.g. `timeout = \"30s\"`".to_owned(),
            ),
            Ok(duration) => TimeoutValue::Literal(duration),
            Err(error) => TimeoutValue::Invalid(format!(
                "`{}` is not a duration ({error}); write e.g. `timeout = \"30s\"` or `\"500ms\"`",
                text.value()
            )),
        },
        _ => TimeoutValue::Invalid(
            "a timeout needs a unit: `timeout = \"30s\"`, or a `Duration` expression".to_owned(),
        ),
    }
}
