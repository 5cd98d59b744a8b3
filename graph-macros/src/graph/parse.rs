//! Syntax only: the `#[graph(..)]` arguments and the module's annotated items. Names are
//! not resolved here; every element keeps its tokens for error spans.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, ItemEnum, ItemFn, ItemMod, Path, Token, Type, bracketed};

use crate::ctxt::Ctxt;
use crate::suggest::{backticked, did_you_mean};

const OPTIONS: [&str; 7] = [
    "state", "context", "custom", "edges", "retry", "timeout", "crate",
];

/// One `key = value` of the attribute.
pub(crate) enum GraphOption {
    State(Ident, Type),
    Context(Ident, Type),
    Custom(Ident, Type),
    Crate(Ident, Path),
    Edges(Ident, Vec<EdgeSyntax>),
    /// `retry = 3` or a `RetryPolicy`: the policy of every node without its own.
    Retry(Ident, syn::Expr),
    /// `timeout = "30s"` or a `Duration`: the timeout of every node without its own.
    Timeout(Ident, syn::Expr),
    /// A known key whose value did not parse (already reported): it still counts as
    /// given, so a malformed `state = ..` is not reported again as missing.
    Malformed(Ident),
}

impl GraphOption {
    pub(crate) fn key(&self) -> &Ident {
        match self {
            Self::State(key, _)
            | Self::Context(key, _)
            | Self::Custom(key, _)
            | Self::Crate(key, _)
            | Self::Edges(key, _)
            | Self::Retry(key, _)
            | Self::Timeout(key, _)
            | Self::Malformed(key) => key,
        }
    }
}

/// One edge statement: elements joined by `->`, as written, or the span of one that did
/// not parse (already reported), so that graph-wide checks know the edge list is partial.
pub(crate) enum EdgeSyntax {
    Chain(Vec<Element>),
    Malformed(Span),
}

/// One element of an edge chain.
pub(crate) enum Element {
    /// `plan`, `START`, `END`.
    Name(Ident),
    /// `[search, draft]`.
    List(Span, Vec<Ident>),
    /// `route_after_merge ? [plan, END]`: only last in a chain.
    Routed { router: Ident, targets: Vec<Ident> },
}

/// Parses the attribute's arguments in one pass, so a value's own commas
/// (`context = HashMap<String, Model>`) stay inside it: syn's type parser decides where a
/// value ends. A mistake in one option is reported and the parse resumes at the next
/// option, so one mistake does not hide the others.
pub(crate) fn parse_args(args: TokenStream, cx: &mut Ctxt) -> Vec<GraphOption> {
    let parser = |input: ParseStream| -> syn::Result<Vec<GraphOption>> {
        let mut options = Vec::new();
        while !input.is_empty() {
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                continue;
            }
            match parse_option(input, cx) {
                Ok(Some(option)) => options.push(option),
                Ok(None) => {}
                Err(error) => cx.syn_error(error),
            }
            skip_to_next_option(input)?;
        }
        Ok(options)
    };
    match syn::parse::Parser::parse2(parser, args) {
        Ok(options) => options,
        Err(error) => {
            cx.syn_error(error);
            Vec::new()
        }
    }
}

/// Whether `input` is at the start of an option: `key =`, or a known key.
fn at_option(input: ParseStream) -> bool {
    if input.peek(Token![crate]) {
        return true;
    }
    let Some((key, rest)) = input.cursor().ident() else {
        return false;
    };
    let assigns = rest.punct().is_some_and(|(punct, after)| {
        punct.as_char() == '=' && after.punct().is_none_or(|(next, _)| next.as_char() != '=')
    });
    assigns || OPTIONS.contains(&key.to_string().as_str())
}

/// Skips what is left of a malformed option: up to the `,` before the next option.
fn skip_to_next_option(input: ParseStream) -> syn::Result<()> {
    while !input.is_empty() {
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if input.is_empty() || at_option(input) {
                return Ok(());
            }
        } else {
            input.parse::<TokenTree>()?;
        }
    }
    Ok(())
}

