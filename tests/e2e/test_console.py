"""The console as a developer uses it: headless Chromium on a real `lambic local` of the
flagship, checking what a person sees (counts, logs, the schedule's "Fire now" writing
the page to S3), and the guards a hostile web page would meet.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from .conftest import STARTUP_TIMEOUT, LocalCloudProcess, copy_example, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(browser: Any, name: str) -> None:
    """What the test saw, for a person to look at (test-artifacts/console-NAME.png)."""
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloudProcess]:
    project = copy_example(tmp_path_factory.mktemp("console") / "trainstatus")
    local = LocalCloudProcess(project)
    try:
        local.wait_for("Press Ctrl-C to stop.", STARTUP_TIMEOUT)
        yield local
    finally:
        local.close()


@pytest.fixture
def console(chromium: Any, cloud: LocalCloudProcess) -> Any:
    line = cloud.wait_for("Console: ")
    url = line.split("Console: ", 1)[1].strip()
    assert url == f"{cloud.services_url}/_lambic/console/"
    chromium.get(url)
    return chromium


def s3(cloud: LocalCloudProcess) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=cloud.services_url,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
        config=Config(retries={"max_attempts": 0}),
    )


def text_of(browser: Any, css: str) -> str:
    """The rendered text of the first match ("" when none). The live feed re-renders
    rows, so an element found may be replaced before it is read: read it again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(5):
        elements = browser.find_elements(By.CSS_SELECTOR, css)
        try:
            return str(elements[0].text) if elements else ""
        except StaleElementReferenceException:
            continue
    return ""


def choose(browser: Any, select_id: str, value: str) -> None:
    """Pick `value` in a select once the page has filled it in (the live feed may
    re-render the select, or its options, between finding it and picking: try again)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    def attempt() -> bool:
        try:
            Select(browser.find_element(By.ID, select_id)).select_by_value(value)
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        return True

    wait_until(attempt, timeout=10, what=f"{value!r} in #{select_id}")


def click(browser: Any, css: str, text: str | None = None) -> None:
    """Click the first match (with `text`, the first whose text it is), finding it again
    if the live feed re-rendered it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def attempt() -> bool:
        try:
            for element in browser.find_elements(By.CSS_SELECTOR, css):
                if text is None or element.text == text:
                    element.click()
                    return True
        except StaleElementReferenceException:
            pass
        return False

    wait_until(attempt, timeout=10, what=f"a clickable {css}")


def test_functions_are_listed_with_their_invocation_counts(
    console: Any, cloud: LocalCloudProcess
) -> None:
    for _ in range(3):
        cloud.get_json("/latest")

    # Live: the counts change without a reload of the page.
    def api_invocations() -> int:
        cell = text_of(console, '#overview-functions tr[data-function="api_handler"] .invocations')
        return int(cell) if cell.isdigit() else -1

    wait_until(lambda: api_invocations() >= 3, timeout=20, what="three API invocations shown")
    screenshot(console, "overview")
    assert text_of(console, '#overview-functions tr[data-function="update_status"] td')


def test_fire_now_writes_the_page_to_s3_and_the_console_shows_the_run(
    console: Any, cloud: LocalCloudProcess
) -> None:
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "tab-schedules").click()
    row = '#schedules-table tr[data-function="update_status"]'
    wait_until(lambda: text_of(console, row), timeout=10, what="the schedule row")
    click(console, f"{row} button")

    def page_written() -> bool:
        try:
            s3(cloud).head_object(Bucket="trainstatus-site", Key="index.html")
        except Exception:
            return False
        return True

    wait_until(page_written, timeout=30, what="index.html in the site bucket")
    wait_until(
        lambda: "runs" in text_of(console, f"{row} .last"), timeout=20, what="the last result"
    )


