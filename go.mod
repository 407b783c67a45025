module github.com/osquery-syslog/osquery-syslog

go 1.26.0

require (
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/osquery/osquery-go v0.0.0-20260306231408-a88c0766cd0d
	golang.org/x/sys v0.49.0
)

require (
	github.com/apache/thrift v0.20.0 // indirect
	github.com/go-logr/logr v1.2.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/pkg/errors v0.8.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.opentelemetry.io/otel v1.16.0 // indirect
	go.opentelemetry.io/otel/metric v1.16.0 // indirect
	go.opentelemetry.io/otel/trace v1.16.0 // indirect
)