/// The text of the next token, for "found `..`" in messages: a joint punctuation such as
/// `=>` whole, a group as its delimiters.
fn next_token(input: ParseStream) -> Option<String> {
    let (token, rest) = input.cursor().token_tree()?;
    Some(match token {
        TokenTree::Group(group) => match group.delimiter() {
            proc_macro2::Delimiter::Bracket => "[..]".to_owned(),
            proc_macro2::Delimiter::Parenthesis => "(..)".to_owned(),
            proc_macro2::Delimiter::Brace => "{..}".to_owned(),
            proc_macro2::Delimiter::None => group.stream().to_string(),
        },
        TokenTree::Punct(punct) => {
            let mut text = punct.as_char().to_string();
            let (mut spacing, mut rest) = (punct.spacing(), rest);
            while spacing == proc_macro2::Spacing::Joint {
                let Some((next, after)) = rest.punct() else {
                    break;
                };
                text.push(next.as_char());
                (spacing, rest) = (next.spacing(), after);
            }
            text
        }
        other => other.to_string(),
    })
}

fn found(input: ParseStream) -> String {
    next_token(input).map_or_else(String::new, |token| format!(", found `{token}`"))
}

/// What an option's value looks like, for the messages about it.
fn option_example(key: &str) -> &'static str {
    match key {
        "state" => "state = MyState",
        "context" => "context = MyDependencies",
        "custom" => "custom = MyPayload",
        "crate" => "crate = ::stategraph",
        "retry" => "retry = 3",
        "timeout" => "timeout = \"30s\"",
        _ => "edges = [START -> node -> END]",
    }
}

/// One option, leaving `input` at the `,` after it. `Ok(None)`: the option is reported
/// and skipped.
fn parse_option(input: ParseStream, cx: &mut Ctxt) -> syn::Result<Option<GraphOption>> {
    let key = if input.peek(Token![crate]) {
        let token = input.parse::<Token![crate]>()?;
        Ident::new("crate", token.span)
    } else if input.peek(Ident) {
        input.parse::<Ident>()?
    } else {
        return Err(input.error(format!(
            "expected an option of `#[graph]`{}; options are {}",
            found(input),
            backticked(OPTIONS)
        )));
    };
    let name = key.to_string();
    if !OPTIONS.contains(&name.as_str()) {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "unknown option `{key}` in `#[graph]`; options are {}{}",
                backticked(OPTIONS),
                did_you_mean(&name, OPTIONS)
            ),
        ));
    }
    let example = option_example(&name);
    if !input.peek(Token![=]) {
        cx.error_at(
            key.span(),
            format!("expected `=` and a value after `{key}`: `{example}`"),
        );
        return Ok(Some(GraphOption::Malformed(key)));
    }
    let eq = input.parse::<Token![=]>()?;
    if input.is_empty() || input.peek(Token![,]) {
        cx.error_at(
            eq.span,
            format!("expected a value after `{key} =`: `{example}`"),
        );
        return Ok(Some(GraphOption::Malformed(key)));
    }
    let option = match parse_value(key.clone(), input, cx) {
        Ok(option) => option,
        Err(error) => {
            cx.syn_error(error);
            return Ok(Some(GraphOption::Malformed(key)));
        }
    };
    if !input.is_empty() && !input.peek(Token![,]) {
        cx.syn_error(input.error(format!(
            "unexpected `{}` after the value of `{}`; separate options with `,`",
            next_token(input).unwrap_or_default(),
            option.key()
        )));
    }
    Ok(Some(option))
}

fn parse_value(key: Ident, input: ParseStream, cx: &mut Ctxt) -> syn::Result<GraphOption> {
    Ok(match key.to_string().as_str() {
        "state" => GraphOption::State(key, input.parse()?),
        "context" => GraphOption::Context(key, input.parse()?),
        "custom" => GraphOption::Custom(key, input.parse()?),
        "crate" => GraphOption::Crate(key, Path::parse_mod_style(input)?),
        "retry" => GraphOption::Retry(key, input.parse()?),
        "timeout" => GraphOption::Timeout(key, input.parse()?),
        _ => {
            if !input.peek(syn::token::Bracket) {
                return Err(input.error(format!(
                    "expected the edge list in brackets{}: `{}`",
                    found(input),
                    option_example("edges")
                )));
            }
            let content;
            bracketed!(content in input);
            let body: TokenStream = content.parse()?;
            let edges = split_top_level_commas(body)
                .into_iter()
                .map(|edge| parse_edge(edge, cx))
                .collect();
            GraphOption::Edges(key, edges)
        }
    })
}

