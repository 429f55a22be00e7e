"""The official FusionAuth python client (fusionauth-client 1.69.0) against vlsim's
FusionAuth-style REST surface. Access tokens are verified with PyJWT using only the JWKS."""
from __future__ import annotations

import time
import uuid

import jwt
import pytest
from fusionauth.fusionauth_client import FusionAuthClient

DEFAULT_TENANT = "10000000-0000-4000-8000-000000000001"
OTHER_TENANT = "10000000-0000-4000-8000-000000000002"
APP = "20000000-0000-4000-8000-000000000001"
APP2 = "20000000-0000-4000-8000-000000000002"
APP_OTHER = "20000000-0000-4000-8000-000000000003"
ADMIN_ID = "30000000-0000-4000-8000-000000000001"
USER_ID = "30000000-0000-4000-8000-000000000002"
RSA = "40000000-0000-4000-8000-000000000001"
EC = "40000000-0000-4000-8000-000000000002"
HMAC = "40000000-0000-4000-8000-000000000003"
IDP = "50000000-0000-4000-8000-000000000001"
API_KEY = "vlsim-api-key"
OTHER_KEY = "vlsim-other-tenant-key"
EXTERNAL_SECRET = "vlsim-external-secret"

# The fixture secret is short on purpose (it is what DESIGN.md names); PyJWT warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is")


