//! Syntax only: the `#[graph(..)]` arguments and the module's annotated items. Names are
//! not resolved here; every element keeps its tokens for error spans.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, ItemEnum, ItemFn, ItemMod, Path, Token, Type, bracketed};

use crate::ctxt::Ctxt;

mod kw {
    syn::custom_keyword!(state);
    syn::custom_keyword!(context);
    syn::custom_keyword!(custom);
    syn::custom_keyword!(edges);
}

const OPTIONS: &str = "`state`, `context`, `custom`, `edges`, `crate`";

/// One `key = value` of the attribute.
pub(crate) enum GraphOption {
    State(Ident, Type),
    Context(Ident, Type),
    Custom(Ident, Type),
    Crate(Ident, Path),
    Edges(Ident, Vec<EdgeSyntax>),
}

impl GraphOption {
    pub(crate) fn key(&self) -> &Ident {
        match self {
            Self::State(key, _)
            | Self::Context(key, _)
            | Self::Custom(key, _)
            | Self::Crate(key, _)
            | Self::Edges(key, _) => key,
        }
    }
}

/// One edge statement: elements joined by `->`, as written.
pub(crate) struct EdgeSyntax {
    pub(crate) elements: Vec<Element>,
    pub(crate) span: Span,
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

/// Parses the attribute's arguments, each option and each edge on its own, so that one
/// mistake does not hide the others.
pub(crate) fn parse_args(args: TokenStream, cx: &mut Ctxt) -> Vec<GraphOption> {
    split_top_level_commas(args)
        .into_iter()
        .filter_map(|option| match parse_option(option, cx) {
            Ok(option) => option,
            Err(error) => {
                cx.syn_error(error);
                None
            }
        })
        .collect()
}

fn parse_option(tokens: TokenStream, cx: &mut Ctxt) -> syn::Result<Option<GraphOption>> {
    let parser = |input: ParseStream| -> syn::Result<Option<GraphOption>> {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::state) {
            let key = input.parse::<kw::state>()?;
            input.parse::<Token![=]>()?;
            Ok(Some(GraphOption::State(
                Ident::new("state", key.span),
                input.parse()?,
            )))
        } else if lookahead.peek(kw::context) {
            let key = input.parse::<kw::context>()?;
            input.parse::<Token![=]>()?;
            Ok(Some(GraphOption::Context(
                Ident::new("context", key.span),
                input.parse()?,
            )))
        } else if lookahead.peek(kw::custom) {
            let key = input.parse::<kw::custom>()?;
            input.parse::<Token![=]>()?;
            Ok(Some(GraphOption::Custom(
                Ident::new("custom", key.span),
                input.parse()?,
            )))
        } else if lookahead.peek(Token![crate]) {
            let key = input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            Ok(Some(GraphOption::Crate(
                Ident::new("crate", key.span),
                Path::parse_mod_style(input)?,
            )))
        } else if lookahead.peek(kw::edges) {
            let key = input.parse::<kw::edges>()?;
            input.parse::<Token![=]>()?;
            let content;
            bracketed!(content in input);
            let body: TokenStream = content.parse()?;
            let edges = split_top_level_commas(body)
                .into_iter()
                .filter_map(|edge| match syn::parse2::<EdgeSyntax>(edge) {
                    Ok(edge) => Some(edge),
                    Err(error) => {
                        cx.syn_error(error);
                        None
                    }
                })
                .collect();
            Ok(Some(GraphOption::Edges(
                Ident::new("edges", key.span),
                edges,
            )))
        } else if input.peek(Ident) {
            let unknown: Ident = input.parse()?;
            Err(syn::Error::new(
                unknown.span(),
                format!("unknown option `{unknown}` in `#[graph]`; options are {OPTIONS}"),
            ))
        } else {
            Err(lookahead.error())
        }
    };
    syn::parse::Parser::parse2(parser, tokens)
}

impl Parse for EdgeSyntax {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let span = input.span();
        let mut elements = vec![parse_element(input)?];
        while !input.is_empty() {
            if matches!(elements.last(), Some(Element::Routed { .. })) {
                return Err(input.error("a routed edge `from -> router ? [..]` must end the chain"));
            }
            input.parse::<Token![->]>()?;
            elements.push(parse_element(input)?);
        }
        if elements.len() < 2 {
            return Err(syn::Error::new(
                span,
                "an edge needs `->` between its ends: `from -> to`",
            ));
        }
        Ok(Self { elements, span })
    }
}

fn parse_element(input: ParseStream) -> syn::Result<Element> {
    let lookahead = input.lookahead1();
    if lookahead.peek(syn::token::Bracket) {
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
    } else if lookahead.peek(Ident) {
        let name: Ident = input.parse()?;
        if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
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
        Err(lookahead.error())
    }
}

/// Splits at the commas that are not inside a group, so every option and edge parses alone.
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
    pub(crate) nodes: Vec<ItemFn>,
    pub(crate) routers: Vec<ItemFn>,
    pub(crate) tags: Vec<ItemEnum>,
    pub(crate) other: Vec<syn::Item>,
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
                    Some(marker) if marker == "node" => syntax.nodes.push(function),
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
                    && let Some(marker) = take_marker(attrs, &["node", "router", "tags"], cx)
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

/// Removes the first of `markers` from `attrs` and returns its name.
fn take_marker(attrs: &mut Vec<Attribute>, markers: &[&str], cx: &mut Ctxt) -> Option<String> {
    let position = attrs
        .iter()
        .position(|attr| markers.iter().any(|marker| attr.path().is_ident(marker)))?;
    let attr = attrs.remove(position);
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        cx.error_spanned_by(
            &attr.meta,
            format!("`#[{}]` takes no arguments", attr.path().get_ident()?),
        );
    }
    attr.path().get_ident().map(ToString::to_string)
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