fn parse_edge(tokens: TokenStream, cx: &mut Ctxt) -> EdgeSyntax {
    let span = tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span());
    match syn::parse2::<EdgeSyntax>(tokens) {
        Ok(edge) => edge,
        Err(error) => {
            cx.syn_error(error);
            EdgeSyntax::Malformed(span)
        }
    }
}

impl Parse for EdgeSyntax {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let first = input.span();
        let mut elements = vec![parse_element(input)?];
        while !input.is_empty() {
            if matches!(elements.last(), Some(Element::Routed { .. })) {
                return Err(input.error(
                    "a routed edge `from -> router ? [..]` ends its chain; start a new edge after a `,`",
                ));
            }
            if !input.peek(Token![->]) {
                return Err(input.error(format!(
                    "expected `->` between the ends of an edge{}; write `from -> to`, and separate edges with `,`",
                    found(input)
                )));
            }
            input.parse::<Token![->]>()?;
            if input.is_empty() {
                return Err(input.error("expected a node after `->`"));
            }
            elements.push(parse_element(input)?);
        }
        if elements.len() < 2 {
            return Err(syn::Error::new(
                first,
                "an edge needs two ends: `from -> to`",
            ));
        }
        Ok(Self::Chain(elements))
    }
}

fn parse_element(input: ParseStream) -> syn::Result<Element> {
    if input.peek(syn::token::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
        if names.is_empty() {
            return Err(syn::Error::new(
                bracket.span.join(),
                "an empty node list: name at least one node",
            ));
        }
        Ok(Element::List(
            bracket.span.join(),
            names.into_iter().collect(),
        ))
    } else if input.peek(Ident) {
        let name: Ident = input.parse()?;
        if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
            if !input.peek(syn::token::Bracket) {
                return Err(input.error(format!(
                    "expected the targets of router `{name}` in brackets{}: `{name} ? [a, END]`",
                    found(input)
                )));
            }
            let content;
            bracketed!(content in input);
            let targets = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
            Ok(Element::Routed {
                router: name,
                targets: targets.into_iter().collect(),
            })
        } else {
            Ok(Element::Name(name))
        }
    } else {
        Err(input.error(format!(
            "expected a node, `START`, `END` or a list `[a, b]`{}",
            found(input)
        )))
    }
}

/// Splits at the commas that are not inside a group, so every edge parses alone (edges
/// hold no generics, so every such comma ends one).
fn split_top_level_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut parts = vec![TokenStream::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => parts.push(TokenStream::new()),
            _ => {
                if let Some(last) = parts.last_mut() {
                    last.extend([token]);
                }
            }
        }
    }
    parts.retain(|part| !part.is_empty());
    parts
}

/// The module's items, with the ones `#[graph]` cares about taken out of the rest.
pub(crate) struct ModuleSyntax {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) ident: Ident,
    pub(crate) nodes: Vec<NodeSyntax>,
    pub(crate) routers: Vec<ItemFn>,
    pub(crate) tags: Vec<ItemEnum>,
    pub(crate) other: Vec<syn::Item>,
}

/// A `#[node]` fn with its attribute's arguments.
pub(crate) struct NodeSyntax {
    pub(crate) item: ItemFn,
    pub(crate) args: NodeArgs,
}

/// The options of `#[node(..)]`, each with its key for spans.
#[derive(Default)]
pub(crate) struct NodeArgs {
    /// `goto = [tools, END]`: where the node may send the run besides its edges.
    pub(crate) goto: Option<(Ident, Vec<Ident>)>,
    /// `retry = 3` or `retry = RetryPolicy::new(3)..`: how a failed attempt runs again.
    pub(crate) retry: Option<(Ident, syn::Expr)>,
    /// `timeout = "30s"` or a `Duration` expression: how long one attempt may take.
    pub(crate) timeout: Option<(Ident, syn::Expr)>,
}

