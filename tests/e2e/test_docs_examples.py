"""docs/api.md's own examples, read from the markdown and sent to a running demo.

Requests are signed and answers verified by the recipe the docs give (the Authorization line, the
string to sign, the signed-answer headers), not by ``tongbao.client``: when the page and the API
part ways, a test here fails. What the examples leave open (``…``) is read as in
tests/support/doc_examples.py.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tongbao.client import encode_json, sign_request

from ..support.demo_server import DemoRun
from ..support.doc_examples import Example, Request, examples, http_request, json_pattern, mismatches
from ..support.receiver import Receiver

pytestmark = pytest.mark.slow  # a real demo process

DOCS = examples()
SHOP_NOTIFY_URL = "https://shop.example/tongbao"  # the examples' notify URL, never called


def hmac_base64(secret: str, message: bytes) -> str:
    """base64(HMAC-SHA256(secret, message)), as the page writes every signature."""
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def fill_template(template: str, values: dict[str, bytes]) -> bytes:
    """``METHOD\\nPATH\\n…`` as the page writes it (``\\n`` shown as two characters), filled in."""
    names = template.strip().split("\\n")
    assert names[-1] == "", f"the string to sign must end in \\n: {template!r}"
    return b"\n".join(values[name] for name in names[:-1]) + b"\n"


@dataclass(frozen=True)
class Recipe:
    """How docs/api.md says to sign a request and to check an answer."""

    authorization: str  # "Authorization: TONGBAO-HMAC-SHA256 app_id=\"…\",…"
    string_to_sign: str
    answer_headers: list[tuple[str, str]]

    @classmethod
    def from_docs(cls) -> Recipe:
        lines = DOCS["signed-answer"].text.strip().split("\n")
        answer = [(name, value) for name, value in (line.split(": ", 1) for line in lines)]
        return cls(DOCS["authorization"].text.strip(), DOCS["string-to-sign"].text, answer)

    def header(self, **fields: str) -> tuple[str, str]:
        name, value = self.authorization.split(": ", 1)
        shown = re.findall(r'(\w+)="[^"]*"', value)
        assert sorted(shown) == sorted(fields), f"the Authorization example has the fields {shown}"
        return name, re.sub(r'(\w+)="[^"]*"', lambda m: f'{m[1]}="{fields[m[1]]}"', value)

    def verify_answer(self, secret: str, headers: httpx.Headers, body: bytes) -> None:
        (ts_name, _), (nonce_name, _), (signature_name, formula) = self.answer_headers
        template = re.fullmatch(r"base64\(HMAC-SHA256\(app secret, (.+)\)\)", formula)
        assert template, f"the signed-answer example's formula: {formula!r}"
        message = fill_template(
            template[1],
            {"TIMESTAMP": headers[ts_name].encode(), "NONCE": headers[nonce_name].encode(), "BODY": body},
        )
        assert headers[signature_name] == hmac_base64(secret, message)
        assert abs(int(headers[ts_name]) - time.time()) <= 300


RECIPE = Recipe.from_docs()


@dataclass(frozen=True)
class DocsApp:
    """The demo app, signing as the page says."""

    base_url: str
    app_id: str
    secret: str

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
        values = {"METHOD": method, "PATH_AND_QUERY": path, "TIMESTAMP": timestamp, "NONCE": nonce}
        message = fill_template(
            RECIPE.string_to_sign, {k: v.encode() for k, v in values.items()} | {"BODY": body}
        )
        signature = hmac_base64(secret or self.secret, message)
        name, value = RECIPE.header(app_id=self.app_id, timestamp=timestamp, nonce=nonce, signature=signature)
        sent = {name: value, **({"Content-Type": "application/json"} if body else {}), **(headers or {})}
        return httpx.request(method, self.base_url + path, content=body, headers=sent, timeout=30)

    def signed(self, response: httpx.Response, status: int) -> Any:
        assert response.status_code == status, response.text
        RECIPE.verify_answer(self.secret, response.headers, response.content)
        return response.json()


@pytest.fixture
def app(running_demo: DemoRun) -> DocsApp:
    state = running_demo.state
    return DocsApp(state["base_url"], state["app_id"], state["app_secret"])


def shown(example: Example, **values: str) -> Any:
    return json_pattern(example.filled(**values))


def payment_request(trade_no: str, notify_url: str) -> Request:
    filled = DOCS["create-payment"].filled(**{'"A1001"': f'"{trade_no}"', SHOP_NOTIFY_URL: notify_url})
    return http_request(filled)


def create_payment(app: DocsApp, notify_url: str) -> tuple[str, dict[str, Any]]:
    """The Payments example under a fresh ``out_trade_no``: the demo keeps what earlier tests made."""
    trade_no = f"A1001-{secrets.token_hex(4)}"
    request = payment_request(trade_no, notify_url)
    payment = app.signed(app.send(request.method, request.path, request.body.encode()), 201)
    return trade_no, payment


def test_the_worked_signing_example_adds_up() -> None:
    text = DOCS["signing-worked-example"].text
    [line] = [line for line in text.split("\n") if line.count("\\n") == 5]
    method, path, timestamp, nonce, body, _ = line.split("\\n")
    values = {"METHOD": method, "PATH_AND_QUERY": path, "TIMESTAMP": timestamp, "NONCE": nonce, "BODY": body}
    message = fill_template(RECIPE.string_to_sign, {k: v.encode() for k, v in values.items()})
    assert message == line.replace("\\n", "\n").encode()  # the template and the example agree

    secret = re.search(r'HMAC-SHA256\("([^"]+)"', text)
    signature = re.search(r"^ *= (\S+)$", text, re.M)
    assert secret and signature, text
    assert hmac_base64(secret[1], message) == signature[1]

    [authorization] = [line for line in text.split("\n") if line.startswith("Authorization: ")]
    placeholder = re.search(r'app_id="([^"]*)"', authorization)
    assert placeholder
    fields = {"app_id": placeholder[1], "timestamp": timestamp, "nonce": nonce, "signature": signature[1]}
    assert ": ".join(RECIPE.header(**fields)) == authorization
    # The package's own client signs the same request the same way.
    made = sign_request(
        placeholder[1], secret[1], method, path, body.encode(), timestamp=int(timestamp), nonce=nonce
    )
    assert made == {"Authorization": authorization.split(": ", 1)[1]}

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(DOCS["signing-python"].text, {})  # noqa: S102 - the page's own snippet, run as a reader would
    assert printed.getvalue().strip() == signature[1]


def test_the_worked_example_sent_as_documented_is_answered_signed(app: DocsApp) -> None:
    text = DOCS["signing-worked-example"].text
    [line] = [line for line in text.split("\n") if line.count("\\n") == 5]
    method, path, _, _, body, _ = line.split("\\n")
    echoed = app.signed(app.send(method, path, body.encode()), 200)
    assert echoed["body"] == json.loads(body)
    assert echoed["app_id"] == app.app_id


def test_a_refused_signature_answers_the_documented_error(app: DocsApp) -> None:
    refused = app.send("GET", "/v1/me", secret="tbs_not-this-app-s-secret")
    assert refused.status_code == 401
    error = refused.json()
    assert mismatches(error, json_pattern(DOCS["error"].text)) == []
    assert refused.headers["Tongbao-Request-Id"] == error["error"]["request_id"]
    assert "Tongbao-Signature" not in refused.headers  # a 401 at the door is not signed


def test_creating_a_payment_answers_as_documented(app: DocsApp, receiver: Receiver) -> None:
    trade_no, payment = create_payment(app, receiver.url)
    assert mismatches(payment, shown(DOCS["payment"])) == []
    assert payment["out_trade_no"] == trade_no and payment["notify_url"] == receiver.url
    again = app.signed(app.send("GET", f"/v1/payments?out_trade_no={trade_no}"), 200)
    assert again == payment  # still pending: nobody paid


def test_an_idempotent_retry_replays_as_documented(app: DocsApp, receiver: Receiver) -> None:
    trade_no = f"A1001-{secrets.token_hex(4)}"
    example = DOCS["idempotent-replay"]
    key = http_request(example.text).headers["Idempotency-Key"]
    request_text, answers_text = example.filled(**{key: f"create-{trade_no}"}).split("\n\n", 1)
    request = http_request(request_text)
    body = payment_request(trade_no, receiver.url).body.encode()
    answers = parse_answers(answers_text)
    assert len(answers) == 3, answers_text

    first = app.send(request.method, request.path, body, request.headers)
    app.signed(first, answers[0].status)
    assert not answers[0].headers and "Idempotent-Replayed" not in first.headers

    retry = app.send(request.method, request.path, body, request.headers)
    app.signed(retry, answers[1].status)
    assert retry.content == first.content
    assert answers[1].headers and all(retry.headers.get(k) == v for k, v in answers[1].headers.items())

    reserialised = encode_json(json.loads(body))
    assert reserialised != body
    other = app.send(request.method, request.path, reserialised, request.headers)
    assert app.signed(other, answers[2].status)["error"]["code"] == answers[2].code


@dataclass
class Answer:
    status: int
    code: str | None
    headers: dict[str, str]


def parse_answers(text: str) -> list[Answer]:
    """``HTTP/1.1 201 Created  ← what it is`` lines, each with the header lines under it."""
    answers: list[Answer] = []
    for line in text.strip().split("\n"):
        status = re.match(r"HTTP/1\.1 (\d{3}) ", line)
        if status:
            code = re.search(r'"code": "(\w+)"', line)
            answers.append(Answer(int(status[1]), code[1] if code else None, {}))
        else:
            name, value = line.split(": ", 1)
            answers[-1].headers[name] = value
    return answers


def test_a_paid_payment_notifies_and_refunds_as_documented(app: DocsApp, receiver: Receiver) -> None:
    trade_no, payment = create_payment(app, receiver.url)
    channel_order_no = payment["attempts"][0]["channel_order_no"]
    paid = httpx.post(
        f"{app.base_url}/sim/wechatpay/_control/pay", json={"out_trade_no": channel_order_no}, timeout=30
    )
    assert paid.status_code == 200, paid.text

    delivered = receiver.wait_for(1, timeout_s=30)[0]  # payment.succeeded
    RECIPE.verify_answer(app.secret, httpx.Headers(delivered.headers), delivered.body)
    event = json.loads(delivered.body)
    assert mismatches(event, shown(DOCS["notification"])) == []
    now = app.signed(app.send("GET", f"/v1/payments/{payment['id']}"), 200)
    assert event["data"]["id"] == payment["id"] and event["data"]["status"] == "succeeded"
    assert sorted(event["data"]) == sorted(now)  # the payment, as its GET shows it

    refund_no = f"R1001-{secrets.token_hex(4)}"
    ids = {'"pay_01…"': f'"{payment["id"]}"', '"R1001-1"': f'"{refund_no}"'}
    request = http_request(DOCS["create-refund"].filled(**ids, **{SHOP_NOTIFY_URL: receiver.url}))
    refund = app.signed(app.send(request.method, request.path, request.body.encode()), 201)
    assert mismatches(refund, shown(DOCS["refund"], **ids, **{'"A1001"': f'"{trade_no}"'})) == []
    assert refund["notify_url"] == receiver.url


def test_a_list_page_is_as_documented(app: DocsApp, receiver: Receiver) -> None:
    create_payment(app, receiver.url)  # with the demo's own sample payment, two at least
    page = app.signed(app.send("GET", "/v1/payments?limit=1"), 200)
    assert mismatches(page, shown(DOCS["list-page"])) == []
    [item] = page["data"]
    assert item == app.signed(app.send("GET", f"/v1/payments/{item['id']}"), 200)
    following = app.signed(app.send("GET", f"/v1/payments?limit=1&starting_after={page['next_cursor']}"), 200)
    assert following["data"] and following["data"][0]["id"] != item["id"]


def test_every_tagged_example_is_walked_here() -> None:
    """A new tag in docs/api.md wants a test here too."""
    source = Path(__file__).read_text()
    unwalked = [name for name in DOCS if f'DOCS["{name}"]' not in source]
    assert unwalked == []
