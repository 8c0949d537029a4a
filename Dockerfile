# The pipeline service: build with the workspace, run as a small non-root image.
#   docker build -t pipeline .
#   docker run -p 8077:8077 -v "$PWD:/repos/app:ro" -e PIPELINE_TOKEN=change-me pipeline
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p pipeline \
 && strip target/release/pipeline

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/pipeline --create-home pipeline \
 && mkdir -p /repos && chown pipeline /repos
COPY --from=build /src/target/release/pipeline /usr/local/bin/pipeline
USER pipeline
WORKDIR /repos
ENV XDG_CACHE_HOME=/var/lib/pipeline/cache
EXPOSE 8077
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8077/healthz || exit 1
# Off loopback the service requires a bearer token (PIPELINE_TOKEN).
ENTRYPOINT ["pipeline"]
CMD ["serve", "--listen", "0.0.0.0:8077", "--allow-root", "/repos"]
