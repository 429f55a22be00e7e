//! `QueryService`: Create, GetNext, Delete, DeleteAll, DeleteByIds, GetCount and Query
//! over the `AuditEventSummaryView` entity (the events vlsim records, e.g.
//! `VLSI_JWT_TOKEN_GENERATED`) and the deprecated `EventSummaryView`. Renders
//! `QueryResults`; the definition is read in `query_definition.rs`, the query rules live in
//! `core::horizon::query`.

use crate::core::horizon::query::{AuditEventSummary, QueryEntity, QueryPage};
use crate::soap::SoapFault;
use crate::vlsi::faults;
use crate::vlsi::query_definition::{parse_definition, query_id, required_query_id};
use crate::vlsi::{Call, Operation, Reply};
use futures_util::FutureExt;
use quick_xml::escape::escape;

pub const OPERATIONS: &[Operation] = &[
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
];

/// Every QueryService operation needs a session (any role).
const fn op(name: &'static str, handler: crate::vlsi::Handler) -> Operation {
    Operation {
        name,
        needs_session: true,
        handler,
        on_fault: None,
    }
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
            QueryEntity::AuditEventSummaryView | QueryEntity::AuditEventSummary => {
                render_summary(&mut out, s)
            }
            QueryEntity::EventSummaryView => render_event_summary(&mut out, s),
        }
    }
    out.push_str("</returnval>");
    out
}

// ----------------------------------------------------------------- handlers

async fn query(call: Call) -> Result<Reply, SoapFault> {
    let definition = parse_definition(&call.op)?;
    let page = call.core().horizon().query(&definition)?;
    Ok(Reply::with(render_page(&page)))
}

async fn create(call: Call) -> Result<Reply, SoapFault> {
    let session = call.session()?;
    let definition = parse_definition(&call.op)?;
    let page = call.core().horizon().create_query(session, &definition)?;
    Ok(Reply::with(render_page(&page)))
}

async fn get_next(call: Call) -> Result<Reply, SoapFault> {
    let session = call.session()?;
    let id = required_query_id(&call.op, "id")?;
    let page = call.core().horizon().next_page(session, &id)?;
    Ok(Reply::with(render_page(&page)))
}

async fn get_count(call: Call) -> Result<Reply, SoapFault> {
    let definition = parse_definition(&call.op)?;
    let count = call.core().horizon().count(&definition)?;
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    Ok(Reply::with(format!("<returnval>{count}</returnval>")))
}

async fn delete(call: Call) -> Result<Reply, SoapFault> {
    let session = call.session()?;
    let id = required_query_id(&call.op, "id")?;
    call.core().horizon().delete_query(session, &id)?;
    Ok(Reply::empty())
}

async fn delete_all(call: Call) -> Result<Reply, SoapFault> {
    let session = call.session()?;
    call.core().horizon().delete_all_queries(session);
    Ok(Reply::empty())
}

async fn delete_by_ids(call: Call) -> Result<Reply, SoapFault> {
    let session = call.session()?;
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
    call.core().horizon().delete_queries(session, &ids)?;
    Ok(Reply::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

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
