//! `GET /rest/external/v1|v2/audit-events` at the wire: the items, newest first, each filter
//! type, sorting, paging edges with `HAS_MORE_RECORDS`, 400s that name the problem, and the
//! same events through SOAP `QueryService` with the same ids.

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const GENERATED: &str = "VLSI_JWT_TOKEN_GENERATED";
const SOAP_LOGIN: &str = "VLSI_USERLOGGEDIN";
const SOAP_LOGIN_FAILED: &str = "VLSI_USERLOGINFAILED";

/// A frozen clock moved one second between events, and a known history (oldest first):
/// SOAP login, Generate, REST login (auditor), failed SOAP login, REST logout, REST login
/// (administrator, the one returned).
async fn seeded() -> (TestApp, String) {
    let app = TestApp::start().await;
    app.freeze_clock();
    let admin = app.logged_in("administrator").await;
    app.advance_clock(1).await;
    app.generate(&admin, None).await;
    app.advance_clock(1).await;
    let (_, auditor_refresh) = app.rest_login("auditor").await;
    app.advance_clock(1).await;
    let r = app
        .soap(app.http(), &login_xml("administrator", "nope"))
        .await;
    assert!(r.is_fault());
    app.advance_clock(1).await;
    assert_eq!(app.rest_logout(&auditor_refresh).await.status, 200);
    app.advance_clock(1).await;
    let (access, _) = app.rest_login("administrator").await;
    (app, access)
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn filter(f: Value) -> String {
    f.to_string()
}

fn eq(name: &str, value: Value) -> Value {
    json!({"type": "Equals", "name": name, "value": value})
}

#[actix_web::test]
async fn items_are_the_horizon_events_newest_first_in_both_versions() {
    let (app, access) = seeded().await;
    // FusionAuth and vCenter events are not the Connection Server's
    app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    app.vcenter_session().await;
    let events = app.audit_events(&access, &[]).await;
    assert_eq!(
        types(&events),
        [
            hz::LOGIN_OK,
            hz::LOGOUT_OK,
            SOAP_LOGIN_FAILED,
            hz::LOGIN_OK,
            GENERATED,
            SOAP_LOGIN
        ]
    );
    let times: Vec<i64> = events.iter().map(|e| e["time"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
    let stored = app.stored_events(hz::LOGIN_OK, 1);
    let newest = &events[0];
    assert_eq!(newest["id"].as_i64().unwrap() as u64, stored[0].id);
    assert_eq!(newest["time"], stored[0].time_ms, "epoch milliseconds");
    assert_eq!(
        newest,
        &json!({"id": stored[0].id, "user_id": "VLSIM\\administrator", "type": hz::LOGIN_OK,
                "severity": "AUDIT_SUCCESS", "module": "Rest", "machine_dns_name": "cs1.vlsim.test",
                "time": stored[0].time_ms,
                "message": "User VLSIM\\administrator has logged in to Horizon Server REST API"})
    );
    for e in &events {
        assert!(e.as_object().unwrap().values().all(|v| !v.is_null()), "{e}");
        assert!(["Vlsi", "Rest"].contains(&e["module"].as_str().unwrap()));
    }
    let v2 = app.audit_events_raw("v2", &access, &[]).await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.json(), Value::Array(events));
}

#[actix_web::test]
async fn each_filter_type_selects_what_it_says() {
    let (app, access) = seeded().await;
    let all = app.audit_events(&access, &[]).await;
    let run = |f: Value| {
        let app = &app;
        let access = &access;
        async move { app.audit_events(access, &[("filter", &filter(f))]).await }
    };
    let rest = run(eq("module", json!("Rest"))).await;
    assert_eq!(types(&rest), [hz::LOGIN_OK, hz::LOGOUT_OK, hz::LOGIN_OK]);
    // text comparisons ignore case, as QueryService's do
    assert_eq!(ids(&run(eq("module", json!("rest"))).await), ids(&rest));
    let not_rest = run(json!({"type": "NotEquals", "name": "module", "value": "Rest"})).await;
    assert_eq!(types(&not_rest), [SOAP_LOGIN_FAILED, GENERATED, SOAP_LOGIN]);
    let negated = run(json!({"type": "Not", "filter": eq("module", json!("Rest"))})).await;
    assert_eq!(ids(&negated), ids(&not_rest));
    let contains = run(json!({"type": "Contains", "name": "message", "value": "REST API"})).await;
    assert_eq!(ids(&contains), ids(&rest));
    let any_of =
        run(json!({"type": "Contains", "name": "type", "value": ["LOGOUT", "GENERATED"]})).await;
    assert_eq!(types(&any_of), [hz::LOGOUT_OK, GENERATED]);
    let starts = run(json!({"type": "StartsWith", "name": "type", "value": "VLSI_USER"})).await;
    assert_eq!(types(&starts), [SOAP_LOGIN_FAILED, SOAP_LOGIN]);
    let by_user = run(eq("user_id", json!("VLSIM\\auditor"))).await;
    assert_eq!(types(&by_user), [hz::LOGOUT_OK, hz::LOGIN_OK]);
    // Between on time is inclusive at both ends, in either spelling of the bounds
    let t = |i: usize| all[i]["time"].as_i64().unwrap();
    let between =
        run(json!({"type": "Between", "name": "time", "fromValue": t(3), "toValue": t(1)})).await;
    assert_eq!(ids(&between), ids(&all[1..=3]));
    let snake = run(json!({"type": "Between", "name": "time", "from_value": t(3).to_string(), "to_value": t(1)})).await;
    assert_eq!(ids(&snake), ids(&between));
    let exact =
        run(json!({"type": "Between", "name": "time", "fromValue": t(2), "toValue": t(2)})).await;
    assert_eq!(ids(&exact), ids(&all[2..=2]));
    let open_ended = run(json!({"type": "Between", "name": "time", "fromValue": t(1)})).await;
    assert_eq!(ids(&open_ended), ids(&all[..=1]));
    // Equals on id and on time
    let id = all[4]["id"].as_i64().unwrap();
    assert_eq!(ids(&run(eq("id", json!(id))).await), [id]);
    assert_eq!(ids(&run(eq("id", json!(id.to_string()))).await), [id]);
    assert_eq!(ids(&run(eq("time", json!(t(4)))).await), [id]);
    // And, Or, nested
    let and = run(json!({"type": "And", "filters": [eq("module", json!("Rest")), eq("user_id", json!("VLSIM\\administrator"))]})).await;
    assert_eq!(ids(&and), ids(&all[..1]));
    let or = run(json!({"type": "Or", "filters": [eq("type", json!(GENERATED)), eq("type", json!(hz::LOGOUT_OK))]})).await;
    assert_eq!(types(&or), [hz::LOGOUT_OK, GENERATED]);
    let nested = run(json!({"type": "And", "filters": [
        {"type": "Or", "filters": [eq("severity", json!("AUDIT_FAIL")), eq("type", json!(GENERATED))]},
        {"type": "Not", "filter": {"type": "StartsWith", "name": "message", "value": "JWT"}}]})).await;
    assert_eq!(types(&nested), [SOAP_LOGIN_FAILED, GENERATED]);
    // members vlsim never fills match nothing with Equals, everything with NotEquals
    assert!(run(eq("desktop_pool_name", json!("pool"))).await.is_empty());
    assert_eq!(
        run(json!({"type": "NotEquals", "name": "machine_id", "value": "m"}))
            .await
            .len(),
        all.len()
    );
}

#[actix_web::test]
async fn paging_follows_the_guide_with_has_more_records() {
    let (app, access) = seeded().await;
    let all = app.audit_events(&access, &[]).await; // 6 events
    assert_eq!(all.len(), 6);
    let page = |p: &'static str, s: &'static str| {
        let app = &app;
        let access = &access;
        async move {
            app.audit_events_raw("v1", access, &[("page", p), ("size", s)])
                .await
        }
    };
    let mut seen = Vec::new();
    for (p, more) in [("1", true), ("2", true), ("3", false)] {
        let r = page(p, "2").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.headers.contains_key("has_more_records"),
            more,
            "page {p} of size 2"
        );
        if more {
            assert_eq!(r.headers["has_more_records"], "TRUE");
        }
        assert_eq!(r.headers["x-total-count"], "6");
        seen.extend(r.json().as_array().unwrap().clone());
    }
    assert_eq!(ids(&seen), ids(&all));
    // 6 events at size 2: page 4 is past the end
    let (_, message) = page("4", "2").await.rest_error(400);
    assert!(message.contains("page"), "{message}");
    let last = page("2", "4").await;
    assert!(!last.headers.contains_key("has_more_records"));
    assert_eq!(
        last.json().as_array().unwrap().len(),
        2,
        "a short last page"
    );
    let whole = page("1", "1000").await;
    assert_eq!(whole.json().as_array().unwrap().len(), 6);
    assert!(!whole.headers.contains_key("has_more_records"));
    // an empty first page is 200 []
    let none = app
        .audit_events_raw(
            "v1",
            &access,
            &[
                ("page", "1"),
                ("size", "10"),
                ("filter", &filter(eq("type", json!("NO_SUCH")))),
            ],
        )
        .await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json(), json!([]));
    // unpaginated answers carry neither header
    let unpaged = app.audit_events_raw("v1", &access, &[]).await;
    assert!(!unpaged.headers.contains_key("has_more_records"));
    assert!(!unpaged.headers.contains_key("x-total-count"));
    // unknown parameters are ignored
    assert_eq!(
        app.audit_events(&access, &[("type", "x"), ("sort_order", "y")])
            .await
            .len(),
        6
    );
}

