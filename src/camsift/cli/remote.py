"""Remote detectors: ``camsift ai-api`` (camsift's detector on the DeepStack endpoint, alone) and
``camsift check aws`` (are AWS credentials and permissions good for Rekognition)."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.markup import escape

from camsift.cli.common import ConfigOption, app, console, fail, settings_from
from camsift.config import Settings
from camsift.config.startup import detector_missing
from camsift.detectors.rekognition import SERVICE
from camsift.store.usage import Usage

check_app = typer.Typer(help="Check that an outside service works with camsift.", no_args_is_help=True)
app.add_typer(check_app, name="check")

API_KEY_VARIABLE = "CAMSIFT_AI_API_KEY"
"""Environment variable with the API key clients must send (never an option: it would show in ``ps``)."""


@app.command("ai-api")
def ai_api_command(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port (DeepStack 5000, CodeProject.AI 32168).")] = 5000,
    detector: Annotated[str | None, typer.Option(help="Detector: auto, ssdlite, nanodet, yolo …")] = None,
) -> None:
    """Serve POST /v1/vision/detection for Blue Iris, Agent DVR or Home Assistant (DeepStack API).

    Set CAMSIFT_AI_API_KEY to make clients send that key (their 'api_key' form field).
    """
    try:
        import uvicorn

        from camsift.detection_api import PATH, create_app
    except ImportError as err:
        fail(f"the detection API needs {err.name}; run: pip install 'camsift[ai-api]'", 2)
    settings = settings_from(config, {"detect.detector": detector})
    if missing := detector_missing(settings.detect.detector):
        fail(missing, 2)
    key = os.environ.get(API_KEY_VARIABLE)
    app_ = create_app(settings, api_key=SecretStr(key) if key else None)
    console.print(
        f"camsift detection API on http://{host}:{port}{PATH} ({settings.detect.detector}"
        f"{', API key required' if key else ''}; Ctrl-C stops)",
        highlight=False,
    )
    uvicorn.run(app_, host=host, port=port, log_level="warning", ws="none")


@check_app.command("aws")
def check_aws_command(
    config: ConfigOption = None,
    region: Annotated[str | None, typer.Option(help="AWS region [default: detect.rekognition.region].")] = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile [default: detect.rekognition.profile].")] = None,
) -> None:
    """Verify AWS credentials and Rekognition permissions (one DetectLabels request; no secret is printed)."""
    from camsift.detectors.rekognition import check_aws

    section = settings_from(config, {}).detect.rekognition
    checks = check_aws(region or section.region, profile or section.profile)
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FAILED[/]"
        console.print(f"{mark} {check.name}: {escape(check.detail)}", highlight=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def usage_doc(usage: Usage, settings: Settings) -> dict[str, Any]:
    """``camsift status --format json``: one paid API's requests, budget and estimated cost (USD)."""
    doc: dict[str, Any] = {"service": usage.service, "today": usage.today, "month": usage.month}
    if usage.service == SERVICE:
        section = settings.detect.rekognition
        today, month = usage.cost(section.price_per_1000)
        doc.update(daily_budget=section.daily_budget, cost_usd_today=round(today, 4), cost_usd_month=round(month, 4))
    return doc


def usage_line(usage: Usage, settings: Settings) -> str:
    """``camsift status``: one paid API's requests, budget and estimated cost, one line."""
    doc = usage_doc(usage, settings)
    line = f"{usage.service}: {usage.today} requests today, {usage.month} this month"
    if "daily_budget" in doc:
        budget = doc["daily_budget"] or "no limit"
        line += f" (budget {budget} a day); estimated cost ${doc['cost_usd_today']:.2f} today, "
        line += f"${doc['cost_usd_month']:.2f} this month"
    return line
