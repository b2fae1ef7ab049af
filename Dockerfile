# ftready in one image: Debian 12, ftready built, and the managed
# free-threaded interpreters (3.13t, and 3.13t-tsan with ThreadSanitizer)
# built from Debian's python3.13 source package through the image's own apt
# configuration.
#   docker build -t ftready .
#   docker run --rm -v "$PWD:/src" ftready check /src --budget 10m -o /src/ftready-report
# Build arguments: FTREADY_JOBS (parallel make jobs), CPYTHON_SOURCE (a
# CPython source folder inside the build context: the pair is then built
# from it instead of Debian's; for a 3.14 source, run with
# `--python 3.14t-tsan`, since the default is 3.13t-tsan).
FROM debian:12

ARG FTREADY_JOBS=
ARG CPYTHON_SOURCE=
ENV DEBIAN_FRONTEND=noninteractive \
    FTREADY_CACHE=/opt/ftready-cache

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/ftready
COPY . .

# Packages (runtime only), the interpreters, then ftready itself.
RUN bash scripts/install-deps.sh --runtime \
 && if [ -n "$CPYTHON_SOURCE" ]; then \
      FTREADY_JOBS="${FTREADY_JOBS:-$(nproc)}" bash scripts/toolchain.sh --cpython-source "$CPYTHON_SOURCE"; \
    else \
      FTREADY_JOBS="${FTREADY_JOBS:-$(nproc)}" bash scripts/toolchain.sh; \
    fi \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
 && ninja -C build ftready \
 && rm -rf /var/lib/apt/lists/* "$FTREADY_CACHE"/apt "$FTREADY_CACHE"/src/*.tar.* \
 && build/ftready toolchain

ENTRYPOINT ["/opt/ftready/build/ftready"]
CMD ["--help"]
