//! Event retention at the wire: each surface keeps its newest events within its budget,
//! failures in a budget of their own, and paging (`/_vlsim/events?before=`, QueryService
//! cursors) neither skips nor repeats while the oldest go.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

const GENERATED: &str = "VLSI_JWT_TOKEN_GENERATED";

/// Waits (bounded) until the event logs hold `want` (e.g. `[("vlsi", 50)]`).
async fn logs_hold(app: &TestApp, want: &[(&str, u64)]) -> Value {
    let mut counts = Value::Null;
    for _ in 0..200 {
        counts = app.state().await["counts"]["events_by_log"].clone();
        if want.iter().all(|(log, n)| counts[log] == *n) {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the event logs hold {counts}, not {want:?}");
}

fn ids(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["id"].as_u64().unwrap()).collect()
}

async fn failed_login(app: &TestApp, user: &str) {
    let r = app.soap(app.http(), &login_xml(user, "wrong")).await;
    assert_eq!(r.fault_type(), "InvalidCredentials", "{}", r.text);
}

#[actix_web::test]
async fn retention_keeps_the_newest_and_failures_have_a_budget_of_their_own() {
    let app = TestApp::start_configured(|c| {
        c.event_retention = 50;
        c.event_retention_failures = Some(20);
    })
    .await;
    let admin = app.logged_in("administrator").await;
    for _ in 0..70 {
        app.generate(&admin, None).await;
    }
    // A storm of failed logins from one client...
    for i in 0..100 {
        failed_login(&app, &format!("nobody{i:03}")).await;
    }
    logs_hold(&app, &[("vlsi", 50), ("vlsi.failures", 20)]).await;
    let events = app.events("surface=vlsi&limit=1000").await;
    assert_eq!(events.len(), 70);
    let listed = ids(&events);
    assert!(listed.windows(2).all(|w| w[0] > w[1]), "newest first");
    // ...evicts only older failures: the 50 newest Generates are all there (the login
    // event, the oldest success, went), and the 20 newest failures.
    let generated = events.iter().filter(|e| e["type"] == GENERATED).count();
    assert_eq!(generated, 50);
    let failed: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "VLSI_USERLOGINFAILED")
        .map(|e| e["user"].as_str().unwrap())
        .collect();
    let newest: Vec<String> = (80..100)
        .rev()
        .map(|i| format!("VLSIM\\nobody{i:03}"))
        .collect();
    assert_eq!(failed, newest);
    // Other surfaces keep theirs.
    app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    assert_eq!(app.event_types("fusionauth").await, ["user.login.success"]);
}

