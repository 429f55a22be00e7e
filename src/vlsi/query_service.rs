//! `QueryService`: Create, GetNext, Delete, DeleteAll, DeleteByIds, GetCount and Query
//! over the `AuditEventSummaryView` entity (the events vlsim records, e.g.
//! `VLSI_JWT_TOKEN_GENERATED`) and the deprecated `EventSummaryView`. Parses `QueryDefinition`/`QueryFilter*` from the wire and
//! renders `QueryResults`; the query rules live in `core::queries`.

use crate::core::queries::{
    AuditEventSummary, QueryDefinition, QueryEntity, QueryFilter, QueryPage,
    AUDIT_EVENT_SUMMARY_VIEW,
};
use crate::core::sessions::Session;
use crate::core::CoreError;
use crate::soap::xml::Element;
use crate::soap::SoapFault;
use crate::vlsi::faults::{self, core_fault};
use crate::vlsi::{Call, Operation, Reply};
use futures_util::FutureExt;
use quick_xml::escape::escape;

const SERVICE: &str = "QueryService";

pub fn operations() -> Vec<Operation> {
    fn op(method: &'static str, handler: crate::vlsi::Handler) -> Operation {
        Operation {
            service: SERVICE,
            method,
            needs_session: true,
            handler,
            on_fault: None,
        }
    }
    vec![
        op("QueryService_Create", |call| create(call).boxed_local()),
        op("QueryService_Delete", |call| delete(call).boxed_local()),
        op("QueryService_DeleteAll", |call| {
            delete_all(call).boxed_local()
        }),
        op("QueryService_DeleteByIds", |call| {
            delete_by_ids(call).boxed_local()
        }),
        op("QueryService_GetCount", |call| {
            get_count(call).boxed_local()
        }),
        op("QueryService_GetNext", |call| get_next(call).boxed_local()),
        op("QueryService_Query", |call| query(call).boxed_local()),
    ]
}

/// Domain errors as QueryService faults (the per-session cursor limit is `InvalidState`,
/// as the `QueryService_Create` page lists).
fn fault(err: &CoreError) -> SoapFault {
    match err {
        CoreError::Conflict(message) => faults::by_name("InvalidState", message),
        other => core_fault(other),
    }
}

fn session(call: &Call) -> Result<Session, SoapFault> {
    call.session.clone().ok_or_else(faults::security_error)
}

// ------------------------------------------------------------------ parsing

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

