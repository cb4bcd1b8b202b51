// Package otlptest is a local stand-in for an OpenTelemetry collector, for tests
// only. It speaks OTLP/HTTP with protobuf bodies as the OTLP specification defines
// it for traces (POST /v1/traces, Content-Type application/x-protobuf, a body that
// is an ExportTraceServiceRequest, optionally gzip-encoded; the answer an
// ExportTraceServiceResponse), and keeps every span it receives for the test to
// inspect. Bodies it cannot read are answered 400, as a collector would.
package otlptest