#[actix_web::test]
async fn event_pages_neither_skip_nor_repeat_while_the_oldest_go() {
    let app = TestApp::start_configured(|c| c.event_retention = 30).await;
    let admin = app.logged_in("administrator").await;
    for _ in 0..40 {
        app.generate(&admin, None).await;
    }
    logs_hold(&app, &[("vlsi", 30)]).await;
    let (_, first) = app.get_json("/_vlsim/events?surface=vlsi&limit=10").await;
    let mut seen = ids(first["events"].as_array().unwrap());
    let mut next = first["next"].as_u64().unwrap();
    assert_eq!(next, *seen.last().unwrap());
    loop {
        // New events push the oldest out between pages.
        for _ in 0..7 {
            app.generate(&admin, None).await;
        }
        logs_hold(&app, &[("vlsi", 30)]).await;
        let now: Vec<u64> = ids(&app.events("surface=vlsi&limit=1000").await);
        let expected: Vec<u64> = now.into_iter().filter(|id| *id < next).take(10).collect();
        let (status, page) = app
            .get_json(&format!(
                "/_vlsim/events?surface=vlsi&limit=10&before={next}"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        let got = ids(page["events"].as_array().unwrap());
        assert_eq!(got, expected, "the page is what follows the previous one");
        seen.extend(&got);
        match page["next"].as_u64() {
            Some(n) => next = n,
            None => break,
        }
        if got.is_empty() {
            break;
        }
    }
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "no repeats: {seen:?}");
}

fn query_op(method: &str, params: &str) -> String {
    format!(
        r#"<{method} xmlns="urn:vdi"><_this type="QueryService">QueryService</_this>{params}</{method}>"#
    )
}

fn event_ids(reply: &SoapReply) -> Vec<String> {
    assert!(!reply.is_fault(), "{}", reply.text);
    reply
        .returnval()
        .unwrap()
        .children_named("results")
        .map(|r| r.child("eventId").unwrap().text.clone())
        .collect()
}

#[actix_web::test]
async fn a_query_cursor_pages_its_snapshot_while_the_oldest_events_go() {
    let app = TestApp::start_configured(|c| c.event_retention = 30).await;
    let admin = app.logged_in("administrator").await;
    for _ in 0..29 {
        app.generate(&admin, None).await;
    }
    let all = event_ids(
        &app.soap(
            &admin,
            &query_op(
                "QueryService_Query",
                "<definition><queryEntityType>AuditEventSummaryView</queryEntityType></definition>",
            ),
        )
        .await,
    );
    assert_eq!(all.len(), 30);
    let created = app
        .soap(
            &admin,
            &query_op(
                "QueryService_Create",
                "<definition><queryEntityType>AuditEventSummaryView</queryEntityType><maxPageSize>4</maxPageSize></definition>",
            ),
        )
        .await;
    let mut paged = event_ids(&created);
    let id_el = created.returnval().unwrap().child("id").unwrap();
    let id = id_el.child("id").unwrap_or(id_el).text.clone();
    // 20 more events: the 20 oldest of the cursor's go from the log meanwhile.
    for _ in 0..20 {
        app.generate(&admin, None).await;
    }
    logs_hold(&app, &[("vlsi", 30)]).await;
    loop {
        let page = event_ids(
            &app.soap(
                &admin,
                &query_op("QueryService_GetNext", &format!("<id><id>{id}</id></id>")),
            )
            .await,
        );
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    assert_eq!(paged, all, "every event of the selection once, in order");
}

#[actix_web::test]
async fn events_older_than_the_age_cap_go() {
    let app = TestApp::start_configured(|c| c.event_max_age = Some(3600)).await;
    app.freeze_clock();
    let admin = app.logged_in("administrator").await;
    for _ in 0..3 {
        app.generate(&admin, None).await;
    }
    // The sweep the move sets off trims by age (unless the quarter-second trim beat it).
    app.advance_and_sweep(2 * 3600).await;
    assert!(app.events("surface=vlsi").await.is_empty());
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await;
    assert_eq!(
        app.event_types("vlsi").await,
        [GENERATED, "VLSI_USERLOGGEDIN"],
        "only the events after the move are left"
    );
}

#[actix_web::test]
async fn events_of_a_single_log_are_carried_over_into_per_surface_logs() {
    let app = TestApp::start().await;
    let config = app.data_dir().to_path_buf();
    let temp = app.stop().await.unwrap();
    {
        // Two events the way vlsim stored them before per-surface logs: one segment
        // (12-byte key: first id, count) in the `events` tree.
        let store = vlsim::store::Store::open(&config).unwrap();
        let legacy: vlsim::store::Table<Value> = store.table("events").unwrap();
        let event = |id: u64, surface: &str, severity: &str| {
            json!({"id": id, "type": "OLD", "severity": severity, "module": "m",
                   "surface": surface, "time": "2026-01-01T00:00:00.000Z", "time_ms": 0,
                   "message": format!("old {id}")})
        };
        let mut key = 5u64.to_be_bytes().to_vec();
        key.extend_from_slice(&3u32.to_be_bytes());
        legacy
            .put(
                key,
                &json!([
                    event(5, "vlsi", "AUDIT_SUCCESS"),
                    event(6, "fusionauth", "AUDIT_SUCCESS"),
                    event(7, "vlsi", "AUDIT_FAIL")
                ]),
            )
            .unwrap();
        store.flush_blocking().unwrap();
    }
    let app = TestApp::start_with(vlsim::config::Config::for_tests(&config)).await;
    let events = app.events("type=OLD").await;
    assert_eq!(ids(&events), [7, 6, 5]);
    let counts = app.state().await["counts"]["events_by_log"].clone();
    assert_eq!(counts["vlsi.failures"], 1, "{counts}");
    assert_eq!(counts["fusionauth"], 1, "{counts}");
    // New events get ids above the old ones.
    app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    let newest = app.events("surface=fusionauth&limit=1").await;
    assert!(newest[0]["id"].as_u64().unwrap() > 7);
    app.stop().await;
    drop(temp);
}

#[actix_web::test]
async fn a_restored_snapshot_brings_the_event_logs_it_holds() {
    let first = TestApp::start().await;
    first.vcenter_session().await;
    let (status, _) = first
        .send_json(
            reqwest::Method::POST,
            "/_vlsim/snapshot/with-vcenter",
            json!(null),
        )
        .await;
    assert_eq!(status, 201);
    // Another data dir whose store never had a vCenter event log.
    let second = TestApp::start().await;
    let to = second.data_dir().join("snapshots");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(
        first.data_dir().join("snapshots").join("with-vcenter.json"),
        to.join("with-vcenter.json"),
    )
    .unwrap();
    assert!(second.events("surface=vcenter").await.is_empty());
    let (status, body) = second
        .send_json(
            reqwest::Method::POST,
            "/_vlsim/snapshot/with-vcenter/restore",
            json!(null),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        second.event_types("vcenter").await,
        ["VCENTER_SESSION_CREATED"]
    );
}
