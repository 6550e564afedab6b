"""`camsift.logs.redact`: no password or token of a URL reaches a log line."""

from __future__ import annotations

import pytest

from camsift.logs import redact


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://admin:secret@cam.lan:554/live", "rtsp://admin:***@cam.lan:554/live"),
        ("rtsp://admin:p%40ss@cam/x", "rtsp://admin:***@cam/x"),
        ("rtsp://:secret@cam/x", "rtsp://:***@cam/x"),
        ("rtsp://admin:secret@[fe80::1]:554/x", "rtsp://admin:***@[fe80::1]:554/x"),
        ("http://cam/video?token=abc123", "http://cam/video?token=***"),
        ("http://cam/video?channel=1&password=hunter2&subtype=0", "http://cam/video?channel=1&password=***&subtype=0"),
        ("http://cam/snap.cgi?user=admin&pwd=hunter2", "http://cam/snap.cgi?user=admin&pwd=***"),
        ("http://cam/v?key=k1&api_key=k2&apikey=k3", "http://cam/v?key=***&api_key=***&apikey=***"),
        ("https://h/x?auth=a1&sig=s1&access_token=t1", "https://h/x?auth=***&sig=***&access_token=***"),
        (
            "https://s3/x?X-Amz-Signature=ab12&X-Amz-Credential=AK%2F1",
            "https://s3/x?X-Amz-Signature=***&X-Amz-Credential=***",
        ),
        ("https://h/x?Token=T&SECRET=S", "https://h/x?Token=***&SECRET=***"),
        ("rtsp://u:pw@cam/live?token=t&ch=1#top", "rtsp://u:***@cam/live?token=***&ch=1#top"),
        ("http://cam/v?token=&q=a%20b&flag", "http://cam/v?token=&q=a%20b&flag"),  # nothing secret: kept as written
        ("http://cam/video?channel=1&subtype=0", "http://cam/video?channel=1&subtype=0"),
        ("rtsp://admin@cam/live", "rtsp://admin@cam/live"),
        ("tcp://127.0.0.1:9000", "tcp://127.0.0.1:9000"),
        ("/dev/video0", "/dev/video0"),
    ],
)
def test_redact_masks_passwords_and_secret_query_values(url: str, expected: str) -> None:
    assert redact(url) == expected
