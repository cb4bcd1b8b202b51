# syntax=docker/dockerfile:1
# GigStream hub image: a static gigstream binary plus ffmpeg/ffprobe (the video jobs run
# them) and only the shared libraries those two link, on an empty base. No shell, no
# package manager; it runs as uid 10001.
#
# The base images are build arguments, so one file builds anywhere:
#   docker build -t gigstream .                      # golang and debian from a registry
#   scripts/image build                              # here: local bases made by debootstrap
# Both bases must be Debian 12 (bookworm) so the libraries gathered below match.
ARG GO_IMAGE=golang:1.26-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

# 1. The binary: static (CGO off), no symbol tables, no build paths.
FROM ${GO_IMAGE} AS build
# The build host's module proxy and CA bundle, if it needs its own (never in the image).
ARG GOPROXY SSL_CERT_FILE
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/gigstream ./cmd/gigstream

# 2. ffmpeg from Debian, then everything it needs at run time gathered into /rootfs:
#    the two programs, their shared-library closure (ldd), CA certificates, time zones,
#    a passwd/group naming the service user, and an empty /tmp for the video jobs.
FROM ${DEBIAN_IMAGE} AS runtime-files
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/image/gather-rootfs /usr/local/sbin/gather-rootfs
RUN /usr/local/sbin/gather-rootfs /rootfs /usr/bin/ffmpeg /usr/bin/ffprobe

# 3. The image: nothing but what steps 1 and 2 produced.
FROM scratch
COPY --from=runtime-files /rootfs/ /
COPY --from=build /out/gigstream /usr/local/bin/gigstream
ENV PATH=/usr/local/bin:/usr/bin \
    HTTP_ADDR=:8080 \
    VIDEO_TEMP_DIR=/tmp \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
# The binary probes its own /healthz, so the image needs no curl (Docker format only;
# Kubernetes uses the Deployment's probes).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/gigstream", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gigstream"]
CMD ["serve"]
