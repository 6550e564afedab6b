# camsift in a container: the always-on service (`camsift run`), or any other command.
#
#   docker build -t camsift .
#   docker run -d --name camsift -v ./config:/config -v /srv/camsift:/media \
#       -p 2121:2121 -p 60000-60010:60000-60010 camsift
#   docker exec camsift camsift status
#   docker run --rm -v /srv/footage:/footage:ro -v /srv/camsift:/media camsift scan /footage
#
# /config holds camsift.yaml (mode 640; secrets in environment variables, e.g. CAMSIFT_MQTT__PASSWORD);
# /media is the data directory (pictures, clips, the SQLite database unless `database:` names PostgreSQL).
# The ports are camsift.example.yaml's: FTP 2121 and its passive ports 60000-60010, the web app 5000.
# deploy/docker-compose.yml runs it with Mosquitto (MQTT) beside it.
#
# Pinned: the base image by its exact Python and Debian release (add @sha256:<digest> from
# `docker buildx imagetools inspect python:3.11.13-slim-bookworm` to freeze it to the byte), the Debian packages
# by version (a Debian security update that replaces one makes the build stop at apt-get: take the new version
# from `apt-cache policy`), the Python packages by pyproject.toml.
# `hadolint Dockerfile` is clean (tests/deploy/test_docker.py).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- build: a venv with camsift and its optional extras ---------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/camsift
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Everything a user of the image needs: web app, notifications, MQTT, Blink, Blink USB drives, faces, PostgreSQL,
# the cluster, AWS Rekognition, remote detectors and the detection API (only `dev` stays out).
RUN /opt/camsift/bin/pip install ".[web,notify,mqtt,blink,drive,faces,postgres,cluster,aws,remote,ai-api]"

# --- run: the venv, the system libraries the wheels need, a user without privileges -----------------------------
FROM ${PYTHON_IMAGE}
# tini: PID 1 that forwards SIGTERM and reaps the workers' children. libgl1, libglib2.0-0: OpenCV's wheel.
# No ffmpeg: PyAV's wheel carries the FFmpeg libraries camsift decodes and writes with; only the tests' stream
# server runs the ffmpeg program.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 libgl1=1.6.0-1 libglib2.0-0=2.74.6-2+deb12u9 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 1000 camsift \
    && useradd --system --uid 1000 --gid camsift --home-dir /media --shell /usr/sbin/nologin camsift \
    && install -d -o camsift -g camsift -m 750 /config /media
COPY --from=build /opt/camsift /opt/camsift
COPY deploy/docker/healthcheck.py /usr/local/bin/camsift-healthcheck
ENV PATH=/opt/camsift/bin:$PATH \
    CAMSIFT_CONFIG=/config/camsift.yaml \
    CAMSIFT_DATA_DIR=/media \
    PYTHONUNBUFFERED=1
USER 1000:1000
WORKDIR /media
VOLUME ["/config", "/media"]
# FTP uploads and its passive ports (as set in camsift.yaml); the web app / detection API (web.enabled or
# camsift serve; set web.host to 0.0.0.0 in a container, as deploy/docker-compose.yml does, or it listens inside
# the container only).
EXPOSE 2121 60000-60010 5000
# Light (standard library only, ~50 ms) and right for every command: `run` by its heartbeat in the store, `serve`
# and `ai-api` by their health endpoint, anything else while it runs (deploy/docker/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 CMD ["python", "/usr/local/bin/camsift-healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "camsift"]
CMD ["run", "--log-format", "json"]