def test_an_invocation_shows_its_event_response_and_log_lines(
    console: Any, cloud: LocalCloudProcess
) -> None:
    from selenium.webdriver.common.by import By

    cloud.wait_for("[event] schedule -> update_status", 60)
    console.find_element(By.ID, "tab-functions").click()
    choose(console, "function-select", "update_status")
    first = '#invocations tbody tr[data-function="update_status"]'
    wait_until(lambda: text_of(console, first), timeout=20, what="an update_status invocation")
    click(console, first)

    wait_until(
        lambda: "REPORT RequestId" in text_of(console, "#invocation-logs"),
        timeout=10,
        what="the invocation's log lines",
    )
    logs = text_of(console, "#invocation-logs")
    assert logs.startswith("START RequestId")
    assert "Recorded 11 lines" in logs
    assert '"detail-type": "Scheduled Event"' in text_of(console, "#invocation-event")
    screenshot(console, "invocation")

    # Replay runs the kept event again, as a new invocation.
    console.find_element(By.ID, "replay-button").click()
    wait_until(
        lambda: text_of(console, "#invoke-result").startswith("ok in "),
        timeout=30,
        what="the replay's result",
    )


def test_invoke_runs_the_edited_event_and_shows_the_result(
    console: Any, cloud: LocalCloudProcess
) -> None:
    from selenium.webdriver.common.by import By

    console.find_element(By.ID, "tab-functions").click()
    choose(console, "function-select", "update_status")
    box = console.find_element(By.ID, "invoke-event")
    wait_until(lambda: "Scheduled Event" in box.get_property("value"), what="the sample event")
    console.find_element(By.ID, "invoke-button").click()

    wait_until(
        lambda: text_of(console, "#invoke-result").startswith("ok in "),
        timeout=30,
        what="the invocation's result",
    )


def test_the_logs_panel_filters_by_function_and_text(
    console: Any, cloud: LocalCloudProcess
) -> None:
    from selenium.webdriver.common.by import By

    cloud.wait_for("[event] schedule -> update_status", 60)
    console.find_element(By.ID, "tab-logs").click()
    choose(console, "logs-function", "update_status")
    console.find_element(By.ID, "logs-text").send_keys("Recorded")

    def filtered() -> list[str]:
        shown = text_of(console, "#logs-lines").splitlines()
        # Each key typed sends a query; the page ends on the last one's answer.
        return shown if shown and all("Recorded" in line for line in shown) else []

    lines = wait_until(filtered, what="only the lines with the text")
    assert any("Recorded 11 lines" in line for line in lines)
    assert all("[trainstatus-dev-update_status]" in line for line in lines)


