"""ONNX Runtime sessions: execution providers from config, CPU as the last resort."""

from __future__ import annotations

import logging

import pytest

from camsift.detectors import create
from camsift.detectors.runtime import CPU, choose_providers


@pytest.mark.parametrize(
    ("wanted", "installed", "chosen", "missing"),
    [
        ([CPU], [CPU], [CPU], []),
        (["CUDAExecutionProvider", CPU], [CPU], [CPU], ["CUDAExecutionProvider"]),
        (["CUDAExecutionProvider"], ["CUDAExecutionProvider", CPU], ["CUDAExecutionProvider", CPU], []),
        (
            ["OpenVINOExecutionProvider", "CUDAExecutionProvider"],
            ["CUDAExecutionProvider", "OpenVINOExecutionProvider", CPU],
            ["OpenVINOExecutionProvider", "CUDAExecutionProvider", CPU],
            [],
        ),
        ([], [CPU], [CPU], []),
    ],
)
def test_choose_providers(
    caplog: pytest.LogCaptureFixture, wanted: list[str], installed: list[str], chosen: list[str], missing: list[str]
) -> None:
    with caplog.at_level(logging.WARNING, logger="camsift.detectors.runtime"):
        assert choose_providers(wanted, installed) == chosen

    assert [m for m in missing if m in caplog.text] == missing


@pytest.mark.parametrize("name", ["ssdlite", "nanodet"])
def test_shipped_models_fall_back_to_cpu_when_a_gpu_provider_is_missing(
    caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="camsift.detectors.runtime"):
        detector = create(name, threads=1, providers=("CUDAExecutionProvider", CPU))

    assert detector._session.get_providers() == [CPU]  # type: ignore[attr-defined]
    assert "CUDAExecutionProvider is not installed" in caplog.text
