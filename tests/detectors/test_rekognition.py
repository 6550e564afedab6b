"""The ``rekognition`` detector and ``check_aws`` against botocore's Stubber (no network, no AWS account)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from camsift.detectors.rekognition import RekognitionDetector, check_aws, to_detections
from camsift.errors import DetectorError
from camsift.store import Store
from camsift.store.usage import UsageBoard

boto3 = pytest.importorskip("boto3", reason="the rekognition detector needs camsift[aws]")
from botocore.stub import ANY, Stubber  # noqa: E402

IMAGE = np.full((200, 400, 3), 100, np.uint8)  # 400 x 200
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def box(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"Left": left, "Top": top, "Width": width, "Height": height}


ANSWER: dict[str, Any] = {
    "Labels": [
        {
            "Name": "Person",
            "Confidence": 98.0,
            "Instances": [{"BoundingBox": box(0.1, 0.2, 0.2, 0.7), "Confidence": 97.5}],
            "Parents": [],
        },
        {  # no parent we know, no box: nothing
            "Name": "Outdoors",
            "Confidence": 90.0,
            "Instances": [],
            "Parents": [],
        },
        {  # known through its parent Car
            "Name": "Sedan",
            "Confidence": 80.0,
            "Instances": [{"BoundingBox": box(0.5, 0.5, 0.25, 0.25), "Confidence": 80.0}],
            "Parents": [{"Name": "Car"}, {"Name": "Vehicle"}, {"Name": "Transportation"}],
        },
        {  # the same car again as Vehicle: merged by NMS
            "Name": "Vehicle",
            "Confidence": 79.0,
            "Instances": [{"BoundingBox": box(0.5, 0.5, 0.25, 0.26), "Confidence": 79.0}],
            "Parents": [{"Name": "Transportation"}],
        },
        {  # an animal camsift has no label for
            "Name": "Deer",
            "Confidence": 70.0,
            "Instances": [{"BoundingBox": box(0.0, 0.0, 0.1, 0.1), "Confidence": 70.0}],
            "Parents": [{"Name": "Wildlife"}, {"Name": "Animal"}],
        },
    ]
}


@pytest.fixture
def rekognition() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "rekognition", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=SECRET
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def usage(data_dir: Path, database_url: str | None) -> Iterator[UsageBoard]:
    with Store(data_dir, database_url) as store:
        yield UsageBoard(store.engine)


def test_to_detections_maps_labels_and_parents_to_camsift_labels() -> None:
    found = to_detections(ANSWER, 400, 200)

    assert found.label.tolist() == ["person", "car"]
    assert found.confidence.tolist() == pytest.approx([0.975, 0.80])
    np.testing.assert_allclose(found.xyxy, [[40, 40, 120, 180], [200, 100, 300, 150]], atol=1e-3)


def test_detect_sends_the_picture_with_the_configured_limits(
    rekognition: tuple[Any, Stubber], usage: UsageBoard
) -> None:
    client, stubber = rekognition
    stubber.add_response("detect_labels", ANSWER, {"Image": {"Bytes": ANY}, "MaxLabels": 5, "MinConfidence": 60.0})
    detector = RekognitionDetector(client=client, usage=usage, min_confidence=0.6, max_labels=5, daily_budget=10)

    found = detector.detect(IMAGE)

    assert found.label.tolist() == ["person", "car"]
    assert usage.usage("rekognition").today == 1


def test_image_resize_percent_shrinks_what_is_sent_not_the_boxes(
    rekognition: tuple[Any, Stubber], usage: UsageBoard
) -> None:
    import io

    from PIL import Image

    client, stubber = rekognition
    sent: list[bytes] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["Image"]["Bytes"])

    client.meta.events.register("provide-client-params.rekognition.DetectLabels", remember)
    stubber.add_response("detect_labels", ANSWER, {"Image": {"Bytes": ANY}, "MaxLabels": 20, "MinConfidence": 55.0})
    detector = RekognitionDetector(client=client, usage=usage, image_resize_percent=25)

    found = detector.detect(IMAGE)

    assert Image.open(io.BytesIO(sent[0])).size == (100, 50)
    np.testing.assert_allclose(found.xyxy[0], [40, 40, 120, 180], atol=1e-3)


def test_the_daily_budget_stops_requests(rekognition: tuple[Any, Stubber], usage: UsageBoard) -> None:
    client, stubber = rekognition
    for _ in range(2):
        stubber.add_response("detect_labels", ANSWER)
    detector = RekognitionDetector(client=client, usage=usage, daily_budget=2)

    detector.detect_batch([IMAGE, IMAGE])
    with pytest.raises(DetectorError, match="today's budget of 2 requests"):
        detector.detect(IMAGE)

    assert usage.usage("rekognition").today == 2


def test_aws_errors_are_one_line_detector_errors(rekognition: tuple[Any, Stubber], usage: UsageBoard) -> None:
    client, stubber = rekognition
    stubber.add_client_error("detect_labels", "AccessDeniedException", "User is not authorized", 400)
    detector = RekognitionDetector(client=client, usage=usage)

    with pytest.raises(DetectorError, match="AccessDeniedException: User is not authorized") as caught:
        detector.detect(IMAGE)

    assert SECRET not in str(caught.value)


def test_the_budget_is_counted_in_the_store_of_the_data_dir(rekognition: tuple[Any, Stubber], data_dir: Path) -> None:
    client, stubber = rekognition
    stubber.add_response("detect_labels", ANSWER)
    detector = RekognitionDetector(client=client, data_dir=data_dir)

    detector.detect(IMAGE)

    with Store(data_dir) as store:
        assert UsageBoard(store.engine).usage("rekognition").today == 1


@pytest.fixture
def store_closes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The SQLite files of the database engines disposed of during the test."""
    closed: list[Path] = []
    dispose = Engine.dispose

    def counted(self: Engine, close: bool = True) -> None:
        if self.url.database:
            closed.append(Path(self.url.database).parent)
        dispose(self, close)

    monkeypatch.setattr(Engine, "dispose", counted)
    return closed


