package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.1 description of every REST route.
//
//go:embed openapi.yaml
var OpenAPI []byte
