package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gigstream/hub/market"
)

func writeCatalogueFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadCategoryFileReadsJSONAndCSV(t *testing.T) {
	want := []market.NewCategory{{Slug: "design", Name: "Design"}, {Slug: "logos", Name: "Logos, icons", Parent: "design"}}
	files := map[string]string{
		"list.json":    `[{"slug":"design","name":"Design"},{"slug":"logos","name":"Logos, icons","parent":"design"}]`,
		"wrapped.json": `{"categories":[{"slug":"design","name":"Design"},{"slug":"logos","name":"Logos, icons","parent":"design"}]}`,
		"cats.csv":     "Name,slug,parent\nDesign,design,\n\"Logos, icons\", logos ,design\n",
	}
	for name, body := range files {
		got, err := readCategoryFile(writeCatalogueFile(t, name, body))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %+v, %v", name, got, err)
		}
	}
	bad := map[string]string{
		"typo.json":     `[{"slug":"design","nmae":"Design"}]`,
		"nothing.json":  `"design"`,
		"noheader.csv":  "design,Design\n",
		"extra.csv":     "slug,name,colour\ndesign,Design,red\n",
		"ragged.csv":    "slug,name\ndesign,Design,extra\n",
		"other.txt":     "design",
		"missing.json/": "",
	}
	for name, body := range bad {
		path := filepath.Join(t.TempDir(), "absent.json")
		if name != "missing.json/" {
			path = writeCatalogueFile(t, name, body)
		}
		if got, err := readCategoryFile(path); err == nil {
			t.Errorf("%s: read %+v, want an error", name, got)
		}
	}
}