@pytest.fixture(autouse=True)
def _direct_http(monkeypatch):
    """The client calls requests.request(), which honours proxy and CA-bundle variables;
    keep them from redirecting calls to the local server."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def client(vlsim_url) -> FusionAuthClient:
    return FusionAuthClient(API_KEY, vlsim_url)


@pytest.fixture
def anonymous(vlsim_url) -> FusionAuthClient:
    return FusionAuthClient(None, vlsim_url)


def login(client: FusionAuthClient, email: str, app: str = APP) -> dict:
    response = client.login({"loginId": email, "password": "password", "applicationId": app})
    assert response.status == 200, (response.status, response.error_response)
    assert response.was_successful()
    return response.success_response


def verify_with_jwks(client: FusionAuthClient, token: str, audience: str | None = None) -> dict:
    jwks = client.retrieve_json_web_key_set().success_response
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    key = jwt.PyJWK(jwk)
    return jwt.decode(
        token,
        key.key,
        algorithms=[jwk["alg"]],
        audience=audience,
        options={"verify_aud": audience is not None},
    )


def test_login_validate_and_verify_with_jwks(client):
    body = login(client, "admin@vlsim.test")
    assert body["user"]["id"] == ADMIN_ID
    assert body["refreshTokenId"]
    claims = verify_with_jwks(client, body["token"], audience=APP)
    assert claims["iss"] == "vlsim.test"
    assert claims["sub"] == ADMIN_ID
    assert claims["roles"] == ["admin"]
    assert claims["tid"] == DEFAULT_TENANT
    assert claims["sid"] == body["refreshTokenId"]

    validated = client.validate_jwt(body["token"])
    assert validated.status == 200
    assert validated.success_response["jwt"]["sub"] == ADMIN_ID
    assert validated.success_response["jwt"]["authenticationType"] == "PASSWORD"

    bad = client.validate_jwt(body["token"][:-4] + "AAAA")
    assert bad.status == 401
    assert bad.success_response is None
    assert bad.error_response is not None and bad.error_response.content == b""


def test_login_failures(client, anonymous, vlsim_url):
    wrong = client.login({"loginId": "admin@vlsim.test", "password": "nope", "applicationId": APP})
    assert wrong.status == 404
    assert wrong.error_response is None
    blank = client.login({"loginId": "", "password": "password", "applicationId": APP})
    assert blank.status == 400
    assert blank.error_response["fieldErrors"]["loginId"][0]["code"] == "[blank]loginId"
    no_key = anonymous.login({"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP})
    assert no_key.status == 401
    bad_key = FusionAuthClient("not-a-key", vlsim_url).login(
        {"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP})
    assert bad_key.status == 401
    no_tenant = client.login({"loginId": "admin@vlsim.test", "password": "password"})
    assert no_tenant.status == 400
    assert no_tenant.error_response["generalErrors"][0]["code"] == "[TenantIdRequired]"
    client.set_tenant_id(DEFAULT_TENANT)
    with_tenant = client.login({"loginId": "admin@vlsim.test", "password": "password"})
    assert with_tenant.status == 200
    assert "refreshToken" not in with_tenant.success_response


def test_refresh_reusable_and_one_time(client, anonymous):
    body = login(client, "admin@vlsim.test", APP)
    r = anonymous.exchange_refresh_token_for_jwt({"refreshToken": body["refreshToken"], "token": body["token"]})
    assert r.status == 200
    assert r.success_response["refreshToken"] == body["refreshToken"]
    assert r.success_response["refreshTokenId"] == body["refreshTokenId"]
    claims = verify_with_jwks(client, r.success_response["token"], audience=APP)
    assert claims["authenticationType"] == "REFRESH_TOKEN"

    once = login(client, "admin@vlsim.test", APP2)
    r = anonymous.exchange_refresh_token_for_jwt({"refreshToken": once["refreshToken"]})
    assert r.status == 200
    rotated = r.success_response["refreshToken"]
    assert rotated != once["refreshToken"]
    again = anonymous.exchange_refresh_token_for_jwt({"refreshToken": once["refreshToken"]})
    assert again.status == 400
    assert again.error_response["fieldErrors"]["refreshToken"][0]["code"] == "[invalid]refreshToken"
    assert anonymous.exchange_refresh_token_for_jwt({"refreshToken": rotated}).status == 200

    missing = anonymous.exchange_refresh_token_for_jwt({})
    assert missing.status == 400
    assert missing.error_response["fieldErrors"]["refreshToken"][0]["code"] == "[missing]refreshToken"


def test_retrieve_and_revoke_refresh_tokens(client, anonymous):
    client.revoke_refresh_tokens_by_user_id(USER_ID)
    first = login(client, "user@vlsim.test")
    second = login(client, "user@vlsim.test")

    one = client.retrieve_refresh_token_by_id(first["refreshTokenId"])
    assert one.status == 200
    assert one.success_response["refreshToken"]["userId"] == USER_ID
    listed = client.retrieve_refresh_tokens(USER_ID)
    assert {t["id"] for t in listed.success_response["refreshTokens"]} == {
        first["refreshTokenId"], second["refreshTokenId"]}
    assert client.retrieve_refresh_token_by_id(str(uuid.uuid4())).status == 404
    # The seed lists no 404 for retrieve-by-user: an unknown user has no refresh tokens.
    unknown_user = client.retrieve_refresh_tokens(str(uuid.uuid4()))
    assert unknown_user.status == 200 and unknown_user.success_response["refreshTokens"] == []
    # "refreshToken[x].token: The string representation of the encoded Refresh Token."
    assert one.success_response["refreshToken"]["token"] == first["refreshToken"]
    assert one.success_response["refreshToken"]["metaData"]["scopes"] == []
    assert {t["token"] for t in listed.success_response["refreshTokens"]} == {
        first["refreshToken"], second["refreshToken"]}

    r = client.revoke_refresh_token_by_id(first["refreshTokenId"])
    assert r.was_successful() and r.status == 200 and r.success_response is None
    assert anonymous.exchange_refresh_token_for_jwt({"refreshToken": first["refreshToken"]}).status == 400
    assert client.revoke_refresh_token_by_id(first["refreshTokenId"]).status == 404

    r = client.revoke_refresh_token_by_token(second["refreshToken"])
    assert r.status == 200
    assert client.retrieve_refresh_tokens(USER_ID).success_response["refreshTokens"] == []

    login(client, "user@vlsim.test")
    assert client.revoke_refresh_tokens_by_user_id_for_application(USER_ID, APP).status == 200
    login(client, "user@vlsim.test")
    assert client.revoke_refresh_tokens_by_user_id(USER_ID).status == 200
    login(client, "user@vlsim.test")
    assert client.revoke_refresh_token(user_id=USER_ID).status == 200
    third = login(client, "user@vlsim.test")
    assert client.revoke_refresh_tokens_with_request({"token": third["refreshToken"]}).status == 200
    login(client, "user@vlsim.test")
    assert client.revoke_refresh_tokens_by_application_id(APP).status == 200
    assert client.retrieve_refresh_tokens(USER_ID).success_response["refreshTokens"] == []

    nothing = client.revoke_refresh_token()
    assert nothing.status == 400
    assert nothing.error_response["generalErrors"][0]["code"] == "[invalid]"
    # Revoke's documented codes are 200/401/404/500/503: a target that does not exist is 404.
    assert client.revoke_refresh_tokens_by_application_id(str(uuid.uuid4())).status == 404
    assert client.revoke_refresh_tokens_by_user_id(str(uuid.uuid4())).status == 404
    assert anonymous.revoke_refresh_tokens_by_user_id(USER_ID).status == 401


def test_issue_jwt(client):
    body = login(client, "admin@vlsim.test", APP)
    r = client.issue_jwt(APP2, body["token"], body["refreshToken"])
    assert r.status == 200
    claims = verify_with_jwks(client, r.success_response["token"], audience=APP2)
    assert claims["applicationId"] == APP2
    assert claims["authenticationType"] == "JWT_SSO"
    assert r.success_response["refreshToken"]
    # "a valid non-expired refresh token" of the same user: one from another login will do.
    other_login = login(client, "admin@vlsim.test", APP)
    from_other = client.issue_jwt(APP2, body["token"], other_login["refreshToken"])
    assert from_other.status == 200 and from_other.success_response["refreshToken"]
    missing = client.issue_jwt(None, body["token"])
    assert missing.status == 400
    assert missing.error_response["fieldErrors"]["applicationId"][0]["code"] == "[missing]applicationId"
    assert client.issue_jwt(APP2, "not-a-jwt").status == 401


def test_vend_jwt(client, anonymous):
    r = client.vend_jwt({"claims": {"sub": "robot", "iss": "vlsim.test", "scope": "x"}, "timeToLiveInSeconds": 120})
    assert r.status == 200
    claims = verify_with_jwks(client, r.success_response["token"])
    assert claims["sub"] == "robot"
    assert claims["exp"] - claims["iat"] == 120
    assert client.validate_jwt(r.success_response["token"]).status == 200
    ec = client.vend_jwt({"claims": {"a": 1}, "keyId": EC})
    assert jwt.get_unverified_header(ec.success_response["token"])["alg"] == "ES256"
    bad = client.vend_jwt({"keyId": str(uuid.uuid4())})
    assert bad.error_response["fieldErrors"]["keyId"][0]["code"] == "[invalid]keyId"
    assert anonymous.vend_jwt({"claims": {}}).status == 401
    # "Any integer value greater than 0 is allowed."
    for ttl in (0, -5):
        zero = client.vend_jwt({"claims": {"sub": "robot"}, "timeToLiveInSeconds": ttl})
        assert zero.status == 400
        assert zero.error_response["fieldErrors"]["timeToLiveInSeconds"][0]["code"] == "[invalid]timeToLiveInSeconds"


def test_vended_tokens_validate_whatever_their_issuer(client, anonymous):
    """Validate: "the signature is valid and the payload has not been tampered with and the
    token is not expired" — signed by a key of this instance, whoever the issuer."""
    # The seed's own vend example.
    seed = client.vend_jwt({"claims": {"id": "c74aa258-3a04-4d3f-83c5-e5b20af96e7a", "iss": "piedpiper.com"},
                            "keyId": RSA, "timeToLiveInSeconds": 300})
    assert seed.status == 200
    tokens = [
        seed.success_response["token"],
        client.vend_jwt({"claims": {"sub": "robot"}}).success_response["token"],
        client.vend_jwt({"claims": {"sub": "robot"}, "keyId": HMAC}).success_response["token"],
        client.vend_jwt({"claims": {"sub": "robot"}, "keyId": EC}).success_response["token"],
    ]
    for token in tokens:
        validated = anonymous.validate_jwt(token)
        assert validated.status == 200, token
        # The validate response shows instants as FusionAuth's JWT object does: milliseconds.
        raw = jwt.decode(token, options={"verify_signature": False})
        assert validated.success_response["jwt"]["exp"] == raw["exp"] * 1000
        assert validated.success_response["jwt"]["iat"] == raw["iat"] * 1000
    # "The only reserved claims that cannot be specified are exp and iat."
    kept = client.vend_jwt({"claims": {"amr": ["pwd"], "cnf": {"jkt": "x"}, "exp": 1, "iat": 1}})
    claims = jwt.decode(kept.success_response["token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd"] and claims["cnf"] == {"jkt": "x"}
    assert claims["exp"] > 1 and claims["iat"] > 1


def test_reconcile_jwt(client, anonymous):
    email = f"py-{uuid.uuid4().hex[:8]}@external.test"
    external = jwt.encode({"email": email, "exp": int(time.time()) + 300}, EXTERNAL_SECRET, algorithm="HS256")
    r = anonymous.reconcile_jwt({"applicationId": APP, "identityProviderId": IDP, "data": {"token": external}})
    assert r.status == 200, r.error_response
    assert r.success_response["user"]["email"] == email
    claims = verify_with_jwks(client, r.success_response["token"], audience=APP)
    assert claims["authenticationType"] == "FEDERATED_JWT"
    assert claims["email"] == email
    forged = jwt.encode({"email": email}, "wrong-secret-wrong-secret", algorithm="HS256")
    bad = anonymous.reconcile_jwt({"applicationId": APP, "identityProviderId": IDP, "data": {"token": forged}})
    assert bad.status == 401


def test_public_keys_jwks_and_key_api(client, anonymous, vlsim_url):
    everything = anonymous.retrieve_jwt_public_keys()
    assert set(everything.success_response["publicKeys"]) == {RSA, EC}
    by_kid = anonymous.retrieve_jwt_public_key(EC)
    assert by_kid.success_response["publicKey"] == everything.success_response["publicKeys"][EC]
    by_app = anonymous.retrieve_jwt_public_key_by_application_id(APP)
    assert by_app.success_response["publicKey"] == everything.success_response["publicKeys"][RSA]
    assert anonymous.retrieve_jwt_public_key(HMAC).status == 404
    assert anonymous.retrieve_jwt_public_key_by_application_id(str(uuid.uuid4())).status == 404

    jwks = anonymous.retrieve_json_web_key_set().success_response
    assert {k["kid"] for k in jwks["keys"]} == {RSA, EC}
    oidc = anonymous.retrieve_open_id_configuration().success_response
    # the Default tenant's OAuth issuer is "{origin}": the URL the client used (strict OIDC clients)
    assert oidc["issuer"] == vlsim_url
    assert oidc["token_endpoint"] == f"{vlsim_url}/oauth2/token"
    assert oidc["jwks_uri"].endswith("/.well-known/jwks.json")

    keys = client.retrieve_keys().success_response["keys"]
    assert {k["id"] for k in keys} == {RSA, EC, HMAC}
    limited = FusionAuthClient(OTHER_KEY, vlsim_url).retrieve_key(RSA)
    assert limited.status == 200
    assert "privateKey" not in limited.success_response["key"]
    assert limited.success_response["key"]["publicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert anonymous.retrieve_keys().status == 401


def test_tenant_locked_key_is_isolated(client, vlsim_url):
    other = FusionAuthClient(OTHER_KEY, vlsim_url)
    admin = login(client, "admin@vlsim.test")
    hidden = other.retrieve_refresh_token_by_id(admin["refreshTokenId"])
    assert hidden.status == 404
    # Another tenant's user is invisible: no refresh tokens to show.
    hidden_list = other.retrieve_refresh_tokens(ADMIN_ID)
    assert hidden_list.status == 200 and hidden_list.success_response["refreshTokens"] == []
    assert other.revoke_refresh_token_by_id(admin["refreshTokenId"]).status == 404
    assert client.retrieve_refresh_token_by_id(admin["refreshTokenId"]).status == 200
    own = other.login({"loginId": "other@vlsim.test", "password": "password", "applicationId": APP_OTHER})
    assert own.status == 200
    assert verify_with_jwks(client, own.success_response["token"], audience=APP_OTHER)["iss"] == "other.vlsim.test"
    scoped = FusionAuthClient(None, vlsim_url)
    scoped.set_tenant_id(DEFAULT_TENANT)
    assert scoped.validate_jwt(own.success_response["token"]).status == 401
