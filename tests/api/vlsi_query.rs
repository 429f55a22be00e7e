//! QueryService over AuditEventSummaryView, at the wire: the JWT events written by
//! JwtToken_Generate read back the way a Horizon client reads them.

use crate::helpers::*;
use vlsim::xml::Element;

const FAILED: &str = "VLSI_JWT_TOKEN_GENERATION_FAILED";
const GENERATED: &str = "VLSI_JWT_TOKEN_GENERATED";

fn this() -> &'static str {
    r#"<_this type="QueryService">QueryService</_this>"#
}

fn string_value(tag: &str, v: &str) -> String {
    format!(
        r#"<{tag} xsi:type="xsd:string" xmlns:xsd="http://www.w3.org/2001/XMLSchema">{v}</{tag}>"#
    )
}

/// A filter element named `tag` of type `kind` (QueryFilterEquals, ...).
fn filter(tag: &str, kind: &str, member: &str, value: &str) -> String {
    format!(
        r#"<{tag} xsi:type="{kind}"><memberName>{member}</memberName>{}</{tag}>"#,
        string_value("value", value)
    )
}

fn group(tag: &str, kind: &str, children: &[(&str, &str, &str)]) -> String {
    let inner: String = children
        .iter()
        .map(|(k, m, v)| filter("filters", k, m, v))
        .collect();
    format!(r#"<{tag} xsi:type="{kind}">{inner}</{tag}>"#)
}

fn definition(filter: &str, extra: &str) -> String {
    format!(
        "<definition><queryEntityType>AuditEventSummaryView</queryEntityType>{filter}{extra}</definition>"
    )
}

fn op(method: &str, params: &str) -> String {
    format!(r#"<{method} xmlns="urn:vdi">{}{params}</{method}>"#, this())
}

fn results(reply: &SoapReply) -> Vec<Element> {
    assert!(!reply.is_fault(), "{}", reply.text);
    reply
        .returnval()
        .unwrap()
        .children_named("results")
        .cloned()
        .collect()
}

fn text(el: &Element, name: &str) -> String {
    el.child(name)
        .map(|c| c.text.clone())
        .unwrap_or_else(|| panic!("no {name} in {el:?}"))
}

fn rv_int(reply: &SoapReply, name: &str) -> i64 {
    text(reply.returnval().unwrap(), name).parse().unwrap()
}

/// auditor fails to generate once, administrator generates twice; returns the admin client.
async fn seed(app: &TestApp) -> reqwest::Client {
    let auditor = app.logged_in("auditor").await;
    let r = app.soap(&auditor, &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "InsufficientPermission", "{}", r.text);
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await;
    app.generate(&admin, Some("<validityTime>5</validityTime>"))
        .await;
    admin
}

#[actix_web::test]
async fn equals_event_type_finds_the_auditors_failure() {
    let app = TestApp::start().await;
    let admin = seed(&app).await;

    let f = filter("filter", "QueryFilterEquals", "eventType", FAILED);
    let reply = app
        .soap(&admin, &op("QueryService_Query", &definition(&f, "")))
        .await;
    let rs = results(&reply);
    assert_eq!(rs.len(), 1, "{}", reply.text);
    let e = &rs[0];
    assert_eq!(e.xsi_type(), Some("AuditEventSummaryView"));
    assert_eq!(text(e, "eventType"), FAILED);
    assert_eq!(text(e, "severity"), "AUDIT_FAIL");
    assert_eq!(text(e, "module"), "Vlsi");
    assert_eq!(text(e, "userDisplayName"), "VLSIM\\auditor");
    assert_eq!(text(e.child("userId").unwrap(), "id"), "VLSIM\\auditor");
    assert!(text(e, "message").contains("auditor"), "{}", reply.text);
    // eventId is the event's id in the log
    let stored = app.stored_events(FAILED, 10);
    assert_eq!(text(e, "eventId"), stored[0].id.to_string());
    assert_eq!(text(e, "time"), stored[0].time);
    // documented property order
    let names: Vec<&str> = e.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "eventId",
            "eventType",
            "severity",
            "module",
            "time",
            "machineDnsName",
            "userId",
            "message",
            "userDisplayName"
        ]
    );
    // a virtual-list query has no id and nothing remaining
    assert!(reply.returnval().unwrap().child("id").is_none());
    assert_eq!(rv_int(&reply, "startingOffset"), 0);
    assert_eq!(rv_int(&reply, "remainingCount"), 0);

    // untyped value, case-insensitive match, typed UserOrGroupId value
    let untyped = r#"<filter xsi:type="QueryFilterEquals"><memberName>eventType</memberName><value>vlsi_jwt_token_generation_failed</value></filter>"#;
    let r = app
        .soap(&admin, &op("QueryService_Query", &definition(untyped, "")))
        .await;
    assert_eq!(results(&r).len(), 1);
    let by_user = r#"<filter xsi:type="QueryFilterEquals"><memberName>userId</memberName><value xsi:type="UserOrGroupId"><id>VLSIM\administrator</id></value></filter>"#;
    let r = app
        .soap(&admin, &op("QueryService_Query", &definition(by_user, "")))
        .await;
    let rs = results(&r);
    // login + two generated tokens
    assert_eq!(rs.len(), 3, "{}", r.text);
    assert!(rs
        .iter()
        .all(|e| text(e, "userDisplayName") == "VLSIM\\administrator"));
}

