use stategraph::tool;

/// Counts the letters of a city's name.
#[tool]
async fn letters(city: String) -> Vec<usize> {
    vec![city.len()]
}

fn main() {}