def test_the_console_fits_a_phone(chromium: Any, cloud: LocalCloudProcess) -> None:
    chromium.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        chromium.get(f"{cloud.services_url}/_lambic/console/")
        wait_until(
            lambda: text_of(chromium, '#overview-functions tr[data-function="api_handler"] td'),
            what="the functions table",
        )
        width = chromium.execute_script("return window.innerWidth")
        assert chromium.execute_script("return document.documentElement.scrollWidth") <= width
        screenshot(chromium, "phone")
    finally:
        chromium.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def request(
    cloud: LocalCloudProcess, method: str, path: str, headers: dict[str, str]
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", cloud.services_port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_a_foreign_page_cannot_use_the_console(cloud: LocalCloudProcess) -> None:
    host = f"127.0.0.1:{cloud.services_port}"
    fire = "/_lambic/api/schedules/update_status/fire"

    # DNS rebinding: the browser sends the attacker's host name.
    status, body = request(cloud, "GET", "/_lambic/api/overview", {"Host": "evil.example:80"})
    assert status == 403 and "not this machine" in body["message"]
    # A form post or a simple fetch from another site carries no console header...
    status, _ = request(cloud, "POST", fire, {"Host": host, "Origin": "https://evil.example"})
    assert status == 403
    # ...and a page that could add it is still another origin.
    headers = {"Host": host, "Origin": "https://evil.example", "X-Lambic-Console": "1"}
    status, body = request(cloud, "POST", fire, headers)
    assert status == 403 and "Origin" in body["message"]

    same = {"Host": host, "Origin": f"http://{host}", "X-Lambic-Console": "1"}
    status, body = request(cloud, "POST", fire, same)
    assert status == 202 and body["function"] == "update_status"


def test_an_unknown_function_is_a_clear_404(cloud: LocalCloudProcess) -> None:
    host = {"Host": f"127.0.0.1:{cloud.services_port}"}
    status, body = request(cloud, "GET", "/_lambic/api/functions/nope/invocations", host)
    assert status == 404
    assert body["message"] == "No function 'nope'; the app has api_handler, update_status"


def test_stopping_lambic_local_with_the_console_open_is_prompt(
    chromium: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    local = LocalCloudProcess(copy_example(tmp_path / "trainstatus"))
    try:
        local.wait_for("Press Ctrl-C to stop.", STARTUP_TIMEOUT)
        chromium.get(f"{local.services_url}/_lambic/console/")
        wait_until(
            lambda: chromium.find_element(By.ID, "live").text == "live",
            what="the live feed connected",
        )
        started = time.monotonic()

        code, survivors = local.stop()

        assert code == 0 and not survivors
        assert time.monotonic() - started < 10
    finally:
        local.close()
        chromium.get("about:blank")


def client(cloud: LocalCloudProcess, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=cloud.services_url,
        region_name="us-east-1",
        aws_access_key_id="e2e",
        aws_secret_access_key="e2e",
        config=Config(retries={"max_attempts": 0}),
    )


def open_tab(browser: Any, name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, f"tab-{name}").click()


def test_the_s3_panel_browses_previews_uploads_and_deletes(
    console: Any, cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    s3 = client(cloud, "s3")
    s3.put_object(Bucket="trainstatus-site", Key="notes/hello.txt", Body=b"hello from S3")
    open_tab(console, "s3")
    folder = '#s3-objects tr[data-key="notes/"]'
    wait_until(lambda: text_of(console, folder), what="the notes/ folder")
    click(console, folder)
    row = '#s3-objects tr[data-key="notes/hello.txt"]'
    wait_until(lambda: text_of(console, row), what="the object in the folder")
    click(console, row)
    wait_until(lambda: text_of(console, "#s3-preview-text") == "hello from S3", what="preview")
    screenshot(console, "s3")

    upload = tmp_path / "upload.txt"
    upload.write_bytes(b"uploaded from the console")
    console.find_element(By.ID, "s3-file").send_keys(str(upload))
    wait_until(
        lambda: text_of(console, '#s3-objects tr[data-key="notes/upload.txt"]'),
        what="the uploaded object listed",
    )
    body = s3.get_object(Bucket="trainstatus-site", Key="notes/upload.txt")["Body"].read()
    assert body == b"uploaded from the console"

    click(console, '#s3-objects tr[data-key="notes/upload.txt"]')
    wait_until(lambda: "uploaded" in text_of(console, "#s3-preview-text"), what="its preview")
    console.find_element(By.ID, "s3-delete").click()
    console.switch_to.alert.accept()
    wait_until(lambda: "Deleted" in text_of(console, "#s3-status"), what="the deletion")
    assert "notes/upload.txt" not in [
        o["Key"] for o in s3.list_objects_v2(Bucket="trainstatus-site").get("Contents", [])
    ]


def test_the_dynamodb_panel_shows_and_edits_an_item(console: Any, cloud: LocalCloudProcess) -> None:
    from selenium.webdriver.common.by import By

    table = client(cloud, "dynamodb")
    table.put_item(
        TableName="trainstatus",
        Item={"date": {"S": "2026-01-01"}, "time": {"N": "1"}, "note": {"S": "before"}},
    )
    open_tab(console, "dynamodb")
    console.find_element(By.ID, "ddb-partition").send_keys("2026-01-01\n")
    row = "#ddb-items tbody tr"
    wait_until(lambda: "before" in text_of(console, row), what="the item listed")
    click(console, row)
    editor = console.find_element(By.ID, "ddb-item")
    edited = editor.get_property("value").replace('"before"', '"after"')
    console.execute_script("arguments[0].value = arguments[1]", editor, edited)
    console.find_element(By.ID, "ddb-save").click()

    def note() -> str:
        item = table.get_item(
            TableName="trainstatus", Key={"date": {"S": "2026-01-01"}, "time": {"N": "1"}}
        )["Item"]
        return str(item["note"]["S"])

    wait_until(lambda: note() == "after", what="the edited item stored")


def test_the_sqs_panel_redrives_a_dead_letter_queue(console: Any, cloud: LocalCloudProcess) -> None:
    from selenium.webdriver.common.by import By

    sqs = client(cloud, "sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody="order 42")
    received = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]
    assert received  # receive count 1; the next receive moves it to the dead-letter queue
    assert sqs.receive_message(QueueUrl=source, WaitTimeSeconds=0).get("Messages") is None

    open_tab(console, "sqs")
    dlq_row = '#sqs-queues tr[data-queue="orders-dlq"]'
    wait_until(lambda: text_of(console, f"{dlq_row} .visible") == "1", what="one dead letter")
    click(console, f"{dlq_row} button", "Peek")
    wait_until(lambda: "order 42" in text_of(console, "#sqs-messages"), what="the peeked body")
    screenshot(console, "sqs")
    # Peeking did not receive it: still there, still visible.
    assert text_of(console, f"{dlq_row} .visible") == "1"
    redrive = [
        b
        for b in console.find_elements(By.CSS_SELECTOR, f"{dlq_row} button")
        if b.text == "Redrive"
    ]
    redrive[0].click()

    def back_in_source() -> list[Any]:
        messages: list[Any] = sqs.receive_message(QueueUrl=source).get("Messages", [])
        return messages

    moved = wait_until(back_in_source, what="the message back in orders")
    assert moved[0]["Body"] == "order 42"


def test_sns_publish_from_the_console_reaches_a_subscriber(cloud: LocalCloudProcess) -> None:
    sns, sqs = client(cloud, "sns"), client(cloud, "sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    host = f"127.0.0.1:{cloud.services_port}"
    conn = http.client.HTTPConnection("127.0.0.1", cloud.services_port, timeout=10)
    try:
        conn.request(
            "POST",
            f"/_lambic/api/sns/publish?topic={topic}",
            body=json.dumps({"message": "from the console"}),
            headers={"Host": host, "X-Lambic-Console": "1"},
        )
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
    finally:
        conn.close()

    messages = wait_until(
        lambda: sqs.receive_message(QueueUrl=queue).get("Messages"), what="the delivery"
    )
    assert messages[0]["Body"] == "from the console"


def money(value: float) -> str:
    """The console's money format (app.js `money`), to compare its text with the CLI's."""
    if value == 0:
        return "$0"
    if value < 0.000001:
        return "<$0.000001"
    if value < 0.01:
        return "$" + f"{Decimal(f'{value:.3g}'):f}"
    return f"${value:.2f}"


def test_the_cost_panel_shows_what_lambic_cost_prints(
    console: Any, cloud: LocalCloudProcess, tmp_path: Path
) -> None:
    for _ in range(5):
        cloud.get_json("/latest")
    open_tab(console, "cost")

    def shown() -> dict[str, str] | None:
        # One script reads the figures and the window they priced: the live feed may
        # re-render the panel at any time (None while it is loading).
        figures: dict[str, str] | None = console.execute_script(
            """
            const totals = document.getElementById("cost-totals");
            if (totals.dataset.loading !== "0") return null;
            const figures = {until: totals.dataset.until};
            for (const dd of totals.querySelectorAll("dd")) {
              if (dd.dataset.total !== "Projection") figures[dd.dataset.total] = dd.textContent;
            }
            for (const bar of document.querySelectorAll("#cost-by-service .bar")) {
              figures["service " + bar.dataset.name] = bar.querySelector(".value").textContent;
            }
            return figures;
            """
        )
        # Usage reaches the meter's file on its flush cadence (a few seconds): until the
        # requests above are in it, the panel (re-rendered by the live feed) lacks them.
        if figures is None or not {"service apigateway", "service lambda"} <= set(figures):
            return None
        return figures

    def printed(until: str) -> dict[str, str]:
        result = subprocess.run(
            [sys.executable, "-m", "lambic", "cost", "--project-dir", str(cloud.project_dir),
             "--until", until, "--format", "json"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        data = json.loads(result.stdout)
        figures = {
            "This window": money(data["totals"]["amount"]),
            "A month at list price": money(data["totals"]["monthly_amount"]),
            "A month after the always-free tier": money(data["totals"]["monthly_billed"]),
        }
        for name, totals in data["by_service"].items():
            figures["service " + name] = money(totals["monthly_billed"])
        return figures

    page = wait_until(shown, what="the cost panel's totals")
    # The same window as the page's (storage and the projection depend on its end).
    until = page.pop("until")
    assert page == printed(until)
    screenshot(console, "cost")
