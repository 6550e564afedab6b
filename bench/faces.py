"""Face recognition benchmark: identification accuracy, false-known rate, speed.

Gallery: one photo per enrolled person from ``../shared/data/faces`` (Obama,
Biden, Alex Lacamoire, Lin-Manuel Miranda); every other face there is a probe
(group photos by face position; Kit Harington, Rose Leslie and the child in
``obama_and_biden.jpg`` are not enrolled). Strangers: every face found in
``images/`` and ``coco128/`` (none of them enrolled; the detector's false faces
included, as on a camera). Faces pass the same size and sharpness gates as on
events. A second gallery enrols two photos where there are two, to compare
nearest-example matching with per-person mean embeddings.

Reported per threshold: identification accuracy (known probes given their own
name), false-known rate (unenrolled probes and strangers given any name), the
nearest stranger; the genuine distances of Lin-Manuel Miranda's faces in the
Hamilton clip; time per face (detect + encode) and per person event of a scan;
and what ``faces.enabled: auto`` with an empty library costs a scan.

Usage: python bench/faces.py [--data ../shared/data] [--skip-scan]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from camsift import Store, load_config, scan
from camsift.config import FacesConfig
from camsift.faces import Face, FaceEngine, create_engine
from camsift.faces.enrol import ENROL_SEARCH_PX, enrol
from camsift.faces.library import Library
from camsift.media import frames, read_frame
from camsift.store.faces import FaceStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6)
GALLERY = {
    "obama": ["obama.jpg"],
    "biden": ["biden.jpg"],
    "alex": ["alex_lacamoire_img1.jpg"],
    "lin": ["lin-manuel-miranda.png"],
}
GALLERY_TWO = {
    **GALLERY,
    "obama": ["obama.jpg", "obama2.jpg"],
    "alex": ["alex_lacamoire_img1.jpg", "alex-lacamoire.png"],
}
# Who each face of a photo is, left to right (None: not enrolled). Single-person photos: the largest face.
GROUPS: dict[str, list[str | None]] = {
    "obama_and_biden.jpg": ["biden", "obama", None],
    "two_people.jpg": ["obama", "biden"],
}
SINGLE = {
    "obama.jpg": "obama",
    "obama2.jpg": "obama",
    "obama_small.jpg": "obama",
    "obama_partial_face.jpg": "obama",
    "biden.jpg": "biden",
    "alex_lacamoire_img1.jpg": "alex",
    "alex-lacamoire.png": "alex",
    "lin-manuel-miranda.png": "lin",
    "kit_harington_john1.jpeg": None,
    "rose_leslie_img1.jpg": None,
}


def faces_in(engine: FaceEngine, path: Path, config: FacesConfig) -> list[Face]:
    """Faces of a photo that pass the event gates, left to right, searched as on events (faces of
    ``min_face_px`` enlarged to the detector's minimum, within `ENROL_SEARCH_PX`)."""
    rgb = read_frame(path, None)
    most = engine.min_face_px / config.min_face_px
    scale = min(most, math.sqrt(ENROL_SEARCH_PX / (rgb.shape[0] * rgb.shape[1])))
    found = [
        f
        for f in engine.faces(rgb, scale=scale)
        if f.size_px >= config.min_face_px and f.sharpness >= config.min_sharpness
    ]
    return sorted(found, key=lambda f: f.box_xyxy[0])


def probes(engine: FaceEngine, faces_dir: Path, config: FacesConfig) -> list[tuple[str, str | None, Face]]:
    """(label, identity, face) of every shared face."""
    out: list[tuple[str, str | None, Face]] = []
    for name, people in GROUPS.items():
        found = faces_in(engine, faces_dir / name, config)
        out += [(f"{name}#{i}", who, f) for i, (who, f) in enumerate(zip(people, found, strict=False))]
    for name, who in SINGLE.items():
        found = faces_in(engine, faces_dir / name, config)
        if found:
            out.append((name, who, max(found, key=lambda f: f.size_px)))
    return out


def strangers(engine: FaceEngine, data: Path, config: FacesConfig) -> list[tuple[str, Face]]:
    photos = sorted((data / "images").glob("*")) + sorted((data / "coco128").rglob("*.jpg"))
    return [(p.name, f) for p in photos for f in faces_in(engine, p, config)]


def gallery(
    engine: FaceEngine, faces_dir: Path, config: FacesConfig, people: dict[str, list[str]]
) -> tuple[Library, set[str]]:
    rows, used = [], set()
    for who, photos in people.items():
        for photo in photos:
            face = max(faces_in(engine, faces_dir / photo, config), key=lambda f: f.size_px)
            rows.append((who, face.embedding, False))
            used.add(photo)
    return Library.of(rows), used


def centroids(library: Library) -> Library:
    names = sorted(library.people)
    means = [library.embeddings[[n == name for n in library.names]].mean(axis=0) for name in names]
    return Library.of((name, mean, False) for name, mean in zip(names, means, strict=True))


def score(library: Library, known: list[tuple[str, str, Face]], unknown: list[tuple[str, Face]], t: float) -> str:
    right = sum(library.match(f.embedding, t).name == who for _, who, f in known)
    wrong_known = sum(library.match(f.embedding, t).name not in (None, who) for _, who, f in known)
    false = [label for label, f in unknown if library.match(f.embedding, t).name is not None]
    return (
        f"{t:9.2f} | {right:3d}/{len(known)} = {right / len(known):5.1%} | {wrong_known:4d} "
        f"| {len(false):3d}/{len(unknown)} = {len(false) / len(unknown):5.1%} {' '.join(false)}"
    )


def timing(engine: FaceEngine, faces_dir: Path) -> None:
    rgb = read_frame(faces_dir / "obama.jpg", None)
    region = rgb[:480, 150:790]  # 640x480 around the face
    engine.faces(region)
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        found = engine.faces(region)
    per_face = (time.perf_counter() - start) / runs
    print(f"time per face (HOG on a 640x480-pixel search + landmarks + embedding): {per_face * 1000:.0f} ms")
    assert found


def scan_costs(data: Path) -> None:
    clips = data / "clips"
    some = [clips / n for n in ("sorenvind_office-1m-480.mp4", "intel_one-by-one-person-detection.mp4")]
    walls: dict[bool | str, float] = {False: math.inf, "auto": math.inf}
    for mode in (False, "auto", False, "auto"):  # interleaved, best of two: the first run warms the caches
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_config(environ={}, overrides={"data_dir": tmp, "faces.enabled": mode})
            walls[mode] = min(walls[mode], scan([p for p in some if p.exists()], settings, jobs=1).wall_s)
    print(
        f"scan of {len(some)} clips, no library (best of 2): faces off {walls[False]:.1f} s, "
        f"faces auto {walls['auto']:.1f} s ({(walls['auto'] / walls[False] - 1):+.1%})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_config(environ={}, overrides={"data_dir": tmp, "faces.enabled": True})
        report = scan([data / "faces"], settings, jobs=1)
        events = [e for f in report.files for e in f.events if e.label == "person"]
        seen = sum(bool(e.faces) for e in events)
        faces_s = report.stats.seconds["faces"]
        print(
            f"faces folder: {len(events)} person events ({seen} with a face), face step {faces_s:.1f} s "
            f"= {faces_s / max(1, len(events)) * 1000:.0f} ms per person event, frames re-read included "
            f"(the detector took {report.stats.seconds['detect']:.1f} s)"
        )


def hamilton(engine: FaceEngine, data: Path, library: Library, config: FacesConfig) -> None:
    """Distances of Lin-Manuel Miranda's faces in the clip (he is on stage until 8 s) and the scan's events."""
    distances = []
    for frame in frames(data / "faces" / "short_hamilton_clip.mp4"):
        if frame.index % 6 or frame.ts_s > 8.0:
            continue
        for face in engine.faces(frame.rgb(), scale=2.0):
            if face.size_px >= config.min_face_px:
                match = library.match(face.embedding, 9.0)
                if match.name == "lin":
                    distances.append(match.distance or 0.0)
    d = np.array(distances)
    print(
        f"Hamilton clip, Lin-Manuel Miranda on stage, {len(d)} faces: distance min {d.min():.2f} "
        f"median {np.median(d):.2f} max {d.max():.2f}; below 0.5: {(d < 0.5).mean():.0%}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_config(environ={}, overrides={"data_dir": tmp})
        with Store(Path(tmp)) as store:
            enrol(FaceStore(store), engine, "lin", [data / "faces" / "lin-manuel-miranda.png"], settings.faces)
        report = scan([data / "faces" / "short_hamilton_clip.mp4"], settings, jobs=1)
        print("Hamilton clip events:", [(e.id[-3:], e.sub_label, e.sub_label_score) for e in report.files[0].events])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--skip-scan", action="store_true", help="skip the scans (speed per event, no-library cost)")
    args = parser.parse_args()
    config = FacesConfig()
    engine = create_engine("dlib")
    faces_dir = args.data / "faces"
    everyone = probes(engine, faces_dir, config)
    others = strangers(engine, args.data, config)
    print(f"{len(everyone)} shared faces, {len(others)} stranger faces from images/ and coco128/")
    for title, people in (("one photo a person", GALLERY), ("two photos where there are two", GALLERY_TWO)):
        library, used = gallery(engine, faces_dir, config, people)
        known = [(label, who, f) for label, who, f in everyone if who and label.split("#")[0] not in used]
        unknown = [(label, f) for label, who, f in everyone if who is None] + others
        for kind, lib in (("nearest example", library), ("per-person mean", centroids(library))):
            print(f"\ngallery: {title}; {kind}; {len(known)} known probes, {len(unknown)} unenrolled")
            print("threshold | identified             | confused | named but not enrolled")
            for t in THRESHOLDS:
                print(score(lib, known, unknown, t))
    library, _ = gallery(engine, faces_dir, config, GALLERY)
    nearest = sorted((library.match(f.embedding, 9.0).distance or 9.0, label) for label, f in others)[:3]
    print("\nnearest strangers to the gallery:", ", ".join(f"{label} {d:.2f}" for d, label in nearest))
    pairs = sorted(
        (float(np.linalg.norm(a.embedding - b.embedding)), f"{la}/{lb}")
        for i, (la, a) in enumerate(others)
        for lb, b in others[i + 1 :]
        if la != lb
    )[:3]
    print("nearest pairs of strangers (different photos):", ", ".join(f"{w} {d:.2f}" for d, w in pairs))
    timing(engine, faces_dir)
    hamilton(engine, args.data, library, config)
    if not args.skip_scan:
        scan_costs(args.data)


if __name__ == "__main__":
    main()
