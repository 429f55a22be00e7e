"""Static checks of wsdl/vdi.wsdl and wsdl/vdi.xsd (no server needed).

Also feeds the response/fault shapes the server emits (vim25 style) through
xmlschema, zeep and suds offline, so a shape change shows up here first.
"""
from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys

import pytest
import requests
import suds.client
import xmlschema
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from vlsi_helpers import (
    MOR_AUTH,
    MOR_JWT,
    REPO_ROOT,
    SOAPENV_NS,
    VDI_NS,
    WSDL_DIR,
    WSDL_PATH,
    XSD_PATH,
    check_fault_detail,
    child_texts,
    parse_soap,
    validate_element,
    vdi_schema,
)

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAPBIND_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"

OPERATIONS = {
    "AuthenticationManager_Login": ["_this", "username", "password", "domain"],
    "AuthenticationManager_LoginByToken": ["_this", "data"],
    "AuthenticationManager_Logout": ["_this"],
    "AuthenticationManager_SetLocale": ["_this", "locale"],
    "JwtToken_Generate": ["_this", "spec"],
    "JwtToken_GetPublicKeys": ["_this"],
    "QueryService_Create": ["_this", "definition"],
    "QueryService_Delete": ["_this", "id"],
    "QueryService_DeleteAll": ["_this"],
    "QueryService_DeleteByIds": ["_this", "ids"],
    "QueryService_GetCount": ["_this", "definition"],
    "QueryService_GetNext": ["_this", "id"],
    "QueryService_Query": ["_this", "definition"],
}
COMMON_FAULTS = {
    "EntityNotFound",
    "InsufficientPermission",
    "InvalidArgument",
    "InvalidType",
    "UnexpectedFault",
    "SecurityError",
    "InvalidRequest",
}
LOGIN_OPS = {"AuthenticationManager_Login", "AuthenticationManager_LoginByToken"}

ENV_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
)
ENV_CLOSE = "</soapenv:Body></soapenv:Envelope>"

PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
    "-----END PUBLIC KEY-----"
)

# Body children exactly as the server emits them.
RESPONSES = {
    "login": '<AuthenticationManager_LoginResponse xmlns="urn:vdi"/>',
    "logout": '<AuthenticationManager_LogoutResponse xmlns="urn:vdi"/>',
    "login_by_token": '<AuthenticationManager_LoginByTokenResponse xmlns="urn:vdi"/>',
    "set_locale": '<AuthenticationManager_SetLocaleResponse xmlns="urn:vdi"/>',
    "generate": (
        '<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval>'
        "<token>eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln</token>"
        "<expiryTime>2026-01-01T12:00:00Z</expiryTime>"
        "</returnval></JwtToken_GenerateResponse>"
    ),
    "generate_typed": (
        '<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval xsi:type="JwtTokenInfo">'
        "<token>eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln</token>"
        "<expiryTime>2026-01-01T12:00:00.000Z</expiryTime>"
        "</returnval></JwtToken_GenerateResponse>"
    ),
    "generate_no_expiry": (
        '<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval>'
        "<token>eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln</token>"
        "</returnval></JwtToken_GenerateResponse>"
    ),
    "public_keys": (
        '<JwtToken_GetPublicKeysResponse xmlns="urn:vdi"><returnval>'
        "<connectionServerName>cs1.vlsim.test</connectionServerName>"
        f"<keys>{PEM}</keys>"
        "</returnval></JwtToken_GetPublicKeysResponse>"
    ),
    "public_keys_two": (
        '<JwtToken_GetPublicKeysResponse xmlns="urn:vdi">'
        '<returnval xsi:type="JwtPublicKeyInfo"><connectionServerName>cs1</connectionServerName>'
        f"<keys>{PEM}</keys><keys>{PEM}</keys></returnval>"
        "<returnval><connectionServerName>cs2</connectionServerName></returnval>"
        "</JwtToken_GetPublicKeysResponse>"
    ),
    "public_keys_empty": '<JwtToken_GetPublicKeysResponse xmlns="urn:vdi"/>',
}

