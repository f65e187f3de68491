module github.com/amc-dev/amc/clients/go

go 1.19

// The minimum versions the generated code needs (protoc-gen-go v1.28.1, protoc-gen-go-grpc 1.0 ->
// grpc.SupportPackageIsVersion7). Newer versions work. Run `go mod tidy` once to fetch them and write go.sum; the
// repository's own check builds in GOPATH mode against Debian's packages instead (see README.md).
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
