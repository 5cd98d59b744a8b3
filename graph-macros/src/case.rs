//! Identifier case conversions for generated names.

/// `call_model` -> `CallModel`.
pub(crate) fn to_pascal_case(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// `LongName` -> `long_name`.
pub(crate) fn to_snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for (at, ch) in name.chars().enumerate() {
        if ch.is_uppercase() {
            if at > 0 {
                snake.push('_');
            }
            snake.extend(ch.to_lowercase());
        } else {
            snake.push(ch);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_between_fn_and_type_names() {
        assert_eq!(to_pascal_case("call_model"), "CallModel");
        assert_eq!(to_pascal_case("route_after_merge"), "RouteAfterMerge");
        assert_eq!(to_snake_case("Joke"), "joke");
        assert_eq!(to_snake_case("LongName"), "long_name");
    }
}
