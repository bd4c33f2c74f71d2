# A small container image (chapter 19): build in the Rust image, run the single binary on
# distroless (glibc only; SQLite and libpq are compiled into the binary).
#   docker build -t microblog .
#   docker run -p 8000:5000 -v microblog-data:/data microblog
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
    && strip target/release/microblog \
    && mkdir -p /data/instance

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/microblog /usr/local/bin/microblog
COPY --from=build --chown=nonroot:nonroot /data /data
WORKDIR /data
ENV HOST=0.0.0.0 \
    PORT=5000 \
    LOG_TO_STDOUT=1 \
    DATABASE_URL=sqlite:////data/app.db \
    INSTANCE_PATH=/data/instance
VOLUME /data
EXPOSE 5000
ENTRYPOINT ["/usr/local/bin/microblog"]
