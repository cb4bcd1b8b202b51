# syntax=docker/dockerfile:1
# Multi-stage build: a static gigstream binary on a distroless, non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gigstream ./cmd/gigstream

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gigstream /usr/local/bin/gigstream
USER nonroot:nonroot
ENV HTTP_ADDR=:8080
EXPOSE 8080
# The binary probes its own /healthz, as the base image has no shell or curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/gigstream", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gigstream"]
CMD ["serve"]