#[actix_web::test]
async fn starts_with_and_or_not_and_sorting() {
    let app = TestApp::start().await;
    let admin = seed(&app).await;
    let query = |def: String| op("QueryService_Query", &def);

    let sw = filter("filter", "QueryFilterStartsWith", "eventType", "VLSI_JWT_");
    let rs = results(&app.soap(&admin, &query(definition(&sw, ""))).await);
    let types: Vec<String> = rs.iter().map(|e| text(e, "eventType")).collect();
    // default sort: by time, ascending
    assert_eq!(types, [FAILED, GENERATED, GENERATED]);
    let ids: Vec<i64> = rs
        .iter()
        .map(|e| text(e, "eventId").parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    let desc = app
        .soap(
            &admin,
            &query(definition(&sw, "<sortDescending>true</sortDescending>")),
        )
        .await;
    let types: Vec<String> = results(&desc)
        .iter()
        .map(|e| text(e, "eventType"))
        .collect();
    assert_eq!(types, [GENERATED, GENERATED, FAILED]);

    let by_type = app
        .soap(
            &admin,
            &query(definition(&sw, "<sortBy>eventType</sortBy>")),
        )
        .await;
    let types: Vec<String> = results(&by_type)
        .iter()
        .map(|e| text(e, "eventType"))
        .collect();
    assert_eq!(types, [GENERATED, GENERATED, FAILED]);

    let and = group(
        "filter",
        "QueryFilterAnd",
        &[
            ("QueryFilterStartsWith", "eventType", "VLSI_JWT_"),
            ("QueryFilterEquals", "severity", "AUDIT_SUCCESS"),
        ],
    );
    let rs = results(&app.soap(&admin, &query(definition(&and, ""))).await);
    assert_eq!(rs.len(), 2);
    assert!(rs.iter().all(|e| text(e, "eventType") == GENERATED));

    let or = group(
        "filter",
        "QueryFilterOr",
        &[
            ("QueryFilterEquals", "eventType", FAILED),
            ("QueryFilterEquals", "eventType", "VLSI_USERLOGGEDIN"),
        ],
    );
    let rs = results(&app.soap(&admin, &query(definition(&or, ""))).await);
    let mut types: Vec<String> = rs.iter().map(|e| text(e, "eventType")).collect();
    types.sort();
    assert_eq!(
        types,
        [FAILED, "VLSI_USERLOGGEDIN", "VLSI_USERLOGGEDIN"],
        "two logins and one failure"
    );

    let not = format!(
        r#"<filter xsi:type="QueryFilterNot">{}</filter>"#,
        filter("filter", "QueryFilterEquals", "eventType", GENERATED)
    );
    let rs = results(&app.soap(&admin, &query(definition(&not, ""))).await);
    assert!(!rs.is_empty());
    assert!(rs.iter().all(|e| text(e, "eventType") != GENERATED));

    let not_equals = filter(
        "filter",
        "QueryFilterNotEquals",
        "userId",
        "VLSIM\\administrator",
    );
    let rs = results(&app.soap(&admin, &query(definition(&not_equals, ""))).await);
    assert!(rs
        .iter()
        .all(|e| text(e, "userDisplayName") == "VLSIM\\auditor"));

    let contains = filter("filter", "QueryFilterContains", "eventType", "generation");
    let rs = results(&app.soap(&admin, &query(definition(&contains, ""))).await);
    assert_eq!(rs.len(), 1);

    // time window: everything so far, nothing in the future
    let now = app.clock().now_ms();
    let between = |from: i64, to: i64| {
        format!(
            r#"<filter xsi:type="QueryFilterBetween"><memberName>time</memberName><fromValue xsi:type="xsd:dateTime" xmlns:xsd="http://www.w3.org/2001/XMLSchema">{}</fromValue><toValue>{}</toValue></filter>"#,
            vlsim::clock::rfc3339_ms(from),
            vlsim::clock::rfc3339_ms(to)
        )
    };
    let rs = results(
        &app.soap(&admin, &query(definition(&between(0, now), "")))
            .await,
    );
    assert_eq!(rs.len(), 5, "2 logins, 1 failure, 2 tokens");
    let rs = results(
        &app.soap(
            &admin,
            &query(definition(&between(now + 60_000, now + 120_000), "")),
        )
        .await,
    );
    assert!(rs.is_empty());
}

#[actix_web::test]
async fn paging_with_query_create_get_next_delete_and_count() {
    let app = TestApp::start().await;
    let admin = seed(&app).await;
    for _ in 0..3 {
        app.generate(&admin, None).await;
    }
    let generated = filter("filter", "QueryFilterEquals", "eventType", GENERATED);

    // GetCount
    let r = app
        .soap(
            &admin,
            &op("QueryService_GetCount", &definition(&generated, "")),
        )
        .await;
    assert!(!r.is_fault(), "{}", r.text);
    assert_eq!(r.returnval().unwrap().text, "5");

    // virtual list: offset 1, page of 2 → 2 remaining
    let r = app
        .soap(
            &admin,
            &op(
                "QueryService_Query",
                &definition(
                    &generated,
                    "<startingOffset>1</startingOffset><maxPageSize>2</maxPageSize>",
                ),
            ),
        )
        .await;
    assert_eq!(results(&r).len(), 2);
    assert_eq!(rv_int(&r, "startingOffset"), 1);
    assert_eq!(rv_int(&r, "remainingCount"), 2);
    // limit caps what the query produces
    let r = app
        .soap(
            &admin,
            &op(
                "QueryService_Query",
                &definition(&generated, "<limit>3</limit><maxPageSize>2</maxPageSize>"),
            ),
        )
        .await;
    assert_eq!(results(&r).len(), 2);
    assert_eq!(rv_int(&r, "remainingCount"), 1);

    // cursor: Create gives page 1 and an id; GetNext walks on; the pages cover all 5
    let r = app
        .soap(
            &admin,
            &op(
                "QueryService_Create",
                &definition(&generated, "<maxPageSize>2</maxPageSize>"),
            ),
        )
        .await;
    let id = text(r.returnval().unwrap().child("id").unwrap(), "id");
    let mut seen: Vec<String> = results(&r).iter().map(|e| text(e, "eventId")).collect();
    assert_eq!(rv_int(&r, "remainingCount"), 3);
    let id_xml = format!("<id><id>{id}</id></id>");
    let mut offsets = vec![rv_int(&r, "startingOffset")];
    loop {
        let r = app.soap(&admin, &op("QueryService_GetNext", &id_xml)).await;
        let page = results(&r);
        if page.is_empty() {
            assert_eq!(rv_int(&r, "remainingCount"), 0);
            break;
        }
        offsets.push(rv_int(&r, "startingOffset"));
        assert_eq!(text(r.returnval().unwrap().child("id").unwrap(), "id"), id);
        seen.extend(page.iter().map(|e| text(e, "eventId")));
    }
    assert_eq!(offsets, [0, 2, 4]);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{seen:?}");

    // another session cannot use this cursor
    let auditor = app.logged_in("auditor").await;
    let r = app
        .soap(&auditor, &op("QueryService_GetNext", &id_xml))
        .await;
    assert_eq!(r.fault_type(), "EntityNotFound", "{}", r.text);

    // Delete, then the id is gone
    let r = app.soap(&admin, &op("QueryService_Delete", &id_xml)).await;
    assert!(!r.is_fault(), "{}", r.text);
    assert_eq!(r.body.name, "QueryService_DeleteResponse");
    assert!(r.body.children.is_empty());
    let r = app.soap(&admin, &op("QueryService_GetNext", &id_xml)).await;
    assert_eq!(r.fault_type(), "EntityNotFound", "{}", r.text);
    assert_eq!(
        r.fault_detail()
            .and_then(|d| d.child("id"))
            .map(|i| text(i, "id")),
        Some(id.clone())
    );
    let r = app.soap(&admin, &op("QueryService_Delete", &id_xml)).await;
    assert_eq!(r.fault_type(), "EntityNotFound");

    // DeleteByIds and DeleteAll
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = app
            .soap(
                &admin,
                &op("QueryService_Create", &definition(&generated, "")),
            )
            .await;
        ids.push(text(r.returnval().unwrap().child("id").unwrap(), "id"));
    }
    let two: String = ids[..2]
        .iter()
        .map(|i| format!("<ids><id>{i}</id></ids>"))
        .collect();
    let r = app
        .soap(&admin, &op("QueryService_DeleteByIds", &two))
        .await;
    assert!(!r.is_fault(), "{}", r.text);
    let r = app
        .soap(&admin, &op("QueryService_DeleteByIds", &two))
        .await;
    assert_eq!(r.fault_type(), "EntityNotFound");
    let third = format!("<id><id>{}</id></id>", ids[2]);
    let r = app.soap(&admin, &op("QueryService_GetNext", &third)).await;
    assert!(!r.is_fault(), "{}", r.text);
    let r = app.soap(&admin, &op("QueryService_DeleteAll", "")).await;
    assert!(!r.is_fault(), "{}", r.text);
    let r = app.soap(&admin, &op("QueryService_GetNext", &third)).await;
    assert_eq!(r.fault_type(), "EntityNotFound");
}

