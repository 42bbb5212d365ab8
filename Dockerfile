# syntax=docker/dockerfile:1
# Build: docker build -t lineitems-importer .
# Run:   docker run --rm -e HUBSPOT_ACCESS_TOKEN -v "$PWD:/data" -w /data lineitems-importer \
#          --mapping mapping.yaml --out run1 line_items.csv

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/importer ./cmd/importer

# The final image holds the static binary and CA certificates, nothing else.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/importer /importer
USER 65532:65532
ENTRYPOINT ["/importer"]