const NODE_OPTIONS: [&str; 3] = ["goto", "retry", "timeout"];

/// Parses `#[node(goto = [a, END])]`, reporting each mistake on its token.
fn parse_node_args(attr: &Attribute, cx: &mut Ctxt) -> NodeArgs {
    let mut args = NodeArgs::default();
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return args;
    }
    let parsed = attr.parse_nested_meta(|meta| {
        let Some(key) = meta.path.get_ident().cloned() else {
            return Err(meta.error(format!(
                "expected an option of `#[node]`; options are {}",
                backticked(NODE_OPTIONS)
            )));
        };
        let name = key.to_string();
        match name.as_str() {
            "goto" => {
                let value = meta.value()?;
                if !value.peek(syn::token::Bracket) {
                    return Err(value.error(format!(
                        "expected the nodes `goto` may lead to in brackets{}: `goto = [tools, END]`",
                        found(value)
                    )));
                }
                let content;
                bracketed!(content in value);
                let targets = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                if args.goto.is_some() {
                    cx.error_spanned_by(&key, "`goto` is given twice; list every target in one `goto = [..]`");
                }
                args.goto = Some((key, targets.into_iter().collect()));
                Ok(())
            }
            "retry" | "timeout" => {
                let value: syn::Expr = meta.value()?.parse()?;
                let slot = if name == "retry" {
                    &mut args.retry
                } else {
                    &mut args.timeout
                };
                if slot.is_some() {
                    cx.error_spanned_by(&key, format!("`{key}` is given twice"));
                }
                *slot = Some((key, value));
                Ok(())
            }
            _ => Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown option `{key}` in `#[node]`; options are {}{}",
                    backticked(NODE_OPTIONS),
                    did_you_mean(&name, NODE_OPTIONS)
                ),
            )),
        }
    });
    if let Err(error) = parsed {
        cx.syn_error(error);
    }
    args
}

/// Finds the `#[node]`, `#[router]` and `#[tags]` items and strips those attributes.
pub(crate) fn parse_module(module: ItemMod, cx: &mut Ctxt) -> ModuleSyntax {
    let mut syntax = ModuleSyntax {
        attrs: module.attrs,
        vis: module.vis,
        ident: module.ident,
        nodes: Vec::new(),
        routers: Vec::new(),
        tags: Vec::new(),
        other: Vec::new(),
    };
    let Some((_, items)) = module.content else {
        cx.error_at(
            module.semi.span(),
            "`#[graph]` needs an inline module: `mod name { .. }`",
        );
        return syntax;
    };
    for item in items {
        match item {
            syn::Item::Fn(mut function) => {
                match take_marker(&mut function.attrs, &["node", "router"], cx) {
                    Some((marker, attr)) if marker == "node" => {
                        let args = parse_node_args(&attr, cx);
                        syntax.nodes.push(NodeSyntax {
                            item: function,
                            args,
                        });
                    }
                    Some(_) => syntax.routers.push(function),
                    None => syntax.other.push(syn::Item::Fn(function)),
                }
            }
            syn::Item::Enum(mut item) => match take_marker(&mut item.attrs, &["tags"], cx) {
                Some(_) => syntax.tags.push(item),
                None => syntax.other.push(syn::Item::Enum(item)),
            },
            mut other => {
                if let Some(attrs) = item_attrs(&mut other)
                    && let Some((marker, _)) = take_marker(attrs, &["node", "router", "tags"], cx)
                {
                    let expected = if marker == "tags" {
                        "an `enum`"
                    } else {
                        "an `async fn`"
                    };
                    cx.error_spanned_by(&other, format!("`#[{marker}]` goes on {expected}"));
                }
                syntax.other.push(other);
            }
        }
    }
    syntax
}