#[actix_web::test]
async fn per_session_cursor_limit_is_invalid_state() {
    let app = TestApp::start().await;
    let admin = app.logged_in("administrator").await;
    let create = op("QueryService_Create", &definition("", ""));
    for _ in 0..vlsim::core::horizon::query::MAX_CURSORS_PER_SESSION {
        let r = app.soap(&admin, &create).await;
        assert!(!r.is_fault(), "{}", r.text);
    }
    let r = app.soap(&admin, &create).await;
    assert_eq!(r.fault_type(), "InvalidState", "{}", r.text);
    let r = app.soap(&admin, &op("QueryService_DeleteAll", "")).await;
    assert!(!r.is_fault());
    let r = app.soap(&admin, &create).await;
    assert!(!r.is_fault(), "{}", r.text);
}

#[actix_web::test]
async fn faults_no_session_bad_entity_member_and_values() {
    let app = TestApp::start().await;
    let all = op("QueryService_Query", &definition("", ""));

    // without a session, every QueryService method is a SecurityError
    for body in [
        all.clone(),
        op("QueryService_Create", &definition("", "")),
        op("QueryService_GetCount", &definition("", "")),
        op("QueryService_GetNext", "<id><id>x</id></id>"),
        op("QueryService_Delete", "<id><id>x</id></id>"),
        op("QueryService_DeleteAll", ""),
        op("QueryService_DeleteByIds", "<ids><id>x</id></ids>"),
    ] {
        let r = app.soap(app.http(), &body).await;
        assert_eq!(r.fault_type(), "SecurityError", "{}", r.text);
        assert_eq!(r.faultstring(), "The session is not authenticated.");
    }

    let admin = app.logged_in("administrator").await;
    let r = app.soap(&admin, &all).await;
    assert!(!results(&r).is_empty(), "the login event is there");

    let bad_member = filter("filter", "QueryFilterEquals", "colour", "red");
    // a documented member with a filter its page does not allow
    let contains_severity = group(
        "filter",
        "QueryFilterOr",
        &[
            ("QueryFilterEquals", "eventType", FAILED),
            ("QueryFilterContains", "severity", "AUDIT"),
        ],
    );
    let query = "QueryService_Query";
    // (method, params, fault type, parameterName, a word the faultstring names)
    let cases = [
        (
            query,
            "<definition><queryEntityType>DesktopSummaryView</queryEntityType></definition>".to_string(),
            Some("InvalidArgument"),
            Some("definition.queryEntityType"),
            Some("DesktopSummaryView"),
        ),
        (
            query,
            definition(&bad_member, ""),
            Some("InvalidArgument"),
            Some("definition.filter.memberName"),
            Some("colour"),
        ),
        (
            "QueryService_GetCount",
            definition(&contains_severity, ""),
            Some("InvalidArgument"),
            Some("definition.filter.filters[1].memberName"),
            None,
        ),
        (
            query,
            definition("", "<maxPageSize>1001</maxPageSize>"),
            None,
            Some("definition.maxPageSize"),
            None,
        ),
        (
            query,
            definition("", "<sortBy>nope</sortBy>"),
            None,
            Some("definition.sortBy"),
            None,
        ),
        (
            query,
            r#"<definition xsi:type="JwtTokenGenerationSpec"><queryEntityType>AuditEventSummaryView</queryEntityType></definition>"#.to_string(),
            Some("InvalidType"),
            None,
            None,
        ),
        (
            query,
            r#"<definition><queryEntityType>AuditEventSummaryView</queryEntityType><filter xsi:type="QueryFilterLike"/></definition>"#.to_string(),
            Some("InvalidType"),
            None,
            None,
        ),
        (query, String::new(), None, Some("definition"), None),
        (
            "QueryService_GetNext",
            "<id><id>nope</id></id>".to_string(),
            Some("EntityNotFound"),
            None,
            None,
        ),
    ];
    for (method, params, fault, parameter, mentions) in cases {
        let r = app.soap(&admin, &op(method, &params)).await;
        assert!(r.is_fault(), "{params}: {}", r.text);
        if let Some(fault) = fault {
            assert_eq!(r.fault_type(), fault, "{params}: {}", r.text);
        }
        if let Some(parameter) = parameter {
            assert_eq!(
                r.detail_field("parameterName").as_deref(),
                Some(parameter),
                "{params}"
            );
        }
        if let Some(word) = mentions {
            assert!(r.faultstring().contains(word), "{}", r.faultstring());
        }
    }
}

