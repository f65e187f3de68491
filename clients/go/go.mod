module github.com/amc-dev/amc/clients/go

go 1.19

// The versions Debian 12 packages (golang-google-grpc-dev 1.33.3, golang-google-protobuf-dev 1.28.1, ...), which are
// also the minimum versions the generated code needs (protoc-gen-go v1.28.1, protoc-gen-go-grpc 1.0 ->
// grpc.SupportPackageIsVersion7); newer versions work. Without the Go module proxy: `./vendor-debian.sh` vendors
// Debian's sources and `go build -mod=vendor ./...` builds (see README.md). With the proxy: `go mod tidy` writes
// go.sum.
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)

require (
	github.com/golang/protobuf v1.5.2 // indirect
	golang.org/x/net v0.7.0 // indirect
	golang.org/x/sys v0.3.0 // indirect
	golang.org/x/text v0.7.0 // indirect
	google.golang.org/genproto v0.0.0-20200413115906-b5235f65be36 // indirect
)
