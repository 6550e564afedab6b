"""Frigate's shapes of camsift's facts: what Frigate's own clients read, over HTTP and MQTT.

One package for the Frigate 0.14-0.16 names and layouts that both the REST API
(`camsift.web.api`) and MQTT (`camsift.mqtt`) speak, so the two never drift:
events, tracked objects and review items in `camsift.frigate.objects`; the
config, camera states and stats in `camsift.frigate.cameras`. camsift's own
keys (`camsift.events.Event.to_dict`) stay in every payload; Frigate's are added.
"""

from __future__ import annotations

from camsift.frigate.cameras import (
    STREAMING,
    camera_config,
    camera_feeds,
    camera_names,
    camera_states,
    frigate_config,
    frigate_stats,
    live_cameras,
    storage,
)
from camsift.frigate.objects import (
    FRIGATE_VERSION,
    REVIEW_WINDOW_S,
    alert_labels,
    api_event,
    frame_size,
    item_of,
    relative_box,
    review_payload,
    sub_label_pair,
    tracked_object,
    version,
)

__all__ = [
    "FRIGATE_VERSION",
    "REVIEW_WINDOW_S",
    "STREAMING",
    "alert_labels",
    "api_event",
    "camera_config",
    "camera_feeds",
    "camera_names",
    "camera_states",
    "frame_size",
    "frigate_config",
    "frigate_stats",
    "item_of",
    "live_cameras",
    "relative_box",
    "review_payload",
    "storage",
    "sub_label_pair",
    "tracked_object",
    "version",
]