#[actix_web::test]
async fn sorting_by_a_sortable_member_in_either_order() {
    let (app, access) = seeded().await;
    let asc = app.audit_events(&access, &[("sort_by", "type")]).await;
    let t = types(&asc);
    let mut sorted = t.clone();
    sorted.sort();
    assert_eq!(t, sorted, "order_by defaults to ASC");
    // ties keep newest first
    let logins: Vec<i64> = asc
        .iter()
        .filter(|e| e["type"] == hz::LOGIN_OK)
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(logins[0] > logins[1]);
    let desc = app
        .audit_events(&access, &[("sort_by", "type"), ("order_by", "desc")])
        .await;
    let mut reversed = sorted.clone();
    reversed.reverse();
    assert_eq!(types(&desc), reversed);
    let by_time = app
        .audit_events(&access, &[("sort_by", "time"), ("order_by", "ASC")])
        .await;
    let times: Vec<i64> = by_time
        .iter()
        .map(|e| e["time"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    let paged = app
        .audit_events(
            &access,
            &[("sort_by", "time"), ("page", "2"), ("size", "2")],
        )
        .await;
    assert_eq!(ids(&paged), ids(&by_time[2..4]));
}

#[actix_web::test]
async fn bad_parameters_are_400s_naming_the_problem() {
    let (app, access) = seeded().await;
    let f = |v: Value| v.to_string();
    /// (query parameters, error key, what the message must name)
    type Case = (Vec<(&'static str, String)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![("filter", "{not json".into())],
            "rest.filter.invalid",
            "'filter'",
        ),
        (
            vec![("filter", "[]".into())],
            "rest.filter.invalid",
            "object",
        ),
        // nested deeper than any parser should follow: refused, not a stack overflow
        (
            vec![("filter", "[".repeat(1000))],
            "rest.filter.invalid",
            "'filter'",
        ),
        (
            vec![(
                "filter",
                format!(
                    "{}{}",
                    r#"{"type":"Not","filter":"#.repeat(100),
                    "}".repeat(100)
                ),
            )],
            "rest.filter.invalid",
            "filter",
        ),
        (
            vec![("filter", f(eq("colour", json!("red"))))],
            "rest.filter.invalid",
            "colour",
        ),
        (
            vec![(
                "filter",
                f(json!({"type": "Sometimes", "name": "type", "value": "x"})),
            )],
            "rest.filter.invalid",
            "Sometimes",
        ),
        (
            vec![("filter", f(json!({"type": "And", "filters": "nope"})))],
            "rest.filter.invalid",
            "filters",
        ),
        (
            vec![("filter", f(json!({"type": "Or", "filters": []})))],
            "rest.filter.invalid",
            "filters",
        ),
        (
            vec![("filter", f(json!({"type": "Not"})))],
            "rest.filter.invalid",
            "filter",
        ),
        (
            vec![("filter", f(json!({"type": "Equals", "value": "x"})))],
            "rest.filter.invalid",
            "name",
        ),
        (
            vec![(
                "filter",
                f(
                    json!({"type": "Between", "name": "time", "fromValue": "yesterday", "toValue": 1}),
                ),
            )],
            "rest.filter.invalid",
            "fromValue",
        ),
        (
            vec![(
                "filter",
                f(json!({"type": "Between", "name": "type", "fromValue": 1, "toValue": 2})),
            )],
            "rest.filter.invalid",
            "Between",
        ),
        (
            vec![(
                "filter",
                f(json!({"type": "Contains", "name": "time", "value": "1"})),
            )],
            "rest.filter.invalid",
            "time",
        ),
        (
            vec![("filter", f(eq("id", json!("seven"))))],
            "rest.filter.invalid",
            "seven",
        ),
        (
            vec![("filter", f(eq("type", json!({"a": 1}))))],
            "rest.filter.invalid",
            "value",
        ),
        (
            vec![("page", "0".into()), ("size", "10".into())],
            "rest.pagination.invalid",
            "page",
        ),
        (
            vec![("page", "1".into()), ("size", "0".into())],
            "rest.pagination.invalid",
            "size",
        ),
        (
            vec![("page", "1".into()), ("size", "1001".into())],
            "rest.pagination.invalid",
            "size",
        ),
        (
            vec![("page", "one".into()), ("size", "10".into())],
            "rest.pagination.invalid",
            "page",
        ),
        (
            vec![("page", "1".into())],
            "rest.pagination.invalid",
            "size",
        ),
        (
            vec![("size", "5".into())],
            "rest.pagination.invalid",
            "page",
        ),
        (
            vec![("sort_by", "user_id".into())],
            "rest.sort.invalid",
            "user_id",
        ),
        (
            vec![("sort_by", "colour".into())],
            "rest.sort.invalid",
            "colour",
        ),
        (
            vec![("order_by", "DESC".into())],
            "rest.sort.invalid",
            "sort_by",
        ),
        (
            vec![("sort_by", "time".into()), ("order_by", "SIDEWAYS".into())],
            "rest.sort.invalid",
            "order_by",
        ),
    ];
    for (query, want_key, mentions) in cases {
        let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.audit_events_raw("v2", &access, &q).await;
        let (key, message) = r.rest_error(400);
        assert_eq!(key, want_key, "{q:?}: {message}");
        assert!(message.contains(mentions), "{q:?}: {message}");
    }
}

fn soap_query(filter_xml: &str) -> String {
    format!(
        r#"<QueryService_Query xmlns="urn:vdi"><_this type="QueryService">QueryService</_this><definition><queryEntityType>AuditEventSummaryView</queryEntityType>{filter_xml}<sortDescending>true</sortDescending></definition></QueryService_Query>"#
    )
}

fn soap_equals(value: &str) -> String {
    format!(
        r#"<filters xsi:type="QueryFilterEquals"><memberName>eventType</memberName><value xsi:type="xsd:string" xmlns:xsd="http://www.w3.org/2001/XMLSchema">{value}</value></filters>"#
    )
}

#[actix_web::test]
async fn soap_generate_and_rest_login_show_up_on_both_surfaces_with_the_same_ids() {
    let app = TestApp::start().await;
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await;
    let (access, _) = app.rest_login("administrator").await;

    let wanted = json!({"type": "Or", "filters": [eq("type", json!(GENERATED)), eq("type", json!(hz::LOGIN_OK))]});
    let rest = app
        .audit_events(&access, &[("filter", &wanted.to_string())])
        .await;
    assert_eq!(types(&rest), [hz::LOGIN_OK, GENERATED]);

    let or = format!(
        r#"<filter xsi:type="QueryFilterOr">{}{}</filter>"#,
        soap_equals(GENERATED),
        soap_equals(hz::LOGIN_OK)
    );
    let reply = app.soap(&admin, &soap_query(&or)).await;
    assert!(!reply.is_fault(), "{}", reply.text);
    let soap: Vec<_> = reply
        .returnval()
        .unwrap()
        .children_named("results")
        .cloned()
        .collect();
    assert_eq!(soap.len(), 2, "{}", reply.text);
    for (s, r) in soap.iter().zip(&rest) {
        let text = |n: &str| s.child(n).unwrap().text.clone();
        assert_eq!(text("eventId"), r["id"].to_string());
        assert_eq!(text("eventType"), r["type"].as_str().unwrap());
        assert_eq!(text("module"), r["module"].as_str().unwrap());
        assert_eq!(text("message"), r["message"].as_str().unwrap());
        assert_eq!(
            text("machineDnsName"),
            r["machine_dns_name"].as_str().unwrap()
        );
        let soap_time = time::OffsetDateTime::parse(
            &text("time"),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(
            (soap_time.unix_timestamp_nanos() / 1_000_000) as i64,
            r["time"].as_i64().unwrap()
        );
    }
    let modules: BTreeSet<String> = soap
        .iter()
        .map(|s| s.child("module").unwrap().text.clone())
        .collect();
    assert_eq!(
        modules,
        BTreeSet::from(["Rest".to_string(), "Vlsi".to_string()])
    );
}
