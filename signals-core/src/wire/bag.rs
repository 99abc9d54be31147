//! A by-name bag's JSON form: each value of a plain type as it is, and back as
//! `serde_json::Value`s.

use std::any::Any;

use serde_json::{Map, Value};

use crate::kwargs::{DynKwargs, Kwargs};
use crate::wire::error::WireError;

/// The JSON object of `bag`, read by name: each value must be of a plain type (see
/// [`plain`]).
pub(crate) fn to_json(signal: &str, bag: &dyn Kwargs) -> Result<Value, WireError> {
    let mut object = Map::new();
    for kwarg in bag.kwargs() {
        let json = plain(kwarg.value).ok_or_else(|| WireError::NotSerializable {
            signal: signal.to_owned(),
            kwarg: kwarg.name.to_owned(),
            type_name: kwarg.type_name,
        })?;
        let json = json.map_err(|error| WireError::Unencodable {
            signal: signal.to_owned(),
            error: format!("keyword argument `{}`: {error}", kwarg.name),
        })?;
        object.insert(kwarg.name.to_owned(), json);
    }
    Ok(Value::Object(object))
}

/// The JSON of `value` when it is a `serde_json::Value`, a `String`, a `&'static str`, a
/// `bool`, an integer or a float, or an `Option` of one of those; `None` for any other type.
fn plain(value: &(dyn Any + Send + Sync)) -> Option<serde_json::Result<Value>> {
    macro_rules! plain {
        ($($t:ty),*) => {$(
            if let Some(value) = value.downcast_ref::<$t>() {
                return Some(serde_json::to_value(value));
            }
            if let Some(value) = value.downcast_ref::<Option<$t>>() {
                return Some(serde_json::to_value(value));
            }
        )*};
    }
    plain!(
        Value,
        String,
        &'static str,
        bool,
        i64,
        u64,
        i32,
        u32,
        usize,
        isize,
        i128,
        u128,
        i16,
        u16,
        i8,
        u8,
        f64,
        f32
    );
    None
}

/// The bag of a JSON object's fields, each a `serde_json::Value`; `null` is an empty bag.
pub(crate) fn from_json(signal: &str, json: Value) -> Result<DynKwargs, WireError> {
    let object = match json {
        Value::Object(object) => object,
        Value::Null => Map::new(),
        other => {
            return Err(WireError::NotAnObject {
                signal: signal.to_owned(),
                found: match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    _ => "a bool",
                },
            })
        }
    };
    // A JSON object's keys are distinct: no search per key (an entry from another process
    // may carry many, and a search per key would make its decoding quadratic).
    let mut bag = DynKwargs::new();
    for (name, value) in object {
        bag.push_distinct(name, value);
    }
    Ok(bag)
}