/// Removes the first of `markers` from `attrs` and returns its name with the attribute.
/// Only `#[node]` takes arguments (parsed by the caller).
fn take_marker(
    attrs: &mut Vec<Attribute>,
    markers: &[&str],
    cx: &mut Ctxt,
) -> Option<(String, Attribute)> {
    let position = attrs
        .iter()
        .position(|attr| markers.iter().any(|marker| attr.path().is_ident(marker)))?;
    let attr = attrs.remove(position);
    let name = attr.path().get_ident()?.to_string();
    if name != "node" && !matches!(attr.meta, syn::Meta::Path(_)) {
        cx.error_spanned_by(&attr.meta, format!("`#[{name}]` takes no arguments"));
    }
    Some((name, attr))
}

fn item_attrs(item: &mut syn::Item) -> Option<&mut Vec<Attribute>> {
    Some(match item {
        syn::Item::Const(item) => &mut item.attrs,
        syn::Item::Static(item) => &mut item.attrs,
        syn::Item::Struct(item) => &mut item.attrs,
        syn::Item::Type(item) => &mut item.attrs,
        syn::Item::Use(item) => &mut item.attrs,
        syn::Item::Impl(item) => &mut item.attrs,
        syn::Item::Mod(item) => &mut item.attrs,
        syn::Item::Trait(item) => &mut item.attrs,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(args: TokenStream) -> (Vec<GraphOption>, Vec<String>) {
        let mut cx = Ctxt::default();
        let options = parse_args(args, &mut cx);
        (options, cx.messages())
    }

    fn edges(option: &GraphOption) -> &[EdgeSyntax] {
        match option {
            GraphOption::Edges(_, edges) => edges,
            _ => panic!("not the edge list"),
        }
    }

    #[test]
    fn every_option_parses() {
        let (options, errors) = parse(quote!(
            state = Topic,
            context = Models,
            custom = Progress,
            edges = [START -> a -> END],
            crate = ::stategraph,
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let keys: Vec<String> = options.iter().map(|o| o.key().to_string()).collect();
        assert_eq!(keys, ["state", "context", "custom", "edges", "crate"]);
    }

    #[test]
    fn types_with_commas_in_their_generics_are_one_value() {
        let (options, errors) = parse(quote!(
            state = Topic,
            context = HashMap<String, Model>,
            custom = Result<A, B>,
            edges = [START -> a -> END],
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let values: Vec<String> = options
            .iter()
            .map(|option| match option {
                GraphOption::State(_, ty)
                | GraphOption::Context(_, ty)
                | GraphOption::Custom(_, ty) => crate::graph::model::type_text(ty),
                other => other.key().to_string(),
            })
            .collect();
        assert_eq!(
            values,
            ["Topic", "HashMap<String, Model>", "Result<A, B>", "edges"]
        );
    }

    #[test]
    fn a_mistake_after_a_generic_value_does_not_hide_the_next_one() {
        let (options, errors) = parse(quote!(
            context = HashMap<String, Model>,
            stat = Topic,
            custom = Result<A, B> Extra,
            state = Topic,
        ));
        assert_eq!(
            errors,
            [
                "unknown option `stat` in `#[graph]`; options are `state`, `context`, `custom`, `edges`, `retry`, `timeout`, `crate`; did you mean `state`?",
                "unexpected `Extra` after the value of `custom`; separate options with `,`",
            ]
        );
        let keys: Vec<String> = options.iter().map(|o| o.key().to_string()).collect();
        assert_eq!(keys, ["context", "custom", "state"]);
    }

    #[test]
    fn chains_lists_and_routes_parse_into_elements() {
        let (options, errors) = parse(quote!(edges = [
            START -> a -> b -> END,
            a -> [b, c],
            [b, c] -> d,
            d -> route ? [a, END],
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        let shapes: Vec<String> = edges(&options[0])
            .iter()
            .map(|edge| match edge {
                EdgeSyntax::Chain(elements) => elements
                    .iter()
                    .map(|element| match element {
                        Element::Name(name) => name.to_string(),
                        Element::List(_, names) => format!("[{}]", names.len()),
                        Element::Routed { router, targets } => {
                            format!("{router}?[{}]", targets.len())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                EdgeSyntax::Malformed(_) => "malformed".to_owned(),
            })
            .collect();
        assert_eq!(shapes, ["START a b END", "a [2]", "[2] d", "d route?[2]"]);
    }

    #[test]
    fn each_malformed_edge_is_reported_and_the_others_kept() {
        let (options, errors) = parse(quote!(edges = [
            START -> a,
            a -> -> b,
            a => b,
            b END,
            a,
            b -> r ? c,
            b -> END,
        ]));
        assert_eq!(
            errors,
            [
                "expected a node, `START`, `END` or a list `[a, b]`, found `->`",
                "expected `->` between the ends of an edge, found `=>`; write `from -> to`, and separate edges with `,`",
                "expected `->` between the ends of an edge, found `END`; write `from -> to`, and separate edges with `,`",
                "an edge needs two ends: `from -> to`",
                "expected the targets of router `r` in brackets, found `c`: `r ? [a, END]`",
            ]
        );
        let kept = edges(&options[0])
            .iter()
            .filter(|edge| matches!(edge, EdgeSyntax::Chain(_)))
            .count();
        assert_eq!(kept, 2);
    }

    #[test]
    fn option_mistakes_name_the_option() {
        let (options, errors) = parse(quote!(
            state = ,
            context Models,
            edges = START -> a,
            stat = Topic,
            custom = Progress Extra,
        ));
        assert_eq!(
            errors,
            [
                "expected a value after `state =`: `state = MyState`",
                "expected `=` and a value after `context`: `context = MyDependencies`",
                "expected the edge list in brackets, found `START`: `edges = [START -> node -> END]`",
                "unknown option `stat` in `#[graph]`; options are `state`, `context`, `custom`, `edges`, `retry`, `timeout`, `crate`; did you mean `state`?",
                "unexpected `Extra` after the value of `custom`; separate options with `,`",
            ]
        );
        // Malformed known options still count as given.
        let keys: Vec<String> = options.iter().map(|o| o.key().to_string()).collect();
        assert_eq!(keys, ["state", "context", "edges", "custom"]);
    }

    #[test]
    fn markers_are_taken_out_of_the_module() {
        let mut cx = Ctxt::default();
        let module = parse_module(
            syn::parse_quote! {
                mod g {
                    #[tags] enum Tag { A }
                    #[node] async fn a(s: &S) -> U { todo!() }
                    #[router] fn r(s: &S) -> R { todo!() }
                    fn helper() {}
                    #[node] struct Wrong;
                }
            },
            &mut cx,
        );
        assert_eq!(cx.messages(), ["`#[node]` goes on an `async fn`"]);
        assert_eq!(module.nodes.len(), 1);
        assert_eq!(module.routers.len(), 1);
        assert_eq!(module.tags.len(), 1);
        assert_eq!(module.other.len(), 2);
        assert!(module.nodes[0].item.attrs.is_empty());
    }
    #[test]
    fn node_options_parse_and_each_mistake_is_reported() {
        let mut cx = Ctxt::default();
        let module = parse_module(
            syn::parse_quote! {
                mod g {
                    #[node(goto = [b, END], retry = 3, timeout = "1s")] async fn a(s: &S) -> U { todo!() }
                    #[node(gotoo = [a])] async fn b(s: &S) -> U { todo!() }
                    #[node(goto = a)] async fn c(s: &S) -> U { todo!() }
                }
            },
            &mut cx,
        );
        assert_eq!(
            cx.messages(),
            [
                "unknown option `gotoo` in `#[node]`; options are `goto`, `retry`, `timeout`; did you mean `goto`?",
                "expected the nodes `goto` may lead to in brackets, found `a`: `goto = [tools, END]`",
            ]
        );
        let args = &module.nodes[0].args;
        let (_, targets) = args.goto.as_ref().unwrap();
        let targets: Vec<String> = targets.iter().map(ToString::to_string).collect();
        assert_eq!(targets, ["b", "END"]);
        assert!(args.retry.is_some() && args.timeout.is_some());
        assert!(module.nodes[1].args.goto.is_none());
    }
}
