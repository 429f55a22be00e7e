"""Interop tests: reading the VLSI events through QueryService / AuditEventSummaryView
with zeep (typed filters built from the WSDL), plus raw responses validated against
wsdl/vdi.xsd.

A module-scoped server of its own gives exact event counts: the auditor fails to
generate a JWT once, the administrator generates three.
"""
from __future__ import annotations

import datetime as dt

import pytest
import zeep
import zeep.exceptions
from lxml import etree
from zeep import xsd
from zeep.transports import Transport

from conftest import start_server
from vlsi_helpers import (
    ADMIN,
    AUDITOR,
    DOMAIN,
    MOR_AUTH,
    MOR_JWT,
    NOT_AUTHENTICATED,
    SOAP_HEADERS,
    VDI_NS,
    XSI_NS,
    check_fault_detail,
    child_texts,
    http_session,
    local,
    op_xml,
    parse_soap,
    this_xml,
    validate_element,
    login_xml,
)

MOR_QS = {"_value_1": "QueryService", "type": "QueryService"}
FAILED = "VLSI_JWT_TOKEN_GENERATION_FAILED"
GENERATED = "VLSI_JWT_TOKEN_GENERATED"
ENTITY = "AuditEventSummaryView"


def new_client(url: str) -> zeep.Client:
    return zeep.Client(f"{url}/view-vlsi/sdk?wsdl", transport=Transport(session=http_session()))


def login(client: zeep.Client, creds=ADMIN) -> zeep.Client:
    user, password = creds
    client.service.AuthenticationManager_Login(
        _this=MOR_AUTH, username=user, password={"utf8String": password.encode("utf-8")}, domain=DOMAIN
    )
    return client


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("vlsim-query") / "data")
    try:
        auditor = login(new_client(srv.url), AUDITOR)
        with pytest.raises(zeep.exceptions.Fault):
            auditor.service.JwtToken_Generate(_this=MOR_JWT)
        admin = login(new_client(srv.url))
        for minutes in (5, 10, 15):
            admin.service.JwtToken_Generate(_this=MOR_JWT, spec={"validityTime": minutes})
        yield srv
    finally:
        srv.stop_and_check()


@pytest.fixture
def admin(server) -> zeep.Client:
    return login(new_client(server.url))


def T(client: zeep.Client, name: str):
    return client.get_type(f"ns0:{name}")


def equals(client, member: str, value: str):
    return T(client, "QueryFilterEquals")(memberName=member, value=xsd.AnyObject(xsd.String(), value))


def definition(client, filter=None, **kwargs):
    return T(client, "QueryDefinition")(queryEntityType=ENTITY, filter=filter, **kwargs)


def query(client, filter=None, **kwargs):
    return client.service.QueryService_Query(_this=MOR_QS, definition=definition(client, filter, **kwargs))


def expect_fault(fault_type: str, fn, *args, **kwargs):
    with pytest.raises(zeep.exceptions.Fault) as exc:
        fn(*args, **kwargs)
    return exc.value, check_fault_detail(exc.value.detail, fault_type)


# ---------------------------------------------------------------------------
# through zeep


def test_equals_event_type_returns_typed_audit_event(admin):
    res = query(admin, equals(admin, "eventType", FAILED))
    assert res.id is None, "a virtual-list query has no QueryId"
    assert res.startingOffset == 0 and res.remainingCount == 0
    assert len(res.results) == 1, res
    ev = res.results[0]
    assert ev._xsd_type.name == ENTITY, "results are typed by their xsi:type"
    assert isinstance(ev.eventId, int)
    assert ev.eventType == FAILED
    assert ev.severity == "AUDIT_FAIL"
    assert ev.module == "Vlsi"
    assert ev.userDisplayName == "VLSIM\\auditor"
    assert ev.userId.id == "VLSIM\\auditor"
    assert isinstance(ev.time, dt.datetime) and ev.time.tzinfo is not None
    assert ev.message


def test_starts_with_and_sorting(admin):
    sw = T(admin, "QueryFilterStartsWith")(memberName="eventType", value=xsd.AnyObject(xsd.String(), "VLSI_JWT_"))
    asc = query(admin, sw)
    assert [e.eventType for e in asc.results] == [FAILED, GENERATED, GENERATED, GENERATED]
    times = [e.time for e in asc.results]
    assert times == sorted(times)
    desc = query(admin, sw, sortDescending=True)
    assert [e.eventId for e in desc.results] == [e.eventId for e in reversed(asc.results)]
    by_type = query(admin, sw, sortBy="eventType")
    assert [e.eventType for e in by_type.results] == [GENERATED, GENERATED, GENERATED, FAILED]


