//! Reading `QueryDefinition`, its `QueryFilter` tree and `QueryId`s from the wire: typed
//! (`xsi:type`) or, where the shape decides, untyped; values as `xsd:anyType`.

use crate::core::horizon::query::{QueryDefinition, QueryFilter, AUDIT_EVENT_SUMMARY_VIEW};
use crate::soap::SoapFault;
use crate::vlsi::faults;
use crate::xml::Element;

fn present<'a>(parent: &'a Element, name: &str) -> Option<&'a Element> {
    parent.child(name).filter(|el| !el.is_nil())
}

fn text_of(parent: &Element, name: &str) -> Option<String> {
    present(parent, name).map(|el| el.trimmed_text().to_string())
}

fn int_of(parent: &Element, name: &str, path: &str) -> Result<Option<i64>, SoapFault> {
    let Some(text) = text_of(parent, name) else {
        return Ok(None);
    };
    text.parse::<i32>()
        .map(|v| Some(i64::from(v)))
        .map_err(|_| {
            faults::invalid_argument(
                &format!("{path}.{name}"),
                &format!("{name} must be an xsd:int, got [{text}]"),
            )
        })
}

fn bool_of(parent: &Element, name: &str, path: &str) -> Result<Option<bool>, SoapFault> {
    match text_of(parent, name).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(faults::invalid_argument(
            &format!("{path}.{name}"),
            &format!("{name} must be an xsd:boolean, got [{other}]"),
        )),
    }
}

/// An `xsd:anyType` filter value: typed (`xsi:type="xsd:string"`, `xsd:dateTime`,
/// `xsd:int`, an `EntityId` subtype) or untyped; an entity id contributes its `id`.
fn any_value(parent: &Element, name: &str) -> Option<String> {
    let el = present(parent, name)?;
    match el.child("id") {
        Some(id) => Some(id.trimmed_text().to_string()),
        None => Some(el.trimmed_text().to_string()),
    }
}

fn member_name(el: &Element, path: &str) -> Result<String, SoapFault> {
    text_of(el, "memberName")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            faults::invalid_argument(
                &format!("{path}.memberName"),
                "A query filter needs its memberName.",
            )
        })
}

/// `QueryFilter` by its `xsi:type`; without one, the shape decides where it can
/// (`fromValue`/`toValue` → Between, `filter` → Not, `memberName` → Equals).
fn parse_filter(el: &Element, path: &str) -> Result<QueryFilter, SoapFault> {
    let kind = match el.xsi_type() {
        Some(t) => t.to_string(),
        None if el.child("fromValue").is_some() || el.child("toValue").is_some() => {
            "QueryFilterBetween".into()
        }
        None if el.child("filter").is_some() => "QueryFilterNot".into(),
        None if el.child("memberName").is_some() => "QueryFilterEquals".into(),
        None => {
            return Err(faults::invalid_type(
                path,
                "QueryFilter",
                &format!(
                    "{path} needs an xsi:type naming a QueryFilter subtype (e.g. QueryFilterAnd)"
                ),
            ))
        }
    };
    let simple = |make: fn(String, Option<String>) -> QueryFilter| {
        Ok(make(member_name(el, path)?, any_value(el, "value")))
    };
    match kind.as_str() {
        "QueryFilterEquals" => simple(|member, value| QueryFilter::Equals { member, value }),
        "QueryFilterNotEquals" => simple(|member, value| QueryFilter::NotEquals { member, value }),
        "QueryFilterContains" => simple(|member, value| QueryFilter::Contains { member, value }),
        "QueryFilterStartsWith" => {
            simple(|member, value| QueryFilter::StartsWith { member, value })
        }
        "QueryFilterBetween" => Ok(QueryFilter::Between {
            member: member_name(el, path)?,
            from: any_value(el, "fromValue"),
            to: any_value(el, "toValue"),
        }),
        "QueryFilterAnd" | "QueryFilterOr" => {
            let filters = el
                .children_named("filters")
                .filter(|f| !f.is_nil())
                .enumerate()
                .map(|(i, f)| parse_filter(f, &format!("{path}.filters[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if kind == "QueryFilterAnd" {
                QueryFilter::And(filters)
            } else {
                QueryFilter::Or(filters)
            })
        }
        "QueryFilterNot" => {
            let inner_path = format!("{path}.filter");
            let inner = present(el, "filter").ok_or_else(|| {
                faults::invalid_argument(&inner_path, "QueryFilterNot needs its filter.")
            })?;
            Ok(QueryFilter::Not(Box::new(parse_filter(
                inner,
                &inner_path,
            )?)))
        }
        other => Err(faults::invalid_type(
            path,
            "QueryFilter",
            &format!("[{other}] is not a QueryFilter type"),
        )),
    }
}

pub fn parse_definition(op: &Element) -> Result<QueryDefinition, SoapFault> {
    const PATH: &str = "definition";
    let el = present(op, PATH)
        .ok_or_else(|| faults::invalid_argument(PATH, "The parameter definition is required."))?;
    if let Some(given) = el.xsi_type() {
        if given != "QueryDefinition" {
            return Err(faults::invalid_type(
                PATH,
                "QueryDefinition",
                &format!("definition must be a QueryDefinition, not {given}"),
            ));
        }
    }
    let query_entity_type = text_of(el, "queryEntityType")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            faults::invalid_argument(
                "definition.queryEntityType",
                &format!("queryEntityType is required (e.g. {AUDIT_EVENT_SUMMARY_VIEW})."),
            )
        })?;
    let filter = present(el, "filter")
        .map(|f| parse_filter(f, "definition.filter"))
        .transpose()?;
    Ok(QueryDefinition {
        query_entity_type,
        filter,
        sort_by: text_of(el, "sortBy").filter(|s| !s.is_empty()),
        sort_descending: bool_of(el, "sortDescending", PATH)?.unwrap_or(false),
        starting_offset: int_of(el, "startingOffset", PATH)?,
        limit: int_of(el, "limit", PATH)?,
        max_page_size: int_of(el, "maxPageSize", PATH)?,
    })
}