fn parse_definition(op: &Element) -> Result<QueryDefinition, SoapFault> {
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
fn query_id(el: &Element, parameter: &str) -> Result<String, SoapFault> {
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

fn required_query_id(op: &Element, name: &str) -> Result<String, SoapFault> {
    let el = present(op, name).ok_or_else(|| {
        faults::invalid_argument(name, &format!("The parameter {name} is required."))
    })?;
    query_id(el, name)
}

// ---------------------------------------------------------------- rendering

fn field(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// One `AuditEventSummaryView`, properties in the documented order.
fn render_summary(out: &mut String, s: &AuditEventSummary) {
    out.push_str(r#"<results xsi:type="AuditEventSummaryView">"#);
    field(out, "eventId", &s.event_id.to_string());
    field(out, "eventType", &s.event_type);
    field(out, "severity", &s.severity);
    field(out, "module", &s.module);
    field(out, "time", &s.time);
    if let Some(dns) = &s.machine_dns_name {
        field(out, "machineDnsName", dns);
    }
    if let Some(user) = &s.user_id {
        out.push_str("<userId>");
        field(out, "id", user);
        out.push_str("</userId>");
    }
    field(out, "message", &s.message);
    if let Some(name) = &s.user_display_name {
        field(out, "userDisplayName", name);
    }
    out.push_str("</results>");
}

/// One `EventSummaryView`: `eventId`, `data: EventData`, `namesData: EventNamesData`.
fn render_event_summary(out: &mut String, s: &AuditEventSummary) {
    out.push_str(r#"<results xsi:type="EventSummaryView">"#);
    field(out, "eventId", &s.event_id.to_string());
    out.push_str("<data>");
    field(out, "eventType", &s.event_type);
    field(out, "severity", &s.severity);
    field(out, "time", &s.time);
    field(out, "module", &s.module);
    field(out, "message", &s.message);
    if let Some(dns) = &s.machine_dns_name {
        field(out, "node", dns);
    }
    if let Some(user) = &s.user_id {
        out.push_str("<userId>");
        field(out, "id", user);
        out.push_str("</userId>");
    }
    out.push_str("</data><namesData>");
    if let Some(name) = &s.user_display_name {
        field(out, "userDisplayName", name);
    }
    out.push_str("</namesData></results>");
}

/// `QueryResults` as `returnval`: id, startingOffset, remainingCount, results.
fn render_page(page: &QueryPage) -> String {
    let mut out = String::from("<returnval>");
    if let Some(id) = &page.id {
        out.push_str("<id>");
        field(&mut out, "id", id);
        out.push_str("</id>");
    }
    field(
        &mut out,
        "startingOffset",
        &page.starting_offset.to_string(),
    );
    if let Some(remaining) = page.remaining_count {
        field(&mut out, "remainingCount", &remaining.to_string());
    }
    for s in &page.results {
        match page.entity {
            QueryEntity::AuditEventSummaryView => render_summary(&mut out, s),
            QueryEntity::EventSummaryView => render_event_summary(&mut out, s),
        }
    }
    out.push_str("</returnval>");
    out
}

// ----------------------------------------------------------------- handlers

async fn query(call: Call) -> Result<Reply, SoapFault> {
    let definition = parse_definition(&call.op)?;
    let page = call.core().query(&definition).map_err(|e| fault(&e))?;
    Ok(Reply::new("QueryService_Query", &render_page(&page)))
}

async fn create(call: Call) -> Result<Reply, SoapFault> {
    let session = session(&call)?;
    let definition = parse_definition(&call.op)?;
    let page = call
        .core()
        .query_create(&session, &definition)
        .map_err(|e| fault(&e))?;
    Ok(Reply::new("QueryService_Create", &render_page(&page)))
}

async fn get_next(call: Call) -> Result<Reply, SoapFault> {
    let session = session(&call)?;
    let id = required_query_id(&call.op, "id")?;
    let page = call
        .core()
        .query_next(&session, &id)
        .map_err(|e| fault(&e))?;
    Ok(Reply::new("QueryService_GetNext", &render_page(&page)))
}

async fn get_count(call: Call) -> Result<Reply, SoapFault> {
    let definition = parse_definition(&call.op)?;
    let count = call
        .core()
        .query_count(&definition)
        .map_err(|e| fault(&e))?;
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    Ok(Reply::new(
        "QueryService_GetCount",
        &format!("<returnval>{count}</returnval>"),
    ))
}

async fn delete(call: Call) -> Result<Reply, SoapFault> {
    let session = session(&call)?;
    let id = required_query_id(&call.op, "id")?;
    call.core()
        .query_delete(&session, &id)
        .map_err(|e| fault(&e))?;
    Ok(Reply::new("QueryService_Delete", ""))
}

async fn delete_all(call: Call) -> Result<Reply, SoapFault> {
    let session = session(&call)?;
    call.core().query_delete_all(&session);
    Ok(Reply::new("QueryService_DeleteAll", ""))
}

async fn delete_by_ids(call: Call) -> Result<Reply, SoapFault> {
    let session = session(&call)?;
    let ids = call
        .op
        .children_named("ids")
        .filter(|el| !el.is_nil())
        .enumerate()
        .map(|(i, el)| query_id(el, &format!("ids[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() > crate::core::events::MAX_EVENT_PAGE {
        return Err(faults::invalid_argument(
            "ids",
            "At most 1000 query ids can be deleted at once.",
        ));
    }
    call.core()
        .query_delete_by_ids(&session, &ids)
        .map_err(|e| fault(&e))?;
    Ok(Reply::new("QueryService_DeleteByIds", ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soap::xml::{parse, Limits};

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

    #[test]
    fn renders_results_in_documented_order() {
        let mut page = QueryPage {
            entity: QueryEntity::AuditEventSummaryView,
            id: Some("q1".into()),
            starting_offset: 0,
            remaining_count: Some(2),
            results: vec![AuditEventSummary {
                event_id: 3,
                event_type: "VLSI_USERLOGGEDIN".into(),
                severity: "AUDIT_SUCCESS".into(),
                module: "Vlsi".into(),
                time: "2026-01-01T00:00:00.000Z".into(),
                time_ms: 0,
                machine_dns_name: None,
                user_id: Some("VLSIM\\a&b".into()),
                message: "m".into(),
                user_display_name: Some("VLSIM\\a&b".into()),
            }],
        };
        assert_eq!(
            render_page(&page),
            r#"<returnval><id><id>q1</id></id><startingOffset>0</startingOffset><remainingCount>2</remainingCount><results xsi:type="AuditEventSummaryView"><eventId>3</eventId><eventType>VLSI_USERLOGGEDIN</eventType><severity>AUDIT_SUCCESS</severity><module>Vlsi</module><time>2026-01-01T00:00:00.000Z</time><userId><id>VLSIM\a&amp;b</id></userId><message>m</message><userDisplayName>VLSIM\a&amp;b</userDisplayName></results></returnval>"#
        );
        page.entity = QueryEntity::EventSummaryView;
        page.id = None;
        assert_eq!(
            render_page(&page),
            r#"<returnval><startingOffset>0</startingOffset><remainingCount>2</remainingCount><results xsi:type="EventSummaryView"><eventId>3</eventId><data><eventType>VLSI_USERLOGGEDIN</eventType><severity>AUDIT_SUCCESS</severity><time>2026-01-01T00:00:00.000Z</time><module>Vlsi</module><message>m</message><userId><id>VLSIM\a&amp;b</id></userId></data><namesData><userDisplayName>VLSIM\a&amp;b</userDisplayName></namesData></results></returnval>"#
        );
    }
}
