// Package docs embeds the hub's public API description so that the binary can serve it.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.1 description of every REST route.
//
//go:embed openapi.yaml
var OpenAPI []byte