# Detail children exactly as the server emits them.
FAULT_DETAILS = {
    "InvalidArgument": (
        '<InvalidArgumentFault xmlns="urn:vdi" xsi:type="InvalidArgument">'
        "<errorMessage>validityTime must be positive</errorMessage>"
        "<parameterName>spec.validityTime</parameterName></InvalidArgumentFault>"
    ),
    "InsufficientPermission": (
        '<InsufficientPermissionFault xmlns="urn:vdi" xsi:type="InsufficientPermission">'
        "<privileges>ADMINISTRATOR</privileges></InsufficientPermissionFault>"
    ),
    "SecurityError": '<SecurityErrorFault xmlns="urn:vdi" xsi:type="SecurityError"/>',
    "InvalidType": (
        '<InvalidTypeFault xmlns="urn:vdi" xsi:type="InvalidType"><errorMessage>wrong type</errorMessage>'
        "<parameterName>_this</parameterName><expectedType>JwtToken</expectedType></InvalidTypeFault>"
    ),
    "UnexpectedFault": (
        '<UnexpectedFaultFault xmlns="urn:vdi" xsi:type="UnexpectedFault"><errorMessage>boom</errorMessage>'
        "<causeString>boom</causeString><causeStackTrace>at a</causeStackTrace><causeStackTrace>at b</causeStackTrace>"
        "<errorCode>E1</errorCode>"
        '<errorAttributes><key>k</key><value xsi:type="xsd:string">v</value></errorAttributes>'
        "</UnexpectedFaultFault>"
    ),
    "EntityNotFound": (
        '<EntityNotFoundFault xmlns="urn:vdi" xsi:type="EntityNotFound"><errorMessage>not found</errorMessage>'
        '<id xsi:type="SessionId"><id>Nope</id></id></EntityNotFoundFault>'
    ),
    "InvalidCredentials": (
        '<InvalidCredentialsFault xmlns="urn:vdi" xsi:type="InvalidCredentials">'
        "<errorMessage>Invalid username, password or domain</errorMessage></InvalidCredentialsFault>"
    ),
    "InvalidRequest": (
        '<InvalidRequestFault xmlns="urn:vdi" xsi:type="InvalidRequest">'
        "<errorMessage>unknown method</errorMessage></InvalidRequestFault>"
    ),
}

BAD_FRAGMENTS = {
    "generate without token": (
        '<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval>'
        "<expiryTime>2026-01-01T12:00:00Z</expiryTime></returnval></JwtToken_GenerateResponse>"
    ),
    "generate fields out of order": (
        '<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval>'
        "<expiryTime>2026-01-01T12:00:00Z</expiryTime><token>x</token></returnval></JwtToken_GenerateResponse>"
    ),
    "generate without namespace": (
        "<JwtToken_GenerateResponse><returnval><token>x</token></returnval></JwtToken_GenerateResponse>"
    ),
    "bad dateTime": (
        '<JwtToken_GenerateResponse xmlns="urn:vdi"><returnval><token>x</token>'
        "<expiryTime>yesterday</expiryTime></returnval></JwtToken_GenerateResponse>"
    ),
    "fault base field after own field": (
        '<InvalidArgumentFault xmlns="urn:vdi" xsi:type="InvalidArgument">'
        "<parameterName>spec.validityTime</parameterName><errorMessage>x</errorMessage></InvalidArgumentFault>"
    ),
    "fault invented field": (
        '<InvalidArgumentFault xmlns="urn:vdi" xsi:type="InvalidArgument">'
        "<invalidProperty>x</invalidProperty></InvalidArgumentFault>"
    ),
    "xsi:type not derived from element type": (
        '<InvalidArgumentFault xmlns="urn:vdi" xsi:type="InsufficientPermission"/>'
    ),
    "public keys without server name": (
        '<JwtToken_GetPublicKeysResponse xmlns="urn:vdi"><returnval><keys>k</keys></returnval>'
        "</JwtToken_GetPublicKeysResponse>"
    ),
}


def response_envelope(body_child: str) -> bytes:
    return (ENV_OPEN + body_child + ENV_CLOSE).encode("utf-8")


def fault_envelope(detail_child: str, faultstring: str = "x", faultcode: str = "ServerFaultCode") -> bytes:
    return (
        ENV_OPEN
        + f"<soapenv:Fault><faultcode>{faultcode}</faultcode><faultstring>{faultstring}</faultstring>"
        + f"<detail>{detail_child}</detail></soapenv:Fault>"
        + ENV_CLOSE
    ).encode("utf-8")


