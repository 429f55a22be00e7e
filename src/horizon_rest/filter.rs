//! The `filter` query parameter: URL-decoded JSON (`{"type":"Equals","name":"type",
//! "value":"..."}`, `{"type":"And","filters":[...]}`, `{"type":"Between","name":"time",
//! "fromValue":..,"toValue":..}`, ...) read into the filter tree the core's query engine
//! (shared with SOAP `QueryService`) checks and runs. Errors name the problem.

use super::errors::{RestError, RestResult};
use crate::core::horizon::query::QueryFilter;
use serde_json::{Map, Value};

const MAX_DEPTH: usize = 32;
const TYPES: &str = "And, Or, Not, Equals, NotEquals, Contains, StartsWith, Between";

fn bad(message: String) -> RestError {
    RestError::bad_request("rest.filter.invalid", format!("Invalid filter: {message}"))
}

/// Parses the `filter` parameter's text.
pub fn parse(text: &str) -> RestResult<QueryFilter> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("'filter' is not valid JSON ({e})")))?;
    node(&value, "filter", 0)
}

fn text(obj: &Map<String, Value>, key: &str, at: &str) -> RestResult<String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad(format!("'{key}' of {at} must be a string"))),
        None => Err(bad(format!("{at} needs '{key}'"))),
    }
}

/// A scalar filter value as text (`None` for null or absent).
fn scalar(v: Option<&Value>, at: &str) -> RestResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(bad(format!("'value' of {at} must be a string or a number"))),
    }
}

/// A `Between` bound, in either spelling (`fromValue` as the guides and clients write it,
/// `from_value` as the swagger's schema does): an integer or a string of digits.
fn bound(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    at: &str,
) -> RestResult<Option<String>> {
    let (key, value) = match (obj.get(camel), obj.get(snake)) {
        (Some(_), Some(_)) => return Err(bad(format!("{at} has both '{camel}' and '{snake}'"))),
        (Some(v), None) => (camel, v),
        (None, Some(v)) => (snake, v),
        (None, None) => return Ok(None),
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) if n.as_i64().is_some() => Ok(Some(n.to_string())),
        Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(Some(s.trim().to_string())),
        other => Err(bad(format!(
            "'{key}' of {at} must be an integer (epoch milliseconds for time), got {other}"
        ))),
    }
}

fn node(v: &Value, at: &str, depth: usize) -> RestResult<QueryFilter> {
    if depth > MAX_DEPTH {
        return Err(bad(format!("filters nest deeper than {MAX_DEPTH} levels")));
    }
    let Value::Object(obj) = v else {
        return Err(bad(format!("{at} must be a JSON object")));
    };
    let kind = text(obj, "type", at)?;
    let leaf = |make: fn(String, Option<String>) -> QueryFilter| -> RestResult<QueryFilter> {
        Ok(make(text(obj, "name", at)?, scalar(obj.get("value"), at)?))
    };
    match kind.as_str() {
        "And" | "Or" => {
            let Some(Value::Array(items)) = obj.get("filters") else {
                return Err(bad(format!(
                    "'filters' of {at} ({kind}) must be an array of filters"
                )));
            };
            if items.is_empty() {
                return Err(bad(format!("'filters' of {at} ({kind}) must not be empty")));
            }
            let filters = items
                .iter()
                .enumerate()
                .map(|(i, f)| node(f, &format!("{at}.filters[{i}]"), depth + 1))
                .collect::<RestResult<Vec<_>>>()?;
            Ok(if kind == "And" {
                QueryFilter::And(filters)
            } else {
                QueryFilter::Or(filters)
            })
        }
        "Not" => {
            let inner = obj
                .get("filter")
                .ok_or_else(|| bad(format!("'filter' of {at} (Not) is required")))?;
            Ok(QueryFilter::Not(Box::new(node(
                inner,
                &format!("{at}.filter"),
                depth + 1,
            )?)))
        }
        "Equals" => leaf(|member, value| QueryFilter::Equals { member, value }),
        "NotEquals" => leaf(|member, value| QueryFilter::NotEquals { member, value }),
        "StartsWith" => leaf(|member, value| QueryFilter::StartsWith { member, value }),
        // The newer guide makes Contains multi-valued: any of the strings.
        "Contains" => match obj.get("value") {
            Some(Value::Array(values)) => {
                let member = text(obj, "name", at)?;
                let any = values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(QueryFilter::Contains {
                            member: member.clone(),
                            value: Some(s.clone()),
                        }),
                        _ => Err(bad(format!("'value' of {at} (Contains) must hold strings"))),
                    })
                    .collect::<RestResult<Vec<_>>>()?;
                if any.is_empty() {
                    return Err(bad(format!("'value' of {at} (Contains) must not be empty")));
                }
                Ok(QueryFilter::Or(any))
            }
            _ => leaf(|member, value| QueryFilter::Contains { member, value }),
        },
        "Between" => Ok(QueryFilter::Between {
            member: text(obj, "name", at)?,
            from: bound(obj, "fromValue", "from_value", at)?,
            to: bound(obj, "toValue", "to_value", at)?,
        }),
        other => Err(bad(format!(
            "unknown filter type '{other}' at {at}; use one of {TYPES}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        match parse(text) {
            Err(RestError::BadRequest { message, .. }) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_every_shape() {
        let f = parse(
            r#"{"type":"And","filters":[{"type":"Equals","name":"type","value":"X"},
               {"type":"Between","name":"time","fromValue":1,"to_value":"2"},
               {"type":"Not","filter":{"type":"Contains","name":"message","value":["a","b"]}}]}"#,
        )
        .unwrap();
        let QueryFilter::And(parts) = f else { panic!() };
        assert_eq!(
            parts[1],
            QueryFilter::Between {
                member: "time".into(),
                from: Some("1".into()),
                to: Some("2".into())
            }
        );
        assert!(
            matches!(&parts[2], QueryFilter::Not(inner) if matches!(**inner, QueryFilter::Or(ref v) if v.len() == 2))
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(message("{not json").contains("'filter'"));
        assert!(message(r#"{"type":"Sometimes","name":"a"}"#).contains("Sometimes"));
        assert!(message(r#"{"type":"And","filters":"nope"}"#).contains("filters"));
        assert!(
            message(r#"{"type":"Between","name":"time","fromValue":"yesterday"}"#)
                .contains("fromValue")
        );
        assert!(message(r#"{"type":"Equals","value":"x"}"#).contains("name"));
        assert!(
            message(r#"{"type":"Between","name":"time","fromValue":1,"from_value":1}"#)
                .contains("both")
        );
        let deep = format!(
            "{}{}{}",
            r#"{"type":"Not","filter":"#.repeat(40),
            r#"{"type":"Equals","name":"a"}"#,
            "}".repeat(40)
        );
        assert!(message(&deep).contains("deeper"));
    }
}
