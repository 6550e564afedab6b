"""MQTT in Frigate's topic layout, with Home Assistant discovery (paho-mqtt).

Topics (``<prefix>`` is ``mqtt.topic_prefix``, default ``camsift``)::

    <prefix>/available                   "online", "stopped" at a clean stop, "offline" as the last will
                                         (a kill, a lost connection); retained, as Frigate 0.14+
    <prefix>/events                      JSON {"type": "new"|"update"|"end", "before": {...}, "after": {...}}
                                         (Frigate's tracked-object keys, `camsift.frigate.tracked_object`)
    <prefix>/<camera>/<label>            objects of that label in view now (a number), see below
    <prefix>/<camera>/<label>/active     the same, of the objects that moved
    <prefix>/<camera>/all[/active]       the same over every label
    <prefix>/<zone>/<label>, <zone>/all  the same in a zone
    <prefix>/<camera>/<label>/snapshot   JPEG bytes of the newest object's picture (retained, QoS 0): the frame a
                                         live object was confirmed in, then its event's annotated snapshot
    <prefix>/<camera>/<label>/event      JSON of the newest event of that label (retained; HA's attributes)
    <prefix>/reviews                     JSON {"type": "new"|"update"|"end", "before", "after"}: review items
                                         (`camsift.review`, Frigate's /api/review shape; `camsift.mqtt.reviews`)
    <prefix>/<camera>/<feature>/state    Frigate's feature states (detect, recordings, snapshots, motion …),
                                         retained, on connecting (no ``…/set``: camsift has no remote switches)
    <prefix>/stats                       JSON of Frigate's stats (as GET /api/stats), every mqtt.stats_interval_s
    <prefix>/<camera>/motion             "ON" / "OFF" (retained): the motion gate of a live stream, see below

Counts: the largest number of objects of that label whose sightings overlap
in time (not the number of events, `in_view_together`). An object confirmed
on a live stream (``start``) is in view from then until its ``end`` (its clip
analysed, or a false positive); an event stored from a file, whose footage is
complete, is held for ``mqtt.off_delay_s`` after it was stored, then 0. Both
go through one path (`MqttPublisher._show`), as do the snapshot and the review
item. Every count topic is published again on connecting (0 after a start: a
killed run's count is never left retained) and 0 at a clean stop.

The client id is ``mqtt.client_id``, by default ``camsift-<host>-<pid>``: two
camsift processes (or a test and a service) on one broker never take each
other's connection.

Home Assistant discovery (``mqtt.discovery``), retained, per camera: a count
sensor per label, a motion binary sensor, and an MQTT camera per label showing
the snapshot; all on one device per camera and unavailable when camsift is
offline.

Motion follows Frigate's ``<camera>/motion``. A camera with a live stream
(a ``stream`` source, a Blink live view) follows its motion gate: the
stream's process writes ON at the first frame in which the gate sees motion
and OFF after ``motion.mqtt_off_delay_s`` (30 s) of stream time without any
(`camsift.sources.live_frames.MotionReporter`) to the database
(`ServiceBoard.report_motion`); this publisher reads that every half second
and publishes changes. Motion is also OFF while the stream's own status row
is not ``running``/``recording`` or older than ``service.stale_s``, so a
stream that stops, drops or is killed never leaves it stuck ON
(`live_motion`). A camera without a live stream (files from folders, FTP,
Blink clips) only has its events: its motion is ON when an event is stored
and OFF ``mqtt.off_delay_s`` after the last one. Each known camera's motion
is published on every connection (OFF after a restart), and OFF for the
cameras still ON when camsift stops.

Events reach camsift's store only once their footage is complete (a file
analysed, a live stream's clip closed), so the Frigate event types map as
follows: a new stored event is published as ``new`` (``end_time`` null) and
at once as ``end`` (``end_time`` set); a stored event that changes later (a
file analysed again, a face named) is published as ``update``. On a live
stream an object is published as ``new`` as soon as the stream's pipeline
confirms it (`camsift.live_events`, ``end_time`` null, the frame it was
confirmed in as its snapshot), and
as ``end`` under the same id once its clip is analysed (``false_positive``
set when the clip did not show it: nothing is stored then). Counts, the
snapshot and the review item follow the live object: up, the confirming frame
and the review item's ``new`` (or ``update``) at ``start``; down and the
item's ``update`` or ``end`` (same review id) at ``end``. ``reviews`` messages
go through the outbox as ``events`` do, keyed so that a message told again
after a kill is queued once.

Example:
    >>> mqtt = MqttPublisher(settings)  # doctest: +SKIP
    >>> Service(settings, listeners=[mqtt], companions=[mqtt]).run(stop)  # doctest: +SKIP
"""

from camsift.mqtt.discovery import (
    AVAILABILITY_TEMPLATE,
    DISCOVERY_NODE,
    configuration_url,
    discovery_configs,
)
from camsift.mqtt.payloads import OUTBOX_CHANNEL, MarkedEvent, event_payload, outbox_message, queue_update, update_key
from camsift.mqtt.publisher import MqttPublisher
from camsift.mqtt.scan import publish_scan
from camsift.mqtt.topics import default_client_id, in_view_together, live_motion

__all__ = [
    "AVAILABILITY_TEMPLATE",
    "DISCOVERY_NODE",
    "OUTBOX_CHANNEL",
    "MarkedEvent",
    "MqttPublisher",
    "configuration_url",
    "default_client_id",
    "discovery_configs",
    "event_payload",
    "in_view_together",
    "live_motion",
    "outbox_message",
    "publish_scan",
    "queue_update",
    "update_key",
]