def test_the_store_it_opens_is_closed_with_the_detector(
    rekognition: tuple[Any, Stubber], data_dir: Path, store_closes: list[Path]
) -> None:
    client, stubber = rekognition
    for _ in range(3):
        stubber.add_response("detect_labels", ANSWER)

    with RekognitionDetector(client=client, data_dir=data_dir) as detector:
        detector.detect_batch([IMAGE, IMAGE])  # one store for both requests
        assert store_closes == []
    assert store_closes == [data_dir.resolve()]
    detector.detect(IMAGE)  # opened again after close
    detector.close()
    detector.close()  # twice is harmless

    assert store_closes == [data_dir.resolve()] * 2
    with Store(data_dir) as store:
        assert UsageBoard(store.engine).usage("rekognition").today == 3


def test_a_dropped_detector_closes_its_store(
    rekognition: tuple[Any, Stubber], data_dir: Path, store_closes: list[Path]
) -> None:
    import gc

    client, stubber = rekognition
    stubber.add_response("detect_labels", ANSWER)
    detector = RekognitionDetector(client=client, data_dir=data_dir)
    detector.detect(IMAGE)

    del detector
    gc.collect()

    assert store_closes == [data_dir.resolve()]


def test_a_given_usage_board_is_left_open(
    rekognition: tuple[Any, Stubber], usage: UsageBoard, store_closes: list[Path]
) -> None:
    client, stubber = rekognition
    stubber.add_response("detect_labels", ANSWER)

    with RekognitionDetector(client=client, usage=usage) as detector:
        detector.detect(IMAGE)

    assert store_closes == []
    assert usage.usage("rekognition").today == 1


# --- check_aws ----------------------------------------------------------------------------------------------------


