package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestParseGoMemorySumsNodes(t *testing.T) {
	page := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 2012
go_memstats_heap_inuse_bytes 1.2582912e+07
go_memstats_heap_inuse_bytes_total 99
go_memstats_stack_inuse_bytes 8.388608e+06
`
	var m goMemory
	for range 2 {
		resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(page))}
		if err := parseGoMemory(resp, &m); err != nil {
			t.Fatal(err)
		}
	}
	want := goMemory{HeapInuse: 2 * 12582912, StackInuse: 2 * 8388608, Goroutines: 4024}
	if m != want {
		t.Errorf("got %+v, want %+v", m, want)
	}
	resp := &http.Response{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized", Body: io.NopCloser(strings.NewReader(""))}
	if err := parseGoMemory(resp, &m); err == nil {
		t.Error("a 401 should be an error")
	}
}
