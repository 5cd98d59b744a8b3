//! A state that can be stored: its fields as JSON and back, and an update as the
//! [`StateDelta`] it makes. `#[derive(State)]` makes every state [`Durable`] whose fields
//! can be stored; a program that stores a state whose field type lacks
//! `Serialize + DeserializeOwned` fails to compile with a message naming that type.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::delta::StateDelta;
use crate::error::CheckpointError;
use crate::graph::traits::State;

/// A state whose fields can be stored in checkpoints: every `#[derive(State)]` state whose
/// field types implement `Serialize` and `DeserializeOwned`.
pub trait Durable: State + Sized {
    /// The state as a JSON object of its fields.
    ///
    /// # Errors
    /// [`CheckpointError::Encode`] when a field's `Serialize` fails.
    fn to_values(&self) -> Result<Map<String, Value>, CheckpointError>;

    /// The state stored as `values`.
    ///
    /// # Errors
    /// [`CheckpointError::StateShape`] naming the first field that is missing, unknown or
    /// of another type: a checkpoint written by another shape of the state.
    fn from_values(values: Map<String, Value>) -> Result<Self, CheckpointError>;

    /// What `update` changes, field by field, as its reducers apply it: a plain field is
    /// set, an `append` field gets the new items, a `messages` field the messages added,
    /// and a field with a reducer of the user's is set to its value in `merged`, the state
    /// after the step.
    ///
    /// # Errors
    /// [`CheckpointError::Encode`] when a field's `Serialize` fails.
    fn delta(update: &Self::Update, merged: &Self) -> Result<StateDelta, CheckpointError>;

    /// An update as a JSON object of the fields it sets: what a finished task's pending
    /// write stores, and what `update_state` and a `Command`'s `update` take.
    ///
    /// # Errors
    /// [`CheckpointError::Encode`] when a field's `Serialize` fails.
    fn update_to_json(update: &Self::Update) -> Result<Map<String, Value>, CheckpointError>;

    /// The update stored as `json`.
    ///
    /// # Errors
    /// [`CheckpointError::StateShape`] naming the first field that is unknown or of another
    /// type.
    fn update_from_json(json: Map<String, Value>) -> Result<Self::Update, CheckpointError>;
}

/// What `#[derive(State)]` implements, generic over a marker `M` that each field's bound
/// names ([`Stored<M, T>`]), so that the bounds are checked only where a program asks for
/// [`Durable`] (which is `StoredFields<()>`), not in every program that derives `State`.
#[doc(hidden)]
pub trait StoredFields<M>: State + Sized {
    /// See [`Durable::to_values`].
    ///
    /// # Errors
    /// As there.
    fn to_values(&self) -> Result<Map<String, Value>, CheckpointError>;

    /// See [`Durable::from_values`].
    ///
    /// # Errors
    /// As there.
    fn from_values(values: Map<String, Value>) -> Result<Self, CheckpointError>;

    /// See [`Durable::delta`].
    ///
    /// # Errors
    /// As there.
    fn delta(update: &Self::Update, merged: &Self) -> Result<StateDelta, CheckpointError>;

    /// See [`Durable::update_to_json`].
    ///
    /// # Errors
    /// As there.
    fn update_to_json(update: &Self::Update) -> Result<Map<String, Value>, CheckpointError>;

    /// See [`Durable::update_from_json`].
    ///
    /// # Errors
    /// As there.
    fn update_from_json(json: Map<String, Value>) -> Result<Self::Update, CheckpointError>;
}

impl<S: StoredFields<()>> Durable for S {
    fn to_values(&self) -> Result<Map<String, Value>, CheckpointError> {
        StoredFields::to_values(self)
    }

    fn from_values(values: Map<String, Value>) -> Result<Self, CheckpointError> {
        <S as StoredFields<()>>::from_values(values)
    }

    fn delta(update: &Self::Update, merged: &Self) -> Result<StateDelta, CheckpointError> {
        <S as StoredFields<()>>::delta(update, merged)
    }

    fn update_to_json(update: &Self::Update) -> Result<Map<String, Value>, CheckpointError> {
        <S as StoredFields<()>>::update_to_json(update)
    }

    fn update_from_json(json: Map<String, Value>) -> Result<Self::Update, CheckpointError> {
        <S as StoredFields<()>>::update_from_json(json)
    }
}