/// A `QueryId` parameter: `<id><id>…</id></id>` (or, leniently, the bare text).
pub fn query_id(el: &Element, parameter: &str) -> Result<String, SoapFault> {
    let id = match el.child("id") {
        Some(inner) => inner.trimmed_text(),
        None => el.trimmed_text(),
    };
    if id.is_empty() {
        return Err(faults::invalid_argument(
            parameter,
            &format!("{parameter} must be a QueryId from QueryService_Create."),
        ));
    }
    Ok(id.to_string())
}

pub fn required_query_id(op: &Element, name: &str) -> Result<String, SoapFault> {
    let el = present(op, name).ok_or_else(|| {
        faults::invalid_argument(name, &format!("The parameter {name} is required."))
    })?;
    query_id(el, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    fn op(inner: &str) -> Element {
        parse(
            &format!(
                r#"<QueryService_Query xmlns="urn:vdi" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">{inner}</QueryService_Query>"#
            ),
            Limits::default(),
        )
        .unwrap()
    }

    #[test]
    fn parses_typed_and_untyped_filters() {
        let el = op(
            r#"<definition><queryEntityType>AuditEventSummaryView</queryEntityType><filter xsi:type="QueryFilterAnd"><filters xsi:type="QueryFilterEquals"><memberName>eventType</memberName><value xsi:type="xsd:string">VLSI_X</value></filters><filters><memberName>userId</memberName><value xsi:type="UserOrGroupId"><id>VLSIM\auditor</id></value></filters><filters xsi:type="QueryFilterNot"><filter xsi:type="QueryFilterBetween"><memberName>time</memberName><fromValue xsi:type="xsd:dateTime">2026-01-01T00:00:00Z</fromValue></filter></filters></filter><sortDescending>true</sortDescending><maxPageSize>5</maxPageSize></definition>"#,
        );
        let def = parse_definition(&el).unwrap();
        assert_eq!(def.query_entity_type, "AuditEventSummaryView");
        assert!(def.sort_descending);
        assert_eq!(def.max_page_size, Some(5));
        assert_eq!(
            def.filter,
            Some(QueryFilter::And(vec![
                QueryFilter::Equals {
                    member: "eventType".into(),
                    value: Some("VLSI_X".into())
                },
                QueryFilter::Equals {
                    member: "userId".into(),
                    value: Some("VLSIM\\auditor".into())
                },
                QueryFilter::Not(Box::new(QueryFilter::Between {
                    member: "time".into(),
                    from: Some("2026-01-01T00:00:00Z".into()),
                    to: None
                })),
            ]))
        );
    }

    #[test]
    fn rejects_unknown_filter_types_and_bad_numbers() {
        let el = op(
            r#"<definition><queryEntityType>AuditEventSummaryView</queryEntityType><filter xsi:type="QueryFilterLike"><memberName>x</memberName></filter></definition>"#,
        );
        let f = parse_definition(&el).unwrap_err();
        assert_eq!(faults::fault_type(&f), "InvalidType");
        let el = op(
            r#"<definition><queryEntityType>AuditEventSummaryView</queryEntityType><limit>many</limit></definition>"#,
        );
        let f = parse_definition(&el).unwrap_err();
        assert!(f.detail.unwrap().contains("definition.limit"));
    }
}
