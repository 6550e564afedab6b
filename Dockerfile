# camsift in a container: the always-on service (`camsift run`), or any other command.
#
#   docker build -t camsift .
#   docker run -d --name camsift -v ./config:/config -v /srv/camsift:/media -p 2121:2121 -p 30000-30009:30000-30009 camsift
#   docker exec camsift camsift status
#
# /config holds camsift.yaml (mode 640; secrets in environment variables, e.g. CAMSIFT_MQTT__PASSWORD);
# /media is the data directory (pictures, clips, the SQLite database unless `database:` names PostgreSQL).
# It mirrors .ci/run: Debian packages libgl1 libglib2.0-0 ffmpeg, then pip installs the package.
# deploy/docker-compose.yml runs it with Mosquitto (MQTT) beside it.

# --- build: a venv with camsift and its optional extras ---------------------------------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/camsift
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Everything a user of the image needs: web app, notifications, MQTT, Blink, Blink USB drives, faces, PostgreSQL,
# the cluster, AWS Rekognition, remote detectors and the detection API (only `dev` stays out).
RUN /opt/camsift/bin/pip install ".[web,notify,mqtt,blink,drive,faces,postgres,cluster,aws,remote,ai-api]"

# --- run: the venv, the system libraries the wheels need, a user without privileges -----------------------------
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 ffmpeg \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 1000 --user-group --home-dir /media --shell /usr/sbin/nologin camsift \
    && install -d -o camsift -g camsift -m 750 /config /media
COPY --from=build /opt/camsift /opt/camsift
ENV PATH=/opt/camsift/bin:$PATH \
    CAMSIFT_CONFIG=/config/camsift.yaml \
    CAMSIFT_DATA_DIR=/media \
    PYTHONUNBUFFERED=1
USER camsift
WORKDIR /media
VOLUME ["/config", "/media"]
# FTP uploads (and its passive ports, as set in camsift.yaml); the web app / detection API (web.enabled or camsift serve;
# set web.host to 0.0.0.0 in a container, as deploy/docker-compose.yml does, or it listens inside the container only).
EXPOSE 2121 5000
# Healthy while the service's heartbeat in the database is fresh (`camsift status` reads it).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD camsift status --format json | python -c "import json, sys; sys.exit(0 if json.load(sys.stdin)['running'] else 1)"
STOPSIGNAL SIGTERM
ENTRYPOINT ["camsift"]
CMD ["run", "--log-format", "json"]
