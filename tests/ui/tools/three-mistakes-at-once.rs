use stategraph::tool;

#[tool]
fn get_weather<T>(city: T) -> String {
    String::new()
}

fn main() {}
