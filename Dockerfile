# hookproof's container image: build with the Go toolchain, run from a
# minimal static base as a non-root user.
#
#   docker build -t hookproof --build-arg VERSION="$(git describe --tags --always)" .
#   docker run --rm hookproof certify --target https://receiver.example/webhooks/riskos ...
#
# The build context has no .git (see .dockerignore), so --version says
# VERSION when given and "dev" otherwise.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w ${VERSION:+-X github.com/hookproof/hookproof/harness.Version=$VERSION}" \
      -o /out/hookproof ./cmd/hookproof

# distroless/static: CA certificates, /etc/passwd with the nonroot user
# (65532), a writable /tmp (certify --demo keeps its state there), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookproof /usr/local/bin/hookproof
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/hookproof"]
CMD ["--help"]
