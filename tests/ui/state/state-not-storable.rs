// A state stored in checkpoints needs serde on every field's type: the error names the
// type that lacks it and the derive to add.
use stategraph::State;
use stategraph::checkpoint::Durable;

#[derive(Clone, Default)]
struct Handle;

#[derive(Clone, Default, State)]
struct Session {
    name: String,
    handle: Handle,
}

fn store<S: Durable>(_: &S) {}

fn main() {
    store(&Session::default());
}