def test_and_or_not_between(admin):
    And, Or, Not = T(admin, "QueryFilterAnd"), T(admin, "QueryFilterOr"), T(admin, "QueryFilterNot")
    both = And(filters=[equals(admin, "eventType", GENERATED), equals(admin, "severity", "AUDIT_SUCCESS")])
    assert len(query(admin, both).results) == 3
    either = Or(filters=[equals(admin, "eventType", FAILED), equals(admin, "eventType", "VLSI_USERLOGGEDIN")])
    got = sorted(e.eventType for e in query(admin, either).results)
    assert got.count(FAILED) == 1 and got.count("VLSI_USERLOGGEDIN") >= 2
    not_generated = Not(filter=equals(admin, "eventType", GENERATED))
    assert all(e.eventType != GENERATED for e in query(admin, not_generated).results)
    user = T(admin, "UserOrGroupId")(id="VLSIM\\auditor")
    by_user = T(admin, "QueryFilterEquals")(memberName="userId", value=xsd.AnyObject(T(admin, "UserOrGroupId"), user))
    assert {e.userDisplayName for e in query(admin, by_user).results} == {"VLSIM\\auditor"}
    now = dt.datetime.now(dt.timezone.utc)
    Between = T(admin, "QueryFilterBetween")
    window = Between(
        memberName="time",
        fromValue=xsd.AnyObject(xsd.DateTime(), now - dt.timedelta(hours=1)),
        toValue=xsd.AnyObject(xsd.DateTime(), now + dt.timedelta(hours=1)),
    )
    assert len(query(admin, window).results) >= 6
    future = Between(memberName="time", fromValue=xsd.AnyObject(xsd.DateTime(), now + dt.timedelta(hours=1)))
    assert not query(admin, future).results


def test_paging_create_get_next_delete_and_count(admin):
    gen = equals(admin, "eventType", GENERATED)
    assert admin.service.QueryService_GetCount(_this=MOR_QS, definition=definition(admin, gen)) == 3
    page = query(admin, gen, startingOffset=1, maxPageSize=1)
    assert page.startingOffset == 1 and page.remainingCount == 1 and len(page.results) == 1

    first = admin.service.QueryService_Create(_this=MOR_QS, definition=definition(admin, gen, maxPageSize=2))
    assert first.id is not None and first.id.id
    assert len(first.results) == 2 and first.remainingCount == 1
    qid = T(admin, "QueryId")(id=first.id.id)
    nxt = admin.service.QueryService_GetNext(_this=MOR_QS, id=qid)
    assert nxt.startingOffset == 2 and len(nxt.results) == 1 and nxt.remainingCount == 0
    ids = [e.eventId for e in first.results + nxt.results]
    assert len(set(ids)) == 3
    done = admin.service.QueryService_GetNext(_this=MOR_QS, id=qid)
    assert not done.results and done.remainingCount == 0
    assert admin.service.QueryService_Delete(_this=MOR_QS, id=qid) is None
    expect_fault("EntityNotFound", admin.service.QueryService_GetNext, _this=MOR_QS, id=qid)

    a = admin.service.QueryService_Create(_this=MOR_QS, definition=definition(admin, gen)).id
    b = admin.service.QueryService_Create(_this=MOR_QS, definition=definition(admin, gen)).id
    assert admin.service.QueryService_DeleteByIds(_this=MOR_QS, ids=[a]) is None
    expect_fault("EntityNotFound", admin.service.QueryService_GetNext, _this=MOR_QS, id=a)
    assert admin.service.QueryService_DeleteAll(_this=MOR_QS) is None
    expect_fault("EntityNotFound", admin.service.QueryService_GetNext, _this=MOR_QS, id=b)


def test_faults(server, admin):
    anon = new_client(server.url)
    fault, _ = expect_fault("SecurityError", query, anon)
    assert fault.message == NOT_AUTHENTICATED

    bad = T(admin, "QueryDefinition")(queryEntityType="DesktopSummaryView")
    _, child = expect_fault("InvalidArgument", admin.service.QueryService_Query, _this=MOR_QS, definition=bad)
    assert child_texts(child, "parameterName") == ["definition.queryEntityType"]

    _, child = expect_fault("InvalidArgument", query, admin, equals(admin, "colour", "red"))
    assert child_texts(child, "parameterName") == ["definition.filter.memberName"]

    _, child = expect_fault("InvalidArgument", query, admin, None, maxPageSize=1001)
    assert child_texts(child, "parameterName") == ["definition.maxPageSize"]


