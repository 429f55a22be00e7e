# syntax=docker/dockerfile:1
# vlsim in a container: non-root, state in the /data volume, health checked by
# `vlsim healthcheck`, which reads the same VLSIM_* configuration as `vlsim serve` and the
# address the server wrote to /data/vlsim.url (so it follows --listen even given as a flag).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY fixtures fixtures
COPY wsdl wsdl
# Cargo.toml names the bench targets, and cargo refuses a manifest whose targets are missing.
COPY benches benches
RUN cargo build --release --locked --bin vlsim

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin vlsim \
    && mkdir -p /data && chown vlsim:vlsim /data
COPY --from=build /src/target/release/vlsim /usr/local/bin/vlsim
USER vlsim
ENV VLSIM_LISTEN=0.0.0.0:8080 \
    VLSIM_DATA_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 CMD ["vlsim", "healthcheck"]
ENTRYPOINT ["vlsim"]
CMD ["serve"]
