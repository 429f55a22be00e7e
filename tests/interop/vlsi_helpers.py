"""Helpers shared by the interop test modules (no fixtures here; see conftest.py)."""
from __future__ import annotations

import base64
import datetime as dt
import functools
import json

import pathlib

import jwt
import requests
import xmlschema
from lxml import etree

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
WSDL_DIR = REPO_ROOT / "wsdl"
WSDL_PATH = WSDL_DIR / "vdi.wsdl"
XSD_PATH = WSDL_DIR / "vdi.xsd"

VDI_NS = "urn:vdi"
SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# zeep represents the simpleContent ManagedObjectReference as a dict whose text
# content is `_value_1` and whose `type` attribute is `type`.
MOR_AUTH = {"_value_1": "AuthenticationManager", "type": "AuthenticationManager"}
MOR_JWT = {"_value_1": "JwtToken", "type": "JwtToken"}

ADMIN = ("administrator", "vmware")
AUDITOR = ("auditor", "vmware")
DOMAIN = "VLSIM"

NOT_AUTHENTICATED = "The session is not authenticated."

SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:vdi/2406"'}


def http_session() -> requests.Session:
    """A requests session that ignores proxy/netrc settings from the environment."""
    s = requests.Session()
    s.trust_env = False
    return s


@functools.lru_cache(maxsize=1)
def vdi_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_PATH))


def validate_element(el) -> None:
    """Validate one element (with its in-scope namespaces) against vdi.xsd."""
    vdi_schema().validate(etree.tostring(el).decode("utf-8"))


def envelope(body_inner: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:xsi="{XSI_NS}">'
        f"<soapenv:Body>{body_inner}</soapenv:Body></soapenv:Envelope>"
    )


def op_xml(op: str, inner: str) -> str:
    return envelope(f'<{op} xmlns="{VDI_NS}">{inner}</{op}>')


def this_xml(mor_type: str, value: str | None = None) -> str:
    return f'<_this type="{mor_type}">{value if value is not None else mor_type}</_this>'


def login_xml(user: str, password: str, domain: str = DOMAIN) -> str:
    b64 = base64.b64encode(password.encode("utf-8")).decode("ascii")
    return op_xml(
        "AuthenticationManager_Login",
        this_xml("AuthenticationManager")
        + f"<username>{user}</username><password><utf8String>{b64}</utf8String></password>"
        + f"<domain>{domain}</domain>",
    )


def generate_xml(validity: int | None = None) -> str:
    spec = "" if validity is None else f"<spec><validityTime>{validity}</validityTime></spec>"
    return op_xml("JwtToken_Generate", this_xml("JwtToken") + spec)


def get_public_keys_xml() -> str:
    return op_xml("JwtToken_GetPublicKeys", this_xml("JwtToken"))


def parse_soap(content: bytes):
    """Parse a SOAP response; return (envelope, body_child)."""
    root = etree.fromstring(content)
    assert root.tag == f"{{{SOAPENV_NS}}}Envelope", f"root is {root.tag}"
    body = root.find(f"{{{SOAPENV_NS}}}Body")
    assert body is not None, "no soapenv:Body"
    children = [c for c in body if isinstance(c.tag, str)]
    assert len(children) == 1, f"Body has {len(children)} element children"
    return root, children[0]


def local(el) -> str:
    return etree.QName(el).localname


def xsi_type(el):
    """Resolve an element's xsi:type to a (namespace, localname) pair, or None."""
    raw = el.get(f"{{{XSI_NS}}}type")
    if raw is None:
        return None
    prefix, _, name = raw.rpartition(":")
    ns = el.nsmap.get(prefix or None)
    return (ns, name)


def only_child(el):
    children = [c for c in el if isinstance(c.tag, str)]
    assert len(children) == 1, f"{el.tag} has {len(children)} element children: {[c.tag for c in children]}"
    return children[0]


def check_fault_detail(detail, fault_type: str):
    """`detail` is the <detail> element; check its typed child and return it."""
    assert detail is not None, "fault has no <detail>"
    child = only_child(detail)
    assert child.tag == f"{{{VDI_NS}}}{fault_type}Fault", f"detail child is {child.tag}, want {{{VDI_NS}}}{fault_type}Fault"
    assert xsi_type(child) == (VDI_NS, fault_type), f"xsi:type of detail child is {child.get(f'{{{XSI_NS}}}type')!r} (resolved {xsi_type(child)})"
    return child


def child_texts(el, name: str) -> list[str]:
    return [c.text or "" for c in el if isinstance(c.tag, str) and local(c) == name]


def verify_jwt(token: str, pem_keys: list[str]) -> tuple[dict, dict]:
    """Verify an RS256 JWT with one of the given PEM public keys; return (header, claims)."""
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == "RS256", header
    assert header.get("kid"), f"JWT header has no kid: {header}"
    assert pem_keys, "no public keys to verify with"
    errors = []
    for pem in pem_keys:
        try:
            claims = jwt.decode(
                token,
                key=pem,
                algorithms=["RS256"],
                options={"verify_aud": False},
                leeway=5,
            )
            return header, claims
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError, jwt.InvalidAlgorithmError) as e:
            # the list may hold keys of other kinds (e.g. an EC key): try the next one
            errors.append(e)
    raise AssertionError(f"token does not verify with any of {len(pem_keys)} public key(s): {errors}")


def parse_rfc3339(s: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    assert t.tzinfo is not None, f"time without offset: {s}"
    return t


def events(http, url: str, event_type: str) -> list[dict]:
    r = http.get(f"{url}/_vlsim/events", params={"type": event_type}, timeout=10)
    assert r.status_code == 200, f"GET /_vlsim/events -> {r.status_code}: {r.text[:500]}"
    data = r.json()
    assert isinstance(data, dict) and isinstance(data.get("events"), list), f"bad events JSON: {json.dumps(data)[:500]}"
    return data["events"]
