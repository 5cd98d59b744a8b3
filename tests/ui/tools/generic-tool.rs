use stategraph::tool;

/// Gets the weather.
#[tool]
async fn get_weather<C: Into<String>>(city: C) -> String {
    city.into()
}

fn main() {}
