# syntax=docker/dockerfile:1
# sf-kafka-bridge: build on Debian bookworm, run on bookworm-slim with only the runtime libraries.
#   docker build -t sf-kafka-bridge .
#   docker run --rm -v sfkb-state:/var/lib/sf-kafka-bridge \
#     -v $PWD/config.yaml:/etc/sf-kafka-bridge/config.yaml:ro -p 8080:8080 sf-kafka-bridge
# or, without a file, with the whole YAML in the environment:
#   docker run --rm -e SF_KAFKA_BRIDGE_CONFIG="$(cat config.yaml)" ... sf-kafka-bridge \
#     sf-kafka-bridge run
# In the container set `http.listen: 0.0.0.0:8080` (the default 127.0.0.1 is not reachable from
# outside it; the HEALTHCHECK runs inside and works either way, on port 8080 or $PORT when set).

FROM debian:bookworm AS build
# The build packages of scripts/packages.txt (everything above its "# tests and tools" line);
# tests/unit/ops/dockerfile_packages_test.py keeps the two lists equal.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential \
      cmake \
      ninja-build \
      pkg-config \
      git \
      libcurl4-openssl-dev \
      libssl-dev \
      rapidjson-dev \
      librdkafka-dev \
      libspdlog-dev \
      libyaml-cpp-dev \
      libgtest-dev \
      libgmock-dev \
      libcpp-httplib-dev \
      libcli11-dev \
      libsystemd-dev \
      libgrpc++-dev \
      protobuf-compiler-grpc \
      libprotobuf-dev \
      protobuf-compiler \
      libavro-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Only the daemon: the tests need a Kafka broker and the emulator, which CI runs outside Docker.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && ninja -C /build sf-kafka-bridge \
 && install -D -m 0755 "$(find /build -type f -name sf-kafka-bridge -perm -u+x | head -n1)" \
      /out/usr/bin/sf-kafka-bridge \
 && strip --strip-debug /out/usr/bin/sf-kafka-bridge

FROM debian:bookworm-slim
# Runtime libraries of the packages above (ldd of the binary) and CA certificates for TLS to
# Salesforce and Kafka; nothing else (the HEALTHCHECK needs only bash, which the base image has).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libcurl4 \
      libssl3 \
      librdkafka1 \
      libspdlog1.10 \
      libfmt9 \
      libyaml-cpp0.7 \
      libsystemd0 \
      libgrpc++1.51 \
      libgrpc29 \
      libprotobuf32 \
      libabsl20220623 \
      libre2-9 \
      libc-ares2 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/sf-kafka-bridge --shell /usr/sbin/nologin \
      sf-kafka-bridge \
 && install -d -o sf-kafka-bridge -g sf-kafka-bridge -m 0700 /var/lib/sf-kafka-bridge \
 && install -d -m 0755 /etc/sf-kafka-bridge
COPY --from=build /out/ /
COPY config/ /usr/share/sf-kafka-bridge/config/

USER sf-kafka-bridge
# Checkpoints (checkpoint.directory's default). Without a volume they die with the container;
# the bridge then resumes from what Kafka holds (the Kafka-tail reconciliation), see README.
VOLUME /var/lib/sf-kafka-bridge
EXPOSE 8080
# The daemon drains, flushes and checkpoints on SIGTERM within shutdown.timeout (20 s): give
# `docker stop` more than that, e.g. `docker stop -t 30`.
STOPSIGNAL SIGTERM
# GET /healthz with bash's /dev/tcp (no curl in the image): healthy on a "200" status line.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8080} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && read -r -t 4 status <&3 && [[ $status == HTTP/1.?' 200 '* ]]"]
# No ENTRYPOINT, so a platform's own command line (Heroku's heroku.yml `run:`, `docker run IMAGE
# sf-kafka-bridge run` with SF_KAFKA_BRIDGE_CONFIG) replaces this default as a whole.
CMD ["sf-kafka-bridge", "run", "--config", "/etc/sf-kafka-bridge/config.yaml"]