/// A state's fields as stored: a JSON object.
pub type JsonObject = Map<String, Value>;

/// Stores a field of type `T`: implemented when `T: Serialize + DeserializeOwned`. The
/// derive names it through [`Stored`], whose first parameter keeps the check from running
/// until a program asks for [`Durable`].
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot be stored in a checkpoint: it does not implement `Serialize` and `DeserializeOwned`",
    label = "a field of this type is in a state used with a checkpointer",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{T}`"
)]
#[doc(hidden)]
pub trait Storable<T> {
    /// `value` as JSON.
    ///
    /// # Errors
    /// The serializer's.
    fn to_json(value: &T) -> Result<Value, serde_json::Error>;

    /// The value stored as `json`.
    ///
    /// # Errors
    /// The deserializer's.
    fn from_json(json: Value) -> Result<T, serde_json::Error>;
}

/// See [`Storable`].
#[doc(hidden)]
pub struct Stored<M, T>(PhantomData<(M, T)>);

impl<M, T: Serialize + DeserializeOwned> Storable<T> for Stored<M, T> {
    fn to_json(value: &T) -> Result<Value, serde_json::Error> {
        serde_json::to_value(value)
    }

    fn from_json(json: Value) -> Result<T, serde_json::Error> {
        serde_json::from_value(json)
    }
}

/// For the derive: `value` of `field` as JSON.
///
/// # Errors
/// [`CheckpointError::Encode`] naming the field.
#[doc(hidden)]
pub fn encode_field<S: Storable<T>, T>(field: &str, value: &T) -> Result<Value, CheckpointError> {
    S::to_json(value).map_err(|error| CheckpointError::Encode {
        detail: format!("field `{field}`: {error}"),
    })
}

/// For the derive: the items of a list field's update, as JSON.
///
/// # Errors
/// [`CheckpointError::Encode`] naming the field, also when the list is not stored as a JSON
/// list.
#[doc(hidden)]
pub fn encode_items<S: Storable<T>, T>(
    field: &str,
    value: &T,
) -> Result<Vec<Value>, CheckpointError> {
    match encode_field::<S, T>(field, value)? {
        Value::Array(items) => Ok(items),
        other => Err(CheckpointError::Encode {
            detail: format!("field `{field}`: a list field was stored as {other}"),
        }),
    }
}

/// For the derive: field `field` of the stored `values`, decoded.
///
/// # Errors
/// [`CheckpointError::StateShape`] naming the field when it is missing or of another type.
#[doc(hidden)]
pub fn decode_field<S: Storable<T>, T>(
    values: &mut Map<String, Value>,
    field: &str,
) -> Result<T, CheckpointError> {
    let json = values
        .remove(field)
        .ok_or_else(|| CheckpointError::StateShape {
            field: field.to_owned(),
            detail: "the stored state has no such field (was it renamed or added?)".into(),
        })?;
    S::from_json(json).map_err(|error| CheckpointError::StateShape {
        field: field.to_owned(),
        detail: error.to_string(),
    })
}

/// For the derive: field `field` of a stored update, decoded, or `None` when the update
/// does not set it.
///
/// # Errors
/// [`CheckpointError::StateShape`] naming the field when it is of another type.
#[doc(hidden)]
pub fn decode_optional_field<S: Storable<T>, T>(
    values: &mut Map<String, Value>,
    field: &str,
) -> Result<Option<T>, CheckpointError> {
    match values.remove(field) {
        None => Ok(None),
        Some(json) => S::from_json(json)
            .map(Some)
            .map_err(|error| CheckpointError::StateShape {
                field: field.to_owned(),
                detail: error.to_string(),
            }),
    }
}

/// For the derive: fails naming a stored field the state does not have, once every known
/// field has been taken out of `values`.
///
/// # Errors
/// [`CheckpointError::StateShape`] naming the first field left over.
#[doc(hidden)]
pub fn no_unknown_fields(values: &Map<String, Value>) -> Result<(), CheckpointError> {
    match values.keys().next() {
        None => Ok(()),
        Some(field) => Err(CheckpointError::StateShape {
            field: field.clone(),
            detail: "the state has no such field (was it renamed or removed?)".into(),
        }),
    }
}