def fragment_element(fragment: str):
    """Parse a Body child in the context of the server's envelope namespaces."""
    _, child = parse_soap(response_envelope(fragment))
    return child


def canon(el):
    """Structure of an element tree, ignoring comments and whitespace-only text."""
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(canon(c) for c in el if isinstance(c.tag, str)),
    )


# ---------------------------------------------------------------------------
# files and schema


def test_generated_wsdl_is_up_to_date():
    r = subprocess.run([sys.executable, str(WSDL_DIR / "generate.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_xsd_loads_with_xmlschema():
    schema = xmlschema.XMLSchema(str(XSD_PATH))
    assert schema.target_namespace == VDI_NS
    for name in ["ManagedObjectReference", "SecureString", "JwtTokenInfo", "InsufficientPermission", "UnexpectedFault"]:
        assert name in schema.types


def test_inline_schema_equals_vdi_xsd():
    wsdl = etree.parse(str(WSDL_PATH))
    inline = wsdl.findall(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    assert len(inline) == 1, "the WSDL must inline exactly one xsd:schema"
    xsd_root = etree.parse(str(XSD_PATH)).getroot()
    assert canon(inline[0]) == canon(xsd_root)
    for prefix in ("xsd", "vdi"):
        assert inline[0].nsmap.get(prefix) == xsd_root.nsmap.get(prefix)
    assert xsd_root.get("elementFormDefault") == "qualified"
    assert xsd_root.get("targetNamespace") == VDI_NS


def test_inline_schema_loads_with_xmlschema():
    wsdl = etree.parse(str(WSDL_PATH))
    inline = wsdl.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    schema = xmlschema.XMLSchema(etree.tostring(inline).decode())
    assert "JwtToken_GenerateResponse" in schema.elements


def test_wsdl_structure():
    root = etree.parse(str(WSDL_PATH)).getroot()
    assert root.get("targetNamespace") == VDI_NS
    ns = {"w": WSDL_NS, "s": SOAPBIND_NS}
    service = root.find("w:service", ns)
    assert service.get("name") == "VdiService"
    port = service.find("w:port", ns)
    assert port.get("name") == "VdiPort"
    assert port.get("binding") == "vdi:VdiBinding"
    addr = port.find("s:address", ns)
    assert addr.get("location") == "https://vlsim.invalid/view-vlsi/sdk"
    # the server rewrites the address by plain substitution of this string
    assert WSDL_PATH.read_text().count("https://vlsim.invalid/view-vlsi/sdk") == 1
    binding = root.find("w:binding", ns)
    assert binding.get("name") == "VdiBinding" and binding.get("type") == "vdi:VdiPortType"
    assert binding.find("s:binding", ns).get("style") == "document"
    assert root.find("w:portType", ns).get("name") == "VdiPortType"
    for op in binding.findall("w:operation", ns):
        assert op.find("w:input/s:body", ns).get("use") == "literal"
        assert op.find("s:operation", ns).get("soapAction")
        faults = {f.get("name")[: -len("Fault")] for f in op.findall("w:fault", ns)}
        want = COMMON_FAULTS | ({"InvalidCredentials"} if op.get("name") in LOGIN_OPS else set())
        if op.get("name") == "QueryService_Create":
            want = want | {"InvalidState"}  # "the per session query limit has been reached"
        assert faults == want, op.get("name")


def test_xmllint_validates_samples_if_available(tmp_path):
    import shutil

    if not shutil.which("xmllint"):
        pytest.skip("xmllint not installed (apt-get install libxml2-utils)")
    samples = [fragment_element(f) for f in RESPONSES.values()]
    for detail in FAULT_DETAILS.values():
        _, fault = parse_soap(fault_envelope(detail))
        samples.append(fault.find("detail")[0])
    for i, el in enumerate(samples):
        f = tmp_path / f"sample{i}.xml"
        f.write_bytes(etree.tostring(el))
        r = subprocess.run(["xmllint", "--noout", "--schema", str(XSD_PATH), str(f)], capture_output=True, text=True)
        assert r.returncode == 0, f"{etree.tostring(el).decode()}\n{r.stderr}"


# ---------------------------------------------------------------------------
# sample responses and faults against the schema


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_sample_response_validates(name):
    validate_element(fragment_element(RESPONSES[name]))


@pytest.mark.parametrize("name", sorted(FAULT_DETAILS))
def test_sample_fault_detail_validates(name):
    root, fault = parse_soap(fault_envelope(FAULT_DETAILS[name]))
    detail = fault.find("detail")
    child = check_fault_detail(detail, name)
    validate_element(child)


@pytest.mark.parametrize("name", sorted(BAD_FRAGMENTS))
def test_bad_sample_is_rejected(name):
    el = fragment_element(BAD_FRAGMENTS[name])
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_element(el)


# ---------------------------------------------------------------------------
# zeep, offline


class CannedTransport(Transport):
    """A zeep transport that records requests and answers with a canned reply."""

    def __init__(self):
        s = requests.Session()
        s.trust_env = False
        super().__init__(session=s)
        self.sent = []
        self.reply = (200, b"")

    def post_xml(self, address, envelope, headers):
        self.sent.append((address, envelope, headers))
        status, content = self.reply
        r = requests.Response()
        r.status_code = status
        r._content = content
        r.headers["Content-Type"] = "text/xml; charset=utf-8"
        r.encoding = "utf-8"
        r.url = address
        return r


@pytest.fixture
def zeep_offline():
    t = CannedTransport()
    client = zeep.Client(str(WSDL_PATH), transport=t)
    return client, t


def test_zeep_lists_operations(zeep_offline):
    client, _ = zeep_offline
    service = client.wsdl.services["VdiService"]
    port = service.ports["VdiPort"]
    ops = port.binding._operations
    assert set(ops) == set(OPERATIONS)
    for name, params in OPERATIONS.items():
        elements = ops[name].input.body.type.elements
        assert [e[0] for e in elements] == params, name
    assert port.binding_options["address"] == "https://vlsim.invalid/view-vlsi/sdk"


def test_zeep_mor_representation(zeep_offline):
    client, _ = zeep_offline
    MOR = client.get_type("{urn:vdi}ManagedObjectReference")
    m = MOR("JwtToken", type="JwtToken")
    assert dict(m.__values__) == MOR_JWT


@pytest.mark.parametrize(
    "op,kwargs",
    [
        ("AuthenticationManager_Login", dict(_this=MOR_AUTH, username="administrator", password={"utf8String": b"vmware"}, domain="VLSIM")),
        ("AuthenticationManager_LoginByToken", dict(_this=MOR_AUTH, data={"token": "a.b.c"})),
        ("AuthenticationManager_Logout", dict(_this=MOR_AUTH)),
        ("AuthenticationManager_SetLocale", dict(_this=MOR_AUTH, locale="fr")),
        ("JwtToken_Generate", dict(_this=MOR_JWT, spec={"validityTime": 60})),
        ("JwtToken_Generate", dict(_this=MOR_JWT)),
        ("JwtToken_GetPublicKeys", dict(_this=MOR_JWT)),
    ],
)
def test_zeep_requests_validate_against_schema(zeep_offline, op, kwargs):
    client, _ = zeep_offline
    env = client.create_message(client.service, op, **kwargs)
    body = env.find(f"{{{SOAPENV_NS}}}Body")
    (child,) = list(body)
    assert child.tag == f"{{{VDI_NS}}}{op}"
    this = child[0]
    assert etree.QName(this).localname == "_this"
    assert this.get("type") == kwargs["_this"]["type"] and this.text == kwargs["_this"]["_value_1"]
    validate_element(child)
    if op == "AuthenticationManager_Login":
        assert child.findtext(f"{{{VDI_NS}}}password/{{{VDI_NS}}}utf8String") == base64.b64encode(b"vmware").decode()


def test_zeep_parses_generate_response(zeep_offline):
    client, t = zeep_offline
    for name in ("generate", "generate_typed"):
        t.reply = (200, response_envelope(RESPONSES[name]))
        info = client.service.JwtToken_Generate(_this=MOR_JWT, spec={"validityTime": 60})
        assert info.token == "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
        assert info.expiryTime == dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_zeep_parses_public_keys_response(zeep_offline):
    client, t = zeep_offline
    t.reply = (200, response_envelope(RESPONSES["public_keys"]))
    keys = client.service.JwtToken_GetPublicKeys(_this=MOR_JWT)
    assert len(keys) == 1 and keys[0].connectionServerName == "cs1.vlsim.test" and keys[0].keys == [PEM]
    t.reply = (200, response_envelope(RESPONSES["public_keys_two"]))
    keys = client.service.JwtToken_GetPublicKeys(_this=MOR_JWT)
    assert [k.connectionServerName for k in keys] == ["cs1", "cs2"]
    assert keys[0].keys == [PEM, PEM] and keys[1].keys == []
    t.reply = (200, response_envelope(RESPONSES["public_keys_empty"]))
    assert not client.service.JwtToken_GetPublicKeys(_this=MOR_JWT)


def test_zeep_parses_empty_response(zeep_offline):
    client, t = zeep_offline
    t.reply = (200, response_envelope(RESPONSES["login"]))
    assert client.service.AuthenticationManager_Login(
        _this=MOR_AUTH, username="administrator", password={"utf8String": b"vmware"}, domain="VLSIM"
    ) is None


@pytest.mark.parametrize("name", sorted(FAULT_DETAILS))
def test_zeep_raises_fault_with_typed_detail(zeep_offline, name):
    client, t = zeep_offline
    t.reply = (500, fault_envelope(FAULT_DETAILS[name], faultstring="it failed"))
    with pytest.raises(zeep.exceptions.Fault) as exc:
        client.service.JwtToken_Generate(_this=MOR_JWT)
    assert exc.value.message == "it failed"
    assert exc.value.code == "ServerFaultCode"
    check_fault_detail(exc.value.detail, name)
    if name == "InsufficientPermission":
        assert child_texts(exc.value.detail[0], "privileges") == ["ADMINISTRATOR"]


# ---------------------------------------------------------------------------
# suds, offline


@pytest.fixture
def suds_offline():
    return suds.client.Client(WSDL_PATH.as_uri(), cache=None)


def suds_mor(client, name):
    m = client.factory.create("ManagedObjectReference")
    m.value = name
    m._type = name
    return m


def test_suds_loads_wsdl(suds_offline):
    methods = {m.name for m in suds_offline.wsdl.services[0].ports[0].methods.values()}
    assert methods == set(OPERATIONS)
    assert suds_offline.wsdl.services[0].ports[0].location == "https://vlsim.invalid/view-vlsi/sdk"


def test_suds_builds_valid_requests():
    client = suds.client.Client(WSDL_PATH.as_uri(), cache=None, nosend=True)
    spec = client.factory.create("JwtTokenGenerationSpec")
    spec.validityTime = 60
    ctx = client.service.JwtToken_Generate(suds_mor(client, "JwtToken"), spec)
    _, child = parse_soap(ctx.envelope)
    assert child.tag == f"{{{VDI_NS}}}JwtToken_Generate"
    validate_element(child)
    pw = client.factory.create("SecureString")
    pw.utf8String = base64.b64encode(b"vmware").decode()
    ctx = client.service.AuthenticationManager_Login(suds_mor(client, "AuthenticationManager"), "administrator", pw, "VLSIM")
    _, child = parse_soap(ctx.envelope)
    validate_element(child)


def test_suds_parses_responses(suds_offline):
    c = suds_offline
    mor = suds_mor(c, "JwtToken")
    info = c.service.JwtToken_Generate(mor, __inject={"reply": response_envelope(RESPONSES["generate_typed"])})
    assert info.token == "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
    keys = c.service.JwtToken_GetPublicKeys(mor, __inject={"reply": response_envelope(RESPONSES["public_keys"])})
    assert keys[0].connectionServerName == "cs1.vlsim.test"
    assert list(keys[0].keys) == [PEM]


def test_suds_raises_webfault(suds_offline):
    c = suds_offline
    mor = suds_mor(c, "JwtToken")
    with pytest.raises(suds.WebFault) as exc:
        c.service.JwtToken_Generate(
            mor,
            __inject={"reply": fault_envelope(FAULT_DETAILS["SecurityError"], "The session is not authenticated."), "status": 500},
        )
    assert exc.value.fault.faultstring == "The session is not authenticated."
