# syntax=docker/dockerfile:1
# Multi-stage build: a static gigstream binary on a slim Debian base with ffmpeg, run as
# a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gigstream ./cmd/gigstream

# Debian slim rather than distroless: the video jobs run ffmpeg/ffprobe.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home gigstream
COPY --from=build /out/gigstream /usr/local/bin/gigstream
USER gigstream
ENV HTTP_ADDR=:8080
EXPOSE 8080
# The binary probes its own /healthz, so the image needs no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/gigstream", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gigstream"]
CMD ["serve"]
