"""Secrets out of camera URLs and configuration dumps, with the URL formats of real cameras."""

from __future__ import annotations

from typing import Any

import pytest

from camsift.redaction import REDACTED, redact, redact_url

R = REDACTED


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        (  # Reolink RTSP
            "rtsp://admin:S3cr3t@192.168.1.20:554/h264Preview_01_main",
            f"rtsp://{R}@192.168.1.20:554/h264Preview_01_main",
        ),
        (  # Reolink RTMP and HTTP snapshot: credentials in the query
            "rtmp://192.168.1.20/bcs/channel0_main.bcs?channel=0&stream=0&user=admin&password=S3cr3t",
            f"rtmp://192.168.1.20/bcs/channel0_main.bcs?channel=0&stream=0&user={R}&password={R}",
        ),
        (
            "http://192.168.1.20/cgi-bin/api.cgi?cmd=Snap&channel=0&rs=wuuPhkmUCeI9WG7C&user=admin&password=S3cr3t",
            f"http://192.168.1.20/cgi-bin/api.cgi?cmd=Snap&channel=0&rs=wuuPhkmUCeI9WG7C&user={R}&password={R}",
        ),
        (  # Hikvision
            "rtsp://admin:S3cr3t@10.0.0.6:554/Streaming/Channels/101",
            f"rtsp://{R}@10.0.0.6:554/Streaming/Channels/101",
        ),
        (
            "http://admin:S3cr3t@10.0.0.6/ISAPI/Streaming/channels/101/picture",
            f"http://{R}@10.0.0.6/ISAPI/Streaming/channels/101/picture",
        ),
        (  # Dahua / Amcrest
            "rtsp://admin:S3cr3t@10.0.0.7:554/cam/realmonitor?channel=1&subtype=0&authbasic=YWRtaW46UzNjcjN0",
            f"rtsp://{R}@10.0.0.7:554/cam/realmonitor?channel=1&subtype=0&authbasic={R}",
        ),
        (
            "http://10.0.0.8/cgi-bin/snapshot.cgi?channel=1&loginuse=admin&loginpas=S3cr3t",
            f"http://10.0.0.8/cgi-bin/snapshot.cgi?channel=1&loginuse={R}&loginpas={R}",
        ),
        (  # tokens and API keys of HTTP sources
            "https://cam.example/live.m3u8?token=S3cr3t&apikey=S3cr3t&api_key=S3cr3t&quality=hd",
            f"https://cam.example/live.m3u8?token={R}&apikey={R}&api_key={R}&quality=hd",
        ),
    ],
)
def test_camera_urls_lose_their_credentials(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted
    assert "S3cr3t" not in redact_url(url)


def test_urls_inside_text_and_documents() -> None:
    doc: dict[str, Any] = {
        "sources": {"door": {"url": "rtsp://a:S3cr3t@h/x", "args": ["-i", "http://h/s?password=S3cr3t&x=1"]}},
        "mqtt": {"password": "S3cr3t", "username": "ann", "host": "h"},
        "detect": {"deepstack": {"api_key": "S3cr3t"}},
    }

    out = redact(doc)

    assert "S3cr3t" not in repr(out)
    assert out["mqtt"]["username"] == "ann"  # a config user name stays readable
    assert out["sources"]["door"]["args"][1] == f"http://h/s?password={R}&x=1"
    assert doc["mqtt"]["password"] == "S3cr3t"  # the input is not changed
    assert redact_url("ffmpeg -i rtsp://u:S3cr3t@h/1 out.mp4") == f"ffmpeg -i rtsp://{R}@h/1 out.mp4"