#[actix_web::test]
async fn event_summary_view_uses_data_members() {
    let app = TestApp::start().await;
    let admin = seed(&app).await;

    let f = filter("filter", "QueryFilterEquals", "data.eventType", FAILED);
    let def =
        format!("<definition><queryEntityType>EventSummaryView</queryEntityType>{f}</definition>");
    let reply = app.soap(&admin, &op("QueryService_Query", &def)).await;
    let rs = results(&reply);
    assert_eq!(rs.len(), 1, "{}", reply.text);
    let e = &rs[0];
    assert_eq!(e.xsi_type(), Some("EventSummaryView"));
    let names: Vec<&str> = e.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["eventId", "data", "namesData"]);
    let data = e.child("data").unwrap();
    assert_eq!(text(data, "eventType"), FAILED);
    assert_eq!(text(data, "severity"), "AUDIT_FAIL");
    assert_eq!(text(data, "module"), "Vlsi");
    assert_eq!(text(data, "node"), "cs1.vlsim.test");
    assert_eq!(text(data.child("userId").unwrap(), "id"), "VLSIM\\auditor");
    assert_eq!(
        text(e.child("namesData").unwrap(), "userDisplayName"),
        "VLSIM\\auditor"
    );

    // sortBy takes the dotted name too; plain AuditEventSummaryView names are refused
    let sw = filter(
        "filter",
        "QueryFilterStartsWith",
        "data.eventType",
        "VLSI_JWT_",
    );
    let def = format!(
        "<definition><queryEntityType>EventSummaryView</queryEntityType>{sw}<sortBy>data.eventType</sortBy></definition>"
    );
    let rs = results(&app.soap(&admin, &op("QueryService_Query", &def)).await);
    let types: Vec<String> = rs
        .iter()
        .map(|e| text(e.child("data").unwrap(), "eventType"))
        .collect();
    assert_eq!(types, [GENERATED, GENERATED, FAILED]);
    let plain = filter("filter", "QueryFilterEquals", "eventType", FAILED);
    let def = format!(
        "<definition><queryEntityType>EventSummaryView</queryEntityType>{plain}</definition>"
    );
    let r = app.soap(&admin, &op("QueryService_GetCount", &def)).await;
    assert_eq!(r.fault_type(), "InvalidArgument", "{}", r.text);
    assert!(
        r.faultstring().contains("data.eventType"),
        "{}",
        r.faultstring()
    );
}