def test_event_summary_view(admin):
    f = equals(admin, "data.eventType", FAILED)
    d = T(admin, "QueryDefinition")(queryEntityType="EventSummaryView", filter=f)
    res = admin.service.QueryService_Query(_this=MOR_QS, definition=d)
    assert len(res.results) == 1
    ev = res.results[0]
    assert ev._xsd_type.name == "EventSummaryView"
    assert ev.data.eventType == FAILED and ev.data.severity == "AUDIT_FAIL" and ev.data.module == "Vlsi"
    assert ev.data.userId.id == "VLSIM\\auditor"
    assert ev.namesData.userDisplayName == "VLSIM\\auditor"
    assert isinstance(ev.data.time, dt.datetime)


# ---------------------------------------------------------------------------
# raw HTTP, validated against the XSD


def post(http, url: str, body: str):
    return http.post(f"{url}/view-vlsi/sdk", data=body.encode("utf-8"), headers=SOAP_HEADERS, timeout=10)


def test_zeep_request_validates_against_xsd(admin):
    env = admin.create_message(
        admin.service,
        "QueryService_Query",
        _this=MOR_QS,
        definition=definition(admin, T(admin, "QueryFilterAnd")(filters=[equals(admin, "eventType", FAILED)]), limit=5),
    )
    _, child = parse_soap(etree.tostring(env))
    assert child.tag == f"{{{VDI_NS}}}QueryService_Query"
    validate_element(child)
    f = child.find(f"{{{VDI_NS}}}definition/{{{VDI_NS}}}filter")
    assert f.get(f"{{{XSI_NS}}}type").endswith("QueryFilterAnd")


def test_raw_responses_validate_against_xsd(server):
    http = http_session()
    assert post(http, server.url, login_xml(*ADMIN)).status_code == 200
    inner = (
        this_xml("QueryService")
        + f"<definition><queryEntityType>{ENTITY}</queryEntityType>"
        + '<filter xsi:type="QueryFilterStartsWith"><memberName>eventType</memberName>'
        + '<value xsi:type="xsd:string">VLSI_JWT_</value></filter><maxPageSize>2</maxPageSize></definition>'
    )
    for op in ("QueryService_Query", "QueryService_Create", "QueryService_GetCount"):
        r = post(http, server.url, op_xml(op, inner))
        assert r.status_code == 200, r.text[:500]
        _, child = parse_soap(r.content)
        assert child.tag == f"{{{VDI_NS}}}{op}Response"
        validate_element(child)
        if op != "QueryService_GetCount":
            rv = child.find(f"{{{VDI_NS}}}returnval")
            results = rv.findall(f"{{{VDI_NS}}}results")
            assert len(results) == 2
            for res in results:
                assert res.get(f"{{{XSI_NS}}}type") == ENTITY
                assert [local(c) for c in res][:5] == ["eventId", "eventType", "severity", "module", "time"]
        if op == "QueryService_Create":
            qid = rv.findtext(f"{{{VDI_NS}}}id/{{{VDI_NS}}}id")
    event_view = op_xml(
        "QueryService_Query",
        this_xml("QueryService")
        + "<definition><queryEntityType>EventSummaryView</queryEntityType><maxPageSize>3</maxPageSize></definition>",
    )
    r = post(http, server.url, event_view)
    _, child = parse_soap(r.content)
    validate_element(child)
    assert [res.get(f"{{{XSI_NS}}}type") for res in child.iter(f"{{{VDI_NS}}}results")] == ["EventSummaryView"] * 3
    r = post(http, server.url, op_xml("QueryService_Delete", this_xml("QueryService") + f"<id><id>{qid}</id></id>"))
    _, child = parse_soap(r.content)
    validate_element(child)
    r = post(http, server.url, op_xml("QueryService_GetNext", this_xml("QueryService") + f"<id><id>{qid}</id></id>"))
    assert r.status_code == 500
    _, fault = parse_soap(r.content)
    validate_element(check_fault_detail(fault.find("detail"), "EntityNotFound"))
