//! The parsed `#[tool]`: its options, and the fn read as a tool (name, description,
//! arguments), every part keeping the user's tokens for spans.

use proc_macro2::Span;
use syn::{Ident, Path, Type};

/// `#[tool(..)]`'s options.
pub(crate) struct ToolOptions {
    /// Where the runtime is: `::stategraph` unless `crate = path`.
    pub(crate) krate: Path,
}

/// The fn as a tool.
pub(crate) struct ToolFn {
    /// The fn's name, also the tool's name for the model.
    pub(crate) name: Ident,
    /// The doc comment before `# Arguments`: the tool's description.
    pub(crate) description: String,
    /// How the model's arguments reach the fn.
    pub(crate) arguments: Arguments,
}

/// How a tool takes its arguments.
pub(crate) enum Arguments {
    /// One parameter per argument: a struct of them is generated.
    Each(Vec<Argument>),
    /// One `#[args]` parameter whose type is the arguments' struct.
    Struct(Type),
}

/// One argument of a tool that takes them one by one.
pub(crate) struct Argument {
    pub(crate) name: Ident,
    pub(crate) ty: Type,
    /// From the fn's `# Arguments` docs (`` * `name` - what it is ``), when listed.
    pub(crate) description: Option<String>,
}

/// A doc comment split as rustdoc writes it: the text, then a `# Arguments` list.
pub(crate) struct ToolDocs {
    pub(crate) description: String,
    pub(crate) arguments: Vec<(String, String)>,
    /// Where the docs are, for errors about them.
    pub(crate) span: Span,
}

impl ToolDocs {
    /// Reads `/// text` lines. Lines under `# Arguments` of the form `` * `name` - text ``
    /// (or `:` for `-`, `-` for `*`) describe arguments; another heading ends the list.
    pub(crate) fn parse(lines: &[String], span: Span) -> Self {
        let mut description = Vec::new();
        let mut arguments = Vec::new();
        let mut in_arguments = false;
        for line in lines {
            let trimmed = line.trim();
            if let Some(heading) = trimmed.strip_prefix('#') {
                in_arguments = heading.trim_start_matches('#').trim() == "Arguments";
                if in_arguments {
                    continue;
                }
            }
            if !in_arguments {
                description.push(line.strip_prefix(' ').unwrap_or(line));
                continue;
            }
            let Some(item) = trimmed
                .strip_prefix('*')
                .or_else(|| trimmed.strip_prefix('-'))
            else {
                continue;
            };
            let item = item.trim_start();
            let Some(rest) = item.strip_prefix('`') else {
                continue;
            };
            let Some((name, text)) = rest.split_once('`') else {
                continue;
            };
            let text = text.trim_start().trim_start_matches(['-', ':', '—']).trim();
            arguments.push((name.to_owned(), text.to_owned()));
        }
        Self {
            description: description.join("\n").trim().to_owned(),
            arguments,
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(|line| format!(" {line}")).collect()
    }

    #[test]
    fn the_arguments_section_describes_arguments_and_the_rest_describes_the_tool() {
        let docs = ToolDocs::parse(
            &lines(
                "Gets the weather.\n\nNow.\n\n# Arguments\n* `city` - The city.\n- `unit`: Celsius or fahrenheit\n\n# Errors\nNever.",
            ),
            Span::call_site(),
        );
        assert_eq!(
            docs.description,
            "Gets the weather.\n\nNow.\n\n# Errors\nNever."
        );
        assert_eq!(
            docs.arguments,
            [
                ("city".to_owned(), "The city.".to_owned()),
                ("unit".to_owned(), "Celsius or fahrenheit".to_owned())
            ]
        );
    }
}
