package handlers

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gigstream/hub/docs"
)

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)

// registeredRoutes lists "METHOD /path" for every route of the app, in OpenAPI's
// {param} notation; HEAD twins of GET routes are implied and left out.
func registeredRoutes(t *testing.T) map[string]bool {
	app := newTestApp(t, Config{})
	out := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		out[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	// Fiber answers HEAD for every GET by itself; only a HEAD of its own is described.
	for k := range out {
		if path, ok := strings.CutPrefix(k, "HEAD "); ok && out["GET "+path] {
			delete(out, k)
		}
	}
	return out
}

// specRoutes lists "METHOD /path" for every operation in docs/openapi.yaml.
func specRoutes(t *testing.T) map[string]bool {
	var spec struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPI, &spec); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1.x", spec.OpenAPI)
	}
	out := map[string]bool{}
	for path, ops := range spec.Paths {
		for method, op := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			if op["responses"] == nil {
				t.Errorf("spec: %s %s has no responses", method, path)
			}
			out[strings.ToUpper(method)+" "+path] = true
		}
	}
	return out
}

func TestOpenAPIDescribesExactlyTheRegisteredRoutes(t *testing.T) {
	routes, spec := registeredRoutes(t), specRoutes(t)
	if missing := difference(routes, spec); len(missing) > 0 {
		t.Errorf("routes missing from docs/openapi.yaml: %v", missing)
	}
	if extra := difference(spec, routes); len(extra) > 0 {
		t.Errorf("docs/openapi.yaml names routes that do not exist: %v", extra)
	}
}

func difference(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