class StubbedSession:
    """A boto3 session whose clients are stubbed."""

    def __init__(self, clients: dict[str, Any], credentials: bool = True) -> None:
        self.clients = clients
        self.real = boto3.Session(
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=SECRET, region_name="eu-west-1"
        )
        self.credentials = credentials

    def get_credentials(self) -> Any:
        return self.real.get_credentials() if self.credentials else None

    def client(self, name: str) -> Any:
        return self.clients[name]


@pytest.fixture
def sts() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=SECRET)
    with Stubber(client) as stubber:
        yield client, stubber


IDENTITY = {"UserId": "AIDAEXAMPLE", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/camsift"}


def test_check_aws_all_good(sts: tuple[Any, Stubber], rekognition: tuple[Any, Stubber]) -> None:
    sts[1].add_response("get_caller_identity", IDENTITY)
    rekognition[1].add_response("detect_labels", {"Labels": []}, {"Image": {"Bytes": ANY}, "MaxLabels": 1})

    checks = check_aws(session=StubbedSession({"sts": sts[0], "rekognition": rekognition[0]}))

    assert [(c.name, c.ok) for c in checks] == [
        ("credentials", True),
        ("sts:GetCallerIdentity", True),
        ("rekognition:DetectLabels", True),
    ]
    assert checks[1].detail == "account 123456789012, arn:aws:iam::123456789012:user/camsift"
    assert checks[2].detail == "allowed in eu-west-1"
    assert not any(SECRET in c.detail or "AKIDEXAMPLE" in c.detail for c in checks)


def test_check_aws_reports_a_missing_permission(sts: tuple[Any, Stubber], rekognition: tuple[Any, Stubber]) -> None:
    sts[1].add_response("get_caller_identity", IDENTITY)
    rekognition[1].add_client_error("detect_labels", "AccessDeniedException", "not authorized to DetectLabels")

    checks = check_aws(session=StubbedSession({"sts": sts[0], "rekognition": rekognition[0]}))

    assert [(c.name, c.ok) for c in checks][-1] == ("rekognition:DetectLabels", False)
    assert checks[-1].detail == "AccessDeniedException: not authorized to DetectLabels"


def test_check_aws_bad_credentials_stop_at_sts(sts: tuple[Any, Stubber]) -> None:
    sts[1].add_client_error("get_caller_identity", "InvalidClientTokenId", "The security token is invalid")

    checks = check_aws(session=StubbedSession({"sts": sts[0]}))

    assert [(c.name, c.ok) for c in checks] == [("credentials", True), ("sts:GetCallerIdentity", False)]


def test_check_aws_without_credentials() -> None:
    (check,) = check_aws(session=StubbedSession({}, credentials=False))

    assert (check.name, check.ok) == ("credentials", False)


def test_camsift_check_aws_command(
    camsift_main: Any, monkeypatch: pytest.MonkeyPatch, sts: tuple[Any, Stubber], rekognition: tuple[Any, Stubber]
) -> None:
    sts[1].add_response("get_caller_identity", IDENTITY)
    rekognition[1].add_client_error("detect_labels", "AccessDeniedException", "not authorized")
    session = StubbedSession({"sts": sts[0], "rekognition": rekognition[0]})
    monkeypatch.setattr("camsift.detectors.rekognition._session", lambda region, profile: session)

    result = camsift_main("check", "aws", "--region", "eu-west-1")

    assert result.code == 1
    assert "ok credentials: found (explicit)" in result.stdout
    assert "FAILED rekognition:DetectLabels: AccessDeniedException: not authorized" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_camsift_status_shows_requests_and_cost(camsift_main: Any, data_dir: Path) -> None:
    with Store(data_dir) as store:
        board = UsageBoard(store.engine)
        today = datetime.now(UTC).date()
        for _ in range(250):
            board.spend("rekognition", 0, today)

    result = camsift_main("status", "--data-dir", data_dir)

    assert "rekognition: 250 requests today, 250 this month (budget 1000 a day); estimated cost $0.25 today" in (
        " ".join(result.stdout.split())
    )
