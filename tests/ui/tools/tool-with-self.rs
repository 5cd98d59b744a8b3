use stategraph::tool;

struct Weather;

impl Weather {
    /// Gets the weather.
    #[tool]
    async fn get_weather(&self, city: String) -> String {
        city
    }
}

fn main() {}
