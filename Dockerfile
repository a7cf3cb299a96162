# Sluice container image: sluiced and the sluice command on Debian 12.
#
# Two stages. The build stage installs the Debian packages the README's run command
# installs (deploy/debian-packages.txt), builds Release and lays the server out with the
# same install rules as the .deb (`cmake --install`, component `server`, prefix /usr) in
# /staging; it also records which Debian packages provide the shared libraries the
# installed binaries link, so the runtime stage installs exactly those and nothing else.
# Both stages start from debian:bookworm-slim, the image that machines without a registry
# can make locally (see docs/DEPLOY.md).
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY deploy/debian-packages.txt deploy/install-deps.sh deploy/
RUN deploy/install-deps.sh deploy/debian-packages.txt && rm -rf /var/lib/apt/lists/*
COPY . .
RUN rm -rf build* \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF \
 && cmake --build build -j"$(nproc)" \
      --target sluiced sluice sluice_man_pages sluice_bash_completion \
 && DESTDIR=/staging cmake --install build --prefix /usr --component server --strip \
 && for binary in /staging/usr/bin/sluiced /staging/usr/bin/sluice; do \
      ldd "$binary" | awk '/=>/ {print $3}'; \
    done | sort -u | xargs -r -n1 readlink -f | xargs -r dpkg -S | cut -d: -f1 | sort -u \
      > /runtime-packages.txt

FROM debian:bookworm-slim
COPY --from=build /runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive xargs -a /tmp/runtime-packages.txt \
      apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && useradd --system --uid 10001 --home-dir /var/lib/sluice --create-home sluice
COPY --from=build /staging/ /
# The image's own config in place of the packaged one (which writes to /var/log/sluice).
COPY deploy/container/sluiced.yaml /etc/sluice/sluiced.yaml
USER sluice
WORKDIR /var/lib/sluice
# ingest, admin, metrics
EXPOSE 4317 4319 9464
# The admin port stays on the container's loopback; the check runs inside the container.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["sluice", "--admin", "127.0.0.1:4319", "--timeout", "3s", "stats"]
# sluiced is PID 1: it handles SIGTERM itself (drain, then exit 0).
STOPSIGNAL SIGTERM
ENTRYPOINT ["sluiced", "--config", "/etc/sluice/sluiced.yaml"]
