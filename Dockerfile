# RingKV node image. The jar is built on the host first (mvn -B package); nothing is downloaded
# while building the image, so it also builds offline from a locally imported base image:
#   docker build -t ringkv .
#   docker build --build-arg BASE_IMAGE=ringkv-base:local -t ringkv .
# Run one node (configuration through the environment, see SPEC §1):
#   docker run --network host -e SOCKET_ADDRESS=127.0.0.2:8085 -e VIEW=... -e SHARD_COUNT=2 ringkv
# Data is in memory unless DATA_DIR is set, e.g. -e DATA_DIR=/data -v ringkv-1:/data.
ARG BASE_IMAGE=eclipse-temurin:17-jre
FROM ${BASE_IMAGE}

# A fixed non-root uid/gid, so volumes have a predictable owner. Debian and Ubuntu images have
# useradd (package passwd); the fallback edits the account files for images without it.
RUN set -eu; \
    if command -v useradd >/dev/null 2>&1; then \
      groupadd --system --gid 10001 ringkv; \
      useradd --system --uid 10001 --gid 10001 --home-dir /opt/ringkv --no-create-home \
        --shell /usr/sbin/nologin ringkv; \
    else \
      echo 'ringkv:x:10001:' >> /etc/group; \
      echo 'ringkv:x:10001:10001:RingKV:/opt/ringkv:/usr/sbin/nologin' >> /etc/passwd; \
    fi; \
    mkdir -p /opt/ringkv /data; \
    chown 10001:10001 /data

COPY node/target/kvs-node.jar /opt/ringkv/kvs-node.jar

# A class-data-sharing archive of the jar (JDK 17's dynamic AppCDS), made by one run of a node
# while the image is built (started, awaited until /health/ready answers 200, stopped with
# SIGTERM: the JVM writes the archive as it exits). A node then maps its classes instead of
# parsing and verifying them from the jar: its start-up CPU falls by about half (about 2.2 s to
# 1.0 s on a 2-core machine), which counts when several nodes start at once. Only an
# optimisation: if the archive cannot be made the image is built without it, and a JVM that
# cannot use it (other flags, another jar) ignores it.
SHELL ["/bin/bash", "-c"]
RUN a=127.0.0.1:18085; \
  SOCKET_ADDRESS=$a VIEW=$a SHARD_COUNT=1 java -XX:+UseSerialGC \
    -XX:ArchiveClassesAtExit=/opt/ringkv/kvs-node.jsa -jar /opt/ringkv/kvs-node.jar \
    > /tmp/cds.log 2>&1 & pid=$!; \
  for i in $(seq 1 600); do \
    if (exec 3<>/dev/tcp/127.0.0.1/18085 \
        && printf 'GET /health/ready HTTP/1.0\r\n\r\n' >&3 \
        && read -r -t 3 _ status _ <&3 && [ "$status" = 200 ]) 2>/dev/null; then break; fi; \
    kill -0 $pid 2>/dev/null || break; \
    sleep 0.1; \
  done; \
  kill -TERM $pid 2>/dev/null; wait $pid; \
  if [ -s /opt/ringkv/kvs-node.jsa ]; then chmod 0644 /opt/ringkv/kvs-node.jsa; \
  else rm -f /opt/ringkv/kvs-node.jsa; echo 'no class-data archive:'; tail -5 /tmp/cds.log; fi; \
  rm -f /tmp/cds.log

USER 10001:10001
# Listen on every interface of the container: a container attached to a second network
# (docker network connect) answers there too. With --network host, set BIND_ADDRESS to the
# node's own address (the compose *.host.yml files, ./kvs docker and the container tests do).
ENV BIND_ADDRESS=0.0.0.0
# 8085: shard dialect default port; 13800: view-change dialect default port.
EXPOSE 8085 13800
VOLUME /data
# Healthy once the node serves, has its shard's data and installs no view change: GET
# /health/ready answers 200 (503 otherwise). No extra package: bash (in every Debian/Ubuntu JRE
# image) opens the TCP connection itself, to the address the node listens on (SOCKET_ADDRESS, or
# ADDRESS in the view-change dialect; a host name is resolved by bash), and reads the status
# line. The compose files run the same command (HealthTest runs it against a real node).
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "a=${SOCKET_ADDRESS:-$ADDRESS}; exec 3<>/dev/tcp/${a%:*}/${a##*:} && printf 'GET /health/ready HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' \"$a\" >&3 && read -r -t 3 _ status _ <&3 && [ \"$status\" = 200 ]"]
# Exec form: java is PID 1 and receives SIGTERM from docker stop directly.
# The archive above, if the build made one (silently ignored when missing or unusable).
ENTRYPOINT ["java", "-XX:SharedArchiveFile=/opt/ringkv/kvs-node.jsa", "-Xlog:cds=off", \
  "-Xlog:cds+dynamic=off", "-jar", "/opt/ringkv/kvs-node.jar"]
